"""dlviz.noise: Gaussian, salt-and-pepper, random erasing and the denoiser's training mix."""
import numpy as np
import pytest

from dlviz import noise


def gray(shape=(200, 28, 28), value=0.5):
    return np.full(shape, value, dtype=np.float32)


def test_gaussian_statistics_clipping_and_input_untouched():
    x = gray()
    out = noise.gaussian(x, 0.1, np.random.default_rng(0))
    assert out.shape == x.shape and np.all(x == 0.5)
    assert abs(out.mean() - 0.5) < 0.002 and abs(out.std() - 0.1) < 0.002
    strong = noise.gaussian(x, 2.0, np.random.default_rng(0))
    assert strong.min() == 0.0 and strong.max() == 1.0
    np.testing.assert_array_equal(noise.gaussian(x, 0.0, np.random.default_rng(0)), x)


def test_salt_and_pepper_hits_the_share_asked_for():
    x = gray()
    out = noise.salt_and_pepper(x, 0.1, np.random.default_rng(0))
    changed = out != 0.5
    assert abs(changed.mean() - 0.1) < 0.003
    assert set(np.unique(out[changed])) == {0.0, 1.0}
    assert abs((out[changed] == 1.0).mean() - 0.5) < 0.02
    np.testing.assert_array_equal(noise.salt_and_pepper(x, 0.0, np.random.default_rng(0)), x)
    assert np.all(x == 0.5)


@pytest.mark.parametrize("area", [0.05, 0.2, 0.5])
def test_random_erasing_one_rectangle_of_the_asked_area(area):
    x = np.ones((50, 28, 28), dtype=np.float32)
    out = noise.random_erasing(x, area, np.random.default_rng(0))
    for img in out:
        rows, cols = np.nonzero(img == 0)
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert len(rows) == h * w                                   # the erased pixels form one rectangle
        assert 0.4 <= h / w <= 2.5                                  # aspect in [1/2, 2], up to rounding to pixels
        assert abs(len(rows) / 784 - area) < 0.06
    assert np.all(x == 1)


def test_random_erasing_single_image_and_zero_area():
    x = np.ones((28, 28), dtype=np.float32)
    assert noise.random_erasing(x, 0.2, np.random.default_rng(0)).shape == (28, 28)
    np.testing.assert_array_equal(noise.random_erasing(x, 0.0, np.random.default_rng(0)), x)


def test_corrupt_dispatches_and_refuses_unknown_kinds():
    x = gray((2, 28, 28))
    for kind in noise.NOISE_KINDS:
        out = noise.corrupt(x, kind, 0.3, np.random.default_rng(0))
        assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1 and not np.array_equal(out, x)
    with pytest.raises(ValueError, match="unknown noise"):
        noise.corrupt(x, "blur", 0.3, np.random.default_rng(0))


def test_noise_mix_is_seeded_and_uses_every_kind():
    x = gray((300, 28, 28))
    a = noise.noise_mix(x, np.random.default_rng(5))
    np.testing.assert_array_equal(a, noise.noise_mix(x, np.random.default_rng(5)))
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    # On a flat gray image each kind leaves its own signature: erasing only adds 0s, salt-and-pepper 0s and 1s,
    # Gaussian noise many distinct values.
    values = [np.unique(img) for img in a]
    gaussian = np.array([len(v) > 3 for v in values])
    salted = np.array([len(v) <= 3 and 1.0 in v for v in values])
    erased = ~gaussian & ~salted
    for kind in (gaussian, salted, erased):
        assert 60 < kind.sum() < 140
