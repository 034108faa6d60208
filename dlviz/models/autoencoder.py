"""Convolutional autoencoders for 28×28 grayscale images (the course notes' undercomplete, denoising and sparse AEs).

An encoder squeezes an image into a short code; a decoder rebuilds the image from the code alone. Trained to
give back its input, the network must keep in the code what matters most about the image.

The same architecture serves every kind; training makes the difference (see dlviz/training/autoencoder.py):

* `ae2d`: a 2-number code, so the latent space can be drawn directly (compare with the VAE's, dlviz/models/vae.py);
* `ae`: a 16-number code, for good reconstructions;
* `ae_denoise`: the same network shown noisy images and asked for the clean ones;
* `ae_sparse`: an L1 penalty on the code's activations (`sparsity` > 0) pushes most code units to zero.

    model = dlviz.registry.load_model("ae_mnist")
    code = model.encoder(images)        # (N, 28, 28, 1) in [0, 1] -> (N, latent_dim)
    images = model.decoder(code)        # (N, latent_dim) -> (N, 28, 28, 1) in [0, 1]
"""
from __future__ import annotations

import keras
from keras import layers, regularizers

INPUT_SHAPE = (28, 28, 1)


# ## The encoder: two strided convolutions, then dense layers down to the code
def conv_trunk(inputs):
    """Image -> 16 features, shared by every encoder here and by the VAE's (keras-io's conv encoder)."""
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv1")(inputs)  # (14, 14, 32)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", name="conv2")(x)       # (7, 7, 64)
    x = layers.Flatten(name="flatten")(x)                                                           # (3136,)
    return layers.Dense(16, activation="relu", name="dense")(x)                                    # (16,)


def build_encoder(latent_dim: int, code_activation: str | None = None, sparsity: float = 0.0) -> keras.Model:
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")                                           # (28, 28, 1)
    x = conv_trunk(inputs)
    penalty = regularizers.L1(sparsity) if sparsity else None      # adds sparsity * sum|code| to the loss
    code = layers.Dense(latent_dim, activation=code_activation, activity_regularizer=penalty,
                        name="code")(x)                                                            # (latent_dim,)
    return keras.Model(inputs, code, name="encoder")


# ## The decoder: the mirror image, transposed convolutions back up to 28×28
# filters=(32,): one transposed convolution to 14×14, then straight to the 28×28 pixels (the autoencoders; on a CPU
# it trains several times faster than keras-io's). filters=(32, 16): a second one to 28×28×16 and a 3×3
# convolution to the pixels: a better 2-D VAE (its loss was still falling past the first decoder's ~158) but
# about 4× the cost per decoded image; the trained models use (32,).
# hidden=H: a dense layer of H units between the code and the projection. From a 2-number code, one dense layer
# straight to 7·7·f1 units is nearly linear in the code; the extra layer lets the decoder bend a 2-D plane into
# the curved manifold of digits, for a few thousand multiply-adds per image.
def build_decoder(latent_dim: int, filters: tuple[int, ...] = (32,), hidden: int = 0) -> keras.Model:
    code = keras.Input(shape=(latent_dim,), name="code")                                            # (latent_dim,)
    x = layers.Dense(hidden, activation="relu", name="hidden")(code) if hidden else code           # (H,)
    x = layers.Dense(7 * 7 * filters[0], activation="relu", name="dense")(x)                       # (7·7·f1,)
    x = layers.Reshape((7, 7, filters[0]), name="reshape")(x)                                       # (7, 7, f1)
    x = layers.Conv2DTranspose(filters[0], 3, strides=2, padding="same", activation="relu",
                               name="deconv1")(x)                                                   # (14, 14, f1)
    if len(filters) == 1:
        images = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid",
                                        name="pixels")(x)                                           # (28, 28, 1)
    else:
        x = layers.Conv2DTranspose(filters[1], 3, strides=2, padding="same", activation="relu",
                                   name="deconv2")(x)                                               # (28, 28, f2)
        images = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="pixels")(x)        # (28, 28, 1)
    return keras.Model(code, images, name="decoder")


# ## The autoencoder: encoder then decoder, trained to give back its input
class Autoencoder(keras.Model):
    def __init__(self, encoder: keras.Model, decoder: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder

    def call(self, images, training=False):
        return self.decoder(self.encoder(images, training=training), training=training)


def build_autoencoder(latent_dim: int = 16, code_activation: str | None = None, sparsity: float = 0.0,
                      kind: str = "ae", decoder_filters: tuple[int, ...] = (32,), decoder_hidden: int = 0
                      ) -> Autoencoder:
    """A built autoencoder (every variable exists, ready for `load_weights`). `kind` only names it."""
    model = Autoencoder(build_encoder(latent_dim, code_activation, sparsity),
                        build_decoder(latent_dim, tuple(decoder_filters), decoder_hidden), name=kind)
    model.build(None)         # its parts are built already; this marks the wrapper built for save/load_weights
    return model
