"""U-Net: a label for every pixel, on digit scenes and EM slices; U-Net vs no skips; skip switches; feature maps."""

import numpy as np
import streamlit as st

from dlviz import figures, registry, segmentation as seg
from dlviz.figures import masks as mfig
from dlviz.i18n import N_, t
from dlviz.inputs import SampleSet, limit_size
from dlviz.ui.input_picker import input_picker
from dlviz.ui.links import linked
from dlviz.ui.models import cached_model
from dlviz.ui.shell import enter_app
from dlviz.ui.widgets import segmented_control, selectbox

enter_app()

TASKS = {  # mode: (title, U-Net, no-skip model, class names, colours)
    "digits": (N_("Digit scenes"), "seg_digits_unet", "seg_digits_noskip", seg.SCENE_CLASSES, mfig.DIGIT_COLORS),
    "membrane": (N_("EM membranes"), "seg_membrane_unet", None, seg.MEMBRANE_CLASSES, mfig.MEMBRANE_COLORS),
}
CANVAS = (440, 200)     # wide: several digits side by side (fits half of the page on a laptop screen)
EM_CONTEXT = 32         # mirror-padded context around an EM image, as its training tiles had


WARM = {"seg_digits_unet": ((64, 128),), "seg_digits_noskip": ((64, 128),),   # bundled scenes, most drawings
        "seg_membrane_unet": ((512 + 2 * 32, 512 + 2 * 32),)}                    # a 512×512 slice + context


@st.cache_resource(show_spinner=t("Loading the segmentation network (and compiling it for this machine)…"))
def cached_segmenter(name: str) -> seg.Segmenter:
    segmenter = seg.Segmenter(cached_model(name), warm=WARM.get(name, ()))
    return segmenter


def segmenter_or_stop(name: str) -> seg.Segmenter:
    try:
        return cached_segmenter(name)
    except registry.ModelUnavailable as e:
        st.error(t("**This page needs the model `{name}`, which cannot be loaded.** {reason}", name=name, reason=e))
        st.stop()


@st.cache_resource(show_spinner=False)
def em_captions() -> list[str]:
    d = registry.load_data("unet_samples")
    return [t("ISBI 2012 training slice {i}, held out from training: its mask is the ground truth", i=i)
            for i in d["membrane_slices"]] + [t("ISBI 2012 test slice {i}: no mask exists for it", i=i)
                                              for i in d["test_slices"]]


@st.cache_resource(show_spinner=False)
def sample_sets() -> dict[str, SampleSet]:
    d = registry.load_data("unet_samples")
    digits = [", ".join(sorted({str(c - 1) for c in np.unique(m) if c})) for m in d["scene_masks"]]
    em_labels = [N_("with mask")] * len(d["membrane_slices"]) + [N_("without mask")] * len(d["test_slices"])
    return {
        "digits": SampleSet("unet.scenes", N_("digit scene"), d["scene_images"], [f"digits {ds}" for ds in digits],
                            masks=d["scene_masks"]),
        "membrane": SampleSet("unet.em", N_("EM slice"), np.concatenate([d["membrane_images"], d["test_images"]]),
                              em_labels, masks=np.concatenate([d["membrane_masks"],
                                                               np.full_like(d["test_images"], seg.NO_LABEL)])),
    }


def model_input(choice, mode: str, segmenter: seg.Segmenter):
    """(H, W) float image the model sees, and its ground truth (H, W) or None."""
    sets = sample_sets()
    if choice.sample_set is not None:
        truth = sets[mode].masks[choice.index]
        if mode == "membrane":
            st.caption(em_captions()[choice.index])
        return choice.rgb[..., 0].astype(np.float32) / 255.0, None if truth.max() == seg.NO_LABEL else truth
    if mode == "membrane":
        return seg.prepare_membrane(limit_size(choice.rgb, 512)), None
    p = seg.prepare_digit_scene(choice.rgb, segmenter.multiple)
    what = {"draw": t("Your drawing"), "upload": t("Your upload")}.get(choice.source, t("Your image"))
    st.caption(t("{what} as the model sees it: grey, {inverted}scaled by {scale:.2f} so a digit is about {px} pixels "
                 "tall (like the training scenes), {h}×{w} pixels.", what=what,
                 inverted=t("inverted, ") if p.inverted else "", scale=p.scale, px=seg.TARGET_INK_HEIGHT,
                 h=p.image.shape[0], w=p.image.shape[1]))
    return p.image, None


def run(segmenter: seg.Segmenter, image: np.ndarray, mode: str, disabled=(), maps: bool = True) -> seg.Segmentation:
    if mode == "membrane":
        return segmenter.run(image, disabled, maps, context=EM_CONTEXT)
    return segmenter.run(image, disabled, maps, pad="constant")


def metrics_of(truth, labels, names):
    return seg.segmentation_metrics(seg.confusion(truth, labels, len(names)), names,
                                    mean_over=tuple(range(1, len(names))) if len(names) > 2 else None)


def metrics_table(m: dict, names) -> None:
    rows = [{t("class"): t(n), "IoU": m["iou"][n], "Dice": m["dice"][n]} for n in names if m["iou"][n] is not None]
    st.dataframe(rows, hide_index=True, height=min(420, 38 + 35 * len(rows)))
    over = t("the digit classes present") if len(names) > 2 else t("both classes")
    st.caption(t("Pixel accuracy **{acc:.1%}** · mean IoU over {over} **{miou:.3f}** · IoU = TP / (TP + FP + FN), "
                 "Dice = 2 TP / (2 TP + FP + FN), counted in pixels.", acc=m["pixel_accuracy"], over=over,
                 miou=m["mean_iou"]))


@st.fragment
def mask_section(image, result: seg.Segmentation, truth, names, colors, binary: bool):
    """The predicted mask over the image; opacity / threshold sliders rerun this part only."""
    c1, c2 = st.columns(2)
    opacity = c1.slider(t("Mask opacity"), 0.0, 1.0, 0.55, 0.05, **linked("unet.opacity"))
    threshold = c2.slider(t("Threshold on P(cell interior)"), 0.05, 0.95, 0.5, 0.05, **linked("unet.threshold"),
                          help=t("A pixel is cell interior when the model's probability is at least this.")) \
        if binary else None
    labels = result.labels(threshold)
    st.plotly_chart(mfig.mask_overlay(image, labels, names, colors, opacity, probs=result.probs,
                                      title=t("U-Net's mask (hover a pixel for its probabilities)"), height=420),
                    key="unet.overlay")
    if truth is None:
        st.caption(t("No ground truth for this input: pick a bundled scene or a labelled EM slice to score the "
                     "mask."))
        return
    st.markdown("**" + t("Against the ground truth") + "**")
    m = metrics_of(truth, labels, names)
    metrics_table(m, names)
    present = [n for n in names[1:] if m["iou"][n] is not None] if not binary else list(names)
    focus = selectbox(st, t("Class for the TP / FP / FN map"), present, format_func=t,
                         **linked(f"unet.focus.{len(names)}"))
    k = names.index(focus)
    st.plotly_chart(mfig.outcome_overlay(image, seg.outcome_map(truth, labels, k), focus, height=420),
                    key="unet.outcome")


@st.fragment
def comparison_section(image, result, unet: seg.Segmenter, noskip: seg.Segmenter | None, mode, truth, names,
                       colors):
    """U-Net with any of its skips switched off, next to the model without skips."""
    st.caption(t("Each skip hands a contracting-path map straight to the expanding path at the same size. Switch "
                 "some off (their maps are replaced by zeros) and watch the outlines go: the fine detail only "
                 "travels through the skips. The no-skip model is trained the same way but has to push everything "
                 "through the bottleneck.") + (" " + t("Masks here use the threshold 0.5.") if unet.binary else ""))
    cols = st.columns(len(unet.skip_levels))
    disabled = [lvl for lvl, col in zip(unet.skip_levels, cols) if not col.toggle(
        t("skip {level} ({h}×{w})", level=lvl, h=image.shape[0] // 2**lvl, w=image.shape[1] // 2**lvl), True,
        **linked(f"unet.skip{lvl}"))]
    panels = [("U-Net", result)]
    if disabled:
        panels.append((t("U-Net, skips {levels} off", levels=", ".join(map(str, disabled))),
                       run(unet, image, mode, disabled, False)))
    if noskip is not None:
        panels.append((t("no skips (encoder-decoder)"), run(noskip, image, mode, maps=False)))
    shown = [(title, r.labels(0.5 if unet.binary else None)) for title, r in panels]
    if truth is not None:
        shown = [(f"{name}: mIoU {metrics_of(truth, lab, names)['mean_iou']:.3f}", lab) for name, lab in shown]
        shown.append((t("ground truth"), truth))
    st.plotly_chart(mfig.masks_side_by_side(image, shown, colors, names, height=360 if mode == "digits" else 420),
                    key="unet.compare")
    if noskip is not None:
        measured = {n: registry.model_card(n).metrics for n in (TASKS[mode][1], TASKS[mode][2])}
        (u, un), (p, pn) = [(m.get("mean_iou"), m.get("test_scenes")) for m in measured.values()]
        st.caption(t("On {n} test scenes (MNIST test digits only), trained the same way (same scenes, epochs and "
                     "seed): mean IoU over the ten digits **{u:.3f}** with skips, **{p:.3f}** without. The no-skip "
                     "model has to carry every digit's class *and* outline through the 4×4 bottleneck; after the "
                     "same training it still labels almost every pixel background.", n=un, u=u, p=p))


@st.fragment
def probability_section(result: seg.Segmentation, names):
    st.caption(t("The softmax (or sigmoid) output: one map per class, bright where the model is sure."))
    probs = result.probs if result.probs.shape[0] <= 256 else figures._shrink(result.probs, 256)
    cell = 260 if len(names) == 2 else max(60, int(150 * min(1.0, probs.shape[0] / probs.shape[1])))
    st.plotly_chart(figures.map_grid(probs, titles=[t(n) for n in names], shared_scale=True, clickable=False,
                                     cols=min(len(names), 6), cell_px=cell), key="unet.probs")


@st.fragment
def maps_section(previews: dict[str, seg.MapPreview]):
    levels = list(previews)
    if not levels:
        st.caption(t("No feature maps for this input."))
        return
    level = st.select_slider(t("Level"), levels, value=levels[0], **linked("unet.level"),
                             help=t("down = contracting path, dec = expanding path, same number = same size"))
    shown, (h, w, n) = previews[level].shown, previews[level].shape
    twin = {"down": "dec", "dec": "down"}.get(level.rstrip("0123456789"))
    st.caption(t("`{level}`: {h}×{w} pixels, {n} maps", level=level, h=h, w=w, n=n)
               + (" " + t("(first 16 shown)") if n > 16 else "") + "."
               + (" " + t("Compare with `{other}` at the same size.", other=f"{twin}{level[-1]}") if twin else ""))
    cell = max(50, int(120 * min(1.0, shown.shape[0] / shown.shape[1])))
    st.plotly_chart(figures.map_grid(shown, clickable=False, cols=8, cell_px=cell), key="unet.maps")


st.title(t("U-Net"))
st.caption(t("Segmentation labels every pixel. A U-Net shrinks the image to see what is there (contracting path), "
             "grows it back to say where (expanding path), and copies each early map across to the matching late "
             "one (skip connections) so the outlines stay sharp."))
mode = segmented_control(st, t("What to segment"), list(TASKS), format_func=lambda k: t(TASKS[k][0]),
                             default="digits", **linked("unet.mode", persist=False), required=True) or "digits"
title, unet_name, noskip_name, names, colors = TASKS[mode]
unet = segmenter_or_stop(unet_name)
noskip = segmenter_or_stop(noskip_name) if noskip_name else None
try:
    sets = sample_sets()
except registry.ModelUnavailable as e:
    st.error(t("**The page's bundled samples cannot be loaded.** {reason}", reason=e))
    st.stop()

left, right = st.columns([1, 1], gap="large")
with left:      # the picker's own page header (input_with_view) gives the canvas too narrow a column
    choice = input_picker("mnist", slot=f"unet.{mode}", samples=sets[mode],
                          canvas=CANVAS if mode == "digits" else (300, 300))
    if mode == "digits":
        st.caption(t("Write two or three digits side by side, each nearly as tall as the canvas."))
if choice.rgb is None:
    right.info(t("Draw on the canvas, upload an image or pick a sample to begin."))
    st.stop()
with right:
    image, truth = model_input(choice, mode, unet)
    result = run(unet, image, mode)
    previews, result = seg.preview_maps(result.maps), result.without_maps()    # what every fragment keeps
    mask_section(image, result, truth, names, colors, unet.binary)

st.subheader(t("U-Net vs no skip connections"))
comparison_section(image, result, unet, noskip, mode, truth, names, colors)
st.subheader(t("Class probabilities"))
probability_section(result, names)
st.subheader(t("Feature maps along the U"))
maps_section(previews)
