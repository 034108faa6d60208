"""Uploaded models: what is refused and why, and that the pages' maths works on models the tests build themselves."""
import io
import json
import zipfile

import keras
import numpy as np
import pytest
from keras import layers

from dlviz import explain, user_model
from dlviz.inputs import ChosenInput
from dlviz.inputs.adapt import adapt, scale, unscale
from dlviz.user_model import UserModelError, class_names, load_user_model


def save(model, tmp_path, name="m.keras") -> bytes:
    path = tmp_path / name
    model.save(path)
    return path.read_bytes()


def rgb_cnn() -> keras.Model:
    """A tiny CIFAR-like CNN: 32×32 RGB, Sequential."""
    keras.utils.set_random_seed(1)
    return keras.Sequential([keras.Input((32, 32, 3)), layers.Conv2D(6, 3, activation="relu", name="c1"),
                             layers.MaxPooling2D(name="p1"), layers.Conv2D(8, 3, padding="same", activation="relu",
                                                                           name="c2"),
                             layers.AveragePooling2D(2, name="p2"), layers.Flatten(), layers.Dense(10, name="out")])


def bn_strided() -> keras.Model:
    """Functional: a strided conv, a dilated conv, Conv → BatchNorm → ReLU, 64×64 grey, softmax head."""
    keras.utils.set_random_seed(2)
    inp = keras.Input((64, 64, 1))
    x = layers.Conv2D(4, 5, strides=2, padding="same", activation="relu", name="strided")(inp)
    x = layers.Conv2D(4, 3, dilation_rate=2, padding="valid", activation="relu", name="dilated")(x)
    x = layers.Conv2D(6, 3, padding="same", name="pre_bn")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="relu")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool")(x)
    out = layers.Dense(3, activation="softmax", name="head")(layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inp, out)
    model.get_layer("bn").set_weights([np.linspace(0.5, 2, 6, dtype="float32"), np.full(6, 0.1, "float32"),
                                       np.linspace(-0.2, 0.3, 6, dtype="float32"), np.full(6, 1.7, "float32")])
    return model


def nested() -> keras.Model:
    """A Sequential block inside a functional model, with a layer name used both inside and outside."""
    keras.utils.set_random_seed(3)
    block = keras.Sequential([keras.Input((14, 14, 8)), layers.Conv2D(8, 3, padding="same", activation="relu",
                                                                      name="conv"),
                              layers.MaxPooling2D(name="pool")], name="block")
    inp = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inp)
    x = layers.MaxPooling2D(name="pool")(x)
    x = block(x)
    out = layers.Dense(10, activation="softmax")(layers.Flatten()(x))
    return keras.Model(inp, out)


def busy_image(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape).astype("float32")


def every_value_checks(inspector, image):
    maps, _ = inspector.run(image)
    for name in inspector.names:
        ch, r, c = explain.strongest_cell(maps[name])
        arith = explain.output_arithmetic(inspector, image, maps, name, r, c, ch)
        assert arith.computed == pytest.approx(arith.keras_value, rel=1e-4, abs=1e-4), name
        assert "✓ equals" in explain.arithmetic_story(arith), name
    return maps


# --------------------------------------------------------------------------- models that load


def test_a_tiny_rgb_cnn_loads_and_every_value_is_explained(tmp_path):
    m = load_user_model(save(rgb_cnn(), tmp_path), "cifar.keras")
    assert (m.input_shape, m.classes, m.softmax, m.scaling) == ((32, 32, 3), 10, False, "[0, 1]")
    inspector = explain.Inspector(m.model, xla=False)
    image = busy_image((32, 32, 3))
    maps = every_value_checks(inspector, image)
    assert maps["c1"].shape == (30, 30, 6) and maps["p2"].shape == (7, 7, 8)
    arith = explain.output_arithmetic(inspector, image, maps, "c1", 4, 5, 2)
    assert arith.terms.patch.shape == (3, 3, 3)       # three colour channels under the kernel
    rows = {r.name: r for r in explain.layer_table(m.model)}
    assert rows["c1"].params_formula == "3·3·3·6 + 6 = 168" and rows["c1"].params == 168


def test_batchnorm_strides_and_dilation_match_keras(tmp_path):
    m = load_user_model(save(bn_strided(), tmp_path), "bn.keras")
    inspector = explain.Inspector(m.model)
    image = busy_image((64, 64, 1))
    maps = every_value_checks(inspector, image)
    assert maps["strided"].shape == (32, 32, 4) and maps["dilated"].shape == (28, 28, 4)
    # BatchNorm after pre_bn: shown with its own numbers and folded into the conv
    ch, r, c = explain.strongest_cell(maps["pre_bn"])
    arith = explain.output_arithmetic(inspector, image, maps, "pre_bn", r, c, ch)
    bn = arith.batchnorm
    assert bn is not None and bn.layer == "bn"
    assert bn.value == pytest.approx(bn.keras_value, rel=1e-4, abs=1e-4)
    assert arith.terms.total * bn.folded_scale + bn.folded_bias == pytest.approx(bn.keras_value, rel=1e-4, abs=1e-4)
    story = explain.arithmetic_story(arith)
    assert "BatchNorm `bn`" in story and "Folded" in story
    # dilation: the kernel has holes, and the receptive field grows by the effective size
    d = explain.output_arithmetic(inspector, image, maps, "dilated", 3, 3, 0)
    assert d.terms.weights.shape[:2] == (5, 5) and np.all(d.terms.weights[1::2, :, :] == 0)
    assert "dilation 2×2" in explain.arithmetic_story(d)
    t, l, b, r = inspector.receptive_field("dilated", 3, 3)
    assert (b - t, r - l) == (5 + 4 * 2, 5 + 4 * 2)


def test_a_nested_sub_model_is_opened_and_names_are_paths(tmp_path):
    m = load_user_model(save(nested(), tmp_path), "nested.keras")
    inspector = explain.Inspector(m.model)
    assert inspector.names == ["conv", "pool", "block/conv", "block/pool"]
    image = busy_image((28, 28, 1), 4)
    maps = every_value_checks(inspector, image)
    assert maps["block/pool"].shape == (7, 7, 8)
    # by hand: block/conv row 3 reads pool rows 2..4, i.e. conv rows 4..9, i.e. input rows 3..10
    assert inspector.receptive_field("block/conv", 3, 3) == (3, 3, 11, 11)
    rows = [r.name for r in explain.layer_table(m.model)]
    assert "block/conv" in rows and "conv" in rows
    np.testing.assert_allclose(inspector.fully_convolutional(image, "block/conv"), maps["block/conv"], atol=1e-5)


def test_a_sequential_without_input_layer_and_a_rescaling_model(tmp_path):
    s = keras.Sequential([layers.Rescaling(1 / 255), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(4)])
    s.build((None, 16, 16, 1))
    m = load_user_model(save(s, tmp_path), "scaled.keras")
    assert m.scaling == "0–255" and m.input_shape == (16, 16, 1)


# --------------------------------------------------------------------------- refused


def test_a_lambda_layer_is_refused_and_its_code_never_runs(tmp_path):
    marker = tmp_path / "lambda_ran"
    # a real Python lambda: Keras stores its bytecode in the file, which would write the marker when run
    touch = eval(f"lambda x: (open({str(marker)!r}, 'w').write('the uploaded code ran'), x)[1]")
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Lambda(touch), layers.Conv2D(2, 3), layers.Flatten(),
                              layers.Dense(2)])
    assert "__lambda__" in json.dumps(json.loads(zipfile.ZipFile(io.BytesIO(save(model, tmp_path))).read(
        "config.json")))
    data = save(model, tmp_path)
    marker.unlink()                             # building the model ran it once, here in the test
    with pytest.raises(UserModelError, match="Lambda"):
        load_user_model(data, "evil.keras")
    assert not marker.exists()
    # and the second line alone (Keras' safe_mode, without our config check) refuses it too
    with pytest.raises(UserModelError, match="run Python code"):
        user_model._load(data, "evil.keras")
    assert not marker.exists()
    # the check above can fail: the same file loaded unsafely does run the code
    unsafe = keras.saving.load_model(tmp_path / "m.keras", safe_mode=False)
    unsafe(np.zeros((1, 8, 8, 1), "float32"))
    assert marker.exists()


def zip_with(config: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", json.dumps(config))
        z.writestr("metadata.json", "{}")
        z.writestr("model.weights.h5", b"")
    return buf.getvalue()


def test_custom_classes_from_other_modules_are_refused_before_keras_reads_them():
    config = {"module": "keras", "class_name": "Sequential", "config": {"layers": [
        {"module": "os", "class_name": "system", "config": {"command": "touch /tmp/x"}, "registered_name": None}]}}
    with pytest.raises(UserModelError, match="custom code"):
        load_user_model(zip_with(config), "custom.keras")
    config["config"]["layers"][0] = {"module": None, "class_name": "MyLayer", "registered_name": "mypkg>MyLayer"}
    with pytest.raises(UserModelError, match="custom"):
        load_user_model(zip_with(config), "custom.keras")
    config["config"]["layers"][0] = {"module": "keras.layers", "class_name": "TFSMLayer",
                                     "config": {"filepath": "/etc"}, "registered_name": None}
    with pytest.raises(UserModelError, match="TFSMLayer"):
        load_user_model(zip_with(config), "savedmodel.keras")


def test_not_keras_files_are_refused_with_their_reason(tmp_path, monkeypatch):
    good = save(rgb_cnn(), tmp_path)
    cases = [(b"", "empty"), (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "not a Keras model file"),
             (b"\x89HDF\r\n\x1a\n" + b"0" * 100, "HDF5"), (good[: len(good) // 2], "damaged"),
             (zip_with({"a": 1})[:0] or _zip_without_config(), "not a Keras model")]
    for data, reason in cases:
        with pytest.raises(UserModelError, match=reason):
            load_user_model(data, "x.keras")
    monkeypatch.setattr(user_model, "MAX_MODEL_BYTES", 1000)
    with pytest.raises(UserModelError, match="up to"):
        load_user_model(good, "big.keras")


def _zip_without_config() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "hello")
    return buf.getvalue()


def test_a_corrupt_weights_file_is_refused(tmp_path):
    data = save(rgb_cnn(), tmp_path)
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for item in src.infolist():
            z.writestr(item, src.read(item) if item.filename != "model.weights.h5" else b"garbage")
    with pytest.raises(UserModelError, match="could not be loaded"):
        load_user_model(buf.getvalue(), "broken.keras")


@pytest.mark.parametrize("build,reason", [
    (lambda: keras.Sequential([keras.Input((10,)), layers.Dense(3)]), "not images"),
    (lambda: keras.Sequential([keras.Input((8, 8, 4)), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(2)]),
     "4 channels"),
    (lambda: keras.Sequential([keras.Input((8, 8, 1)), layers.Flatten(), layers.Dense(2)]), "no Conv2D"),
    (lambda: keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3)]), "one score per class"),
    (lambda: keras.Sequential([keras.Input((None, None, 1)), layers.Conv2D(2, 3), layers.GlobalMaxPooling2D()]),
     "fixed input size"),
])
def test_models_that_are_not_image_classifiers_are_refused(tmp_path, build, reason):
    with pytest.raises(UserModelError, match=reason):
        load_user_model(save(build(), tmp_path), "odd.keras")


def test_class_names():
    assert class_names("cat, dog\nbird", 4) == ["cat", "dog", "bird", "3"]
    assert class_names("", 2) == ["0", "1"]
    with pytest.raises(UserModelError, match="only 2"):
        class_names("a,b,c", 2)


# --------------------------------------------------------------------------- inputs adapted to the model


def test_adapt_fits_size_channels_and_scaling():
    rgb = np.zeros((90, 60, 3), np.uint8)
    rgb[:, :30] = (255, 0, 0)                              # left half red
    choice = ChosenInput.from_rgb(rgb, "upload", "flag.png")
    a = adapt(choice, (32, 32, 3), "[-1, 1]", "whole image")
    assert a.x.shape == (32, 32, 3) and a.x.min() == pytest.approx(-1) and a.x.max() == pytest.approx(1)
    assert a.x[16, 2, 0] == pytest.approx(1) and a.x[16, 30, 0] == pytest.approx(-1)   # red stays left
    g = adapt(choice, (64, 64, 1), "0–255", "whole image")
    assert g.x.shape == (64, 64, 1) and 0 <= g.x.min() and g.x.max() <= 255 and g.display.shape == (64, 64)
    digit = np.zeros((200, 200, 3), np.uint8)
    digit[40:160, 90:110] = 255
    d = adapt(ChosenInput.from_rgb(digit, "draw", "d"), (28, 28, 1), "[0, 1]", "mnist")
    assert d.x.shape == (28, 28, 1) and d.x[14, 14, 0] > 0.5 and d.x[14, 3, 0] == 0
    np.testing.assert_allclose(unscale(scale(d.display, "[-1, 1]"), "[-1, 1]"), d.display, atol=1e-6)
