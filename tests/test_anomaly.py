"""dlviz.anomaly: the mean + k·std threshold, ROC curve and AUC against hand-computed cases and a pairwise count."""
import math

import numpy as np
import pytest

from dlviz import anomaly


def test_threshold_mean_plus_k_std():
    t = anomaly.threshold([1.0, 2.0, 3.0, 4.0], k=2)
    assert t.mean == 2.5 and t.std == pytest.approx(math.sqrt(1.25))
    assert t.value == pytest.approx(2.5 + 2 * math.sqrt(1.25))
    assert t.is_anomaly(4.8) is True and t.is_anomaly(4.7) is False
    np.testing.assert_array_equal(t.is_anomaly(np.array([0.0, 5.0])), [False, True])
    assert anomaly.threshold([1.0, 2.0, 3.0, 4.0], k=0).value == 2.5


def test_rates_at_a_threshold():
    assert anomaly.rates_at(0.5, [0.1, 0.6, 0.2, 0.3], [0.4, 0.7, 0.9]) == (0.25, pytest.approx(2 / 3))


def test_roc_curve_hand_computed():
    # normal 0.1, 0.4; anomalies 0.35, 0.8. Lowering the threshold: 0.8 (anomaly), 0.4 (normal), 0.35, 0.1.
    fpr, tpr, thresholds = anomaly.roc_curve([0.1, 0.4], [0.35, 0.8])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds, [np.inf, 0.8, 0.4, 0.35, 0.1])
    assert anomaly.auc(fpr, tpr) == pytest.approx(0.75)      # 3 of the 4 (anomaly, normal) pairs are ordered right


def test_auroc_edge_cases():
    assert anomaly.auroc([0.0, 0.1], [0.5, 0.7]) == 1.0
    assert anomaly.auroc([0.5, 0.7], [0.0, 0.1]) == 0.0
    assert anomaly.auroc([1.0], [1.0]) == 0.5                 # a tie counts half


def test_auroc_equals_the_pairwise_probability():
    rng = np.random.default_rng(0)
    normal = np.round(rng.normal(0, 1, 300), 1)               # rounded: plenty of ties
    odd = np.round(rng.normal(1, 1, 200), 1)
    diff = odd[:, None] - normal[None, :]
    expected = np.mean(diff > 0) + 0.5 * np.mean(diff == 0)   # Mann–Whitney U / (n·m)
    assert anomaly.auroc(normal, odd) == pytest.approx(expected, abs=1e-12)


def test_thin_curve_keeps_the_ends_and_the_area():
    rng = np.random.default_rng(1)
    fpr, tpr, _ = anomaly.roc_curve(rng.normal(0, 1, 5000), rng.normal(1.5, 1, 5000))
    thin_fpr, thin_tpr = anomaly.thin_curve(fpr, tpr, 200)
    assert len(thin_fpr) <= 202
    assert (thin_fpr[0], thin_tpr[0], thin_fpr[-1], thin_tpr[-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(thin_fpr) >= 0) and np.all(np.diff(thin_tpr) >= 0)
    assert anomaly.auc(thin_fpr, thin_tpr) == pytest.approx(anomaly.auc(fpr, tpr), abs=2e-3)
