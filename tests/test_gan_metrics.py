"""GAN metrics and latent helpers against hand-computed cases and closed forms."""
import numpy as np
import pytest

from dlviz import gan_latent, gan_metrics, latent


# ## Inception Score
def test_inception_score_of_confident_balanced_predictions_is_the_class_count():
    probs = np.tile(np.eye(10), (30, 1))          # every class equally often, each sample one-hot
    assert gan_metrics.inception_score(probs) == pytest.approx(10.0, rel=1e-9)


def test_inception_score_of_identical_predictions_is_one():
    row = np.array([0.5, 0.2, 0.1, 0.1, 0.1, 0, 0, 0, 0, 0])
    assert gan_metrics.inception_score(np.tile(row, (50, 1))) == pytest.approx(1.0, abs=1e-9)


def test_inception_score_of_one_class_only_is_one_even_when_confident():
    probs = np.zeros((40, 10))
    probs[:, 3] = 1
    assert gan_metrics.inception_score(probs) == pytest.approx(1.0, abs=1e-9)


def test_inception_score_hand_computed_two_classes():
    # half the samples (0.9, 0.1), half (0.1, 0.9): marginal (0.5, 0.5),
    # KL = 0.9 ln(0.9/0.5) + 0.1 ln(0.1/0.5) for every sample.
    probs = np.array([[0.9, 0.1], [0.1, 0.9]] * 10)
    kl = 0.9 * np.log(1.8) + 0.1 * np.log(0.2)
    assert gan_metrics.inception_score(probs) == pytest.approx(np.exp(kl), rel=1e-9)


# ## Fréchet distance
def test_frechet_distance_of_a_set_to_itself_is_zero():
    f = np.random.default_rng(0).normal(size=(500, 16)) @ np.random.default_rng(1).normal(size=(16, 16))
    assert gan_metrics.frechet_distance(f, f) == pytest.approx(0.0, abs=1e-6)


def test_gaussian_frechet_distance_diagonal_closed_form():
    # Commuting covariances: ||mu1 - mu2||² + Σ (σ1 - σ2)².
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    sd1, sd2 = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])
    expected = 1 + 0 + 4 + (1 + 0 + 4)
    got = gan_metrics.gaussian_frechet_distance(mu1, np.diag(sd1 ** 2), mu2, np.diag(sd2 ** 2))
    assert got == pytest.approx(expected, rel=1e-9)


def test_trace_sqrt_product_non_commuting_2x2():
    # For 2×2 with non-negative eigenvalues λ1, λ2: (√λ1 + √λ2)² = tr(M) + 2 √det(M).
    s1 = np.array([[2.0, 0.7], [0.7, 1.0]])
    s2 = np.array([[1.0, -0.4], [-0.4, 3.0]])
    m = s1 @ s2
    expected = np.sqrt(np.trace(m) + 2 * np.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    assert gan_metrics.trace_sqrt_product(s1, s2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_samples_approaches_the_gaussian_closed_form():
    rng = np.random.default_rng(2)
    a = rng.normal([0, 0], [1, 1], size=(200_000, 2))
    b = rng.normal([3, 0], [1, 2], size=(200_000, 2))
    # ||(3, 0)||² + (1 - 1)² + (1 - 2)² = 10
    assert gan_metrics.frechet_distance(a, b) == pytest.approx(10.0, rel=0.02)


def test_frechet_distance_is_symmetric_and_non_negative():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(300, 5)), rng.normal(size=(300, 5)) * 2 + 1
    d_ab, d_ba = gan_metrics.frechet_distance(a, b), gan_metrics.frechet_distance(b, a)
    assert d_ab == pytest.approx(d_ba, rel=1e-6)
    assert d_ab > 0


# ## Class histogram, coverage, diversity, nearest
def test_class_histogram_and_coverage():
    probs = np.zeros((20, 4))
    probs[np.arange(20), [0] * 10 + [1] * 9 + [3]] = 1
    hist = gan_metrics.class_histogram(probs)
    np.testing.assert_allclose(hist, [0.5, 0.45, 0.0, 0.05])
    assert gan_metrics.class_coverage(hist, floor=0.05) == 3
    assert gan_metrics.class_coverage(hist, floor=0.1) == 2


def test_diversity_of_identical_samples_is_zero_and_of_two_points_is_their_distance():
    assert gan_metrics.diversity(np.ones((100, 8))) == 0.0
    two = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert gan_metrics.diversity(two) == pytest.approx(5.0)


def test_nearest_finds_the_closest_rows():
    bank = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 3.0]])
    idx, dist = gan_metrics.nearest(np.array([[0.0, 2.0], [9.0, 1.0]]), bank, k=2)
    np.testing.assert_array_equal(idx, [[2, 0], [1, 0]])   # (9, 1): √82 to (0, 0) < √85 to (0, 3)
    np.testing.assert_allclose(dist[:, 0], [1.0, np.sqrt(2)], rtol=1e-6)


def test_judge_report_of_real_like_data():
    probs = np.tile(np.eye(10), (100, 1))
    feats = np.random.default_rng(0).normal(size=(1000, 4))
    r = gan_metrics.judge_report(probs, feats, feats)
    assert r["inception_score"] == pytest.approx(10.0)
    assert r["frechet_distance"] == pytest.approx(0.0, abs=1e-3)
    assert r["classes_over_5_percent"] == 10 and r["min_class_share"] == pytest.approx(0.1)


# ## Latent helpers (slerp is dlviz.latent's, shared with the autoencoder page; the GAN page relies on these)
def test_sample_z_is_seeded_prefix_stable_and_truncation_scales():
    a = gan_latent.sample_z(7, 4, 16)
    b = gan_latent.sample_z(7, 10, 16)
    np.testing.assert_array_equal(a, b[:4])
    assert not np.allclose(a, gan_latent.sample_z(8, 4, 16))
    np.testing.assert_allclose(gan_latent.sample_z(7, 4, 16, truncation=0.5), 0.5 * a, rtol=1e-6)
    assert a.dtype == np.float32 and a.shape == (4, 16)


def test_slerp_endpoints_and_midpoint_of_orthogonal_unit_vectors():
    u0, u1 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    path = latent.slerp(u0, u1, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(path[0], u0, atol=1e-6)
    np.testing.assert_allclose(path[2], u1, atol=1e-6)
    np.testing.assert_allclose(path[1], [np.sqrt(0.5), np.sqrt(0.5), 0], atol=1e-6)


def test_slerp_keeps_the_norm_and_moves_at_constant_angular_speed():
    rng = np.random.default_rng(0)
    z0, z1 = rng.normal(size=64), rng.normal(size=64)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    t = np.linspace(0, 1, 9)
    path = latent.slerp(z0, z1, t)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(z0), rtol=1e-5)
    unit = path / np.linalg.norm(path, axis=1, keepdims=True)
    steps = np.arccos(np.clip(np.sum(unit[1:] * unit[:-1], axis=1), -1, 1))
    np.testing.assert_allclose(steps, steps[0], rtol=1e-3)
    # lerp's midpoint is shorter (it cuts through the inside of the sphere)
    assert np.linalg.norm(latent.lerp(z0, z1, 0.5)) < 0.9 * np.linalg.norm(z0)


def test_slerp_of_parallel_vectors_falls_back_to_lerp():
    z = np.array([1.0, 2.0])
    np.testing.assert_allclose(latent.slerp(z, 3 * z, 0.5), 2 * z, rtol=1e-6)


def test_principal_directions_find_the_latent_axis_that_moves_the_output():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2000, 8))
    pattern_a, pattern_b = rng.normal(size=50), rng.normal(size=50)
    outputs = 5 * z[:, [3]] * pattern_a + 1 * z[:, [6]] * pattern_b + 0.01 * rng.normal(size=(2000, 50))
    directions, explained = gan_latent.principal_directions(z, outputs, k=2)
    assert abs(directions[0][3]) > 0.99 and abs(directions[1][6]) > 0.99
    np.testing.assert_allclose(np.linalg.norm(directions, axis=1), 1, rtol=1e-5)
    assert explained[0] > explained[1] > 0


def test_with_code_reorders_the_first_entries_so_the_code_is_their_argmax_and_keeps_the_numbers():
    from dlviz.gan_sampler import code_rows

    z = gan_latent.sample_z(3, 50, 16)
    for code in (0, 4, 9):
        coded = gan_latent.with_code(z, code, 10)
        assert (coded[:, :10].argmax(axis=1) == code).all()
        np.testing.assert_array_equal(coded[:, 10:], z[:, 10:])                  # the rest of z untouched
        np.testing.assert_array_equal(np.sort(coded[:, :10]), np.sort(z[:, :10]))  # the same numbers, reordered
        np.testing.assert_array_equal(np.sort(coded, axis=1), np.sort(z, axis=1))
    already = z[z[:, :10].argmax(axis=1) == 2]
    np.testing.assert_array_equal(gan_latent.with_code(already, 2, 10), already)
    rows = code_rows(z[:8], 10)
    assert rows.shape == (80, 16) and list(rows[::8, :10].argmax(axis=1)) == list(range(10))
