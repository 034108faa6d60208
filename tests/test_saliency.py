"""Saliency maps on models whose answer is known by construction."""
import keras
import numpy as np
import pytest
from keras import layers

from dlviz import saliency
from dlviz.figures import saliency as saliency_figures


@pytest.fixture(scope="module")
def left_half_model():
    """A CNN that only sees the left half: the right 14 columns are cropped away before any weight."""
    keras.utils.set_random_seed(5)
    inp = keras.Input((28, 28, 1))
    x = layers.Cropping2D(((0, 0), (0, 14)))(inp)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(x)
    x = layers.MaxPooling2D()(x)
    out = layers.Dense(10, activation="softmax")(layers.Flatten()(x))
    return keras.Model(inp, out)


@pytest.fixture(scope="module")
def image():
    x = np.random.default_rng(0).random((28, 28, 1)).astype("float32")
    return x


@pytest.mark.parametrize("method", ["vanilla", "smooth", "integrated"])
def test_a_model_that_only_sees_the_left_half_has_no_saliency_on_the_right(left_half_model, image, method):
    if method == "vanilla":
        heat = saliency.vanilla_gradients(left_half_model, image, 3)
    elif method == "smooth":
        heat = saliency.smoothgrad(left_half_model, image, 3, samples=8)
    else:
        heat, error = saliency.integrated_gradients(left_half_model, image, 3, steps=64)
        assert error < 0.05                       # completeness: attributions add up to the score difference
    assert heat.shape == (28, 28)
    assert np.all(heat[:, 14:] == 0)
    assert heat[:, :14].mean() > 0 and np.count_nonzero(heat[:, :14]) > 100


def test_contrast_target_is_the_difference_of_two_classes(left_half_model, image):
    a = saliency._input_gradients(left_half_model, image[None], 3)
    b = saliency._input_gradients(left_half_model, image[None], 7)
    ab = saliency._input_gradients(left_half_model, image[None], (3, 7))
    np.testing.assert_allclose(ab, a - b, atol=1e-5)


def test_scores_are_the_logits_before_softmax(left_half_model, image):
    logits = saliency.scores(left_half_model, image)
    probs = np.asarray(left_half_model(image[None]))[0]
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(), probs, rtol=1e-4, atol=1e-6)


def test_grad_cam_of_a_gap_model_is_the_class_evidence_map():
    """Conv (identity kernel) → global average → Dense: Grad-CAM equals CAM, here the input itself for class 0
    (weight +1) and nothing for class 1 (weight −1, removed by the ReLU)."""
    inp = keras.Input((16, 16, 1))
    conv = layers.Conv2D(1, 3, padding="same", use_bias=False, name="conv")
    x = conv(inp)
    dense = layers.Dense(2, name="head")
    out = dense(layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inp, out)
    kernel = np.zeros((3, 3, 1, 1), "float32")
    kernel[1, 1] = 1.0
    conv.set_weights([kernel])
    dense.set_weights([np.array([[1.0, -1.0]], "float32"), np.zeros(2, "float32")])
    x = np.zeros((16, 16, 1), "float32")
    x[2:6, 3:7] = 1.0                                       # one bright square, top left
    cam0 = saliency.grad_cam(model, x, 0, "conv")
    np.testing.assert_allclose(cam0, x[..., 0], atol=1e-6)
    assert np.all(saliency.grad_cam(model, x, 1, "conv") == 0)


def test_grad_cam_on_a_nested_layer_and_upsampling(left_half_model, image):
    cam = saliency.grad_cam(left_half_model, image, int(np.argmax(left_half_model(image[None]))), "conv")
    assert cam.shape == (28, 28) and 0 <= cam.min() and cam.max() <= 1


def test_overlay_keeps_zero_saliency_pixels_unchanged():
    base = np.linspace(0, 1, 64, dtype="float32").reshape(8, 8)
    heat = np.zeros((8, 8), "float32")
    heat[:, :4] = 1.0
    rgb = saliency_figures.overlay(base, heat, opacity=0.6, dim=1.0)
    assert rgb.shape == (8, 8, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[:, 4:, 0], np.round(base[:, 4:] * 255).astype(np.uint8))
    assert np.any(rgb[:, :4] != np.round(base[:, :4, None] * 255).astype(np.uint8))
    assert np.array_equal(saliency_figures.overlay(base, heat, opacity=0.0, dim=1.0)[..., 1],
                          np.round(base * 255).astype(np.uint8))
    dimmed = saliency_figures.overlay(base, heat, opacity=0.6)            # default: the input dimmed, paint on top
    np.testing.assert_array_equal(dimmed[:, 4:, 0], np.round(base[:, 4:] * 0.55 * 255).astype(np.uint8))
    fig = saliency_figures.saliency_panels(base, [("a", heat), ("b", heat)], opacity=0.5)
    assert [t.type for t in fig.data] == ["image", "image"]
