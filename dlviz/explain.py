"""Composes models and the numpy reference: what a trained network computes on one input, layer by layer.

`Inspector` builds its feature-extraction model once per network and answers every interaction with one
XLA-compiled call (a Keras `predict` per rerun costs ~25× more; see bench/RESULTS.md). The exact arithmetic of
one output value is recomputed with `dlviz.ops`, and `output_arithmetic` checks it against what Keras produced.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import keras
import numpy as np

from dlviz import ops
from dlviz.figures.maps import selected_customdata

SPATIAL_TYPES = ("Conv2D", "MaxPooling2D", "AveragePooling2D")
log = logging.getLogger(__name__)


def spatial_layers(model: keras.Model) -> list:
    """The conv and pooling layers, in order: the ones with feature maps worth drawing."""
    return [layer for layer in model.layers if type(layer).__name__ in SPATIAL_TYPES]


def geometry(layer) -> ops.LayerGeometry:
    """Kernel (or pool window), stride and padding of a conv/pool layer, per axis: (rows, cols)."""
    cfg = layer.get_config()
    size = cfg.get("kernel_size") or cfg.get("pool_size")
    strides = cfg.get("strides") or size
    size, strides = (int(size[0]), int(size[1])), (int(strides[0]), int(strides[1]))
    return ops.LayerGeometry(kernel=size, stride=strides, padding=cfg["padding"], name=layer.name)


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: tuple
    params: int              # Keras' own count_params()
    params_formula: str      # the same number from the formula, with this layer's sizes filled in
    macs: int                # multiply-accumulates for one image


def layer_table(model: keras.Model) -> list[LayerRow]:
    """Shapes, parameters (formula next to Keras' count) and MACs of every layer, for one input image."""
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        out = tuple(layer.output.shape[1:])
        formula, macs = "no weights", 0
        if kind == "Conv2D":
            kh, kw, cin, cout = layer.kernel.shape
            formula = ops.conv_params_formula(kh, kw, cin, cout, layer.use_bias)
            macs = ops.conv_macs(out[0], out[1], kh, kw, cin, cout)
        elif kind == "Dense":
            nin, nout = layer.kernel.shape
            formula = ops.dense_params_formula(nin, nout, layer.use_bias)
            macs = ops.dense_macs(nin, nout)
        rows.append(LayerRow(layer.name, kind, out, int(layer.count_params()), formula, int(macs)))
    return rows


class Inspector:
    """Feature maps of every conv/pool layer plus the class probabilities, from one call.

    One Inspector is cached per model and shared by every session (each in its own thread): everything it
    builds is built here, once, and its methods only call functions that were traced and warmed up already
    (concurrent calls of a traced `tf.function` are safe; Keras' lazily made predict functions are not).
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.layers = spatial_layers(model)
        self.names = [layer.name for layer in self.layers]
        self._extractor = keras.Model(model.input, [layer.output for layer in self.layers] + [model.output])
        self._call = self._compile(tuple(model.input_shape[1:]))
        self._fully_conv = None
        self._inputs_of: dict = {}             # layer name -> traced function giving that layer's input
        self._fully_conv_lock = threading.Lock()

    def _compile(self, shape: tuple):
        """One XLA-compiled function for the whole forward pass, warmed up here.

        Streamlit calls keras.backend.clear_session() after every script run, which empties TensorFlow's
        kernel cache: the next predict_on_batch then takes ~20 ms instead of ~2. A compiled XLA function keeps
        its own kernels (~2 ms either way). If XLA is unavailable, predict_on_batch is used.
        """
        import tensorflow as tf

        fn = tf.function(lambda x: self._extractor(x, training=False), jit_compile=True,
                         input_signature=[tf.TensorSpec((1, *shape), tf.float32)])
        try:
            fn(tf.zeros((1, *shape), tf.float32))
        except Exception:       # no XLA on this platform: the plain (traced, not compiled) path still works
            log.warning("XLA compilation of %s failed; using the plain TensorFlow path (about 10x slower after "
                        "each Streamlit rerun)", self.model.name, exc_info=True)
            fn = tf.function(lambda x: self._extractor(x, training=False),
                             input_signature=[tf.TensorSpec((1, *shape), tf.float32)])
            fn(tf.zeros((1, *shape), tf.float32))
        return fn

    def run(self, image: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """image: (28, 28) float32 in [0, 1] -> ({layer: (H, W, C)}, probs (classes,))."""
        outputs = self._call(image[None, :, :, None].astype("float32"))
        outputs = [np.asarray(o) for o in outputs]
        maps = {name: np.asarray(out[0]) for name, out in zip(self.names, outputs[:-1])}
        return maps, np.asarray(outputs[-1][0])

    def layer_input(self, name: str, image: np.ndarray, maps: dict[str, np.ndarray]) -> np.ndarray:
        """What layer `name` received: the image for the first layer, else the previous spatial layer's output.

        Only when the two are adjacent in the model: with anything in between (BatchNorm, Dropout, an
        activation layer) its input is computed by running the model up to that layer, so the arithmetic shown
        starts from what the layer really received.
        """
        i = self.names.index(name)
        index = self.model.layers.index(self.layers[i])
        previous = self.model.layers[index - 1] if index > 0 else None
        if i == 0 and (previous is None or type(previous).__name__ == "InputLayer"):
            return image[..., None]
        if i > 0 and previous is self.layers[i - 1]:
            return maps[self.names[i - 1]]
        return self._input_of(name, image)

    def _input_of(self, name: str, image: np.ndarray) -> np.ndarray:
        """The tensor layer `name` received, by running the model up to it (built once per layer, under a lock)."""
        with self._fully_conv_lock:
            fn = self._inputs_of.get(name)
            if fn is None:
                import tensorflow as tf

                layer = self.layers[self.names.index(name)]
                probe = keras.Model(self.model.input, layer.input)
                fn = tf.function(lambda x: probe(x, training=False),
                                 input_signature=[tf.TensorSpec((1, *self.model.input_shape[1:]), tf.float32)])
                fn(tf.zeros((1, *self.model.input_shape[1:]), tf.float32))
                self._inputs_of[name] = fn
        return np.asarray(fn(image[None, :, :, None].astype("float32"))[0])

    def receptive_field(self, name: str, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of the input pixels that can influence map pixel (row, col) of `name`."""
        stack = [geometry(layer) for layer in self.layers[: self.names.index(name) + 1]]
        return ops.receptive_field(stack, row, col, tuple(self.model.input_shape[1:3]))

    def fully_convolutional(self, gray: np.ndarray, upto: str) -> np.ndarray:
        """The conv/pool stack (no dense layers) on an image of any size: (H, W) in [0, 1] -> (H', W', C).

        The same trained layers, called on an input with unknown height and width: convolution does not care
        about the image size, only the dense classifier does. Built on first use (most visits never open the
        tab), once, under a lock: sessions run in threads and may open the tab at the same moment.
        """
        with self._fully_conv_lock:
            if self._fully_conv is None:
                self._fully_conv = self._build_fully_conv()
        outs = self._fully_conv(gray[None, :, :, None].astype("float32"))
        return np.asarray(outs[self.names.index(upto)][0])

    def _build_fully_conv(self):
        import tensorflow as tf

        x = inputs = keras.Input((None, None, 1))
        outputs = []
        last = self.model.layers.index(self.layers[-1])
        for layer in self.model.layers[: last + 1]:      # every layer up to the last conv/pool (BatchNorm too)
            if type(layer).__name__ == "InputLayer":
                continue
            x = layer(x)
            if layer in self.layers:
                outputs.append(x)
        model = keras.Model(inputs, outputs)
        # Any height and width: one trace serves every image size (no XLA, which would compile per size).
        fn = tf.function(lambda x: model(x, training=False),
                         input_signature=[tf.TensorSpec((1, None, None, 1), tf.float32)])
        fn(tf.zeros((1, 32, 32, 1), tf.float32))
        return fn


@dataclass(frozen=True)
class OutputArithmetic:
    """How one feature-map value came about."""
    layer: str
    kind: str                 # "Conv2D" or a pooling type
    row: int
    col: int
    channel: int
    window: tuple[int, int, int, int]        # in the layer's input
    receptive_field: tuple[int, int, int, int]  # in the network's input image
    terms: ops.ConvTerms | None               # conv only
    pool_window: np.ndarray | None            # pooling only: the input values that were pooled
    activation: str
    computed: float           # from the numpy reference (after activation)
    keras_value: float        # what Keras produced at that position
    pool_winner: tuple[int, int] | None = None   # max pooling: the winning input cell


def output_arithmetic(inspector: Inspector, image: np.ndarray, maps: dict[str, np.ndarray], layer_name: str,
                      row: int, col: int, channel: int) -> OutputArithmetic:
    layer = inspector.layers[inspector.names.index(layer_name)]
    kind = type(layer).__name__
    x = inspector.layer_input(layer_name, image, maps)
    keras_value = float(maps[layer_name][row, col, channel])
    rf = inspector.receptive_field(layer_name, row, col)
    if kind == "Conv2D":
        kernel, bias = (np.asarray(w) for w in layer.get_weights())
        g = geometry(layer)
        terms = ops.conv2d_terms(x, kernel, bias, g.stride, g.padding, row, col, channel)
        activation = layer.get_config()["activation"]
        computed = float(ops.relu(terms.value)) if activation == "relu" else float(terms.value)
        return OutputArithmetic(layer_name, kind, row, col, channel, terms.window, rf, terms, None,
                                activation, computed, keras_value)
    g = geometry(layer)
    mode = "max" if kind == "MaxPooling2D" else "average"
    source = ops.pool_sources(x[..., channel], g.kernel, g.stride, g.padding, mode)[
        row * maps[layer_name].shape[1] + col]
    top, left, bottom, right = source.window
    return OutputArithmetic(layer_name, kind, row, col, channel, source.window, rf, None,
                            x[top:bottom, left:right, channel], mode, source.value, keras_value, source.winner)


def strongest_cell(fmap: np.ndarray) -> tuple[int, int, int]:
    """(channel, row, col) of the activation that stands out most above its map's typical (median) level.

    Plain argmax would often pick a "background" map at a blank corner, where the patch is all zeros and the
    value is just the bias: a dull first example.
    """
    excess = fmap - np.median(fmap, axis=(0, 1), keepdims=True)
    r, c, ch = np.unravel_index(int(np.argmax(excess)), fmap.shape)
    return int(ch), int(r), int(c)


def clicked_cell(event) -> tuple[int, int, int] | None:
    """(channel, row, col) from a Streamlit plotly selection on a `figures.map_grid` or `number_grid`, or None."""
    data = selected_customdata(event, 3)
    return None if data is None else tuple(int(v) for v in data)    # (channel, row, col[, value] dropped)


def winner(arith: OutputArithmetic) -> tuple[int, int] | None:
    """The max's position inside the pooled window (for outlining it), or None for average pooling."""
    if arith.pool_winner is None:
        return None
    return arith.pool_winner[0] - arith.window[0], arith.pool_winner[1] - arith.window[1]


def arithmetic_story(arith: OutputArithmetic) -> str:
    """The computation of one value as Markdown, with every number filled in and the check against Keras."""
    check = "✓ equals" if np.isclose(arith.computed, arith.keras_value, rtol=1e-4, atol=1e-5) else "✗ differs from"
    where = f"`{arith.layer}`[{arith.row}, {arith.col}], map {arith.channel}"
    if arith.terms is None:
        t, l, b, r = arith.window
        op = "maximum" if arith.activation == "max" else "average"
        return (f"{where}: the **{op}** of input rows {t}–{b - 1}, columns {l}–{r - 1} "
                f"of map {arith.channel} = **{arith.computed:.4f}**, which {check} Keras' value "
                f"{arith.keras_value:.4f}. Pooling has no weights.")
    terms = arith.terms
    kh, kw, cin = terms.patch.shape
    lines = [f"{where}:",
             f"1. {kh}×{kw} patch × {kh}×{kw} kernel, element by element, over {cin} input channel"
             f"{'s' if cin > 1 else ''}: {kh * kw * cin} products.",
             f"2. Their sum: **{terms.total:.4f}**" + (
                 " (= " + " + ".join(f"{v:.2f}" for v in terms.channel_sums[:6]) +
                 (" + …" if cin > 6 else "") + ", one term per input channel)" if cin > 1 else ""),
             f"3. Plus the bias {terms.bias:+.4f} → **{terms.value:.4f}**",
             f"4. {'ReLU: max(0, ' + format(terms.value, '.4f') + ')' if arith.activation == 'relu' else arith.activation}"
             f" = **{arith.computed:.4f}**, which {check} the value Keras computed ({arith.keras_value:.4f})."]
    return "\n".join(lines)


def nearest_preset(kernel: np.ndarray, size: int | None = None) -> tuple[str, float]:
    """The hand-designed kernel a learned (k, k) kernel most resembles: (name with sign, cosine similarity).

    Compared after removing each kernel's mean, so a blur with a bias-like offset still reads as a blur and
    an edge detector is recognised whichever way round it points ("−sobel x" finds right-to-left edges).
    """
    size = size or kernel.shape[0]
    learned = kernel - kernel.mean()
    norm = np.linalg.norm(learned)
    if norm == 0:
        return "flat", 0.0
    best = ("", -1.0)
    for name in ("sobel x", "sobel y", "laplacian", "sharpen", "emboss", "gaussian"):
        preset = ops.kernel_preset(name, size).astype(float)
        preset = preset - preset.mean()
        sim = float((learned * preset).sum() / (norm * np.linalg.norm(preset)))
        for signed, s in ((name, sim), ("−" + name, -sim)):
            if s > best[1]:
                best = (signed, s)
    return best
