"""A 2-D latent space forming while you watch: an autoencoder or a VAE (keras-io's examples/generative/vae.py, made
small) trained live on the bundled subset, its 500 test codes redrawn every few steps.

    task = LatentTask(LatentSettings(dataset="mnist", kind="vae", beta=1.0))
    task.step()          # one batch -> {"loss": ..., "reconstruction": ..., "kl": ...}
    task.snapshot()      # the test codes (μ), their labels, a grid of images decoded over the codes' range

The VAE's loss is reconstruction + β·KL. β is a live setting: at 0 the VAE is an autoencoder with noise (codes
spread out, gaps between classes); large β packs every code onto N(0, I) (classes overlap, blurry decodes).
"""
from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from dlviz.live.data import load_live_data

KINDS = ("vae", "ae")
MAX_STEPS = 3000            # 3,000 batches of 64 = 96 passes over the 2,000 training images
GRID = 7                    # the decoded grid shown next to the scatter: GRID × GRID codes
HIDDEN = 128


@dataclass(frozen=True)
class LatentSettings:
    dataset: str = "mnist"
    kind: str = "vae"               # "vae" | "ae"
    beta: float = 1.0
    learning_rate: float = 1e-3
    batch_size: int = 64
    seed: int = 0
    max_steps: int = MAX_STEPS


def _init(seed: int, i: int):
    return keras.initializers.GlorotUniform(seed=seed * 1000 + i)


# ## Encoder: 784 pixels -> a hidden layer -> μ and log σ² of a 2-D code (an AE uses μ alone)
def build_live_encoder(seed: int = 0) -> keras.Model:
    inputs = keras.Input(shape=(28, 28), name="image")                                        # (28, 28)
    x = layers.Flatten()(inputs)                                                                # (784,)
    x = layers.Dense(HIDDEN, activation="relu", kernel_initializer=_init(seed, 1), name="hidden")(x)  # (128,)
    z_mean = layers.Dense(2, kernel_initializer=_init(seed, 2), name="z_mean")(x)              # (2,)
    z_log_var = layers.Dense(2, kernel_initializer="zeros", name="z_log_var")(x)               # (2,)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


# ## Decoder: a 2-D code -> a hidden layer -> 784 logits (sigmoid = pixel intensities)
def build_live_decoder(seed: int = 0) -> keras.Model:
    codes = keras.Input(shape=(2,), name="z")                                                  # (2,)
    x = layers.Dense(HIDDEN, activation="relu", kernel_initializer=_init(seed, 3), name="hidden")(codes)  # (128,)
    x = layers.Dense(784, kernel_initializer=_init(seed, 4), name="logits")(x)                  # (784,)
    return keras.Model(codes, layers.Reshape((28, 28))(x), name="decoder")                      # (28, 28)


def grid_axis(values: np.ndarray, n: int = GRID) -> np.ndarray:
    """n evenly spaced values across the central 96 % of `values` (the decoded grid follows the codes)."""
    low, high = np.percentile(values, [2, 98])
    if high - low < 1e-6:
        low, high = low - 1, high + 1
    return np.linspace(low, high, n)


# ## The task the runner trains
class LatentTask:
    def __init__(self, settings: LatentSettings, data: dict[str, np.ndarray] | None = None):
        import tensorflow as tf

        if settings.kind not in KINDS:
            raise ValueError(f"unknown kind {settings.kind!r}; choose one of {', '.join(KINDS)}")
        self.settings = settings
        self.max_steps = settings.max_steps
        self.batch_size = settings.batch_size
        data = data if data is not None else load_live_data(settings.dataset)
        self.x_train = data["x_train"].astype(np.float32) / 255.0
        self.x_test = data["x_test"].astype(np.float32) / 255.0
        self.y_test = np.asarray(data["y_test"]).copy()
        self.rng = np.random.default_rng(settings.seed)
        self.order, self.cursor = self.rng.permutation(len(self.x_train)), 0
        self.encoder, self.decoder = build_live_encoder(settings.seed), build_live_decoder(settings.seed)
        self.beta = tf.Variable(float(settings.beta), trainable=False, dtype=tf.float32)
        self.optimizer = keras.optimizers.Adam(settings.learning_rate)
        weights = self.encoder.trainable_variables + self.decoder.trainable_variables
        self.optimizer.build(weights)
        encoder, decoder, optimizer, beta = self.encoder, self.decoder, self.optimizer, self.beta
        variational = settings.kind == "vae"

        def train_step(x, epsilon):
            with tf.GradientTape() as tape:
                z_mean, z_log_var = encoder(x, training=True)
                z = z_mean + tf.exp(0.5 * z_log_var) * epsilon if variational else z_mean   # z = μ + σ·ε
                logits = decoder(z, training=True)
                reconstruction = tf.reduce_mean(tf.reduce_sum(
                    tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=(1, 2)))
                kl = tf.reduce_mean(tf.reduce_sum(
                    -0.5 * (1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var)), axis=1))
                loss = reconstruction + beta * kl if variational else reconstruction
            grads = tape.gradient(loss, weights)
            optimizer.apply_gradients(zip(grads, weights))
            return loss, reconstruction, kl

        images = tf.TensorSpec((None, 28, 28), tf.float32)
        codes = tf.TensorSpec((None, 2), tf.float32)
        self._train_step = tf.function(train_step, input_signature=[images, codes], jit_compile=False)
        self._encode = tf.function(lambda x: encoder(x, training=False)[0], input_signature=[images],
                                   jit_compile=False)
        self._decode = tf.function(lambda z: tf.sigmoid(decoder(z, training=False)), input_signature=[codes],
                                   jit_compile=False)

    def step(self) -> dict[str, float]:
        if self.cursor + self.batch_size > len(self.order):
            self.order, self.cursor = self.rng.permutation(len(self.x_train)), 0
        index = self.order[self.cursor:self.cursor + self.batch_size]
        self.cursor += self.batch_size
        epsilon = self.rng.standard_normal((len(index), 2)).astype(np.float32)      # ε drawn here: seeded
        loss, reconstruction, kl = self._train_step(self.x_train[index], epsilon)
        return {"loss": float(loss), "reconstruction": float(reconstruction), "kl": float(kl)}

    def configure(self, beta: float | None = None, learning_rate: float | None = None) -> None:
        if beta is not None:
            self.beta.assign(float(beta))
        if learning_rate is not None:
            self.optimizer.learning_rate.assign(float(learning_rate))

    def snapshot(self) -> dict:
        codes = self._encode(self.x_test).numpy()                                     # (500, 2) μ
        ax, ay = grid_axis(codes[:, 0]), grid_axis(codes[:, 1])
        gx, gy = np.meshgrid(ax, ay[::-1])                                             # top row = largest z₂
        grid = self._decode(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)).numpy()
        return {"kind": self.settings.kind, "codes": codes, "labels": self.y_test, "grid": grid,
                "grid_x": ax, "grid_y": ay[::-1], "beta": float(self.beta.numpy())}
