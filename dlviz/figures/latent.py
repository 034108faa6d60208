"""Figures for the Autoencoder & VAE page: reconstructions and error maps, codes as bars, the anomaly histogram and
ROC curve, the clickable latent scatter, mosaics (manifold grid, interpolation, samples). Nothing here runs a model.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from dlviz.figures.maps import _AXIS, GRAY, _set_layout, selected_customdata
from dlviz.i18n import t

# Ten classes, ten colours that stay apart (Plotly's D3 palette)
CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
ERROR_SCALE = "Reds"
_MARGIN = dict(l=10, r=10, t=40, b=10)


def _png(img: np.ndarray) -> str:
    """(H, W) float in [0, 1] -> a PNG data URI: a 840×840 mosaic travels as ~100 kB instead of 700k numbers."""
    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.round(np.asarray(img) * 255), 0, 255).astype(np.uint8)).save(buffer, "PNG",
                                                                                            compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def panel_grid(rows: Sequence[Sequence[tuple[str, np.ndarray, str, float]]], height: int = 420,
               gap: float = 0.02) -> go.Figure:
    """Rows of (title, (H, W) array, colourscale, zmax) panels, each on its own square axes; zmin is 0.

    Grayscale images in [0, 1] and per-pixel error maps side by side, e.g. one column per model.
    """
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    width, tall = (1 - gap * (n_cols - 1)) / n_cols, (1 - 0.08 * (n_rows - 1)) / n_rows
    traces, layout = [], {"annotations": [], "height": height, "margin": _MARGIN, "plot_bgcolor": "rgba(0,0,0,0)"}
    k = 0
    for r, row in enumerate(rows):
        y1 = 1 - r * (tall + 0.08)
        for c, (title, arr, scale, zmax) in enumerate(row):
            k += 1
            s = "" if k == 1 else str(k)
            x0 = c * (width + gap)
            layout[f"xaxis{s}"] = dict(_AXIS, domain=[max(0.0, x0), min(1.0, x0 + width)], anchor=f"y{s}")
            layout[f"yaxis{s}"] = dict(_AXIS, domain=[max(0.0, y1 - tall), min(1.0, y1)], anchor=f"x{s}",
                                       autorange="reversed",
                                       scaleanchor=f"x{s}")
            traces.append(go.Heatmap(z=arr, colorscale=scale, zmin=0, zmax=zmax, showscale=False, xaxis=f"x{s}",
                                     yaxis=f"y{s}", hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>"))
            layout["annotations"].append(dict(x=x0 + width / 2, y=y1, xref="paper", yref="paper", text=title,
                                              showarrow=False, yanchor="bottom", font=dict(size=12)))
    return go.Figure(traces, layout)


def reconstructions(image: np.ndarray, results: Sequence[tuple[str, np.ndarray]], height: int = 380) -> go.Figure:
    """Top row: the input and each model's reconstruction; bottom row: each per-pixel squared error (x - x̂)²,
    all error maps on one colour scale so a darker map really is a worse reconstruction."""
    errors = [(name, (image - rec) ** 2) for name, rec in results]
    top = max(float(max(e.max() for _, e in errors)), 1e-3) if errors else 1.0
    row1 = [(t("your input"), image, GRAY, 1.0)] + [(name, rec, GRAY, 1.0) for name, rec in results]
    row2 = [(t("squared error →"), np.zeros_like(image), ERROR_SCALE, top)] + [
        (f"MSE {e.mean():.4f}", e, ERROR_SCALE, top) for name, e in errors]
    return panel_grid([row1, row2], height=height)


def code_bars(codes: Sequence[tuple[str, np.ndarray]], relative: float = 0.01, height: int = 300) -> go.Figure:
    """Each code's units as bars, one group per model; near-zero units (≤ `relative` × that code's largest) gray."""
    fig = go.Figure()
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c")
    for i, (name, code) in enumerate(codes):
        code = np.asarray(code, dtype=float)
        small = np.abs(code) <= relative * (np.abs(code).max() or 1.0)
        fig.add_trace(go.Bar(x=[t("unit {j}", j=j) for j in range(len(code))], y=code, name=name,
                             marker_color=[("#c7c7c7" if s else palette[i % 3]) for s in small],
                             marker_line=dict(color=palette[i % 3], width=1.5),
                             hovertemplate=f"{name} %{{x}}: %{{y:.3f}}<extra></extra>"))
    _set_layout(fig, barmode="group", height=height, margin=_MARGIN, xaxis=dict(type="category"),
                yaxis=dict(title="activation"), legend=dict(orientation="h", y=1.12),
                title=t("Code units (gray: near zero)"))
    return fig


def error_histogram(normal: np.ndarray, other: np.ndarray | None, threshold: float, user_error: float,
                    verdict: str, normal_name: str, other_name: str, score: str = "MSE per image",
                    height: int = 340) -> go.Figure:
    """Histograms of test-set reconstruction errors (normal data, and the other dataset overlaid), the threshold
    and the user's input as vertical lines. Errors are drawn on a log axis: they span two orders of magnitude."""
    normal = np.asarray(normal, dtype=float)
    values = [normal] + ([np.asarray(other, dtype=float)] if other is not None else [])
    lo = max(min(float(v.min()) for v in values), 1e-5)
    hi = max(max(float(v.max()) for v in values), user_error, threshold) * 1.05
    edges = np.geomspace(lo, hi, 80)
    centers = np.sqrt(edges[1:] * edges[:-1])
    fig = go.Figure()
    for name, v, color in ((normal_name, normal, "#1f77b4"), (other_name, values[-1], "#ff7f0e"))[:len(values)]:
        counts, _ = np.histogram(v, edges)
        fig.add_trace(go.Bar(x=centers, y=counts / len(v), width=np.diff(edges), name=name, marker_color=color,
                             opacity=0.6, hovertemplate="error %{x:.4g}: %{y:.1%}<extra>" + name + "</extra>"))
    user_x = min(max(user_error, lo), hi)
    # Lines are shapes (data units); their labels are annotations, which on a log axis take log10 units:
    # add_vline's own labels are placed at 10^value and stretched the axis to 10^100 for scores near 100.
    fig.add_vline(x=threshold, line=dict(color="black", dash="dash", width=2))
    fig.add_vline(x=user_x, line=dict(color="#d62728", width=3))
    labels = [dict(x=np.log10(threshold), y=1, yref="paper", yanchor="top", xanchor="left", showarrow=False,
                   text=t("threshold {v:.4g}", v=threshold), bgcolor="rgba(255,255,255,0.8)"),
              dict(x=np.log10(user_x), y=0, yref="paper", yanchor="bottom", xanchor="left", showarrow=False,
                   text=t("your input: {verdict}", verdict=verdict), font=dict(color="#d62728"))]
    _set_layout(fig, barmode="overlay", height=height, margin=_MARGIN, annotations=labels,
                xaxis=dict(type="log", range=[np.log10(lo), np.log10(hi)],
                           title=t("reconstruction error: {score} (log scale)", score=score)),
                yaxis=dict(title=t("share of images"), tickformat=".0%"), legend=dict(orientation="h", y=1.12))
    return fig


def roc(fpr: np.ndarray, tpr: np.ndarray, auc: float, point: tuple[float, float] | None = None,
        height: int = 340) -> go.Figure:
    """The ROC curve with its AUC; `point` = (fpr, tpr) of the current threshold."""
    fig = go.Figure([go.Scatter(x=fpr, y=tpr, mode="lines", name=f"AUC {auc:.4f}", line=dict(width=3),
                                hovertemplate="false positives %{x:.3f}, caught %{y:.3f}<extra></extra>"),
                     go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=t("chance"), line=dict(dash="dot", color="gray"))])
    if point is not None:
        fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name=t("your threshold"),
                                 marker=dict(size=12, color="black", symbol="x")))
    _set_layout(fig, height=height, margin=_MARGIN, title=t("ROC curve, AUC = {auc:.4f}", auc=auc),
                xaxis=dict(title=t("normal images flagged (false-positive rate)"), range=[-0.01, 1.01]),
                yaxis=dict(title=t("anomalies caught (true-positive rate)"), range=[-0.01, 1.01]),
                legend=dict(x=0.55, y=0.1))
    return fig


def latent_scatter(points: np.ndarray, labels: np.ndarray, classes: Sequence[str], bounds: tuple[float, ...],
                   user: np.ndarray | None = None, ellipse: tuple[np.ndarray, np.ndarray] | None = None,
                   clicked: np.ndarray | None = None, title: str = "", axis_titles: tuple[str, str] = ("z₁", "z₂"),
                   grid: int = 30, height: int = 460) -> go.Figure:
    """Test codes (N, 2) coloured by class; the user's input as a star (with a 1-σ ellipse for a VAE: (centre,
    radii)); the last clicked spot as a cross. A transparent grid of `grid`×`grid` points covers `bounds` =
    (x0, x1, y0, y1), so a click on an empty spot selects a point too (Streamlit reports clicks on points only).

    customdata of every clickable point: (x, y, index) with index = the test point's row, or -1 for the grid.
    """
    x0, x1, y0, y1 = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, grid), np.linspace(y0, y1, grid))
    gx, gy = gx.ravel().astype(np.float32), gy.ravel().astype(np.float32)
    traces = [go.Scatter(x=gx, y=gy, mode="markers", showlegend=False, name=t("empty spot"),
                         marker=dict(size=10, opacity=0, color="white"),
                         customdata=np.stack([gx, gy, np.full(len(gx), -1, np.float32)], axis=1),
                         hovertemplate="(%{x:.2f}, %{y:.2f}): click to decode<extra></extra>")]
    pts = np.asarray(points, dtype=np.float32)
    for c, name in enumerate(classes):
        idx = np.flatnonzero(labels == c)
        traces.append(go.Scatter(x=pts[idx, 0], y=pts[idx, 1], mode="markers", name=name,
                                 marker=dict(size=5, color=CLASS_COLORS[c % 10], opacity=0.75),
                                 customdata=np.stack([pts[idx, 0], pts[idx, 1], idx.astype(np.float32)], axis=1),
                                 hovertemplate=f"{name} (test image)<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>"))
    shapes = []
    if ellipse is not None:
        (cx, cy), (rx, ry) = ellipse
        angle = np.linspace(0, 2 * np.pi, 60)
        traces.append(go.Scatter(x=cx + rx * np.cos(angle), y=cy + ry * np.sin(angle), mode="lines", name="μ ± 1σ",
                                 line=dict(color="black", width=2), hoverinfo="skip"))
    if user is not None:
        traces.append(go.Scatter(x=[user[0]], y=[user[1]], mode="markers", name=t("your input"),
                                 marker=dict(size=20, symbol="star", color="gold", line=dict(color="black", width=2)),
                                 hovertemplate="your input (%{x:.2f}, %{y:.2f})<extra></extra>"))
    if clicked is not None:
        traces.append(go.Scatter(x=[clicked[0]], y=[clicked[1]], mode="markers", name=t("decoded below"),
                                 marker=dict(size=16, symbol="x-thin", color="black", line=dict(width=3)),
                                 hoverinfo="skip"))
    fig = go.Figure(traces)
    _set_layout(fig, height=height, margin=_MARGIN, title=title, clickmode="event+select", shapes=shapes,
                xaxis=dict(title=axis_titles[0], range=[x0, x1], zeroline=True, fixedrange=True),
                yaxis=dict(title=axis_titles[1], range=[y0, y1], zeroline=True, fixedrange=True),
                legend=dict(itemsizing="constant", font=dict(size=11)), dragmode=False)
    return fig


def clicked_latent(event) -> tuple[float, float, int] | None:
    """(x, y, test index or -1) from a Streamlit plotly selection on `latent_scatter`, or None."""
    data = selected_customdata(event, 3)
    return None if data is None else (float(data[0]), float(data[1]), int(data[2]))


def mosaic(images: np.ndarray, rows: int, cols: int, title: str = "", x_values: Sequence[float] | None = None,
           y_values: Sequence[float] | None = None, row_labels: Sequence[str] | None = None,
           col_labels: Sequence[str] | None = None, axis_titles: tuple[str, str] = ("", ""),
           height: int | None = None) -> go.Figure:
    """(rows·cols, h, w) images in [0, 1] tiled row-major as ONE picture (sent as a PNG), with the latent value
    of each column / row as tick labels (a manifold grid) or text labels per row / column (interpolations)."""
    images = np.asarray(images, dtype=np.float32)
    h, w = images.shape[-2:]
    tiled = images.reshape(rows, cols, h, w).transpose(0, 2, 1, 3).reshape(rows * h, cols * w)
    fig = go.Figure(go.Image(source=_png(tiled), x0=0, y0=0, dx=1, dy=1, hoverinfo="skip"))
    xt = [c * w + (w - 1) / 2 for c in range(cols)]
    yt = [r * h + (h - 1) / 2 for r in range(rows)]
    xlabels = [f"{v:.2f}" for v in x_values] if x_values is not None else list(col_labels or [])
    ylabels = [f"{v:.2f}" for v in y_values] if y_values is not None else list(row_labels or [])
    step_x = max(1, cols // 10)
    step_y = max(1, rows // 10)
    _set_layout(
        fig, title=title, height=height or min(760, max(200, rows * 80 + 80)), margin=dict(l=10, r=10, t=40, b=10),
        xaxis=dict(tickvals=xt[::step_x] if xlabels else [], ticktext=xlabels[::step_x], showgrid=False,
                   zeroline=False, title=axis_titles[0], fixedrange=True, side="bottom"),
        yaxis=dict(tickvals=yt[::step_y] if ylabels else [], ticktext=ylabels[::step_y], showgrid=False,
                   zeroline=False, title=axis_titles[1], fixedrange=True, scaleanchor="x", autorange="reversed"),
        plot_bgcolor="rgba(0,0,0,0)")
    return fig


def vae_mechanics(mu: np.ndarray, sigma: np.ndarray, eps: np.ndarray, z: np.ndarray, decoded: np.ndarray,
                  height: int = 360) -> go.Figure:
    """Left: the input's distribution N(μ, σ²) in the 2-D latent plane (μ, the 1-σ and 2-σ ellipses, the prior's
    1-σ circle) and the sample z = μ + σ·ε; right: the image decoded from z."""
    angle = np.linspace(0, 2 * np.pi, 80)
    traces = [go.Scatter(x=np.cos(angle), y=np.sin(angle), mode="lines", name=t("prior N(0, I): 1σ"),
                         line=dict(color="gray", dash="dot")),
              *[go.Scatter(x=mu[0] + k * sigma[0] * np.cos(angle), y=mu[1] + k * sigma[1] * np.sin(angle), mode="lines",
                           name=f"μ ± {k}σ", line=dict(color="#1f77b4", width=3 - k)) for k in (1, 2)],
              go.Scatter(x=[mu[0]], y=[mu[1]], mode="markers", name="μ", marker=dict(size=12, color="#1f77b4")),
              go.Scatter(x=[mu[0], z[0]], y=[mu[1], z[1]], mode="lines+markers", name="z = μ + σ·ε",
                         marker=dict(size=[0, 16], color="#d62728", symbol="x"), line=dict(color="#d62728")),
              go.Heatmap(z=decoded, colorscale=GRAY, zmin=0, zmax=1, showscale=False, xaxis="x2", yaxis="y2",
                         hovertemplate="%{z:.2f}<extra></extra>")]
    span = max(3.0, float(np.max(np.abs(mu) + 2.5 * sigma)), float(np.max(np.abs(z))) + 0.5)
    layout = dict(height=height, margin=_MARGIN, plot_bgcolor="rgba(0,0,0,0)",
                  xaxis=dict(domain=[0, 0.55], range=[-span, span], title="z₁", zeroline=True, fixedrange=True),
                  yaxis=dict(range=[-span, span], title="z₂", scaleanchor="x", zeroline=True, fixedrange=True),
                  xaxis2=dict(_AXIS, domain=[0.62, 1], anchor="y2"),
                  yaxis2=dict(_AXIS, anchor="x2", autorange="reversed", scaleanchor="x2"),
                  legend=dict(x=0, y=-0.25, orientation="h", font=dict(size=11)),
                  annotations=[dict(x=0.81, y=1.0, xref="paper", yref="paper", yanchor="bottom", showarrow=False,
                                    text=t("decoded z = ({a:.2f}, {b:.2f})", a=z[0], b=z[1]))])
    return go.Figure(traces, layout)
