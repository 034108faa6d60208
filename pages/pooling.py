"""Pooling: max, average, global average and strided convolution on the same feature map, with the numbers."""
import numpy as np
import streamlit as st

from dlviz import downsampling, explain, figures, ops
from dlviz.i18n import N_, t
from dlviz.ui.input_picker import dataset_selector, input_with_view
from dlviz.ui.links import linked
from dlviz.ui.models import SHIPPED, adapted_input, model_setup, model_source_selector
from dlviz.ui.shell import enter_app
from dlviz.ui.widgets import radio, selectbox

enter_app()
INPUT = N_("the 28×28 input")


@st.fragment
def pooling_section(image, maps, conv_layers):
    """Settings, the four outputs side by side, and the numbers; reruns alone when its widgets change.
    image: (H, W) in [0, 1]; conv_layers: the names in `maps` offered for pooling."""
    s1, s2, s3 = st.columns([2, 2, 3])
    source = selectbox(s1, t("Feature map to pool"), [INPUT, *conv_layers], index=1,
                           format_func=lambda s: t(s) if s == INPUT else s, **linked("pool.source"),
                           help=t("Networks pool feature maps; the raw input is here for comparison."))
    if source == INPUT:
        x = image.astype("float64")
    else:
        fmap = maps[source]
        ch = s2.number_input(t("Map of `{layer}` (0–{last})", layer=source, last=fmap.shape[-1] - 1), 0,
                             fmap.shape[-1] - 1, explain.strongest_cell(fmap)[0], **linked(f"pool.ch.{source}"))
        x = fmap[..., ch].astype("float64")
    p1, p2, p3 = st.columns(3)
    size = p1.slider(t("Pool size"), 2, 4, 2, **linked("pool.size"))
    stride = p2.slider(t("Stride"), 1, 4, size, **linked("pool.stride"))
    padding = radio(p3, t("Padding"), ["valid", "same"], horizontal=True, **linked("pool.padding"))
    kernel_name = selectbox(s3, t("Strided convolution kernel"), ["box blur", "gaussian", "sobel x", "laplacian"],
                                format_func=t, **linked("pool.kernel"),
                                help=t("box blur = average pooling, computed as a convolution."))

    kernel = ops.kernel_preset(kernel_name, size) if size % 2 else np.full((size, size), 1.0 / size**2)
    if size % 2 == 0 and kernel_name != "box blur":
        st.caption(t("The presets are odd-sized; with an even pool size the convolution uses a {n}×{n} box kernel.",
                     n=size))
    try:
        out = downsampling.downsample_all(x, size, stride, padding, kernel)
    except ValueError as e:
        st.warning(t("These settings don't fit this map: {reason}", reason=e))
        return

    shape = lambda a: f"{a.shape[0]}×{a.shape[1]}"   # noqa: E731
    st.plotly_chart(figures.side_by_side([
        (t("input {shape}", shape=shape(x)), x), (t("max pool {shape}", shape=shape(out.max)), out.max),
        (t("average pool {shape}", shape=shape(out.average)), out.average),
        (t("stride-{s} conv {shape}", s=stride, shape=shape(out.conv)), out.conv),
        (t("global average 1×1"), np.array([[out.global_average]]))], height=300, shared_scale=True),
        key="pool.side")
    st.markdown(t("Output size for every window operation: {formula} per side. Global average pooling: always 1×1 "
                  "per map (= **{gap:.3f}** here).",
                  formula=ops.output_size_formula(x.shape[0], size, stride, padding), gap=out.global_average))
    cols = st.columns(4)
    for col, key in zip(cols, ("max", "average", "conv", "global")):
        col.markdown(t(downsampling.READINGS[key]))
    if source != INPUT:
        gap = ops.global_average_pool(maps[source])
        st.plotly_chart(figures.bars(gap, [f"#{i}" for i in range(len(gap))],
                                     t("Global average pooling of all {n} maps of {layer}: one number per map "
                                       "(map #{ch} = {value:.3f}), the vector a GAP classifier head would see",
                                       n=len(gap), layer=source, ch=ch, value=gap[ch])),
                        key="pool.gap")

    st.subheader(t("The numbers"))
    top, lft = downsampling.liveliest_crop(x, 6)
    small = x[top:top + 6, lft:lft + 6]
    st.caption(t("A 6×6 crop of the map (rows {r0}–{r1}, columns {c0}–{c1}), pooled with your settings. Click an "
                 "output cell to see which input cells it came from.",
                 r0=top, r1=top + small.shape[0] - 1, c0=lft, c1=lft + small.shape[1] - 1))
    try:
        small_max = ops.pool2d(small, size, stride, padding, "max")
        small_avg = ops.pool2d(small, size, stride, padding, "average")
    except ValueError as e:
        st.warning(t("The 6×6 crop is too small for these settings: {reason}", reason=e))
        return
    sources = ops.pool_sources(small, size, stride, padding, "max")
    cell = st.session_state.get("pool.cell", (0, 0))
    cell = (min(cell[0], small_max.shape[0] - 1), min(cell[1], small_max.shape[1] - 1))
    src = sources[cell[0] * small_max.shape[1] + cell[1]]
    event = st.plotly_chart(figures.number_grids(
        [dict(values=small, highlight=downsampling.window_mask(small.shape, src.window), strong=src.winner),
         dict(values=small_max, strong=cell, clickable=True), dict(values=small_avg, strong=cell, clickable=True)],
        [t("input (6×6)"), t("max"), t("average")], widths=(3, 2, 2)),
        key="pool.grids", on_select="rerun", selection_mode="points")
    clicked = explain.clicked_cell(event)            # (grid, row, col): the max and average grids share cells
    if clicked is not None and clicked[1:] != st.session_state.get("pool.click"):
        st.session_state["pool.click"] = st.session_state["pool.cell"] = clicked[1:]
        st.rerun(scope="fragment")
    top_, l_, b, r = src.window
    window = small[top_:b, l_:r]
    st.markdown(t("Output [{i}, {j}] of the crop looks at crop rows {r0}–{r1}, columns {c0}–{c1} (rows {R0}–{R1}, "
                  "columns {C0}–{C1} of the whole map): max = **{max:.3f}** (red cell), average = ({terms}) / {n} = "
                  "**{mean:.3f}**.", i=cell[0], j=cell[1], r0=top_, r1=b - 1, c0=l_, c1=r - 1, R0=top + top_,
                  R1=top + b - 1, C0=lft + l_, C1=lft + r - 1, max=window.max(),
                  terms=" + ".join(f"{v:.2f}" for v in window.ravel()), n=window.size, mean=window.mean()))



st.title(t("Pooling"))
st.caption(t("Pooling shrinks a feature map by summarising each small window with one number. "
             "Which number it keeps decides what the next layer can still see."))

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
    st.caption(t("The network sees the last image and predicts **{label}** ({p:.0%}). Below, one of its feature "
                 "maps is pooled four ways.", label=t(setup.classes[int(probs.argmax())]), p=probs.max()))
    if not setup.shipped:
        st.caption(t("Model: **{name}**.", name=setup.title))

conv_layers = [n for n, layer in zip(inspector.names, inspector.layers) if type(layer).__name__ == "Conv2D"]
pooling_section(gray, maps, conv_layers[:8])
