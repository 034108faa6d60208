"""GANs for 28×28 grayscale images: DCGAN (binary cross-entropy) and WGAN-GP (Wasserstein loss + gradient penalty).

After keras-io's `dcgan_overriding_train_step.py` and `wgan_gp.py`: a generator, a discriminator (the WGAN-GP
"critic", which outputs an unbounded score instead of a probability), and a `GAN` model holding both with its own
`train_step`. The generator maps z ~ N(0, I) of size `latent_dim` to an image in [-1, 1] (tanh): real images are
rescaled from [0, 1] with `to_gan_range` before the discriminator sees them.

Sized for a CPU: about 0.2 M generator and 0.04 M discriminator parameters with the default filters (~0.12 s a
step at batch 64 on one thread); the shipped DCGANs and the Fashion-MNIST WGAN-GP use 64 filters in both
(0.31 M + 0.14 M, ~0.15 s a DCGAN step on two threads).

`categories > 0` adds InfoGAN's categorical code (Chen et al. 2016): the generator reads a one-hot code made from
z itself (the argmax of z's first `categories` entries, uniform because they are i.i.d. normal) and a small head
on the discriminator's features, `.code_predictor`, learns to tell the code back from the image. Rewarding the
generator when it can be told back makes the code pick up the data's main discrete factor (for MNIST: the digit)
without any labels, and since the code is uniform, every value of it keeps being generated. z is still the only
input, so sampling, sliders and the discriminator's score of one image work as for a plain GAN.
Unsupervised, the code tends to split one digit by its slant and merge two others (tried: two codes for 1, two
for 9, none for 2). `labelled_code=True` also teaches the head the real images' labels, which ties code value c
to class c: a class-conditional GAN in the manner of AC-GAN (Odena et al. 2017), which uses the labels.
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

IMAGE_SHAPE = (28, 28, 1)
OUTPUT_RANGE = (-1.0, 1.0)      # the generator's tanh; the manifest records it
LOSSES = ("dcgan", "wgan_gp")


def to_gan_range(x01):
    """Images in [0, 1] -> the generator's range [-1, 1]."""
    return x01 * 2.0 - 1.0


def from_gan_range(x):
    """The generator's [-1, 1] -> [0, 1] for display and for the CNN judge."""
    return (x + 1.0) / 2.0


class CategoricalCode(layers.Layer):
    """z -> one-hot argmax of its first `categories` entries: a uniform categorical code read from z itself."""

    def __init__(self, categories: int, **kwargs):
        super().__init__(**kwargs)
        self.categories = categories

    def call(self, z):
        return keras.ops.one_hot(code_of(z, self.categories), self.categories)

    def get_config(self):
        return {**super().get_config(), "categories": self.categories}


def code_of(z, categories: int):
    """The code the generator reads from z: (N,) integers in [0, categories)."""
    return tf.argmax(z[:, :categories], axis=-1)


# ## The generator: noise -> image
def build_generator(latent_dim: int = 64, filters: int = 48, batchnorm: bool = True, hidden: int = 0,
                    categories: int = 0) -> keras.Model:
    """hidden > 0: a fully connected layer of that width before the projection (InfoGAN's MNIST generator): the
    whole digit's shape is decided there, before the convolutions, which only see 4×4 neighbourhoods.
    categories > 0: the one-hot code read from z goes in beside z (module docstring)."""
    def norm(name):
        return layers.BatchNormalization(name=name) if batchnorm else layers.Identity(name=name)

    z = keras.Input(shape=(latent_dim,), name="z")                                        # (latent_dim,)
    x = z
    if categories:
        code = CategoricalCode(categories, name="code")(z)                                # (categories,)
        x = layers.Concatenate(name="code_and_z")([code, z])                              # (categories + latent_dim,)
    if hidden:
        x = layers.Dense(hidden, use_bias=not batchnorm, name="hidden")(x)                # (hidden,)
        x = norm("hidden_bn")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Dense(7 * 7 * filters, use_bias=not batchnorm, name="project")(x)          # (7·7·48,)
    x = norm("project_bn")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((7, 7, filters))(x)                                                # (7, 7, 48)
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=not batchnorm,
                               name="up1")(x)                                             # (14, 14, 48)
    x = norm("up1_bn")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2DTranspose(filters // 2, 4, strides=2, padding="same", use_bias=not batchnorm,
                               name="up2")(x)                                             # (28, 28, 24)
    x = norm("up2_bn")(x)
    x = layers.LeakyReLU(0.2)(x)
    image = layers.Conv2D(1, 5, padding="same", activation="tanh", name="to_image")(x)   # (28, 28, 1) in [-1, 1]
    return keras.Model(z, image, name="generator")


# ## The discriminator (critic): image -> one score
def build_discriminator(filters: int = 32, dropout: float = 0.3, hidden: int = 0) -> keras.Model:
    """No batch normalisation: the gradient penalty is defined per sample (WGAN-GP paper, section 4).
    hidden > 0: a fully connected layer of that width before the score (InfoGAN's MNIST discriminator)."""
    image = keras.Input(shape=IMAGE_SHAPE, name="image")                                  # (28, 28, 1)
    x = layers.Conv2D(filters, 4, strides=2, padding="same", name="down1")(image)        # (14, 14, 32)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(2 * filters, 4, strides=2, padding="same", name="down2")(x)        # (7, 7, 64)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)                                                               # (3136,)
    if hidden:
        x = layers.Dense(hidden, name="hidden")(x)                                        # (hidden,)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Dropout(dropout, name="score_dropout")(x)
    score = layers.Dense(1, name="score")(x)     # a logit (DCGAN) or a Wasserstein score (critic), (1,)
    return keras.Model(image, score, name="discriminator")


def build_code_predictor(discriminator: keras.Model, categories: int) -> keras.Model:
    """InfoGAN's Q: image -> logits of the categorical code, a head on the discriminator's last features (shared
    with it, before its dropout)."""
    features = discriminator.get_layer("score_dropout").input
    logits = layers.Dense(categories, name="code_logits")(features)                       # (categories,)
    return keras.Model(discriminator.input, logits, name="code_predictor")


# ## The GAN: both networks and one training step per loss
class GAN(keras.Model):
    """`.generator`, `.discriminator` (alias `.critic`); `train_step` plays one round of the game.

    loss="dcgan": the discriminator minimises binary cross-entropy (real labels smoothed to `real_label`), the
    generator the non-saturating loss -log D(G(z)). One discriminator step, then `g_steps` generator steps.
    categories > 0 (DCGAN only): both players also minimise `info_weight` × the cross-entropy of
    `.code_predictor` on generated images against the code each was made from (InfoGAN's L_I); with
    `labelled_code` the discriminator also minimises it on real images against their labels (AC-GAN), so the
    training data must be (images, labels).
    loss="wgan_gp": the critic minimises E[D(fake)] - E[D(real)] + gp_weight * E[(||∇D(x̂)|| - 1)²] on random
    interpolates x̂, `n_critic` times per generator step; the generator minimises -E[D(G(z))].
    """

    def __init__(self, latent_dim: int = 64, loss: str = "dcgan", gen_filters: int = 48, disc_filters: int = 32,
                 batchnorm: bool = True, dropout: float = 0.3, n_critic: int = 3, gp_weight: float = 10.0,
                 real_label: float = 0.9, g_steps: int = 1, gen_hidden: int = 0, disc_hidden: int = 0,
                 categories: int = 0, info_weight: float = 1.0, labelled_code: bool = False, **kwargs):
        super().__init__(**kwargs)
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
        if categories and (loss != "dcgan" or categories > latent_dim):
            raise ValueError("a categorical code needs loss='dcgan' and categories <= latent_dim")
        self.latent_dim, self.loss_name = latent_dim, loss
        self.n_critic, self.gp_weight, self.real_label, self.g_steps = n_critic, gp_weight, real_label, g_steps
        self.categories, self.info_weight, self.labelled_code = categories, info_weight, labelled_code
        self.generator = build_generator(latent_dim, gen_filters, batchnorm, gen_hidden, categories)
        self.discriminator = build_discriminator(disc_filters, 0.0 if loss == "wgan_gp" else dropout, disc_hidden)
        self.code_predictor = build_code_predictor(self.discriminator, categories) if categories else None

    @property
    def critic(self) -> keras.Model:
        return self.discriminator

    def call(self, z, training=False):
        """z (N, latent_dim) -> the discriminator's score of G(z), (N, 1)."""
        return self.discriminator(self.generator(z, training=training), training=training)

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    def _noise(self, n):
        return tf.random.normal((n, self.latent_dim))

    def train_step(self, real):
        """real: (B, 28, 28, 1) in [-1, 1], or (images, labels) for a labelled code. Returns this step's losses
        (not running means)."""
        labels = None
        if isinstance(real, tuple):
            real, labels = real[0], (real[1] if len(real) > 1 else None)
        if self.labelled_code and labels is None:
            raise ValueError("a GAN with labelled_code trains on (images, labels)")
        if self.loss_name == "dcgan":
            return self._dcgan_step(real, labels if self.labelled_code else None)
        return self._wgan_gp_step(real)

    def code_loss(self, codes, images):
        """Cross-entropy of the code predicted from the images against `codes` (InfoGAN's L_I on G(z) with the
        codes read from z; AC-GAN's class loss on real images with their labels)."""
        logits = self.code_predictor(images, training=True)
        return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(codes, logits, from_logits=True))

    def _dcgan_step(self, real, labels=None):
        n = tf.shape(real)[0]
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        d_vars = self.discriminator.trainable_weights
        if self.categories:
            d_vars = d_vars + self.code_predictor.get_layer("code_logits").trainable_weights
        z = self._noise(n)
        fake = self.generator(z, training=True)
        with tf.GradientTape() as tape:
            real_logit = self.discriminator(real, training=True)
            fake_logit = self.discriminator(fake, training=True)
            d_loss = (bce(tf.fill(tf.shape(real_logit), self.real_label), real_logit)
                      + bce(tf.zeros_like(fake_logit), fake_logit))
            d_total = d_loss
            if self.categories:
                d_total += self.info_weight * self.code_loss(code_of(z, self.categories), fake)
            if labels is not None:
                real_code_loss = self.code_loss(labels, real)
                d_total += self.info_weight * real_code_loss
        grads = tape.gradient(d_total, d_vars)
        self.d_optimizer.apply_gradients(zip(grads, d_vars))

        for _ in range(self.g_steps):
            z = self._noise(n)
            with tf.GradientTape() as tape:
                fake = self.generator(z, training=True)
                fake_logit = self.discriminator(fake, training=True)
                g_loss = bce(tf.ones_like(fake_logit), fake_logit)
                code_loss = self.code_loss(code_of(z, self.categories), fake) if self.categories else None
                g_total = g_loss + self.info_weight * code_loss if self.categories else g_loss
            grads = tape.gradient(g_total, self.generator.trainable_weights)
            self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        logs = {"d_loss": d_loss, "g_loss": g_loss,
                "d_real": tf.reduce_mean(tf.sigmoid(real_logit)), "d_fake": tf.reduce_mean(tf.sigmoid(fake_logit))}
        if self.categories:
            logs["code_loss"] = code_loss
        if labels is not None:
            logs["real_code_loss"] = real_code_loss
        return logs

    def gradient_penalty(self, real, fake):
        """E[(||∇_x̂ D(x̂)||₂ - 1)²] on x̂ = real + α (fake - real), α ~ U(0, 1) per sample."""
        alpha = tf.random.uniform((tf.shape(real)[0], 1, 1, 1))
        mixed = real + alpha * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            score = self.discriminator(mixed, training=True)
        grads = tape.gradient(score, mixed)
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
        return tf.reduce_mean((norm - 1.0) ** 2)

    def _wgan_gp_step(self, real):
        n = tf.shape(real)[0]
        for _ in range(self.n_critic):
            fake = self.generator(self._noise(n), training=True)
            with tf.GradientTape() as tape:
                real_score = self.discriminator(real, training=True)
                fake_score = self.discriminator(fake, training=True)
                wasserstein = tf.reduce_mean(real_score) - tf.reduce_mean(fake_score)
                gp = self.gradient_penalty(real, fake)
                d_loss = -wasserstein + self.gp_weight * gp
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(self.discriminator(self.generator(self._noise(n), training=True),
                                                        training=True))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        return {"d_loss": d_loss, "g_loss": g_loss, "wasserstein": wasserstein, "gp": gp}


def build_gan(latent_dim: int = 64, loss: str = "dcgan", **config) -> GAN:
    """A built GAN (every variable exists, so `load_weights` can restore it); config comes from the manifest."""
    gan = GAN(latent_dim=latent_dim, loss=loss, **config)
    gan(tf.zeros((1, latent_dim)))
    return gan
