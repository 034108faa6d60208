"""The user's current choice: what was drawn, uploaded or picked, and the model view made from it.

`ChosenInput` is what every page starts from (the picker in `dlviz.ui.input_picker` keeps one per slot in the
session); `SampleSet` is a page's own bundled examples; `model_view` turns a choice into the 28×28 input of a
dataset's model with every stage (`dlviz.inputs.preprocessing`).

Only numpy is used; this module must not import streamlit or keras.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlviz.i18n import N_, t
from dlviz.inputs.decoding import EmptyInputError
from dlviz.inputs.preprocessing import Stages, preprocess

__all__ = ["EMPTY_HINT", "ChosenInput", "SampleSet", "model_view", "sample_index_from_url", "choice_from_url"]

MAX_URL_INDEX = 10**9          # a sample index from a link: more digits than this is not a sample number


def sample_index_from_url(value) -> int | None:
    """`?sample=` of a shared link -> a sample index >= 0, or None for anything else.

    Links are typed and edited by people: only plain ASCII digits count ("²" and "٣" are digits to
    `str.isdigit` but not to `int`), at most nine of them; anything else is ignored, never an exception.
    """
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not (0 < len(text) <= 9 and text.isascii() and text.isdigit()):
        return None
    return int(text)


def choice_from_url(value, options, default):
    """`?dataset=` (or any other enumerated URL parameter) -> one of `options`, else `default`."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return value if isinstance(value, str) and value in options else default


EMPTY_HINT = N_("Draw a digit on the canvas, upload an image or pick a sample to begin.")   # shown through t()


@dataclass(frozen=True, eq=False)
class SampleSet:
    """A page's own bundled examples, offered in the picker's Samples tab instead of the dataset's test images.

    key: unique name of the set (stored in every ChosenInput picked from it, so the page can find it again);
    title: shown to users ("EM slice", "three digits", ...); images: (N, H, W) uint8 grey, any H×W (one size for
    the whole set); labels: N strings, one per image (the Samples tab offers them as classes); masks: optional
    (N, H, W) array belonging to the images (e.g. segmentation targets), looked up by `ChosenInput.index`.
    Arrays are stored read-only (sets are shared between sessions).
    """

    key: str
    title: str
    images: np.ndarray
    labels: tuple[str, ...]
    masks: np.ndarray | None = None

    def __post_init__(self):
        images = _read_only(self.images)
        if images.dtype != np.uint8 or images.ndim != 3 or 0 in images.shape:
            raise ValueError(f"SampleSet {self.key!r}: images must be (N, H, W) uint8 with N, H, W >= 1, "
                             f"got {images.dtype} {images.shape}")
        labels = tuple(str(label) for label in self.labels)
        if len(labels) != len(images):
            raise ValueError(f"SampleSet {self.key!r}: {len(images)} images but {len(labels)} labels")
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)
        if self.masks is not None:
            masks = _read_only(self.masks)
            if masks.shape[0] != len(images):
                raise ValueError(f"SampleSet {self.key!r}: {len(images)} images but {masks.shape[0]} masks")
            object.__setattr__(self, "masks", masks)

    def __len__(self) -> int:
        return len(self.images)


def _read_only(a: np.ndarray) -> np.ndarray:
    """`a` itself when already read-only, else a read-only copy (never a view others could still write through)."""
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.copy()
        a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class ChosenInput:
    """What the user picked, whichever way: every page starts from one of these.

    source: "draw", "upload" or "sample"; rgb: (H, W, 3) uint8 (None for an empty canvas);
    sample_image: (28, 28) uint8 for the dataset's bundled samples, which are already in MNIST form;
    sample_set: the `SampleSet.key` a page-provided sample came from (its mask: `set.masks[index]`).
    """

    source: str
    name: str
    rgb: np.ndarray | None
    dataset: str | None = None
    index: int | None = None
    label: str | None = None
    full_size: tuple[int, int] | None = None   # (H, W) before `limit_size`, for uploads
    sample_image: np.ndarray | None = None
    sample_set: str | None = None

    @classmethod
    def from_rgb(cls, rgb: np.ndarray, source: str, name: str,
                 full_size: tuple[int, int] | None = None) -> "ChosenInput":
        return cls(source, name, rgb, full_size=full_size or tuple(rgb.shape[:2]))

    @classmethod
    def from_sample(cls, x: np.ndarray, dataset: str, index: int, label: str) -> "ChosenInput":
        """x: (28, 28) uint8 white on black, straight from the bundled test set."""
        return cls("sample", f"{dataset} test image #{index}", np.repeat(x[:, :, None], 3, axis=2),
                   dataset=dataset, index=index, label=label, sample_image=x)

    @classmethod
    def from_sample_set(cls, samples: SampleSet, index: int) -> "ChosenInput":
        """Image `index` (taken modulo the set's size) of a page's own sample set; rgb is (H, W, 3) uint8."""
        index = int(index) % len(samples)
        x = samples.images[index]
        return cls("sample", f"{samples.title} #{index}", np.repeat(x[:, :, None], 3, axis=2),
                   index=index, label=samples.labels[index], sample_set=samples.key)

    @classmethod
    def empty_canvas(cls) -> "ChosenInput":
        return cls("draw", "your drawing", None)


def model_view(choice: ChosenInput, dataset: str | None = None) -> Stages:
    """The 28×28 model input of `choice` with every stage, made by `dataset`'s recipe (see `preprocess`).

    Bundled dataset samples are used exactly as stored (they are already in their dataset's form; `dataset`
    defaults to theirs); drawings, uploads and page samples go through the recipe (default "mnist").
    An empty canvas raises EmptyInputError with `EMPTY_HINT`.
    """
    if choice.rgb is None:
        raise EmptyInputError(t(EMPTY_HINT))
    dataset = dataset or choice.dataset or "mnist"
    if choice.sample_image is None:
        return preprocess(choice.rgb, dataset)
    x = choice.sample_image.astype(np.float32) / np.float32(255.0)
    ys, xs = np.nonzero(x > 0)
    bbox = (int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1) if len(ys) else (0, 0, 28, 28)
    crop = x[bbox[0]:bbox[2], bbox[1]:bbox[3]]
    return Stages(original=choice.rgb, gray=x, inverted=False, ink=x, bbox=bbox, cropped=crop, fitted=crop,
                  image=x, shift=(0.0, 0.0), dataset=choice.dataset or dataset)
