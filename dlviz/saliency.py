"""Which pixels made the network say this class: Grad-CAM and three gradient saliency maps.

Plain functions on a Keras model and one input `x: (H, W, C) float32` in the model's own scaling; each returns
an (H, W) map >= 0 at the input's resolution (`grad_cam` normalised to [0, 1], the others in their own units, so
"exactly zero" means "this pixel cannot change the score").

`target` is a class index, or a pair (a, b) for "why a and not b": the score is then logit_a − logit_b.
Scores are the logits (before softmax) when the model ends in a softmax, as Grad-CAM prescribes: a probability
saturates, its gradient vanishes for a confident answer.

* `vanilla_gradients` (Simonyan et al. 2014): |∂score/∂x|, the largest over colour channels.
* `smoothgrad` (Smilkov et al. 2017): the same averaged over noisy copies of x: less speckle.
* `integrated_gradients` (Sundararajan et al. 2017): (x − baseline) · the average gradient on the straight path
  from a black baseline to x; the attributions add up to score(x) − score(baseline).
* `grad_cam` (Selvaraju et al. 2017): a conv layer's maps weighted by the average gradient of the score with
  respect to each, ReLU, upsampled to the input.
"""
from __future__ import annotations

import threading
import weakref

import numpy as np

from dlviz.flat_model import Tape, leaf_layers, tapped_call


_compiled: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # model -> {what: traced function}
_lock = threading.Lock()


def _score_parts(model):
    """(last leaf path, how to get logits from it): 'dense' (recompute Dense without softmax), 'input'
    (the input of a final Softmax), or 'output' (the output is already a score)."""
    tape = leaf_layers(model)
    path, layer = list(tape.layers.items())[-1]
    kind = type(layer).__name__
    activation = layer.get_config().get("activation")
    if kind == "Dense" and activation == "softmax":
        return path, "dense"
    if kind == "Softmax" or (kind == "Activation" and activation == "softmax"):
        return path, "input"
    return path, "output"


def _forward(model, x, keep: set, parts):
    """logits (N, classes) and the tape with the `keep` layers' outputs."""
    import tensorflow as tf

    last, how = parts
    tape = Tape(keep=keep | {last})
    out = tapped_call(model, x, tape)
    if how == "dense":
        layer = tape.layers[last]
        logits = tf.matmul(tape.inputs_of[last], layer.kernel)
        if layer.use_bias:
            logits = logits + layer.bias
    elif how == "input":
        logits = tape.inputs_of[last]
    else:
        logits = out
    return logits, tape


def _weights(target, classes: int) -> np.ndarray:
    """The score as a weighted sum of the logits: +1 for class a, −1 for class b ("a and not b")."""
    w = np.zeros(classes, np.float32)
    if isinstance(target, (tuple, list)):
        a, b = (int(v) for v in target)
        w[a], w[b] = 1.0, -1.0
    else:
        w[int(target)] = 1.0
    return w


def _function(model, what: str, layer: str | None = None):
    """One traced function per model (and Grad-CAM layer), built on first use and kept while the model lives:
    eager gradient tapes through a 150-layer network cost seconds of Python per call."""
    import tensorflow as tf

    with _lock:
        functions = _compiled.setdefault(model, {})
        key = (what, layer)
        if key in functions:
            return functions[key]
        parts = _score_parts(model)
        shape = (None, *model.input_shape[1:])

        if what == "logits":
            def fn(x):
                return _forward(model, x, set(), parts)[0]
            spec = [tf.TensorSpec(shape, tf.float32)]
        elif what == "gradients":
            def fn(x, w):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    logits, _ = _forward(model, x, set(), parts)
                    score = tf.reduce_sum(logits * w)
                return tape.gradient(score, x)
            spec = [tf.TensorSpec(shape, tf.float32), tf.TensorSpec((None,), tf.float32)]
        else:                                               # Grad-CAM of `layer`: (maps, their gradients)
            def fn(x, w):
                with tf.GradientTape() as tape:
                    logits, record = _forward(model, x, {layer}, parts)
                    maps = record.outputs_of[layer]
                    score = tf.reduce_sum(logits * w)
                grads = tape.gradient(score, maps)
                return maps, grads if grads is not None else tf.zeros_like(maps)
            spec = [tf.TensorSpec(shape, tf.float32), tf.TensorSpec((None,), tf.float32)]
        functions[key] = tf.function(fn, input_signature=spec)
        return functions[key]


def _input_gradients(model, batch: np.ndarray, target) -> np.ndarray:
    """∂score/∂x for every image of a (N, H, W, C) batch, one forward and backward pass."""
    classes = int(model.output_shape[-1])
    return _function(model, "gradients")(batch.astype("float32"), _weights(target, classes)).numpy()


def _score(logits, target):
    return np.asarray(logits) @ _weights(target, np.asarray(logits).shape[-1])


def scores(model, x: np.ndarray) -> np.ndarray:
    """The logits (pre-softmax scores) of one input: (classes,)."""
    return np.asarray(_function(model, "logits")(x[None].astype("float32")))[0]


def vanilla_gradients(model, x: np.ndarray, target) -> np.ndarray:
    """(H, W): the largest |∂score/∂x| over the input channels."""
    return np.abs(_input_gradients(model, x[None], target)[0]).max(axis=-1)


def smoothgrad(model, x: np.ndarray, target, samples: int = 24, noise: float = 0.15, seed: int = 0,
               value_range: float | None = None) -> np.ndarray:
    """(H, W): vanilla gradients averaged over `samples` copies of x with Gaussian noise of
    σ = noise · (the input's value range, or `value_range`)."""
    spread = value_range if value_range is not None else float(x.max() - x.min()) or 1.0
    rng = np.random.default_rng(seed)
    batch = x[None] + rng.normal(0.0, noise * spread, (samples, *x.shape)).astype("float32")
    return np.abs(_input_gradients(model, batch, target)).max(axis=-1).mean(axis=0)


def integrated_gradients(model, x: np.ndarray, target, steps: int = 32,
                         baseline: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """((H, W) |attribution| summed over channels, completeness error).

    The attributions (x − baseline) · mean gradient should add up to score(x) − score(baseline); the second
    value is how far they are off, relative to that difference (small with enough steps)."""
    base = np.zeros_like(x) if baseline is None else baseline.astype("float32")
    alphas = (np.arange(steps, dtype="float32") + 0.5) / steps           # midpoint rule
    path = base[None] + alphas[:, None, None, None] * (x - base)[None]
    grads = _input_gradients(model, path, target).mean(axis=0)
    attribution = (x - base) * grads
    s_x, s_b = (_score(scores(model, v)[None], target)[0] for v in (x, base))
    gap = float(s_x - s_b)
    error = abs(float(attribution.sum()) - gap) / (abs(gap) or 1.0)
    return np.abs(attribution.sum(axis=-1)), error


def grad_cam(model, x: np.ndarray, target, layer: str) -> np.ndarray:
    """(H, W) in [0, 1]: Grad-CAM of conv layer `layer` (a path, see dlviz.flat_model), upsampled bilinearly to
    the input size (it assumes the layer's map covers the whole image, as a conv stack's does)."""
    import tensorflow as tf

    from dlviz.inputs.adapt import resize

    maps, grads = _function(model, "cam", layer)(x[None].astype("float32"),
                                                  _weights(target, int(model.output_shape[-1])))
    weights = tf.reduce_mean(grads, axis=(1, 2))                          # (1, C): one weight per map
    cam = np.maximum(np.asarray(tf.einsum("bhwc,bc->bhw", maps, weights))[0], 0.0)
    top = float(cam.max())
    cam = cam / top if top > 0 else cam
    return resize(cam, x.shape[0], x.shape[1])


def normalise(heat: np.ndarray, percentile: float = 99.5) -> np.ndarray:
    """(H, W) >= 0 -> [0, 1], clipped at a high percentile so one extreme pixel does not wash out the rest."""
    top = float(np.percentile(heat, percentile)) if heat.size else 0.0
    top = top if top > 0 else float(heat.max())
    return np.clip(heat / top, 0.0, 1.0) if top > 0 else np.zeros_like(heat, dtype=np.float32)
