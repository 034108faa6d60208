"""GAN figures: the mosaic layout, the PNG tiles, click parsing, smoothing, and what each figure carries."""
import base64
import io
from types import SimpleNamespace

import numpy as np
from PIL import Image

from dlviz.figures import gan as gfig


def test_mosaic_places_tiles_row_by_row_with_transparent_gaps():
    images = np.stack([np.full((2, 3), v, np.float32) for v in (0.1, 0.2, 0.3)])
    big = gfig.mosaic(images, cols=2, gap=1)
    assert big.shape == (2 * 2 + 1, 2 * 3 + 1)
    assert np.all(big[0:2, 0:3] == np.float32(0.1)) and np.all(big[0:2, 4:7] == np.float32(0.2))
    assert np.all(big[3:5, 0:3] == np.float32(0.3))
    assert np.isnan(big[3:5, 4:7]).all() and np.isnan(big[2, :]).all() and np.isnan(big[:, 3]).all()


def test_png_source_round_trips_pixels_and_transparency():
    img = np.array([[0.0, 1.0], [np.nan, 0.5]])
    uri = gfig.png_source(img)
    assert uri.startswith("data:image/png;base64,")
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    np.testing.assert_array_equal(decoded[..., 0], [[0, 255], [0, 128]])
    np.testing.assert_array_equal(decoded[..., 1], [[255, 255], [0, 255]])


def test_sample_grid_is_one_image_with_one_clickable_point_per_sample():
    fig = gfig.sample_grid(np.random.default_rng(0).random((10, 28, 28)), cols=4, selected=5, clickable=True)
    kinds = [t.type for t in fig.data]
    assert kinds == ["image", "scatter"]
    assert [list(c) for c in fig.data[1].customdata] == [[i] for i in range(10)]
    # tile 5 = row 1, column 1: its centre and its outline
    assert fig.data[1].x[5] == 1 * 30 + 14 - 0.5 and fig.data[1].y[5] == 1 * 30 + 14 - 0.5
    rect = fig.layout.shapes[0]
    assert (rect.x0, rect.x1, rect.y0, rect.y1) == (29, 58, 29, 58)


def test_clicked_tile_reads_lists_and_browser_typed_arrays():
    assert gfig.clicked_tile(SimpleNamespace(selection=SimpleNamespace(points=[{"customdata": [7]}]))) == 7
    assert gfig.clicked_tile(SimpleNamespace(selection=SimpleNamespace(points=[{"customdata": {"0": 3}}]))) == 3
    assert gfig.clicked_tile(SimpleNamespace(selection=SimpleNamespace(points=[]))) is None
    assert gfig.clicked_tile(None) is None


def test_smooth_is_a_trailing_moving_average():
    np.testing.assert_allclose(gfig.smooth(np.array([2.0, 4, 6, 8]), 2), [2, 3, 5, 7])
    np.testing.assert_allclose(gfig.smooth(np.array([1.0, 2, 3]), 1), [1, 2, 3])


def test_loss_curves_stop_at_the_slider_step_but_keep_the_whole_x_range():
    steps = np.arange(1, 101)
    fig = gfig.loss_curves(steps, {"d_loss": np.ones(100), "g_loss": np.zeros(100)}, upto=40, total=100)
    assert max(fig.data[0].x) == 40 and tuple(fig.layout.xaxis.range) == (0, 100)
    assert [t.name for t in fig.data if t.showlegend is not False] == ["d_loss", "g_loss"]


def test_score_histogram_marks_the_users_score():
    fig = gfig.score_histogram(np.zeros(5), np.ones(5), 0.7, "logit")
    assert [t.type for t in fig.data] == ["histogram", "histogram"]
    assert fig.layout.shapes[0].x0 == 0.7 and "0.70" in fig.layout.annotations[0].text


def test_class_histogram_in_percent_with_the_five_percent_line():
    shares = np.array([0.5, 0.5] + [0.0] * 8)
    fig = gfig.class_histogram(shares, [str(i) for i in range(10)], reference=np.full(10, 0.1))
    np.testing.assert_allclose(fig.data[0].y[:3], [50, 50, 0])
    assert fig.layout.shapes[0].y0 == 5
