"""Figures of the GAN page: sample grids, latent walks, score histograms, loss curves, class histograms.

Arrays in, figures out; nothing here runs a model. A grid of N 28×28 images is one mosaic heatmap (one trace is
much faster to build and to draw than N), with a transparent scatter on the tile centres when tiles are clickable.
"""
from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from dlviz.figures.maps import _AXIS, selected_customdata
from dlviz.i18n import t

HEALTHY, COLLAPSED, USER = "#1f77b4", "#d62728", "#ff7f0e"
REAL, FAKE = "#2ca02c", "#9467bd"


def mosaic(images: np.ndarray, cols: int, gap: int = 2, fill: float = np.nan) -> np.ndarray:
    """(N, h, w) -> one (rows·(h+gap)-gap, cols·(w+gap)-gap) image, tiles row by row; gaps and empty tiles are
    `fill` (NaN: drawn transparent, so tiles stand apart on the page background)."""
    n, h, w = images.shape
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), fill, dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = img
    return out


def png_source(image01: np.ndarray) -> str:
    """(H, W) in [0, 1], NaN = transparent -> a PNG data URI (a few kB for digits: much less to send and draw than
    a heatmap's numbers)."""
    gray = np.round(np.nan_to_num(image01, nan=0.0).clip(0, 1) * 255).astype(np.uint8)
    alpha = np.where(np.isnan(image01), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.stack([gray, alpha], axis=-1), "LA").save(buf, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def sample_grid(images: np.ndarray, cols: int = 8, title: str = "", selected: int | None = None,
                clickable: bool = False, height: int | None = None, labels: Sequence[str] | None = None,
                gap: int = 2) -> go.Figure:
    """images: (N, 28, 28) in [0, 1] (or uint8) as one picture, `cols` per row. `selected` tile outlined;
    `clickable` tiles carry customdata [index] so `on_select` reports which one was clicked; `labels` are printed
    above the tiles. Built in one `go.Figure(data, layout)` call from plain dicts (figure updates cost ms each)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    n, h, w = images.shape
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    big = mosaic(images, cols, gap)
    data = [dict(type="image", source=png_source(big), x0=0, y0=0, dx=1, dy=1, hoverinfo="skip")]
    centres_r = [(i // cols) * (h + gap) + h / 2 - 0.5 for i in range(n)]
    centres_c = [(i % cols) * (w + gap) + w / 2 - 0.5 for i in range(n)]
    if clickable:
        data.append(dict(type="scatter", x=centres_c, y=centres_r, mode="markers", showlegend=False,
                         marker=dict(size=max(10, min(40, 600 // max(cols, rows))), opacity=0, symbol="square"),
                         customdata=[[i] for i in range(n)], hovertemplate="sample %{customdata[0]}<extra></extra>"))
    shapes = []
    if selected is not None and 0 <= selected < n:
        r, c = divmod(selected, cols)
        shapes.append(dict(type="rect", x0=c * (w + gap) - 1, x1=c * (w + gap) + w, y0=r * (h + gap) - 1,
                           y1=r * (h + gap) + h, line=dict(color=USER, width=3)))
    annotations = []
    if labels is not None:
        annotations = [dict(x=cx, y=cr - h / 2 - 0.5, text=str(t), showarrow=False, font=dict(size=11),
                            xanchor="center", yanchor="bottom") for cx, cr, t in zip(centres_c, centres_r, labels)]
    top = 40 if title else (24 if labels is not None else 10)
    layout = dict(title=dict(text=title) if title else None, height=height or max(140, min(620, rows * 70 + 50)),
                  margin=dict(l=10, r=10, t=top, b=10), plot_bgcolor="rgba(0,0,0,0)", shapes=shapes,
                  annotations=annotations, dragmode=False,
                  xaxis=dict(_AXIS, range=[-0.5, big.shape[1] - 0.5]),
                  yaxis=dict(_AXIS, range=[big.shape[0] - 0.5, -0.5 - (4 if labels is not None else 0)],
                             scaleanchor="x"))
    if clickable:
        layout["clickmode"] = "event+select"
    return go.Figure(data, {k: v for k, v in layout.items() if v is not None})


def image_strip(images: np.ndarray, titles: Sequence[str], title: str = "", height: int = 170) -> go.Figure:
    """A row of (N, 28, 28) images with a short title over each (an interpolation path, a sample and its nearest
    neighbours)."""
    images = np.asarray(images, np.float32)
    if images.max() > 1.5:
        images = images / 255.0
    return sample_grid(images, cols=len(images), gap=3, height=height, labels=titles, title=title)


def score_histogram(real: np.ndarray, fake: np.ndarray, user: float | None, score_name: str,
                    user_label: str = "your input", height: int = 320) -> go.Figure:
    """Histograms of the discriminator's scores for real test images and for generated images, and a line at the
    user's input's score."""
    lo = float(min(real.min(), fake.min(), user if user is not None else np.inf))
    hi = float(max(real.max(), fake.max(), user if user is not None else -np.inf))
    bins = dict(start=lo, end=hi + 1e-9, size=(hi - lo) / 40 or 1.0)
    data = [dict(type="histogram", x=real, name=t("real test images ({n})", n=len(real)), marker=dict(color=REAL),
                 opacity=0.6, xbins=bins, histnorm="percent"),
            dict(type="histogram", x=fake, name=t("generated images ({n})", n=len(fake)), marker=dict(color=FAKE),
                 opacity=0.6, xbins=bins, histnorm="percent")]
    layout = dict(barmode="overlay", height=height, margin=dict(l=10, r=10, t=40, b=40),
                  xaxis=dict(title=dict(text=score_name)), yaxis=dict(title=dict(text=t("% of images"))),
                  legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    if user is not None:
        layout["shapes"] = [dict(type="line", x0=user, x1=user, y0=0, y1=1, yref="paper",
                                 line=dict(color=USER, width=3))]
        layout["annotations"] = [dict(x=user, y=1, yref="paper", text=f"{user_label}: {user:.2f}", showarrow=False,
                                      xanchor="left", yanchor="top", font=dict(color=USER))]
    return go.Figure(data, layout)


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
                height: int = 280, window: int = 50, points: int = 500) -> go.Figure:
    """Each loss per step up to step `upto` (raw, faint, and a `window`-step moving average); the x axis always
    spans the whole run so the curves grow as the slider moves. At most ~`points` points per trace."""
    keep = steps <= upto
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    every = max(1, int(np.count_nonzero(keep)) // points)
    x = steps[keep][::every]
    data = []
    for (name, values), color in zip(series.items(), colors):
        y = np.asarray(values)[keep]
        data.append(dict(type="scatter", x=x, y=y[::every], mode="lines", line=dict(color=color, width=1),
                         opacity=0.25, showlegend=False, hoverinfo="skip"))
        data.append(dict(type="scatter", x=x, y=smooth(y, window)[::every], mode="lines", name=name,
                         line=dict(color=color, width=2)))
    layout = dict(height=height, margin=dict(l=10, r=10, t=40 if title else 25, b=30),
                  xaxis=dict(range=[0, total], title=dict(text="generator step")),
                  legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"))
    if title:
        layout["title"] = dict(text=title)
    return go.Figure(data, layout)


def class_histogram(shares: np.ndarray, classes: Sequence[str], reference: np.ndarray | None = None,
                    title: str = "", color: str = HEALTHY, floor: float = 0.05, height: int = 300) -> go.Figure:
    """Share of samples per class as judged by the CNN, with the real test set's shares as markers and a line at
    `floor` (5 %): classes below it are (nearly) never generated."""
    shares = np.asarray(shares, np.float64)
    data = [dict(type="bar", x=list(classes), y=shares * 100, name=t("generated"), marker=dict(color=color),
                 text=[f"{s:.0%}" for s in shares], textposition="outside", cliponaxis=False)]
    if reference is not None:
        data.append(dict(type="scatter", x=list(classes), y=np.asarray(reference) * 100, mode="markers",
                         name=t("real test set"),
                         marker=dict(symbol="line-ew-open", size=26, color="black", line=dict(width=2))))
    layout = dict(title=dict(text=title), height=height, margin=dict(l=10, r=10, t=50, b=30),
                  yaxis=dict(range=[0, max(float(shares.max()) * 100 * 1.2, 20)], title=dict(text=t("% of samples"))),
                  xaxis=dict(type="category"), bargap=0.25,
                  legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"),
                  shapes=[dict(type="line", x0=0, x1=1, xref="paper", y0=floor * 100, y1=floor * 100,
                               line=dict(color="gray", dash="dot"))],
                  annotations=[dict(x=1, xref="paper", y=floor * 100, text=f"{floor:.0%}", showarrow=False,
                                    xanchor="right", yanchor="bottom", font=dict(color="gray"))])
    return go.Figure(data, layout)


def clicked_tile(event) -> int | None:
    """The tile index a Streamlit plotly selection on a clickable `sample_grid` points at, or None."""
    data = selected_customdata(event, 1)
    return None if data is None else int(data[0])
