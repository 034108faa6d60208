"""Korean and English: every user-facing string goes through `t`.

    from dlviz.i18n import t
    st.slider(t("Kernel size"), ...)
    st.caption(t("{n} parameters", n=count))

The English text is the message id (as in gettext): code reads naturally, and a missing translation falls back
to English instead of showing a key. The language is per script run (a context variable, so two sessions on two
threads never see each other's), set by the app shell from the URL or the browser's language.
"""
from __future__ import annotations

import contextvars

LANGUAGES = ("en", "ko")
_language: contextvars.ContextVar[str] = contextvars.ContextVar("dlviz_language", default="en")


def set_language(language: str) -> None:
    _language.set(language if language in LANGUAGES else "en")


def language() -> str:
    return _language.get()


def t(text: str, **values) -> str:
    """`text` in the current language, with `{name}` fields filled from `values`."""
    translated = _catalog(language()).get(text, text) if language() != "en" else text
    return translated.format(**values) if values else translated


def _catalog(language: str) -> dict[str, str]:
    return {}       # filled from dlviz/i18n/<language>.po (issue 10)
