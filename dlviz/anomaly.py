"""Anomaly detection by reconstruction error, in numpy.

An autoencoder trained on digits rebuilds digits well and anything else badly, so its reconstruction error is an
anomaly score. The course notes' rule: an input is anomalous when its error exceeds mean + k·std of the errors on
normal (test) data. How well the score separates normal from anomalous data, over every possible threshold, is
the ROC curve and the area under it (AUROC: the chance that a random anomaly scores higher than a random normal
input; 0.5 is a coin flip, 1.0 a perfect separation).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Threshold:
    mean: float      # of the reconstruction errors on normal data
    std: float
    k: float

    @property
    def value(self) -> float:
        return self.mean + self.k * self.std

    def is_anomaly(self, error: np.ndarray | float) -> np.ndarray | bool:
        """error > mean + k·std."""
        out = np.asarray(error) > self.value
        return out if out.ndim else bool(out)


def threshold(normal_errors: np.ndarray, k: float) -> Threshold:
    """mean + k·std of the errors on normal data (population std, ddof=0)."""
    e = np.asarray(normal_errors, dtype=np.float64)
    return Threshold(float(e.mean()), float(e.std()), float(k))


def rates_at(threshold_value: float, normal_scores: np.ndarray, anomaly_scores: np.ndarray) -> tuple[float, float]:
    """(false-positive rate, true-positive rate) of "score > threshold": normal inputs flagged, anomalies caught."""
    return (float(np.mean(np.asarray(normal_scores) > threshold_value)),
            float(np.mean(np.asarray(anomaly_scores) > threshold_value)))


def roc_curve(normal_scores: np.ndarray, anomaly_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) for "score ≥ threshold" at every distinct score, highest threshold first; starts at
    (0, 0) (threshold +inf) and ends at (1, 1). Anomalies are the positives."""
    normal = np.asarray(normal_scores, dtype=np.float64).ravel()
    anomaly = np.asarray(anomaly_scores, dtype=np.float64).ravel()
    scores = np.concatenate([normal, anomaly])
    positive = np.concatenate([np.zeros(len(normal)), np.ones(len(anomaly))])
    order = np.argsort(-scores, kind="mergesort")
    scores, positive = scores[order], positive[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]   # one point per distinct score
    tp = np.cumsum(positive)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    fpr = np.r_[0.0, fp / max(len(normal), 1)]
    tpr = np.r_[0.0, tp / max(len(anomaly), 1)]
    return fpr, tpr, np.r_[np.inf, scores[last_of_tie]]


def auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under a curve given by its points (trapezoids), e.g. the ROC curve's."""
    fpr, tpr = np.asarray(fpr, np.float64), np.asarray(tpr, np.float64)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def auroc(normal_scores: np.ndarray, anomaly_scores: np.ndarray) -> float:
    """Area under the ROC curve = P(anomaly score > normal score) + ½ P(tie)."""
    fpr, tpr, _ = roc_curve(normal_scores, anomaly_scores)
    return auc(fpr, tpr)


def thin_curve(fpr: np.ndarray, tpr: np.ndarray, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """At most ~`points` points of a ROC curve for drawing and storing, keeping both ends; the curve's shape is
    kept by sampling evenly along its length (fpr + tpr), where the many tiny steps of 20,000 scores are."""
    fpr, tpr = np.asarray(fpr), np.asarray(tpr)
    if len(fpr) <= points:
        return fpr, tpr
    length = fpr + tpr                              # non-decreasing from 0 to 2 along the curve
    index = np.unique(np.searchsorted(length, np.linspace(0, length[-1], points)))
    index = np.unique(np.r_[0, np.minimum(index, len(fpr) - 1), len(fpr) - 1])
    return fpr[index], tpr[index]
