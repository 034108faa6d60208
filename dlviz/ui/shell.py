"""Page entry: make sure every page runs inside app.py's navigation."""
from __future__ import annotations

import streamlit as st


def enter_app() -> None:
    """Call first in every page.

    Streamlit decides once per server whether the app uses the legacy `pages/` folder mode, and it does so before
    app.py has had a chance to call `st.navigation`. When a fresh server's first visitor opens a page URL directly
    (a shared link), that legacy mode runs the page file on its own: no app layout, a raw file list as the menu.
    Switching the flag off and rerunning sends the visit through app.py, which then shows the requested page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
