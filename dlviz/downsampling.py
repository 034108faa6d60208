"""Four ways to shrink a feature map, computed side by side for the Pooling page.

All four use the same window size, stride and padding so the outputs line up cell for cell; global average
pooling is the limit case where the window is the whole map.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlviz import ops
from dlviz.i18n import N_

READINGS = {
    "max": N_("Max pooling keeps the strongest response in each window: sharp features survive, "
              "their exact position inside the window is lost."),
    "average": N_("Average pooling keeps the mean: smooth, noise is damped, but a thin strong stroke is diluted."),
    "conv": N_("A strided convolution shrinks with *learned* weights: with a box kernel it is exactly average "
               "pooling, with other weights it can keep whatever the task needs."),
    "global": N_("Global average pooling keeps one number per map: *how much* of the feature there is, "
                 "nothing about *where*."),
}


@dataclass(frozen=True)
class Downsampled:
    max: np.ndarray          # (Ho, Wo)
    average: np.ndarray      # (Ho, Wo)
    conv: np.ndarray         # (Ho, Wo): stride-s convolution with `kernel`
    global_average: float
    kernel: np.ndarray       # (size, size)


def downsample_all(x: np.ndarray, size: int, stride: int, padding: str, kernel: np.ndarray) -> Downsampled:
    """x: (H, W) float. kernel: (size, size) for the strided convolution."""
    return Downsampled(
        max=ops.pool2d(x, size, stride, padding, mode="max"),
        average=ops.pool2d(x, size, stride, padding, mode="average"),
        conv=ops.conv2d(x, kernel, stride=stride, padding=padding),
        global_average=float(ops.global_average_pool(x[..., None])[0]),
        kernel=kernel,
    )


def window_mask(shape: tuple[int, int], window: tuple[int, int, int, int]) -> np.ndarray:
    """Boolean (H, W) mask of the cells inside window = (top, left, bottom, right)."""
    mask = np.zeros(shape, dtype=bool)
    top, left, bottom, right = window
    mask[max(top, 0):bottom, max(left, 0):right] = True
    return mask


def liveliest_crop(x: np.ndarray, size: int = 6) -> tuple[int, int]:
    """(top, left) of the size×size crop whose values vary most (an edge, not a flat area), so pooling choices
    visibly differ on the numeric grid."""
    h, w = x.shape
    if h <= size or w <= size:
        return 0, 0
    box = np.ones((size, size)) / size**2
    mean = ops.conv2d(x, box, padding="valid")
    variance = ops.conv2d(x * x, box, padding="valid") - mean**2
    r, c = np.unravel_index(int(np.argmax(variance)), variance.shape)
    return int(r), int(c)
