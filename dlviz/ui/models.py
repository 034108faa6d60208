"""Model loading for the pages: the shipped networks are read from disk and wrapped once per server (cached);
a user's own uploaded model is loaded into that user's session only (`st.session_state`), never into a cache
another session could reach."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dlviz import backbone, registry
from dlviz.datasets import get_dataset
from dlviz.explain import Inspector
from dlviz.i18n import t
from dlviz.inputs import InputError
from dlviz.inputs.adapt import RECIPES, SCALINGS, adapt
from dlviz.ui.input_picker import input_picker
from dlviz.user_model import MAX_MODEL_BYTES, UserModel, UserModelError, class_names, load_user_model
from dlviz.ui.widgets import radio, segmented_control


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
        st.error(t("**This page needs the model `{name}`, which cannot be loaded.** {reason}", name=name, reason=e))
        st.stop()


# --------------------------------------------------------------------------- your own model (per session)

SOURCE = "dlviz.model.source"          # "shipped" or "yours", shared by the Convolution and Pooling pages
USER_MODEL = "dlviz.user_model"        # the session's checked UserModel; never in a server-wide cache
USER_INSPECTOR = "dlviz.user_model.inspector"
SHIPPED, YOURS, BACKBONE = "shipped", "yours", "mobilenet"


@dataclass(frozen=True)
class Setup:
    """What the pages need from the chosen model, whichever it is."""

    inspector: Inspector
    classes: list[str]
    scaling: str             # of the model's input (one of dlviz.inputs.adapt.SCALINGS)
    recipe: str              # how an input is made to fit (dlviz.inputs.adapt.RECIPES)
    softmax: bool            # the output is a probability vector (else: scores, shown through a softmax)
    title: str               # "cnn_mnist" or the uploaded file's name
    user: UserModel | None = None
    shipped: bool = False    # one of the shipped 28×28 CNNs (the pages then show the dataset recipe's stages)


def model_source_selector() -> str:
    """Shipped CNN or your own .keras file; remembered across the two pages."""
    st.session_state.setdefault(SOURCE, SHIPPED)

    def remember():
        st.session_state[SOURCE] = st.session_state["dlviz.model.source.widget"]

    st.session_state["dlviz.model.source.widget"] = st.session_state[SOURCE]
    labels = {SHIPPED: t("Shipped CNN (MNIST / Fashion-MNIST)"), YOURS: t("Your model (.keras)"),
              BACKBONE: t("MobileNetV2 (ImageNet photos)")}
    return segmented_control(st, t("Model"), list(labels), format_func=labels.get, required=True,
                             key="dlviz.model.source.widget", on_change=remember, fallback=st.session_state[SOURCE])


def _load_upload(upload) -> None:
    """Load a newly uploaded file into this session (or remember why it was refused)."""
    st.session_state["dlviz.user_model.upload.id"] = upload.file_id
    st.session_state.pop("dlviz.user_model.error", None)
    try:
        with st.spinner(t("Checking and loading {name}…", name=upload.name)):
            model = load_user_model(upload.getvalue(), upload.name)
            inspector = Inspector(model.model, xla=False)     # per session: a traced function, no XLA compile
    except UserModelError as e:
        st.session_state["dlviz.user_model.error"] = str(e)
        return
    except Exception as e:          # anything Keras or TensorFlow raise on a model we did not foresee
        st.session_state["dlviz.user_model.error"] = t("{name} cannot be shown: {reason}", name=upload.name,
                                                       reason=str(e).splitlines()[0][:300] if str(e) else
                                                       type(e).__name__)
        return
    st.session_state[USER_MODEL] = model
    st.session_state[USER_INSPECTOR] = inspector


def _model_uploader_key() -> str:
    """`dlviz.user_model.upload`, then `….upload.<n>` after each new file: a fresh key empties the uploader."""
    nonce = st.session_state.get("dlviz.user_model.upload.nonce", 0)
    return "dlviz.user_model.upload" if nonce == 0 else f"dlviz.user_model.upload.{nonce}"


def user_model_setup() -> Setup:
    """The upload widget and the settings of the session's own model; stops the page until one is loaded."""
    # A new file is taken before the uploader is drawn, which then starts empty: as with images, a refused file must
    # not stay listed as if it were in use, and the caption below names the model that is (its bytes are released).
    upload = st.session_state.get(_model_uploader_key())
    if upload is not None and upload.file_id != st.session_state.get("dlviz.user_model.upload.id"):
        st.session_state["dlviz.user_model.upload.nonce"] = st.session_state.get("dlviz.user_model.upload.nonce", 0) + 1
        _load_upload(upload)
    st.file_uploader(
        t("Your model (.keras)"), key=_model_uploader_key(), max_upload_size=MAX_MODEL_BYTES // 2**20,
        help=t("A Keras 3 file saved with model.save(\"name.keras\"), up to {mb} MB: one image input (any size, "
               "grey or RGB), one output of class scores. Layers run as Keras' own; a file with Python code "
               "(a Lambda layer, custom classes) is refused.", mb=MAX_MODEL_BYTES // 2**20))
    if "dlviz.user_model.error" in st.session_state:
        st.error(st.session_state["dlviz.user_model.error"]
                 + (t(" The model loaded before is still in use.") if USER_MODEL in st.session_state else ""))
    model: UserModel | None = st.session_state.get(USER_MODEL)
    if model is None:
        st.info(t("Upload a .keras file to explore your own CNN: feature maps, kernels and the arithmetic of every "
                  "Conv2D and pooling layer, parameters, the prediction and Grad-CAM."))
        st.stop()
    h, w, c = model.input_shape
    st.caption(t("**{name}**: input {h}×{w}×{c}, {n} outputs, {p:,} parameters. Kept for this browser session "
                 "only.", name=model.name, h=h, w=w, c=c, n=model.classes, p=model.params))
    c1, c2, c3 = st.columns([2, 3, 4])
    scaling = radio(c1, t("Input values"), SCALINGS, index=SCALINGS.index(model.scaling),
                        key=f"dlviz.user_model.scaling.{model.digest}",
                        help=t("The range the model was trained on: pixels / 255 → [0, 1], ×2 − 1 → [-1, 1], "
                               "raw 0–255. A model starting with Rescaling(1/255) wants 0–255 (preselected)."))
    recipe_names = {"mnist": t("digit recipe (MNIST)"), "fashion": t("garment recipe (Fashion-MNIST)"),
                    "whole image": t("whole image, resized")}
    default = "mnist" if c == 1 and max(h, w) <= 64 else "whole image"
    recipe = radio(c2, t("Fit the input by"), RECIPES, index=RECIPES.index(default), format_func=recipe_names.get,
                       key=f"dlviz.user_model.recipe.{model.digest}",
                       help=t("Digit and garment recipes find the object, crop and centre it as the datasets did, "
                              "then resize to the model's input; 'whole image' centre-crops and resizes the picture."))
    text = c3.text_area(t("Class names (comma-separated, in output order)"), "",
                        key=f"dlviz.user_model.classes.{model.digest}", height=68,
                        placeholder="airplane, automobile, bird, …")
    try:
        classes = class_names(text, model.classes)
    except UserModelError as e:
        c3.warning(str(e))
        classes = class_names("", model.classes)
    return Setup(st.session_state[USER_INSPECTOR], classes, scaling, recipe, model.softmax, model.name, model)


def shipped_setup(dataset: str) -> Setup:
    return Setup(inspector_or_stop(f"cnn_{dataset}"), list(get_dataset(dataset).classes), SCALINGS[0], dataset,
                 True, f"cnn_{dataset}", shipped=True)


@st.cache_resource(show_spinner=t("Loading MobileNetV2…"))
def cached_backbone() -> tuple[Inspector, list[str]]:
    # Files are on disk by now (backbone_setup downloads them with a progress bar); shared by every session,
    # like the shipped models: nothing in it comes from a user.
    model, classes = backbone.load_backbone()
    return Inspector(model, xla=False), classes


def backbone_setup() -> Setup:
    """MobileNetV2 with ImageNet weights, downloaded on first use with a progress bar; offline, a message and a
    stop of this page only (a failed attempt is remembered for the session: no waiting on every rerun)."""
    failed = st.session_state.get("dlviz.backbone.error")
    if failed:
        st.error(failed, icon=":material/cloud_off:")
        if not st.button(t("Try again"), key="dlviz.backbone.retry"):
            st.stop()
        st.session_state.pop("dlviz.backbone.error")
    try:
        weights_url, classes_url = backbone._urls()
        folder = backbone.cache_dir()
        if not (folder / backbone.WEIGHTS_FILE).is_file():
            bar = st.progress(0.0, text=t("Downloading MobileNetV2's ImageNet weights (14 MB, once)…"))

            def show(done, total):
                bar.progress(min(done / total, 1.0) if total else 0.0,
                             text=t("Downloading MobileNetV2's ImageNet weights: {mb:.1f} MB", mb=done / 2**20))

            backbone.download(weights_url, folder / backbone.WEIGHTS_FILE, show)
            bar.empty()
        backbone.download(classes_url, folder / backbone.CLASSES_FILE)
        inspector, classes = cached_backbone()
    except backbone.BackboneUnavailable as e:
        # shown by the branch above on the rerun: one "Try again" button per run, whichever attempt failed
        st.session_state["dlviz.backbone.error"] = str(e)
        st.rerun()
    st.caption(t("MobileNetV2 (Sandler et al. 2018), trained on ImageNet: 224×224 RGB photos, 1000 classes, "
                 "values in [-1, 1]. Feature maps, kernels and Grad-CAM work as for the small CNNs."))
    return Setup(inspector, classes, backbone.SCALING, "whole image", True, "MobileNetV2")


def model_setup(source: str, dataset: str) -> Setup:
    """The chosen model's Setup (stops the page with a message when it cannot be had)."""
    if source == YOURS:
        return user_model_setup()
    if source == BACKBONE:
        return backbone_setup()
    return shipped_setup(dataset)


def adapted_input(setup: Setup, dataset: str):
    """The input picker on the left, the input fitted to the model: (choice, Adapted, right column).

    Stops the page with a hint when there is nothing to show (an empty canvas, a blank image)."""
    left, right = st.columns([5, 7], gap="large")
    with left:
        choice = input_picker(dataset)
    try:
        adapted = adapt(choice, setup.inspector.input_shape, setup.scaling, setup.recipe)
    except InputError as e:
        right.info(str(e))
        st.stop()
    if adapted.note:
        right.warning(adapted.note, icon=":material/info:")
    return choice, adapted, right


def shown(display):
    """An image for `figures`: (H, W) floats as they are, (H, W, 3) floats in [0, 1] as uint8 RGB."""
    import numpy as np

    return display if display.ndim == 2 else np.round(np.clip(display, 0, 1) * 255).astype(np.uint8)
