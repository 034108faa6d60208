"""A trained GAN and its judge, answering the GAN page: generate images, score images, classify samples.

Each network is wrapped in XLA-compiled forward passes built once (see `dlviz.explain.Inspector._compile` for
why: Streamlit clears Keras' session after every rerun and `predict` costs ~25 ms per call). Inputs are padded up
to a few fixed batch sizes so each size is compiled once, not once per count the user picks.
"""
from __future__ import annotations

import numpy as np

from dlviz import registry
from dlviz.models.gan import from_gan_range, to_gan_range

BUCKETS = (1, 8, 16, 32, 64, 128, 256, 512)
# Generators end in transposed convolutions, which XLA runs slowly on big batches on this CPU: 1,000 DCGAN samples
# took 457 ms in 512-row chunks, 175 ms in 64-row ones. Discriminators, critics and the judge prefer big batches.
GENERATOR_BUCKETS = (1, 8, 16, 32, 64)
JUDGE_LAYER = "dense1"


class _Compiled:
    """fn(x) on fixed batch sizes: x is padded to the next bucket (and cut in chunks of the largest one)."""

    def __init__(self, fn, shape: tuple, buckets: tuple[int, ...] = BUCKETS, warm: tuple[int, ...] = (1, 64)):
        import tensorflow as tf

        self.shape, self.buckets = shape, buckets
        self._fns = {}
        for b in buckets:
            self._fns[b] = tf.function(fn, jit_compile=True, input_signature=[tf.TensorSpec((b, *shape), tf.float32)])
        self._plain = fn
        try:
            for b in warm:
                self._fns[b](tf.zeros((b, *shape), tf.float32))
        except Exception:        # no XLA here: the plain Keras call still works
            self._fns = None

    def __call__(self, x: np.ndarray):
        x = np.asarray(x, np.float32)
        if self._fns is None:
            return [np.asarray(o) for o in _as_list(self._plain(x))]
        big = self.buckets[-1]
        parts = []
        for i in range(0, len(x), big):
            chunk = x[i:i + big]
            b = next(b for b in self.buckets if b >= len(chunk))
            padded = np.zeros((b, *self.shape), np.float32)
            padded[:len(chunk)] = chunk
            parts.append([np.asarray(o)[:len(chunk)] for o in _as_list(self._fns[b](padded))])
        return [np.concatenate(p) for p in zip(*parts)]


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


class GanSampler:
    """`generate(z)` -> images in [0, 1]; `score(images)` -> the discriminator's / critic's score."""

    def __init__(self, gan, name: str = ""):
        self.gan, self.name = gan, name
        self.latent_dim = int(gan.generator.input_shape[-1])
        self.categories = int(getattr(gan, "categories", 0) or 0)     # a categorical code read from z, or 0
        self.labelled_code = bool(getattr(gan, "labelled_code", False))
        self._generate = _Compiled(lambda z: from_gan_range(gan.generator(z, training=False))[..., 0],
                                   (self.latent_dim,), buckets=GENERATOR_BUCKETS)
        self._score = _Compiled(lambda x: gan.discriminator(to_gan_range(x[..., None]), training=False)[:, 0],
                                (28, 28))

    def generate(self, z: np.ndarray) -> np.ndarray:
        """z: (N, latent_dim) -> (N, 28, 28) float32 in [0, 1]."""
        return self._generate(z)[0]

    def score(self, images01: np.ndarray) -> np.ndarray:
        """images: (N, 28, 28) in [0, 1] -> (N,) scores (a logit for DCGAN: P(real) = sigmoid; a Wasserstein score
        for the critic: only differences between scores mean something)."""
        return self._score(images01)[0]


class Judge:
    """The project's CNN as the judge of samples: its class probabilities and `dense1` features."""

    def __init__(self, name: str, directory=None):
        import keras

        self.name = name
        cnn = registry.load_model(name, directory)
        two = keras.Model(cnn.input, [cnn.get_layer(JUDGE_LAYER).output, cnn.output])
        self._call = _Compiled(lambda x: two(x[..., None], training=False), (28, 28))

    def __call__(self, images01: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """images: (N, 28, 28[, 1]) in [0, 1] -> features (N, 128), probs (N, classes)."""
        feats, probs = self._call(np.asarray(images01, np.float32).reshape(-1, 28, 28))
        return feats, probs


# ## What the GAN page asks of a sampler and the judge
def direction_sweeps(z: np.ndarray, directions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """z (D,), directions (k, D), offsets (m,) -> (k·m, D): z + offset·direction, direction by direction."""
    return (z[None, None, :] + offsets[None, :, None] * directions[:, None, :]).reshape(-1, z.shape[-1])


def code_rows(z: np.ndarray, categories: int) -> np.ndarray:
    """z (n, D) -> (categories·n, D): row c holds the same n latent vectors carrying code c."""
    from dlviz.gan_latent import with_code

    return np.vstack([with_code(z, c, categories) for c in range(categories)])


def collapse_meter(sampler: GanSampler, judge: Judge, n: int, seed: int, shown: int = 24) -> dict:
    """n samples judged by the CNN: class histogram (C,), classes over 5 %, IS, diversity of dense1 features, and
    the first `shown` samples (shown, 28, 28)."""
    from dlviz import gan_metrics
    from dlviz.gan_latent import sample_z

    images = sampler.generate(sample_z(seed, n, sampler.latent_dim))
    feats, probs = judge(images)
    hist = gan_metrics.class_histogram(probs)
    return {"histogram": hist, "coverage": gan_metrics.class_coverage(hist), "images": images[:shown],
            "inception_score": gan_metrics.inception_score(probs), "diversity": gan_metrics.diversity(feats)}


def nearest_training(judge: Judge, bank: dict[str, np.ndarray], image01: np.ndarray, k: int = 5):
    """The k bank images closest to `image01` (28, 28) in the judge's dense1 features: (indices, distances)."""
    from dlviz import gan_metrics

    feats, _ = judge(image01[None])
    idx, dist = gan_metrics.nearest(feats[0], bank["features"].astype(np.float32), k)
    return idx[0], dist[0]
