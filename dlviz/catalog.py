"""The pages of the app: one source of truth for their titles, icons, URLs and one-line lessons.

`app.py` builds the navigation from this list and the home page shows it, each entry with a small preview
computed from the bundled samples (numpy only, so the home page opens without loading TensorFlow).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dlviz import ops
from dlviz.i18n import N_


@dataclass(frozen=True)
class PageInfo:
    file: str            # relative to the project root
    title: str           # English; shown through t() (dlviz.i18n)
    icon: str            # Streamlit material icon
    url_path: str
    teaches: str         # one line for the home page
    preview: Callable[[np.ndarray], np.ndarray]   # (28, 28) float sample -> (h, w) float preview


def _conv_preview(x: np.ndarray) -> np.ndarray:
    return np.abs(ops.conv2d(x, ops.kernel_preset("sobel x", 3), padding="same"))


def _pool_preview(x: np.ndarray) -> np.ndarray:
    return ops.pool2d(x, 2, mode="max")


def _blur_preview(x: np.ndarray) -> np.ndarray:
    """A blurred copy: what a small autoencoder's reconstruction roughly looks like (no model on the home page)."""
    return ops.conv2d(x, ops.kernel_preset("gaussian", 5), padding="same")


def _noise_preview(x: np.ndarray) -> np.ndarray:
    """The same digit built from noise: a hint at a generator (a fixed seed, so the home page is stable)."""
    noise = np.random.default_rng(0).random(x.shape)
    return np.clip(0.7 * x + 0.3 * noise * (x > 0.1), 0, 1)


def _mask_preview(x: np.ndarray) -> np.ndarray:
    """Ink vs background, as a segmentation mask."""
    return (x > 0.3).astype(float)


PAGES: tuple[PageInfo, ...] = (
    PageInfo("pages/convolution.py", N_("Convolution"), ":material/filter:", "convolution",
             N_("What each filter of a trained CNN responds to in your drawing, and the exact sum behind any value."),
             _conv_preview),
    PageInfo("pages/pooling.py", N_("Pooling"), ":material/grid_view:", "pooling",
             N_("Max, average and global pooling next to a strided convolution: what each keeps and what it throws away."),
             _pool_preview),
    PageInfo("pages/autoencoder.py", N_("Autoencoder & VAE"), ":material/compress:", "autoencoder",
             N_("Squeeze your drawing through a tiny code and back: reconstructions, denoising, anomalies and the "
             "latent space you can click."), _blur_preview),
    PageInfo("pages/gan.py", N_("GAN"), ":material/auto_awesome:", "gan",
             N_("Two networks in a contest: DCGAN and WGAN-GP samples, latent walks, the critic's opinion of your "
             "drawing, and what mode collapse looks like."), _noise_preview),
    PageInfo("pages/unet.py", N_("U-Net"), ":material/select_all:", "unet",
             N_("Label every pixel: segmentation masks on your digits and on electron-microscope slices, and why the "
             "skip connections matter."), _mask_preview),
)
