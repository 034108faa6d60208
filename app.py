"""dlviz: an interactive deep-learning explorer. Run with `streamlit run app.py`.

The file has two roles. `streamlit run app.py` finds the `st.App` assigned at the bottom and serves the app
through it (its lifespan starts importing TensorFlow while the browser is still loading); every session then runs
this file as its script, with `__name__ == "__main__"`, which is `main()`.
"""
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")   # silences oneDNN's start-up notice; results are unchanged
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import streamlit as st

from dlviz.catalog import PAGES
from dlviz.i18n import t
from dlviz.ui import shell, timing
from dlviz.ui.shell import start_up


def main() -> None:
    shell.load_chart_bundle()   # a session's first run: the browser loads Plotly while TensorFlow loads here
    start_up()          # once per process: TensorFlow imported, then gc.freeze() (see dlviz/ui/shell.py)
    timing.install()    # DLVIZ_TIMING_LOG=FILE: one JSON line per script and fragment run (dlviz/ui/timing.py)
    st.set_page_config(page_title="dlviz: see what a network does", page_icon=":material/neurology:", layout="wide")
    shell.settings()    # language (before any text is made) and presenter mode, in the sidebar and the URL

    home = st.Page("pages/home.py", title=t("Home"), icon=":material/home:", default=True)
    pages = [home] + [st.Page(p.file, title=t(p.title), icon=p.icon, url_path=p.url_path) for p in PAGES]
    page = st.navigation(pages)
    shell.start_view(page.title)
    shell.run_page(page)   # page.run(), marked as a run through app.py (see shell.enter_app)
    shell.share_and_export(page.title)


if __name__ == "__main__":
    main()
else:
    app = st.App(__file__, lifespan=shell.start_up_with_server)
