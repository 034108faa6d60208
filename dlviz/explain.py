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
from dlviz.flat_model import Tape, leaf_layers, tapped_call
from dlviz.i18n import t

SPATIAL_TYPES = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "DepthwiseConv2D")
EXPLAINED_TYPES = ("Conv2D", "MaxPooling2D", "AveragePooling2D")     # the ones whose arithmetic is shown
log = logging.getLogger(__name__)


def spatial_layers(model: keras.Model) -> list:
    """The conv and pooling layers, in call order, nested sub-models opened: the ones with maps worth drawing."""
    tape = leaf_layers(model)
    return [layer for layer in tape.layers.values() if type(layer).__name__ in SPATIAL_TYPES]


def geometry(layer) -> ops.LayerGeometry:
    """Kernel (or pool window), stride and padding of a conv/pool layer, per axis: (rows, cols).

    A dilated kernel counts with its effective size (k − 1)·d + 1: that is the window it spans.
    """
    cfg = layer.get_config()
    size = cfg.get("kernel_size") or cfg.get("pool_size")
    strides = cfg.get("strides") or size
    dilation = cfg.get("dilation_rate") or (1, 1)
    dilation = (dilation, dilation) if isinstance(dilation, int) else dilation
    size = tuple((int(k) - 1) * int(d) + 1 for k, d in zip(size, dilation))
    strides = (int(strides[0]), int(strides[1]))
    return ops.LayerGeometry(kernel=size, stride=strides, padding=cfg["padding"], name=layer.name)


def dilated_kernel(kernel: np.ndarray, dilation: tuple[int, int]) -> np.ndarray:
    """(kh, kw, cin, cout) -> the same kernel with d − 1 zeros between its taps: a dilated convolution is an
    ordinary one with this bigger, holey kernel."""
    dh, dw = dilation
    if (dh, dw) == (1, 1):
        return kernel
    kh, kw = kernel.shape[:2]
    out = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1, *kernel.shape[2:]), kernel.dtype)
    out[::dh, ::dw] = kernel
    return out


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: tuple
    params: int              # Keras' own count_params()
    params_formula: str      # the same number from the formula, with this layer's sizes filled in
    macs: int                # multiply-accumulates for one image


def layer_table(model: keras.Model, input_shape: tuple | None = None) -> list[LayerRow]:
    """Shapes, parameters (formula next to Keras' count) and MACs of every leaf layer, for one input image.

    Nested sub-models are opened (their layers are listed as `sub/layer`)."""
    tape = leaf_layers(model, input_shape)
    rows = []
    for path, layer in tape.layers.items():
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        out = tape.shapes[path]
        formula, macs = t("no weights") if not layer.weights else "", 0
        if kind == "Conv2D":
            kh, kw, cin, cout = layer.kernel.shape
            formula = ops.conv_params_formula(kh, kw, cin, cout, layer.use_bias)
            macs = ops.conv_macs(out[0], out[1], kh, kw, cin, cout)
        elif kind == "Dense":
            nin, nout = layer.kernel.shape
            formula = ops.dense_params_formula(nin, nout, layer.use_bias)
            macs = ops.dense_macs(nin, nout)
        elif kind == "BatchNormalization":
            c = int(layer.moving_mean.shape[0])
            n = len(layer.weights)          # γ and β only when scale / center are on
            formula = t("{n}·{c} (γ, β, moving mean, moving variance) = {total}", n=n, c=c, total=n * c)
        elif kind == "DepthwiseConv2D":
            kh, kw, cin, mult = layer.kernel.shape
            bias = f" + {cin * mult}" if layer.use_bias else ""
            formula = f"{kh}·{kw}·{cin}·{mult}{bias} = {int(layer.count_params())}"
            macs = int(out[0] * out[1] * kh * kw * cin * mult)
        rows.append(LayerRow(path, kind, out, int(layer.count_params()), formula, int(macs)))
    return rows


def _as_batch(image: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) -> (1, H, W, C) float32."""
    x = image[..., None] if image.ndim == 2 else image
    return x[None].astype("float32")


class Inspector:
    """Feature maps of every conv/pool layer (nested sub-models opened) plus the model's output, from one call.

    One Inspector is cached per model and shared by every session (each in its own thread): everything it
    builds is built here, once, and its methods only call functions that were traced and warmed up already
    (concurrent calls of a traced `tf.function` are safe; Keras' lazily made predict functions are not).
    An uploaded model gets its own Inspector, kept in its session only.
    """

    def __init__(self, model: keras.Model, xla: bool = True):
        self.model = model
        self.tape = leaf_layers(model)
        self.names = [p for p, layer in self.tape.layers.items() if type(layer).__name__ in SPATIAL_TYPES]
        self.layers = [self.tape.layers[p] for p in self.names]
        self.input_shape = tuple(model.input_shape[1:])
        self._xla = xla
        self._call = self._compile(self.input_shape)
        self._fully_conv = None
        self._tensor_fns: dict = {}             # (path, "input" | "output") -> traced function
        self._fully_conv_lock = threading.Lock()

    def _forward(self, x):
        tape = Tape(keep=set(self.names))
        out = tapped_call(self.model, x, tape)
        return [tape.outputs_of[n] for n in self.names] + [out]

    def _compile(self, shape: tuple):
        """One XLA-compiled function for the whole forward pass, warmed up here.

        Streamlit calls keras.backend.clear_session() after every script run, which empties TensorFlow's
        kernel cache: the next predict_on_batch then takes ~20 ms instead of ~2. A compiled XLA function keeps
        its own kernels (~2 ms either way). If XLA is unavailable, the plain traced function is used.
        """
        import tensorflow as tf

        spec = [tf.TensorSpec((1, *shape), tf.float32)]
        if self._xla:
            fn = tf.function(lambda x: self._forward(x), jit_compile=True, input_signature=spec)
            try:
                fn(tf.zeros((1, *shape), tf.float32))
                return fn
            except Exception:   # no XLA on this platform: the plain (traced, not compiled) path still works
                log.warning("XLA compilation of %s failed; using the plain TensorFlow path (about 10x slower "
                            "after each Streamlit rerun)", self.model.name, exc_info=True)
        fn = tf.function(lambda x: self._forward(x), input_signature=spec)
        fn(tf.zeros((1, *shape), tf.float32))
        return fn

    def run(self, image: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """image: (H, W) or (H, W, C) float32 in the model's scaling -> ({layer: (h, w, c)}, output (classes,))."""
        outputs = [np.asarray(o) for o in self._call(_as_batch(image))]
        maps = {name: out[0] for name, out in zip(self.names, outputs[:-1])}
        return maps, outputs[-1][0]

    def layer_input(self, name: str, image: np.ndarray, maps: dict[str, np.ndarray]) -> np.ndarray:
        """What layer `name` received: the image for a layer reading the input, the previous spatial layer's
        output when that is what it read, else (BatchNorm, Dropout, an activation in between) the tensor
        computed by running the model up to it, so the arithmetic shown starts from what the layer received."""
        sources = self.tape.sources.get(name, [])
        if not sources and self.names.index(name) == 0:
            return image[..., None] if image.ndim == 2 else image
        if len(sources) == 1 and sources[0] in maps:
            return maps[sources[0]]
        return self.tensor(name, image, "input")

    def tensor(self, path: str, image: np.ndarray, which: str = "output") -> np.ndarray:
        """What leaf `path` received ("input") or produced ("output") on `image`: (h, w, c).

        Built once per leaf on first use, under a lock (sessions run in threads)."""
        import tensorflow as tf

        with self._fully_conv_lock:
            fn = self._tensor_fns.get((path, which))
            if fn is None:
                def probe(x):
                    tape = Tape(keep={path}, stop_after=path)
                    tapped_call(self.model, x, tape)
                    return (tape.inputs_of if which == "input" else tape.outputs_of)[path]

                spec = [tf.TensorSpec((1, *self.input_shape), tf.float32)]
                fn = tf.function(probe, input_signature=spec)
                fn(tf.zeros((1, *self.input_shape), tf.float32))
                self._tensor_fns[(path, which)] = fn
        return np.asarray(fn(_as_batch(image))[0])

    def chain(self, name: str) -> list[str]:
        """The spatial layers on the way from the input to `name` (following each leaf's first input)."""
        path, out = name, []
        while path is not None:
            if path in self.names:
                out.append(path)
            sources = self.tape.sources.get(path) or [None]
            path = sources[0]
        return out[::-1]

    def receptive_field(self, name: str, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of the input pixels that can influence map pixel (row, col) of `name`."""
        stack = [geometry(self.tape.layers[p]) for p in self.chain(name)]
        return ops.receptive_field(stack, row, col, self.input_shape[:2])

    def fully_convolutional(self, image: np.ndarray, upto: str) -> np.ndarray:
        """The conv/pool stack (no dense layers) on an image of any size: (H, W[, C]) -> (H', W', C').

        The same trained layers, called on an input with unknown height and width: convolution does not care
        about the image size, only the dense classifier does. Built on first use (most visits never open the
        tab), once, under a lock: sessions run in threads and may open the tab at the same moment.
        """
        with self._fully_conv_lock:
            if self._fully_conv is None:
                self._fully_conv = self._build_fully_conv()
        outs = self._fully_conv(_as_batch(image))
        return np.asarray(outs[self.names.index(upto)][0])

    def _build_fully_conv(self):
        import tensorflow as tf

        channels = self.input_shape[-1]

        def forward(x):
            tape = Tape(keep=set(self.names), stop_after=self.names[-1])
            tapped_call(self.model, x, tape)
            return [tape.outputs_of[n] for n in self.names]

        # Any height and width: one trace serves every image size (no XLA, which would compile per size).
        fn = tf.function(forward, input_signature=[tf.TensorSpec((1, None, None, channels), tf.float32)])
        fn(tf.zeros((1, *self.input_shape), tf.float32))
        return fn


@dataclass(frozen=True)
class BatchNormStep:
    """The BatchNormalization right after a conv, applied to one value, and the same thing folded into the conv."""
    layer: str
    mean: float
    variance: float
    epsilon: float
    gamma: float
    beta: float
    value: float              # numpy: (x − mean) / √(variance + ε) · γ + β
    keras_value: float        # what Keras' BatchNormalization produced at that position
    folded_scale: float       # γ / √(variance + ε): multiply the kernel by it ...
    folded_bias: float        # ... and use this bias: (b − mean) · scale + β


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
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    batchnorm: BatchNormStep | None = None


def activate(name: str, value: float) -> float:
    """A Keras activation (by its config name) applied to one number."""
    if name in ("relu", "linear", None):
        return float(ops.relu(value)) if name == "relu" else float(value)
    return float(keras.ops.convert_to_numpy(keras.activations.get(name)(np.array([value], np.float32)))[0])


def _batchnorm_step(inspector: Inspector, conv: str, image: np.ndarray, row: int, col: int, channel: int,
                    value: float, bias: float) -> BatchNormStep | None:
    after = inspector.tape.next_leaf(conv)
    if after is None or type(inspector.tape.layers[after]).__name__ != "BatchNormalization":
        return None
    bn = inspector.tape.layers[after]
    if bn.get_config().get("axis") not in (-1, 3, [-1], [3]):
        return None
    mean, var = float(bn.moving_mean.numpy()[channel]), float(bn.moving_variance.numpy()[channel])
    gamma = float(bn.gamma.numpy()[channel]) if bn.gamma is not None else 1.0
    beta = float(bn.beta.numpy()[channel]) if bn.beta is not None else 0.0
    scale = gamma / np.sqrt(var + bn.epsilon)
    keras_value = float(inspector.tensor(after, image)[row, col, channel])
    return BatchNormStep(after, mean, var, float(bn.epsilon), gamma, beta, float((value - mean) * scale + beta),
                         keras_value, float(scale), float((bias - mean) * scale + beta))


def output_arithmetic(inspector: Inspector, image: np.ndarray, maps: dict[str, np.ndarray], layer_name: str,
                      row: int, col: int, channel: int) -> OutputArithmetic:
    """The numpy reference for `maps[layer_name][row, col, channel]` (Conv2D or pooling), with the check against
    Keras; for a Conv2D followed by a BatchNormalization also the BatchNorm step and its folded form."""
    layer = inspector.tape.layers[layer_name]
    kind = type(layer).__name__
    if kind not in EXPLAINED_TYPES:
        raise ValueError(t("The arithmetic is shown for Conv2D and pooling layers; {name} is a {kind}.",
                           name=layer_name, kind=kind))
    x = inspector.layer_input(layer_name, image, maps)
    keras_value = float(maps[layer_name][row, col, channel])
    rf = inspector.receptive_field(layer_name, row, col)
    g = geometry(layer)
    if kind == "Conv2D":
        cfg = layer.get_config()
        if int(cfg.get("groups", 1)) != 1:
            raise ValueError(t("Grouped convolutions (groups > 1) are not explained value by value."))
        dilation = tuple(int(d) for d in (cfg.get("dilation_rate") or (1, 1)))
        weights = [np.asarray(w) for w in layer.get_weights()]
        kernel = dilated_kernel(weights[0], dilation)
        bias = weights[1] if layer.use_bias else np.zeros(kernel.shape[-1], kernel.dtype)
        terms = ops.conv2d_terms(x, kernel, bias, g.stride, g.padding, row, col, channel)
        activation = cfg["activation"]
        computed = activate(activation, terms.value)
        bn = _batchnorm_step(inspector, layer_name, image, row, col, channel, computed, terms.bias) \
            if activation == "linear" else None
        return OutputArithmetic(layer_name, kind, row, col, channel, terms.window, rf, terms, None,
                                activation, computed, keras_value, stride=g.stride, dilation=dilation,
                                batchnorm=bn)
    mode = "max" if kind == "MaxPooling2D" else "average"
    source = ops.pool_sources(x[..., channel], g.kernel, g.stride, g.padding, mode)[
        row * maps[layer_name].shape[1] + col]
    top, left, bottom, right = source.window
    return OutputArithmetic(layer_name, kind, row, col, channel, source.window, rf, None,
                            x[top:bottom, left:right, channel], mode, source.value, keras_value, source.winner,
                            stride=g.stride)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Scores (logits) -> probabilities, for models whose last layer has no softmax."""
    z = np.asarray(scores, np.float64) - np.max(scores)
    e = np.exp(z)
    return e / e.sum()


def top_classes(probs: np.ndarray, classes, k: int = 10) -> tuple[np.ndarray, list[str]]:
    """All classes when there are at most 2·k, else the k most likely, best first (a 1000-bar chart says nothing)."""
    if len(probs) <= 2 * k:
        return np.asarray(probs), list(classes)
    order = np.argsort(probs)[::-1][:k]
    return np.asarray(probs)[order], [classes[i] for i in order]


def strongest_cell(fmap: np.ndarray) -> tuple[int, int, int]:
    """(channel, row, col) of the activation that stands out most above its map's typical (median) level.

    Plain argmax would often pick a "background" map at a blank corner, where the patch is all zeros and the
    value is just the bias: a dull first example.
    """
    excess = fmap - np.median(fmap, axis=(0, 1), keepdims=True)
    r, c, ch = np.unravel_index(int(np.argmax(excess)), fmap.shape)
    return int(ch), int(r), int(c)


def clicked_cell(event) -> tuple[int, int, int] | None:
    """(channel, row, col) from a Streamlit plotly selection on a `figures.map_grid` or `number_grid` ((grid, row,
    col) on `number_grids`), or None."""
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
        top, left, bottom, right = arith.window
        op = "maximum" if arith.activation == "max" else "average"
        return (f"{where}: the **{op}** of input rows {top}–{bottom - 1}, columns {left}–{right - 1} "
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
    if arith.stride != (1, 1) or arith.dilation != (1, 1):
        lines.append(t("The window starts at input row {r} · {sr} and column {c} · {sc} (stride {sr}×{sc})",
                       r=arith.row, c=arith.col, sr=arith.stride[0], sc=arith.stride[1])
                     + (t("; dilation {dr}×{dc} spreads the {kh}×{kw} kernel over a {eh}×{ew} window, the "
                          "zeros between its taps skip input pixels", dr=arith.dilation[0], dc=arith.dilation[1],
                          kh=(kh - 1) // arith.dilation[0] + 1, kw=(kw - 1) // arith.dilation[1] + 1, eh=kh, ew=kw)
                        if arith.dilation != (1, 1) else "") + ".")
    bn = arith.batchnorm
    if bn is not None:
        bn_check = "✓" if np.isclose(bn.value, bn.keras_value, rtol=1e-4, atol=1e-4) else "✗"
        lines.append(t("5. BatchNorm `{layer}`: ({v:.4f} − {mean:.4f}) / √({var:.4f} + {eps:g}) · {gamma:.4f} "
                       "{beta:+.4f} = **{out:.4f}** {check} Keras' {keras:.4f}.", layer=bn.layer, v=arith.computed,
                       mean=bn.mean, var=bn.variance, eps=bn.epsilon, gamma=bn.gamma, beta=bn.beta, out=bn.value,
                       check=bn_check, keras=bn.keras_value))
        lines.append(t("   Folded into the convolution (what an inference engine does): kernel × {scale:.4f}, "
                       "bias {bias:+.4f}, so {total:.4f} × {scale:.4f} {bias:+.4f} = {out:.4f}: one layer, the same "
                       "number.", scale=bn.folded_scale, bias=bn.folded_bias, total=arith.terms.total,
                       out=arith.terms.total * bn.folded_scale + bn.folded_bias))
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
