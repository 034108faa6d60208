"""What every page and the app need once: process start-up, and making sure a page runs inside app.py.

Two pieces of Streamlit behaviour the app relies on and that no public API covers; both live only here, each
checked by a test in tests/test_pages.py that fails loudly when a Streamlit upgrade changes it:

* `enter_app` flips Streamlit's private `PagesManager.uses_pages_directory` (see its docstring). The documented
  way to avoid the legacy `pages/` mode is to name the folder something else; the product keeps `pages/`.
* `start_up` freezes the garbage collector once. After every rerun Streamlit runs `gc.collect(2)` (config option
  `runner.postScriptGC`, on by default) and, when Keras is imported, `keras.backend.clear_session()` (which
  collects again and empties TensorFlow's kernel cache; `dlviz.explain.Inspector` keeps its own compiled
  functions for that reason). With TensorFlow's millions of long-lived objects each pass costs ~100 ms; frozen
  into the permanent generation they are not scanned again.
"""
from __future__ import annotations

import gc
import threading

import streamlit as st

_started = False
_start_lock = threading.Lock()
ENTERED = "dlviz.shell.entered"


def start_up() -> None:
    """Once per process, from app.py: import TensorFlow and Keras, then `gc.freeze()` everything alive.

    Deliberately here and not in a cached loader: a freeze inside a loader would run whenever the cache is
    (re)filled, in whichever session's thread, and freeze that session's objects with it.
    """
    global _started
    with _start_lock:
        if _started:
            return
        import keras  # noqa: F401  (the imports are the point: their objects are what gets frozen)
        import tensorflow  # noqa: F401

        gc.collect()
        gc.freeze()
        _started = True


def _legacy_pages_mode() -> bool | None:
    """Streamlit's private flag "this server runs the legacy pages/ folder mode", or None if it is gone."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return None
    value = getattr(PagesManager, "uses_pages_directory", None)
    return value if isinstance(value, bool) else None


def enter_app() -> None:
    """Call first in every page.

    Streamlit decides once per server whether the app uses the legacy `pages/` folder mode, and it does so before
    app.py has had a chance to call `st.navigation`. When a fresh server's first visitor opens a page URL directly
    (a shared link), that legacy mode runs the page file on its own: no app layout, a raw file list as the menu.
    Switching the flag off and rerunning sends the visit through app.py, which then shows the requested page.
    The rerun happens at most once per session, so a Streamlit version where the flag means something else can
    never loop (tests/test_pages.py checks the flag still exists and still works this way).
    """
    if not _legacy_pages_mode() or st.session_state.get(ENTERED):
        return
    from streamlit.runtime.pages_manager import PagesManager

    st.session_state[ENTERED] = True
    PagesManager.uses_pages_directory = False
    st.rerun()
