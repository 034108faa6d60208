"""The training CLI writes weights and measured metrics; the registry loads them back or explains why not."""
import json

import numpy as np
import pytest

from dlviz import registry, train
from dlviz.datasets import load_arrays
from tests.conftest import write_fake_dataset


def test_training_writes_a_manifest_entry_with_measured_metrics(tiny_pretrained):
    d, name = tiny_pretrained
    entry = json.loads((d / "manifest.json").read_text())["models"][name]
    assert entry["file"] == f"{name}.weights.h5"
    assert entry["sha256"] == registry.sha256_of(d / entry["file"])
    assert entry["params"] == sum(layer["params"] for layer in entry["layers"])
    assert [l["params"] for l in entry["layers"] if l["params"]] == [160, 2320, 4640, 9248, 18496, 36928, 401536, 1290]
    assert entry["command"].startswith("python -m dlviz.train cnn --dataset mnist")
    # the metrics are what the saved model really scores on the test split
    model = registry.load_model(name, d)
    _, (x_test, y_test) = load_arrays("mnist", d / "mnist.npz")
    pred = model.predict_on_batch(x_test[..., None] / 255.0).argmax(1)
    assert entry["metrics"]["test_accuracy"] == pytest.approx(float((pred == y_test).mean()), abs=1e-4)
    assert np.array(entry["metrics"]["confusion"]).sum() == len(y_test)


def test_same_seed_gives_the_same_weights_file(tmp_path, tiny_pretrained):
    d, name = tiny_pretrained
    data = write_fake_dataset(tmp_path / "mnist.npz")
    train.main(["cnn", "--dataset", "mnist", "--data", str(data), "--epochs", "2", "--out", str(tmp_path),
                "--name", name])
    again = json.loads((tmp_path / "manifest.json").read_text())["models"][name]
    first = json.loads((d / "manifest.json").read_text())["models"][name]
    assert again["sha256"] == first["sha256"]


def test_missing_weights_give_a_clear_error(tiny_pretrained, tmp_path):
    d, name = tiny_pretrained
    (tmp_path / "manifest.json").write_text((d / "manifest.json").read_text())
    with pytest.raises(registry.ModelUnavailable, match="missing.*git checkout"):
        registry.load_model(name, tmp_path)


def test_corrupt_weights_are_refused_before_keras_reads_them(tiny_pretrained, tmp_path):
    d, name = tiny_pretrained
    (tmp_path / "manifest.json").write_text((d / "manifest.json").read_text())
    blob = bytearray((d / f"{name}.weights.h5").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (tmp_path / f"{name}.weights.h5").write_bytes(bytes(blob))
    with pytest.raises(registry.ModelUnavailable, match="corrupt or were replaced"):
        registry.load_model(name, tmp_path)


def test_weights_that_match_the_hash_but_not_the_architecture(tiny_pretrained, tmp_path):
    d, name = tiny_pretrained
    manifest = json.loads((d / "manifest.json").read_text())
    (tmp_path / "x.weights.h5").write_bytes(b"not an hdf5 file")
    manifest["models"][name].update(file="x.weights.h5", sha256=registry.sha256_of(tmp_path / "x.weights.h5"))
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(registry.ModelUnavailable, match="Could not load"):
        registry.load_model(name, tmp_path)


def test_unknown_model_lists_the_available_ones(tiny_pretrained):
    d, name = tiny_pretrained
    with pytest.raises(registry.ModelUnavailable, match=f"available: {name}"):
        registry.load_model("nope", d)


def test_samples_are_the_first_per_class_test_images(tmp_path):
    for file in ("mnist.npz", "fashion_mnist.npz"):
        write_fake_dataset(tmp_path / file, seed=1)
    train.make_samples(str(tmp_path), tmp_path, per_class=3)
    x, y = registry.load_samples("fashion", tmp_path)
    _, (x_test, y_test) = load_arrays("fashion", tmp_path)
    assert x.shape == (30, 28, 28) and x.dtype == np.uint8
    assert list(y) == [c for c in range(10) for _ in range(3)]
    assert np.array_equal(x[0], x_test[np.flatnonzero(y_test == 0)[0]])
    assert json.loads((tmp_path / "manifest.json").read_text())["samples"]["sha256"] == \
        registry.sha256_of(tmp_path / "samples.npz")


def test_committed_models_are_intact_and_accurate_on_the_bundled_samples():
    cards = registry.model_cards(family="cnn")      # the classifiers; other families have their own tests
    assert {c.name for c in cards} >= {"cnn_mnist", "cnn_fashion"}
    for card in cards:
        model = registry.load_model(card.name)
        x, y = registry.load_samples(card.dataset)
        acc = float((model.predict_on_batch(x[..., None] / 255.0).argmax(1) == y).mean())
        # 1000 test images: a healthy model is far above these, a broken or swapped one far below
        assert acc > (0.97 if card.dataset == "mnist" else 0.88), (card.name, acc)


def test_training_leaves_op_determinism_to_the_fixture_that_resets_it():
    """seed_everything turns deterministic ops on for the process; tests/conftest.py turns them off after each
    test through TensorFlow's unexported switch. If an upgrade removes it, this fails instead of every later test
    silently running deterministic (slower, and different from the app)."""
    from tensorflow.python.framework import config as tf_config

    from dlviz.training import seed_everything

    seed_everything(0)
    assert tf_config.is_op_determinism_enabled()
    tf_config.disable_op_determinism()
    assert not tf_config.is_op_determinism_enabled()
    seed_everything(0)       # left on: the autouse fixture must reset it (checked by the next test)


def test_op_determinism_was_reset_after_the_previous_test():
    from tensorflow.python.framework import config as tf_config

    assert not tf_config.is_op_determinism_enabled()


def test_weights_of_another_architecture_are_refused_with_a_message(tiny_pretrained, tmp_path):
    """A real Keras weight file, hash-matching its manifest entry, but of a different network."""
    import keras

    d, name = tiny_pretrained
    other = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    other.save_weights(tmp_path / "other.weights.h5")
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["models"][name].update(file="other.weights.h5", sha256=registry.sha256_of(tmp_path / "other.weights.h5"))
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(registry.ModelUnavailable, match="Could not load"):
        registry.load_model(name, tmp_path)


def test_tampered_samples_are_refused(tmp_path):
    for file in ("mnist.npz", "fashion_mnist.npz"):
        write_fake_dataset(tmp_path / file, seed=1)
    train.make_samples(str(tmp_path), tmp_path, per_class=2)
    x, _ = registry.load_samples("mnist", tmp_path)
    assert not x.flags.writeable                         # shared between sessions: read-only
    with np.load(tmp_path / "samples.npz") as f:
        arrays = {k: f[k] for k in f.files}
    arrays["mnist_x"][0, 0, 0] ^= 0xFF                   # one pixel changed, file still a valid npz
    np.savez_compressed(tmp_path / "samples.npz", **arrays)
    with pytest.raises(registry.ModelUnavailable, match="corrupt or was replaced"):
        registry.load_samples("mnist", tmp_path)


def test_evaluate_subcommand_rewrites_the_measured_metrics(tiny_pretrained, tmp_path):
    import shutil

    import keras

    d, name = tiny_pretrained
    for f in d.iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["models"][name]["metrics"] = {"test_accuracy": -1.0}          # a stale or typed-in number
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert train.main(["evaluate", name, "--data", str(tmp_path / "mnist.npz"), "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "manifest.json").read_text())["models"][name]["metrics"]
    # oracle: Keras' own accuracy metric on the same test split
    model = registry.load_model(name, tmp_path)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _, (x_test, y_test) = load_arrays("mnist", tmp_path / "mnist.npz")
    _, keras_acc = model.evaluate(x_test[..., None] / 255.0, y_test, verbose=0)
    assert metrics["test_accuracy"] == pytest.approx(keras_acc, abs=1e-4)
    assert 0.0 <= metrics["user_like_accuracy"] <= 1.0 and metrics["user_like_images"] == 100
