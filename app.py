"""dlviz: an interactive deep-learning explorer. Run with `streamlit run app.py`."""
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")   # silences oneDNN's start-up notice; results are unchanged
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import streamlit as st

from dlviz.catalog import PAGES
from dlviz.ui.shell import start_up

start_up()          # once per process: TensorFlow imported, then gc.freeze() (see dlviz/ui/shell.py)
st.set_page_config(page_title="dlviz: see what a network does", page_icon=":material/neurology:", layout="wide")

home = st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)
pages = [home] + [st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path) for p in PAGES]
st.navigation(pages).run()
