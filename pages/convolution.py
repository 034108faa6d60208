"""Convolution & feature maps: a trained CNN on the user's input, layer by layer, down to one multiply-add."""
import hashlib

import numpy as np
import streamlit as st

from dlviz import explain, figures, ops, playground
from dlviz.i18n import N_, t
from dlviz.inputs import limit_size, to_gray
from dlviz.inputs.adapt import scale, view_28
from dlviz.ui.input_picker import dataset_selector, input_with_view
from dlviz.ui.links import LINK, linked
from dlviz.ui.live import live_cnn_view, live_tab_label
from dlviz.ui.models import SHIPPED, adapted_input, model_setup, model_source_selector, shown
from dlviz.ui.saliency import saliency_section
from dlviz.ui.shell import enter_app
from dlviz.ui.widgets import radio, segmented_control, selectbox

enter_app()


@st.fragment
def feature_maps_section(inspector, image, maps, display):
    """Feature maps, one value step by step, learned kernels. image: the model's input; display: it in [0, 1]."""
    if len(inspector.names) <= 12:
        layer = segmented_control(st, t("Layer"), inspector.names, default=inspector.names[0],
                                      **linked("conv.layer"), required=True)
    else:
        layer = selectbox(st, t("Layer"), inspector.names, **linked("conv.layer"))
    c2, c3 = st.columns(2)
    shared = c2.toggle(t("One colour scale for all maps"), **linked("conv.shared"),
                       help=t("On: compare how strongly maps respond. Off: see each map's pattern."))
    show_kernels = c3.toggle(t("Show the learned kernels"), value=True, **linked("conv.kernels"))
    fmap = maps[layer]
    h, w, c = fmap.shape
    st.caption(t("`{layer}` output: {h}×{w}×{c}. Click any pixel of a map to see how it was computed.", layer=layer,
                 h=h, w=w, c=c))
    shown_maps = min(c, max(8, 60_000 // (h * w)))      # a browser draws ~60k clickable cells smoothly
    if shown_maps < c:
        st.caption(t("Showing maps 0–{last} of {c} (large maps); every map can be chosen below by its number.",
                     last=shown_maps - 1, c=c))

    # The three number inputs are the single source of truth for the explained cell; a click on a map writes them.
    # Their keys carry the input's fingerprint: a new drawing starts from its own most telling cell, and no stale
    # widget value from an earlier input can come back.
    token = hashlib.sha1(image.tobytes()).hexdigest()[:10]
    keys = [f"conv.ch.{layer}.{token}", f"conv.row.{layer}.{token}", f"conv.col.{layer}.{token}"]
    if keys[0] not in st.session_state:
        for key, value in zip(keys, explain.strongest_cell(fmap)):
            st.session_state[key] = value
    cell = tuple(int(st.session_state[k]) for k in keys)
    event = st.plotly_chart(figures.map_grid(fmap[..., :shown_maps], shared_scale=shared, selected=cell),
                            key=f"conv.maps.{layer}",
                            on_select="rerun", selection_mode="points")
    clicked = explain.clicked_cell(event)
    if clicked is not None and clicked != st.session_state.get(f"conv.click.{layer}.{token}"):
        st.session_state[f"conv.click.{layer}.{token}"] = clicked
        for key, value in zip(keys, clicked):
            st.session_state[key] = value
        st.rerun(scope="fragment")          # redraw the outline on the clicked pixel

    st.subheader(t("One value, step by step"))
    k1, k2, k3 = st.columns(3)
    ch = k1.number_input(t("Map (channel)"), 0, c - 1, key=keys[0])
    row = k2.number_input(t("Row"), 0, h - 1, key=keys[1])
    col = k3.number_input(t("Column"), 0, w - 1, key=keys[2])
    try:
        arith = explain.output_arithmetic(inspector, image, maps, layer, row, col, ch)
    except ValueError as e:         # a depthwise or grouped convolution: maps yes, value-by-value arithmetic no
        st.info(str(e))
        return

    a, b = st.columns([1, 2], gap="large")
    with a:
        st.plotly_chart(figures.image(shown(display), t("Receptive field of {layer}[{row}, {col}]", layer=layer,
                                                        row=row, col=col),
                                      outline=arith.receptive_field, height=300), key="conv.rf")
        top_, l_, btm, r = arith.receptive_field
        st.caption(t("Input pixels rows {r0}–{r1}, columns {c0}–{c1} ({h}×{w}) can change this value; nothing "
                     "outside the orange box can.", r0=top_, r1=btm - 1, c0=l_, c1=r - 1, h=btm - top_, w=r - l_))
    with b:
        if arith.terms is not None:
            terms = arith.terms
            cin = terms.patch.shape[-1]
            if cin > 1:
                st.plotly_chart(figures.bars(terms.channel_sums, [t("in {i}", i=i) for i in range(cin)],
                                             t("Sum of products per input channel ({n} channels)", n=cin)),
                                key="conv.chsums")
                in_ch = st.slider(t("Input channel to show"), 0, cin - 1, int(np.abs(terms.channel_sums).argmax()),
                                  key=f"conv.inch.{layer}")
            else:
                in_ch = 0
            st.plotly_chart(figures.arithmetic(terms.patch[..., in_ch], terms.weights[..., in_ch],
                                               terms.products[..., in_ch]), key="conv.arith")
        else:
            st.plotly_chart(figures.number_grid(arith.pool_window, t("The {h}×{w} window that was pooled",
                                                                     h=arith.window[2] - arith.window[0],
                                                                     w=arith.window[3] - arith.window[1]),
                                                strong=explain.winner(arith)), key="conv.poolwin")
        st.markdown(explain.arithmetic_story(arith))

    if show_kernels and arith.kind == "Conv2D":
        layer_obj = inspector.layers[inspector.names.index(layer)]
        kernel = layer_obj.get_weights()[0][..., :shown_maps]      # (kh, kw, cin, cout)
        kin = st.slider(t("Kernels: input channel"), 0, kernel.shape[2] - 1, 0, **linked(f"conv.kin.{layer}")) \
            if kernel.shape[2] > 1 else 0
        st.markdown(t("**Learned kernels of `{layer}`** (input channel {kin}; red positive, blue negative). Each map "
                      "above is its kernel slid over the input, summed over input channels, plus a bias.", layer=layer,
                      kin=kin))
        looks_like = [explain.nearest_preset(kernel[:, :, kin, j]) for j in range(kernel.shape[3])]
        st.plotly_chart(figures.map_grid(kernel[:, :, kin, :], zmid=0.0, colorscale=figures.DIVERGING,
                                         titles=[f"#{j} ≈ {t(n)} {s:.2f}" for j, (n, s) in enumerate(looks_like)],
                                         clickable=False, cell_px=95), key="conv.kernelgrid")
        st.caption(t("Under each kernel: the hand-designed filter it resembles most (cosine similarity after "
                     "removing the mean; 1 = same shape). Try that filter in the playground tab."))


@st.fragment
def playground_section(choice, image):
    """One hand-picked convolution on the user's image, with the output-size formula."""
    st.markdown(t("Pick a kernel and slide it over **your** image. Change size, stride and padding and watch "
                  "the output size follow the formula."))
    p1, p2, p3, p4 = st.columns(4)
    source = radio(p1, t("Image"), [N_("28×28 model input"), N_("full image, grey"), N_("full image, colour (RGB)")],
                       format_func=t, **linked("play.source"))
    preset = selectbox(p2, t("Kernel"), [*ops.KERNEL_PRESETS, N_("custom")], index=4, format_func=t,
                           **linked("play.preset"))
    size = p2.select_slider(t("Kernel size"), [1, 3, 5, 7], 3, **linked("play.size"), disabled=preset == "custom")
    stride = p3.slider(t("Stride"), 1, 4, 1, **linked("play.stride"))
    pad_mode = radio(p3, t("Padding"), ["valid", "same", N_("explicit zeros")], horizontal=True, format_func=t,
                         **linked("play.padmode"))
    pad = p3.slider(t("Zeros on each side"), 0, 4, 1, **linked("play.pad")) if pad_mode == "explicit zeros" \
        else pad_mode
    if preset == "custom":
        text = p4.text_area(t("Your kernel (rows on lines)"), "0 -1 0\n-1 5 -1\n0 -1 0", **linked("play.custom"))
        try:
            kernel2d = ops.parse_kernel(text)
        except ValueError as e:
            p4.error(str(e))
            kernel2d = ops.kernel_preset("identity", 3)
    else:
        kernel2d = ops.kernel_preset(preset, size)
        p4.plotly_chart(figures.number_grid(kernel2d, t("kernel"), colorscale=figures.DIVERGING, zmid=0.0,
                                            height=220), key="play.kernel")
    if source.startswith("28"):
        x = image
    else:
        rgb = limit_size(choice.rgb, 512).astype("float32") / 255.0
        x = rgb if "RGB" in source else to_gray(limit_size(choice.rgb, 512))
    result = playground.convolve(x, kernel2d, stride, pad)
    st.markdown(t("Output size: rows {rows}, columns {cols}", rows=result.formula_rows, cols=result.formula_cols))
    panels = [(t("input (grey)") if x.ndim == 2 else t("input"), x if x.ndim == 2 else x.mean(-1))]
    if x.ndim == 3:
        panels += [(t("{c} ∗ kernel", c=n), m) for n, m in zip("RGB", result.per_channel)]
        panels.append((t("sum of the 3 = output"), result.output))
        st.caption(t("A colour image has 3 channels, so the kernel has 3 slices (here the same one 3 times). Each "
                     "channel is convolved with its slice and the three results are **added**: one output map."))
    else:
        panels.append((t("output {h}×{w}", h=result.output.shape[0], w=result.output.shape[1]), result.output))
    st.plotly_chart(figures.side_by_side(panels, colorscale="gray", height=360), key="play.out")

    st.markdown("**" + t("One output value of the playground") + "**")
    oh, ow = result.output.shape
    o1, o2 = st.columns(2)
    prow = o1.number_input(t("Output row (0–{last})", last=oh - 1), 0, oh - 1, oh // 2, **linked("play.row"))
    pcol = o2.number_input(t("Output column (0–{last})", last=ow - 1), 0, ow - 1, ow // 2, **linked("play.col"))
    terms = playground.one_value(x, kernel2d, stride, pad, prow, pcol)
    names = [t("grey")] if x.ndim == 2 else [t("red"), t("green"), t("blue")]
    for i, name in enumerate(names):
        st.plotly_chart(figures.arithmetic(terms.patch[..., i], terms.weights[..., i], terms.products[..., i],
                                           height=260 if kernel2d.shape[0] <= 3 else 340), key=f"play.arith.{i}")
        st.caption(t("{name} channel: sum of the {n} products = **{value:.4f}**", name=name, n=kernel2d.size,
                     value=terms.channel_sums[i]))
    if x.ndim == 3:
        st.markdown(t("Output = {terms} = **{value:.4f}** (the three channel sums added; no bias here)",
                      terms=" + ".join(f"{v:.4f}" for v in terms.channel_sums), value=terms.value))
    else:
        st.markdown(t("Output = **{value:.4f}** (no bias here)", value=terms.value))


@st.fragment
def full_image_section(inspector, choice, ink_image, setup):
    """The trained conv layers over the whole (cleaned) image."""
    if choice.source == "sample":
        st.info(t("Upload a photo or draw to see the network's filters on a full-size image. "
                  "(Samples are only 28×28.)"))
    else:
        st.markdown(t("Convolutions don't care about image size: the same trained filters run over your whole "
                      "image (the dense classifier can't, it needs exactly 28×28). Rows and columns below are at "
                      "the image's resolution, not the model's."))
        big_layer = segmented_control(st, t("Layer"), inspector.names, default=inspector.names[0],
                                          **linked("photo.layer"), required=True) if len(inspector.names) <= 12 else \
            selectbox(st, t("Layer"), inspector.names, **linked("photo.layer"))
        if ink_image is not None:          # a shipped CNN: the cleaned ink image, as the 28×28 view was made from
            ink = limit_size((ink_image[..., None] * 255).astype(np.uint8).repeat(3, -1), 384)
            what, x = t("cleaned ink image"), to_gray(ink)
        else:                               # your model: the whole picture, in its channels and value range
            ink = limit_size(choice.rgb, 384)
            x = ink.astype(np.float32) / 255.0 if setup.inspector.input_shape[-1] == 3 else to_gray(ink)
            what, x = t("whole image"), scale(x, setup.scaling)
        try:
            big = inspector.fully_convolutional(x, big_layer)
        except Exception as e:       # e.g. a layer that needs the model's exact input size
            st.info(t("This model's layers cannot run on another image size: {reason}",
                      reason=str(e).splitlines()[0][:200]))
            return
        st.caption(t("Input {h}×{w} ({what}) → `{layer}` {bh}×{bw}×{bc}; first 16 maps.", h=ink.shape[0],
                     w=ink.shape[1], what=what, layer=big_layer, bh=big.shape[0], bw=big.shape[1], bc=big.shape[2]))
        st.plotly_chart(figures.map_grid(big[..., :16], clickable=False, cell_px=150), key="photo.maps")


@st.fragment
def layers_section(inspector):
    """Shapes, parameters and multiply-adds per layer."""
    rows = explain.layer_table(inspector.model)
    st.dataframe([{t("layer"): r.name, t("type"): r.kind, t("output shape"): "×".join(map(str, r.output_shape)),
                   t("parameters (formula)"): r.params_formula, "Keras count_params()": r.params,
                   t("multiply-adds per image"): r.macs} for r in rows], hide_index=True)
    st.markdown(t("**Total**: {p:,} parameters, {m:,} multiply-accumulates per image. A conv layer's weights are "
                  "shared across positions: its parameter count does not depend on the image size, its MACs do.",
                  p=sum(r.params for r in rows), m=sum(r.macs for r in rows)))


st.title(t("Convolution & feature maps"))
st.caption(t("A convolution slides a small grid of weights over the image; at each position it multiplies and adds. "
             "Stack a few, and the network learns its own edge, stroke and part detectors."))

source = model_source_selector()
dataset = dataset_selector() if source == SHIPPED else dataset_selector(t("Samples from"))
setup = model_setup(source, dataset)
inspector = setup.inspector

if not setup.shipped:
    choice, view, right = adapted_input(setup, dataset)
    image, display, ink = view.x, view.display, None
else:
    choice, view, right = input_with_view(dataset)
    image, display, ink = view.image, view.image, view.ink
maps, out = inspector.run(image)
probs = out if setup.softmax else explain.softmax(out)
with right:
    st.plotly_chart(figures.probability_bars(*explain.top_classes(probs, setup.classes)), key="conv.probs")
    if not setup.shipped:
        h, w, c = inspector.input_shape
        st.markdown(t("**What `{model}` sees**: {h}×{w}×{c}, values {scaling}.", model=setup.title, h=h, w=w, c=c,
                      scaling=setup.scaling) + ("" if setup.softmax else " " + t("Its outputs are scores; the bars "
                                                                                   "show their softmax.")))
        st.plotly_chart(figures.stages_strip([(t("input"), choice.rgb), (t("model input"), shown(display))]),
                        key="conv.stages")
    else:
        st.markdown(t("**What the model sees**: {recipe}.", recipe=t(view.recipe)))
        st.plotly_chart(figures.stages_strip(view.panels()), key="conv.stages")

TABS = [t("Feature maps"), t("Why this class? (Grad-CAM, saliency)"), t("Convolution playground"),
        t("Network on the full image"), t("Layers, parameters, MACs"), live_tab_label()]
# Only the open tab runs, and each tab is a fragment: its own widgets rerun that tab alone, not the model.
maps_tab, why_tab, play_tab, photo_tab, table_tab, live_tab = st.tabs(TABS, key="conv.tab", on_change="rerun", bind=LINK)
with maps_tab:
    if maps_tab.open:
        feature_maps_section(inspector, image, maps, display)
with why_tab:
    if why_tab.open:
        saliency_section(setup, image, display, probs)
with play_tab:
    if play_tab.open:
        playground_section(choice, display)
with photo_tab:
    if photo_tab.open:
        full_image_section(inspector, choice, ink, setup)
with table_tab:
    if table_tab.open:
        layers_section(inspector)
with live_tab:
    if live_tab.open:
        live_cnn_view(dataset, view.image if setup.shipped else view_28(choice, dataset))
