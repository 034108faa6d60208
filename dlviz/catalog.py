"""The pages of the app: one source of truth for their titles, icons, URLs and one-line lessons.

`app.py` builds the navigation from this list and the home page shows it, each entry with a small preview
computed from the bundled samples (numpy only, so the home page opens without loading TensorFlow).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dlviz import ops


@dataclass(frozen=True)
class PageInfo:
    file: str            # relative to the project root
    title: str
    icon: str            # Streamlit material icon
    url_path: str
    teaches: str         # one line for the home page
    preview: Callable[[np.ndarray], np.ndarray]   # (28, 28) float sample -> (h, w) float preview


def _conv_preview(x: np.ndarray) -> np.ndarray:
    return np.abs(ops.conv2d(x, ops.kernel_preset("sobel x", 3), padding="same"))


def _pool_preview(x: np.ndarray) -> np.ndarray:
    return ops.pool2d(x, 2, mode="max")


PAGES: tuple[PageInfo, ...] = (
    PageInfo("pages/convolution.py", "Convolution", ":material/filter:", "convolution",
             "What each filter of a trained CNN responds to in your drawing, and the exact sum behind any value.",
             _conv_preview),
    PageInfo("pages/pooling.py", "Pooling", ":material/grid_view:", "pooling",
             "Max, average and global pooling next to a strided convolution: what each keeps and what it throws away.",
             _pool_preview),
)
