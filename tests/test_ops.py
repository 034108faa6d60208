"""Tests for dlviz.ops: the numpy reference maths, checked against TensorFlow/Keras."""

import itertools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from dlviz import ops  # noqa: E402
from dlviz.ops import LayerGeometry as G  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-4)


def rng(seed=0):
    return np.random.default_rng(seed)


def tf_conv(x, kernel, stride, padding):
    """x (H, W, Cin), kernel (kh, kw, Cin, Cout) -> tf.nn.conv2d output (Ho, Wo, Cout)."""
    if isinstance(padding, int):
        xt = tf.pad(x[None], [[0, 0], [padding, padding], [padding, padding], [0, 0]])
        tf_padding = "VALID"
    else:
        xt = tf.constant(x[None])
        tf_padding = padding.upper()
    return tf.nn.conv2d(xt, kernel, strides=stride, padding=tf_padding).numpy()[0]


# ---------------------------------------------------------------------------
# conv2d against tf.nn.conv2d
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(7, 8), (28, 28)])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_matches_tf(shape, k, stride, padding):
    r = rng(shape[0] * 1000 + k * 100 + stride * 10 + (padding == "same"))
    for c_in, c_out in itertools.product([1, 3], [1, 4]):
        x = r.normal(size=shape + (c_in,)).astype(np.float32)
        kernel = r.normal(size=(k, k, c_in, c_out)).astype(np.float32)
        expected = tf_conv(x, kernel, stride, padding)
        got = ops.conv2d(x, kernel, stride=stride, padding=padding)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv2d_explicit_padding_matches_tf_pad(p, k, stride):
    r = rng(p * 100 + k * 10 + stride)
    x = r.normal(size=(7, 8, 3)).astype(np.float32)
    kernel = r.normal(size=(k, k, 3, 4)).astype(np.float32)
    expected = tf_conv(x, kernel, stride, p)
    got = ops.conv2d(x, kernel, stride=stride, padding=p)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize("padding", ["valid", "same", 1])
def test_conv2d_with_bias_matches_tf(padding):
    r = rng(5)
    x = r.normal(size=(9, 10, 3)).astype(np.float32)
    kernel = r.normal(size=(3, 3, 3, 4)).astype(np.float32)
    bias = r.normal(size=(4,)).astype(np.float32)
    expected = tf.nn.bias_add(tf_conv(x, kernel, 2, padding)[None], bias).numpy()[0]
    np.testing.assert_allclose(ops.conv2d(x, kernel, bias, 2, padding), expected, **TOL)
    # a scalar bias is added to every filter
    np.testing.assert_allclose(
        ops.conv2d(x, kernel, 0.5, 2, padding), tf_conv(x, kernel, 2, padding) + 0.5, **TOL
    )


def test_conv2d_2d_inputs_and_2d_kernel_on_colour_image():
    r = rng(6)
    x2 = r.normal(size=(8, 9)).astype(np.float32)
    k2 = r.normal(size=(3, 3)).astype(np.float32)
    out = ops.conv2d(x2, k2, padding="same")
    assert out.shape == (8, 9)
    np.testing.assert_allclose(out, tf_conv(x2[:, :, None], k2[:, :, None, None], 1, "same")[:, :, 0], **TOL)
    # 2-D image with a 4-D kernel: treated as one channel, keeps the channel axis
    k4 = r.normal(size=(3, 3, 1, 2)).astype(np.float32)
    assert ops.conv2d(x2, k4).shape == (6, 7, 2)
    # a 2-D kernel on a colour image filters each channel separately
    rgb = r.normal(size=(8, 9, 3)).astype(np.float32)
    out = ops.conv2d(rgb, k2, stride=2, padding="same")
    assert out.shape == (4, 5, 3)
    for c in range(3):
        np.testing.assert_allclose(out[:, :, c], ops.conv2d(rgb[:, :, c], k2, stride=2, padding="same"), **TOL)


def test_conv2d_reference_loops_agree():
    r = rng(7)
    x = r.normal(size=(6, 7, 2))
    kernel = r.normal(size=(3, 3, 2, 3))
    bias = r.normal(size=3)
    for stride, padding in [(1, "valid"), (2, "same"), (2, 1), (3, "same")]:
        np.testing.assert_allclose(
            ops.conv2d_reference(x, kernel, bias, stride, padding),
            ops.conv2d(x, kernel, bias, stride, padding),
            rtol=1e-10, atol=1e-10,
        )


def test_conv2d_refuses_bad_shapes():
    x = np.zeros((5, 5, 3))
    with pytest.raises(ValueError, match="channels"):
        ops.conv2d(x, np.zeros((3, 3, 2, 1)))
    with pytest.raises(ValueError, match="does not fit"):
        ops.conv2d(x, np.zeros((7, 7, 3, 1)))
    with pytest.raises(ValueError, match="padding"):
        ops.conv2d(x, np.zeros((3, 3, 3, 1)), padding="full")
    with pytest.raises(ValueError, match="bias"):
        ops.conv2d(x, np.zeros((3, 3, 3, 2)), bias=np.zeros(3))


# ---------------------------------------------------------------------------
# conv2d_terms
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("stride", [1, 2])
def test_conv2d_terms_match_tensorflow_with_same_padding(stride):
    """Every shown term against an independent oracle: the value against tf.nn.conv2d (+ bias), the patch against
    the image itself (zeros in the padding), the weights against the kernel slice."""
    r = rng(10 + stride)
    x = r.normal(size=(9, 10, 3))
    kernel = r.normal(size=(3, 3, 3, 4))
    bias = r.normal(size=4)
    out = tf_conv(x, kernel, stride, "same") + bias
    ho, wo = out.shape[:2]
    # TensorFlow's "same": total padding max((out - 1)·s + k - n, 0), the odd pixel at the end
    top_pad = max((ho - 1) * stride + 3 - 9, 0) // 2
    left_pad = max((wo - 1) * stride + 3 - 10, 0) // 2
    cells = [(0, 0), (0, wo - 1), (ho - 1, 0), (ho - 1, wo - 1), (ho // 2, wo // 2), (1, 2)]
    for (row, col), o in itertools.product(cells, range(4)):
        t = ops.conv2d_terms(x, kernel, bias, stride, "same", row, col, o)
        assert t.patch.shape == t.weights.shape == t.products.shape == (3, 3, 3)
        assert t.value == pytest.approx(out[row, col, o], rel=1e-9, abs=1e-9)
        np.testing.assert_array_equal(t.weights, kernel[:, :, :, o])
        assert t.bias == bias[o]
        top, left, bottom, right = t.window
        assert (top, left, bottom, right) == (row * stride - top_pad, col * stride - left_pad,
                                              row * stride - top_pad + 3, col * stride - left_pad + 3)
        for a, b in itertools.product(range(3), range(3)):
            rr, cc = top + a, left + b
            inside = 0 <= rr < 9 and 0 <= cc < 10
            np.testing.assert_array_equal(t.patch[a, b], x[rr, cc] if inside else np.zeros(3))
            np.testing.assert_array_equal(t.products[a, b], t.patch[a, b] * kernel[a, b, :, o])
        # per-channel sums against TensorFlow on one channel at a time
        for c in range(3):
            one = tf_conv(x[..., c:c + 1], kernel[:, :, c:c + 1, o:o + 1], stride, "same")[row, col, 0]
            assert t.channel_sums[c] == pytest.approx(one, rel=1e-9, abs=1e-9)


def test_conv2d_terms_worked_by_hand():
    """3×3 image, 2×2 kernel, valid, stride 1, output (1, 0): patch rows 1–2, columns 0–1.
    products 4·1, 5·0, 7·(−1), 8·2 -> sum 13, + bias 0.5 = 13.5."""
    x = np.arange(1, 10, dtype=np.float64).reshape(3, 3)     # 1 2 3 / 4 5 6 / 7 8 9
    kernel = np.array([[1.0, 0.0], [-1.0, 2.0]])
    t = ops.conv2d_terms(x, kernel, 0.5, 1, "valid", 1, 0)
    np.testing.assert_array_equal(t.patch[..., 0], [[4, 5], [7, 8]])
    np.testing.assert_array_equal(t.products[..., 0], [[4, 0], [-7, 16]])
    assert (t.total, t.bias, t.value, t.window) == (13.0, 0.5, 13.5, (1, 0, 3, 2))


def test_conv2d_terms_refuses_cells_outside_the_output():
    x = np.zeros((5, 5))
    with pytest.raises(ValueError, match="outside"):
        ops.conv2d_terms(x, np.ones((3, 3)), None, 1, "valid", 3, 0)
    with pytest.raises(ValueError, match="out_channel"):
        ops.conv2d_terms(x, np.ones((3, 3)), None, 1, "valid", 0, 0, out_channel=1)


@pytest.mark.parametrize("stride", [1, 2])
def test_conv2d_terms_against_keras_conv2d_layer(stride):
    r = rng(20 + stride)
    x = r.normal(size=(9, 10, 3)).astype(np.float32)
    layer = keras.layers.Conv2D(4, 3, strides=stride, padding="same", activation="relu")
    layer.build((None, 9, 10, 3))
    kernel = r.normal(size=(3, 3, 3, 4)).astype(np.float32)
    bias = r.normal(size=(4,)).astype(np.float32)
    layer.set_weights([kernel, bias])
    out = np.asarray(layer(x[None]))[0]
    ho, wo = out.shape[:2]
    assert (ho, wo) == (ops.output_size(9, 3, stride, "same"), ops.output_size(10, 3, stride, "same"))
    for row, col, o in [(0, 0, 0), (0, wo - 1, 1), (ho - 1, wo - 1, 2), (ho // 2, wo // 2, 3), (ho - 1, 1, 0)]:
        t = ops.conv2d_terms(x, kernel, bias, stride, "same", row, col, o)
        assert ops.relu(t.value) == pytest.approx(float(out[row, col, o]), abs=1e-4)
    # with random signed weights some pre-activations are negative: relu really matters
    assert (out == 0).any() and (out > 0).any()


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------

POOL_CASES = list(itertools.product([2, 3], [1, 2, 3], ["valid", "same"]))


@pytest.mark.parametrize("size,stride,padding", POOL_CASES)
def test_pool2d_matches_keras(size, stride, padding):
    r = rng(size * 100 + stride * 10 + len(padding))
    for shape in [(7, 8, 3), (9, 9, 2)]:
        x = r.normal(size=shape).astype(np.float32)
        for mode, layer_cls in [("max", keras.layers.MaxPooling2D), ("average", keras.layers.AveragePooling2D)]:
            layer = layer_cls(pool_size=size, strides=stride, padding=padding)
            expected = np.asarray(layer(x[None]))[0]
            got = ops.pool2d(x, size, stride, padding, mode)
            assert got.shape == expected.shape, (mode, shape)
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
            # a single channel (H, W) keeps its 2-D shape
            got2 = ops.pool2d(x[:, :, 0], size, stride, padding, mode)
            np.testing.assert_allclose(got2, expected[:, :, 0], rtol=1e-5, atol=1e-6)


def test_pool2d_stride_defaults_to_size_and_same_average_counts_real_cells():
    x = np.arange(25, dtype=np.float64).reshape(5, 5)
    np.testing.assert_array_equal(ops.pool2d(x, 2), ops.pool2d(x, 2, 2))
    out = ops.pool2d(x, 2, padding="same", mode="average")
    assert out.shape == (3, 3)
    assert out[2, 2] == 24.0  # only the real corner cell, not 24 / 4
    assert out[0, 2] == (4 + 9) / 2
    assert ops.pool2d(-np.ones((3, 3)), 2, padding="same", mode="max")[1, 1] == -1.0  # not 0
    with pytest.raises(ValueError, match="mode"):
        ops.pool2d(x, 2, mode="min")


def test_global_average_pool_matches_keras():
    x = rng(30).normal(size=(7, 8, 5)).astype(np.float32)
    expected = np.asarray(keras.layers.GlobalAveragePooling2D()(x[None]))[0]
    got = ops.global_average_pool(x)
    assert got.shape == (5,)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("size,stride,padding", POOL_CASES)
def test_pool_sources(size, stride, padding):
    x = rng(40).normal(size=(7, 8))
    H, W = x.shape
    top_pad, _ = ops.pad_amounts(H, size, stride, padding)
    left_pad, _ = ops.pad_amounts(W, size, stride, padding)
    for mode in ["max", "average"]:
        pooled = ops.pool2d(x, size, stride, padding, mode)
        sources = ops.pool_sources(x, size, stride, padding, mode)
        assert len(sources) == pooled.size
        assert [(s.row, s.col) for s in sources] == list(np.ndindex(pooled.shape))
        for s in sources:
            top, left, bottom, right = s.window
            # the unpadded window, clipped to the image
            t0, l0 = s.row * stride - top_pad, s.col * stride - left_pad
            assert s.window == (max(t0, 0), max(l0, 0), min(t0 + size, H), min(l0 + size, W))
            if padding == "valid":
                assert (bottom - top, right - left) == (size, size)
            assert s.value == pytest.approx(pooled[s.row, s.col])
            if mode == "max":
                r_, c_ = s.winner
                assert top <= r_ < bottom and left <= c_ < right
                assert x[r_, c_] == pooled[s.row, s.col]
                assert x[r_, c_] == x[top:bottom, left:right].max()
            else:
                assert s.winner is None
                assert pooled[s.row, s.col] == pytest.approx(x[top:bottom, left:right].mean())


def test_pool_sources_ties_pick_first_in_row_major_order():
    x = np.zeros((4, 4))
    x[1, 0] = x[0, 1] = 5.0  # two equal maxima in the first window
    first = ops.pool_sources(x, 2)[0]
    assert first.winner == (0, 1)
    assert all(s.winner == (s.window[0], s.window[1]) for s in ops.pool_sources(np.ones((4, 4)), 2))


# ---------------------------------------------------------------------------
# Output sizes, padding and formulas
# ---------------------------------------------------------------------------

def test_output_size_equals_tensorflow_output_shape():
    """The formula against what TensorFlow actually produces (explicit zeros via tf.pad), for every small case."""
    checked = 0
    for n, k, s, padding in itertools.product(range(1, 11), range(1, 6), [1, 2, 3], ["valid", "same", 0, 1, 2]):
        p = 0 if padding in ("valid", "same") else padding
        if padding != "same" and k > n + 2 * p:
            with pytest.raises(ValueError):
                ops.output_size(n, k, s, padding)
            continue
        x = np.ones((n, n + 1, 1), np.float32)
        shape = tf_conv(x, np.ones((k, k, 1, 1), np.float32), s, padding).shape
        assert (ops.output_size(n, k, s, padding), ops.output_size(n + 1, k, s, padding)) == shape[:2]
        checked += 1
    assert checked > 500


@pytest.mark.parametrize("n,k,s,padding,expected", [
    (28, 3, 1, "valid", 26), (28, 3, 2, "valid", 13), (28, 5, 1, "same", 28), (28, 3, 2, "same", 14),
    (27, 3, 2, "same", 14), (7, 3, 3, "valid", 2), (5, 3, 2, 1, 3), (6, 4, 2, 1, 3), (1, 1, 5, "same", 1),
])
def test_output_size_worked_by_hand(n, k, s, padding, expected):
    """valid ⌊(n − k)/s⌋ + 1, same ⌈n/s⌉, p zeros ⌊(n + 2p − k)/s⌋ + 1, each computed on paper."""
    assert ops.output_size(n, k, s, padding) == expected


def test_pad_amounts_follow_tensorflow():
    assert ops.pad_amounts(28, 3, 1, "same") == (1, 1)
    assert ops.pad_amounts(28, 3, 2, "same") == (0, 1)  # odd pixel at the end
    assert ops.pad_amounts(8, 2, 1, "same") == (0, 1)
    assert ops.pad_amounts(7, 1, 3, "same") == (0, 0)
    assert ops.pad_amounts(9, 3, 3, "same") == (0, 0)
    assert ops.pad_amounts(28, 5, 1, "valid") == (0, 0)
    assert ops.pad_amounts(28, 5, 1, 2) == (2, 2)
    padded, (t, b), (l, r) = ops.pad2d(np.ones((28, 27, 3)), 3, 2, "same", value=-1.0)
    assert ((t, b), (l, r)) == ((0, 1), (1, 1))
    assert padded.shape == (29, 29, 3)
    assert padded[-1].max() == -1.0 and padded[:, 0].max() == -1.0 and padded[0, 1:-1].min() == 1.0


def test_output_size_formulas():
    assert ops.output_size_formula(28, 3, 1, "same") == "⌈28 / 1⌉ = 28"
    assert ops.output_size_formula(28, 3, 2, "same") == "⌈28 / 2⌉ = 14"
    assert ops.output_size_formula(28, 3, 2, "valid") == "⌊(28 − 3) / 2⌋ + 1 = 13"
    assert ops.output_size_formula(5, 3, 2, 1) == "⌊(5 + 2·1 − 3) / 2⌋ + 1 = 3"
    assert ops.output_size_formula(28, 3, 2, 1) == "⌊(28 + 2·1 − 3) / 2⌋ + 1 = 14"
    assert ops.output_size(28, 3, 1, "same") == 28
    assert ops.output_size(28, 3, 2, "valid") == 13
    assert ops.output_size(5, 3, 2, 1) == 3
    for bad in [(0, 3, 1, "valid"), (5, 3, 0, "valid"), (5, 3, 1, -1), (5, 3, 1, "full"), (5, 3, 1.5, "same")]:
        with pytest.raises(ValueError):
            ops.output_size(*bad)


# ---------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------

COURSE_CONVS = [(1, 16, 160), (16, 16, 2320), (16, 32, 4640), (32, 32, 9248), (32, 64, 18496), (64, 64, 36928)]


@pytest.mark.parametrize("c_in,c_out,expected", COURSE_CONVS)
def test_conv_params_course_cnn(c_in, c_out, expected):
    assert ops.conv_params(3, 3, c_in, c_out) == expected
    layer = keras.layers.Conv2D(c_out, 3)
    layer.build((None, 28, 28, c_in))
    assert layer.count_params() == expected
    no_bias = keras.layers.Conv2D(c_out, 3, use_bias=False)
    no_bias.build((None, 28, 28, c_in))
    assert ops.conv_params(3, 3, c_in, c_out, bias=False) == no_bias.count_params() == expected - c_out


@pytest.mark.parametrize("n_in,n_out,expected", [(3136, 128, 401536), (128, 10, 1290)])
def test_dense_params(n_in, n_out, expected):
    assert ops.dense_params(n_in, n_out) == expected
    layer = keras.layers.Dense(n_out)
    layer.build((None, n_in))
    assert layer.count_params() == expected
    assert ops.dense_params(n_in, n_out, bias=False) == n_in * n_out


def test_param_formulas_and_macs():
    assert ops.conv_params_formula(3, 3, 1, 16) == "3·3·1·16 + 16 = 160"
    assert ops.conv_params_formula(3, 3, 1, 16, bias=False) == "3·3·1·16 = 144"
    assert ops.dense_params_formula(3136, 128) == "3136·128 + 128 = 401536"
    assert ops.dense_params_formula(128, 10, bias=False) == "128·10 = 1280"
    assert ops.conv_macs(28, 28, 3, 3, 1, 16) == 28 * 28 * 9 * 16
    assert ops.dense_macs(3136, 128) == 401408


# ---------------------------------------------------------------------------
# Receptive field
# ---------------------------------------------------------------------------

def test_receptive_field_sizes():
    conv3 = G(3, 1, "valid")
    pool2 = G(2, 2, "valid")
    assert ops.receptive_field_size([]) == 1
    assert ops.receptive_field_size([conv3]) == 3
    assert ops.receptive_field_size([conv3, conv3]) == 5
    assert ops.receptive_field_size([conv3, pool2, conv3]) == 8
    assert ops.receptive_field_jump([conv3, pool2, conv3]) == 2
    assert ops.receptive_field_jump([G(3, 2, "same"), G(2, 2, "valid")]) == 4
    assert ops.receptive_field([conv3, conv3], 2, 3, (10, 10)) == (2, 3, 7, 8)
    assert ops.receptive_field([conv3, pool2, conv3], 1, 0, (12, 12)) == (2, 0, 10, 8)
    assert ops.receptive_field([], 4, 5, (10, 10)) == (4, 5, 5, 6)
    # with same padding the corner's field is clipped to the image
    assert ops.receptive_field([G(3, 1, "same"), G(3, 1, "same")], 0, 0, (10, 10)) == (0, 0, 3, 3)
    with pytest.raises(ValueError, match="outside"):
        ops.receptive_field([conv3, conv3], 6, 0, (10, 10))


def _forward(x, stack):
    """Run a single-channel numpy stack of (geometry, kind, kernel) layers."""
    for geom, kind, kernel in stack:
        if kind == "conv":
            x = ops.conv2d(x, kernel, stride=geom.stride, padding=geom.padding)
        else:
            x = ops.pool2d(x, geom.kernel, geom.stride, geom.padding, mode=kind)
    return x


RF_STACKS = {
    "two 3x3 valid": ([(G(3, 1, "valid"), "conv"), (G(3, 1, "valid"), "conv")], (9, 10)),
    "conv-maxpool-conv": ([(G(3, 1, "valid"), "conv"), (G(2, 2, "valid"), "max"), (G(3, 1, "valid"), "conv")], (12, 13)),
    "same, stride 2": ([(G(3, 2, "same"), "conv"), (G(3, 1, "same"), "conv")], (11, 12)),
    "same, even kernel, avg pool": (
        [(G(5, 1, "same"), "conv"), (G(3, 2, "same"), "average"), (G(2, 1, "same"), "conv")], (10, 11)),
    "explicit padding": ([(G(3, 2, 1), "conv"), (G(2, 2, "valid"), "max")], (9, 9)),
}


@pytest.mark.parametrize("name", list(RF_STACKS))
def test_receptive_field_by_perturbation(name):
    layers, shape = RF_STACKS[name]
    r = rng(50)
    # positive weights and a large bump: any pixel inside the field changes the output
    stack = [(g, kind, r.uniform(0.5, 1.5, size=(g.kernel, g.kernel)) if kind == "conv" else None)
             for g, kind in layers]
    geoms = [g for g, _ in layers]
    x = r.random(shape)
    base = _forward(x, stack)
    influence = np.zeros(base.shape + shape, dtype=bool)  # influence[r, c] = input mask
    for i, j in np.ndindex(shape):
        bumped = x.copy()
        bumped[i, j] += 1000.0
        influence[:, :, i, j] = _forward(bumped, stack) != base
    for row, col in np.ndindex(base.shape):
        top, left, bottom, right = ops.receptive_field(geoms, row, col, shape)
        expected = np.zeros(shape, dtype=bool)
        expected[top:bottom, left:right] = True
        np.testing.assert_array_equal(influence[row, col], expected, err_msg=f"{name} output ({row}, {col})")
    # an interior cell away from the borders has the textbook size
    size = ops.receptive_field_size(geoms)
    sizes = {(b - t, rr - ll) for t, ll, b, rr in
             (ops.receptive_field(geoms, i, j, shape) for i, j in np.ndindex(base.shape))}
    assert max(h for h, _ in sizes) <= size and max(w for _, w in sizes) <= size
    if all(g.padding == "valid" for g in geoms):
        assert sizes == {(size, size)}


# ---------------------------------------------------------------------------
# Kernel presets
# ---------------------------------------------------------------------------

def test_kernel_presets_shapes_and_sums():
    assert ops.KERNEL_PRESETS == ("identity", "box blur", "gaussian", "sharpen",
                                  "sobel x", "sobel y", "laplacian", "emboss")
    sums = {"identity": 1, "box blur": 1, "gaussian": 1, "sharpen": 1,
            "sobel x": 0, "sobel y": 0, "laplacian": 0, "emboss": 1}
    for name, size in itertools.product(ops.KERNEL_PRESETS, [1, 3, 5, 7]):
        k = ops.kernel_preset(name, size)
        assert k.shape == (size, size) and k.dtype == np.float32, (name, size)
        assert np.all(np.isfinite(k))
        assert k.sum() == pytest.approx(sums[name], abs=1e-5), (name, size)
        if size > 1:
            assert np.any(k != 0), (name, size)
    assert ops.kernel_preset("gaussian", 5).max() == ops.kernel_preset("gaussian", 5)[2, 2]
    for size in [3, 5, 7]:
        sx = ops.kernel_preset("sobel x", size)
        np.testing.assert_array_equal(ops.kernel_preset("sobel y", size), sx.T)
        np.testing.assert_array_equal(sx[:, ::-1], -sx)  # antisymmetric left/right
        assert ops.kernel_preset("laplacian", size)[size // 2, size // 2] < 0


def test_kernel_presets_classic_3x3_values():
    classic = {
        "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
        "box blur": np.full((3, 3), 1 / 9),
        "gaussian": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
        "sharpen": np.array([[0, 0, 0], [0, 2, 0], [0, 0, 0]]) - 1 / 9,
        "sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
        "sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
        "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
        "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    }
    for name, expected in classic.items():
        np.testing.assert_allclose(ops.kernel_preset(name), np.asarray(expected, dtype=np.float32),
                                   rtol=1e-6, err_msg=name)
    assert ops.kernel_preset("  Sobel X ").tolist() == ops.kernel_preset("sobel x").tolist()


def test_sobel_responds_to_edges_in_the_documented_direction():
    step = np.zeros((8, 16), dtype=np.float32)
    step[:, 8:] = 1.0  # dark on the left, bright on the right
    for size in [3, 5, 7]:
        gx = ops.conv2d(step, ops.kernel_preset("sobel x", size))
        gy = ops.conv2d(step, ops.kernel_preset("sobel y", size))
        assert gx.min() == 0 and gx.max() > 0  # positive at the edge, never negative
        assert np.all(gx[:, 7 - size // 2] > 0) and np.all(gx[:, 0] == 0) and np.all(gx[:, -1] == 0)
        np.testing.assert_array_equal(gy, 0)
        flat = ops.conv2d(np.ones((8, 8)), ops.kernel_preset("sobel x", size))
        np.testing.assert_allclose(flat, 0, atol=1e-6)
    gy = ops.conv2d(step.T, ops.kernel_preset("sobel y"))  # dark on top, bright below
    assert gy.max() > 0 and gy.min() == 0
    identity = ops.conv2d(step, ops.kernel_preset("identity", 5), padding="same")
    np.testing.assert_array_equal(identity, step)


def test_kernel_preset_refusals():
    with pytest.raises(ValueError, match="unknown"):
        ops.kernel_preset("motion blur")
    for size in [0, 2, 4, 9, 3.0]:
        with pytest.raises(ValueError):
            ops.kernel_preset("gaussian", size)


# ---------------------------------------------------------------------------
# parse_kernel
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("1 2 1\n2 4 2\n1 2 1", [[1, 2, 1], [2, 4, 2], [1, 2, 1]]),
    ("1,2,1; 2,4,2; 1,2,1", [[1, 2, 1], [2, 4, 2], [1, 2, 1]]),
    ("  -1, 0, 1\n-2  0  2 \n\n -1 0 1\n", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    ("[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    ("1/9 1/9 1/9\n1/9 1/9 1/9\n1/9 1/9 1/9", np.full((3, 3), 1 / 9)),
    ("0.5 -1 / 4 1e-1;0 0 0;−1 0 2", [[0.5, -0.25, 0.1], [0, 0, 0], [-1, 0, 2]]),
    ("7", [[7]]),
    (";".join([" ".join(["1"] * 7)] * 7), np.ones((7, 7))),
])
def test_parse_kernel_happy(text, expected):
    k = ops.parse_kernel(text)
    assert k.dtype == np.float32
    np.testing.assert_allclose(k, np.asarray(expected, dtype=np.float32), rtol=1e-6)


@pytest.mark.parametrize("text,message", [
    ("", "empty"),
    ("  \n ; ", "empty"),
    ("1 2\n3 4", "odd"),
    ("1 2 3\n4 5 6", "square"),
    ("1 2 3\n4 5\n6 7 8", "row 2 has 2"),
    ("1 2 3\n4 x 6\n7 8 9", "'x'"),
    ("1 1/0 1\n1 1 1\n1 1 1", "1/0"),
    ("nan 0 0\n0 0 0\n0 0 0", "nan"),
    (";".join([" ".join(["1"] * 9)] * 9), "at most 7"),
])
def test_parse_kernel_refusals(text, message):
    with pytest.raises(ValueError, match=message):
        ops.parse_kernel(text)


@pytest.mark.parametrize("text,message", [
    ("1e400 0 0\n0 0 0\n0 0 0", "too large"),          # float() overflows: was an OverflowError
    ("1e39", "too large"),                             # was silently inf in float32
    ("1e999999999", "cannot read"),                    # an exponent Fraction would try to build exactly
    ("1" * 50, "cannot read"),
    ("inf", "cannot read"),
    ("0x10", "cannot read"),
    ("1/0", "divides by zero"),
    ("1 " * 1500, "too long"),
])
def test_parse_kernel_refuses_numbers_that_cannot_be_weights(text, message):
    with pytest.raises(ValueError, match=message):
        ops.parse_kernel(text)


from hypothesis import given, settings, strategies as hs  # noqa: E402


@given(hs.text(max_size=300))
@settings(max_examples=500, deadline=None)
def test_parse_kernel_on_any_text_gives_a_kernel_or_a_value_error(text):
    try:
        k = ops.parse_kernel(text)
    except ValueError as e:
        assert str(e)                                  # a message to show, never another exception type
        return
    assert k.dtype == np.float32 and k.ndim == 2 and k.shape[0] == k.shape[1] and k.shape[0] in (1, 3, 5, 7)
    assert np.isfinite(k).all() and np.abs(k).max() <= ops.MAX_KERNEL_VALUE


NUMBER_CHARS = "0123456789.-+eE/ ,;\n[]−"


@given(hs.text(alphabet=NUMBER_CHARS, max_size=200))
@settings(max_examples=500, deadline=None)
def test_parse_kernel_on_number_like_text_never_crashes(text):
    try:
        k = ops.parse_kernel(text)
    except ValueError:
        return
    assert np.isfinite(k).all()


@given(hs.sampled_from([1, 3, 5, 7]).flatmap(
    lambda n: hs.lists(hs.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=n * n, max_size=n * n)),
       hs.sampled_from(["\n", ";"]), hs.sampled_from([" ", ", "]))
@settings(max_examples=200, deadline=None)
def test_parse_kernel_reads_back_what_was_typed(values, row_sep, sep):
    n = int(round(len(values) ** 0.5))
    text = row_sep.join(sep.join(repr(v) for v in values[r * n:(r + 1) * n]) for r in range(n))
    np.testing.assert_array_equal(ops.parse_kernel(text), np.array(values, np.float32).reshape(n, n))
