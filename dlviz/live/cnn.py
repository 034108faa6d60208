"""A CNN learns from scratch while you watch (ConvNetJS' lesson), and a dense network beside it for the notes' point
about Flatten: shuffle the pixels with one fixed permutation and the dense network learns just as well (it never
knew which pixels were neighbours), the CNN loses what its small kernels were good at.

    task = CnnTask(CnnSettings(dataset="mnist", architecture="cnn", optimizer="adam", learning_rate=2e-3))
    task.step()        # one batch -> {"loss": ..., "accuracy": ...}
    task.snapshot()    # conv1 kernels, feature maps and prediction of the user's input, test accuracy so far

Tiny on purpose (a few thousand parameters): one step takes a few milliseconds on one CPU core, so it trains
visibly fast beside other sessions. The training step is a `tf.function` (traced once, no XLA: compiling would
cost more than a whole run); TensorFlow releases the GIL inside its ops, so the page stays responsive.
"""
from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from dlviz.live.data import load_live_data

OPTIMIZERS = {"sgd": "SGD", "momentum": "SGD + momentum 0.9", "adam": "Adam", "rmsprop": "RMSprop"}
DEFAULT_LR = {"sgd": 0.05, "momentum": 0.01, "adam": 0.002, "rmsprop": 0.001}
ARCHITECTURES = ("cnn", "dense")
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
BATCH_SIZES = (8, 16, 32, 64, 128)
MAX_STEPS = 1500            # 1,500 batches of 32 = 24 passes over the 2,000 training images
EVAL_EVERY = 50             # test accuracy on the 500 bundled test images every this many steps (~0.1 s each)
PERMUTATION_SEED = 1998     # the one fixed pixel shuffle (the same for the training data and the user's input)


@dataclass(frozen=True)
class CnnSettings:
    dataset: str = "mnist"
    architecture: str = "cnn"           # "cnn" | "dense"
    optimizer: str = "adam"
    learning_rate: float = DEFAULT_LR["adam"]
    batch_size: int = 32
    shuffle_pixels: bool = False
    seed: int = 0
    max_steps: int = MAX_STEPS


# ## Shuffling the pixels: one fixed permutation of the 784 positions
def pixel_permutation(seed: int = PERMUTATION_SEED) -> np.ndarray:
    return np.random.default_rng(seed).permutation(28 * 28)


def shuffle_pixels(images: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """images: (..., 28, 28) -> the same pixels at permuted positions (the same permutation for every image)."""
    flat = images.reshape(*images.shape[:-2], 28 * 28)
    return flat[..., permutation].reshape(images.shape)


def _init(seed: int, i: int):
    return keras.initializers.GlorotUniform(seed=seed * 1000 + i)


# ## The CNN: two small conv blocks, then one dense layer
def build_live_cnn(seed: int = 0, num_classes: int = 10) -> keras.Model:
    inputs = keras.Input(shape=(28, 28, 1), name="image")                                    # (28, 28, 1)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1",
                      kernel_initializer=_init(seed, 1))(inputs)                               # (28, 28, 8)
    x = layers.MaxPooling2D(2, name="pool1")(x)                                                # (14, 14, 8)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2",
                      kernel_initializer=_init(seed, 2))(x)                                    # (14, 14, 16)
    x = layers.MaxPooling2D(2, name="pool2")(x)                                                # (7, 7, 16)
    x = layers.Flatten(name="flatten")(x)                                                      # (784,)
    outputs = layers.Dense(num_classes, activation="softmax", name="probs",
                           kernel_initializer=_init(seed, 3))(x)                               # (10,)
    return keras.Model(inputs, outputs, name="live_cnn")


# ## The dense network: every pixel to every unit, no notion of a neighbour
def build_live_dense(seed: int = 0, num_classes: int = 10, units: int = 32) -> keras.Model:
    inputs = keras.Input(shape=(28, 28, 1), name="image")                                    # (28, 28, 1)
    x = layers.Flatten(name="flatten")(inputs)                                                 # (784,)
    x = layers.Dense(units, activation="relu", name="dense1", kernel_initializer=_init(seed, 1))(x)  # (32,)
    outputs = layers.Dense(num_classes, activation="softmax", name="probs",
                           kernel_initializer=_init(seed, 2))(x)                               # (10,)
    return keras.Model(inputs, outputs, name="live_dense")


def build_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate)
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


# ## The task the runner trains: one batch per step
class CnnTask:
    def __init__(self, settings: CnnSettings, data: dict[str, np.ndarray] | None = None,
                 image: np.ndarray | None = None):
        """data: the live subset (default: the bundled one of settings.dataset); image: the user's input,
        (28, 28) float in [0, 1]."""
        import tensorflow as tf

        if settings.architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {settings.architecture!r}")
        self.settings = settings
        self.max_steps = settings.max_steps
        self.batch_size = settings.batch_size
        data = data if data is not None else load_live_data(settings.dataset)
        self.permutation = pixel_permutation() if settings.shuffle_pixels else None
        self.x_train = self._prepare(data["x_train"].astype(np.float32) / 255.0)
        self.y_train = data["y_train"].astype(np.int32)
        self.x_test = self._prepare(data["x_test"].astype(np.float32) / 255.0)
        self.y_test = data["y_test"].astype(np.int32)
        self.rng = np.random.default_rng(settings.seed)
        self.order, self.cursor = self.rng.permutation(len(self.x_train)), 0
        self.image = np.zeros((28, 28), np.float32) if image is None else np.asarray(image, np.float32)
        self.step_count = 0
        self.test_steps: list[int] = []
        self.test_accuracy: list[float] = []

        build = build_live_cnn if settings.architecture == "cnn" else build_live_dense
        self.model = build(settings.seed)
        self.optimizer = build_optimizer(settings.optimizer, settings.learning_rate)
        self.optimizer.build(self.model.trainable_variables)
        shown = ["conv1", "conv2"] if settings.architecture == "cnn" else ["dense1"]
        self.shown = shown
        probe = keras.Model(self.model.input, [self.model.get_layer(n).output for n in shown] + [self.model.output])
        model, optimizer = self.model, self.optimizer

        def train_step(x, y):
            with tf.GradientTape() as tape:
                probs = model(x, training=True)
                loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, probs))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(probs, -1, output_type=tf.int32), y), tf.float32))
            return loss, accuracy

        spec = tf.TensorSpec((None, 28, 28, 1), tf.float32)
        self._train_step = tf.function(train_step, input_signature=[spec, tf.TensorSpec((None,), tf.int32)],
                                       jit_compile=False)
        self._probe = tf.function(lambda x: probe(x, training=False), input_signature=[spec], jit_compile=False)
        self._predict = tf.function(lambda x: model(x, training=False), input_signature=[spec], jit_compile=False)
        self._evaluate()

    def _prepare(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) in [0, 1] -> (N, 28, 28, 1), shuffled if the switch is on."""
        if self.permutation is not None:
            images = shuffle_pixels(images, self.permutation)
        return images[..., None].astype(np.float32)

    def _next_batch(self) -> np.ndarray:
        if self.cursor + self.batch_size > len(self.order):
            self.order, self.cursor = self.rng.permutation(len(self.x_train)), 0
        index = self.order[self.cursor:self.cursor + self.batch_size]
        self.cursor += self.batch_size
        return index

    def _evaluate(self) -> None:
        probs = self._predict(self.x_test).numpy()
        self.test_steps.append(self.step_count)
        self.test_accuracy.append(float((probs.argmax(-1) == self.y_test).mean()))

    def step(self) -> dict[str, float]:
        index = self._next_batch()
        loss, accuracy = self._train_step(self.x_train[index], self.y_train[index])
        self.step_count += 1
        if self.step_count % EVAL_EVERY == 0 or self.step_count == self.max_steps:
            self._evaluate()
        return {"loss": float(loss), "accuracy": float(accuracy)}

    def configure(self, learning_rate: float | None = None, batch_size: int | None = None,
                  image: np.ndarray | None = None) -> None:
        if learning_rate is not None:
            self.optimizer.learning_rate.assign(float(learning_rate))
        if batch_size is not None:
            self.batch_size = int(batch_size)
        if image is not None:
            self.image = np.asarray(image, np.float32)

    def snapshot(self) -> dict:
        """What the page draws; every array is a fresh copy (the page may keep it while training goes on)."""
        seen = self._prepare(self.image[None])                                   # (1, 28, 28, 1) as the net sees it
        *maps, probs = (t.numpy()[0] for t in self._probe(seen))
        out = {"architecture": self.settings.architecture, "input": seen[0, ..., 0].copy(), "probs": probs,
               "test_steps": np.array(self.test_steps), "test_accuracy": np.array(self.test_accuracy, np.float32),
               "learning_rate": float(self.optimizer.learning_rate.numpy()), "batch_size": self.batch_size}
        if self.settings.architecture == "cnn":
            out["kernels"] = self.model.get_layer("conv1").kernel.numpy()[:, :, 0, :]          # (3, 3, 8)
            out["maps"] = {name: m for name, m in zip(self.shown, maps)}                      # (28,28,8), (14,14,16)
        else:
            w = self.model.get_layer("dense1").kernel.numpy()                               # (784, 32)
            out["unit_weights"] = w[:, :8].T.reshape(8, 28, 28).transpose(1, 2, 0)           # (28, 28, 8)
            out["activations"] = maps[0]                                                     # (32,)
        return out
