"""The course notes' CNN ("lecture CNN") for 28×28 grayscale images.

Three blocks of two 3×3 same-padded convolutions, max pooling between them, then two dense layers.
Parameter counts per layer are the notes' table: 160, 2320, 4640, 9248, 18496, 36928, 401536, 1290.
Dropout layers add no parameters; they only act while training.
"""
from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)


def build_lecture_cnn(num_classes: int = 10, dropout: float = 0.25) -> keras.Model:
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")                           # (28, 28, 1)

    # Block 1: edges and strokes
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inputs)  # (28, 28, 16)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(x)       # (28, 28, 16)
    x = layers.MaxPooling2D(2, name="pool1")(x)                                         # (14, 14, 16)

    # Block 2: stroke combinations
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv3")(x)       # (14, 14, 32)
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv4")(x)       # (14, 14, 32)
    x = layers.MaxPooling2D(2, name="pool2")(x)                                         # (7, 7, 32)
    x = layers.Dropout(dropout, name="drop1")(x)

    # Block 3: parts of digits / garments
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="conv5")(x)       # (7, 7, 64)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="conv6")(x)       # (7, 7, 64)

    # Classifier
    x = layers.Flatten(name="flatten")(x)                                               # (3136,)
    x = layers.Dropout(dropout, name="drop2")(x)
    x = layers.Dense(128, activation="relu", name="dense1")(x)                          # (128,)
    x = layers.Dropout(2 * dropout, name="drop3")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probs")(x)          # (10,)
    return keras.Model(inputs, outputs, name="lecture_cnn")
