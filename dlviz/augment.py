"""Training-time augmentation, as Keras layers so it runs inside the compiled train step (seeded, deterministic).

Drawn and photographed digits differ from MNIST: strokes are thicker or thinner, slightly rotated, not perfectly
scaled. These layers make the training distribution cover that, so the app classifies real user input well.
"""
from __future__ import annotations

import keras
from keras import layers, ops


class RandomStrokeWidth(layers.Layer):
    """Thickens or thins strokes by a random amount per image (grey-level dilation / erosion with a 3×3 window).

    a ~ U(low, high) per image: a > 0 moves toward the dilated image, a < 0 toward the eroded one.
    """

    def __init__(self, low: float = -0.6, high: float = 1.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high, self.seed = low, high, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training:
            return x
        dilated = ops.max_pool(x, 3, strides=1, padding="same")
        eroded = -ops.max_pool(-x, 3, strides=1, padding="same")
        a = keras.random.uniform((ops.shape(x)[0], 1, 1, 1), self.low, self.high, seed=self.seed_generator)
        return ops.where(a >= 0, x + a * (dilated - x), x - a * (eroded - x))

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high, "seed": self.seed}


def augmenter(dataset: str, seed: int) -> keras.Sequential:
    """Random geometric (and, for digits, stroke) changes, active only while training."""
    if dataset == "mnist":
        steps = [
            RandomStrokeWidth(seed=seed),
            layers.RandomRotation(0.04, fill_mode="constant", seed=seed + 1),       # ±15°
            layers.RandomZoom(0.12, fill_mode="constant", seed=seed + 2),
            layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=seed + 3),
        ]
    else:  # garments: always upright and centred, so only small shifts and mirror images
        steps = [
            layers.RandomFlip("horizontal", seed=seed + 1),
            layers.RandomTranslation(0.06, 0.06, fill_mode="constant", seed=seed + 3),
        ]
    return keras.Sequential(steps, name="augment")
