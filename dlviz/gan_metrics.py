"""How good and how varied are a GAN's samples? Measured with the project's CNN as the judge (numpy only).

* `inception_score(probs)`: exp(E_x KL(p(y|x) || p(y))). High when each sample is classified confidently (sharp
  p(y|x)) and the classes are balanced (flat p(y)); at most the number of classes (10).
* `frechet_distance(f1, f2)`: the Fréchet distance between Gaussians fitted to two sets of features (here the
  CNN's penultimate layer `dense1`, 128 numbers), as in FID but with our CNN instead of Inception-v3.
* `class_histogram(probs)`: the share of samples the judge puts in each class (mode collapse empties classes).
* `diversity(features)`: the mean distance between two random samples' features; a collapsed generator's
  samples all look alike and score near 0. `relative` to real data it is ≈ 1 for a healthy generator.
"""
from __future__ import annotations

import numpy as np


def inception_score(probs: np.ndarray, eps: float = 1e-12) -> float:
    """probs: (N, C) class probabilities of N samples. exp(mean_i KL(p_i || mean_j p_j)), in [1, C]."""
    p = np.asarray(probs, dtype=np.float64)
    marginal = p.mean(axis=0, keepdims=True)
    kl = np.sum(p * (np.log(p + eps) - np.log(marginal + eps)), axis=1)
    return float(np.exp(kl.mean()))


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (eigh; tiny negative eigenvalues,
    from rounding, are clipped to 0)."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def trace_sqrt_product(s1: np.ndarray, s2: np.ndarray) -> float:
    """tr sqrt(S1 S2) for covariance matrices S1, S2, without a general matrix square root: S1 S2 is similar to
    the symmetric PSD matrix A = S1^½ S2 S1^½ (same eigenvalues), so tr sqrt(S1 S2) = Σ sqrt(eig(A))."""
    r = _sqrt_psd(s1)
    a = r @ s2 @ r
    w = np.linalg.eigvalsh((a + a.T) / 2)
    return float(np.sum(np.sqrt(np.clip(w, 0, None))))


def gaussian_frechet_distance(mu1, s1, mu2, s2) -> float:
    """||mu1 - mu2||² + tr(S1 + S2 - 2 (S1 S2)^½): the squared 2-Wasserstein distance between two Gaussians."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(s1, np.float64), np.asarray(s2, np.float64)
    d = float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt_product(s1, s2))
    return max(d, 0.0)


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """features: (N, D) -> mean (D,) and covariance (D, D) in float64."""
    f = np.asarray(features, dtype=np.float64)
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(features1: np.ndarray, features2: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N1, D) and (N2, D)."""
    return gaussian_frechet_distance(*feature_stats(features1), *feature_stats(features2))


def class_histogram(probs: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """probs: (N, C) -> (C,) share of samples whose most likely class is c (sums to 1)."""
    probs = np.asarray(probs)
    c = num_classes or probs.shape[1]
    return np.bincount(probs.argmax(axis=1), minlength=c) / len(probs)


def class_coverage(histogram: np.ndarray, floor: float = 0.05) -> int:
    """How many classes get at least `floor` of the samples (10 of 10 for a healthy MNIST generator)."""
    return int(np.sum(np.asarray(histogram) >= floor))


def diversity(features: np.ndarray, pairs: int = 2000, seed: int = 0) -> float:
    """Mean Euclidean distance between the features of `pairs` random pairs of different samples."""
    f = np.asarray(features, dtype=np.float64)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(f), pairs)
    j = (i + rng.integers(1, len(f), pairs)) % len(f)          # j != i
    return float(np.linalg.norm(f[i] - f[j], axis=1).mean())


def nearest(query: np.ndarray, bank: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """query (D,) or (Q, D), bank (N, D) -> indices (Q, k) of the k nearest bank rows and their distances."""
    q = np.atleast_2d(np.asarray(query, np.float32))
    b = np.asarray(bank, np.float32)
    d2 = (q ** 2).sum(1)[:, None] - 2 * q @ b.T + (b ** 2).sum(1)[None, :]
    idx = np.argsort(d2, axis=1)[:, :k]
    return idx, np.sqrt(np.clip(np.take_along_axis(d2, idx, axis=1), 0, None))


def judge_report(probs: np.ndarray, features: np.ndarray, reference_features: np.ndarray) -> dict:
    """Every number the manifest keeps for one set of samples, judged against `reference_features` (the test set)."""
    hist = class_histogram(probs)
    return {"inception_score": round(inception_score(probs), 4),
            "frechet_distance": round(frechet_distance(features, reference_features), 4),
            "class_histogram": [round(float(h), 4) for h in hist],
            "classes_over_5_percent": class_coverage(hist),
            "min_class_share": round(float(hist.min()), 4),
            "diversity": round(diversity(features), 4),
            "samples": int(len(probs))}
