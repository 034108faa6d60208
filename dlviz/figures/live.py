"""Figures of the live-training views (dlviz/live/): arrays from a run's snapshot in, Plotly figures out.

Redrawn several times a second, so each figure is a handful of traces with float32 arrays, and long curves are
thinned to at most `POINTS` points.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from dlviz.figures.gan import smooth
from dlviz.figures.latent import CLASS_COLORS
from dlviz.figures.maps import DIVERGING, map_grid
from dlviz.i18n import t

POINTS = 400
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
REAL, FAKE, ARROW = "#2ca02c", "#9467bd", "#222222"


def _thin(x: np.ndarray, y: np.ndarray, points: int = POINTS) -> tuple[np.ndarray, np.ndarray]:
    every = max(1, len(x) // points)
    return np.asarray(x[::every], np.float32), np.asarray(y[::every], np.float32)


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
        data.append(go.Scatter(x=x, y=y, mode="lines", line=dict(color=color, width=1), opacity=0.25,
                               showlegend=False, hoverinfo="skip"))
        x, y = _thin(steps, smooth(values, window))
        data.append(go.Scatter(x=x, y=y, mode="lines", name=name, line=dict(color=color, width=2)))
    for (name, (steps, values)), color in zip((sparse or {}).items(), COLORS[len(series):]):
        data.append(go.Scatter(x=np.asarray(steps, np.float32), y=np.asarray(values, np.float32),
                               mode="lines+markers", name=name, line=dict(color=color, width=2),
                               marker=dict(size=5)))
    fig = go.Figure(data)
    fig.update_layout(height=height, title=title, margin=dict(l=10, r=10, t=40 if title else 20, b=30),
                      xaxis=dict(range=[0, max(total, 1)], title=t("step (batch)")),
                      yaxis=dict(title=y_title, range=list(y_range) if y_range else None,
                                 type="log" if log_y else "linear"),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"))
    return fig


def kernels(weights: np.ndarray, title_of=lambda k: f"#{k}", cell_px: int = 80) -> go.Figure:
    """First-layer kernels (kh, kw, n), red positive and blue negative, one colour range for all."""
    return map_grid(weights, titles=[title_of(k) for k in range(weights.shape[-1])], zmid=0.0,
                    colorscale=DIVERGING, clickable=False, cell_px=cell_px)


def feature_maps(maps: np.ndarray, cell_px: int = 80, cols: int | None = None) -> go.Figure:
    """Feature maps (h, w, c) of the user's input, each stretched to its own range."""
    return map_grid(maps, clickable=False, cell_px=cell_px, cols=cols)


def latent_codes(codes: np.ndarray, labels: np.ndarray, classes: Sequence[str], title: str = "",
                 height: int = 440) -> go.Figure:
    """The test codes (N, 2) coloured by class; the axes follow the codes (central 99 %, square)."""
    codes = np.asarray(codes, np.float32)
    low, high = np.percentile(codes, [0.5, 99.5], axis=0)
    centre, half = (low + high) / 2, max(float((high - low).max()) / 2 * 1.1, 1e-3)
    data = []
    for c, name in enumerate(classes):
        idx = np.flatnonzero(labels == c)
        data.append(go.Scattergl(x=codes[idx, 0], y=codes[idx, 1], mode="markers", name=name,
                                 marker=dict(size=5, color=CLASS_COLORS[c % 10], opacity=0.8),
                                 hovertemplate=f"{name}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>"))
    fig = go.Figure(data)
    fig.update_layout(height=height, title=title, margin=dict(l=10, r=10, t=40, b=10), dragmode=False,
                      xaxis=dict(title="z₁", range=[centre[0] - half, centre[0] + half], fixedrange=True),
                      yaxis=dict(title="z₂", range=[centre[1] - half, centre[1] + half], fixedrange=True,
                                 scaleanchor="x"),
                      legend=dict(itemsizing="constant", font=dict(size=11)))
    return fig


def gan_field(axis: np.ndarray, surface: np.ndarray, real: np.ndarray, fake: np.ndarray, arrows: np.ndarray,
              title: str = "", critic: bool = False, modes: np.ndarray | None = None, height: int = 430,
              arrow_length: float = 0.35) -> go.Figure:
    """GAN Lab's picture: the discriminator's P(real) (or the critic's score) as a heatmap over the plane, real
    points (green), generated points (purple), and for the first len(arrows) generated points the direction the
    generator's loss pushes them (arrows scaled so the longest is `arrow_length`)."""
    if critic:
        bound = float(np.abs(surface - np.median(surface)).max()) or 1.0
        heat = go.Heatmap(x=axis, y=axis, z=surface, colorscale=DIVERGING, zmid=float(np.median(surface)),
                          zmin=float(np.median(surface)) - bound, zmax=float(np.median(surface)) + bound,
                          colorbar=dict(title=t("critic"), thickness=10, len=0.6), opacity=0.75,
                          hovertemplate="(%{x:.2f}, %{y:.2f}): %{z:.2f}<extra></extra>")
    else:
        heat = go.Heatmap(x=axis, y=axis, z=surface, colorscale=DIVERGING, zmin=0, zmax=1, zmid=0.5,
                          colorbar=dict(title=t("P(real)"), thickness=10, len=0.6), opacity=0.75,
                          hovertemplate="(%{x:.2f}, %{y:.2f}): P(real) %{z:.2f}<extra></extra>")
    data = [heat,
            go.Scattergl(x=real[:, 0], y=real[:, 1], mode="markers", name=t("real"),
                         marker=dict(size=4, color=REAL, opacity=0.6), hoverinfo="skip"),
            go.Scattergl(x=fake[:, 0], y=fake[:, 1], mode="markers", name=t("generated"),
                         marker=dict(size=4, color=FAKE, opacity=0.8), hoverinfo="skip")]
    if len(arrows):
        norms = np.linalg.norm(arrows, axis=1)
        scale = arrow_length / max(float(norms.max()), 1e-12)
        start = fake[:len(arrows)]
        end = start + arrows * scale
        seg = np.full((len(arrows) * 3, 2), np.nan, np.float32)
        seg[0::3], seg[1::3] = start, end
        data.append(go.Scatter(x=seg[:, 0], y=seg[:, 1], mode="lines", name=t("generator's gradient"),
                               line=dict(color=ARROW, width=1.2), hoverinfo="skip"))
        data.append(go.Scatter(x=end[:, 0], y=end[:, 1], mode="markers", showlegend=False, hoverinfo="skip",
                               marker=dict(size=4, color=ARROW, symbol="circle")))
    if modes is not None:
        data.append(go.Scatter(x=modes[:, 0], y=modes[:, 1], mode="markers", name=t("modes"), hoverinfo="skip",
                               marker=dict(size=14, symbol="circle-open", color=REAL, line=dict(width=2))))
    lim = float(axis[-1])
    fig = go.Figure(data)
    fig.update_layout(height=height, title=title, margin=dict(l=10, r=10, t=40, b=10), dragmode=False,
                      xaxis=dict(range=[-lim, lim], fixedrange=True, showgrid=False, zeroline=False),
                      yaxis=dict(range=[-lim, lim], fixedrange=True, showgrid=False, zeroline=False,
                                 scaleanchor="x"),
                      legend=dict(orientation="h", yanchor="top", y=-0.02, x=0, font=dict(size=11)))
    return fig


def modes_over_time(steps: np.ndarray, counts: dict[str, np.ndarray], total_modes: int, total_steps: int,
                    height: int = 240) -> go.Figure:
    """Modes covered (of `total_modes`) against the step, one line per model."""
    data = [go.Scatter(x=np.asarray(steps, np.float32), y=np.asarray(v, np.float32), mode="lines", name=name,
                       line=dict(color=color, width=2, shape="hv"))
            for (name, v), color in zip(counts.items(), COLORS)]
    fig = go.Figure(data)
    fig.update_layout(height=height, title=t("Modes covered (of {k})", k=total_modes),
                      margin=dict(l=10, r=10, t=40, b=30),
                      xaxis=dict(range=[0, max(total_steps, 1)], title=t("generator step")),
                      yaxis=dict(range=[-0.3, total_modes + 0.5], dtick=max(1, total_modes // 8)),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"))
    return fig
