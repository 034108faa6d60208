"""Cached model loading: each network is read from disk and wrapped once per server, not once per rerun."""
from __future__ import annotations

import streamlit as st

from dlviz import registry
from dlviz.explain import Inspector


@st.cache_resource(show_spinner="Loading the trained network…")
def cached_model(name: str):
    # Exceptions are not cached by Streamlit: a restored weight file works on the next rerun.
    return registry.load_model(name)


@st.cache_resource(show_spinner=False)
def cached_inspector(name: str) -> Inspector:
    # Shared by every session (thread): Inspector builds all it needs up front (see dlviz.explain). The garbage
    # collector is frozen once at start-up (dlviz.ui.shell.start_up), not here.
    return Inspector(cached_model(name))


def inspector_or_stop(name: str) -> Inspector:
    """The model's Inspector, or a clear message in this page (other pages keep working)."""
    try:
        return cached_inspector(name)
    except registry.ModelUnavailable as e:
        st.error(f"**This page needs the model `{name}`, which cannot be loaded.** {e}")
        st.stop()
