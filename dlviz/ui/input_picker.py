"""The input widget every page shares: draw, upload or pick a bundled sample.

The most recent action wins: a new stroke, a new upload or a new sample choice becomes the current input, stored
in `st.session_state["dlviz.input"]` so it survives reruns and page switches. A refused upload shows its message
and leaves the current input as it was.

One picker, several uses:

* `slot`: independent inputs on one page (the Autoencoder page's interpolation takes two, "a" and "b"). Slot
  "main" is the input shared by all pages, under the keys `dlviz.input`, `dlviz.canvas`, `dlviz.upload`, ...,
  and the only one written to the shareable URL (`?sample=`). Any other slot keeps its own state under
  `dlviz.<slot>.input`, `dlviz.<slot>.canvas`, `dlviz.<slot>.upload`, ...
* `canvas=(width, height)` in px: e.g. a wide canvas for several digits on the U-Net page.
* `samples`: a page's own `dlviz.inputs.SampleSet` instead of the dataset's 28×28 test images. Such pages do
  their own preprocessing from `choice.rgb` and call `input_picker`; `input_with_view` then returns no 28×28
  view (see its docstring). Give them their own slot, so the shared "main" input stays a dataset input.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image
from streamlit_drawable_canvas import st_canvas

from dlviz import registry
from dlviz.datasets import DATASETS, get_dataset
from dlviz.i18n import N_, t
from dlviz.inputs import (MAX_BYTES, MAX_PIXELS, MAX_SIDE, SUPPORTED_FORMATS, ChosenInput, EmptyInputError, InputError,
                          SampleSet, Stages, canvas_to_rgb, choice_from_url, decode_upload, model_view,
                          limit_size, sample_index_from_url)
from dlviz.ui.widgets import segmented_control, selectbox

INPUT = "dlviz.input"
DATASET = "dlviz.dataset"
CANVAS = "dlviz.canvas"
STORED_MAX_SIDE = MAX_SIDE  # uploads are decoded at most this big: enough for every view, bounded memory per session
CANVAS_PX = 280             # 10× MNIST, so a finger or mouse stroke has MNIST-like relative thickness
MAIN = "main"


def dataset_selector(label: str | None = None) -> str:
    """MNIST / Fashion-MNIST, remembered across pages and in the shareable URL (?dataset=fashion)."""
    keys = list(DATASETS)
    if DATASET not in st.session_state:
        st.session_state[DATASET] = choice_from_url(st.query_params.get("dataset"), keys, keys[0])

    def remember():
        st.session_state[DATASET] = st.session_state["dlviz.dataset.widget"]

    st.session_state["dlviz.dataset.widget"] = st.session_state[DATASET]
    choice = segmented_control(st, label or t("Dataset"), keys, format_func=lambda k: t(DATASETS[k].title),
                               key="dlviz.dataset.widget", on_change=remember, required=True,
                               fallback=st.session_state[DATASET])
    st.query_params["dataset"] = choice
    return choice


@st.cache_resource(show_spinner=False)
def cached_samples(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    return registry.load_samples(dataset)


@st.cache_resource(show_spinner=False, max_entries=16)
def _thumbnails(set_key: str, side: int, _images: np.ndarray) -> list[bytes]:
    """A sample set's images at most `side` pixels wide, as PNG files made once per server. st.image encodes every
    array it is given as a PNG on every rerun: twelve full-size 512×512 EM slices took 52 ms of each U-Net rerun."""
    thumbs = []
    for img in _images:
        buf = io.BytesIO()
        Image.fromarray(limit_size(img, side)).save(buf, format="PNG")
        thumbs.append(buf.getvalue())
    return thumbs


@dataclass(frozen=True)
class _Slot:
    """Where one picker keeps its state, and which samples it offers."""

    name: str
    dataset: str
    samples: SampleSet | None

    def key(self, part: str) -> str:
        """`dlviz.<part>` for the main slot (the keys pages and links have always used), else `dlviz.<slot>.<part>`."""
        return f"dlviz.{part}" if self.name == MAIN else f"dlviz.{self.name}.{part}"

    @property
    def writes_url(self) -> bool:
        return self.name == MAIN and self.samples is None

    @property
    def set_key(self) -> str:
        """Names the offered sample set: the dataset's own samples, or the page's SampleSet."""
        return self.dataset if self.samples is None else self.samples.key

    def images_and_labels(self) -> tuple[np.ndarray, list[str]]:
        if self.samples is not None:
            return self.samples.images, list(self.samples.labels)
        x, y = cached_samples(self.dataset)
        classes = get_dataset(self.dataset).classes
        return x, [classes[int(c)] for c in y]

    def classes(self) -> list[str]:
        if self.samples is None:
            return list(get_dataset(self.dataset).classes)
        return list(dict.fromkeys(self.samples.labels))      # in order of first appearance

    def sample(self, index: int) -> ChosenInput:
        if self.samples is not None:
            return ChosenInput.from_sample_set(self.samples, index)
        x, y = cached_samples(self.dataset)
        index = int(index) % len(x)
        label = get_dataset(self.dataset).classes[int(y[index])]
        return ChosenInput.from_sample(x[index], dataset=self.dataset, index=index, label=label)

    def holds_other_samples(self, choice: ChosenInput) -> bool:
        """True when `choice` is a sample from another set than the one offered now (e.g. the dataset changed)."""
        if choice.source != "sample":
            return False
        return (choice.sample_set or choice.dataset) != self.set_key


def _sample_input(dataset: str, index: int) -> ChosenInput:
    return _Slot(MAIN, dataset, None).sample(index)


def _set(slot: _Slot, choice: ChosenInput) -> None:
    st.session_state[slot.key("input")] = choice
    st.session_state.pop(slot.key("upload.error"), None)     # a new input answers an old refusal
    if choice.source != "draw":
        _forget_drawing(slot)
    if not slot.writes_url:
        return
    if choice.source == "sample":
        st.query_params["sample"] = str(choice.index)
    elif "sample" in st.query_params:
        del st.query_params["sample"]


def _forget_drawing(slot: _Slot) -> None:
    """Another input replaced the drawing: the Draw tab shows an empty canvas again, so it never shows a drawing
    the page no longer uses. The canvas is remounted under a new key (its only public reset)."""
    k = slot.key
    if k("canvas") not in st.session_state and k("canvas.hash") not in st.session_state:
        return
    st.session_state[k("canvas.nonce")] = st.session_state.get(k("canvas.nonce"), 0) + 1
    for part in ("canvas", "canvas.hash", "canvas.restore"):
        st.session_state.pop(k(part), None)


def _draw_tab(slot: _Slot, canvas: tuple[int, int]) -> None:
    k = slot.key
    nonce = st.session_state.setdefault(k("canvas.nonce"), 0)
    key = f"{k('canvas')}.{nonce}"
    # Restore the drawing when the canvas is (re)mounted, e.g. after a page switch; while it stays mounted
    # the restore value stays the same so the canvas is never redrawn under the user's pen.
    if key not in st.session_state:
        st.session_state[k("canvas.restore")] = st.session_state.get(k("canvas"))
    stroke = st.session_state.get(k("stroke"), 26)
    width, height = canvas
    # Above the canvas, on purpose: the canvas' own toolbar (undo, redo, clear, download) pops up 2.65rem above
    # its top edge on hover; this line gives it room there, so it no longer covers the tab labels.
    if slot.samples is None:
        st.caption(t("Draw one digit (or a garment) large, in the middle, white on black."))
    else:
        st.caption(t("Draw white on black, like the training data."))
    result = st_canvas(stroke_width=stroke, stroke_color="#FFFFFF", background_color="#000000",
                       width=width, height=height, drawing_mode="freedraw", return_image_data=True,
                       initial_drawing=st.session_state.get(k("canvas.restore")), key=key)
    cols = st.columns([3, 1], vertical_alignment="bottom")
    cols[0].slider(t("Stroke width"), 8, 40, 26, key=k("stroke"))
    if cols[1].button(t("Clear"), key=k("canvas.clear"), icon=":material/delete:"):
        st.session_state[k("canvas.nonce")] += 1
        for part in ("canvas", "canvas.hash", "canvas.restore"):
            st.session_state.pop(k(part), None)
        if st.session_state[k("input")].source == "draw":
            st.session_state[k("input")] = ChosenInput.empty_canvas()
        st.rerun()
    data = result.image_data
    if data is None:
        return
    digest = hashlib.sha1(np.ascontiguousarray(data).tobytes()).hexdigest()
    if digest == st.session_state.get(k("canvas.hash")):
        return
    st.session_state[k("canvas.hash")] = digest
    st.session_state[k("canvas")] = result.json_data
    try:
        _set(slot, ChosenInput.from_rgb(canvas_to_rgb(data), source="draw", name="your drawing"))
    except EmptyInputError:
        _set(slot, ChosenInput.empty_canvas())
    except InputError as e:         # not what our canvas sends (a crafted or broken client): say so, keep the input
        st.error(str(e))


def _uploader_key(slot: _Slot) -> str:
    """`dlviz.upload` (or `dlviz.<slot>.upload`), then `….upload.<n>` after each new file: a fresh widget key is
    Streamlit's only way to empty an uploader."""
    nonce = st.session_state.get(slot.key("upload.nonce"), 0)
    return slot.key("upload") if nonce == 0 else f"{slot.key('upload')}.{nonce}"


def _take_upload(slot: _Slot) -> None:
    """Decode a newly uploaded file before the uploader is drawn, then empty the uploader.

    A refused file is not left listed in the widget as if it were in use (its message stays above the widget
    until the next input), and an accepted one lives on only as its decoded, size-limited copy: the raw bytes
    (up to MAX_BYTES) are released by Streamlit once the widget that holds them is gone.
    """
    k = slot.key
    upload = st.session_state.get(_uploader_key(slot))
    if upload is None or st.session_state.get(k("upload.id")) == upload.file_id:
        return
    st.session_state[k("upload.id")] = upload.file_id
    st.session_state[k("upload.nonce")] = st.session_state.get(k("upload.nonce"), 0) + 1
    try:
        decoded = decode_upload(upload.getvalue(), upload.name, STORED_MAX_SIDE)
    except InputError as e:
        st.session_state[k("upload.error")] = str(e)        # the message names the file itself
        return
    _set(slot, ChosenInput.from_rgb(decoded.rgb, source="upload", name=upload.name, full_size=decoded.full_size))


def _upload_tab(slot: _Slot) -> None:
    k = slot.key
    if k("upload.error") in st.session_state:
        st.error(st.session_state[k("upload.error")] + " " + t("Your previous input is still in use."))
    st.file_uploader(
        t("Upload an image"), key=_uploader_key(slot), max_upload_size=MAX_BYTES // 2**20,   # the widget says 20MB too
        help=t("{formats}; up to {mb} MB and {mp} megapixels. Photos of a digit on paper work.",
               formats=", ".join(SUPPORTED_FORMATS), mb=MAX_BYTES // 2**20, mp=MAX_PIXELS // 10**6))
    st.caption(t("Formats: {formats} · up to {mb} MB", formats=", ".join(SUPPORTED_FORMATS), mb=MAX_BYTES // 2**20))
    current = st.session_state.get(k("input"))
    if current is not None and current.source == "upload":
        st.caption(t("In use: {what}", what=_describe(current)))


def _samples_tab(slot: _Slot) -> None:
    x, labels = slot.images_and_labels()
    labels_arr = np.asarray(labels, dtype=object)
    set_key = slot.set_key
    class_key, pos_key = slot.key(f"sample.class.{set_key}"), slot.key(f"sample.pos.{set_key}")
    options = [N_("any class"), *slot.classes()]

    def pool_of(wanted: str) -> np.ndarray:
        return np.arange(len(x)) if wanted not in options[1:] else np.flatnonzero(labels_arr == wanted)

    def on_class():
        st.session_state[pos_key] = 0
        _set(slot, slot.sample(int(pool_of(st.session_state[class_key])[0])))

    def on_pos():
        pool = pool_of(st.session_state[class_key])
        _set(slot, slot.sample(int(pool[min(st.session_state[pos_key], len(pool) - 1)])))

    def on_random():
        pool = pool_of(st.session_state[class_key])
        _set(slot, slot.sample(int(np.random.default_rng().choice(pool))))

    cols = st.columns([2, 2, 1], vertical_alignment="bottom")
    wanted = selectbox(cols[0], t("Class"), options, format_func=t, key=class_key, on_change=on_class)
    pool = pool_of(wanted)
    cols[1].number_input(t("Example (0–{last})", last=len(pool) - 1), 0, len(pool) - 1, 0, key=pos_key, on_change=on_pos)
    cols[2].button(t("Random"), key=slot.key(f"sample.random.{set_key}"), icon=":material/casino:", on_click=on_random)
    thumb = 44 if x.shape[1] <= 64 else 88
    small = _thumbnails(set_key, 2 * thumb, x)
    st.image([small[i] for i in pool[:12]], width=thumb, caption=[labels[int(i)] for i in pool[:12]])
    current = st.session_state.get(slot.key("input"))
    if current is not None and current.source == "sample":
        what = t("bundled test image") if slot.samples is None else t(slot.samples.title)
        st.caption(t("Current: {what} #{i}, labelled **{label}**.", what=what, i=current.index,
                     label=t(current.label)))


def _describe(choice: ChosenInput) -> str:
    if choice.source == "sample":
        if choice.sample_set is not None:
            return t("{name} (labelled {label})", name=choice.name, label=t(choice.label))
        return t("bundled sample #{i} (labelled {label})", i=choice.index, label=t(choice.label))
    if choice.rgb is None:
        return t("an empty canvas")
    if choice.source == "upload":
        h, w = choice.full_size or choice.rgb.shape[:2]
        return f"{choice.name} ({w}×{h})"
    return t("your drawing")


def _first_index(slot: _Slot, default_index: int) -> int:
    if slot.writes_url:
        wanted = sample_index_from_url(st.query_params.get("sample"))
        if wanted is not None:
            return wanted
    return default_index


def input_picker(dataset: str, slot: str = MAIN, canvas: tuple[int, int] = (CANVAS_PX, CANVAS_PX),
                 samples: SampleSet | None = None, default_index: int = 0) -> ChosenInput:
    """Tabs Draw / Upload / Samples; returns the slot's current input (a sample until the user acts).

    dataset: the dataset whose bundled samples are offered (unless `samples` is given);
    slot: independent inputs under their own session keys (see the module docstring);
    canvas: (width, height) of the drawing canvas in px;
    samples: a page's own SampleSet offered in the Samples tab instead of the dataset's test images;
    default_index: the sample shown before the user acts (e.g. two slots starting on different images).
    """
    s = _Slot(slot, dataset, samples)
    if s.key("input") not in st.session_state:
        _set(s, s.sample(_first_index(s, default_index)))     # also rewrites a malformed ?sample= in the URL
    current = st.session_state[s.key("input")]
    if s.holds_other_samples(current):          # dataset (or sample set) switched: same slot, other images
        _set(s, s.sample(current.index))
    _take_upload(s)          # before the tabs, so the Draw tab already knows when an upload replaced the drawing
    status = st.empty()      # filled last, so it names the input this run actually uses
    draw, upload, pick = st.tabs([":material/draw: " + t("Draw"), ":material/upload: " + t("Upload"),
                                  ":material/photo_library: " + t("Samples")])
    with draw:
        _draw_tab(s, canvas)
    with upload:
        _upload_tab(s)
    with pick:
        _samples_tab(s)
    status.markdown(t("Current input: **{what}**", what=_describe(st.session_state[s.key("input")])))
    return st.session_state[s.key("input")]


def input_with_view(dataset: str, slot: str = MAIN, canvas: tuple[int, int] = (CANVAS_PX, CANVAS_PX),
                    samples: SampleSet | None = None, default_index: int = 0):
    """The page header every page shares: the input picker on the left, the page's own output on the right.

    Returns (choice, view, right): the current input, its 28×28 model view with every stage made by `dataset`'s
    recipe (`view.note` says when the input looks unlike the training data), and the right-hand column to draw
    into. Only with nothing to show (an empty canvas, a blank image) it puts a hint there and stops the page.

    With a page's own `samples` the page does its own preprocessing from `choice.rgb` (its images need not be
    28×28 digits), so `view` is None: only the empty-canvas hint is handled here.
    """
    left, right = st.columns([5, 7], gap="large")
    with left:
        choice = input_picker(dataset, slot=slot, canvas=canvas, samples=samples, default_index=default_index)
    if samples is not None:
        if choice.rgb is None:
            right.info(t("Draw on the canvas, upload an image or pick a sample to begin."))
            st.stop()
        return choice, None, right
    try:
        view: Stages = model_view(choice, dataset)
    except InputError as e:          # an empty canvas or a blank image: a hint, not a prediction
        right.info(str(e))
        st.stop()
    if view.note:                    # a photo, a cat, a scene: still explorable, but say what the model sees
        right.warning(view.note, icon=":material/info:")
    return choice, view, right
