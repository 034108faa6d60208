"""GAN Lab's lesson with the notes' contrast: a DCGAN and a WGAN-GP learn the same 2-D distribution side by side.

    task = Gan2dTask(Gan2dSettings(target="ring", seed=0))
    task.step()        # one generator step of each (after 1 discriminator / 5 critic steps)
    task.snapshot()    # per model: generated points, the discriminator's (critic's) surface, gradient arrows

Both generators start from the same weights, see the same noise and the same real batches: any difference is the
loss. The ring of 8 Gaussians is the classic mode-collapse demo: the DCGAN tends to hop from mode to mode or sit on
a few of them, the WGAN-GP spreads over all eight (the count of covered modes is recorded over time).

Targets live in about [-2, 2]²; "drawn" takes the ink of the user's drawing (`points_from_drawing`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np
from keras import layers

TARGETS = ("ring", "grid", "moons", "drawn")
LOSSES = ("dcgan", "wgan_gp")
MAX_STEPS = 4000
N_CRITIC = 5                # WGAN-GP critic steps per generator step (Gulrajani et al. 2017)
GP_WEIGHT = 0.1             # their weight for the 2-D toy datasets (10 for images)
MODE_STD = {"ring": 0.05, "grid": 0.05}
EXTENT = 3.0                # the surface and the plot cover [-EXTENT, EXTENT]²
SURFACE = 41                # surface resolution: SURFACE × SURFACE points
SHOWN = 512                 # generated points drawn (fixed noise, so the same points move)
ARROWS = 64                 # of which this many carry a gradient arrow
MODES_EVERY = 10            # modes covered measured every this many steps


@dataclass(frozen=True)
class Gan2dSettings:
    target: str = "ring"
    learning_rate: float = 1e-3
    batch_size: int = 128
    seed: int = 0
    max_steps: int = MAX_STEPS
    points: tuple = field(default=(), repr=False)     # the drawn target: ((x, y), ...), only for "drawn"


# ## The target distributions
def target_modes(target: str) -> np.ndarray | None:
    """Centres of the Gaussians of a mixture target (K, 2), None for the others."""
    if target == "ring":
        angles = np.arange(8) * 2 * np.pi / 8
        return 2.0 * np.stack([np.cos(angles), np.sin(angles)], 1)
    if target == "grid":
        g = np.linspace(-2, 2, 5)
        return np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    return None


def sample_target(target: str, n: int, rng: np.random.Generator, points: np.ndarray | None = None) -> np.ndarray:
    """n points (n, 2) float32 from the target distribution."""
    modes = target_modes(target)
    if modes is not None:
        return (modes[rng.integers(len(modes), size=n)] + rng.normal(0, MODE_STD[target], (n, 2))).astype(np.float32)
    if target == "moons":
        upper = rng.random(n) < 0.5
        t = rng.random(n) * np.pi
        x = np.where(upper, np.cos(t), 1 - np.cos(t))
        y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
        xy = np.stack([x - 0.5, y - 0.25], 1) * 1.6 + rng.normal(0, 0.06, (n, 2))
        return xy.astype(np.float32)
    if target == "drawn":
        if points is None or len(points) == 0:
            raise ValueError("draw some points first")
        return (points[rng.integers(len(points), size=n)] + rng.normal(0, 0.03, (n, 2))).astype(np.float32)
    raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")


def points_from_drawing(rgba: np.ndarray, max_points: int = 2000, threshold: int = 128) -> np.ndarray:
    """The ink of a drawing (H, W, 3|4) uint8, light ink on a dark canvas, as points in [-2.5, 2.5]² (y up);
    at most `max_points` of them (evenly thinned). Empty (0, 2) for a blank canvas."""
    image = np.asarray(rgba)
    if image.ndim != 3 or image.shape[2] < 3:
        raise ValueError(f"expected an (H, W, 3 or 4) image, got shape {image.shape}")
    ink = image[..., :3].max(-1) >= threshold
    if image.shape[2] == 4:
        ink &= image[..., 3] > 0
    rows, cols = np.nonzero(ink)
    if len(rows) == 0:
        return np.zeros((0, 2), np.float32)
    h, w = ink.shape
    side = max(h, w)
    xy = np.stack([(cols + 0.5 - w / 2) / side * 5.0, (h / 2 - rows - 0.5) / side * 5.0], 1)
    if len(xy) > max_points:
        xy = xy[np.linspace(0, len(xy) - 1, max_points).astype(int)]
    return xy.astype(np.float32)


def modes_covered(samples: np.ndarray, modes: np.ndarray, std: float, share: float = 0.25) -> int:
    """How many modes get at least `share` of their fair share (N/K) of the samples within 3 σ of them."""
    d = np.linalg.norm(samples[:, None, :] - modes[None], axis=-1)            # (N, K)
    nearest = d.argmin(1)
    close = d[np.arange(len(samples)), nearest] < 3 * std
    counts = np.bincount(nearest[close], minlength=len(modes))
    return int((counts >= share * len(samples) / len(modes)).sum())


def _init(seed: int, i: int):
    return keras.initializers.GlorotUniform(seed=seed * 1000 + i)


# ## Generator: 2-D noise -> 2-D point
def build_generator(seed: int = 0, units: int = 64) -> keras.Model:
    z = keras.Input(shape=(2,), name="z")                                                     # (2,)
    x = layers.Dense(units, activation="relu", kernel_initializer=_init(seed, 1))(z)           # (64,)
    x = layers.Dense(units, activation="relu", kernel_initializer=_init(seed, 2))(x)           # (64,)
    return keras.Model(z, layers.Dense(2, kernel_initializer=_init(seed, 3))(x), name="generator")  # (2,)


# ## Discriminator (DCGAN, a logit) or critic (WGAN-GP, a score): 2-D point -> one number
def build_discriminator(seed: int = 0, units: int = 64) -> keras.Model:
    p = keras.Input(shape=(2,), name="point")                                                  # (2,)
    x = layers.Dense(units, activation="leaky_relu", kernel_initializer=_init(seed, 11))(p)    # (64,)
    x = layers.Dense(units, activation="leaky_relu", kernel_initializer=_init(seed, 12))(x)    # (64,)
    return keras.Model(p, layers.Dense(1, kernel_initializer=_init(seed, 13))(x), name="discriminator")  # (1,)


class _Pair:
    """One GAN (generator + discriminator/critic, their optimizers and compiled steps) for one loss."""

    def __init__(self, loss: str, seed: int, learning_rate: float):
        import tensorflow as tf

        self.loss = loss
        self.generator, self.critic = build_generator(seed), build_discriminator(seed)
        betas = dict(beta_1=0.5, beta_2=0.9 if loss == "wgan_gp" else 0.999)
        self.g_opt = keras.optimizers.Adam(learning_rate, **betas)
        self.d_opt = keras.optimizers.Adam(learning_rate, **betas)
        self.g_opt.build(self.generator.trainable_variables)
        self.d_opt.build(self.critic.trainable_variables)
        G, D, g_opt, d_opt = self.generator, self.critic, self.g_opt, self.d_opt
        bce = lambda labels, logits: tf.reduce_mean(  # noqa: E731
            tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))

        def d_step(real, z, mix):
            with tf.GradientTape() as tape:
                fake = G(z, training=True)
                real_score, fake_score = D(real, training=True), D(fake, training=True)
                if loss == "dcgan":
                    d_loss = bce(tf.ones_like(real_score), real_score) + bce(tf.zeros_like(fake_score), fake_score)
                else:  # critic: E[C(fake)] - E[C(real)] + λ (‖∇C(x̂)‖ - 1)² on random points between the two
                    between = real + mix * (fake - real)
                    with tf.GradientTape() as gp_tape:
                        gp_tape.watch(between)
                        score = D(between, training=True)
                    norm = tf.norm(gp_tape.gradient(score, between), axis=1)
                    d_loss = (tf.reduce_mean(fake_score) - tf.reduce_mean(real_score)
                              + GP_WEIGHT * tf.reduce_mean(tf.square(norm - 1.0)))
            d_opt.apply_gradients(zip(tape.gradient(d_loss, D.trainable_variables), D.trainable_variables))
            return d_loss

        def g_step(z):
            with tf.GradientTape() as tape:
                score = D(G(z, training=True), training=True)
                # non-saturating DCGAN loss -log σ(D(G(z))); WGAN: -E[C(G(z))]
                g_loss = bce(tf.ones_like(score), score) if loss == "dcgan" else -tf.reduce_mean(score)
            g_opt.apply_gradients(zip(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
            return g_loss

        def surface(points):
            score = D(points, training=False)[:, 0]
            return tf.sigmoid(score) if loss == "dcgan" else score

        def pull(points):
            """The direction the generator's loss pushes each generated point: ∇ log σ(D(x)) or ∇ C(x)."""
            with tf.GradientTape() as tape:
                tape.watch(points)
                score = D(points, training=False)
                objective = tf.math.log_sigmoid(score) if loss == "dcgan" else score
            return tape.gradient(objective, points)

        pts = tf.TensorSpec((None, 2), tf.float32)
        self.n_critic = N_CRITIC if loss == "wgan_gp" else 1
        self.d_step = tf.function(d_step, input_signature=[pts, pts, tf.TensorSpec((None, 1), tf.float32)],
                                  jit_compile=False)
        self.g_step = tf.function(g_step, input_signature=[pts], jit_compile=False)
        self.generate = tf.function(lambda z: G(z, training=False), input_signature=[pts], jit_compile=False)
        self.surface = tf.function(surface, input_signature=[pts], jit_compile=False)
        self.pull = tf.function(pull, input_signature=[pts], jit_compile=False)


# ## The task the runner trains: both GANs, one generator step each per step
class Gan2dTask:
    def __init__(self, settings: Gan2dSettings):
        if settings.target not in TARGETS:
            raise ValueError(f"unknown target {settings.target!r}; choose one of {', '.join(TARGETS)}")
        self.settings = settings
        self.max_steps = settings.max_steps
        self.points = np.asarray(settings.points, np.float32).reshape(-1, 2) if settings.target == "drawn" else None
        self.rng = np.random.default_rng(settings.seed)
        self.pairs = {loss: _Pair(loss, settings.seed, settings.learning_rate) for loss in LOSSES}
        fixed = np.random.default_rng(settings.seed + 1)
        self.fixed_z = fixed.standard_normal((SHOWN, 2)).astype(np.float32)
        self.real_shown = sample_target(settings.target, SHOWN, fixed, self.points)
        axis = np.linspace(-EXTENT, EXTENT, SURFACE, dtype=np.float32)
        self.axis = axis
        self.grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)         # row = y, column = x
        self.modes = target_modes(settings.target)
        self.step_count = 0
        self.mode_steps: list[int] = []
        self.mode_counts: dict[str, list[int]] = {loss: [] for loss in LOSSES}
        self._measure_modes()

    def _measure_modes(self) -> None:
        if self.modes is None:
            return
        self.mode_steps.append(self.step_count)
        for loss, pair in self.pairs.items():
            fake = pair.generate(self.fixed_z).numpy()
            self.mode_counts[loss].append(modes_covered(fake, self.modes, MODE_STD[self.settings.target]))

    def step(self) -> dict[str, float]:
        b, s = self.settings.batch_size, self.settings.target
        n = N_CRITIC
        reals = sample_target(s, n * b, self.rng, self.points).reshape(n, b, 2)
        zs = self.rng.standard_normal((n, b, 2)).astype(np.float32)
        mixes = self.rng.random((n, b, 1)).astype(np.float32)
        z = self.rng.standard_normal((b, 2)).astype(np.float32)
        out = {}
        for loss, pair in self.pairs.items():      # the same noise and batches for both (DCGAN uses the first)
            for i in range(pair.n_critic):
                d_loss = pair.d_step(reals[i], zs[i], mixes[i])
            g_loss = pair.g_step(z)
            out[f"{loss}_d_loss"], out[f"{loss}_g_loss"] = float(d_loss), float(g_loss)
        self.step_count += 1
        if self.step_count % MODES_EVERY == 0:
            self._measure_modes()
        return out

    def configure(self, learning_rate: float | None = None) -> None:
        if learning_rate is not None:
            for pair in self.pairs.values():
                pair.g_opt.learning_rate.assign(float(learning_rate))
                pair.d_opt.learning_rate.assign(float(learning_rate))

    def snapshot(self) -> dict:
        out = {"target": self.settings.target, "real": self.real_shown, "axis": self.axis,
               "modes": self.modes, "mode_steps": np.array(self.mode_steps)}
        for loss, pair in self.pairs.items():
            fake = pair.generate(self.fixed_z).numpy()
            out[loss] = {"fake": fake,
                         "surface": pair.surface(self.grid).numpy().reshape(SURFACE, SURFACE),
                         "arrows": pair.pull(fake[:ARROWS]).numpy(),
                         "modes": np.array(self.mode_counts[loss])}
        return out
