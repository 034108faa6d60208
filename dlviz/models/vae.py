"""A variational autoencoder (Kingma & Welling 2014) with a 2-D latent space, after keras-io's
examples/generative/vae.py.

The encoder does not give one code but a distribution over codes: a mean μ and a log-variance log σ² per latent
dimension. Training samples z = μ + σ·ε with ε ~ N(0, I) (the reparameterization trick: the randomness is an
input, so gradients flow through μ and σ) and minimises

    loss = reconstruction (binary cross-entropy summed over the 784 pixels) + KL(N(μ, σ²) ‖ N(0, I)).

The KL term pulls every image's distribution towards the standard normal, which packs the codes into a regular,
gap-free region: decode any point near the origin and you get a plausible image.

    model = dlviz.registry.load_model("vae2d_mnist")
    z_mean, z_log_var, z = model.encoder(images)   # (N, 28, 28, 1) in [0, 1] -> 3 × (N, 2)
    images = model.decoder(z)                      # (N, 2) -> (N, 28, 28, 1) in [0, 1]
"""
from __future__ import annotations

import keras
from keras import layers, ops

from dlviz.models.autoencoder import INPUT_SHAPE, build_decoder, conv_trunk


# ## Sampling layer: z = μ + σ·ε
class Sampling(layers.Layer):
    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


# ## Encoder: the conv trunk, then μ and log σ² of the code's distribution, and one sample z
def build_vae_encoder(latent_dim: int, seed: int | None = None) -> keras.Model:
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")                       # (28, 28, 1)
    x = conv_trunk(inputs)                                                      # (16,)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)                         # (latent_dim,)
    # log σ² starts near -4 (σ ≈ 0.14), not 0: with σ = 1 from the first step the decoder sees mostly noise in z,
    # learns to ignore it, and the codes never spread out (posterior collapse). Only the starting point changes.
    z_log_var = layers.Dense(latent_dim, bias_initializer=keras.initializers.Constant(-4.0),
                             name="z_log_var")(x)                                # (latent_dim,)
    z = Sampling(seed, name="z")([z_mean, z_log_var])                           # (latent_dim,)
    return keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")


# ## The VAE: a custom train_step adds the two loss terms
class VAE(keras.Model):
    def __init__(self, encoder: keras.Model, decoder: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        # β, the KL term's weight in the gradient: 1 is the VAE's loss. Training may ramp it up from 0 ("KL
        # warm-up", Bowman et al. 2016) so the decoder learns to use z before the KL term can pull every code onto
        # the prior and the decoder settles for the average image ("posterior collapse"). A training setting, not
        # a weight: kept out of Keras' tracking so it is never saved.
        import tensorflow as tf

        object.__setattr__(self, "kl_weight", tf.Variable(1.0, trainable=False, dtype="float32"))

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, images, training=False):
        """The reconstruction at the mean (no sampling): what the page shows as "the VAE's reconstruction"."""
        z_mean, _, _ = self.encoder(images, training=training)
        return self.decoder(z_mean, training=training)

    def losses_for(self, images, training=False):
        """(total, reconstruction, kl), each averaged over the batch, with a sampled z (as in training)."""
        z_mean, z_log_var, z = self.encoder(images, training=training)
        reconstruction = self.decoder(z, training=training)
        reconstruction_loss = ops.mean(ops.sum(
            keras.losses.binary_crossentropy(images, reconstruction), axis=(1, 2)))   # per image: sum of 784
        kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
        return reconstruction_loss + kl_loss, reconstruction_loss, kl_loss

    def train_step(self, data):
        import tensorflow as tf

        images = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            total_loss, reconstruction_loss, kl_loss = self.losses_for(images, training=True)
            weighted_loss = reconstruction_loss + self.kl_weight * kl_loss
        grads = tape.gradient(weighted_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def build_vae(latent_dim: int = 2, seed: int | None = None, decoder_filters: tuple[int, ...] = (32,),
              decoder_hidden: int = 0) -> VAE:
    """A built VAE (every variable exists, ready for `load_weights`)."""
    model = VAE(build_vae_encoder(latent_dim, seed),
                build_decoder(latent_dim, tuple(decoder_filters), decoder_hidden), name="vae")
    model.build(None)
    return model
