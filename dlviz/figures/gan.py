"""Figures of the GAN page: sample grids, latent walks, score histograms, loss curves, class histograms.

Arrays in, figures out; nothing here runs a model. A grid of N 28×28 images is one mosaic heatmap (one trace is
much faster to build and to draw than N), with a transparent scatter on the tile centres when tiles are clickable.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from dlviz.figures.maps import _square_axes

HEALTHY, COLLAPSED, USER = "#1f77b4", "#d62728", "#ff7f0e"
REAL, FAKE = "#2ca02c", "#9467bd"


def mosaic(images: np.ndarray, cols: int, gap: int = 2, fill: float = 0.15) -> np.ndarray:
    """(N, h, w) -> one (rows·(h+gap)-gap, cols·(w+gap)-gap) image, tiles row by row, gaps filled with `fill`."""
    n, h, w = images.shape
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), fill, dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = img
    return out


def sample_grid(images: np.ndarray, cols: int = 8, title: str = "", selected: int | None = None,
                clickable: bool = False, height: int | None = None, labels: Sequence[str] | None = None,
                gap: int = 2) -> go.Figure:
    """images: (N, 28, 28) in [0, 1] (or uint8). `selected` tile outlined; `clickable` tiles carry customdata
    [index] so `on_select` reports which one was clicked; `labels` are printed under... on top of each tile."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    n, h, w = images.shape
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    big = mosaic(images, cols, gap)
    fig = go.Figure(go.Heatmap(z=big, colorscale="gray", zmin=0, zmax=1, showscale=False, hoverinfo="skip"))
    centres_r = [(i // cols) * (h + gap) + h / 2 - 0.5 for i in range(n)]
    centres_c = [(i % cols) * (w + gap) + w / 2 - 0.5 for i in range(n)]
    if clickable:
        fig.add_trace(go.Scatter(x=centres_c, y=centres_r, mode="markers", showlegend=False,
                                 marker=dict(size=max(10, min(40, 600 // max(cols, rows))), opacity=0, symbol="square"),
                                 customdata=[[i] for i in range(n)],
                                 hovertemplate="sample %{customdata[0]}<extra></extra>"))
    shapes = []
    if selected is not None and 0 <= selected < n:
        r, c = divmod(selected, cols)
        shapes.append(dict(type="rect", x0=c * (w + gap) - 1, x1=c * (w + gap) + w, y0=r * (h + gap) - 1,
                           y1=r * (h + gap) + h, line=dict(color=USER, width=3)))
    annotations = []
    if labels is not None:
        annotations = [dict(x=cx, y=cr - h / 2 + 2, text=str(t), showarrow=False, font=dict(size=10, color="#ffd54f"),
                            xanchor="center", yanchor="top") for cx, cr, t in zip(centres_c, centres_r, labels)]
    height = height or max(140, min(620, rows * 70 + 50))
    return _square_axes(fig, title=title, height=height, shapes=shapes, annotations=annotations,
                        clickmode="event+select" if clickable else None, dragmode=False)


def image_strip(images: np.ndarray, titles: Sequence[str], title: str = "", height: int = 170) -> go.Figure:
    """A row of (N, 28, 28) images with a short title over each (an interpolation path, a sample and its nearest
    neighbours)."""
    images = np.asarray(images, np.float32)
    if images.max() > 1.5:
        images = images / 255.0
    n, h, w = images.shape
    gap = 3
    fig = sample_grid(images, cols=n, gap=gap, height=height)
    fig.update_layout(title=title, margin=dict(l=5, r=5, t=60 if title else 30, b=5), annotations=[
        dict(x=i * (w + gap) + w / 2 - 0.5, y=-1, text=t, showarrow=False, yanchor="bottom", font=dict(size=11))
        for i, t in enumerate(titles)])
    return fig


def score_histogram(real: np.ndarray, fake: np.ndarray, user: float | None, score_name: str,
                    user_label: str = "your input", height: int = 320) -> go.Figure:
    """Histograms of the discriminator's scores for real test images and for generated images, and a line at the
    user's input's score."""
    lo = float(min(real.min(), fake.min(), user if user is not None else np.inf))
    hi = float(max(real.max(), fake.max(), user if user is not None else -np.inf))
    bins = dict(start=lo, end=hi + 1e-9, size=(hi - lo) / 40 or 1.0)
    fig = go.Figure([
        go.Histogram(x=real, name=f"real test images ({len(real)})", marker_color=REAL, opacity=0.6, xbins=bins,
                     histnorm="percent"),
        go.Histogram(x=fake, name=f"generated images ({len(fake)})", marker_color=FAKE, opacity=0.6, xbins=bins,
                     histnorm="percent"),
    ])
    if user is not None:
        fig.add_vline(x=user, line=dict(color=USER, width=3),
                      annotation=dict(text=f"{user_label}: {user:.2f}", font=dict(color=USER)))
    fig.update_layout(barmode="overlay", height=height, margin=dict(l=10, r=10, t=40, b=40),
                      xaxis_title=score_name, yaxis_title="% of images",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Moving average over `window` steps (shorter at the start), same length as `values`."""
    values = np.asarray(values, np.float64)
    if window <= 1 or len(values) == 0:
        return values
    c = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    return (c[idx] - c[start]) / (idx - start)


def loss_curves(steps: np.ndarray, series: dict[str, np.ndarray], upto: int, total: int, title: str = "",
                height: int = 280, window: int = 50) -> go.Figure:
    """Each loss per step up to step `upto` (raw, faint, and a `window`-step moving average); the x axis always
    spans the whole run so the curve grows as the slider moves."""
    keep = steps <= upto
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    traces = []
    for (name, values), color in zip(series.items(), colors):
        x, y = steps[keep], np.asarray(values)[keep]
        every = max(1, len(x) // 600)                     # at most ~600 raw points: the browser stays quick
        traces.append(go.Scattergl(x=x[::every], y=y[::every], mode="lines", line=dict(color=color, width=1),
                                   opacity=0.25, showlegend=False, hoverinfo="skip"))
        sm = smooth(y, window)
        traces.append(go.Scattergl(x=x[::every], y=sm[::every], mode="lines", name=name,
                                   line=dict(color=color, width=2)))
    fig = go.Figure(traces)
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=30),
                      xaxis=dict(range=[0, total], title="generator step"),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"))
    return fig


def class_histogram(shares: np.ndarray, classes: Sequence[str], reference: np.ndarray | None = None,
                    title: str = "", color: str = HEALTHY, floor: float = 0.05, height: int = 300) -> go.Figure:
    """Share of samples per class as judged by the CNN, with the real test set's shares as markers and a line at
    `floor` (5 %): classes below it are (nearly) never generated."""
    shares = np.asarray(shares, np.float64)
    bars = go.Bar(x=list(classes), y=shares * 100, name="generated", marker_color=color,
                  text=[f"{s:.0%}" for s in shares], textposition="outside", cliponaxis=False)
    traces = [bars]
    if reference is not None:
        traces.append(go.Scatter(x=list(classes), y=np.asarray(reference) * 100, mode="markers", name="real test set",
                                 marker=dict(symbol="line-ew-open", size=26, color="black", line=dict(width=2))))
    fig = go.Figure(traces)
    fig.add_hline(y=floor * 100, line=dict(color="gray", dash="dot"),
                  annotation=dict(text=f"{floor:.0%}", font=dict(color="gray")))
    top = max(float(shares.max()) * 100 * 1.2, 20)
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=30), yaxis_title="% of samples",
                      yaxis=dict(range=[0, top]), xaxis=dict(type="category"),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"), bargap=0.25)
    return fig


def clicked_tile(event) -> int | None:
    """The tile index a Streamlit plotly selection on a clickable `sample_grid` points at, or None."""
    try:
        points = event.selection.points
    except AttributeError:
        return None
    for point in points:
        data = point.get("customdata")
        if isinstance(data, dict):          # a typed array from the browser arrives as {"0": ...}
            data = [data.get("0")]
        if data and data[0] is not None:
            return int(data[0])
    return None
