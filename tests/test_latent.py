"""dlviz.latent: PCA, interpolation, manifold grid spacing, the VAE's loss terms (hand-computed and Keras)."""
import math

import numpy as np
import pytest

from dlviz import latent


# ## PCA
def test_pca_known_case():
    # Centred data with variances 8/3 along x and 2/3 along y (ddof=1): components are the axes, ratio 0.8 / 0.2.
    z = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]]) + [10.0, -5.0]
    p = latent.pca(z, k=2)
    np.testing.assert_allclose(p.mean, [10.0, -5.0])
    np.testing.assert_allclose(np.abs(p.components), [[1, 0], [0, 1]], atol=1e-12)
    np.testing.assert_allclose(p.explained_variance, [8 / 3, 2 / 3])
    np.testing.assert_allclose(p.explained_ratio, [0.8, 0.2])
    np.testing.assert_allclose(np.abs(p.transform([[12.0, -5.0]])), [[2.0, 0.0]], atol=1e-12)


def test_pca_finds_a_tilted_line_and_fixes_signs():
    rng = np.random.default_rng(0)
    direction = np.array([3.0, 4.0, 0.0]) / 5
    z = rng.normal(size=(500, 1)) * 5 * direction + rng.normal(size=(500, 3)) * 0.01
    p = latent.pca(z, k=1)
    np.testing.assert_allclose(p.components[0], direction, atol=1e-3)     # largest entry made positive
    assert p.explained_ratio[0] > 0.999
    # Projecting and mapping back recovers points that lie on the component
    on_line = np.array([[3.0, 4.0, 0.0]]) + p.mean
    np.testing.assert_allclose(p.inverse(p.transform(on_line)), on_line, atol=5e-3)


# ## lerp / slerp
def test_lerp_endpoints_and_midpoint():
    z0, z1 = np.array([1.0, -2.0]), np.array([3.0, 6.0])
    out = latent.lerp(z0, z1, np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(out, [[1, -2], [2, 2], [3, 6]])
    np.testing.assert_allclose(latent.lerp(z0, z1, 0.25), [1.5, 0.0])


def test_slerp_hand_computed():
    # From (1, 0) to (0, 2): a quarter circle; halfway the direction is 45° and the norm is 1.5.
    out = latent.slerp([1.0, 0.0], [0.0, 2.0], np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(out, [[1, 0], [1.5 / math.sqrt(2), 1.5 / math.sqrt(2)], [0, 2]], atol=1e-12)


def test_slerp_norms_and_angles_are_linear_in_t():
    rng = np.random.default_rng(1)
    z0, z1 = rng.normal(size=8), rng.normal(size=8)
    t = np.linspace(0, 1, 11)
    out = latent.slerp(z0, z1, t)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), (1 - t) * n0 + t * n1)
    omega = math.acos(z0 @ z1 / n0 / n1)
    angles = np.arccos(np.clip(out @ z0 / np.linalg.norm(out, axis=1) / n0, -1, 1))
    np.testing.assert_allclose(angles, t * omega, atol=1e-7)
    # the straight line through the middle is shorter: slerp keeps the norm up where lerp lets it sag
    assert np.linalg.norm(latent.lerp(z0, z1, 0.5)) < np.linalg.norm(out[5]) + 1e-12


def test_slerp_parallel_and_zero_vectors_fall_back_to_the_line():
    np.testing.assert_allclose(latent.slerp([1.0, 1.0], [2.0, 2.0], 0.5), [1.5, 1.5])
    np.testing.assert_allclose(latent.slerp([0.0, 0.0], [2.0, 2.0], 0.25), [0.5, 0.5])


def test_crossfade():
    out = latent.crossfade(np.zeros((2, 2)), np.ones((2, 2)), np.array([0.0, 0.25, 1.0]))
    assert out.shape == (3, 2, 2)
    np.testing.assert_allclose(out[:, 0, 0], [0, 0.25, 1])


# ## Grid spacing
@pytest.mark.parametrize("p, expected", [
    (0.5, 0.0), (0.975, 1.959963984540054), (0.8413447460685429, 1.0), (0.75, 0.6744897501960817),
    (0.001, -3.090232306167813), (1e-6, -4.753424308822899), (0.025, -1.959963984540054),
    (0.9, 1.2815515655446004), (0.99, 2.3263478740408408)])
def test_norm_ppf_known_quantiles(p, expected):
    assert latent.norm_ppf(p) == pytest.approx(expected, abs=1e-8)


def test_norm_ppf_is_symmetric_monotonic_and_handles_the_ends():
    p = np.linspace(0.0005, 0.9995, 999)
    q = latent.norm_ppf(p)
    np.testing.assert_allclose(q, -latent.norm_ppf(1 - p), atol=1e-8)
    assert np.all(np.diff(q) > 0)
    assert latent.norm_ppf(0.0) == -np.inf and latent.norm_ppf(1.0) == np.inf
    # The inverse of the normal CDF Φ(x) = (1 + erf(x/√2)) / 2 (an independent formula)
    phi = np.array([(1 + math.erf(v / math.sqrt(2))) / 2 for v in q])
    np.testing.assert_allclose(phi, p, rtol=5e-8)


def test_gaussian_grid_axis_equal_probability_slices():
    np.testing.assert_allclose(latent.gaussian_grid_axis(2), [-0.6744897501960817, 0.6744897501960817])
    axis = latent.gaussian_grid_axis(5)
    assert axis[2] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(axis, -axis[::-1], atol=1e-12)
    # cells near the centre are narrower than at the edges: equal prior mass, not equal distance
    assert np.diff(axis)[1] < np.diff(axis)[0]
    assert latent.gaussian_grid_axis(30)[-1] == pytest.approx(2.1280452, abs=1e-6)   # Φ⁻¹(29.5 / 30)


def test_range_grid_axis_spans_the_central_codes():
    np.testing.assert_allclose(latent.range_grid_axis(np.linspace(0, 100, 1001), 3), [1, 50, 99])


def test_grid_codes_rows_from_the_top():
    codes = latent.grid_codes(np.array([0.0, 1.0]), np.array([-1.0, 1.0]))
    np.testing.assert_allclose(codes, [[0, 1], [1, 1], [0, -1], [1, -1]])


def test_tile_places_images_row_major():
    images = np.arange(6)[:, None, None] * np.ones((6, 2, 3))
    mosaic = latent.tile(images, 2, 3)
    assert mosaic.shape == (4, 9)
    assert mosaic[0, 0] == 0 and mosaic[0, 3] == 1 and mosaic[2, 0] == 3 and mosaic[3, 8] == 5


# ## The VAE's loss terms
def test_bce_per_image_hand_computed():
    x = np.array([[1.0, 0.0, 0.5]])
    p = np.array([[0.9, 0.2, 0.5]])
    expected = -math.log(0.9) - math.log(0.8) - math.log(0.5)
    assert latent.bce_per_image(x, p)[0] == pytest.approx(expected, rel=1e-6)   # float32 inputs, as Keras


def test_bce_per_image_matches_keras_sum_over_pixels():
    import keras

    rng = np.random.default_rng(0)
    x = rng.random((4, 28, 28, 1)).astype("float32")
    p = rng.random((4, 28, 28, 1)).astype("float32")
    p[0, :3, :3, 0] = 0.0            # exactly 0 and 1 (a saturated sigmoid): Keras clips in float32, so must we
    p[1, :3, :3, 0] = 1.0
    expected = np.asarray(keras.ops.sum(keras.losses.binary_crossentropy(x, p), axis=(1, 2)))
    np.testing.assert_allclose(latent.bce_per_image(x, p), expected, rtol=2e-5)


def test_excess_bce_is_the_bernoulli_kl_and_ignores_how_grey_an_image_is():
    x = np.array([[1.0, 0.0, 0.5]])
    p = np.array([[0.9, 0.2, 0.75]])
    kl = -math.log(0.9) - math.log(0.8) + (0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25))
    assert latent.excess_bce_per_image(x, p)[0] == pytest.approx(kl, rel=1e-5)
    grey = np.full((1, 28, 28), 0.5)
    assert latent.bce_per_image(grey, grey)[0] == pytest.approx(784 * math.log(2), rel=1e-6)   # rebuilt exactly...
    assert latent.excess_bce_per_image(grey, grey)[0] == pytest.approx(0.0, abs=1e-6)          # ...costs nothing
    rng = np.random.default_rng(0)
    assert np.all(latent.excess_bce_per_image(rng.random((5, 9)), rng.random((5, 9))) >= 0)


def test_kl_per_image_hand_computed():
    # 1-D closed form: KL(N(μ, σ²) ‖ N(0, 1)) = -log σ + (σ² + μ²) / 2 - 1/2
    z_mean = np.array([[1.0, 0.0]])
    z_log_var = np.array([[0.0, math.log(4.0)]])
    expected = (0 + (1 + 1) / 2 - 0.5) + (-math.log(2) + (4 + 0) / 2 - 0.5)
    assert latent.kl_per_image(z_mean, z_log_var)[0] == pytest.approx(expected, rel=1e-12)
    assert latent.kl_per_image(np.zeros((3, 2)), np.zeros((3, 2))) == pytest.approx(np.zeros(3))


def test_kl_per_image_matches_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    mu, log_var = np.array([[0.7, -1.2]]), np.array([[-0.5, 0.8]])
    sigma = np.exp(0.5 * log_var)
    z = mu + sigma * rng.standard_normal((400_000, 2))
    log_q = -0.5 * (((z - mu) / sigma) ** 2 + log_var + math.log(2 * math.pi))
    log_p = -0.5 * (z**2 + math.log(2 * math.pi))
    assert latent.kl_per_image(mu, log_var)[0] == pytest.approx(np.mean(np.sum(log_q - log_p, axis=1)), abs=0.01)


def test_mse_per_image():
    assert latent.mse_per_image(np.zeros((1, 2, 2)), np.array([[[1.0, 0], [0, 1]]]))[0] == 0.5


def test_near_zero_share_is_relative_to_the_largest_unit():
    code = np.array([[10.0, 0.05, 0.2, 0.0], [0.0, 0.0, 0.0, 0.0], [0.001, 0.002, 0.0, 0.0]])
    np.testing.assert_allclose(latent.near_zero_share(code), [0.5, 1.0, 0.5])
