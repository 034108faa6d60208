"""The latent space of autoencoders in numpy: PCA, interpolation, manifold grids and the VAE's loss terms.

Everything here works on plain arrays (codes `z: (N, d)`, images `x: (N, 28, 28)` in [0, 1]); the models that
produce and consume the codes live in dlviz/models/.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPSILON = 1e-7      # Keras' backend.epsilon(): probabilities are clipped to [ε, 1 - ε] before the logarithm


# ## PCA: a view of a code with more than two numbers
@dataclass(frozen=True)
class PCA:
    """Principal components of codes z: (N, d). `components`: (k, d) unit rows, strongest first."""

    mean: np.ndarray                 # (d,)
    components: np.ndarray           # (k, d)
    explained_variance: np.ndarray   # (k,) variance of the data along each component
    explained_ratio: np.ndarray      # (k,) share of the total variance

    def transform(self, z: np.ndarray) -> np.ndarray:
        """(N, d) -> (N, k) coordinates along the components."""
        return (np.asarray(z, dtype=np.float64) - self.mean) @ self.components.T

    def inverse(self, coords: np.ndarray) -> np.ndarray:
        """(N, k) -> (N, d): the point of the code space at those coordinates (the mean along other directions)."""
        return self.mean + np.asarray(coords, dtype=np.float64) @ self.components


def pca(z: np.ndarray, k: int = 2) -> PCA:
    """PCA by SVD of the centred data. Each component's sign is fixed so its largest entry is positive (the
    decomposition alone leaves it arbitrary), so the same data always gives the same picture."""
    z = np.asarray(z, dtype=np.float64)
    mean = z.mean(axis=0)
    _, s, vt = np.linalg.svd(z - mean, full_matrices=False)
    variance = s**2 / max(len(z) - 1, 1)
    signs = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])
    vt = vt * np.where(signs == 0, 1, signs)[:, None]
    total = variance.sum()
    ratio = variance / total if total > 0 else np.zeros_like(variance)
    return PCA(mean, vt[:k], variance[:k], ratio[:k])


@dataclass(frozen=True)
class LatentView:
    """A 2-D picture of codes: the codes themselves when they have two numbers, else their first two principal
    components. `to_code` maps a spot of the picture back to a code the decoder can take."""

    points: np.ndarray                 # (N, 2) the codes as drawn
    bounds: tuple[float, float, float, float]   # x0, x1, y0, y1: the points with a margin
    projection: PCA | None             # None: the codes are 2-D

    def place(self, codes: np.ndarray) -> np.ndarray:
        """(M, d) codes -> (M, 2) positions in this picture."""
        codes = np.atleast_2d(np.asarray(codes, dtype=np.float64))
        return codes if self.projection is None else self.projection.transform(codes)

    def to_code(self, xy: np.ndarray) -> np.ndarray:
        """(M, 2) positions -> (M, d) codes (for PCA: the mean code plus those amounts of the two components)."""
        xy = np.atleast_2d(np.asarray(xy, dtype=np.float64))
        return xy if self.projection is None else self.projection.inverse(xy)


def latent_view(codes: np.ndarray, margin: float = 0.08) -> LatentView:
    codes = np.asarray(codes, dtype=np.float64)
    projection = None if codes.shape[1] == 2 else pca(codes, 2)
    points = codes if projection is None else projection.transform(codes)
    lo, hi = np.percentile(points, 0.5, axis=0), np.percentile(points, 99.5, axis=0)
    pad = (hi - lo) * margin
    return LatentView(points, (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]), projection)


# ## Interpolation between two codes
def lerp(z0: np.ndarray, z1: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Straight line: (1 - t)·z0 + t·z1. t: scalar or (T,) -> (d,) or (T, d)."""
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if t.ndim == 0:
        return (1 - t) * z0 + t * z1
    return (1 - t[:, None]) * z0 + t[:, None] * z1


def slerp(z0: np.ndarray, z1: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985, as White 2016 suggests for latent spaces): along the great circle
    from z0 to z1, with the norm going linearly from |z0| to |z1|. Under a Gaussian prior most of the mass sits at
    a radius of about √d, and a straight line cuts through the low-norm middle; slerp stays out there.

    t: scalar or (T,) -> (d,) or (T, d). For (almost) parallel codes it is the straight line.
    """
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    scalar = t.ndim == 0
    t = np.atleast_1d(t)[:, None]
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 == 0 or n1 == 0:
        out = (1 - t) * z0 + t * z1
        return out[0] if scalar else out
    u0, u1 = z0 / n0, z1 / n1
    omega = np.arccos(np.clip(u0 @ u1, -1.0, 1.0))
    if omega < 1e-6:
        direction = (1 - t) * u0 + t * u1
    else:
        direction = (np.sin((1 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)
    out = direction * ((1 - t) * n0 + t * n1)
    return out[0] if scalar else out


def crossfade(x0: np.ndarray, x1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Pixel-space blend for contrast: (1 - t)·x0 + t·x1 for each t. x: (H, W), t: (T,) -> (T, H, W)."""
    t = np.asarray(t, dtype=np.float32)[:, None, None]
    return (1 - t) * np.asarray(x0, np.float32) + t * np.asarray(x1, np.float32)


# ## The manifold grid: where to decode
def norm_ppf(p: np.ndarray | float) -> np.ndarray:
    """The standard normal's inverse CDF (quantile function), Acklam's rational approximation (relative error
    below 1.15e-9), so no scipy is needed. p in (0, 1); 0 and 1 give -inf and +inf."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    low, high = p < 0.02425, p > 1 - 0.02425
    mid = ~low & ~high & (p > 0) & (p < 1)

    def tail(q):
        return ((((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1))

    inner_low, inner_high = low & (p > 0), high & (p < 1)
    out[inner_low] = tail(np.sqrt(-2 * np.log(p[inner_low])))
    out[inner_high] = -tail(np.sqrt(-2 * np.log(1 - p[inner_high])))
    q = p[mid] - 0.5
    r = q * q
    out[mid] = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))
    out[p == 0], out[p == 1] = -np.inf, np.inf
    return out if out.ndim else out[()]


def gaussian_grid_axis(n: int) -> np.ndarray:
    """n values along one axis of a VAE's manifold grid: the standard normal's quantiles at the centres of n equal
    slices of probability, (i + 0.5) / n (Kingma & Welling's figure 4), so each cell holds as much prior mass."""
    return norm_ppf((np.arange(n) + 0.5) / n)


def range_grid_axis(values: np.ndarray, n: int, coverage: float = 0.98) -> np.ndarray:
    """n evenly spaced values across the central `coverage` of `values` (an AE's codes along one axis: an AE
    has no prior, so the grid spans where its test codes actually are)."""
    tail = (1 - coverage) / 2 * 100
    low, high = np.percentile(np.asarray(values, dtype=np.float64), [tail, 100 - tail])
    return np.linspace(low, high, n)


def grid_codes(axis_x: np.ndarray, axis_y: np.ndarray) -> np.ndarray:
    """All (x, y) pairs as codes, row by row from the top (largest y) down, as images are laid out:
    (len(axis_y) * len(axis_x), 2)."""
    gx, gy = np.meshgrid(axis_x, axis_y[::-1])
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def tile(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(rows * cols, h, w) -> one (rows * h, cols * w) mosaic, row-major."""
    images = np.asarray(images)
    h, w = images.shape[-2:]
    return images.reshape(rows, cols, h, w).transpose(0, 2, 1, 3).reshape(rows * h, cols * w)


# ## The VAE's two loss terms, per image
def bce_per_image(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """Binary cross-entropy summed over the pixels, as the VAE is trained (keras-io): x, x_hat (N, ...) in
    [0, 1] -> (N,). x_hat is clipped to [ε, 1 - ε] first (in float32), as Keras does."""
    x = np.asarray(x, dtype=np.float64)
    # in float32 like Keras: 1 - ε rounds to 1 - 1.19e-7 there, which is what a saturated sigmoid output costs
    p = np.clip(np.asarray(x_hat, dtype=np.float32), np.float32(EPSILON), np.float32(1 - EPSILON)).astype(np.float64)
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p))
    return bce.reshape(len(bce), -1).sum(axis=1)


def excess_bce_per_image(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """Binary cross-entropy minus the image's own entropy: Σ over pixels of KL(Bernoulli(x) ‖ Bernoulli(x̂)),
    (N, ...) -> (N,). Zero for a perfect reconstruction, whatever the image; plain BCE also grows with how grey an
    image is (a grey pixel costs ~0.69 nats even when rebuilt exactly), which is not a reconstruction error."""
    return bce_per_image(x, x_hat) - bce_per_image(x, x)


def kl_per_image(z_mean: np.ndarray, z_log_var: np.ndarray) -> np.ndarray:
    """KL(N(μ, σ²) ‖ N(0, I)) = -½ Σ (1 + log σ² - μ² - σ²): (N, d) each -> (N,)."""
    z_mean, z_log_var = np.asarray(z_mean, np.float64), np.asarray(z_log_var, np.float64)
    return -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)


def mse_per_image(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """Mean squared error over the pixels: (N, ...) -> (N,)."""
    diff = np.asarray(x, np.float64) - np.asarray(x_hat, np.float64)
    return (diff**2).reshape(len(diff), -1).mean(axis=1)


# ## Sparsity of a code
def near_zero_share(code: np.ndarray, relative: float = 0.01) -> np.ndarray:
    """Per code (N, d) -> (N,): the share of units whose |value| is at most `relative` × that code's largest
    |value| (a scale-free "near zero": the decoder can rescale any unit, so an absolute cut-off would mislead)."""
    code = np.abs(np.asarray(code, dtype=np.float64))
    top = code.max(axis=1, keepdims=True)
    return np.where(top > 0, code <= relative * top, True).mean(axis=1)
