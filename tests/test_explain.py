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


# --------------------------------------------------------------------------- other architectures


def small_model(kernel=(3, 1), strides=(1, 2), pool=(2, 1), batchnorm=False):
    """A conv net with non-square kernels, strides and pool windows, optionally a BatchNorm between layers."""
    from keras import layers

    keras.utils.set_random_seed(5)
    inp = keras.Input((28, 28, 1))
    x = layers.Conv2D(4, kernel, strides=strides, padding="same", activation="relu", name="c1")(inp)
    if batchnorm:
        x = layers.BatchNormalization(name="bn")(x)
    x = layers.Conv2D(3, (1, 3), padding="valid", activation="relu", name="c2")(x)
    x = layers.MaxPooling2D(pool, name="p1")(x)
    out = layers.Dense(2, activation="softmax", name="head")(layers.Flatten()(x))
    model = keras.Model(inp, out)
    if batchnorm:   # not the identity: moved mean/variance and scale, so skipping it would show
        bn = model.get_layer("bn")
        bn.set_weights([np.full(4, 1.7, np.float32), np.full(4, -0.3, np.float32),
                        np.full(4, 0.2, np.float32), np.full(4, 2.5, np.float32)])
    return model


def test_geometry_reads_both_sides_of_non_square_kernels_and_strides():
    model = small_model()
    g = explain.geometry(model.get_layer("c1"))
    assert (g.kernel, g.stride, g.padding) == ((3, 1), (1, 2), "same")
    assert explain.geometry(model.get_layer("p1")).kernel == (2, 1)


def test_non_square_layers_arithmetic_and_receptive_field_match_keras(image):
    import tensorflow as tf

    inspector = explain.Inspector(small_model())
    maps, _ = inspector.run(image)
    assert maps["c1"].shape == (28, 14, 4) and maps["c2"].shape == (28, 12, 3) and maps["p1"].shape == (14, 12, 3)
    for layer in ("c1", "c2", "p1"):
        ch, r, c = explain.strongest_cell(maps[layer])
        arith = explain.output_arithmetic(inspector, image, maps, layer, r, c, ch)
        assert arith.computed == pytest.approx(arith.keras_value, rel=1e-4, abs=1e-5), layer
    # Receptive field of c2[5, 4]: the independent oracle is where the gradient of the pre-ReLU sum is non-zero.
    sub = keras.Model(inspector.model.input, inspector.model.get_layer("c2").output)
    x = tf.Variable(np.ones((1, 28, 28, 1), np.float32))
    with tf.GradientTape() as tape:
        out = tf.reduce_sum(sub(x)[0, 5, 4, :])
    rows, cols = np.nonzero(np.abs(tape.gradient(out, x).numpy()[0, :, :, 0]) > 0)
    t, l, b, r = inspector.receptive_field("c2", 5, 4)
    # By hand: c2 reads c1 columns 4..6; c1 column j reads input column 2j (1-wide kernel, stride 2) -> 8, 10, 12;
    # c1 row 5 reads input rows 4..6 (3-tall kernel, same padding).
    assert (t, l, b, r) == (4, 8, 7, 13)
    assert rows.min() >= t and rows.max() < b and cols.min() >= l and cols.max() < r


def test_layer_input_with_a_batchnorm_in_between(image):
    inspector = explain.Inspector(small_model(batchnorm=True))
    maps, _ = inspector.run(image)
    # Independent oracle: Keras' BatchNormalization applied to c1's output by hand, (x - mean) / sqrt(var + eps)
    # * gamma + beta, with the weights set in small_model.
    expected = (maps["c1"] - 0.2) / np.sqrt(2.5 + 1e-3) * 1.7 - 0.3
    np.testing.assert_allclose(inspector.layer_input("c2", image, maps), expected, rtol=1e-5, atol=1e-5)
    ch, r, c = explain.strongest_cell(maps["c2"])
    arith = explain.output_arithmetic(inspector, image, maps, "c2", r, c, ch)
    assert "✓ equals" in explain.arithmetic_story(arith)
    # and the full-image network includes the BatchNorm too
    np.testing.assert_allclose(inspector.fully_convolutional(image, "c2"), maps["c2"], atol=1e-5)


def test_xla_failure_falls_back_and_is_logged(monkeypatch, caplog, image):
    import tensorflow as tf

    real = tf.function

    def no_xla(fn=None, **kw):
        if kw.get("jit_compile") and getattr(fn, "__module__", "") == "dlviz.explain":
            def broken(*a, **k):
                raise RuntimeError("XLA is not available here")
            return broken
        return real(fn, **kw)

    monkeypatch.setattr(tf, "function", no_xla)
    with caplog.at_level("WARNING", logger="dlviz.explain"):
        inspector = explain.Inspector(small_model())
    assert any("XLA" in r.message and r.exc_info for r in caplog.records)
    monkeypatch.setattr(tf, "function", real)
    maps, probs = inspector.run(image)
    np.testing.assert_allclose(probs, inspector.model(image[None, :, :, None]).numpy()[0], atol=1e-5)


# --------------------------------------------------------------------------- shared between sessions (threads)


def test_many_threads_get_exactly_the_serial_results():
    """Streamlit runs every session in its own thread, all sharing the cached Inspector: the input pipeline, the
    forward pass and the lazily built full-image network must give, from 8 threads at once, exactly what one
    thread gets."""
    import io
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image, ImageDraw

    from dlviz.inputs import decode_image, preprocess

    keras.utils.set_random_seed(3)
    inspector = explain.Inspector(build("cnn"))
    uploads = []
    for i in range(12):
        img = Image.new("L", (120 + 10 * i, 160), 230 if i % 2 else 10)
        ImageDraw.Draw(img).line([(20 + i, 30), (90, 40 + 3 * i), (40, 140)], fill=30 if i % 2 else 240, width=9)
        buf = io.BytesIO()
        img.save(buf, "PNG" if i % 3 else "JPEG")
        uploads.append((buf.getvalue(), "fashion" if i % 4 == 0 else "mnist"))

    def work(job):
        data, dataset = job
        x = preprocess(decode_image(data), dataset).image
        maps, probs = inspector.run(x)
        big = inspector.fully_convolutional(x, "conv3")
        return x, maps["conv4"], probs, big

    barrier = threading.Barrier(8)

    def threaded(order):
        barrier.wait()                 # all threads start together, the full-image network not yet built
        return [(i, work(uploads[i])) for i in order]

    orders = [np.random.default_rng(s).permutation(len(uploads)) for s in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(threaded, orders))
    serial = [work(job) for job in uploads]
    for per_thread in results:
        for i, got in per_thread:
            for a, b in zip(got, serial[i]):
                np.testing.assert_array_equal(a, b)
