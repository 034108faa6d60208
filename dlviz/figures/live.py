"""Figures of the live-training views (dlviz/live/): arrays from a run's snapshot in, Plotly figures out.

Redrawn several times a second, so each figure is a handful of traces with float32 arrays, long curves are
thinned to at most `POINTS` points, and figures are built from plain dicts without Plotly's validation
(`_figure`): validating costs ~8× the rest (measured in bench/live.py), and these dicts are fixed code, not input.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from dlviz.figures.gan import smooth
from dlviz.figures.latent import CLASS_COLORS
from dlviz.figures.maps import ACTIVATION, DIVERGING, HIGHLIGHT
from dlviz.i18n import t

POINTS = 400
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
REAL, FAKE, ARROW = "#2ca02c", "#9467bd", "#222222"


def _figure(data: list[dict], layout: dict) -> go.Figure:
    return go.Figure(dict(data=data, layout=layout), _validate=False)


def _f32(a) -> list:
    """Plain floats rounded to 4 decimals (NaN -> None): small JSON, no encoder surprises."""
    a = np.round(np.asarray(a, np.float64), 4)
    return np.where(np.isfinite(a), a, None).tolist()


def _thin(x: np.ndarray, y: np.ndarray, points: int = POINTS) -> tuple[list, list]:
    every = max(1, len(x) // points)
    return _f32(np.asarray(x)[::every]), _f32(np.asarray(y)[::every])


_MARGIN = dict(l=10, r=10, t=40, b=10)
_NOAXIS = dict(showticklabels=False, ticks="", showgrid=False, zeroline=False, fixedrange=True)


def curves(series: dict[str, np.ndarray], total: int, title: str = "", y_title: str = "",
           sparse: dict[str, tuple[np.ndarray, np.ndarray]] | None = None, window: int = 20,
           y_range: Sequence[float] | None = None, height: int = 260, log_y: bool = False) -> go.Figure:
    """Per-step series (raw, faint, and a `window`-step moving average) over an x axis spanning the whole run, so
    the curves grow; `sparse`: series measured now and then, {name: (steps, values)}, drawn with markers."""
    data = []
    for (name, values), color in zip(series.items(), COLORS):
        values = np.asarray(values, np.float64)
        steps = np.arange(1, len(values) + 1)
        x, y = _thin(steps, values)
        data.append(dict(type="scatter", x=x, y=y, mode="lines", line=dict(color=color, width=1), opacity=0.25,
                         showlegend=False, hoverinfo="skip"))
        x, y = _thin(steps, smooth(values, window))
        data.append(dict(type="scatter", x=x, y=y, mode="lines", name=name, line=dict(color=color, width=2)))
    for (name, (steps, values)), color in zip((sparse or {}).items(), COLORS[len(series):]):
        data.append(dict(type="scatter", x=_f32(steps), y=_f32(values), mode="lines+markers", name=name,
                         line=dict(color=color, width=2), marker=dict(size=5)))
    yaxis = dict(title=dict(text=y_title), type="log" if log_y else "linear")
    if y_range:
        yaxis["range"] = list(y_range)
    return _figure(data, dict(height=height, title=dict(text=title), margin=dict(l=10, r=10, t=40, b=30),
                              xaxis=dict(range=[0, max(total, 1)], title=dict(text=t("step (batch)"))),
                              yaxis=yaxis, legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1,
                                                       xanchor="right")))


def image(img: np.ndarray, title: str = "", height: int = 230) -> go.Figure:
    """A grayscale (H, W) image in [0, 1], row 0 on top, square pixels."""
    return _figure([dict(type="heatmap", z=_f32(img), colorscale="gray", zmin=0, zmax=1, showscale=False,
                         hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>")],
                   dict(height=height, title=dict(text=title), margin=_MARGIN, xaxis=dict(_NOAXIS, constrain="domain"),
                        yaxis=dict(_NOAXIS, autorange="reversed", scaleanchor="x"), plot_bgcolor="rgba(0,0,0,0)"))


def probabilities(probs: np.ndarray, classes: Sequence[str], height: int = 250) -> go.Figure:
    """Class probabilities, the winner highlighted; the title names it (as maps.probability_bars does)."""
    probs = np.asarray(probs, np.float64)
    best = int(probs.argmax())
    return _figure([dict(type="bar", x=list(classes), y=_f32(probs), text=[f"{100 * p:.0f}%" for p in probs],
                         textposition="outside", marker=dict(color=[HIGHLIGHT if i == best else "#7f9fbf"
                                                                    for i in range(len(probs))]),
                         hovertemplate="%{x}: %{y:.3f}<extra></extra>")],
                   dict(height=height, margin=dict(l=10, r=10, t=30, b=10), xaxis=dict(type="category"),
                        yaxis=dict(range=[0, 1.15], title=dict(text=t("probability"))),
                        title=dict(text=t("Prediction: {label} ({p:.1f}%)", label=classes[best], p=100 * probs[best]))))


def tiles(maps: np.ndarray, titles: Sequence[str] | None = None, signed: bool = False, cols: int | None = None,
          cell_px: int = 80) -> go.Figure:
    """Maps or kernels (h, w, c) as one mosaic heatmap, one tile per channel: signed (kernels, weights): red
    positive, blue negative, one range for all; else each tile stretched to its own range."""
    h, w, c = maps.shape
    cols = cols or min(c, 8)
    rows = -(-c // cols)
    gap = max(1, round(max(h, w) / 6))
    top_gap = max(2, round(max(h, w) / 3)) if titles else gap
    data = np.asarray(maps, np.float64)
    if signed:
        scaled = data / (np.abs(data).max() or 1.0)
        zmin, zmax, scale = -1.0, 1.0, DIVERGING
    else:
        lo, hi = data.min(axis=(0, 1)), data.max(axis=(0, 1))
        scaled = (data - lo) / np.where(hi > lo, hi - lo, 1.0)
        zmin, zmax, scale = 0.0, 1.0, ACTIVATION
    step_y, step_x = h + top_gap, w + gap
    mosaic = np.full((rows * step_y, cols * step_x - gap), np.nan)
    annotations = []
    for k in range(c):
        top, left = (k // cols) * step_y + top_gap, (k % cols) * step_x
        mosaic[top:top + h, left:left + w] = scaled[..., k]
        if titles:
            annotations.append(dict(x=left + (w - 1) / 2, y=top - 0.5, xref="x", yref="y", text=titles[k],
                                    showarrow=False, yanchor="bottom", font=dict(size=10, color="#444")))
    return _figure([dict(type="heatmap", z=_f32(mosaic), colorscale=scale, zmin=zmin, zmax=zmax, showscale=False,
                         hoverinfo="skip")],
                   dict(height=max(120, rows * cell_px + 30), margin=dict(l=5, r=5, t=10, b=5),
                        annotations=annotations, plot_bgcolor="rgba(0,0,0,0)",
                        xaxis=dict(_NOAXIS, constrain="domain"),
                        yaxis=dict(_NOAXIS, autorange="reversed", scaleanchor="x")))


def kernels(weights: np.ndarray, cell_px: int = 80) -> go.Figure:
    """First-layer kernels (kh, kw, n), red positive and blue negative, one colour range for all."""
    return tiles(weights, [f"#{k}" for k in range(weights.shape[-1])], signed=True, cell_px=cell_px)


def feature_maps(maps: np.ndarray, cell_px: int = 80, cols: int | None = None) -> go.Figure:
    """Feature maps (h, w, c) of the user's input, each stretched to its own range."""
    return tiles(maps, [f"#{k}" for k in range(maps.shape[-1])], cols=cols, cell_px=cell_px)


def latent_codes(codes: np.ndarray, labels: np.ndarray, classes: Sequence[str], title: str = "",
                 height: int = 440) -> go.Figure:
    """The test codes (N, 2) coloured by class; the axes follow the codes (central 99 %, square)."""
    codes = np.asarray(codes, np.float64)
    low, high = np.percentile(codes, [0.5, 99.5], axis=0)
    centre, half = (low + high) / 2, max(float((high - low).max()) / 2 * 1.1, 1e-3)
    data = []
    for c, name in enumerate(classes):
        idx = np.flatnonzero(labels == c)
        data.append(dict(type="scattergl", x=_f32(codes[idx, 0]), y=_f32(codes[idx, 1]), mode="markers",
                         name=name, marker=dict(size=5, color=CLASS_COLORS[c % 10], opacity=0.8),
                         hovertemplate=f"{name}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>"))
    return _figure(data, dict(height=height, title=dict(text=title), margin=_MARGIN, dragmode=False,
                              xaxis=dict(title=dict(text="z₁"), range=[centre[0] - half, centre[0] + half],
                                         fixedrange=True),
                              yaxis=dict(title=dict(text="z₂"), range=[centre[1] - half, centre[1] + half],
                                         fixedrange=True, scaleanchor="x"),
                              legend=dict(itemsizing="constant", font=dict(size=11))))


def gan_field(axis: np.ndarray, surface: np.ndarray, real: np.ndarray, fake: np.ndarray, arrows: np.ndarray,
              title: str = "", critic: bool = False, modes: np.ndarray | None = None, height: int = 430,
              arrow_length: float = 0.35) -> go.Figure:
    """GAN Lab's picture: the discriminator's P(real) (or the critic's score) as a heatmap over the plane, real
    points (green), generated points (purple), and for the first len(arrows) generated points the direction the
    generator's loss pushes them (arrows scaled so the longest is `arrow_length`)."""
    if critic:
        mid = float(np.median(surface))
        bound = float(np.abs(surface - mid).max()) or 1.0
        heat = dict(zmid=mid, zmin=mid - bound, zmax=mid + bound, colorbar=dict(title=dict(text=t("critic")),
                                                                                thickness=10, len=0.6),
                    hovertemplate="(%{x:.2f}, %{y:.2f}): %{z:.2f}<extra></extra>")
    else:
        heat = dict(zmin=0, zmax=1, zmid=0.5, colorbar=dict(title=dict(text=t("P(real)")), thickness=10, len=0.6),
                    hovertemplate="(%{x:.2f}, %{y:.2f}): P(real) %{z:.2f}<extra></extra>")
    data = [dict(type="heatmap", x=_f32(axis), y=_f32(axis), z=_f32(surface), colorscale=DIVERGING, opacity=0.75,
                 **heat),
            dict(type="scattergl", x=_f32(real[:, 0]), y=_f32(real[:, 1]), mode="markers", name=t("real"),
                 marker=dict(size=4, color=REAL, opacity=0.6), hoverinfo="skip"),
            dict(type="scattergl", x=_f32(fake[:, 0]), y=_f32(fake[:, 1]), mode="markers", name=t("generated"),
                 marker=dict(size=4, color=FAKE, opacity=0.8), hoverinfo="skip")]
    if len(arrows):
        norms = np.linalg.norm(arrows, axis=1)
        scale = arrow_length / max(float(norms.max()), 1e-12)
        start = fake[:len(arrows)]
        end = start + arrows * scale
        seg = np.full((len(arrows) * 3, 2), np.nan)
        seg[0::3], seg[1::3] = start, end
        data.append(dict(type="scatter", x=_f32(seg[:, 0]), y=_f32(seg[:, 1]), mode="lines",
                         name=t("generator's gradient"), line=dict(color=ARROW, width=1.2), hoverinfo="skip"))
        data.append(dict(type="scatter", x=_f32(end[:, 0]), y=_f32(end[:, 1]), mode="markers", showlegend=False,
                         hoverinfo="skip", marker=dict(size=4, color=ARROW)))
    if modes is not None:
        data.append(dict(type="scatter", x=_f32(modes[:, 0]), y=_f32(modes[:, 1]), mode="markers", name=t("modes"),
                         hoverinfo="skip", marker=dict(size=14, symbol="circle-open", color=REAL,
                                                       line=dict(width=2))))
    lim = float(axis[-1])
    return _figure(data, dict(height=height, title=dict(text=title), margin=_MARGIN, dragmode=False,
                              xaxis=dict(range=[-lim, lim], fixedrange=True, showgrid=False, zeroline=False),
                              yaxis=dict(range=[-lim, lim], fixedrange=True, showgrid=False, zeroline=False,
                                         scaleanchor="x"),
                              legend=dict(orientation="h", yanchor="top", y=-0.02, x=0, font=dict(size=11))))


def modes_over_time(steps: np.ndarray, counts: dict[str, np.ndarray], total_modes: int, total_steps: int,
                    height: int = 240) -> go.Figure:
    """Modes covered (of `total_modes`) against the step, one line per model."""
    data = [dict(type="scatter", x=_f32(steps), y=_f32(v), mode="lines", name=name,
                 line=dict(color=color, width=2, shape="hv")) for (name, v), color in zip(counts.items(), COLORS)]
    return _figure(data, dict(height=height, title=dict(text=t("Modes covered (of {k})", k=total_modes)),
                              margin=dict(l=10, r=10, t=40, b=30),
                              xaxis=dict(range=[0, max(total_steps, 1)], title=dict(text=t("generator step"))),
                              yaxis=dict(range=[-0.3, total_modes + 0.5], dtick=max(1, total_modes // 8)),
                              legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right")))
