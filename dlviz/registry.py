"""The model registry: `pretrained/manifest.json` says what each weight file is, how it was made and how good it is.

Loading checks the file's sha256 before Keras sees it, rebuilds the architecture from our own code
(`dlviz.models`) and loads weights only, so a missing, truncated or swapped file is a clear `ModelUnavailable`,
never a traceback, and no code is ever unpickled. The bundled sample images live here too.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained"
PRETRAINED_ENV = "DLVIZ_PRETRAINED"   # point the app at another folder of weights (tests, experiments)
MANIFEST_FILE = "manifest.json"
SAMPLES_FILE = "samples.npz"


def pretrained_dir(directory: Path | str | None = None) -> Path:
    """The folder to read: `directory` if given, else $DLVIZ_PRETRAINED, else the project's pretrained/."""
    return Path(directory or os.environ.get(PRETRAINED_ENV) or PRETRAINED_DIR)


class ModelUnavailable(RuntimeError):
    """A model cannot be used; the message says why and how to fix it (shown to users as is)."""


@dataclass(frozen=True)
class ModelCard:
    name: str
    entry: dict[str, Any]   # the manifest entry as written by dlviz.train

    family = property(lambda self: self.entry["family"])
    title = property(lambda self: self.entry.get("title", self.name))
    dataset = property(lambda self: self.entry["dataset"])
    file = property(lambda self: self.entry["file"])
    metrics = property(lambda self: self.entry.get("metrics", {}))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_parsed: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def read_manifest(directory: Path | None = None) -> dict[str, Any]:
    """The manifest, parsed once per version of the file (its mtime and size): pages read model cards on every
    rerun, and parsing the 150 KB file each time showed up in the soak test's profile. The dict is shared: read
    it, never change it (the writers below parse their own copy)."""
    path = pretrained_dir(directory) / MANIFEST_FILE
    try:
        stat = path.stat()
    except OSError:
        return {"version": 1, "models": {}}
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _parsed.get(path)
    if cached is None or cached[0] != version:
        cached = _parsed[path] = (version, _parse_manifest(path))
    return cached[1]


def _parse_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"version": 1, "models": {}}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ModelUnavailable(f"{path} is not valid JSON ({e}); restore it with `git checkout {path}`.") from None


def model_cards(directory: Path | None = None, family: str | None = None,
                dataset: str | None = None) -> list[ModelCard]:
    directory = pretrained_dir(directory)
    models = read_manifest(directory).get("models", {})
    return [ModelCard(name, entry) for name, entry in models.items()
            if (family is None or entry.get("family") == family)
            and (dataset is None or entry.get("dataset") == dataset)]


def model_card(name: str, directory: Path | None = None) -> ModelCard:
    directory = pretrained_dir(directory)
    models = read_manifest(directory).get("models", {})
    if name not in models:
        known = ", ".join(models) or "none"
        raise ModelUnavailable(f"No model named {name!r} in {MANIFEST_FILE} (available: {known}).")
    return ModelCard(name, models[name])


def verified_weights_path(card: ModelCard, directory: Path | None = None) -> Path:
    directory = pretrained_dir(directory)
    path = directory / card.file
    retrain = card.entry.get("command") or f"python -m dlviz.train {card.family} ..."
    if not path.is_file():
        raise ModelUnavailable(f"The weights of {card.name!r} ({path.name}) are missing. "
                               f"Restore them with `git checkout pretrained/` or retrain: `{retrain}`.")
    digest = sha256_of(path)
    if digest != card.entry.get("sha256"):
        raise ModelUnavailable(f"The weights of {card.name!r} ({path.name}) are corrupt or were replaced: "
                               f"sha256 {digest[:12]}… does not match the manifest's "
                               f"{str(card.entry.get('sha256'))[:12]}…. Restore them with "
                               f"`git checkout pretrained/` or retrain: `{retrain}`.")
    return path


def load_model(name: str, directory: Path | None = None):
    """The trained Keras model called `name`, hash-checked. Raises ModelUnavailable with a user-facing message."""
    directory = pretrained_dir(directory)
    from dlviz.models import build

    card = model_card(name, directory)
    path = verified_weights_path(card, directory)
    try:
        model = build(card.family, **card.entry.get("config", {}))
        model.load_weights(path)
    except Exception as e:  # a file that hashes right but does not fit the architecture: say so, don't crash
        raise ModelUnavailable(f"Could not load {card.name!r} from {path.name}: {e}") from e
    return model


def layer_summary(model) -> list[dict[str, Any]]:
    """One row per layer: name, type, output shape and parameter count, as Keras reports them."""
    rows = []
    for layer in model.layers:
        shape = getattr(layer, "output", None)
        shape = list(shape.shape[1:]) if shape is not None else None
        rows.append({"name": layer.name, "type": type(layer).__name__,
                     "output_shape": shape, "params": int(layer.count_params())})
    return rows


@contextmanager
def _manifest_lock(directory: Path):
    """Several training runs may finish at once (they run in parallel in the background): each read-modify-write
    of the manifest holds an exclusive lock so no run's entry is lost."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_manifest(manifest: dict[str, Any], directory: Path) -> None:
    path = directory / MANIFEST_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp.replace(path)


def _versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    return {"keras": keras.__version__, "tensorflow": tf.__version__, "numpy": np.__version__}


def _file_record(path: Path) -> dict[str, Any]:
    return {"file": path.name, "sha256": sha256_of(path), "bytes": path.stat().st_size}


def write_entry(name: str, entry: dict[str, Any], directory: Path | None = None,
                extra_files: dict[str, str] | None = None) -> dict[str, Any]:
    """Add or replace a model's entry; the hash, size and date are measured here, not passed in.

    extra_files: {key: file name in `directory`} kept with the weights (e.g. a GAN's training records, `.npz`
    without pickles); each is hashed here and read back with `load_extra(name, key)`.
    """
    directory = pretrained_dir(directory)
    path = directory / entry["file"]
    entry = {**entry, "sha256": sha256_of(path), "bytes": path.stat().st_size,
             "date": _dt.date.today().isoformat(), "versions": _versions()}
    if extra_files:
        entry["extra_files"] = {key: _file_record(directory / file) for key, file in extra_files.items()}
    with _manifest_lock(directory):
        manifest = _parse_manifest(directory / MANIFEST_FILE)
        manifest.setdefault("models", {})[name] = entry
        _write_manifest(manifest, directory)
    return entry


def update_metrics(name: str, metrics: dict[str, Any], directory: Path | None = None) -> None:
    directory = pretrained_dir(directory)
    with _manifest_lock(directory):
        manifest = _parse_manifest(directory / MANIFEST_FILE)
        manifest["models"][name].setdefault("metrics", {}).update(metrics)
        _write_manifest(manifest, directory)


def write_samples_entry(path: Path, directory: Path, description: str) -> None:
    directory = pretrained_dir(directory)
    with _manifest_lock(directory):
        manifest = _parse_manifest(directory / MANIFEST_FILE)
        manifest["samples"] = {**_file_record(Path(path)), "description": description}
        _write_manifest(manifest, directory)


def write_data_entry(key: str, path: Path, description: str, directory: Path | None = None,
                     **info: Any) -> None:
    """Register a bundled data file (an `.npz` of arrays the app ships, e.g. segmentation samples) under `key`."""
    directory = pretrained_dir(directory)
    with _manifest_lock(directory):
        manifest = _parse_manifest(directory / MANIFEST_FILE)
        manifest.setdefault("data", {})[key] = {**_file_record(Path(path)), "description": description, **info}
        _write_manifest(manifest, directory)


def _verified_npz(record: dict[str, Any] | None, what: str, directory: Path, retrain: str) -> dict[str, np.ndarray]:
    """Every array of a hash-checked `.npz`, read-only (cached and shared between sessions: nobody may write)."""
    if not record:
        raise ModelUnavailable(f"{what} is not in {MANIFEST_FILE}. Create it with `{retrain}`.")
    path = directory / record["file"]
    if not path.is_file():
        raise ModelUnavailable(f"{what} ({path.name}) is missing. Restore it with `git checkout pretrained/` "
                               f"or run `{retrain}`.")
    if sha256_of(path) != record.get("sha256"):
        raise ModelUnavailable(f"{what} ({path.name}) is corrupt or was replaced (its sha256 does not match the "
                               f"manifest). Restore it with `git checkout pretrained/` or run `{retrain}`.")
    try:
        with np.load(path, allow_pickle=False) as d:
            arrays = {k: d[k] for k in d.files}
    except Exception as e:
        raise ModelUnavailable(f"{what} ({path.name}) cannot be read: {e}") from e
    for a in arrays.values():
        a.flags.writeable = False
    return arrays


def load_data(key: str, directory: Path | None = None) -> dict[str, np.ndarray]:
    """A bundled data file registered with `write_data_entry`, hash-checked; arrays are read-only."""
    directory = pretrained_dir(directory)
    record = read_manifest(directory).get("data", {}).get(key)
    return _verified_npz(record, f"The bundled data {key!r}", directory,
                         (record or {}).get("command", "python -m dlviz.train ..."))


def load_extra(name: str, key: str, directory: Path | None = None) -> dict[str, np.ndarray]:
    """A file kept with model `name` (see `write_entry(extra_files=...)`), hash-checked; arrays are read-only."""
    directory = pretrained_dir(directory)
    card = model_card(name, directory)
    record = card.entry.get("extra_files", {}).get(key)
    return _verified_npz(record, f"The {key} of {name!r}", directory,
                         card.entry.get("command") or f"python -m dlviz.train {card.family} ...")


def load_samples(dataset: str, directory: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bundled test images of `dataset`: x (N, 28, 28) uint8 white-on-black, y (N,) uint8."""
    directory = pretrained_dir(directory)
    record = read_manifest(directory).get("samples") or {"file": SAMPLES_FILE, "sha256": None}
    arrays = _verified_npz(record, "The bundled samples", directory,
                           "python -m dlviz.train samples --data PATH")
    try:
        return arrays[f"{dataset}_x"], arrays[f"{dataset}_y"]
    except KeyError:
        raise ModelUnavailable(f"The bundled samples ({record['file']}) have no images of {dataset!r}; "
                               "run `python -m dlviz.train samples --data PATH`.") from None
