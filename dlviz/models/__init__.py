"""Model families. Each family is one short module with a builder; the registry rebuilds a model from its
family's builder and the manifest's config, then loads the saved weights (no pickled code is ever loaded).

Builders return a *built* model (every variable exists), so `load_weights` can restore it. Models with parts
expose them the keras-io way: `.encoder` / `.decoder` (autoencoders, VAE), `.generator` / `.discriminator`
(GANs; WGAN-GP's critic is also `.critic`).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

import keras

# family name -> "module:function"; imported on first use so loading one family never imports the others.
BUILDERS: dict[str, str] = {
    "cnn": "dlviz.models.cnn:build_lecture_cnn",
    "autoencoder": "dlviz.models.autoencoder:build_autoencoder",
    "vae": "dlviz.models.vae:build_vae",
    "gan": "dlviz.models.gan:build_gan",
    "unet": "dlviz.models.unet:build_segmenter",
}


def builder(family: str) -> Callable[..., keras.Model]:
    if family not in BUILDERS:
        raise ValueError(f"unknown model family {family!r}; known: {', '.join(BUILDERS)}")
    module, function = BUILDERS[family].split(":")
    return getattr(importlib.import_module(module), function)


def build(family: str, **config) -> keras.Model:
    return builder(family)(**config)
