"""dlviz.figures.masks: mask colours blended by hand, legends, TP/FP/FN counts, hover probabilities."""
import numpy as np
import plotly.graph_objects as go

from dlviz.figures import masks


def test_blend_by_hand():
    gray = np.array([[0.0, 1.0]])
    labels = np.array([[1, 0]])
    out = masks.blend(gray, labels, (None, "#ff0000"), opacity=0.5)
    # pixel 0: black, half red -> (127.5 -> 128, 0, 0); pixel 1: background uncoloured -> white
    assert out.tolist() == [[[128, 0, 0], [255, 255, 255]]]
    assert masks.blend(gray, labels, (None, "#ff0000"), opacity=0.0)[0, 0].tolist() == [0, 0, 0]


def test_overlay_legend_lists_the_coloured_classes_present():
    gray = np.zeros((4, 6))
    labels = np.zeros((4, 6), int)
    labels[0, 0], labels[1, 1] = 3, 8               # digits 2 and 7
    fig = masks.mask_overlay(gray, labels, ("background", *map(str, range(10))), masks.DIGIT_COLORS)
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data if isinstance(t, go.Scatter) and t.showlegend] == ["2", "7"]


def test_binary_hover_carries_both_probabilities():
    p = np.array([[0.2, 0.9]], np.float32)
    probs = np.stack([1 - p, p], -1)
    fig = masks.mask_overlay(np.zeros((1, 2)), (p >= 0.5).astype(int), ("membrane", "cell interior"),
                             masks.MEMBRANE_COLORS, probs=probs)
    hover = fig.data[1]                              # percent, as bytes: compact for a 512×512 slice
    assert np.asarray(hover.z).tolist() == [[20, 90]] and np.asarray(hover.customdata).tolist() == [[80, 10]]
    assert "P(membrane)" in hover.hovertemplate and "P(cell interior)" in hover.hovertemplate


def test_many_class_hover_shows_every_class_probability_in_percent():
    probs = np.array([[[0.1, 0.6, 0.05, 0.25], [0.0, 0.004, 0.996, 0.0]]], np.float32)
    fig = masks.mask_overlay(np.zeros((1, 2)), np.array([[1, 2]]), ("bg", "a", "b", "c"), (None, "#111111",
                             "#222222", "#333333"), probs=probs)
    hover = fig.data[1]
    assert np.asarray(hover.customdata).tolist() == [[[10, 60, 5, 25], [0, 0, 100, 0]]]
    assert np.asarray(hover.customdata).dtype == np.uint8           # sent as bytes, not as text per pixel
    assert hover.hovertemplate.split("<br>")[1:] == [
        "bg: %{customdata[0]}%", "a: %{customdata[1]}% · b: %{customdata[2]}% · c: %{customdata[3]}%<extra></extra>"]


def test_outcome_overlay_counts_in_the_title():
    outcome = np.array([[0, 1, 1, 2, 3, 3, 3]])
    fig = masks.outcome_overlay(np.zeros((1, 7)), outcome, "7")
    assert "TP 2, FP 1, FN 3" in fig.layout.title.text
    assert [type(tr).__name__ for tr in fig.data] == ["Image"] + ["Scatter"] * 3     # the picture and its legend


def test_large_images_are_shown_at_reduced_resolution_in_full_size_coordinates():
    gray = np.zeros((512, 512))
    labels = np.zeros((512, 512), int)
    labels[:, 256:] = 1
    probs = np.stack([1.0 - labels, labels.astype(float)], -1)
    fig = masks.mask_overlay(gray, labels, ("membrane", "cell interior"), masks.MEMBRANE_COLORS, probs=probs)
    image, hover = fig.data[0], fig.data[1]
    assert np.asarray(hover.z).shape == (256, 256) and hover.dx == 2 and image.dx == 2
    assert hover.x0 == 0.5       # block (0, 0) covers full-size pixels 0 and 1
    assert np.asarray(hover.z)[0, 127] == 0 and np.asarray(hover.z)[0, 128] == 100
