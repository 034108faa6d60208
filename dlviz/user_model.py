"""A lecturer's own model: an uploaded `.keras` file checked and loaded without running any code from it.

    model = load_user_model(data, "my_cnn.keras")      # UserModelError with a message to show, or a UserModel

What is refused, each with its own message: too big a file; anything that is not a Keras 3 `.keras` archive
(a `.h5`, a SavedModel, a picture, a truncated or corrupt zip); a file whose config names code (a `Lambda`
layer, a custom or registered class from outside Keras): those are refused by reading `config.json` before
Keras sees the file, and Keras itself then loads with `safe_mode=True` as a second line; a model that is not an
image classifier this app can show (one (H, W, C) input with 1 or 3 channels, one (classes,) output, at least one
Conv2D or pooling layer).

Nothing here is cached across sessions: the page keeps the loaded model in its own session (dlviz.ui.models).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass

import numpy as np

from dlviz.i18n import t
from dlviz.inputs.adapt import SCALINGS

MAX_MODEL_BYTES = 50 * 2**20          # MobileNetV2 is 14 MB; a lecture CNN is well under 5 MB
MAX_UNPACKED_BYTES = 200 * 2**20      # a zip that unpacks to more than this is refused before reading it
MAX_SIDE = 512                        # input height / width the pages can draw
FOREIGN_LAYERS = ("TFSMLayer", "JaxLayer", "FlaxLayer", "TorchModuleWrapper")   # wrap a SavedModel or foreign code


class UserModelError(ValueError):
    """The uploaded file cannot be used; the message says why, for the user."""


@dataclass(frozen=True, eq=False)
class UserModel:
    """A checked, loaded model. input_shape: (H, W, C); classes: size of the output vector."""

    model: object
    name: str
    digest: str                  # sha256 of the file: names the model in widget keys
    input_shape: tuple[int, int, int]
    classes: int
    scaling: str                 # the input scaling the model most likely expects (one of SCALINGS)
    softmax: bool                # the output is already a probability vector
    params: int


# --------------------------------------------------------------------------- the archive and its config


def _archive(data: bytes, name: str) -> zipfile.ZipFile:
    if len(data) == 0:
        raise UserModelError(t("{name} is empty.", name=name))
    if len(data) > MAX_MODEL_BYTES:
        raise UserModelError(t("{name} is {mb:.0f} MB; models up to {limit} MB can be uploaded.", name=name,
                               mb=len(data) / 2**20, limit=MAX_MODEL_BYTES // 2**20))
    if data[:8] == b"\x89HDF\r\n\x1a\n":
        raise UserModelError(t("{name} is a legacy HDF5 (.h5) model. Save it in the Keras 3 format: "
                               "model.save(\"model.keras\").", name=name))
    if not data.startswith(b"PK"):
        raise UserModelError(t("{name} is not a Keras model file: a .keras file is a zip archive made by "
                               "model.save(\"model.keras\").", name=name))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UserModelError(t("{name} is damaged: the zip archive cannot be read (truncated download?).",
                               name=name)) from None
    names = {m.filename for m in members}
    if "config.json" not in names or "model.weights.h5" not in names:
        raise UserModelError(t("{name} is a zip archive but not a Keras model: config.json and model.weights.h5 "
                               "are missing.", name=name))
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise UserModelError(t("{name} unpacks to more than {limit} MB.", name=name,
                               limit=MAX_UNPACKED_BYTES // 2**20))
    return archive


def _config(archive: zipfile.ZipFile, name: str) -> dict:
    try:
        config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, OSError, ValueError, UnicodeDecodeError):
        raise UserModelError(t("{name} is damaged: its config.json cannot be read.", name=name)) from None
    if not isinstance(config, dict):
        raise UserModelError(t("{name} is damaged: its config.json is not a model description.", name=name))
    return config


def code_in_config(config) -> str | None:
    """The first thing in a saved model's config that would run Python code from the file, described, or None.

    Lambda layers (their function is pickled bytecode), Python functions by name, and classes that are not
    Keras' own (a custom layer from another module, a `registered_name` of a package) are all refused.
    """
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        cls, module, registered = node.get("class_name"), node.get("module"), node.get("registered_name")
        if cls == "Lambda":
            return t("a Lambda layer (it stores Python code)")
        if cls in FOREIGN_LAYERS:
            return t("a {cls} layer (it loads code or files from outside the model)", cls=cls)
        if cls in ("__lambda__", "function", "__function__", "__bytes__"):
            return t("a stored Python function")
        if isinstance(module, str) and not (module == "keras" or module.startswith("keras.")
                                             or module == "builtins"):
            return t("the class {cls} from the module {module} (custom code)", cls=cls, module=module)
        if isinstance(registered, str) and registered not in (cls, f"keras>{cls}") and ">" in registered:
            return t("the registered custom object {name} (custom code)", name=registered)
        stack.extend(v for k, v in node.items() if isinstance(v, (dict, list)))
    return None


def _load(data: bytes, name: str):
    import keras

    fd, path = tempfile.mkstemp(suffix=".keras", prefix="dlviz-upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as e:      # Keras raises ValueError, TypeError, OSError, KeyError ... for bad files
        text, chain, seen = str(e), [], e
        while seen is not None and len(chain) < 10:          # Keras wraps the safe_mode refusal in its own error
            chain.append(str(seen))
            seen = seen.__cause__ or seen.__context__
        if any("safe_mode" in c or "unsafe" in c.lower() for c in chain):
            raise UserModelError(t("{name} was refused: it would run Python code when loaded.", name=name)) from None
        deepest = chain[-1] or text          # the most specific reason, e.g. "Could not locate function 'f'"
        raise UserModelError(t("{name} could not be loaded by Keras: {reason}", name=name,
                               reason=deepest.splitlines()[0][:300] if deepest else type(e).__name__)) from None
    finally:
        os.unlink(path)


# --------------------------------------------------------------------------- is it an image classifier?


def _scaling_guess(model) -> str:
    """0–255 when the model starts by rescaling (it divides by 255 itself), else [0, 1]."""
    from dlviz.flat_model import leaf_layers

    for layer in list(leaf_layers(model).layers.values())[:3]:
        if type(layer).__name__ == "Rescaling":
            scale = np.ravel(layer.get_config().get("scale", 1.0))[0]
            offset = np.ravel(layer.get_config().get("offset", 0.0))[0]
            if float(scale) < 0.05:
                return SCALINGS[2]
            if float(offset) == -1.0:
                return SCALINGS[0]
    return SCALINGS[0]


def check_image_model(model, name: str = "the model") -> UserModel:
    """A UserModel for `model` if the pages can show it, else UserModelError saying what does not fit."""
    import keras

    from dlviz.explain import SPATIAL_TYPES
    from dlviz.flat_model import leaf_layers

    if not isinstance(model, keras.Model):
        raise UserModelError(t("{name} is a single layer, not a model.", name=name))
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UserModelError(t("{name} has {i} inputs and {o} outputs; the pages need one image in and one "
                               "vector of class scores out.", name=name, i=len(model.inputs), o=len(model.outputs)))
    shape = tuple(model.input_shape)
    if len(shape) != 4:
        raise UserModelError(t("{name} takes inputs of shape {shape}, not images (height, width, channels).",
                               name=name, shape=shape[1:]))
    h, w, c = shape[1:]
    if h is None or w is None:
        raise UserModelError(t("{name} accepts any image size; save it with a fixed input size, e.g. "
                               "keras.Input((32, 32, 3)).", name=name))
    if c not in (1, 3):
        raise UserModelError(t("{name} expects {c} channels per pixel; images here have 1 (grey) or 3 (RGB).",
                               name=name, c=c))
    if max(h, w) > MAX_SIDE or min(h, w) < 4:
        raise UserModelError(t("{name} expects {h}×{w} images; sizes from 4 to {limit} pixels a side are "
                               "supported.", name=name, h=h, w=w, limit=MAX_SIDE))
    out = tuple(model.output_shape)
    if len(out) != 2 or not out[1]:
        raise UserModelError(t("{name} outputs shape {shape}; a classifier outputs one score per class.",
                               name=name, shape=out[1:]))
    try:
        tape = leaf_layers(model)
        probe = np.asarray(model(np.zeros((1, h, w, c), "float32"), training=False))
    except Exception as e:
        raise UserModelError(t("{name} fails on a blank image: {reason}", name=name,
                               reason=str(e).splitlines()[0][:300] if str(e) else type(e).__name__)) from None
    if not any(type(layer).__name__ in SPATIAL_TYPES for layer in tape.layers.values()):
        raise UserModelError(t("{name} has no Conv2D or pooling layer: nothing for these pages to show.",
                               name=name))
    if not np.all(np.isfinite(probe)):
        raise UserModelError(t("{name} gives NaN or infinite scores on a blank image.", name=name))
    last = list(tape.layers.values())[-1]
    softmax = (type(last).__name__ == "Softmax"
               or last.get_config().get("activation") == "softmax")
    return UserModel(model, name, "", (int(h), int(w), int(c)), int(out[1]), _scaling_guess(model), softmax,
                     int(model.count_params()))


def load_user_model(data: bytes, name: str) -> UserModel:
    """Check and load an uploaded `.keras` file (bytes); UserModelError with a message to show otherwise."""
    name = os.path.basename(str(name)) or "the file"
    archive = _archive(data, name)
    found = code_in_config(_config(archive, name))
    if found:
        raise UserModelError(t("{name} was refused: it contains {what}, and code from an uploaded file is never "
                               "run. Rebuild the model from Keras' own layers.", name=name, what=found))
    model = _load(data, name)
    checked = check_image_model(model, name)
    return UserModel(checked.model, name, hashlib.sha256(data).hexdigest()[:16], checked.input_shape,
                     checked.classes, checked.scaling, checked.softmax, checked.params)


def class_names(text: str, classes: int) -> list[str]:
    """Names typed by the user (comma- or line-separated) for `classes` outputs; missing ones are numbered.

    Too many names raise UserModelError (the model has fewer outputs)."""
    names = [n.strip() for n in str(text or "").replace("\n", ",").split(",")]
    names = [n[:40] for n in names if n]
    if len(names) > classes:
        raise UserModelError(t("{given} names for {n} outputs: the model has only {n} classes.",
                               given=len(names), n=classes))
    return names + [str(i) for i in range(len(names), classes)]
