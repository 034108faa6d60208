"""An optional ImageNet backbone for photos: Keras' MobileNetV2 (1.0, 224×224, 1000 classes).

Its weights (14 MB) and ImageNet's class names are not shipped: they are downloaded on first use into Keras' own
cache (`~/.keras/models`, or `$KERAS_HOME/models`; a file Keras downloaded earlier is reused), with a progress
callback for the page. Without a network the download fails quickly with `BackboneUnavailable`, whose message
says so; nothing else in the app depends on it.

    model, classes = load_backbone(progress=lambda done, total: ...)
"""
from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from dlviz.i18n import t

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
WEIGHTS_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5"
CLASSES_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASSES_FILE = "imagenet_class_index.json"
URL_ENV = "DLVIZ_BACKBONE_URL"          # another place to fetch both files from (a mirror; tests: nowhere)
INPUT_SHAPE = (224, 224, 3)
SCALING = "[-1, 1]"                      # what keras.applications.mobilenet_v2.preprocess_input does
TIMEOUT = 10.0                           # seconds without an answer before giving up
MAX_BYTES = 64 * 2**20

Progress = Callable[[int, int], None]   # (bytes so far, total bytes or 0 when unknown)


class BackboneUnavailable(RuntimeError):
    """MobileNetV2 cannot be used here (offline, download failed); the message is for the user."""


def cache_dir() -> Path:
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def _urls() -> tuple[str, str]:
    mirror = os.environ.get(URL_ENV)
    if mirror:
        return mirror.rstrip("/") + "/" + WEIGHTS_FILE, mirror.rstrip("/") + "/" + CLASSES_FILE
    return BASE_URL + WEIGHTS_FILE, CLASSES_URL


def download(url: str, dest: Path, progress: Progress | None = None, timeout: float = TIMEOUT) -> Path:
    """Fetch `url` into `dest` (through a .part file, so a broken download never looks complete)."""
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 16):
                done += len(chunk)
                if done > MAX_BYTES:
                    raise BackboneUnavailable(t("The download from {url} is larger than expected; stopped.",
                                                url=url))
                out.write(chunk)
                if progress is not None:
                    progress(done, total)
        part.replace(dest)
        return dest
    except BackboneUnavailable:
        part.unlink(missing_ok=True)
        raise
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError, ValueError) as e:
        part.unlink(missing_ok=True)
        reason = getattr(e, "reason", None) or e
        raise BackboneUnavailable(t("MobileNetV2 is downloaded on first use (14 MB), and this machine cannot "
                                    "reach {host} ({reason}). Everything else in the app works offline; once "
                                    "online, choose it again.", host=urllib.parse.urlsplit(url).netloc or url,
                                    reason=str(reason)[:160])) from None


def class_names(path: Path) -> list[str]:
    index = json.loads(path.read_text())
    return [index[str(i)][1].replace("_", " ") for i in range(len(index))]


def load_backbone(progress: Progress | None = None):
    """(MobileNetV2 with ImageNet weights, 1000 class names); BackboneUnavailable when it cannot be had."""
    weights_url, classes_url = _urls()
    weights = download(weights_url, cache_dir() / WEIGHTS_FILE, progress)
    classes = download(classes_url, cache_dir() / CLASSES_FILE)
    import keras

    try:
        model = keras.applications.MobileNetV2(weights=str(weights), input_shape=INPUT_SHAPE)
        names = class_names(classes)
    except Exception as e:      # a damaged cached file: remove it, so the next try downloads it again
        weights.unlink(missing_ok=True)
        classes.unlink(missing_ok=True)
        raise BackboneUnavailable(t("The downloaded MobileNetV2 files could not be read ({reason}); they were "
                                    "removed and will be downloaded again next time.",
                                    reason=str(e).splitlines()[0][:160] if str(e) else type(e).__name__)) from None
    return model, names
