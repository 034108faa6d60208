"""Korean and English: every user-facing string goes through `t`.

    from dlviz.i18n import t
    st.slider(t("Kernel size"), ...)
    st.caption(t("{n} parameters", n=count))

The English text is the message id (as in gettext): code reads naturally, and a missing translation falls back
to English instead of showing a key. Translations live in gettext catalogs, `dlviz/i18n/<language>.po`, read by
the small parser in `dlviz/i18n/po.py` (no extra dependency); `python -m dlviz.i18n` adds every new `t("...")`
string of the code to the catalogs with an empty translation, and `tests/test_i18n.py` fails while one is empty.

The language is per script run: a context variable, so two sessions on two threads never see each other's. The
app shell sets it at the top of every full run (`set_language`). A fragment rerun does not run app.py, and may
run on another thread; for that case the shell installs a `resolver` (`set_resolver`) that reads the session's
choice, consulted whenever this thread has no language set.
"""
from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from pathlib import Path

LANGUAGES = ("en", "ko")
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
DEFAULT = "en"
CATALOG_DIR = Path(__file__).resolve().parent

_language: contextvars.ContextVar[str | None] = contextvars.ContextVar("dlviz_language", default=None)
_resolver: Callable[[], str | None] | None = None


def normalize(language: str | None) -> str | None:
    """'ko', 'ko-KR', 'ko_KR' -> 'ko'; anything we do not have -> None."""
    if not language:
        return None
    code = str(language).replace("_", "-").split("-")[0].strip().lower()
    return code if code in LANGUAGES else None


def set_language(language: str | None) -> None:
    """The language of this script run (this thread/context): a known code, else English."""
    _language.set(normalize(language) or DEFAULT)


def set_resolver(resolver: Callable[[], str | None] | None) -> None:
    """Where `language()` looks when this context has none set (a fragment rerun): e.g. the session's choice."""
    global _resolver
    _resolver = resolver


def language() -> str:
    lang = _language.get()
    if lang is None and _resolver is not None:
        try:
            lang = normalize(_resolver())
        except Exception:       # no session here (a CLI, a test): English
            lang = None
    return lang or DEFAULT


def t(text: str, **values) -> str:
    """`text` in the current language, with `{name}` fields filled from `values`."""
    lang = language()
    translated = (catalog(lang).get(text) or text) if lang != DEFAULT else text
    return translated.format(**values) if values else translated


def N_(text: str) -> str:
    """Marks a constant for the catalogs without translating it yet (module level, before any language is set):
    `TITLE = N_("Pooling")`, later `t(TITLE)`."""
    return text


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """msgid -> msgstr of `<language>.po` (empty translations left out: they fall back to English)."""
    from dlviz.i18n.po import read_po

    path = CATALOG_DIR / f"{language}.po"
    if not path.exists():
        return {}
    return {k: v for k, v in read_po(path.read_text(encoding="utf-8")).items() if k and v}
