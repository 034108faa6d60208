"""The input widget every page shares: draw, upload or pick a bundled sample.

The most recent action wins: a new stroke, a new upload or a new sample choice becomes the current input, stored
in `st.session_state["dlviz.input"]` so it survives reruns and page switches. A refused upload shows its message
and leaves the current input as it was.
"""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from dlviz import registry
from dlviz.datasets import DATASETS, get_dataset
from dlviz.inputs import (MAX_BYTES, SUPPORTED_FORMATS, ChosenInput, EmptyInputError, InputError, MnistStages,
                          canvas_to_rgb, decode_image, limit_size, model_view)

INPUT = "dlviz.input"
DATASET = "dlviz.dataset"
CANVAS = "dlviz.canvas"
STORED_MAX_SIDE = 1024      # uploads are kept at most this big: enough for every view, bounded memory per session
CANVAS_PX = 280             # 10× MNIST, so a finger or mouse stroke has MNIST-like relative thickness


def dataset_selector(label: str = "Dataset") -> str:
    """MNIST / Fashion-MNIST, remembered across pages and in the shareable URL (?dataset=fashion)."""
    keys = list(DATASETS)
    if DATASET not in st.session_state:
        wanted = st.query_params.get("dataset", keys[0])
        st.session_state[DATASET] = wanted if wanted in DATASETS else keys[0]

    def remember():
        st.session_state[DATASET] = st.session_state["dlviz.dataset.widget"]

    st.session_state["dlviz.dataset.widget"] = st.session_state[DATASET]
    choice = st.segmented_control(label, keys, format_func=lambda k: DATASETS[k].title,
                                  key="dlviz.dataset.widget", on_change=remember, required=True)
    st.query_params["dataset"] = choice
    return choice


@st.cache_resource(show_spinner=False)
def cached_samples(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    return registry.load_samples(dataset)


def _sample_input(dataset: str, index: int) -> ChosenInput:
    x, y = cached_samples(dataset)
    index = int(index) % len(x)
    label = get_dataset(dataset).classes[int(y[index])]
    return ChosenInput.from_sample(x[index], dataset=dataset, index=index, label=label)


def _set(choice: ChosenInput) -> None:
    st.session_state[INPUT] = choice
    if choice.source == "sample":
        st.query_params["sample"] = str(choice.index)
    elif "sample" in st.query_params:
        del st.query_params["sample"]


def _draw_tab() -> None:
    nonce = st.session_state.setdefault("dlviz.canvas.nonce", 0)
    key = f"dlviz.canvas.{nonce}"
    # Restore the drawing when the canvas is (re)mounted, e.g. after a page switch; while it stays mounted
    # the restore value stays the same so the canvas is never redrawn under the user's pen.
    if key not in st.session_state:
        st.session_state["dlviz.canvas.restore"] = st.session_state.get(CANVAS)
    stroke = st.session_state.get("dlviz.stroke", 26)
    result = st_canvas(stroke_width=stroke, stroke_color="#FFFFFF", background_color="#000000",
                       width=CANVAS_PX, height=CANVAS_PX, drawing_mode="freedraw", return_image_data=True,
                       initial_drawing=st.session_state.get("dlviz.canvas.restore"), key=key)
    cols = st.columns([3, 1], vertical_alignment="bottom")
    cols[0].slider("Stroke width", 8, 40, 26, key="dlviz.stroke")
    if cols[1].button("Clear", key="dlviz.canvas.clear", icon=":material/delete:"):
        st.session_state["dlviz.canvas.nonce"] += 1
        for k in (CANVAS, "dlviz.canvas.hash", "dlviz.canvas.restore"):
            st.session_state.pop(k, None)
        if st.session_state[INPUT].source == "draw":
            st.session_state[INPUT] = ChosenInput.empty_canvas()
        st.rerun()
    st.caption("Draw one digit (or a garment) large, in the middle. White on black, like the training data.")
    data = result.image_data
    if data is None:
        return
    digest = hashlib.sha1(np.ascontiguousarray(data).tobytes()).hexdigest()
    if digest == st.session_state.get("dlviz.canvas.hash"):
        return
    st.session_state["dlviz.canvas.hash"] = digest
    st.session_state[CANVAS] = result.json_data
    try:
        _set(ChosenInput.from_rgb(canvas_to_rgb(data), source="draw", name="your drawing"))
    except EmptyInputError:
        _set(ChosenInput.empty_canvas())


def _upload_tab() -> None:
    upload = st.file_uploader(
        "Upload an image", key="dlviz.upload",
        help=f"{', '.join(SUPPORTED_FORMATS)}; up to {MAX_BYTES // 2**20} MB. Photos of a digit on paper work.")
    st.caption(f"Formats: {', '.join(SUPPORTED_FORMATS)} · up to {MAX_BYTES // 2**20} MB")
    if upload is None:
        return
    if st.session_state.get("dlviz.upload.id") != upload.file_id:
        st.session_state["dlviz.upload.id"] = upload.file_id
        st.session_state.pop("dlviz.upload.error", None)
        try:
            rgb = decode_image(upload.getvalue(), upload.name)
            full_size = rgb.shape[:2]
            _set(ChosenInput.from_rgb(limit_size(rgb, STORED_MAX_SIDE), source="upload", name=upload.name,
                                      full_size=full_size))
        except InputError as e:
            st.session_state["dlviz.upload.error"] = f"**{upload.name}**: {e}"
    if "dlviz.upload.error" in st.session_state:
        st.error(st.session_state["dlviz.upload.error"] + " Your previous input is still in use.")


def _samples_tab(dataset: str) -> None:
    ds = get_dataset(dataset)
    x, y = cached_samples(dataset)
    class_key, pos_key = f"dlviz.sample.class.{dataset}", f"dlviz.sample.pos.{dataset}"
    options = ["any class", *ds.classes]

    def pool_of(wanted: str) -> np.ndarray:
        return np.arange(len(x)) if wanted == "any class" else np.flatnonzero(y == ds.classes.index(wanted))

    def on_class():
        st.session_state[pos_key] = 0
        _set(_sample_input(dataset, int(pool_of(st.session_state[class_key])[0])))

    def on_pos():
        pool = pool_of(st.session_state[class_key])
        _set(_sample_input(dataset, int(pool[min(st.session_state[pos_key], len(pool) - 1)])))

    def on_random():
        pool = pool_of(st.session_state[class_key])
        _set(_sample_input(dataset, int(np.random.default_rng().choice(pool))))

    cols = st.columns([2, 2, 1], vertical_alignment="bottom")
    wanted = cols[0].selectbox("Class", options, key=class_key, on_change=on_class)
    pool = pool_of(wanted)
    cols[1].number_input(f"Example (0–{len(pool) - 1})", 0, len(pool) - 1, 0, key=pos_key, on_change=on_pos)
    cols[2].button("Random", key=f"dlviz.sample.random.{dataset}", icon=":material/casino:", on_click=on_random)
    st.image([t for t in x[pool[:12]]], width=44, caption=[ds.classes[int(c)] for c in y[pool[:12]]])
    current = st.session_state.get(INPUT)
    if current is not None and current.source == "sample":
        st.caption(f"Current: bundled test image #{current.index}, labelled **{current.label}**.")


def _describe(choice: ChosenInput) -> str:
    if choice.source == "sample":
        return f"bundled sample #{choice.index} (labelled {choice.label})"
    if choice.rgb is None:
        return "an empty canvas"
    if choice.source == "upload":
        h, w = choice.full_size or choice.rgb.shape[:2]
        return f"{choice.name} ({w}×{h})"
    return "your drawing"


def input_picker(dataset: str) -> ChosenInput:
    """Tabs Draw / Upload / Samples; returns the current input (a bundled sample until the user acts)."""
    if INPUT not in st.session_state:
        wanted = st.query_params.get("sample")
        st.session_state[INPUT] = _sample_input(dataset, int(wanted) if str(wanted).isdigit() else 0)
    current = st.session_state[INPUT]
    if current.source == "sample" and current.dataset != dataset:   # dataset switched: same slot, other dataset
        _set(_sample_input(dataset, current.index))
    status = st.empty()      # filled last, so it names the input this run actually uses
    draw, upload, samples = st.tabs([":material/draw: Draw", ":material/upload: Upload", ":material/photo_library: Samples"])
    with draw:
        _draw_tab()
    with upload:
        _upload_tab()
    with samples:
        _samples_tab(dataset)
    status.markdown(f"Current input: **{_describe(st.session_state[INPUT])}**")
    return st.session_state[INPUT]


def input_with_view(dataset: str):
    """The page header every page shares: the input picker on the left, the page's own output on the right.

    Returns (choice, view, right): the current input, its 28×28 model view with every stage, and the right-hand
    column to draw into. With nothing to show (an empty canvas) it puts a hint there and stops the page.
    """
    left, right = st.columns([5, 7], gap="large")
    with left:
        choice = input_picker(dataset)
    try:
        view: MnistStages = model_view(choice)
    except InputError as e:          # e.g. an empty canvas: a hint, not a prediction
        right.info(str(e))
        st.stop()
    return choice, view, right
