"""The Convolution playground and the Pooling page's computations."""
import numpy as np
import pytest

from dlviz import downsampling, ops, playground


@pytest.mark.parametrize("padding", ["valid", "same", 2])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_one_value_is_the_playground_output_at_that_cell(padding, stride):
    x = np.random.default_rng(stride).random((20, 30, 3))
    kernel = ops.kernel_preset("sobel x", 3)
    result = playground.convolve(x, kernel, stride, padding)
    np.testing.assert_allclose(result.output, np.sum(result.per_channel, axis=0))
    for r, c in [(0, 0), (result.output.shape[0] - 1, result.output.shape[1] - 1), (3, 4)]:
        terms = playground.one_value(x, kernel, stride, padding, r, c)
        assert terms.value == pytest.approx(result.output[r, c])
        np.testing.assert_allclose(terms.channel_sums, [m[r, c] for m in result.per_channel], atol=1e-12)


def test_colour_output_is_the_sum_of_three_grey_convolutions():
    x = np.random.default_rng(0).random((9, 9, 3))
    kernel = ops.kernel_preset("laplacian", 3)
    result = playground.convolve(x, kernel, 1, "same")
    assert result.output.shape == (9, 9)
    expected = sum(ops.conv2d(x[..., i], kernel, padding="same") for i in range(3))
    np.testing.assert_allclose(result.output, expected)
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
