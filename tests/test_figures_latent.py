"""dlviz.figures.latent: the Autoencoder page's figures (arrays in, Plotly figures out)."""
import base64
import io
import types

import numpy as np
from PIL import Image

from dlviz.figures import latent as lfig


def test_mosaic_sends_the_tiles_as_one_png_in_row_major_order():
    images = np.zeros((6, 28, 28), np.float32)
    for k in range(6):
        images[k] = k / 5
    fig = lfig.mosaic(images, 2, 3, x_values=[-1.0, 0.0, 1.0], y_values=[2.0, -2.0])
    src = fig.data[0].source
    png = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    arr = np.asarray(png)
    assert arr.shape == (56, 84)
    assert arr[0, 0] == 0 and arr[0, 28] == 51 and arr[28, 0] == 153 and arr[55, 83] == 255
    assert list(fig.layout.xaxis.ticktext) == ["-1.00", "0.00", "1.00"]
    assert list(fig.layout.yaxis.ticktext) == ["2.00", "-2.00"]


def test_reconstructions_error_maps_share_one_scale():
    x = np.zeros((28, 28), np.float32)
    x[10:18, 10:18] = 1
    good, bad = x * 0.9, np.zeros_like(x)
    fig = lfig.reconstructions(x, [("good", good), ("bad", bad)])
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 6                             # input + 2 reconstructions, 3 error panels
    errors = heatmaps[3:]
    assert len({t.zmax for t in errors}) == 1 and errors[0].zmax == 1.0
    texts = [a.text for a in fig.layout.annotations]
    assert f"MSE {((x - good) ** 2).mean():.4f}" in texts and f"MSE {(x ** 2).mean():.4f}" in texts
    for axis in (fig.layout.yaxis, fig.layout.yaxis6):
        assert 0 <= axis.domain[0] <= axis.domain[1] <= 1


def test_latent_scatter_has_a_clickable_grid_and_one_trace_per_class():
    pts = np.random.default_rng(0).normal(size=(200, 2))
    labels = np.arange(200) % 10
    fig = lfig.latent_scatter(pts, labels, [str(c) for c in range(10)], (-3, 3, -3, 3), user=np.zeros(2),
                              ellipse=(np.zeros(2), np.ones(2)), grid=30)
    grid = fig.data[0]
    assert len(grid.x) == 900 and grid.marker.opacity == 0 and np.all(np.asarray(grid.customdata)[:, 2] == -1)
    classes = [t for t in fig.data if t.name in {str(c) for c in range(10)}]
    assert len(classes) == 10 and sum(len(t.x) for t in classes) == 200
    seven = next(t for t in classes if t.name == "7")
    idx = np.asarray(seven.customdata)[:, 2].astype(int)
    assert np.all(labels[idx] == 7)
    np.testing.assert_allclose(np.asarray(seven.x), pts[idx, 0], atol=1e-6)
    assert {t.name for t in fig.data} >= {"your input", "μ ± 1σ"}


def test_clicked_latent_reads_plain_and_typed_customdata():
    event = types.SimpleNamespace(selection=types.SimpleNamespace(points=[{"customdata": {"0": 0.5, "1": -1.0,
                                                                                            "2": -1}}]))
    assert lfig.clicked_latent(event) == (0.5, -1.0, -1)
    event.selection.points = [{"customdata": [1.0, 2.0, 17]}]
    assert lfig.clicked_latent(event) == (1.0, 2.0, 17)
    assert lfig.clicked_latent(None) is None


def test_error_histogram_and_roc():
    rng = np.random.default_rng(0)
    fig = lfig.error_histogram(rng.gamma(2, 0.01, 1000), rng.gamma(2, 0.05, 1000), 0.05, 0.2, "anomaly",
                               "MNIST", "Fashion")
    bars = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in bars] == ["MNIST", "Fashion"]
    assert abs(sum(bars[0].y) - 1) < 1e-9                      # shares of images
    # scores near 100 (cross-entropy per image): the log axis spans the data, labels sit at log10 of their line
    kl = lfig.error_histogram(rng.gamma(9, 4, 1000), rng.gamma(9, 12, 1000), 106.4, 31.5, "normal", "F", "M")
    lo, hi = kl.layout.xaxis.range
    assert 10 ** lo <= 31.5 and 10 ** hi >= 106.4 and hi < 4, (lo, hi)
    assert sorted(round(a.x, 3) for a in kl.layout.annotations) == [round(np.log10(31.5), 3), round(np.log10(106.4), 3)]
    roc = lfig.roc(np.array([0, 0.5, 1]), np.array([0, 0.9, 1]), 0.7, (0.1, 0.6))
    assert "AUC = 0.7000" in roc.layout.title.text and roc.data[-1].name == "your threshold"
