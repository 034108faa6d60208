"""Any Keras image model with its nested sub-models opened: what every leaf layer received and produced.

A model built from other models (a `Sequential` block inside a functional model, MobileNetV2 inside a
classifier) hides its inner layers: `inner_layer.output` lives in the sub-model's own graph and cannot be asked
for from the outer input. `tapped_call` runs the model on real tensors, walking each sub-model's graph in order
(the same layer objects, so the same weights and the same numbers as `model(x)`), and keeps what each leaf
received and produced. Works eagerly and inside a `tf.function` (one trace serves every call).

Names are paths: `conv1` for a top-level layer, `block/conv1` inside the sub-model `block` (a layer called
twice gets `#2` on its second call). Two layers may share a name in different sub-models; paths never clash.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import keras

from dlviz.i18n import t


class _Stop(Exception):
    """Raised after the last leaf that was asked for (`stop_after`): the rest of the model is not run."""


@dataclass
class Tape:
    """What one call recorded. `keep`: the paths whose tensors are kept (None = all)."""

    keep: set | None = None
    stop_after: str | None = None
    layers: dict[str, keras.layers.Layer] = field(default_factory=dict)     # path -> leaf layer, in call order
    inputs_of: dict[str, object] = field(default_factory=dict)             # path -> what the leaf received
    outputs_of: dict[str, object] = field(default_factory=dict)            # path -> what the leaf produced
    readers: dict[int, list[str]] = field(default_factory=dict)            # id(tensor) -> leaves that read it
    sources: dict[str, list[str]] = field(default_factory=dict)            # path -> leaves whose output it read
    shapes: dict[str, tuple] = field(default_factory=dict)                 # path -> output shape without batch
    _producer: dict[int, str] = field(default_factory=dict)                # id(tensor) -> leaf that made it
    _alive: list = field(default_factory=list)     # keeps recorded tensors alive, so no id() is reused

    def record(self, path: str, layer, args, outputs) -> None:
        if path in self.layers:
            n = 2
            while f"{path}#{n}" in self.layers:
                n += 1
            path = f"{path}#{n}"
        self.layers[path] = layer
        self.sources[path] = []
        for tensor in keras.tree.flatten(list(args)):
            source = self._producer.get(id(tensor))
            if source is not None:
                self.readers.setdefault(source, []).append(path)
                self.sources[path].append(source)
        for tensor in keras.tree.flatten(outputs):
            self._producer[id(tensor)] = path
            self._alive.append(tensor)
        first = keras.tree.flatten(outputs)[0]
        self.shapes[path] = tuple(first.shape[1:])
        if self.keep is None or path in self.keep:
            self.inputs_of[path] = args[0] if len(args) == 1 else list(args)
            self.outputs_of[path] = outputs
        if path == self.stop_after:
            raise _Stop

    def next_leaf(self, path: str) -> str | None:
        """The only leaf reading `path`'s output (e.g. the BatchNorm after a conv), or None."""
        readers = self.readers.get(path, [])
        return readers[0] if len(readers) == 1 else None


def tapped_call(model, x, tape: Tape):
    """`model(x, training=False)`, recording every leaf layer into `tape`; returns the model's output
    (None when the tape stopped early at `tape.stop_after`)."""
    try:
        return _walk(model, x, "", tape)
    except _Stop:
        return None


def _is_model(layer) -> bool:
    return isinstance(layer, keras.Model)


def _call(layer, args, kwargs):
    if getattr(layer, "_call_has_training_arg", False):
        kwargs["training"] = False
    return layer(*args, **kwargs)


def _walk(layer, x, prefix: str, tape: Tape):
    """Call `layer` on x, opening it if it is a model; returns its output."""
    if not _is_model(layer):
        outputs = _call(layer, (x,), {})
        tape.record(prefix.rstrip("/") or layer.name, layer, (x,), outputs)
        return outputs
    functional = getattr(layer, "_functional", None) if isinstance(layer, keras.Sequential) else layer
    if isinstance(layer, keras.Sequential) and functional is None:
        for inner in layer.layers:
            x = _walk(inner, x, f"{prefix}{inner.name}/", tape)
        return x
    if not hasattr(functional, "_run_through_graph"):
        raise TypeError(t("The sub-model {name} is a subclassed model: its layers cannot be opened.",
                          name=layer.name))

    def operation_fn(op):
        def call(*args, **kwargs):
            kwargs.pop("training", None)
            if _is_model(op):
                if len(args) != 1 or kwargs.get("mask") is not None:
                    raise TypeError(t("The sub-model {name} takes several inputs: not supported.", name=op.name))
                return _walk(op, args[0], f"{prefix}{op.name}/", tape)
            outputs = _call(op, args, kwargs)
            tape.record(f"{prefix}{op.name}", op, args, outputs)
            return outputs

        return call

    return functional._run_through_graph(x, operation_fn=operation_fn)


def leaf_layers(model, input_shape: tuple | None = None) -> Tape:
    """The structure of `model`: every leaf's path and layer, and who reads whom (one eager call on zeros).

    input_shape: without the batch axis; default the model's own.
    """
    import numpy as np

    shape = tuple(input_shape if input_shape is not None else model.input_shape[1:])
    tape = Tape(keep=set())
    tapped_call(model, np.zeros((1, *shape), "float32"), tape)
    return tape
