"""The user's input made to fit any image model: its size, its channels and the value range it was trained on.

    adapted = adapt(choice, (32, 32, 3), scaling="[-1, 1]", recipe="whole image")
    adapted.x        # (32, 32, 3) float32 in [-1, 1]: what the model is given
    adapted.display  # (32, 32, 3) float32 in [0, 1]: the same picture, for figures

Two ways to get there:
* a dataset recipe ("mnist", "fashion"): the 28×28 view made exactly as for the shipped models (ink found,
  cropped, centred), then resized to the model's size: for models trained on MNIST-like data at other sizes;
* "whole image": the picture itself, centre-cropped to the model's aspect ratio and resized: for photos,
  CIFAR-like data, anything else.

Only numpy and Pillow; no streamlit, no keras.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from dlviz.i18n import t
from dlviz.inputs.choice import EMPTY_HINT, ChosenInput, model_view
from dlviz.inputs.decoding import EmptyInputError, InputError

SCALINGS = ("[0, 1]", "[-1, 1]", "0–255")
RECIPES = ("mnist", "fashion", "whole image")


@dataclass(frozen=True, eq=False)
class Adapted:
    """x: (H, W, C) float32 in the model's scaling; display: (H, W) or (H, W, 3) float32 in [0, 1]."""

    x: np.ndarray
    display: np.ndarray
    recipe: str
    scaling: str
    note: str | None = None        # the dataset recipe's remark when the input looks unlike its training data


def scale(image01: np.ndarray, scaling: str) -> np.ndarray:
    """[0, 1] values -> the model's range: "[0, 1]", "[-1, 1]" or "0–255"."""
    if scaling not in SCALINGS:
        raise ValueError(f"unknown scaling {scaling!r}; one of {SCALINGS}")
    x = image01.astype(np.float32)
    if scaling == SCALINGS[1]:
        return x * np.float32(2.0) - np.float32(1.0)
    if scaling == SCALINGS[2]:
        return x * np.float32(255.0)
    return x


def unscale(x: np.ndarray, scaling: str) -> np.ndarray:
    """The inverse of `scale`: model values -> [0, 1] (clipped), for display."""
    x = np.asarray(x, np.float32)
    if scaling == SCALINGS[1]:
        x = (x + 1.0) / 2.0
    elif scaling == SCALINGS[2]:
        x = x / 255.0
    return np.clip(x, 0.0, 1.0)


def resize(image01: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w) or (h, w, 3) float in [0, 1] -> (height, width[, 3]) float32, antialiased (Pillow, per channel)."""
    if image01.shape[:2] == (height, width):
        return image01.astype(np.float32)
    planes = image01[..., None] if image01.ndim == 2 else image01
    out = np.stack([np.asarray(Image.fromarray(planes[..., i].astype(np.float32), mode="F")
                               .resize((width, height), Image.Resampling.BILINEAR if max(planes.shape[:2]) <
                                       max(height, width) else Image.Resampling.BOX))
                    for i in range(planes.shape[2])], axis=-1)
    out = np.clip(out, 0.0, 1.0)
    return out[..., 0] if image01.ndim == 2 else out


def centre_crop(rgb: np.ndarray, aspect: float) -> np.ndarray:
    """The largest centred crop of `rgb` with width / height = aspect."""
    h, w = rgb.shape[:2]
    if w / h > aspect:
        new_w = max(1, round(h * aspect))
        left = (w - new_w) // 2
        return rgb[:, left:left + new_w]
    new_h = max(1, round(w / aspect))
    top = (h - new_h) // 2
    return rgb[top:top + new_h]


def adapt(choice: ChosenInput, shape: tuple[int, int, int], scaling: str = "[0, 1]",
          recipe: str = "mnist") -> Adapted:
    """`choice` as the input of a model taking `shape` = (H, W, C) with C 1 or 3 (see the module docstring)."""
    if choice.rgb is None:
        raise EmptyInputError(t(EMPTY_HINT))
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; one of {RECIPES}")
    h, w, c = (int(v) for v in shape)
    note = None
    if recipe == "whole image":
        crop = centre_crop(choice.rgb, w / h).astype(np.float32) / np.float32(255.0)
        colour = resize(crop, h, w)
        grey = colour @ np.array([0.299, 0.587, 0.114], np.float32)
    else:
        view = model_view(choice, recipe)
        note = view.note
        grey = resize(view.image, h, w)
        colour = np.repeat(grey[..., None], 3, axis=-1)
    display = grey if c == 1 else colour
    x = display[..., None] if c == 1 else display
    return Adapted(scale(x, scaling), display.astype(np.float32), recipe, scaling, note)


def view_28(choice: ChosenInput, dataset: str) -> np.ndarray:
    """The 28×28 view of `dataset`'s recipe (for views that need the shipped models' input), blank if none."""
    try:
        return model_view(choice, dataset).image
    except InputError:
        return np.zeros((28, 28), np.float32)
