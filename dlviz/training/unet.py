"""Training the segmentation networks: `python -m dlviz.train unet --task TASK --kind KIND ...`

    --task digits    U-Net or the no-skip encoder-decoder (--kind unet|noskip) on synthetic digit scenes: MNIST
                     *train* digits pasted on 64×64 canvases (fresh scenes every epoch), 11 classes per pixel.
                     Evaluated on scenes made only of MNIST *test* digits: IoU / Dice per class, mean IoU over
                     the ten digits, pixel accuracy.
    --task membrane  binary U-Net on the ISBI 2012 EM slices (membrane.npz): slices 0-24 for training (random
                     crops, flips, 90° rotations, elastic deformation, fresh every epoch), slices 25-29 held out
                     and predicted whole (512×512) by tiling with overlap: pixel accuracy, IoU and Dice per class.

    python -m dlviz.train unet-samples --data ../shared/data    # the page's bundled scenes and EM slices

Both kinds of the digit task see exactly the same scenes in the same order for a given --seed.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from dlviz import registry, segmentation as seg
from dlviz.datasets import load_arrays
from dlviz.training import fit_verbosity, seed_everything

TASKS = ("digits", "membrane")
KINDS = ("unet", "noskip")
TRAIN_SLICES = tuple(range(25))
HELD_OUT_SLICES = tuple(range(25, 30))
MEMBRANE_NPZ = "membrane.npz"
SAMPLES_KEY = "unet_samples"
SAMPLES_FILE = "unet_samples.npz"
EVAL_SCENES = 2000
EVAL_SEED = 12345                   # the evaluation scenes are the same whatever --seed the model was trained with
TILE, MARGIN = 256, 32              # membrane slices are predicted in 256×256 tiles keeping their 192×192 centres
DEFAULTS = {  # task: (epochs, items per epoch, batch size, depth, base filters)
    "digits": dict(epochs=3, per_epoch=10000, batch_size=16, depth=4, base_filters=8),
    "membrane": dict(epochs=10, per_epoch=1000, batch_size=8, depth=4, base_filters=8),
}
CROP = 128


def model_name(task: str, kind: str) -> str:
    return f"seg_{task}_{kind}"


def add_commands(sub, common) -> None:
    p = sub.add_parser("unet", parents=[common], help="train a segmentation network (see --task, --kind)",
                       description=__doc__)
    p.add_argument("--task", choices=TASKS, required=True)
    p.add_argument("--kind", choices=KINDS, default="unet", help="noskip: the same network without skips")
    p.add_argument("--epochs", type=int)
    p.add_argument("--per-epoch", type=int, help="scenes (digits) or crops (membrane) per epoch")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--depth", type=int)
    p.add_argument("--base-filters", type=int)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--eval-scenes", type=int, default=EVAL_SCENES, help="test-digit scenes for the metrics")
    p.add_argument("--limit", type=int, help="use only the first N digits / 3 slices (smoke tests)")
    p.add_argument("--name", help="manifest name (default seg_<task>_<kind>)")
    p.add_argument("--resume", action="store_true",
                   help="continue training the model already in --out under this name for --epochs more epochs "
                        "(fresh scenes/crops, a new learning-rate schedule); its earlier stages stay in the manifest")
    p.set_defaults(run=run)

    s = sub.add_parser("unet-samples", parents=[common], help="write the U-Net page's bundled samples")
    s.set_defaults(run=lambda args, command: make_samples(args.data, Path(args.out), args.seed, command))


def run(args, command: str) -> dict:
    options = dict(DEFAULTS[args.task])
    for key in options:
        value = getattr(args, key)
        if value is not None:
            options[key] = value
    if args.task == "membrane" and args.kind != "unet":
        raise SystemExit("the membrane task trains the U-Net only")
    return train(args.task, args.kind, args.data, seed=args.seed, out_dir=Path(args.out), limit=args.limit,
                 name=args.name, learning_rate=args.learning_rate, eval_scenes=args.eval_scenes,
                 command=command, resume=args.resume, **options)


def _membrane(data) -> dict[str, np.ndarray]:
    path = Path(data or ".")
    path = path / MEMBRANE_NPZ if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found (the ISBI 2012 slices, see ../shared/data/README.md)")
    with np.load(path) as d:
        return {k: d[k] for k in d.files}


def _mnist(data):
    return load_arrays("mnist", data)


def train(task: str, kind: str, data, epochs: int, per_epoch: int, batch_size: int, depth: int, base_filters: int,
          learning_rate: float, seed: int, out_dir: Path, limit: int | None = None, name: str | None = None,
          eval_scenes: int = EVAL_SCENES, command: str = "", resume: bool = False) -> dict:
    import keras

    from dlviz.models import build

    seed_everything(seed)
    classes = 11 if task == "digits" else 1
    config = {"kind": kind, "classes": classes, "depth": depth, "base_filters": base_filters}
    name = name or model_name(task, kind)
    stages, first_epoch = [], 0
    if resume:      # continue a trained model: same architecture, its weights, epochs numbered on from its own
        previous = registry.model_card(name, out_dir).entry
        config = previous["config"]
        if previous.get("seed") != seed:
            raise SystemExit(f"{name} was trained with --seed {previous.get('seed')}; resume with the same seed")
        stages = previous.get("stages") or [{k: previous.get(k) for k in (
            "command", "epochs", "per_epoch", "batch_size", "learning_rate", "training_seconds")}
            | {"mean_iou": previous["metrics"].get("mean_iou"),
               "pixel_accuracy": previous["metrics"].get("pixel_accuracy")}]
        first_epoch = sum(stage["epochs"] for stage in stages)
        model = registry.load_model(name, out_dir)
    else:
        model = build("unet", **config)
    steps = epochs * int(np.ceil(per_epoch / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps, alpha=0.01)
    loss = (keras.losses.SparseCategoricalCrossentropy(from_logits=True) if classes > 1
            else keras.losses.BinaryCrossentropy(from_logits=True))
    # (no XLA: Keras turns it off while TensorFlow's op determinism is on, and determinism comes first)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, metrics=["accuracy"] if classes > 1 else [])

    if task == "digits":
        mnist = _mnist(data)
        if limit:
            (xtr, ytr), (xte, yte) = mnist
            mnist = ((xtr[:limit], ytr[:limit]), (xte[:limit], yte[:limit]))

        def batch_for(epoch: int):      # fresh scenes of MNIST train digits every epoch, the same for both kinds
            scenes = seg.scenes_from_mnist(mnist, "train", per_epoch, seed * 1000 + epoch)
            return scenes.images[..., None].astype("float32") / 255.0, scenes.masks[..., None].astype("int32")
    else:
        em = _membrane(data)
        train_slices = TRAIN_SLICES[:3] if limit else TRAIN_SLICES
        images, masks = em["images"][list(train_slices)], em["masks"][list(train_slices)]

        def batch_for(epoch: int):
            rng = np.random.default_rng([seed, epoch])
            return seg.membrane_crops(images, masks, per_epoch, CROP, rng)

    started = time.time()
    print(f"training {model.name} ({model.count_params()} parameters) on {task}: {epochs} epochs × {per_epoch}, "
          f"batch {batch_size}, seed {seed}" + (f", resumed after {first_epoch} epochs" if resume else ""), flush=True)
    for epoch in range(epochs):
        x, y = batch_for(first_epoch + epoch)
        model.fit(x, y, batch_size=batch_size, epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
                  verbose=fit_verbosity())
        print(f"epoch {epoch + 1}/{epochs} done ({time.time() - started:.0f} s)", flush=True)
    seconds = time.time() - started
    file = f"{name}.weights.h5"
    out_dir.mkdir(parents=True, exist_ok=True)
    # Weights only: Keras writes a compiled model's optimizer state into save_weights' file too (Adam's two
    # moments triple the file), so the weights are copied into a fresh, uncompiled model of the same config.
    plain = build("unet", **config)
    plain.set_weights(model.get_weights())
    plain.save_weights(out_dir / file)

    if task == "digits":
        metrics = evaluate_digits(model, mnist, eval_scenes)
        headline = f"mean IoU {metrics['mean_iou']:.4f}, pixel accuracy {metrics['pixel_accuracy']:.4f}"
        title = {"unet": "U-Net", "noskip": "Encoder-decoder without skips"}[kind] + " on digit scenes"
        data_info = {"dataset": "mnist", "train_scenes": epochs * per_epoch, "scene_size": seg.SCENE_SIZE,
                     "classes": list(seg.SCENE_CLASSES)}
    else:
        held = list(HELD_OUT_SLICES[:1] if limit else HELD_OUT_SLICES)
        metrics = evaluate_membrane(model, em["images"][held], em["masks"][held])
        metrics["held_out_slices"] = held
        headline = (f"pixel accuracy {metrics['pixel_accuracy']:.4f}, Dice membrane {metrics['dice']['membrane']}, "
                    f"cell interior {metrics['dice']['cell interior']}")
        title = "U-Net on ISBI 2012 EM membranes"
        data_info = {"dataset": "membrane", "train_slices": list(train_slices), "crop": CROP,
                     "train_crops": epochs * per_epoch, "classes": list(seg.MEMBRANE_CLASSES),
                     "augmentation": ["random crop", "flip", "90° rotation",
                                      f"elastic ({seg.ELASTIC_GRID}×{seg.ELASTIC_GRID} grid, "
                                      f"σ {seg.ELASTIC_SIGMA} px)"],
                     "output": "one logit: sigmoid = P(cell interior)"}
    card = {
        "family": "unet", "title": title, "config": config, "file": file, "task": task, **data_info,
        "input_shape": [None, None, 1], "layers": registry.layer_summary(model),
        "params": int(model.count_params()), "seed": seed, "epochs": first_epoch + epochs, "per_epoch": per_epoch,
        "batch_size": batch_size, "learning_rate": learning_rate,
        "training_seconds": round(seconds + sum(stage["training_seconds"] for stage in stages), 1),
        "command": command, "metrics": metrics,
    }
    if resume:      # every stage's command, schedule and result, in order (the last one is this run)
        card["stages"] = stages + [{"command": command, "epochs": epochs, "per_epoch": per_epoch,
                                    "batch_size": batch_size, "learning_rate": learning_rate,
                                    "training_seconds": round(seconds, 1), "mean_iou": metrics.get("mean_iou"),
                                    "pixel_accuracy": metrics.get("pixel_accuracy")}]
        if task == "digits":
            card["train_scenes"] = card["epochs"] * per_epoch
    registry.write_entry(name, card, out_dir)
    print(f"{name}: {headline} ({seconds:.0f} s) -> {out_dir / file}", flush=True)
    return card


def digit_predictions(model, images: np.ndarray, batch: int = 100) -> np.ndarray:
    """images (N, H, W) uint8 -> predicted labels (N, H, W) uint8 (argmax of the logits)."""
    out = []
    for i in range(0, len(images), batch):
        x = images[i:i + batch, ..., None].astype("float32") / 255.0
        out.append(np.asarray(model.predict_on_batch(x)).argmax(-1).astype(np.uint8))
    return np.concatenate(out)


def evaluate_digits(model, mnist, n: int = EVAL_SCENES) -> dict:
    """Metrics on `n` 64×64 scenes made only of MNIST test digits (fixed seed, the same for every model)."""
    scenes = seg.scenes_from_mnist(mnist, "test", n, EVAL_SEED)
    pred = digit_predictions(model, scenes.images)
    counts = seg.confusion(scenes.masks, pred, len(seg.SCENE_CLASSES))
    metrics = seg.segmentation_metrics(counts, seg.SCENE_CLASSES, mean_over=tuple(range(1, 11)))
    metrics.update(test_scenes=n, test_scene_size=seg.SCENE_SIZE, mean_iou_over="the 10 digit classes",
                   test_digits="MNIST test set only", confusion=counts.tolist())
    return metrics


def membrane_probabilities(model, image: np.ndarray) -> np.ndarray:
    """(H, W) float in [0, 1] -> (H, W) P(cell interior), tiled with overlap (TILE, MARGIN)."""
    def predict(tile):
        return 1.0 / (1.0 + np.exp(-np.asarray(model.predict_on_batch(tile[None, :, :, None]))[0]))
    return seg.predict_tiled(predict, image.astype("float32"), TILE, MARGIN)[..., 0]


def evaluate_membrane(model, images: np.ndarray, masks: np.ndarray, threshold: float = 0.5) -> dict:
    """Held-out slices (S, 512, 512) predicted whole by tiling: pixel accuracy, IoU and Dice of both classes."""
    counts = np.zeros((2, 2), np.int64)
    for image, mask in zip(images, masks):
        prob = membrane_probabilities(model, image.astype("float32") / 255.0)
        counts += seg.confusion(mask, (prob >= threshold).astype(np.uint8), 2)
    metrics = seg.segmentation_metrics(counts, seg.MEMBRANE_CLASSES)
    metrics.update(threshold=threshold, tile=TILE, margin=MARGIN, confusion=counts.tolist())
    return metrics


def make_samples(data, out_dir: Path, seed: int = 0, command: str = "") -> Path:
    """The page's samples: digit scenes of MNIST test digits (with label masks), the held-out EM slices with
    their masks, and unlabelled EM test slices, all uint8."""
    mnist = _mnist(data)
    em = _membrane(data)
    wide = seg.scenes_from_mnist(mnist, "test", 12, 777, size=(64, 128), digits=(3, 6))
    held = list(HELD_OUT_SLICES)
    unlabelled = [0, 7, 14, 21, 29]
    arrays = {
        "scene_images": wide.images, "scene_masks": wide.masks,
        "membrane_images": em["images"][held], "membrane_masks": em["masks"][held],
        "membrane_slices": np.array(held, np.int32),
        "test_images": em["test_images"][unlabelled], "test_slices": np.array(unlabelled, np.int32),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / SAMPLES_FILE
    np.savez_compressed(path, **arrays)
    registry.write_data_entry(
        SAMPLES_KEY, path, "U-Net page: 12 digit scenes (64×128) of MNIST test digits with label masks; ISBI 2012 "
        f"slices {held} (held out from training) with masks; unlabelled ISBI test slices {unlabelled}",
        out_dir, command=command)
    print(f"wrote {path} ({path.stat().st_size} bytes)", flush=True)
    return path
