"""Model families. Each family is one short module with a builder; the registry rebuilds a model from its
family's builder and the manifest's config, then loads the saved weights (no pickled code is ever loaded)."""
from __future__ import annotations

from collections.abc import Callable

import keras


def _lecture_cnn(**config) -> keras.Model:
    from dlviz.models.cnn import build_lecture_cnn

    return build_lecture_cnn(**config)


# family name -> builder(**config) -> keras.Model. Later families (autoencoder, vae, gan, unet) register here.
BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "cnn": _lecture_cnn,
}


def build(family: str, **config) -> keras.Model:
    if family not in BUILDERS:
        raise ValueError(f"unknown model family {family!r}; known: {', '.join(BUILDERS)}")
    return BUILDERS[family](**config)
