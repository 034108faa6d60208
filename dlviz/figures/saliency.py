"""Saliency maps laid over the user's input. Arrays in, figures out; nothing here runs a model."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from dlviz.figures.maps import _panels

HEAT = "Turbo"          # blue (little) to red (much): reads on white ink and on black background alike


def _heat_rgb(heat01: np.ndarray, colorscale: str = HEAT) -> np.ndarray:
    """(H, W) in [0, 1] -> (H, W, 3) float in [0, 1] through a Plotly colour scale."""
    scale = plotly.colors.get_colorscale(colorscale)
    stops = np.array([s for s, _ in scale], dtype=np.float32)
    colors = np.array([plotly.colors.unlabel_rgb(plotly.colors.convert_colors_to_same_type(c, "rgb")[0][0])
                       for _, c in scale], dtype=np.float32) / 255.0
    flat = np.clip(heat01, 0, 1).ravel()
    rgb = np.stack([np.interp(flat, stops, colors[:, i]) for i in range(3)], axis=-1)
    return rgb.reshape(*heat01.shape, 3)


def overlay(base: np.ndarray, heat01: np.ndarray, opacity: float = 0.6, colorscale: str = HEAT,
            dim: float = 0.55) -> np.ndarray:
    """The input (H, W) grey or (H, W, 3) in [0, 1] with the saliency (H, W) in [0, 1] painted over it.

    The input is dimmed (× dim) so that the bright end of the colour scale stands out even on white ink; each
    pixel's paint is as opaque as opacity × its saliency: where the map is zero the (dimmed) input shows
    unchanged, so "the model ignores this" reads as "untouched". Returns (H, W, 3) uint8.
    """
    rgb = (np.repeat(base[..., None], 3, axis=-1) if base.ndim == 2 else base) * float(dim)
    alpha = float(np.clip(opacity, 0, 1)) * np.clip(heat01, 0, 1)[..., None]
    out = (1 - alpha) * rgb + alpha * _heat_rgb(heat01, colorscale)
    return np.round(np.clip(out, 0, 1) * 255).astype(np.uint8)


def saliency_panels(base: np.ndarray, maps: Sequence[tuple[str, np.ndarray]], opacity: float = 0.6,
                    height: int = 300, title_size: int = 13) -> go.Figure:
    """One overlay per method, side by side; hovering a pixel shows its saliency (0–1)."""
    traces = []
    for _, heat in maps:
        img = overlay(base, heat, opacity)
        traces.append(go.Image(z=img, customdata=np.round(heat, 3),
                               hovertemplate="row %{y}, col %{x}: %{customdata:.3f}<extra></extra>"))
    fig = _panels(traces, [title for title, _ in maps], height, gap=0.02, title_size=title_size)
    fig.update_layout(margin=dict(l=10, r=10, t=70, b=10))     # room for titles broken over three lines
    return fig
