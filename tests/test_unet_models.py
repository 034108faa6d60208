"""dlviz.models.unet (U-Net / no-skip builders, skip switches, feature maps) and its training CLI on tiny data."""
import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from dlviz import registry, segmentation as seg, train  # noqa: E402
from dlviz.models.unet import build_segmenter, segmenter_views, skip_levels  # noqa: E402
from dlviz.models import build  # noqa: E402


def randomised(model, seed=0):
    """Random weights everywhere, including BN statistics, so skips and layers all matter."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        new = [rng.normal(0, 0.3, w.shape).astype("float32") for w in layer.get_weights()]
        if isinstance(layer, keras.layers.BatchNormalization):     # gamma, beta, moving mean, moving variance
            new[0] += 1.0
            new[3] = rng.uniform(0.5, 1.5, new[3].shape).astype("float32")
        layer.set_weights(new)
    return model


@pytest.mark.parametrize("kind", ["unet", "noskip"])
def test_any_size_multiple_of_the_downsampling(kind):
    model = build_segmenter(kind, classes=11, depth=3, base_filters=4)
    for h, w in [(32, 48), (64, 64), (8, 120)]:
        assert model(np.zeros((2, h, w, 1), "float32")).shape == (2, h, w, 11)
    assert build_segmenter(kind, classes=1, depth=2, base_filters=4)(np.zeros((1, 12, 20, 1))).shape == (1, 12, 20, 1)


def test_parameter_count_by_hand():
    # depth 1, base 2, 3 classes. Convs have no bias (batch norm follows): k·k·in·out; BN: 4 per channel.
    down0 = 3 * 3 * 1 * 2 + 8 + 3 * 3 * 2 * 2 + 8           # 1 -> 2 -> 2
    bottleneck = 3 * 3 * 2 * 4 + 16 + 3 * 3 * 4 * 4 + 16     # 2 -> 4 -> 4
    up0 = 2 * 2 * 4 * 2 + 2                                  # transposed conv 4 -> 2, with bias
    head = 2 * 3 + 3                                          # 1×1 conv 2 -> 3
    dec0_unet = 3 * 3 * 4 * 2 + 8 + 3 * 3 * 2 * 2 + 8        # concat(up 2, skip 2) = 4 -> 2 -> 2
    dec0_noskip = 3 * 3 * 2 * 2 + 8 + 3 * 3 * 2 * 2 + 8      # up 2 -> 2 -> 2
    assert build_segmenter("unet", 3, 1, 2).count_params() == down0 + bottleneck + up0 + dec0_unet + head
    assert build_segmenter("noskip", 3, 1, 2).count_params() == down0 + bottleneck + up0 + dec0_noskip + head


def test_unet_has_named_skips_and_noskip_has_none():
    unet, plain = build_segmenter("unet", depth=3, base_filters=4), build_segmenter("noskip", depth=3, base_filters=4)
    assert [layer.name for layer in unet.layers if isinstance(layer, keras.layers.Concatenate)] == \
        ["skip2", "skip1", "skip0"]
    assert not any(isinstance(layer, keras.layers.Concatenate) for layer in plain.layers)
    assert skip_levels(unet) == [0, 1, 2] and skip_levels(plain) == []
    with pytest.raises(ValueError):
        build_segmenter("autoencoder")


def test_views_reproduce_the_model_and_expose_every_level():
    model = randomised(build_segmenter("unet", classes=5, depth=2, base_filters=4))
    x = np.random.default_rng(1).random((1, 16, 24, 1)).astype("float32")
    views = segmenter_views(model)
    outs = views(x)
    np.testing.assert_allclose(np.asarray(outs[0]), np.asarray(model(x)), atol=1e-5)
    assert views.map_names == ["down0", "down1", "bottleneck", "dec1", "dec0"]
    assert [tuple(o.shape[1:]) for o in outs[1:]] == [(16, 24, 4), (8, 12, 8), (4, 6, 16), (8, 12, 8), (16, 24, 4)]
    # the views share the model's layers: changing a weight of the model changes them too
    head = model.get_layer("logits")
    head.set_weights([w + 1.0 for w in head.get_weights()])
    np.testing.assert_allclose(np.asarray(views(x)[0]), np.asarray(model(x)), atol=1e-5)


@pytest.mark.parametrize("level", [0, 1])
def test_disabling_a_skip_equals_zeroing_the_weights_that_read_it(level):
    """Oracle: zeros in place of skip `level` = the first decoder conv of that level ignoring the skip's channels
    (the concatenation puts the upsampled map first, then the skip)."""
    model = randomised(build_segmenter("unet", classes=3, depth=2, base_filters=4), seed=2)
    x = np.random.default_rng(3).random((1, 16, 16, 1)).astype("float32")
    disabled = np.asarray(segmenter_views(model, [level])(x)[0])
    assert not np.allclose(disabled, np.asarray(model(x)), atol=1e-3)

    conv = model.get_layer(f"dec{level}_conv1")
    (kernel,) = conv.get_weights()
    up_channels = model.get_layer(f"up{level}").filters
    cut = kernel.copy()
    cut[:, :, up_channels:, :] = 0.0
    conv.set_weights([cut])
    np.testing.assert_allclose(disabled, np.asarray(model(x)), atol=1e-5)


def test_disabling_skips_is_checked():
    with pytest.raises(ValueError):
        segmenter_views(build_segmenter("noskip", depth=2, base_filters=2), [0])
    with pytest.raises(ValueError):
        segmenter_views(build_segmenter("unet", depth=2, base_filters=2), [2])


def test_tiled_model_prediction_equals_the_direct_one_where_both_fit():
    model = randomised(build_segmenter("unet", classes=1, depth=2, base_filters=4), seed=4)
    img = np.random.default_rng(5).random((24, 40)).astype("float32")

    def predict(tile):
        return np.asarray(model(tile[None, :, :, None]))[0]

    direct = predict(np.pad(img, 4, mode="reflect"))[4:-4, 4:-4]
    np.testing.assert_allclose(seg.predict_tiled(predict, img, 64, 4), direct, atol=1e-5)


# --------------------------------------------------------------------------- training CLI on tiny data

def fake_data(folder):
    from tests.test_segmentation import fake_mnist

    (xtr, ytr), (xte, yte) = fake_mnist(n=60)
    np.savez_compressed(folder / "mnist.npz", x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (30, 160, 160)).astype(np.uint8)
    np.savez_compressed(folder / "membrane.npz", images=images, masks=(images > 60).astype(np.uint8),
                        test_images=images[:, ::-1])
    return folder


@pytest.fixture(scope="module")
def tiny_unet_run(tmp_path_factory):
    d = fake_data(tmp_path_factory.mktemp("segdata"))
    out = d / "pretrained"
    tiny = ["--depth", "1", "--base-filters", "2", "--epochs", "1", "--batch-size", "8", "--data", str(d),
            "--out", str(out)]
    assert train.main(["unet", "--task", "digits", "--kind", "unet", "--per-epoch", "16", "--eval-scenes", "8",
                       *tiny]) == 0
    assert train.main(["unet", "--task", "digits", "--kind", "noskip", "--per-epoch", "16", "--eval-scenes", "8",
                       *tiny]) == 0
    assert train.main(["unet", "--task", "membrane", "--per-epoch", "8", "--limit", "1", *tiny]) == 0
    assert train.main(["unet-samples", "--data", str(d), "--out", str(out)]) == 0
    return out


def test_training_writes_loadable_models_with_metrics(tiny_unet_run):
    out = tiny_unet_run
    manifest = json.loads((out / "manifest.json").read_text())
    for name in ("seg_digits_unet", "seg_digits_noskip"):
        entry = manifest["models"][name]
        m = entry["metrics"]
        assert entry["family"] == "unet" and entry["config"]["classes"] == 11
        assert set(m["iou"]) == set(seg.SCENE_CLASSES) and 0 <= m["pixel_accuracy"] <= 1
        assert entry["command"].startswith("python -m dlviz.train unet --task digits")
        assert registry.load_model(name, out).output_shape == (None, None, None, 11)
    import h5py

    with h5py.File(out / "seg_digits_unet.weights.h5") as f:      # weights only, no optimizer state
        assert "optimizer" not in f
    membrane = manifest["models"]["seg_membrane_unet"]
    assert membrane["config"]["classes"] == 1 and membrane["metrics"]["held_out_slices"] == [25]
    assert set(membrane["metrics"]["dice"]) == {"membrane", "cell interior"}
    model = registry.load_model("seg_membrane_unet", out)
    assert model(np.zeros((1, 32, 32, 1), "float32")).shape == (1, 32, 32, 1)


def test_digit_metrics_match_a_recount(tiny_unet_run):
    from dlviz.training import unet as training

    out = tiny_unet_run
    model = registry.load_model("seg_digits_unet", out)
    entry = registry.model_card("seg_digits_unet", out).entry
    from tests.test_segmentation import fake_mnist

    scenes = seg.scenes_from_mnist(fake_mnist(n=60), "test", 8, training.EVAL_SEED)
    pred = np.asarray(model(scenes.images[..., None].astype("float32") / 255)).argmax(-1)
    correct = (pred == scenes.masks).mean()
    assert entry["metrics"]["pixel_accuracy"] == pytest.approx(correct, abs=1e-4)


def test_samples_bundle(tiny_unet_run):
    data = registry.load_data("unet_samples", tiny_unet_run)
    assert data["scene_images"].shape == data["scene_masks"].shape == (12, 64, 128)
    assert data["membrane_images"].shape == data["membrane_masks"].shape == (5, 160, 160)
    assert data["membrane_slices"].tolist() == [25, 26, 27, 28, 29]
    assert data["test_images"].dtype == np.uint8 and len(data["test_images"]) == 5
    assert set(np.unique(data["scene_masks"])) <= set(range(11))


def test_builder_from_manifest_config():
    model = build("unet", kind="noskip", classes=1, depth=2, base_filters=2)
    assert model.output_shape == (None, None, None, 1)


# --------------------------------------------------------------------------- the interactive runner

def test_segmenter_probabilities_match_the_keras_model():
    model = randomised(build_segmenter("unet", classes=3, depth=2, base_filters=4), seed=6)
    runner = seg.Segmenter(model, bucket=4)       # pads only to the model's multiple: the oracle below does too
    img = np.random.default_rng(7).random((18, 26)).astype("float32")
    out = runner.run(img)
    assert out.probs.shape == (18, 26, 3)
    logits = np.asarray(model(np.pad(img, ((0, 2), (0, 2)), mode="reflect")[None, ..., None]))[0, :18, :26]
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(out.probs, expected, atol=1e-5)
    assert np.array_equal(out.labels(), expected.argmax(-1))
    assert {k: v.shape for k, v in out.maps.items()} == {"down0": (18, 26, 4), "down1": (9, 13, 8),
                                                        "bottleneck": (5, 7, 16), "dec1": (9, 13, 8),
                                                        "dec0": (18, 26, 4)}
    off = runner.run(img, disabled=[1], maps=False)
    direct = np.asarray(segmenter_views(model, [1])(np.pad(img, ((0, 2), (0, 2)), mode="reflect")[None, ..., None])[0])
    np.testing.assert_allclose(np.log(off.probs), direct[0, :18, :26] - np.log(np.exp(direct[0, :18, :26]).sum(
        -1, keepdims=True)), atol=1e-4)
    assert off.maps == {}


def test_binary_segmenter_and_context_padding():
    model = randomised(build_segmenter("unet", classes=1, depth=2, base_filters=4), seed=8)
    runner = seg.Segmenter(model, bucket=4)
    img = np.random.default_rng(9).random((24, 20)).astype("float32")
    out = runner.run(img, context=6)
    padded = np.pad(img, ((6, 6 + 0), (6, 6 + 0)), mode="reflect")          # 36×32: already multiples of 4
    logit = np.asarray(model(padded[None, ..., None]))[0, 6:30, 6:26, 0]
    p = 1 / (1 + np.exp(-logit))
    np.testing.assert_allclose(out.probs[..., 1], p, atol=1e-5)
    np.testing.assert_allclose(out.probs.sum(-1), 1, atol=1e-6)
    assert np.array_equal(out.labels(0.7), (p >= 0.7).astype(np.uint8))
    assert out.maps["down0"].shape == (24, 20, 4)


def test_segmenter_buckets_shapes_and_gates_skips():
    model = randomised(build_segmenter("unet", classes=4, depth=2, base_filters=4), seed=10)
    runner = seg.Segmenter(model, bucket=16, warm=((16, 32),))
    img = np.zeros((13, 30), np.float32)
    img[3:10, 5:25] = np.random.default_rng(11).random((7, 20))
    out = runner.run(img, pad="constant")
    x = np.pad(img, ((0, 3), (0, 2)))[None, ..., None]                    # black up to 16×32
    logits = np.asarray(model(x))[0, :13, :30]
    np.testing.assert_allclose(out.probs, np.exp(logits) / np.exp(logits).sum(-1, keepdims=True), atol=1e-5)
    both = np.asarray(segmenter_views(model, [0, 1])(x)[0])[0, :13, :30]
    off = runner.run(img, disabled=[0, 1], pad="constant", maps=False)
    np.testing.assert_allclose(off.probs, np.exp(both) / np.exp(both).sum(-1, keepdims=True), atol=1e-5)
    with pytest.raises(ValueError):
        seg.Segmenter(build_segmenter("noskip", classes=2, depth=1, base_filters=2), bucket=4).run(img, disabled=[0])
