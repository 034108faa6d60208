"""Feature maps, the arithmetic of one value, receptive fields and layer tables against Keras itself."""
import keras
import numpy as np
import pytest

from dlviz import explain
from dlviz.models import build


@pytest.fixture(scope="module")
def inspector():
    keras.utils.set_random_seed(3)
    model = build("cnn")
    # random weights give signed, varied activations; shift biases so ReLUs are not all dead
    for layer in model.layers:
        if layer.get_weights():
            w, b = layer.get_weights()
            layer.set_weights([w, np.full_like(b, 0.05)])
    return explain.Inspector(model)


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    x = np.zeros((28, 28), np.float32)
    x[5:23, 12:16] = 1.0
    return np.clip(x + 0.1 * rng.random((28, 28)), 0, 1).astype(np.float32)


def test_run_returns_every_spatial_layer_and_the_model_output(inspector, image):
    maps, probs = inspector.run(image)
    assert list(maps) == ["conv1", "conv2", "pool1", "conv3", "conv4", "pool2", "conv5", "conv6"]
    assert maps["pool1"].shape == (14, 14, 16) and maps["conv6"].shape == (7, 7, 64)
    np.testing.assert_allclose(probs, inspector.model(image[None, :, :, None]).numpy()[0], atol=1e-5)


@pytest.mark.parametrize("layer,cell", [("conv1", (3, 0, 0)), ("conv1", (7, 13, 14)), ("conv2", (5, 27, 3)),
                                        ("conv4", (31, 6, 6)), ("conv6", (10, 6, 0))])
def test_numpy_arithmetic_reproduces_the_keras_value(inspector, image, layer, cell):
    maps, _ = inspector.run(image)
    ch, r, c = cell
    arith = explain.output_arithmetic(inspector, image, maps, layer, r, c, ch)
    assert arith.computed == pytest.approx(arith.keras_value, rel=1e-4, abs=1e-5)
    assert arith.terms.products.sum() == pytest.approx(arith.terms.total, rel=1e-6, abs=1e-6)
    assert "✓ equals" in explain.arithmetic_story(arith)


@pytest.mark.parametrize("layer", ["pool1", "pool2"])
def test_pooling_values_come_from_their_window(inspector, image, layer):
    maps, _ = inspector.run(image)
    ch, r, c = explain.strongest_cell(maps[layer])
    arith = explain.output_arithmetic(inspector, image, maps, layer, r, c, ch)
    assert arith.computed == pytest.approx(arith.keras_value, rel=1e-5)
    assert arith.pool_window.max() == pytest.approx(arith.keras_value, rel=1e-5)
    wr, wc = explain.winner(arith)
    assert arith.pool_window[wr, wc] == arith.pool_window.max()


def test_receptive_fields_grow_through_the_stack(inspector):
    assert inspector.receptive_field("conv1", 10, 10) == (9, 9, 12, 12)
    assert inspector.receptive_field("conv2", 10, 10) == (8, 8, 13, 13)
    t, l, b, r = inspector.receptive_field("conv6", 3, 3)
    assert b - t > 20 and r - l > 20


def test_receptive_field_is_where_the_gradient_is_nonzero(inspector, image):
    import tensorflow as tf

    sub = keras.Model(inspector.model.input, inspector.model.get_layer("conv4").output)
    x = tf.Variable(image[None, :, :, None])
    with tf.GradientTape() as tape:
        # linear part only: sum over channels of one position, before any dead ReLU hides a dependency
        out = tf.reduce_sum(sub(x)[0, 5, 8, :])
    grad = np.abs(tape.gradient(out, x).numpy()[0, :, :, 0]) > 0
    rows, cols = np.nonzero(grad)
    t, l, b, r = inspector.receptive_field("conv4", 5, 8)
    assert rows.min() >= t and rows.max() < b and cols.min() >= l and cols.max() < r


def test_fully_convolutional_matches_the_model_on_a_28x28_input(inspector, image):
    maps, _ = inspector.run(image)
    np.testing.assert_allclose(inspector.fully_convolutional(image, "conv4"), maps["conv4"], atol=1e-5)
    big = inspector.fully_convolutional(np.zeros((100, 60), np.float32), "pool2")
    assert big.shape == (25, 15, 32)


def test_layer_table_formulas_agree_with_keras(inspector):
    rows = {r.name: r for r in explain.layer_table(inspector.model)}
    assert rows["conv3"].params_formula == "3·3·16·32 + 32 = 4640" and rows["conv3"].params == 4640
    assert rows["conv3"].macs == 14 * 14 * 3 * 3 * 16 * 32
    assert rows["dense1"].params == 401536 and rows["dense1"].macs == 3136 * 128
    assert rows["pool1"].params == 0 and rows["pool1"].macs == 0


def test_clicked_cell_reads_the_customdata_of_a_selection():
    class Event:
        class selection:  # noqa: N801 - mimics Streamlit's attribute access
            points = [{"x": 3, "y": 4, "customdata": [5, 4, 3]}]

    assert explain.clicked_cell(Event) == (5, 4, 3)
    assert explain.clicked_cell(None) is None


def test_nearest_preset_recognises_hand_designed_kernels_in_any_orientation():
    from dlviz import ops

    sobel = ops.kernel_preset("sobel x", 3)
    assert explain.nearest_preset(sobel) == ("sobel x", pytest.approx(1.0))
    name, sim = explain.nearest_preset(-2.0 * ops.kernel_preset("sobel y", 3) + 0.3)
    assert name == "−sobel y" and sim == pytest.approx(1.0)
    assert explain.nearest_preset(np.zeros((3, 3))) == ("flat", 0.0)


def test_clicked_cell_accepts_typed_array_customdata():
    class Event:
        class selection:  # noqa: N801
            points = [{"customdata": {"0": 2, "1": 7, "2": 1}}]

    assert explain.clicked_cell(Event) == (2, 7, 1)


def test_strongest_cell_skips_background_maps():
    fmap = np.zeros((10, 10, 2), np.float32)
    fmap[..., 0] = 0.9                 # a "background" map: high everywhere, nothing stands out
    fmap[4, 6, 1] = 0.5                # a real, localised response
    assert explain.strongest_cell(fmap) == (1, 4, 6)
