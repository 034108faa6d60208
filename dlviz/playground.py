"""One hand-made convolution on the user's image: the convolution playground of the Convolution page.

For a colour image the kernel has one 2-D slice per channel (here the same preset in each); each channel is
convolved with its slice and the three results are added, which is exactly what a Conv2D with c_in = 3 does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlviz import ops


@dataclass(frozen=True)
class PlaygroundResult:
    per_channel: list[np.ndarray]    # one (Ho, Wo) map per input channel
    output: np.ndarray               # (Ho, Wo): the sum over channels
    formula_rows: str                # output-size formula with the user's numbers, for the height
    formula_cols: str


def convolve(x: np.ndarray, kernel: np.ndarray, stride: int, padding) -> PlaygroundResult:
    """x: (H, W) or (H, W, C) float; kernel: (k, k). Returns each channel's map and their sum."""
    channels = [x] if x.ndim == 2 else [x[..., c] for c in range(x.shape[-1])]
    per_channel = [ops.conv2d(c, kernel, stride=stride, padding=padding) for c in channels]
    k = kernel.shape[0]
    return PlaygroundResult(per_channel, np.sum(per_channel, axis=0),
                            ops.output_size_formula(x.shape[0], k, stride, padding),
                            ops.output_size_formula(x.shape[1], k, stride, padding))


def one_value(x: np.ndarray, kernel: np.ndarray, stride: int, padding, row: int, col: int) -> ops.ConvTerms:
    """The products behind output (row, col), channel by channel (the same 2-D kernel in every channel)."""
    x3 = x[..., None] if x.ndim == 2 else x
    c = x3.shape[-1]
    kernel4 = np.repeat(kernel[:, :, None, None], c, axis=2)      # (k, k, c, 1): one slice per channel
    return ops.conv2d_terms(x3, kernel4, 0.0, stride, padding, row, col, 0)
