import streamlit as st

from dlviz import figures, registry
from dlviz.catalog import PAGES
from dlviz.datasets import DATASETS
from dlviz.i18n import t
from dlviz.ui.input_picker import cached_samples
from dlviz.ui.shell import enter_app

enter_app()

st.title("dlviz")
st.markdown(t("Draw a digit, upload a photo or pick a sample, then **see what a neural network does with it**: "
              "every feature map, every weight, and the arithmetic behind any number you click."))

try:
    x, _ = cached_samples("mnist")          # hash-checked once per server, not on every visit
    sample = x[0].astype("float32") / 255.0
except registry.ModelUnavailable as e:
    st.warning(str(e))
    sample = None


@st.cache_resource(show_spinner=False)
def preview_figure(url_path: str):
    """The same small figure for every visitor, built once per server: five Plotly figures cost ~170 ms per run
    under load (bench/soak.py), and the home page is where a whole class arrives at once. Shared: never mutated."""
    page = next(p for p in PAGES if p.url_path == url_path)
    return figures.image(page.preview(sample), zmin=None, zmax=None, height=120)


for page in PAGES:
    left, right = st.columns([1, 6], vertical_alignment="center")
    if sample is not None:
        left.plotly_chart(preview_figure(page.url_path), config={"staticPlot": True}, key=f"preview.{page.url_path}")
    right.page_link(page.file, label=f"**{t(page.title)}**", icon=page.icon)
    right.write(t(page.teaches))

st.divider()
st.caption(t("Data:") + " " + " · ".join(d.credit for d in DATASETS.values()) +
           " · ISBI 2012 EM membranes: Cardona et al. 2010; Arganda-Carreras et al. 2015.")
