"""Shareable links: a page's view state lives in the URL, so a copied address reopens the same view.

One mechanism for every page: Streamlit's own widget binding (`bind="query-params"`, Streamlit ≥ 1.5x). A linked
widget's key is its URL parameter (`?pool.size=3&conv.layer=conv2d_1`); the browser updates the address bar as the
widget changes, in full runs and fragment reruns alike; a fresh session starts the widget from the URL; a value
that is not valid for the widget (out of range, not an option) is ignored and dropped from the URL; a value equal
to the widget's default is left out, so links stay short. `persist_state="page"` keeps the value while the widget
is not drawn (a closed lazy tab), so reopening the tab, and the link, keep it too.

    st.slider(t("Pool size"), 2, 4, 2, **linked("pool.size"))

What is linked besides: the dataset and the sample (`dlviz.ui.input_picker`: `?dataset=`, `?sample=`), the
language and presenter mode (`dlviz.ui.shell`: `?lang=`, `?present=`). A drawing or an upload cannot live in a
URL: the sidebar says so, and the link opens the sample.

Options shown through `format_func=t` are matched in the URL by their label in the link's language (`?lang=` is
part of the link, so the link and its labels agree).
"""
from __future__ import annotations

LINK = "query-params"


def linked(key: str, persist: bool = True) -> dict:
    """Widget kwargs: `key`, its value kept in the URL, and (persist) kept while the widget is not drawn."""
    kwargs = dict(key=key, bind=LINK)
    if persist:
        kwargs["persist_state"] = "page"
    return kwargs
