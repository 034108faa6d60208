"""Pooling: max, average, global average and strided convolution on the same feature map, with the numbers."""
import numpy as np
import streamlit as st

from dlviz import downsampling, explain, figures, ops
from dlviz.ui.input_picker import dataset_selector, input_with_view
from dlviz.i18n import t
from dlviz.ui.models import SHIPPED, adapted_input, model_setup, model_source_selector
from dlviz.ui.shell import enter_app

enter_app()


@st.fragment
def pooling_section(image, maps, conv_layers):
    """Settings, the four outputs side by side, and the numbers; reruns alone when its widgets change.
    image: (H, W) in [0, 1]; conv_layers: the names in `maps` offered for pooling."""
    s1, s2, s3 = st.columns([2, 2, 3])
    source = s1.selectbox("Feature map to pool", ["the 28×28 input", *conv_layers], index=1, key="pool.source",
                          help="Networks pool feature maps; the raw input is here for comparison.")
    if source == "the 28×28 input":
        x = image.astype("float64")
    else:
        fmap = maps[source]
        ch = s2.number_input(f"Map of `{source}` (0–{fmap.shape[-1] - 1})", 0, fmap.shape[-1] - 1,
                             explain.strongest_cell(fmap)[0], key=f"pool.ch.{source}")
        x = fmap[..., ch].astype("float64")
    p1, p2, p3 = st.columns(3)
    size = p1.slider("Pool size", 2, 4, 2, key="pool.size")
    stride = p2.slider("Stride", 1, 4, size, key="pool.stride")
    padding = p3.radio("Padding", ["valid", "same"], horizontal=True, key="pool.padding")
    kernel_name = s3.selectbox("Strided convolution kernel", ["box blur", "gaussian", "sobel x", "laplacian"],
                               key="pool.kernel", help="box blur = average pooling, computed as a convolution.")

    kernel = ops.kernel_preset(kernel_name, size) if size % 2 else np.full((size, size), 1.0 / size**2)
    if size % 2 == 0 and kernel_name != "box blur":
        st.caption(f"The presets are odd-sized; with an even pool size the convolution uses a {size}×{size} box kernel.")
    try:
        out = downsampling.downsample_all(x, size, stride, padding, kernel)
    except ValueError as e:
        st.warning(f"These settings don't fit this map: {e}")
        return

    shape = lambda a: f"{a.shape[0]}×{a.shape[1]}"   # noqa: E731
    st.plotly_chart(figures.side_by_side([
        (f"input {shape(x)}", x), (f"max pool {shape(out.max)}", out.max),
        (f"average pool {shape(out.average)}", out.average),
        (f"stride-{stride} conv {shape(out.conv)}", out.conv),
        ("global average 1×1", np.array([[out.global_average]]))], height=300, shared_scale=True), key="pool.side")
    st.markdown(f"Output size for every window operation: {ops.output_size_formula(x.shape[0], size, stride, padding)} "
                f"per side. Global average pooling: always 1×1 per map (= **{out.global_average:.3f}** here).")
    cols = st.columns(4)
    for col, key in zip(cols, ("max", "average", "conv", "global")):
        col.markdown(downsampling.READINGS[key])
    if source != "the 28×28 input":
        gap = ops.global_average_pool(maps[source])
        st.plotly_chart(figures.bars(gap, [f"#{i}" for i in range(len(gap))],
                                     f"Global average pooling of all {len(gap)} maps of {source}: one number per map "
                                     f"(map #{ch} = {gap[ch]:.3f}), the vector a GAP classifier head would see"),
                        key="pool.gap")

    st.subheader("The numbers")
    top, lft = downsampling.liveliest_crop(x, 6)
    small = x[top:top + 6, lft:lft + 6]
    st.caption(f"A 6×6 crop of the map (rows {top}–{top + small.shape[0] - 1}, columns {lft}–{lft + small.shape[1] - 1}),"
               " pooled with your settings. Click an output cell to see which input cells it came from.")
    try:
        small_max = ops.pool2d(small, size, stride, padding, "max")
        small_avg = ops.pool2d(small, size, stride, padding, "average")
    except ValueError as e:
        st.warning(f"The 6×6 crop is too small for these settings: {e}")
        return
    sources = ops.pool_sources(small, size, stride, padding, "max")
    cell = st.session_state.get("pool.cell", (0, 0))
    cell = (min(cell[0], small_max.shape[0] - 1), min(cell[1], small_max.shape[1] - 1))
    src = sources[cell[0] * small_max.shape[1] + cell[1]]
    g1, g2, g3 = st.columns([3, 2, 2])
    g1.plotly_chart(figures.number_grid(small, "input (6×6)", highlight=downsampling.window_mask(small.shape, src.window),
                                        strong=src.winner), key="pool.in")
    ev_max = g2.plotly_chart(figures.number_grid(small_max, "max", strong=cell, clickable=True, height=280),
                             key="pool.maxgrid", on_select="rerun", selection_mode="points")
    ev_avg = g3.plotly_chart(figures.number_grid(small_avg, "average", strong=cell, clickable=True, height=280),
                             key="pool.avggrid", on_select="rerun", selection_mode="points")
    for ev in (ev_max, ev_avg):
        clicked = explain.clicked_cell(ev)
        if clicked is not None and clicked[1:] != st.session_state.get("pool.click"):
            st.session_state["pool.click"] = st.session_state["pool.cell"] = clicked[1:]
            st.rerun(scope="fragment")
    t, l_, b, r = src.window
    window = small[t:b, l_:r]
    st.markdown(f"Output [{cell[0]}, {cell[1]}] of the crop looks at crop rows {t}–{b - 1}, columns {l_}–{r - 1} "
                f"(rows {top + t}–{top + b - 1}, columns {lft + l_}–{lft + r - 1} of the whole map): "
                f"max = **{window.max():.3f}** (red cell), average = ({' + '.join(f'{v:.2f}' for v in window.ravel())}) "
                f"/ {window.size} = **{window.mean():.3f}**.")



st.title("Pooling")
st.caption("Pooling shrinks a feature map by summarising each small window with one number. "
           "Which number it keeps decides what the next layer can still see.")

source = model_source_selector()
dataset = dataset_selector() if source == SHIPPED else dataset_selector(t("Samples from"))
setup = model_setup(source, dataset)
inspector = setup.inspector
if not setup.shipped:
    choice, adapted, right = adapted_input(setup, dataset)
    image, gray = adapted.x, (adapted.display if adapted.display.ndim == 2 else adapted.display.mean(-1))
    panels = [(t("input"), choice.rgb), (t("model input"), gray)]
else:
    choice, view, right = input_with_view(dataset)
    image, gray, panels = view.image, view.image, view.panels()
maps, out = inspector.run(image)
probs = out if setup.softmax else explain.softmax(out)
with right:
    st.plotly_chart(figures.stages_strip(panels), key="pool.stages")
    st.caption(f"The network sees the last image and predicts **{setup.classes[int(probs.argmax())]}**"
               f" ({probs.max():.0%}). Below, one of its feature maps is pooled four ways.")
    if not setup.shipped:
        st.caption(t("Model: **{name}**.", name=setup.title))

conv_layers = [n for n, layer in zip(inspector.names, inspector.layers) if type(layer).__name__ == "Conv2D"]
pooling_section(gray, maps, conv_layers[:8])
