"""A GAN's latent space: sampling z with a seed, the truncation trick, principal directions.

z ~ N(0, I) of size latent_dim. Plain numpy; the generator is run elsewhere. Walks between two z (lerp, slerp)
are shared with the autoencoder pages: `dlviz.latent`.
"""
from __future__ import annotations

import numpy as np


def sample_z(seed: int, n: int, latent_dim: int, truncation: float = 1.0) -> np.ndarray:
    """(n, latent_dim) float32 standard normal for `seed`, pulled toward the mean by `truncation` ψ in (0, 1]
    (StyleGAN's truncation trick z' = ψ z: smaller ψ gives more typical, less varied samples). The same seed
    gives the same first samples whatever n is."""
    z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)
    return z * np.float32(truncation)


def with_code(z: np.ndarray, code: int, categories: int) -> np.ndarray:
    """A copy of z (N, D) whose first `categories` entries are reordered so that entry `code` is the largest: the
    same numbers (still a standard normal sample), now carrying that categorical code (`dlviz.models.gan`)."""
    z = np.array(z, np.float32, copy=True)
    rows, top = np.arange(len(z)), z[:, :categories].argmax(axis=1)
    z[rows, top], z[rows, code] = z[rows, code], z[rows, top]
    return z


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
