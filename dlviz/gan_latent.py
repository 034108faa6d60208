"""A GAN's latent space: sampling z with a seed, the truncation trick, walks between two z, principal directions.

z ~ N(0, I) of size latent_dim. Plain numpy; the generator is run elsewhere.
"""
from __future__ import annotations

import numpy as np


def sample_z(seed: int, n: int, latent_dim: int, truncation: float = 1.0) -> np.ndarray:
    """(n, latent_dim) float32 standard normal for `seed`, pulled toward the mean by `truncation` ψ in (0, 1]
    (StyleGAN's truncation trick z' = ψ z: smaller ψ gives more typical, less varied samples). The same seed
    gives the same first samples whatever n is."""
    z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)
    return z * np.float32(truncation)


def lerp(z0: np.ndarray, z1: np.ndarray, t) -> np.ndarray:
    """Straight line: (1 - t) z0 + t z1; t scalar or (T,) -> (T, D)."""
    t = np.asarray(t, dtype=np.float64)[..., None]
    return ((1 - t) * np.asarray(z0, np.float64) + t * np.asarray(z1, np.float64)).astype(np.float32)


def slerp(z0: np.ndarray, z1: np.ndarray, t) -> np.ndarray:
    """Spherical interpolation: along the great circle from z0 to z1, with the norm interpolated linearly.

    In high dimension a Gaussian z lies near a sphere of radius √D; the straight line between two such z passes
    closer to the centre (norm ≈ √(D/2) half way), where the generator rarely saw inputs. slerp keeps the norm.
    Falls back to lerp when z0 and z1 are (anti)parallel, where the great circle is not defined.
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    t = np.asarray(t, dtype=np.float64)[..., None]
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    cos = np.clip(np.dot(z0, z1) / max(n0 * n1, 1e-12), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return lerp(z0, z1, t[..., 0])
    u0, u1 = z0 / n0, z1 / n1
    direction = (np.sin((1 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)
    return (direction * ((1 - t) * n0 + t * n1)).astype(np.float32)


def principal_directions(z: np.ndarray, outputs: np.ndarray, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Latent directions that move the generated images the most (a GANSpace-like recipe, numpy only).

    z: (N, D) latents, outputs: (N, ...) what the generator made of them. The top-k principal components of the
    outputs are found, each output's coordinate on a component is regressed linearly on z, and the regression
    vector is the latent direction for that component. Returns directions (k, D), unit norm, and the share of
    output variance each component explains (k,).
    """
    z = np.asarray(z, np.float64)
    y = np.asarray(outputs, np.float64).reshape(len(z), -1)
    y = y - y.mean(axis=0)
    _, s, vt = np.linalg.svd(y, full_matrices=False)
    scores = y @ vt[:k].T                                         # (N, k) coordinates on the components
    zc = z - z.mean(axis=0)
    coef, *_ = np.linalg.lstsq(zc, scores, rcond=None)           # (D, k): score ≈ zc @ coef
    directions = (coef / np.linalg.norm(coef, axis=0, keepdims=True)).T
    explained = s[:k] ** 2 / np.sum(s ** 2)
    return directions.astype(np.float32), explained.astype(np.float32)
