"""The "Why this class?" tab: Grad-CAM and three saliency maps over the user's input, for any model the page has."""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from dlviz import saliency
from dlviz.figures import saliency as saliency_figures
from dlviz.i18n import t
from dlviz.ui.widgets import selectbox

CACHE = "dlviz.why.cache"        # session: the last computed maps, so moving the opacity slider recomputes nothing
CAM_TYPES = ("Conv2D", "DepthwiseConv2D")


def sample_counts(shape) -> tuple[int, int]:
    """(SmoothGrad samples, integrated-gradients steps): fewer for photo-sized inputs (MobileNetV2 at 224×224:
    ~0.15 s per sample on 2 cores, bench/own_model.py), the papers' counts for small ones."""
    return (24, 32) if shape[0] * shape[1] <= 64 * 64 else (8, 16)


def _maps(model, x, target, layer, key):
    cached = st.session_state.get(CACHE)
    if cached is not None and cached[0] == key:
        return cached[1]
    samples, steps = sample_counts(x.shape)
    with st.spinner(t("Computing the saliency maps…")):
        cam = saliency.grad_cam(model, x, target, layer)
        grads = saliency.vanilla_gradients(model, x, target)
        smooth = saliency.smoothgrad(model, x, target, samples=samples)
        integrated, error = saliency.integrated_gradients(model, x, target, steps=steps)
    result = (cam, saliency.normalise(grads), saliency.normalise(smooth), saliency.normalise(integrated), error)
    st.session_state[CACHE] = (key, result)
    return result


@st.fragment
def saliency_section(setup, x: np.ndarray, display: np.ndarray, probs: np.ndarray) -> None:
    """setup: dlviz.ui.models.Setup; x: the model input (H, W, C or H, W); display: it in [0, 1]; probs: output."""
    inspector = setup.inspector
    x3 = x[..., None] if x.ndim == 2 else x
    n = len(setup.classes)
    best = int(np.argmax(probs))
    token = hashlib.sha1(np.ascontiguousarray(x3).tobytes()).hexdigest()[:10]

    def label(i):
        return f"{setup.classes[i]} ({probs[i]:.1%})" if i is not None else t("— (this class alone)")

    c1, c2, c3, c4 = st.columns([3, 3, 3, 3])
    order = list(np.argsort(probs)[::-1])            # most likely first: the interesting ones are on top
    target = selectbox(c1, t("Explain the class"), order, index=0, format_func=label,
                          key=f"why.class.{setup.title}.{token}")
    others = [None] + [i for i in order if i != target]
    versus = selectbox(c2, t("… and not"), others, index=0, format_func=label,
                          key=f"why.versus.{setup.title}.{token}.{target}",
                          help=t("\"Why 7 and not 1?\": explain the difference of the two scores."))
    convs = [p for p, layer in zip(inspector.names, inspector.layers) if type(layer).__name__ in CAM_TYPES]
    if not convs:
        st.info(t("This model has no convolution layer for Grad-CAM."))
        return
    layer = selectbox(c3, t("Grad-CAM layer"), convs, index=len(convs) - 1, key=f"why.layer.{setup.title}",
                         help=t("The last conv layer has the most class-specific maps; earlier ones are sharper "
                                "but less about the class."))
    opacity = c4.slider(t("Overlay opacity"), 0.0, 1.0, 0.6, 0.05, key="why.opacity")
    target_arg = int(target) if versus is None else (int(target), int(versus))
    try:
        cam, grads, smooth, integrated, error = _maps(inspector.model, x3.astype("float32"), target_arg, layer,
                                                      (setup.title, token, target_arg, layer))
    except Exception as e:      # a model whose score cannot be differentiated: say so, keep the page alive
        st.warning(t("Saliency cannot be computed for this model: {reason}", reason=str(e).splitlines()[0][:200]))
        return
    question = (t("Why **{a}**?", a=setup.classes[target]) if versus is None else
                t("Why **{a}** and not **{b}**? (score of {a} minus score of {b})", a=setup.classes[target],
                  b=setup.classes[versus]))
    st.markdown(question + " " + (t("The model's answer is **{c}** ({p:.1%}).", c=setup.classes[best],
                                    p=probs[best]) if n else ""))
    h = inspector.tape.shapes[layer][:2]
    panels = [(t("Grad-CAM ({layer}, {h}×{w})", layer=layer, h=h[0], w=h[1]), cam), (t("gradients"), grads),
              (t("SmoothGrad"), smooth), (t("integrated gradients"), integrated)]
    st.plotly_chart(saliency_figures.saliency_panels(display, panels, opacity, height=320), key="why.panels")
    cols = st.columns(4)
    cols[0].caption(t("**Grad-CAM**: the layer's maps, each weighted by how much the score grows with it "
                      "(average gradient), summed, negatives cut. Coarse: one value per map pixel, upsampled."))
    cols[1].caption(t("**Gradients**: how much the score changes when one input pixel changes a little. Pixels "
                      "left untouched cannot change the score at all."))
    samples, steps = sample_counts(x3.shape)
    cols[2].caption(t("**SmoothGrad**: the gradients averaged over {n} noisy copies of the input: less speckle, "
                      "the same message.", n=samples))
    cols[3].caption(t("**Integrated gradients**: pixel × average gradient on {n} steps from a black image to "
                      "yours. The attributions add up to the score difference (here within {e:.1%}).", n=steps,
                      e=error))
