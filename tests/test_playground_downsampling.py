"""The Convolution playground and the Pooling page's computations."""
import numpy as np
import pytest

from dlviz import downsampling, ops, playground


def keras_conv_colour(x: np.ndarray, kernel2d: np.ndarray, stride: int, padding) -> np.ndarray:
    """The oracle: a Keras Conv2D with 3 input channels whose kernel has the same 2-D slice in each channel."""
    import keras

    if isinstance(padding, int):
        x = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
        padding = "valid"
    k = kernel2d.shape[0]
    layer = keras.layers.Conv2D(1, k, strides=stride, padding=padding, use_bias=False)
    layer.build((None, *x.shape))
    layer.set_weights([np.repeat(kernel2d[:, :, None, None], x.shape[-1], axis=2).astype(np.float32)])
    return np.asarray(layer(x[None].astype(np.float32)))[0, :, :, 0]


@pytest.mark.parametrize("padding", ["valid", "same", 2])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_colour_playground_is_a_keras_conv2d_with_three_input_channels(padding, stride):
    x = np.random.default_rng(stride).random((20, 30, 3))
    kernel = ops.kernel_preset("sobel x", 3)
    result = playground.convolve(x, kernel, stride, padding)
    expected = keras_conv_colour(x, kernel, stride, padding)
    np.testing.assert_allclose(result.output, expected, rtol=1e-5, atol=1e-5)
    for r, c in [(0, 0), (result.output.shape[0] - 1, result.output.shape[1] - 1), (3, 4)]:
        terms = playground.one_value(x, kernel, stride, padding, r, c)
        assert terms.value == pytest.approx(expected[r, c], rel=1e-5, abs=1e-5)
        for ch in range(3):     # each channel's share: the same Conv2D on that channel alone
            one = keras_conv_colour(x[..., ch:ch + 1], kernel, stride, padding)[r, c]
            assert terms.channel_sums[ch] == pytest.approx(one, rel=1e-5, abs=1e-5)
            assert result.per_channel[ch][r, c] == pytest.approx(one, rel=1e-5, abs=1e-5)


def test_colour_playground_worked_by_hand():
    """2×2 RGB image, 1×1 kernel [2], valid: the output is 2·(R + G + B) at each pixel."""
    x = np.array([[[1, 2, 3], [0, 0, 1]], [[4, 0, 0], [1, 1, 1]]], dtype=np.float64)
    result = playground.convolve(x, np.array([[2.0]]), 1, "valid")
    np.testing.assert_array_equal(result.output, [[12, 2], [8, 6]])
    np.testing.assert_array_equal(result.per_channel[0], [[2, 0], [8, 2]])
    terms = playground.one_value(x, np.array([[2.0]]), 1, "valid", 0, 0)
    np.testing.assert_array_equal(terms.channel_sums, [2, 4, 6])


def test_grey_playground_with_explicit_padding_by_hand():
    """3×3 ones, 3×3 ones kernel, one zero on each side: each output counts the ones it covers (4, 6 or 9)."""
    result = playground.convolve(np.ones((3, 3)), np.ones((3, 3)), 1, 1)
    np.testing.assert_array_equal(result.output, [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    assert result.formula_rows == "⌊(3 + 2·1 − 3) / 1⌋ + 1 = 3"


def test_colour_output_is_the_sum_of_three_grey_convolutions():
    x = np.random.default_rng(0).random((9, 9, 3))
    kernel = ops.kernel_preset("laplacian", 3)
    result = playground.convolve(x, kernel, 1, "same")
    assert result.output.shape == (9, 9)
    np.testing.assert_allclose(result.output, keras_conv_colour(x, kernel, 1, "same"), rtol=1e-5, atol=1e-5)
    assert result.formula_rows.endswith("= 9")


def test_box_kernel_strided_convolution_is_average_pooling():
    x = np.random.default_rng(1).random((12, 12))
    out = downsampling.downsample_all(x, 2, 2, "valid", np.full((2, 2), 0.25))
    np.testing.assert_allclose(out.conv, out.average)
    assert (out.max >= out.average).all()
    assert out.global_average == pytest.approx(x.mean())


def test_liveliest_crop_finds_the_edge_not_the_flat_area():
    x = np.zeros((20, 20))
    x[:, 12:] = 1.0                       # a vertical edge at column 12
    top, left = downsampling.liveliest_crop(x, 6)
    assert left < 12 < left + 6


def test_window_mask_marks_exactly_the_window():
    mask = downsampling.window_mask((6, 6), (1, 2, 3, 5))
    assert mask.sum() == 6 and mask[1, 2] and mask[2, 4] and not mask[0, 2]
