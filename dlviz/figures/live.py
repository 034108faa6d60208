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


# --------------------------------------------------------------------------- pictures (PNG bytes)
# The views that change on every redraw are sent as PNG images (st.image): Streamlit identifies a Plotly chart by
# its content, so a chart redrawn 5 times a second is unmounted and mounted again each time and blinks blank
# (seen in the browser test's screenshots); an image keeps its element and only swaps its pixels.
import functools  # noqa: E402
import io  # noqa: E402

from PIL import Image, ImageDraw  # noqa: E402


@functools.lru_cache(maxsize=8)
def _lut(colorscale: str) -> np.ndarray:
    """(256, 3) uint8 colours of a Plotly colour scale."""
    from plotly.colors import get_colorscale, sample_colorscale

    colors = sample_colorscale(get_colorscale(colorscale), list(np.linspace(0, 1, 256)), colortype="tuple")
    return np.round(np.array(colors) * (255 if max(max(c) for c in colors) <= 1 else 1)).astype(np.uint8)


def _rgb(values: np.ndarray, colorscale: str, low: float, high: float) -> np.ndarray:
    """(H, W) values -> (H, W, 3) uint8 through `colorscale` over [low, high]; NaN -> white."""
    v = np.asarray(values, np.float64)
    index = np.clip((v - low) / ((high - low) or 1.0) * 255, 0, 255)
    out = _lut(colorscale)[np.nan_to_num(index).astype(np.uint8)]
    out[~np.isfinite(v)] = 255
    return out


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _jpeg(image: Image.Image) -> bytes:
    """Smooth pictures (the GAN planes): a tenth of the PNG's bytes, faster to encode."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def image_png(img: np.ndarray, scale: int = 8) -> bytes:
    """A grayscale (H, W) image in [0, 1], each pixel a `scale`×`scale` block."""
    gray = np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)
    return _png(Image.fromarray(gray).resize((img.shape[1] * scale, img.shape[0] * scale), Image.NEAREST))


def tiles_png(maps: np.ndarray, signed: bool = False, cols: int | None = None, tile_px: int = 84) -> bytes:
    """Maps or kernels (h, w, c) as a grid of tiles (one per channel, `tile_px` a side, white gaps): signed
    (kernels, weights): red positive, blue negative, one range for all; else each tile stretched to its own range
    (viridis). Tile k is row k // cols, column k % cols."""
    h, w, c = maps.shape
    cols = cols or min(c, 8)
    rows = -(-c // cols)
    gap = 6
    data = np.asarray(maps, np.float64)
    canvas = Image.new("RGB", (cols * (tile_px + gap) - gap, rows * (tile_px + gap) - gap), "white")
    bound = float(np.abs(data).max()) or 1.0
    for k in range(c):
        tile = data[..., k]
        if signed:
            rgb = _rgb(tile, DIVERGING, -bound, bound)
        else:
            rgb = _rgb(tile, ACTIVATION, float(tile.min()), float(tile.max()))
        picture = Image.fromarray(rgb).resize((tile_px, round(tile_px * h / w)), Image.NEAREST)
        canvas.paste(picture, ((k % cols) * (tile_px + gap), (k // cols) * (tile_px + gap)))
    return _png(canvas)


def _to_px(xy: np.ndarray, lim: float, size: int) -> np.ndarray:
    """Plane coordinates in [-lim, lim]² -> pixel coordinates (y up)."""
    xy = np.asarray(xy, np.float64)
    return np.stack([(xy[:, 0] + lim) / (2 * lim) * size, (lim - xy[:, 1]) / (2 * lim) * size], 1)


def _dots(draw: ImageDraw.ImageDraw, px: np.ndarray, color, r: float = 2.2) -> None:
    for x, y in px:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=color)


def gan_field_png(axis: np.ndarray, surface: np.ndarray, real: np.ndarray, fake: np.ndarray, arrows: np.ndarray,
                  critic: bool = False, modes: np.ndarray | None = None, size: int = 420,
                  arrow_length: float = 0.35) -> bytes:
    """gan_field as a JPEG picture: the surface (P(real) on a fixed 0..1 scale, or the critic's score around its
    median), real points green, generated purple, the generator's gradient arrows black, modes as green rings."""
    if critic:
        mid = float(np.median(surface))
        bound = float(np.abs(surface - mid).max()) or 1.0
        rgb = _rgb(surface, DIVERGING, mid - bound, mid + bound)
    else:
        rgb = _rgb(surface, DIVERGING, 0.0, 1.0)
    rgb = (rgb.astype(np.float32) * 0.7 + 255 * 0.3).astype(np.uint8)                # faded, like opacity 0.7
    picture = Image.fromarray(rgb[::-1]).resize((size, size), Image.BILINEAR)          # row 0 = lowest y
    draw = ImageDraw.Draw(picture)
    lim = float(axis[-1])
    _dots(draw, _to_px(real, lim, size), (44, 160, 44))
    _dots(draw, _to_px(fake, lim, size), (148, 103, 189))
    if len(arrows):
        scale = arrow_length / max(float(np.linalg.norm(arrows, axis=1).max()), 1e-12)
        start = _to_px(fake[:len(arrows)], lim, size)
        end = _to_px(fake[:len(arrows)] + arrows * scale, lim, size)
        for (x0, y0), (x1, y1) in zip(start, end):
            draw.line((x0, y0, x1, y1), fill=(34, 34, 34), width=2)
            draw.ellipse((x1 - 2.5, y1 - 2.5, x1 + 2.5, y1 + 2.5), fill=(34, 34, 34))
    if modes is not None:
        for x, y in _to_px(modes, lim, size):
            draw.ellipse((x - 9, y - 9, x + 9, y + 9), outline=(44, 160, 44), width=2)
    draw.rectangle((0, 0, size - 1, size - 1), outline=(180, 180, 180))
    return _jpeg(picture)


def latent_png(codes: np.ndarray, labels: np.ndarray, classes: Sequence[str], size: int = 420,
               legend_px: int = 120) -> tuple[bytes, tuple[float, float, float]]:
    """The test codes coloured by class (CLASS_COLORS) with a legend on the right, axes following the codes
    (central 99 %, square), the axes z₁ = 0 and z₂ = 0 drawn grey. Returns (png, (centre x, centre y, half
    width)) for the caption."""
    codes = np.asarray(codes, np.float64)
    low, high = np.percentile(codes, [0.5, 99.5], axis=0)
    centre, half = (low + high) / 2, max(float((high - low).max()) / 2 * 1.1, 1e-3)
    picture = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(picture)
    zero = (np.array([0.0, 0.0]) - centre + half) / (2 * half) * size
    draw.line((zero[0], 0, zero[0], size), fill=(200, 200, 200))
    draw.line((0, size - zero[1], size, size - zero[1]), fill=(200, 200, 200))
    px = np.stack([(codes[:, 0] - centre[0] + half) / (2 * half) * size,
                   size - (codes[:, 1] - centre[1] + half) / (2 * half) * size], 1)
    for (x, y), label in zip(px, labels):
        draw.ellipse((x - 2.5, y - 2.5, x + 2.5, y + 2.5), fill=CLASS_COLORS[int(label) % 10])
    draw.rectangle((0, 0, size - 1, size - 1), outline=(180, 180, 180))
    framed = Image.new("RGB", (size + legend_px, size), "white")
    framed.paste(picture, (0, 0))
    draw = ImageDraw.Draw(framed)
    font = _font(13)
    for i, name in enumerate(classes):
        y = 12 + i * 22
        draw.ellipse((size + 12, y, size + 22, y + 10), fill=CLASS_COLORS[i % 10])
        draw.text((size + 28, y - 3), str(name), fill=(40, 40, 40), font=font)
    return _png(framed), (float(centre[0]), float(centre[1]), half)


@functools.lru_cache(maxsize=4)
def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size)
    except TypeError:           # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()


def mosaic_png(images: np.ndarray, rows: int, cols: int, scale: int = 2) -> bytes:
    """(rows·cols, h, w) images in [0, 1] tiled row-major into one grayscale picture."""
    images = np.asarray(images, np.float32)
    h, w = images.shape[-2:]
    tiled = images.reshape(rows, cols, h, w).transpose(0, 2, 1, 3).reshape(rows * h, cols * w)
    return image_png(tiled, scale)


def probabilities_png(probs: np.ndarray, classes: Sequence[str], width: int = 330, height: int = 200) -> bytes:
    """Class probabilities as bars (the winner orange), each labelled below with its class and above with its
    percentage."""
    probs = np.clip(np.asarray(probs, np.float64), 0, 1)
    best = int(probs.argmax())
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    font = _font(11)
    n = len(probs)
    slot, top, bottom = width / n, 16, height - 34
    draw.line((0, bottom, width, bottom), fill=(170, 170, 170))
    for i, p in enumerate(probs):
        x0, x1 = i * slot + slot * 0.15, (i + 1) * slot - slot * 0.15
        y = bottom - p * (bottom - top)
        draw.rectangle((x0, y, x1, bottom), fill=(255, 127, 14) if i == best else (127, 159, 191))
        draw.text(((x0 + x1) / 2, y - 2), f"{100 * p:.0f}%", fill=(60, 60, 60), font=font, anchor="md")
        label = str(classes[i])
        draw.text(((x0 + x1) / 2, bottom + 4), label if len(label) <= 7 else label[:6] + "…", fill=(40, 40, 40),
                  font=font, anchor="ma")
    return _png(picture)
