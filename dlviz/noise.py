"""Corrupting images for the denoising autoencoder: Gaussian noise, salt-and-pepper, random erasing.

Every function takes images `x: (..., H, W)` float in [0, 1] (one image or a batch, the last two axes are the
image) and a numpy `Generator`, and returns a new array of the same shape in [0, 1]; the input is never changed.

    rng = np.random.default_rng(0)
    noisy = corrupt(x, "gaussian", 0.3, rng)      # σ = 0.3
    noisy = corrupt(x, "salt_pepper", 0.1, rng)   # 10 % of the pixels set to black or white
    noisy = corrupt(x, "erasing", 0.2, rng)       # a rectangle covering 20 % of the image set to black
"""
from __future__ import annotations

import numpy as np

from dlviz.i18n import N_

# name -> (label users see, amount range offered by the page, what the amount means)
NOISE_KINDS: dict[str, tuple[str, tuple[float, float], str]] = {
    "gaussian": (N_("Gaussian noise"), (0.0, 1.0), N_("σ of the noise added to every pixel")),
    "salt_pepper": (N_("Salt and pepper"), (0.0, 0.5), N_("share of pixels set to black or white")),
    "erasing": (N_("Random erasing"), (0.0, 0.5), N_("share of the image covered by a black rectangle")),
}


def gaussian(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """x + N(0, σ²) per pixel, clipped to [0, 1]."""
    x = np.asarray(x, dtype=np.float32)
    return np.clip(x + sigma * rng.standard_normal(x.shape, dtype=np.float32), 0.0, 1.0)


def salt_and_pepper(x: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """A share `amount` of the pixels (each independently) set to 0 or 1, with equal odds."""
    x = np.array(x, dtype=np.float32)
    hit = rng.random(x.shape) < amount
    x[hit] = (rng.random(x.shape) < 0.5)[hit]
    return x


def random_erasing(x: np.ndarray, area: float, rng: np.random.Generator, value: float = 0.0) -> np.ndarray:
    """Per image, one rectangle covering about `area` of it set to `value` (Zhong et al. 2020 fill it with random
    values; black reads better as "part of the drawing is missing"). Aspect ratio random in [1/2, 2], position
    random with the rectangle inside the image."""
    x = np.array(x, dtype=np.float32)
    h, w = x.shape[-2:]
    batch = x.reshape(-1, h, w)
    n = len(batch)
    aspect = np.exp(rng.uniform(np.log(0.5), np.log(2.0), n))
    eh = np.clip(np.round(np.sqrt(area * h * w * aspect)), 0, h).astype(int)       # height / width = aspect
    ew = np.clip(np.round(np.sqrt(area * h * w / aspect)), 0, w).astype(int)
    top = (rng.random(n) * (h - eh + 1)).astype(int)
    left = (rng.random(n) * (w - ew + 1)).astype(int)
    rows, cols = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
    inside = ((rows >= top[:, None, None]) & (rows < (top + eh)[:, None, None])
              & (cols >= left[:, None, None]) & (cols < (left + ew)[:, None, None]))
    batch[inside] = value
    return batch.reshape(x.shape)


def corrupt(x: np.ndarray, kind: str, amount: float, rng: np.random.Generator) -> np.ndarray:
    """One of NOISE_KINDS at strength `amount` (see NOISE_KINDS for what the amount means)."""
    if kind == "gaussian":
        return gaussian(x, amount, rng)
    if kind == "salt_pepper":
        return salt_and_pepper(x, amount, rng)
    if kind == "erasing":
        return random_erasing(x, amount, rng)
    raise ValueError(f"unknown noise {kind!r}; choose one of {', '.join(NOISE_KINDS)}")


# The mix the denoising autoencoder is trained on: per image one kind, at a strength drawn from these ranges.
TRAINING_MIX: dict[str, tuple[float, float]] = {"gaussian": (0.1, 0.5), "salt_pepper": (0.02, 0.2),
                                                "erasing": (0.05, 0.25)}


def noise_mix(x: np.ndarray, rng: np.random.Generator, mix: dict[str, tuple[float, float]] = TRAINING_MIX
              ) -> np.ndarray:
    """x: (N, H, W) -> each image corrupted by one kind of noise of `mix` (equal odds), amount uniform in its range."""
    x = np.asarray(x, dtype=np.float32)
    out = np.empty_like(x)
    kinds = rng.integers(0, len(mix), len(x))
    for k, (kind, (low, high)) in enumerate(mix.items()):
        index = np.flatnonzero(kinds == k)
        if len(index) == 0:
            continue
        amount = rng.uniform(low, high, len(index)).astype(np.float32)
        if kind == "gaussian":
            out[index] = np.clip(x[index] + amount[:, None, None]
                                 * rng.standard_normal(x[index].shape, dtype=np.float32), 0, 1)
        elif kind == "salt_pepper":
            part = x[index].copy()
            hit = rng.random(part.shape) < amount[:, None, None]
            part[hit] = (rng.random(part.shape) < 0.5)[hit]
            out[index] = part
        else:
            out[index] = np.stack([random_erasing(img, a, rng) for img, a in zip(x[index], amount)])
    return out
