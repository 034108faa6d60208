"""The live views' small training subsets, written to pretrained/ with their manifest entries.

    python -m dlviz.train live-data --data ../shared/data      # pretrained/live_mnist.npz, live_fashion.npz

Per dataset, a class-balanced random subset of the official split: TRAIN_PER_CLASS training images and
TEST_PER_CLASS test images of each class, uint8, registered with `registry.write_data_entry` (hash-checked on load
by dlviz.live.data).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from dlviz import registry
from dlviz.datasets import DATASETS, load_arrays
from dlviz.live.data import data_key

TRAIN_PER_CLASS = 200           # 2,000 training images per dataset
TEST_PER_CLASS = 50             # 500 test images per dataset


def balanced_subset(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of `per_class` random items of each class in `y`."""
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False)
                                   for c in np.unique(y)]))


def make_live_data(data, out_dir: Path, seed: int = 0, command: str = "") -> list[Path]:
    rng = np.random.default_rng(seed)
    paths = []
    for dataset in DATASETS:
        (x_train, y_train), (x_test, y_test) = load_arrays(dataset, data)
        train = balanced_subset(y_train, TRAIN_PER_CLASS, rng)
        test = balanced_subset(y_test, TEST_PER_CLASS, rng)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{data_key(dataset)}.npz"
        np.savez_compressed(path, x_train=x_train[train].astype(np.uint8), y_train=y_train[train].astype(np.uint8),
                            x_test=x_test[test].astype(np.uint8), y_test=y_test[test].astype(np.uint8),
                            train_index=train.astype(np.int32), test_index=test.astype(np.int32))
        registry.write_data_entry(
            data_key(dataset), path, f"live training views: {len(train)} random {dataset} training images "
            f"({TRAIN_PER_CLASS} per class) and {len(test)} test images ({TEST_PER_CLASS} per class)", out_dir,
            command=command, seed=seed)
        print(f"wrote {path} ({path.stat().st_size:,} bytes)", flush=True)
        paths.append(path)
    return paths


def add_commands(sub, common) -> None:
    p = sub.add_parser("live-data", parents=[common], help="write the live views' small training subsets")
    p.set_defaults(run=lambda args, command: make_live_data(args.data, Path(args.out), args.seed, command))
