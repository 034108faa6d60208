"""GAN (being built)."""
import streamlit as st

from dlviz.ui.shell import enter_app

enter_app()

st.title("GAN")
st.info("This page is being built.")
