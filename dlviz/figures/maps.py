"""Arrays in, `plotly.graph_objects.Figure` out. Nothing here runs a model.

Conventions: images are drawn with row 0 at the top (`yaxis.autorange="reversed"`) and square pixels; clickable
grids carry a transparent scatter over the cell centres, because Streamlit's `on_select` fires on scatter points
but not on heatmap cells. Each clickable point's `customdata` says what was clicked.
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from dlviz.i18n import t
from dlviz.ops import shrink_for_display as _shrink

GRAY = "gray"
DIVERGING = "RdBu_r"        # negative blue, positive red: weights and signed values
ACTIVATION = "Viridis"
HIGHLIGHT = "#ff7f0e"


# fixedrange: a stray drag must not pan a feature map away; clicks still select points
_AXIS = dict(showticklabels=False, ticks="", showgrid=False, zeroline=False, constrain="domain", fixedrange=True)


def _set_layout(fig: go.Figure, **props) -> go.Figure:
    """`fig.update_layout(**props)` for top-level layout properties (a dict merged one level into what is there),
    at a fraction of the cost: update_layout walks every nested key as a property path (~2-10 ms per figure, more
    than building the figure), one assignment per property does not."""
    layout = fig.layout
    for key, value in props.items():
        if isinstance(value, dict):
            current = layout[key]
            if hasattr(current, "to_plotly_json"):
                value = {**current.to_plotly_json(), **value}
        layout[key] = value
    return fig


def _square_axes(fig: go.Figure, **layout) -> go.Figure:
    """Hide ticks, put row 0 on top and make every subplot's pixels square (each y axis anchored to its own x)."""
    suffixes = [axis.plotly_name[len("yaxis"):] for axis in fig.select_yaxes()] or [""]
    axes = {}
    for suffix in suffixes:
        axes[f"xaxis{suffix}"] = _AXIS
        axes[f"yaxis{suffix}"] = dict(_AXIS, autorange="reversed", scaleanchor=f"x{suffix}")
    return _set_layout(fig, margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="rgba(0,0,0,0)", **axes, **layout)


def _rect(top: int, left: int, bottom: int, right: int, color: str = HIGHLIGHT, width: int = 3) -> dict:
    """A cell-aligned outline around rows top..bottom-1, cols left..right-1."""
    return dict(type="rect", x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5,
                line=dict(color=color, width=width))


def image(img: np.ndarray, title: str = "", outline: tuple[int, int, int, int] | None = None,
          zmin: float | None = 0.0, zmax: float | None = 1.0, colorscale: str = GRAY,
          height: int = 320, showscale: bool = False) -> go.Figure:
    """A grayscale (H, W) or RGB (H, W, 3) uint8 image; `outline` = (top, left, bottom, right) drawn on top."""
    if img.ndim == 3:
        fig = go.Figure(go.Image(z=img))
    else:
        fig = go.Figure(go.Heatmap(z=img, colorscale=colorscale, zmin=zmin, zmax=zmax, showscale=showscale,
                                   hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>"))
    if outline is not None:
        fig.add_shape(**_rect(*outline))
    return _square_axes(fig, title=title, height=height)


def stages_strip(panels: Sequence[tuple[str, np.ndarray]], height: int = 200) -> go.Figure:
    """'What the model sees': one panel per preprocessing stage, left to right."""
    panels = [(title, _shrink(img, 112)) for title, img in panels]    # a 20-megapixel photo needn't travel
    traces = [go.Image(z=img) if img.ndim == 3 else
              go.Heatmap(z=img, colorscale=GRAY, zmin=0, zmax=1, showscale=False,
                         hovertemplate="%{z:.2f}<extra></extra>") for _, img in panels]
    return _panels(traces, [t for t, _ in panels], height)


def probability_bars(probs: np.ndarray, classes: Sequence[str], height: int = 300) -> go.Figure:
    """Class probabilities with the winner highlighted and each bar labelled with its percentage."""
    probs = np.asarray(probs, dtype=float)
    best = int(probs.argmax())
    colors = [HIGHLIGHT if i == best else "#7f9fbf" for i in range(len(probs))]
    labels = [t(str(c)) for c in classes]       # class names are English ids (dlviz.datasets)
    fig = go.Figure(go.Bar(x=labels, y=probs, marker_color=colors,
                           text=[f"{100 * p:.1f}%" for p in probs], textposition="outside",
                           hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    _set_layout(fig, yaxis=dict(range=[0, 1.12], title=t("probability")), xaxis=dict(type="category"),
                height=height, margin=dict(l=10, r=10, t=30, b=10),
                title=t("Prediction: {label} ({p:.1f}%)", label=labels[best], p=100 * probs[best]))
    return fig


# A map grid's mosaic is sent as one byte per cell: 1-255 the colour scale, 0 the gaps between tiles, drawn
# transparent (a float32 mosaic with NaN gaps was 4× the bytes: 0.9 MB for a U-Net's eleven 64×128 class maps).
# The gaps are 0, not 255: Plotly escapes every "/" of the base64 text as "\u002f", and 255s encode as "////".
GAP, GAP_COLOR = 0, "rgba(0,0,0,0)"


def with_gap(colorscale) -> list:
    """A colour scale (name or [[position, colour], ...]) squeezed into 1-255 of 0-255, with 0 transparent."""
    stops = go.Heatmap(colorscale=colorscale).colorscale
    return [[0.0, GAP_COLOR]] + [[(1 + v * 254) / 255, c] for v, c in stops]


def _grid_shape(n: int, cols: int | None) -> tuple[int, int]:
    cols = cols or min(n, 8)
    return math.ceil(n / cols), cols


def map_grid(maps: np.ndarray, titles: Sequence[str] | None = None, shared_scale: bool = False,
             colorscale: str = ACTIVATION, cols: int | None = None, clickable: bool = True,
             selected: tuple[int, int, int] | None = None, cell_px: int = 110,
             zmid: float | None = None) -> go.Figure:
    """Feature maps or kernels (H, W, C) as a grid of tiles, one per channel.

    The tiles are laid out in ONE mosaic heatmap (NaN gaps between them) with ONE transparent scatter on top:
    two traces instead of 2·C subplots keeps building and sending the figure fast (64 maps per layer).
    shared_scale: one colour range for all maps (compare strengths) instead of one per map (see each pattern).
    zmid: signed data (kernels): colours symmetric around this value, one range for all tiles.
    clickable: customdata (channel, row, col, value) on every cell for `on_select`.
    selected: (channel, row, col) outlined.
    """
    h, w, c = maps.shape
    rows, cols = _grid_shape(c, cols)
    titles = list(titles) if titles is not None else [f"#{k}" for k in range(c)]
    gap = max(1, math.ceil(16 * max(h, w) / cell_px))     # about 16 px between tiles, room for a title
    step_y, step_x = h + gap, w + gap
    mosaic = np.full((rows * step_y - gap, cols * step_x - gap), GAP, dtype=np.uint8)
    data = maps.astype(np.float32)
    if zmid is not None:
        bound = float(np.abs(data - zmid).max()) or 1.0
        scaled = ((data - zmid) / bound + 1.0) / 2.0          # zmid -> the middle of the scale
    elif shared_scale:
        lo, hi = float(data.min()), float(data.max())
        scaled = (data - lo) / ((hi - lo) or 1.0)
    else:   # per map: each tile stretched to its own min..max
        lo, hi = data.min(axis=(0, 1)), data.max(axis=(0, 1))
        scaled = (data - lo) / np.where(hi > lo, hi - lo, 1.0)
    levels = (1 + np.round(np.clip(scaled, 0.0, 1.0) * 254)).astype(np.uint8)
    annotations, points = [], []
    yy, xx = np.mgrid[0:h, 0:w]
    for k in range(c):
        top, left = (k // cols) * step_y, (k % cols) * step_x
        mosaic[top:top + h, left:left + w] = levels[..., k]
        annotations.append(dict(x=left + (w - 1) / 2, y=top - 0.5, xref="x", yref="y", text=titles[k],
                                showarrow=False, yanchor="bottom", font=dict(size=11, color="#444")))
        if clickable:
            points.append(np.stack([(left + xx).ravel(), (top + yy).ravel(), np.full(h * w, k), yy.ravel(),
                                    xx.ravel(), data[..., k].ravel()], axis=1))
    traces = [go.Heatmap(z=mosaic, colorscale=with_gap(colorscale), zmin=0, zmax=255, showscale=False,
                         hoverinfo="skip")]
    if clickable:
        p = np.concatenate(points).astype(np.float32)      # float32 halves what the browser receives
        traces.append(go.Scatter(
            x=p[:, 0].astype(np.int16), y=p[:, 1].astype(np.int16), mode="markers", showlegend=False,
            marker=dict(size=max(4, min(14, cell_px // max(h, w))), opacity=0, color="white"),
            customdata=p[:, 2:],    # numpy, not lists: Plotly validates lists item by item
            hovertemplate="#%{customdata[0]}: row %{customdata[1]}, col %{customdata[2]} = "
                          "%{customdata[3]:.3f}<extra></extra>"))
    fig = go.Figure(traces)
    if selected is not None and 0 <= selected[0] < c:
        top, left = (selected[0] // cols) * step_y + selected[1], (selected[0] % cols) * step_x + selected[2]
        ring = 1 if h >= 20 else 0          # on big maps a one-cell box is too small to find: ring the neighbours
        fig.add_shape(**_rect(top - ring, left - ring, top + 1 + ring, left + 1 + ring, color="#ff2d2d", width=3))
    _square_axes(fig, height=max(160, rows * cell_px + 40), clickmode="event+select", annotations=annotations)
    # explicit ranges (row 0 on top), leaving room above the first row for its titles
    fig.update_layout(yaxis_range=[mosaic.shape[0] - 0.5, -0.5 - gap], yaxis_autorange=False,
                      xaxis_range=[-0.5, mosaic.shape[1] - 0.5])
    return fig


def _panel_axes(i: int) -> tuple[str, str]:
    """Plotly's axis names of panel i (1-based) in a `_panels` figure: ("x", "y"), ("x2", "y2"), ..."""
    suffix = "" if i == 1 else str(i)
    return f"x{suffix}", f"y{suffix}"


def _panels(traces: Sequence, titles: Sequence[str], height: int, gap: float = 0.03,
            title_size: int = 12, widths: Sequence[float] | None = None) -> go.Figure:
    """One row of independent panels, each on its own axes, without make_subplots (several times faster).
    traces: one trace per panel, or a list of traces sharing a panel; widths: relative panel widths (default equal)."""
    n = len(traces)
    share = np.asarray(widths if widths is not None else [1.0] * n, float)
    share = share / share.sum() * (1 - gap * (n - 1))
    layout: dict = {"annotations": [], "height": height, "margin": dict(l=10, r=10, t=40, b=10),
                    "plot_bgcolor": "rgba(0,0,0,0)"}
    flat = []
    for i, (panel, title) in enumerate(zip(traces, titles), start=1):
        title = _wrapped(title, int(24 / n + 3)) if n >= 4 else title   # narrow panels: titles must not overlap
        x0, width = float(share[:i - 1].sum()) + gap * (i - 1), float(share[i - 1])
        x, y = _panel_axes(i)
        layout["xaxis" + x[1:]] = dict(_AXIS, domain=[x0, x0 + width], anchor=y)
        layout["yaxis" + y[1:]] = dict(_AXIS, domain=[0, 1], anchor=x, autorange="reversed", scaleanchor=x)
        for trace in panel if isinstance(panel, (list, tuple)) else [panel]:
            trace.update(xaxis=x, yaxis=y)
            flat.append(trace)
        layout["annotations"].append(dict(x=x0 + width / 2, y=1.0, xref="paper", yref="paper", text=title,
                                          showarrow=False, yanchor="bottom", font=dict(size=title_size)))
    return go.Figure(flat, layout)


def _wrapped(title: str, width: int) -> str:
    """'stride-2 conv 14×14' -> 'stride-2<br>conv<br>14×14': a title broken at spaces into lines of about
    `width` characters, for narrow panels."""
    return "<br>".join(textwrap.wrap(title, max(width, 5), break_long_words=False)) or title


def _number_cells(values: np.ndarray, highlight: np.ndarray | None = None, strong: tuple[int, int] | None = None,
                  colorscale: str = "Blues", fmt: str = ".2f", clickable: bool = False, zmid: float | None = None,
                  panel: int = 0) -> tuple[list, list[dict]]:
    """The traces and outline shapes of one number grid. Clickable cells carry customdata (panel, row, col)."""
    h, w = values.shape
    kwargs = dict(zmid=zmid) if zmid is not None else {}
    traces = [go.Heatmap(z=values, colorscale=colorscale, showscale=False, text=np.vectorize(
        lambda v: format(v, fmt))(values), texttemplate="%{text}", textfont=dict(size=12),
        hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>", **kwargs)]
    shapes = [_rect(r, c, r + 1, c + 1, width=2) for r, c in zip(*np.nonzero(highlight))] if highlight is not None \
        else []
    if strong is not None:
        shapes.append(_rect(strong[0], strong[1], strong[0] + 1, strong[1] + 1, color="#d62728", width=4))
    if clickable:
        yy, xx = np.mgrid[0:h, 0:w]
        traces.append(go.Scatter(x=xx.ravel(), y=yy.ravel(), mode="markers", showlegend=False,
                                 marker=dict(size=18, opacity=0),
                                 customdata=np.stack([np.full(h * w, panel), yy.ravel(), xx.ravel()], axis=1).tolist(),
                                 hovertemplate="row %{y}, col %{x}<extra></extra>"))
    return traces, shapes


def number_grid(values: np.ndarray, title: str = "", highlight: np.ndarray | None = None,
                strong: tuple[int, int] | None = None, colorscale: str = "Blues", fmt: str = ".2f",
                clickable: bool = False, height: int = 320, zmid: float | None = None) -> go.Figure:
    """A small (H, W) array with every value printed in its cell.

    highlight: boolean (H, W) mask of cells outlined (e.g. the window an output came from);
    strong: one cell outlined more heavily (e.g. the max that won).
    """
    traces, shapes = _number_cells(values, highlight, strong, colorscale, fmt, clickable, zmid)
    fig = go.Figure(traces)
    for shape in shapes:
        fig.add_shape(**shape)
    return _square_axes(fig, title=title, height=height, clickmode="event+select")


def number_grids(grids: Sequence[dict], titles: Sequence[str], widths: Sequence[float] | None = None,
                 height: int = 320) -> go.Figure:
    """Several number grids side by side in one figure; grids: `number_grid`'s keyword arguments each (values,
    highlight, strong, clickable, ...). One chart instead of several: the browser mounts and draws each chart of a
    rerun in turn (three grids as three charts took ~60 ms of the Pooling page's ~150 ms per step). A click on a
    clickable grid gives customdata (grid index, row, col)."""
    panels, shapes = [], []
    for i, grid in enumerate(grids):
        traces, cells = _number_cells(**grid, panel=i)
        panels.append(traces)
        x, y = _panel_axes(i + 1)
        shapes += [dict(cell, xref=x, yref=y) for cell in cells]
    fig = _panels(panels, titles, height, gap=0.05, widths=widths)
    _set_layout(fig, shapes=shapes, clickmode="event+select")
    return fig


def arithmetic(patch: np.ndarray, weights: np.ndarray, products: np.ndarray, height: int = 300) -> go.Figure:
    """input patch ⊙ kernel = products, for one channel: three small grids with their numbers."""
    traces = []
    for arr, scale in ((patch, "Blues"), (weights, DIVERGING), (products, DIVERGING)):
        bound = float(np.abs(arr).max()) or 1.0
        zmin = -bound if scale == DIVERGING else float(arr.min())
        traces.append(go.Heatmap(z=arr, colorscale=scale, zmin=zmin, zmax=bound, showscale=False,
                                 text=np.vectorize(lambda v: f"{v:.2f}")(arr), texttemplate="%{text}",
                                 hovertemplate="%{z:.4f}<extra></extra>"))
    return _panels(traces, (t("input patch"), t("kernel weights"), t("patch × weight")), height, gap=0.06)


def bars(values: Sequence[float], labels: Sequence[str], title: str = "", height: int = 260) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(labels), y=list(values), marker_color=["#d62728" if v < 0 else "#1f77b4"
                                                                          for v in values]))
    _set_layout(fig, title=title, height=height, margin=dict(l=10, r=10, t=40, b=10), xaxis=dict(type="category"))
    return fig


def side_by_side(panels: Sequence[tuple[str, np.ndarray]], height: int = 300, colorscale: str = ACTIVATION,
                 shared_scale: bool = False) -> go.Figure:
    """Several (H, W) arrays of possibly different sizes next to each other, each keeping its own pixel grid."""
    lo = min(float(a.min()) for _, a in panels)
    hi = max(float(a.max()) for _, a in panels)
    traces = []
    for _, arr in panels:
        zmin, zmax = (lo, hi) if shared_scale else (float(arr.min()), float(arr.max()))
        labels = dict(text=np.vectorize(lambda v: f"{v:.3f}")(arr), texttemplate="%{text}") if arr.size <= 4 else {}
        traces.append(go.Heatmap(z=arr, colorscale=colorscale, zmin=zmin, zmax=max(zmax, zmin + 1e-9),
                                 showscale=False, hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>",
                                 **labels))
    return _panels(traces, [t for t, _ in panels], height, gap=0.04)


def selected_customdata(event, length: int) -> list | None:
    """The first `length` customdata values of the first clicked point in a Streamlit plotly selection event
    (`st.plotly_chart(..., on_select="rerun")`), or None when nothing usable was clicked. Every clickable figure
    puts what was clicked into its points' customdata; a typed array from the browser arrives as {"0": .., ...}."""
    try:
        points = event.selection.points
    except AttributeError:
        return None
    for point in points:
        data = point.get("customdata")
        if isinstance(data, dict):
            data = [data.get(str(i)) for i in range(len(data))]
        if data is not None and len(data) >= length and None not in data[:length]:
            return list(data[:length])
    return None
