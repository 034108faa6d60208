"""Reference maths for the layers of a small CNN, written with numpy only.

This module is meant to be read by students.  Every function follows the
conventions of TensorFlow / Keras so that its results can be compared number
for number with a real model:

* Images are *channels last*: ``(H, W)`` for a single channel or ``(H, W, C)``.
* Kernels are ``(kh, kw)`` or ``(kh, kw, C_in, C_out)`` (the Keras layout).
* "Convolution" is really **cross-correlation** (the kernel is not flipped),
  exactly like ``tf.nn.conv2d`` and ``keras.layers.Conv2D``.
* ``padding`` is one of

  - ``"valid"``: no padding, the kernel only visits positions where it fits;
    ``out = ⌊(n − k) / s⌋ + 1``.
  - ``"same"`` (TensorFlow's rule): ``out = ⌈n / s⌉`` and the total padding is
    ``max((out − 1)·s + k − n, 0)``.  When that total is odd, the extra pixel
    goes at the END (bottom / right).
  - an ``int`` ``p``: ``p`` zeros on every side; ``out = ⌊(n + 2p − k) / s⌋ + 1``.

Coordinates of windows are always ``(top, left, bottom, right)`` with
``bottom`` and ``right`` **exclusive**, like Python slices.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dlviz.i18n import N_

__all__ = [
    "output_size",
    "output_size_formula",
    "pad_amounts",
    "pad2d",
    "conv2d",
    "conv2d_reference",
    "ConvTerms",
    "conv2d_terms",
    "pool2d",
    "PoolSource",
    "pool_sources",
    "global_average_pool",
    "relu",
    "conv_params",
    "conv_params_formula",
    "conv_macs",
    "dense_params",
    "dense_params_formula",
    "dense_macs",
    "LayerGeometry",
    "receptive_field",
    "receptive_field_size",
    "receptive_field_jump",
    "KERNEL_PRESETS",
    "kernel_preset",
    "parse_kernel",
]


# ---------------------------------------------------------------------------
# Small validation helpers
# ---------------------------------------------------------------------------

def _positive_int(value, what: str) -> int:
    """Return ``value`` as a Python int, refusing bools, floats and values < 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    return int(value)


def _pair(value, what: str) -> tuple[int, int]:
    """An int ``v`` or a pair ``(v_rows, v_cols)`` -> ``(v_rows, v_cols)``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
        return _positive_int(value[0], what), _positive_int(value[1], what)
    v = _positive_int(value, what)
    return v, v


def _check_padding(padding):
    """Normalise ``padding`` to ``"valid"``, ``"same"`` or a non-negative int."""
    if isinstance(padding, str):
        p = padding.strip().lower()
        if p in ("valid", "same"):
            return p
        raise ValueError(f"padding must be 'valid', 'same' or an int >= 0, got {padding!r}")
    if isinstance(padding, (bool, np.bool_)) or not isinstance(padding, (int, np.integer)):
        raise ValueError(f"padding must be 'valid', 'same' or an int >= 0, got {padding!r}")
    if padding < 0:
        raise ValueError(f"padding must not be negative, got {padding}")
    return int(padding)


def _as_hwc(x) -> np.ndarray:
    """``(H, W)`` -> ``(H, W, 1)``; ``(H, W, C)`` unchanged."""
    x = np.asarray(x)
    if x.ndim == 2:
        return x[:, :, None]
    if x.ndim == 3:
        return x
    raise ValueError(f"expected an image of shape (H, W) or (H, W, C), got shape {x.shape}")


def _as_kernel4(kernel, c_in: int) -> np.ndarray:
    """Return the kernel in Keras layout ``(kh, kw, C_in, C_out)``.

    A 2-D kernel ``(kh, kw)`` on a 1-channel input is ``(kh, kw, 1, 1)``.
    A 2-D kernel on a ``C``-channel input is applied to every channel on its
    own (like filtering each colour of a photo); this is written as a
    ``(kh, kw, C, C)`` kernel that is zero off the channel diagonal, so the
    ordinary formula below still applies.
    """
    kernel = np.asarray(kernel)
    if kernel.ndim == 2:
        kh, kw = kernel.shape
        k4 = np.zeros((kh, kw, c_in, c_in), dtype=kernel.dtype)
        for c in range(c_in):
            k4[:, :, c, c] = kernel
        return k4
    if kernel.ndim == 4:
        if kernel.shape[2] != c_in:
            raise ValueError(
                f"kernel expects {kernel.shape[2]} input channels but the image has {c_in}"
            )
        return kernel
    raise ValueError(
        f"kernel must have shape (kh, kw) or (kh, kw, C_in, C_out), got shape {kernel.shape}"
    )


def _float_dtype(*arrays) -> np.dtype:
    """float32 for float32/integer images, float64 if anything is float64."""
    return np.result_type(*[np.asarray(a).dtype for a in arrays], np.float32)


# ---------------------------------------------------------------------------
# Output sizes and padding
# ---------------------------------------------------------------------------

def output_size(n: int, k: int, stride: int = 1, padding="valid") -> int:
    """Length of the output along one axis.

    n: input length, k: kernel (or pool window) length, stride: step.
    valid: ⌊(n − k)/s⌋ + 1 · same: ⌈n/s⌉ · int p: ⌊(n + 2p − k)/s⌋ + 1.
    Raises ValueError when the kernel does not fit even once.
    """
    n = _positive_int(n, "input size")
    k = _positive_int(k, "kernel size")
    s = _positive_int(stride, "stride")
    padding = _check_padding(padding)
    if padding == "same":
        return -(-n // s)  # ceil(n / s) with integers only
    p = 0 if padding == "valid" else padding
    if k > n + 2 * p:
        raise ValueError(
            f"a kernel of size {k} does not fit in an input of size {n}"
            + (f" padded by {p} on each side" if p else " without padding")
        )
    return (n + 2 * p - k) // s + 1


def output_size_formula(n, k, stride, padding) -> str:
    """The output-size formula with the numbers filled in.

    Examples: ``"⌊(28 − 3) / 2⌋ + 1 = 13"`` (valid), ``"⌈28 / 2⌉ = 14"`` (same),
    ``"⌊(28 + 2·1 − 3) / 2⌋ + 1 = 14"`` (padding 1).
    """
    out = output_size(n, k, stride, padding)
    padding = _check_padding(padding)
    n, k, s = int(n), int(k), int(stride)
    if padding == "same":
        return f"⌈{n} / {s}⌉ = {out}"
    if padding == "valid":
        return f"⌊({n} − {k}) / {s}⌋ + 1 = {out}"
    return f"⌊({n} + 2·{padding} − {k}) / {s}⌋ + 1 = {out}"


def pad_amounts(n: int, k: int, stride: int, padding) -> tuple[int, int]:
    """Zeros added ``(before, after)`` along one axis.

    For "same" the total is ``max((⌈n/s⌉ − 1)·s + k − n, 0)``; ``before`` gets
    the smaller half, so an odd pixel goes at the end (TensorFlow's rule).
    """
    padding = _check_padding(padding)
    if padding == "valid":
        output_size(n, k, stride, padding)  # validates the arguments
        return 0, 0
    if padding == "same":
        out = output_size(n, k, stride, padding)
        total = max((out - 1) * int(stride) + int(k) - int(n), 0)
        before = total // 2
        return before, total - before
    output_size(n, k, stride, padding)
    return padding, padding


def pad2d(x, k, stride, padding, value=0.0):
    """Pad the two spatial axes of ``x`` the way a conv/pool layer would.

    x: (H, W) or (H, W, C); k, stride: int or (rows, cols).
    Returns ``(padded, (top, bottom), (left, right))`` where ``padded`` has
    shape (H + top + bottom, W + left + right[, C]) and the new cells hold
    ``value`` (0 for convolution, −inf for max pooling).
    """
    x = np.asarray(x)
    if x.ndim not in (2, 3):
        raise ValueError(f"expected an image of shape (H, W) or (H, W, C), got shape {x.shape}")
    kh, kw = _pair(k, "kernel size")
    sh, sw = _pair(stride, "stride")
    top, bottom = pad_amounts(x.shape[0], kh, sh, padding)
    left, right = pad_amounts(x.shape[1], kw, sw, padding)
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (x.ndim - 2)
    if not np.isfinite(value) and not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)  # integers cannot hold -inf
    padded = np.pad(x, widths, mode="constant", constant_values=value)
    return padded, (top, bottom), (left, right)


# ---------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------

def _bias_vector(bias, c_out: int) -> np.ndarray:
    if bias is None:
        return np.zeros(c_out)
    b = np.asarray(bias, dtype=np.float64)
    if b.ndim == 0:
        return np.full(c_out, float(b))
    if b.shape != (c_out,):
        raise ValueError(f"bias must be a scalar or have shape ({c_out},), got shape {b.shape}")
    return b


def conv2d(x, kernel, bias=None, stride=1, padding="valid") -> np.ndarray:
    """2-D cross-correlation, like ``tf.nn.conv2d`` (plus an optional bias).

    x: (H, W) or (H, W, C_in).
    kernel: (kh, kw, C_in, C_out), or (kh, kw) which is applied to every input
        channel separately (output has C_in channels).
    bias: None, a scalar, or (C_out,).
    stride: int or (rows, cols); padding: "valid", "same" or int.
    Returns (Ho, Wo, C_out), or (Ho, Wo) if both ``x`` and ``kernel`` are 2-D.

    out[i, j, o] = bias[o] + Σ_{a, b, c} xpad[i·s + a, j·s + b, c] · kernel[a, b, c, o]
    (see ``conv2d_reference`` for the same formula written as loops).
    """
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    both_2d = x.ndim == 2 and kernel.ndim == 2
    x3 = _as_hwc(x)
    if kernel.ndim != 2:
        _as_kernel4(kernel, x3.shape[2])  # checks the shape against the image
    kh, kw = kernel.shape[:2]
    c_out = x3.shape[2] if kernel.ndim == 2 else kernel.shape[3]
    sh, sw = _pair(stride, "stride")
    dtype = _float_dtype(x3, kernel)
    ho = output_size(x3.shape[0], kh, sh, padding)
    wo = output_size(x3.shape[1], kw, sw, padding)

    xp, _, _ = pad2d(x3.astype(dtype, copy=False), (kh, kw), (sh, sw), padding)
    # windows[i, j, c, a, b] = xp[i·s + a, j·s + b, c]  (a view, no copy)
    windows = sliding_window_view(xp, (kh, kw), axis=(0, 1))
    windows = windows[: (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw]
    kernel = kernel.astype(dtype, copy=False)
    if kernel.ndim == 2:
        # The same (kh, kw) filter on each channel: add over (a, b) only.
        out = np.einsum("ijcab,ab->ijc", windows, kernel, optimize=True)
    else:
        # Multiply each window by each filter and add over (a, b, c).
        out = np.einsum("ijcab,abco->ijo", windows, kernel, optimize=True)
    if bias is not None:
        out = out + _bias_vector(bias, c_out).astype(dtype)
    return out[:, :, 0] if both_2d else out


def conv2d_reference(x, kernel, bias=None, stride=1, padding="valid") -> np.ndarray:
    """Same result as ``conv2d``, written as plain loops (slow; for reading)."""
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    both_2d = x.ndim == 2 and kernel.ndim == 2
    x3 = _as_hwc(x)
    k4 = _as_kernel4(kernel, x3.shape[2]).astype(np.float64)
    kh, kw, c_in, c_out = k4.shape
    sh, sw = _pair(stride, "stride")
    xp, _, _ = pad2d(x3.astype(np.float64), (kh, kw), (sh, sw), padding)
    ho = output_size(x3.shape[0], kh, sh, padding)
    wo = output_size(x3.shape[1], kw, sw, padding)
    b = _bias_vector(bias, c_out)
    out = np.zeros((ho, wo, c_out))
    for i in range(ho):                  # every output row
        for j in range(wo):              # every output column
            for o in range(c_out):       # every filter
                total = 0.0
                for a in range(kh):      # every kernel row
                    for bb in range(kw):  # every kernel column
                        for c in range(c_in):  # every input channel
                            total += xp[i * sh + a, j * sw + bb, c] * k4[a, bb, c, o]
                out[i, j, o] = total + b[o]
    return out[:, :, 0] if both_2d else out


@dataclass(frozen=True, eq=False)
class ConvTerms:
    """The arithmetic behind one output value of a convolution.

    patch: (kh, kw, C_in) input values under the kernel (0 where in the padding).
    weights: (kh, kw, C_in) the filter for ``out_channel``.
    products: (kh, kw, C_in) ``patch * weights``.
    channel_sums: (C_in,) products summed per input channel.
    total: sum of all products.  bias: the filter's bias.
    value: ``total + bias`` (before any activation).
    window: (top, left, bottom, right) of the kernel in UNPADDED input
        coordinates, bottom/right exclusive; may stick out of the image.
    """

    patch: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    channel_sums: np.ndarray
    total: float
    bias: float
    value: float
    window: tuple[int, int, int, int]
    row: int = 0
    col: int = 0
    out_channel: int = 0


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64) + 0.0  # own copy; "+ 0.0" turns -0.0 into 0.0 for display
    a.setflags(write=False)
    return a


def conv2d_terms(x, kernel, bias, stride, padding, row, col, out_channel=0) -> ConvTerms:
    """Everything needed to show how output ``(row, col, out_channel)`` is computed.

    Arguments are those of ``conv2d``; the numbers are in float64 so that the
    displayed sum is exact up to rounding.  ``value`` equals
    ``conv2d(x, kernel, bias, stride, padding)[row, col, out_channel]``.
    """
    x3 = _as_hwc(x)
    k4 = _as_kernel4(kernel, x3.shape[2])
    kh, kw, _, c_out = k4.shape
    sh, sw = _pair(stride, "stride")
    ho = output_size(x3.shape[0], kh, sh, padding)
    wo = output_size(x3.shape[1], kw, sw, padding)
    row, col, out_channel = int(row), int(col), int(out_channel)
    if not (0 <= row < ho and 0 <= col < wo):
        raise ValueError(f"output cell ({row}, {col}) is outside the {ho}x{wo} output")
    if not 0 <= out_channel < c_out:
        raise ValueError(f"out_channel {out_channel} is outside 0..{c_out - 1}")

    xp, (top_pad, _), (left_pad, _) = pad2d(x3.astype(np.float64), (kh, kw), (sh, sw), padding)
    r0, c0 = row * sh, col * sw  # top-left corner in the padded image
    patch = xp[r0 : r0 + kh, c0 : c0 + kw, :]
    weights = k4[:, :, :, out_channel].astype(np.float64)
    products = patch * weights
    total = float(products.sum())
    b = float(_bias_vector(bias, c_out)[out_channel])
    top, left = r0 - top_pad, c0 - left_pad
    return ConvTerms(
        patch=_readonly(patch),
        weights=_readonly(weights),
        products=_readonly(products),
        channel_sums=_readonly(products.sum(axis=(0, 1))),
        total=total,
        bias=b,
        value=total + b,
        window=(top, left, top + kh, left + kw),
        row=row,
        col=col,
        out_channel=out_channel,
    )


# ---------------------------------------------------------------------------
# Pooling and activations
# ---------------------------------------------------------------------------

def _pool_geometry(x3, size, stride, padding):
    ph, pw = _pair(size, "pool size")
    sh, sw = _pair(size if stride is None else stride, "stride")
    padding = _check_padding(padding)
    if isinstance(padding, int) and padding >= min(ph, pw):
        raise ValueError(f"pooling padding ({padding}) must be smaller than the window ({ph}x{pw})")
    ho = output_size(x3.shape[0], ph, sh, padding)
    wo = output_size(x3.shape[1], pw, sw, padding)
    return (ph, pw), (sh, sw), padding, ho, wo


def pool2d(x, size, stride=None, padding="valid", mode="max") -> np.ndarray:
    """Max or average pooling, like Keras ``MaxPooling2D`` / ``AveragePooling2D``.

    x: (H, W) or (H, W, C); size, stride: int or (rows, cols), stride defaults
    to size; mode: "max" or "average" ("avg"/"mean" accepted).
    Returns (Ho, Wo, C) or (Ho, Wo).  Padded cells never count: max pads with
    −inf, average divides by the number of REAL cells in each window.
    """
    x = np.asarray(x)
    mode = _check_mode(mode)
    x3 = _as_hwc(x)
    (ph, pw), (sh, sw), padding, ho, wo = _pool_geometry(x3, size, stride, padding)
    xf = x3.astype(_float_dtype(x3), copy=False)

    def windows(a):  # (Ho, Wo, C, ph, pw) view
        w = sliding_window_view(a, (ph, pw), axis=(0, 1))
        return w[: (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw]

    if mode == "max":
        xp, _, _ = pad2d(xf, (ph, pw), (sh, sw), padding, value=-np.inf)
        out = windows(xp).max(axis=(3, 4))
    else:
        xp, _, _ = pad2d(xf, (ph, pw), (sh, sw), padding, value=0.0)
        real, _, _ = pad2d(np.ones(x3.shape[:2] + (1,), dtype=xf.dtype), (ph, pw), (sh, sw), padding)
        out = windows(xp).sum(axis=(3, 4)) / windows(real).sum(axis=(3, 4))
    return out[:, :, 0] if x.ndim == 2 else out


def _check_mode(mode: str) -> str:
    m = str(mode).strip().lower()
    if m == "max":
        return "max"
    if m in ("average", "avg", "mean"):
        return "average"
    raise ValueError(f"mode must be 'max' or 'average', got {mode!r}")


@dataclass(frozen=True)
class PoolSource:
    """Where one pooled value comes from.

    row, col: the output cell.  window: (top, left, bottom, right) of the
    input cells it looks at, clipped to the image, bottom/right exclusive.
    winner: (r, c) of the max (first in row-major order) or None for average.
    value: the pooled value.
    """

    row: int
    col: int
    window: tuple[int, int, int, int]
    winner: tuple[int, int] | None
    value: float


def pool_sources(x2d, size, stride=None, padding="valid", mode="max") -> list[PoolSource]:
    """For every output cell of ``pool2d(x2d, ...)``, in row-major order, a
    ``PoolSource`` with its input window and (for max) the winning cell.

    x2d: (H, W), a single channel.
    """
    x2d = np.asarray(x2d, dtype=np.float64)
    if x2d.ndim != 2:
        raise ValueError(f"pool_sources needs a single channel (H, W), got shape {x2d.shape}")
    mode = _check_mode(mode)
    H, W = x2d.shape
    (ph, pw), (sh, sw), padding, ho, wo = _pool_geometry(x2d[:, :, None], size, stride, padding)
    top_pad, _ = pad_amounts(H, ph, sh, padding)
    left_pad, _ = pad_amounts(W, pw, sw, padding)
    sources = []
    for i in range(ho):
        for j in range(wo):
            top = max(i * sh - top_pad, 0)
            bottom = min(i * sh - top_pad + ph, H)
            left = max(j * sw - left_pad, 0)
            right = min(j * sw - left_pad + pw, W)
            cells = x2d[top:bottom, left:right]
            if mode == "max":
                r, c = np.unravel_index(np.argmax(cells), cells.shape)  # first max
                winner = (top + int(r), left + int(c))
                value = float(cells[r, c])
            else:
                winner = None
                value = float(cells.mean())
            sources.append(PoolSource(i, j, (top, left, bottom, right), winner, value))
    return sources


def global_average_pool(x) -> np.ndarray:
    """(H, W, C) -> (C,): the mean of each channel, like ``GlobalAveragePooling2D``."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"expected shape (H, W, C), got shape {x.shape}")
    return x.mean(axis=(0, 1))


def relu(x):
    """max(x, 0), element-wise."""
    return np.maximum(x, 0)


# ---------------------------------------------------------------------------
# Parameter and operation counts
# ---------------------------------------------------------------------------

def conv_params(kh, kw, c_in, c_out, bias=True) -> int:
    """Trainable numbers in a Conv2D layer: kh·kw·C_in·C_out weights (+ C_out biases)."""
    return int(kh) * int(kw) * int(c_in) * int(c_out) + (int(c_out) if bias else 0)


def conv_params_formula(kh, kw, c_in, c_out, bias=True) -> str:
    """E.g. ``"3·3·1·16 + 16 = 160"``."""
    text = f"{kh}·{kw}·{c_in}·{c_out}"
    if bias:
        text += f" + {c_out}"
    return f"{text} = {conv_params(kh, kw, c_in, c_out, bias)}"


def conv_macs(h_out, w_out, kh, kw, c_in, c_out) -> int:
    """Multiply-accumulates of a Conv2D layer: one per weight per output position."""
    return int(h_out) * int(w_out) * int(kh) * int(kw) * int(c_in) * int(c_out)


def dense_params(n_in, n_out, bias=True) -> int:
    """Trainable numbers in a Dense layer: n_in·n_out weights (+ n_out biases)."""
    return int(n_in) * int(n_out) + (int(n_out) if bias else 0)


def dense_params_formula(n_in, n_out, bias=True) -> str:
    """E.g. ``"3136·128 + 128 = 401536"``."""
    text = f"{n_in}·{n_out}"
    if bias:
        text += f" + {n_out}"
    return f"{text} = {dense_params(n_in, n_out, bias)}"


def dense_macs(n_in, n_out) -> int:
    """Multiply-accumulates of a Dense layer: n_in·n_out."""
    return int(n_in) * int(n_out)


# ---------------------------------------------------------------------------
# Receptive field
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerGeometry:
    """The spatial shape of a conv or pooling layer: kernel and stride (an int, or a pair (rows, cols) for
    non-square ones, like Keras' ``kernel_size=(3, 1)``), and padding."""

    kernel: int | tuple[int, int]
    stride: int | tuple[int, int]
    padding: str | int
    name: str = ""

    def along(self, axis: int) -> tuple[int, int]:
        """(kernel, stride) along ``axis`` (0 = rows, 1 = columns)."""
        return _pair(self.kernel, "kernel")[axis], _pair(self.stride, "stride")[axis]


def receptive_field(layers, row: int, col: int, input_shape) -> tuple[int, int, int, int]:
    """Input region that can influence output ``(row, col)`` of the LAST layer.

    layers: list of LayerGeometry, first layer first.  input_shape: (H, W).
    Returns (top, left, bottom, right), bottom/right exclusive, clipped to the
    input.  Works backwards: output cells a..b of a layer read input cells
    a·s − pad_before .. b·s − pad_before + k − 1, and padding cells (which
    depend on nothing) are clipped away.  If a stride exceeds its kernel some
    cells inside the box are skipped; the box is their bounding box.
    With no layers the region is the single cell itself; a cell that only sees
    padding gets an empty region (bottom == top, right == left).
    """
    sizes = [(int(input_shape[0]), int(input_shape[1]))]
    for layer in layers:
        h, w = sizes[-1]
        (kh, sh), (kw, sw) = layer.along(0), layer.along(1)
        sizes.append((output_size(h, kh, sh, layer.padding), output_size(w, kw, sw, layer.padding)))
    ho, wo = sizes[-1]
    if not (0 <= row < ho and 0 <= col < wo):
        raise ValueError(f"output cell ({row}, {col}) is outside the {ho}x{wo} output")

    def back(first: int, last: int, axis: int) -> tuple[int, int]:
        # first..last inclusive, in the coordinates of the current layer's output
        for layer, size in zip(reversed(layers), reversed(sizes[:-1])):
            n = size[axis]
            k, s = layer.along(axis)
            before, _ = pad_amounts(n, k, s, layer.padding)
            first = max(first * s - before, 0)
            last = min(last * s - before + k - 1, n - 1)
            if first > last:  # the window lies entirely in the padding
                return first, first
        return first, last + 1

    top, bottom = back(int(row), int(row), 0)
    left, right = back(int(col), int(col), 1)
    return top, left, bottom, right


def receptive_field_size(layers, axis: int = 0) -> int:
    """Side of the receptive field of one output cell along ``axis`` (0 = rows, 1 = columns), ignoring image
    borders.

    r = 1 + Σ_l (k_l − 1) · (s_1 · … · s_{l−1})
    """
    size, jump = 1, 1
    for layer in layers:
        k, s = layer.along(axis)
        size += (k - 1) * jump
        jump *= s
    return size


def receptive_field_jump(layers, axis: int = 0) -> int:
    """Distance in input pixels between the receptive fields of neighbouring
    output cells along ``axis`` (the product of the strides; also called the effective stride)."""
    jump = 1
    for layer in layers:
        jump *= layer.along(axis)[1]
    return jump


# ---------------------------------------------------------------------------
# Kernel presets and user-typed kernels
# ---------------------------------------------------------------------------

KERNEL_PRESETS = (      # names are ids; pages show them through t() (N_ puts them in the catalogs)
    N_("identity"),
    N_("box blur"),
    N_("gaussian"),
    N_("sharpen"),
    N_("sobel x"),
    N_("sobel y"),
    N_("laplacian"),
    N_("emboss"),
)

_CLASSIC_LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64)


def _binomial(n: int) -> np.ndarray:
    """Row n of Pascal's triangle as a length n+1 array, e.g. 2 -> [1, 2, 1]."""
    return np.array([math.comb(n, i) for i in range(n + 1)], dtype=np.float64)


def kernel_preset(name: str, size: int = 3) -> np.ndarray:
    """A classic image filter as a (size, size) float32 array; size odd, 1..7.

    identity:  1 at the centre, 0 elsewhere (output = input).
    box blur:  every weight 1/size² (average of the window).
    gaussian:  outer product of binomial coefficients (e.g. 1 2 1), normalised to sum 1.
    sharpen:   2·identity − box blur (the input plus its difference from the blur).
    sobel x:   smoothing [1 2 1] down × derivative [−1 0 1] across; > 0 where it gets brighter
               to the right.  Bigger sizes: binomial smoothing × binomial-smoothed [−1 0 1].
    sobel y:   the transpose of sobel x; > 0 where it gets brighter downwards.
    laplacian: [[0 1 0] [1 −4 1] [0 1 0]] (neighbours minus centre); bigger sizes smooth it
               with a binomial blur (a "Laplacian of Gaussian"); always sums to 0.
    emboss:    weight = row offset + column offset from the centre, 1 at the centre;
               at 3 it is [[−2 −1 0] [−1 1 1] [0 1 2]]; sums to 1.
    For size 1 the derivative filters (sobel, laplacian) are [[0]]: one pixel has no slope.
    """
    key = str(name).strip().lower()
    if key not in KERNEL_PRESETS:
        raise ValueError(f"unknown kernel preset {name!r}; choose one of {', '.join(KERNEL_PRESETS)}")
    k = _positive_int(size, "kernel size")
    if k % 2 == 0 or k > 7:
        raise ValueError(f"kernel size must be odd and between 1 and 7, got {k}")
    c = k // 2
    identity = np.zeros((k, k))
    identity[c, c] = 1.0
    box = np.full((k, k), 1.0 / (k * k))

    if key == "identity":
        kern = identity
    elif key == "box blur":
        kern = box
    elif key == "gaussian":
        g = np.outer(_binomial(k - 1), _binomial(k - 1))
        kern = g / g.sum()
    elif key == "sharpen":
        kern = 2 * identity - box
    elif key in ("sobel x", "sobel y"):
        if k == 1:
            kern = np.zeros((1, 1))
        else:
            smooth = _binomial(k - 1)                                # e.g. [1, 2, 1]
            deriv = np.convolve(_binomial(k - 3), [-1.0, 0.0, 1.0])  # e.g. [-1, 0, 1]
            kern = np.outer(smooth, deriv)  # rows smooth, columns differentiate
            if key == "sobel y":
                kern = kern.T
    elif key == "laplacian":
        if k == 1:
            kern = np.zeros((1, 1))
        else:
            blur = np.outer(_binomial(k - 3), _binomial(k - 3))
            kern = _convolve_full(_CLASSIC_LAPLACIAN, blur)
    else:  # emboss
        offsets = np.arange(k) - c
        kern = offsets[:, None] + offsets[None, :]
        kern = kern.astype(np.float64)
        kern[c, c] = 1.0
    return np.asarray(kern, dtype=np.float32)


def _convolve_full(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Full 2-D convolution of two small arrays (output size a + b − 1)."""
    out = np.zeros((a.shape[0] + b.shape[0] - 1, a.shape[1] + b.shape[1] - 1))
    for i in range(b.shape[0]):
        for j in range(b.shape[1]):
            out[i : i + a.shape[0], j : j + a.shape[1]] += b[i, j] * a
    return out


_NUMBER_SEPARATORS = re.compile(r"[\s,]+")
# A number as people type it: 3, -0.5, .25, 1e-2, 2.5E+3, or a fraction of two such numbers (1/9, -1/16). The
# exponent has at most 3 digits, so nothing typed can make Python build a gigantic exact fraction.
_DECIMAL = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?"
_NUMBER = re.compile(rf"{_DECIMAL}(?:/{_DECIMAL})?")
MAX_KERNEL_TEXT = 2000          # characters: a 7×7 kernel of long decimals fits many times over
MAX_KERNEL_VALUE = 1e6          # |weight|: far beyond any useful kernel, far below float32's limit


def _kernel_number(token: str, row: int) -> float:
    problem = (f"row {row}: cannot read {token[:20]!r} as a number "
               "(use integers, decimals like 0.5 or fractions like 1/9)")
    if len(token) > 40 or not _NUMBER.fullmatch(token):
        raise ValueError(problem)
    try:
        value = float(Fraction(token))
    except ZeroDivisionError:
        raise ValueError(f"row {row}: {token!r} divides by zero") from None
    except ValueError:
        raise ValueError(problem) from None
    except OverflowError:                      # beyond float64: certainly too large
        value = math.inf
    if not math.isfinite(value) or abs(value) > MAX_KERNEL_VALUE:
        raise ValueError(f"row {row}: {token[:20]!r} is too large; kernel weights must lie between "
                         f"-{MAX_KERNEL_VALUE:g} and {MAX_KERNEL_VALUE:g}")
    return value


def parse_kernel(text: str) -> np.ndarray:
    """Read a kernel typed by a user.

    Rows are separated by new lines or ';', numbers by spaces or commas.
    Numbers may be integers, decimals (0.25, 1e-2) or fractions (1/9, -1/16);
    square brackets as in ``[[1, 2, 1], [2, 4, 2], [1, 2, 1]]`` are accepted.
    The kernel must be square with an odd size from 1 to 7, every weight at most
    ``MAX_KERNEL_VALUE`` in size, the text at most ``MAX_KERNEL_TEXT`` characters.
    Returns a (k, k) float32 array; raises ValueError with the reason otherwise
    (never anything else, whatever the text).
    """
    if not isinstance(text, str):
        raise ValueError("the kernel must be given as text")
    if len(text) > MAX_KERNEL_TEXT:
        raise ValueError(f"the kernel text is too long ({len(text)} characters; at most {MAX_KERNEL_TEXT})")
    cleaned = text.replace("−", "-").replace("[", " ").replace("]", ";")
    cleaned = re.sub(r"\s*/\s*", "/", cleaned)
    rows = []
    for line in re.split(r"[;\n\r]+", cleaned):
        tokens = [t for t in _NUMBER_SEPARATORS.split(line) if t]
        if not tokens:
            continue  # blank line or trailing ';'
        if len(rows) >= 7 or len(tokens) > 7:
            raise ValueError("the kernel can be at most 7x7")
        rows.append([_kernel_number(token, len(rows) + 1) for token in tokens])
    if not rows:
        raise ValueError("the kernel is empty: type one row of numbers per line")
    for i, values in enumerate(rows[1:], start=2):
        if len(values) != len(rows[0]):
            raise ValueError(
                f"row {i} has {len(values)} numbers but row 1 has {len(rows[0])}; "
                "all rows must have the same length"
            )
    n_rows, n_cols = len(rows), len(rows[0])
    if n_rows != n_cols:
        raise ValueError(f"the kernel must be square, got {n_rows} rows of {n_cols} numbers")
    if n_rows % 2 == 0:
        raise ValueError(f"the kernel size must be odd (1, 3, 5 or 7) so it has a centre, got {n_rows}x{n_cols}")
    if n_rows > 7:
        raise ValueError(f"the kernel can be at most 7x7, got {n_rows}x{n_cols}")
    return np.array(rows, dtype=np.float32)


def shrink_for_display(img: np.ndarray, max_side: int) -> np.ndarray:
    """Block-average an image (H, W[, 3]) so its longer side is at most about `max_side` pixels (display only: block
    means, not the exact arithmetic)."""
    f = math.ceil(max(img.shape[:2]) / max_side)
    if f <= 1:
        return img
    h, w = (img.shape[0] // f) * f, (img.shape[1] // f) * f
    blocks = img[:h, :w].reshape(h // f, f, w // f, f, *img.shape[2:]).astype(np.float32).mean(axis=(1, 3))
    return blocks.astype(img.dtype) if img.dtype == np.uint8 else blocks
