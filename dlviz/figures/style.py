"""Figure styles: the everyday look, and presenter mode for a projector seen from the back of a lecture hall.

`presenter(fig)` returns a copy of any dlviz figure with large type, thick lines and high-contrast colour scales.
It works on finished figures (every figure function stays unaware of it): the app applies it to each chart it
shows while presenter mode is on (`dlviz.ui.charts`).
"""
from __future__ import annotations

import plotly.graph_objects as go

from dlviz.figures.maps import GAP_COLOR, with_gap

FONT = 20                 # px: axis labels, legends, cell numbers
TITLE = 22                # narrow columns: a larger title is cut off
LINE = 5                  # px: curves
OUTLINE = 6               # px: outlines of clicked cells, receptive fields
HEIGHT = 1.2              # taller, so the larger type still leaves room for the data
TEXT_SCALE = 1.3          # annotations: panel titles, tile numbers (side-by-side titles must still fit)

# Scales that fade on a washed-out projector -> ones spanning dark to bright (perceptually ordered, as before)
HIGH_CONTRAST = {"viridis": "Inferno", "blues": "Greys", "rdbu_r": "RdBu_r", "rdbu": "RdBu", "gray": "gray",
                 "greys": "Greys", "cividis": "Inferno", "plasma": "Inferno"}


def presenter(fig: go.Figure) -> go.Figure:
    """A copy of `fig` for the projector: large type, thick lines, high-contrast colour scales.

    Works on the figure's plain dict and rebuilds it without Plotly's validation (`_validate=False`): the input is
    an already valid figure and only known properties change. Through Plotly's validating setters the same edits
    took seconds for a 64-map grid; this way they take milliseconds (bench/lecture.py).
    """
    d = fig.to_dict()
    layout = d.setdefault("layout", {})
    layout["font"] = dict(layout.get("font", {}), size=FONT)
    title = layout.get("title")
    title = dict(title) if isinstance(title, dict) else ({"text": title} if title else {})
    layout["title"] = dict(title, font=dict(title.get("font", {}), size=TITLE))
    layout["hoverlabel"] = dict(layout.get("hoverlabel", {}), font=dict(size=FONT))
    layout["legend"] = dict(layout.get("legend", {}), font=dict(layout.get("legend", {}).get("font", {}), size=FONT))
    if layout.get("height"):
        layout["height"] = int(layout["height"] * HEIGHT)
    margin = layout.get("margin")
    if margin and margin.get("t") is not None:
        layout["margin"] = dict(margin, t=max(margin["t"], TITLE * 2 + 10) if title.get("text") else margin["t"] + 10)
    # Streamlit's chart theme sizes ticks and axis titles per axis, which beats layout.font: set them per axis too
    for name in {"xaxis", "yaxis", *(k for k in layout if k.startswith(("xaxis", "yaxis")))}:
        axis = layout.setdefault(name, {})
        axis["tickfont"] = dict(axis.get("tickfont", {}), size=FONT - 2)
        axis_title = axis.get("title")
        axis_title = dict(axis_title) if isinstance(axis_title, dict) else ({"text": axis_title} if axis_title else {})
        axis["title"] = dict(axis_title, font=dict(axis_title.get("font", {}), size=FONT))
    if any(tr.get("type") == "bar" for tr in d.get("data", ())):
        layout["uniformtext"] = dict(minsize=FONT - 4, mode="show")     # Plotly shrinks bar labels to fit otherwise
    for a in layout.get("annotations", ()):
        a["font"] = dict(a.get("font", {}), size=int(a.get("font", {}).get("size", 12) * TEXT_SCALE))
    for shape in layout.get("shapes", ()):
        line = shape.get("line", {})
        shape["line"] = dict(line, width=max(OUTLINE, line.get("width", 2) * 2))
    for trace in d.get("data", ()):
        kind = trace.get("type", "scatter")
        if kind in ("heatmap", "contour", "histogram2d"):
            scale = trace.get("colorscale")
            gap = isinstance(scale, (list, tuple)) and len(scale) > 1 and scale[0][1] == GAP_COLOR
            name = _named_scale(scale[1:] if gap else scale)
            if name in HIGH_CONTRAST:
                target = HIGH_CONTRAST[name]
                high = [[v, _safe(c)] for v, c in _expanded(target.lower())] \
                    if target.lower() in _EXPANDABLE else target
                trace["colorscale"] = with_gap(high) if gap else high       # a map grid's mosaic (maps.GAP)
            if trace.get("texttemplate"):
                trace["textfont"] = dict(trace.get("textfont", {}), size=FONT)
        elif kind in ("scatter", "scattergl"):
            mode = trace.get("mode", "")
            if "lines" in mode or not mode:
                line = trace.get("line", {})
                trace["line"] = dict(line, width=max(LINE, line.get("width", 2) * 2))
            marker = trace.get("marker")
            if marker and isinstance(marker.get("size"), (int, float)) and marker.get("opacity") != 0:
                marker["size"] = marker["size"] * 1.5
            if "text" in mode:
                trace["textfont"] = dict(trace.get("textfont", {}), size=FONT)
        elif kind == "bar":
            trace["textfont"] = dict(trace.get("textfont", {}), size=FONT)
            trace["marker"] = dict(trace.get("marker", {}), line=dict(width=2, color="#000"))
        elif kind == "histogram":
            trace["marker"] = dict(trace.get("marker", {}), line=dict(width=2, color="#000"))
    return go.Figure(d, _validate=False)


def _named_scale(scale) -> str | None:
    """The colour scale name the figure function asked for. Plotly expands names into explicit lists when a
    figure is built; a known scale is recognised by comparing with the expansion of each candidate name."""
    if not scale:
        return None
    if isinstance(scale, str):
        return scale.lower()
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
