"""Every chart the app shows, in one place: presenter style, the PNG button's file name, and the exports.

Pages keep calling `st.plotly_chart(fig, key=...)` (or `column.plotly_chart`). `install()` (once per process,
from `dlviz.ui.shell.start_up`) wraps Streamlit's public `plotly_chart` so that every chart, on every page and in
every fragment rerun:

* is drawn in presenter style (`dlviz.figures.style.presenter`) while the session's presenter mode is on;
* gets Plotly's own "download as PNG" button with a useful file name (`dlviz-<page>-<chart key>.png`) at 2× scale;
* is remembered for the session's exports: the arrays behind the view as `.npz` and a self-contained HTML
  snapshot of the page's current view (`npz_bytes`, `html_snapshot`), built when the user clicks download.

Wrapping is the one way to reach charts that other developers add tomorrow without asking each page to change;
`tests/test_links.py` checks that a page's charts are recorded and restyled, so a Streamlit upgrade that changes
`plotly_chart` fails there.
"""
from __future__ import annotations

import datetime as _dt
import functools
import html
import io
import threading
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dlviz.figures.style import presenter

PRESENTER = "present"              # the presenter toggle's key and URL parameter (?present=true)
VIEW = "dlviz.export.view"         # this session's ViewRecord
_installed = False
_lock = threading.Lock()


@dataclass
class ViewRecord:
    """The charts of the current view, by key, in drawing order. Cleared at the start of every full run (app.py);
    a fragment rerun replaces its own charts, so the record always matches the screen."""
    page: str = ""
    url: str = ""
    language: str = "en"
    figures: dict[str, go.Figure] = field(default_factory=dict)

    def clear(self, page: str, url: str, language: str) -> None:
        self.page, self.url, self.language = page, url, language
        self.figures.clear()


def view_record() -> ViewRecord:
    return st.session_state.setdefault(VIEW, ViewRecord())


def presenter_on() -> bool:
    return bool(st.session_state.get(PRESENTER, False))


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-") or "figure"


def _wrap(original):
    @functools.wraps(original)
    def plotly_chart(self, figure_or_data, *args, **kwargs):
        if not isinstance(figure_or_data, go.Figure):
            return original(self, figure_or_data, *args, **kwargs)
        record = view_record()
        key = kwargs.get("key")
        name = str(key) if key is not None else f"chart-{len(record.figures) + 1}"
        fig = presenter(figure_or_data) if presenter_on() else figure_or_data
        record.figures[name] = fig
        config = dict(kwargs.get("config") or {})
        config.setdefault("displaylogo", False)
        config.setdefault("toImageButtonOptions", {"format": "png", "scale": 2,
                                                   "filename": f"dlviz-{_slug(record.page)}-{_slug(name)}"})
        kwargs["config"] = config
        return original(self, fig, *args, **kwargs)
    plotly_chart.__dlviz_wrapped__ = True
    return plotly_chart


def install() -> None:
    """Wrap `DeltaGenerator.plotly_chart` and `st.plotly_chart` once per process."""
    global _installed
    with _lock:
        if _installed or getattr(DeltaGenerator.plotly_chart, "__dlviz_wrapped__", False):
            _installed = True
            return
        DeltaGenerator.plotly_chart = _wrap(DeltaGenerator.plotly_chart)
        main = st.plotly_chart.__self__            # the main-area DeltaGenerator st.plotly_chart is bound to
        st.plotly_chart = DeltaGenerator.plotly_chart.__get__(main)
        _installed = True


# --------------------------------------------------------------------------- exports

def _arrays(fig: go.Figure) -> dict[str, np.ndarray]:
    """The numeric arrays of a figure's traces: z of heatmaps and images, x/y of curves and bars."""
    out = {}
    for i, trace in enumerate(fig.data):
        for attr in ("z", "x", "y"):
            value = getattr(trace, attr, None)
            if value is None or isinstance(value, str):
                continue
            arr = np.asarray(value)
            if arr.dtype == object:
                try:
                    arr = arr.astype(float)
                except (TypeError, ValueError):
                    arr = arr.astype(str)
            if arr.size:
                out[f"{i}.{trace.type}.{attr}"] = arr
    return out


def npz_bytes(record: ViewRecord) -> bytes:
    """Every chart's arrays in one `.npz`: names `<chart key>/<trace>.<type>.<x|y|z>` (np.load(...).files)."""
    arrays = {f"{name}/{part}": arr for name, fig in record.figures.items() for part, arr in _arrays(fig).items()}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def html_snapshot(record: ViewRecord, title: str, note: str) -> str:
    """One HTML file with plotly.js inlined and every chart of the view, interactive, readable offline."""
    parts = []
    for i, (name, fig) in enumerate(record.figures.items()):
        parts.append(f"<section><h3>{html.escape(name)}</h3>" +
                     pio.to_html(fig, full_html=False, include_plotlyjs="inline" if i == 0 else False,
                                 config={"displaylogo": False}) + "</section>")
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    link = f'<a href="{html.escape(record.url)}">{html.escape(record.url)}</a>' if record.url else ""
    return (f"<!doctype html><html lang=\"{record.language}\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:1200px;"
            f"margin:2em auto}} section{{margin-bottom:2em}} h3{{font-size:0.9em;color:#666}}</style></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{html.escape(note)} {stamp}<br>{link}</p>"
            + "".join(parts) + "</body></html>")
