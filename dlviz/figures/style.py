"""Figure styles: the everyday look, and presenter mode for a projector seen from the back of a lecture hall.

`presenter(fig)` returns a copy of any dlviz figure with large type, thick lines and high-contrast colour scales.
It works on finished figures (every figure function stays unaware of it): the app applies it to each chart it
shows while presenter mode is on (`dlviz.ui.charts`).
"""
from __future__ import annotations

import plotly.graph_objects as go

FONT = 20                 # px: axis labels, legends, cell numbers
TITLE = 26
LINE = 5                  # px: curves
OUTLINE = 6               # px: outlines of clicked cells, receptive fields
HEIGHT = 1.2              # taller, so the larger type still leaves room for the data
TEXT_SCALE = 1.3          # annotations: panel titles, tile numbers (side-by-side titles must still fit)

# Scales that fade on a washed-out projector -> ones spanning dark to bright (perceptually ordered, as before)
HIGH_CONTRAST = {"viridis": "Inferno", "blues": "Greys", "rdbu_r": "RdBu_r", "rdbu": "RdBu", "gray": "gray",
                 "greys": "Greys", "cividis": "Inferno", "plasma": "Inferno"}


def presenter(fig: go.Figure) -> go.Figure:
    """A copy of `fig` for the projector: large type, thick lines, high-contrast colour scales."""
    out = go.Figure(fig)
    layout = out.layout
    height = layout.height
    layout_update: dict = dict(font=dict(size=FONT), title_font=dict(size=TITLE),
                               hoverlabel=dict(font=dict(size=FONT)), legend=dict(font=dict(size=FONT)))
    if height:
        layout_update["height"] = int(height * HEIGHT)
    margin = layout.margin
    if margin is not None and margin.t is not None:
        layout_update["margin"] = dict(t=max(margin.t, TITLE * 2 + 10) if layout.title.text else margin.t + 10)
    out.update_layout(**layout_update)
    if layout.annotations:
        out.update_layout(annotations=[
            dict(a.to_plotly_json(), font=dict((a.font.to_plotly_json() if a.font else {}),
                                               size=int((a.font.size or 12) * TEXT_SCALE)))
            for a in layout.annotations])
    if layout.shapes:
        out.update_layout(shapes=[
            dict(s.to_plotly_json(), line=dict((s.line.to_plotly_json() if s.line else {}),
                                               width=max(OUTLINE, (s.line.width or 2) * 2)))
            for s in layout.shapes])
    for trace in out.data:
        kind = trace.type
        if kind in ("heatmap", "contour", "histogram2d"):
            name = _named_scale(trace)
            if name in HIGH_CONTRAST:
                trace.colorscale = [[v, _safe(c)] for v, c in _expanded(HIGH_CONTRAST[name].lower())] \
                    if HIGH_CONTRAST[name].lower() in _EXPANDABLE else HIGH_CONTRAST[name]
            if trace.texttemplate:
                trace.textfont = dict(size=FONT)
        elif kind in ("scatter", "scattergl"):
            mode = trace.mode or ""
            if "lines" in mode or not mode:
                trace.line.width = max(LINE, (trace.line.width or 2) * 2)
            if trace.marker is not None and trace.marker.size is not None and trace.marker.opacity != 0:
                size = trace.marker.size
                trace.marker.size = size * 1.5 if isinstance(size, (int, float)) else size
            if "text" in mode:
                trace.textfont = dict(size=FONT)
        elif kind == "bar":
            trace.textfont = dict(size=FONT)
            trace.marker.line = dict(width=2, color="#000")
        elif kind == "histogram":
            trace.marker.line = dict(width=2, color="#000")
    return out


def _named_scale(trace) -> str | None:
    """The colour scale name the figure function asked for. Plotly expands names into explicit lists when a
    figure is built; a known scale is recognised by comparing with the expansion of each candidate name."""
    scale = trace.colorscale
    if scale is None:
        return None
    colors = tuple(c for _, c in scale)
    for name in HIGH_CONTRAST:
        if colors == tuple(c for _, c in _expanded(name)):
            return name
    return None


_EXPANDED: dict[str, tuple] = {}
_EXPANDABLE = {"inferno"}


def _expanded(name: str) -> tuple:
    if name not in _EXPANDED:
        _EXPANDED[name] = tuple(go.Heatmap(colorscale=name).colorscale)
    return _EXPANDED[name]


def _safe(color: str) -> str:
    """Streamlit's chart theme uses the colours #000001…#000040 as placeholders and swaps them for theme colours
    in the browser; Inferno starts at #000004 (its black would turn pink). Plain black instead."""
    c = color.lower()
    return "#000000" if len(c) == 7 and c.startswith("#0000") and int(c[5:], 16) <= 0x40 else color
