"""Training CLI: every weight file in pretrained/ is made here, and so is every number in the manifest.

    python -m dlviz.train cnn --dataset mnist --data ../shared/data        # local npz (offline)
    python -m dlviz.train cnn --dataset fashion                             # Keras' own download (online)
    python -m dlviz.train samples --data ../shared/data                     # the bundled sample images
    python -m dlviz.train evaluate cnn_mnist --data ../shared/data          # re-measure a model's metrics

Deterministic given --seed: same seed, same data, same versions -> the same weights (and the same sha256).
"""
from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from dlviz import registry
from dlviz.datasets import DATASETS, get_dataset, load_arrays

from dlviz.training import FAMILY_MODULES, as_model_input as _as_model_input, limit_threads, seed_everything

SAMPLES_PER_CLASS = 100


def train_cnn(dataset: str, data: str | None, epochs: int, batch_size: int, seed: int,
              out_dir: Path, limit: int | None = None, name: str | None = None, command: str = "") -> dict:
    import keras

    from dlviz.augment import augmenter
    from dlviz.models import build

    seed_everything(seed)
    ds = get_dataset(dataset)
    (x_train, y_train), (x_test, y_test) = load_arrays(dataset, data)
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    x_train, x_test = _as_model_input(x_train), _as_model_input(x_test)

    config = {"num_classes": len(ds.classes)}
    model = build("cnn", **config)
    # Augmentation wraps the model only for training; the saved model is the plain lecture CNN.
    trainer = keras.Sequential([keras.Input(model.input_shape[1:]), augmenter(dataset, seed), model])
    steps = epochs * int(np.ceil(len(x_train) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps, alpha=0.02)
    trainer.compile(optimizer=keras.optimizers.Adam(schedule),
                    loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    started = time.time()
    print(f"training {model.name} on {ds.title}: {len(x_train)} images, {epochs} epochs, seed {seed}", flush=True)
    trainer.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, shuffle=True,
                verbose=1 if sys.stdout.isatty() else 2)
    seconds = time.time() - started

    name = name or f"cnn_{dataset}"
    file = f"{name}.weights.h5"
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_weights(out_dir / file)  # weights only: no optimizer state, no pickled code

    metrics = measure(model, dataset, x_test, y_test)
    card = {
        "family": "cnn",
        "title": f"Lecture CNN on {ds.title}",
        "config": config,
        "file": file,
        "dataset": dataset,
        "input_shape": list(model.input_shape[1:]),
        "layers": registry.layer_summary(model),
        "params": int(model.count_params()),
        "seed": seed,
        "epochs": epochs,
        "batch_size": batch_size,
        "train_images": int(len(x_train)),
        "augmentation": [layer.name for layer in trainer.layers[0].layers],
        "training_seconds": round(seconds, 1),
        "command": command,
        "metrics": metrics,
    }
    registry.write_entry(name, card, out_dir)
    print(f"test accuracy {metrics['test_accuracy']:.4f}, test loss {metrics['test_loss']:.4f} "
          f"({seconds:.0f} s) -> {out_dir / file}", flush=True)
    return card


def measure(model, dataset: str, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """Every metric in the manifest, measured here: the official test set (x: (N, 28, 28, 1) float in [0, 1])
    and test images disguised as users send them, through the app's decoding and preprocessing: for digits
    drawings/photos of paper (`user_like_accuracy`), for garments product photos (`product_photo_accuracy`)."""
    from dlviz.evaluation import classifier_metrics, product_photo_accuracy, user_like_accuracy

    m = classifier_metrics(model.predict(x_test, batch_size=500, verbose=0), y_test)
    metrics = {"test_accuracy": m["accuracy"], "test_loss": m["loss"], "test_images": m["images"],
               "per_class_accuracy": m["per_class_accuracy"], "confusion": m["confusion"]}
    x_uint8 = np.round(x_test[..., 0] * 255).astype(np.uint8)
    predict = lambda x: model.predict(x, batch_size=500, verbose=0)   # noqa: E731
    if dataset == "mnist":
        metrics.update(user_like_accuracy(predict, x_uint8, y_test))
    elif dataset == "fashion":
        metrics.update(product_photo_accuracy(predict, x_uint8, y_test))
    return metrics


def evaluate(name: str, data: str | None, out_dir: Path) -> dict:
    """Re-measure a trained model's metrics and write them into the manifest."""
    card = registry.model_card(name, out_dir)
    model = registry.load_model(name, out_dir)
    _, (x_test, y_test) = load_arrays(card.dataset, data)
    metrics = measure(model, card.dataset, _as_model_input(x_test), y_test)
    registry.update_metrics(name, metrics, out_dir)
    print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in metrics.items() if isinstance(v, float)), flush=True)
    return metrics


def make_samples(data: str | None, out_dir: Path, per_class: int = SAMPLES_PER_CLASS) -> Path:
    """The first `per_class` test images of each class, per dataset, as one small uint8 npz for the app."""
    arrays = {}
    for key in DATASETS:
        _, (x_test, y_test) = load_arrays(key, data)
        index = np.concatenate([np.flatnonzero(y_test == c)[:per_class] for c in range(10)])
        arrays[f"{key}_x"] = x_test[index].astype(np.uint8)
        arrays[f"{key}_y"] = y_test[index].astype(np.uint8)
        arrays[f"{key}_index"] = index.astype(np.int32)   # position in the official test set, for credit/debugging
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / registry.SAMPLES_FILE
    np.savez_compressed(path, **arrays)
    registry.write_samples_entry(path, out_dir, f"first {per_class} test images per class of " + ", ".join(DATASETS))
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlviz.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    data_help = "an .npz file or a folder of them (../shared/data here); omit to let Keras download"

    cnn = sub.add_parser("cnn", help="train the lecture CNN")
    cnn.add_argument("--dataset", choices=sorted(DATASETS), required=True)
    cnn.add_argument("--data", help=data_help)
    cnn.add_argument("--epochs", type=int, default=15)
    cnn.add_argument("--batch-size", type=int, default=128)
    cnn.add_argument("--seed", type=int, default=0)
    cnn.add_argument("--limit", type=int, help="train on the first N images only (smoke tests)")
    cnn.add_argument("--name", help="manifest name (default cnn_<dataset>)")
    cnn.add_argument("--out", type=Path, default=registry.PRETRAINED_DIR)

    samples = sub.add_parser("samples", help="write the bundled sample images")
    samples.add_argument("--data", help=data_help)
    samples.add_argument("--out", type=Path, default=registry.PRETRAINED_DIR)

    argv = sys.argv[1:] if argv is None else argv
    ev = sub.add_parser("evaluate", help="re-measure a trained model's metrics into the manifest")
    ev.add_argument("name")
    ev.add_argument("--data", help=data_help)
    ev.add_argument("--out", type=Path, default=registry.PRETRAINED_DIR)
    for p in (cnn, ev):
        p.add_argument("--threads", type=int, help="CPU threads for TensorFlow (default: all)")

    # The other families add their own sub-commands (dlviz/training/<family>.py).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", help=data_help)
    common.add_argument("--seed", type=int, default=0)
    common.add_argument("--out", type=Path, default=registry.PRETRAINED_DIR)
    common.add_argument("--threads", type=int, help="CPU threads for TensorFlow (default: all)")
    for module in FAMILY_MODULES:
        try:
            family = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            continue            # a family whose training code has not landed yet
        family.add_commands(sub, common)

    args = parser.parse_args(argv)
    command = "python -m dlviz.train " + shlex.join(argv)
    if getattr(args, "threads", None) is not None or hasattr(args, "run"):
        limit_threads(getattr(args, "threads", None))
    if hasattr(args, "run"):
        args.run(args, command)
    elif args.what == "cnn":
        train_cnn(args.dataset, args.data, args.epochs, args.batch_size, args.seed, args.out, args.limit,
                  args.name, command)
    elif args.what == "samples":
        make_samples(args.data, args.out)
    elif args.what == "evaluate":
        evaluate(args.name, args.data, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
