"""Segmentation figures: a label mask over its image with a legend, TP/FP/FN maps, probabilities on hover.

Arrays in, figures out (no model here). Labels are (H, W) ints indexing `names`; colours are one per class,
`None` for a class left uncoloured (background, cell interior).
"""
from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from dlviz.figures.maps import _AXIS, _panels, _set_layout, _square_axes
from dlviz.i18n import N_, t

# Background uncoloured, then ten distinct colours for the digits 0-9 (Plotly's D3 palette).
DIGIT_COLORS: tuple[str | None, ...] = (None, "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                       "#e377c2", "#bcbd22", "#17becf", "#7f7f7f")
MEMBRANE_COLORS: tuple[str | None, ...] = ("#ff2d55", None)       # membrane red, cell interior uncoloured
OUTCOME_COLORS: tuple[str | None, ...] = (None, "#2ca02c", "#ff7f0e", "#1f77b4")   # TN, TP green, FP orange, FN blue
OUTCOME_NAMES = ("", N_("true positive"), N_("false positive (predicted, not there)"), N_("false negative (missed)"))


def _rgb(color: str) -> np.ndarray:
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], np.float32)


def blend(gray: np.ndarray, labels: np.ndarray, colors: Sequence[str | None], opacity: float) -> np.ndarray:
    """(H, W) grey in [0, 1] + (H, W) labels -> (H, W, 3) uint8: each coloured class painted with `opacity`."""
    base = np.repeat((np.clip(gray, 0, 1) * 255).astype(np.float32)[..., None], 3, axis=2)
    lut = np.zeros((len(colors), 3), np.float32)
    alpha = np.zeros(len(colors), np.float32)
    for k, c in enumerate(colors):
        if c is not None:
            lut[k], alpha[k] = _rgb(c), opacity
    a = alpha[labels][..., None]
    return np.round(base * (1 - a) + lut[labels] * a).astype(np.uint8)


def _legend(names: Sequence[str], colors: Sequence[str | None], present: Sequence[int] | None) -> list[go.Scatter]:
    """Legend-only entries (no points drawn) for the coloured classes, those in `present` if given."""
    shown = [k for k, c in enumerate(colors) if c is not None and (present is None or k in present)]
    return [go.Scatter(x=[None], y=[None], mode="markers", name=names[k], showlegend=True,
                       marker=dict(size=12, color=colors[k], symbol="square")) for k in shown]


MAX_SIDE = 384      # larger images are shown at 1/2, 1/3, ... resolution: a page column is narrower anyway


def _factor(shape, max_side: int) -> int:
    return max(1, -(-max(shape[:2]) // max_side))


def _down(img: np.ndarray, f: int, labels: bool = False) -> np.ndarray:
    """Every f-th pixel (labels: a class must stay a class) or f×f block means (grey levels, probabilities)."""
    if f == 1:
        return img
    if min(img.shape[:2]) < f:      # thinner than one block (a 1-pixel-high upload): repeat its edge to one block
        img = np.pad(img, [(0, max(0, f - img.shape[0])), (0, max(0, f - img.shape[1]))] + [(0, 0)] * (img.ndim - 2),
                     mode="edge")
    if labels:
        return img[f // 2::f, f // 2::f]
    h, w = (img.shape[0] // f) * f, (img.shape[1] // f) * f
    return img[:h, :w].reshape(h // f, f, w // f, f, *img.shape[2:]).mean(axis=(1, 3))


def _png(rgb: np.ndarray, f: int = 1) -> go.Image:
    """An RGB uint8 image as a PNG data URI (several times smaller to send than the pixel array), drawn in the
    coordinates of the full-size image when it was shown at 1/f resolution."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=1)
    return go.Image(source="data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(), hoverinfo="skip",
                    x0=(f - 1) / 2, y0=(f - 1) / 2, dx=f, dy=f)


def _hover(probs: np.ndarray | None, names: Sequence[str], labels: np.ndarray, f: int = 1) -> go.Heatmap:
    """An invisible heatmap over the image whose hover shows a pixel's class probabilities.

    With probs: every class's probability in whole percent, sent as one uint8 per class and pixel (a 64×128
    digit scene's 11 classes are 0.1 MB; per-pixel text strings were 0.4 MB and a third of the chart's build
    time). Without probs: the pixel's class name. At 1/f resolution a hover cell is an f×f block (its mean
    probabilities)."""
    h, w = labels.shape
    common = dict(opacity=0, showscale=False, colorscale=[[0, "black"], [1, "black"]], x0=(f - 1) / 2,
                  y0=(f - 1) / 2, dx=f, dy=f)
    where = "row %{y}, col %{x}" if f == 1 else f"rows/cols %{{y}}±{f // 2} , %{{x}}±{f // 2}"
    if probs is None:
        return go.Heatmap(z=np.zeros((h, w), np.uint8), text=np.asarray(names, dtype=object)[labels],
                          hovertemplate=where + "<br>%{text}<extra></extra>", **common)
    percent = np.round(probs * 100).astype(np.uint8)
    if probs.shape[-1] == 2:
        return go.Heatmap(z=percent[..., 1], customdata=percent[..., 0],
                          hovertemplate=f"{where}<br>P({names[0]}) %{{customdata}}%<br>"
                                        f"P({names[1]}) %{{z}}%<extra></extra>", **common)
    # the first class (background) on a line of its own, then five classes per line, in the legend's order
    cells = [f"{name}: %{{customdata[{k}]}}%" for k, name in enumerate(names)]
    lines = [cells[0]] + [" · ".join(cells[i:i + 5]) for i in range(1, len(cells), 5)]
    return go.Heatmap(z=labels.astype(np.uint8), customdata=percent,
                      hovertemplate="<br>".join([where, *lines]) + "<extra></extra>", **common)


_LEGEND = dict(orientation="h", yanchor="top", y=-0.02, x=0, font=dict(size=11))


def mask_overlay(gray: np.ndarray, labels: np.ndarray, names: Sequence[str], colors: Sequence[str | None],
                 opacity: float = 0.6, probs: np.ndarray | None = None, title: str = "", height: int = 360,
                 legend: bool = True, max_side: int = MAX_SIDE) -> go.Figure:
    """The image with its label mask painted on top, a legend of the classes present, and (with `probs`
    (H, W, C)) each pixel's class probabilities on hover."""
    f = _factor(gray.shape, max_side)
    small = _down(labels, f, labels=True)
    fig = go.Figure([_png(blend(_down(gray, f), small, colors, opacity), f),
                     _hover(None if probs is None else _down(probs, f), names, small, f)])
    if legend:
        fig.add_traces(_legend(names, colors, np.unique(labels).tolist()))
    return _square_axes(fig, title=title, height=height, showlegend=legend, legend=_LEGEND)


def outcome_overlay(gray: np.ndarray, outcome: np.ndarray, class_name: str, opacity: float = 0.7,
                    height: int = 360, max_side: int = MAX_SIDE) -> go.Figure:
    """TP / FP / FN of one class (outcome from `segmentation.outcome_map`: 0 TN, 1 TP, 2 FP, 3 FN) over the image."""
    f = _factor(gray.shape, max_side)
    small = _down(outcome, f, labels=True)
    # No per-pixel hover: the colours and the legend say it all, and one text per pixel (even "TP") cost more than
    # the rest of the figure (36 ms and 0.2 MB per threshold step on a 512×512 slice).
    fig = go.Figure([_png(blend(_down(gray, f), small, OUTCOME_COLORS, opacity), f),
                     *_legend([t(n) if n else n for n in OUTCOME_NAMES], OUTCOME_COLORS, None)])
    counts = np.bincount(outcome.ravel(), minlength=4)
    return _square_axes(fig, title=t("“{name}”: TP {tp}, FP {fp}, FN {fn} pixels", name=t(class_name),
                                     tp=counts[1], fp=counts[2], fn=counts[3]),
                        height=height, showlegend=True, legend=_LEGEND)


def masks_side_by_side(gray: np.ndarray, panels: Sequence[tuple[str, np.ndarray]], colors: Sequence[str | None],
                       names: Sequence[str], opacity: float = 0.6, height: int = 300,
                       max_side: int = 256) -> go.Figure:
    """Several label masks of the same image next to each other (e.g. U-Net | no skips | ground truth)."""
    f = _factor(gray.shape, max_side)
    small_gray = _down(gray, f)
    traces = [_png(blend(small_gray, _down(labels, f, labels=True), colors, opacity), f) for _, labels in panels]
    fig = _panels(traces, [t for t, _ in panels], height, gap=0.02)
    present = sorted(set().union(*(np.unique(labels).tolist() for _, labels in panels)))
    fig.add_traces(_legend(names, colors, present))
    _set_layout(fig, showlegend=True, legend=_LEGEND, xaxis=dict(_AXIS, domain=fig.layout.xaxis.domain))
    return fig


def probability_map(prob: np.ndarray, title: str = "", height: int = 360) -> go.Figure:
    """One class's probability per pixel, 0 (dark) .. 1 (bright), with the value on hover."""
    fig = go.Figure(go.Heatmap(z=prob, zmin=0, zmax=1, colorscale="Viridis", showscale=True,
                               colorbar=dict(thickness=10, len=0.8),
                               hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>"))
    return _square_axes(fig, title=title, height=height)
