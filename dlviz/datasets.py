"""The datasets dlviz knows: names and class names users see, and loading them for training.

One source of truth: pages, the CLI and the training code all read these constants.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlviz.i18n import N_


@dataclass(frozen=True)
class Dataset:
    key: str            # used in file names, manifest entries and --dataset
    title: str          # shown to users
    classes: tuple[str, ...]
    npz_name: str       # file name inside a --data folder
    credit: str


MNIST = Dataset(
    key="mnist",
    title=N_("MNIST digits"),
    classes=tuple(str(d) for d in range(10)),
    npz_name="mnist.npz",
    credit="MNIST: Y. LeCun, C. Cortes, C. J. C. Burges",
)
FASHION = Dataset(
    key="fashion",
    title="Fashion-MNIST",
    classes=(N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"),
             N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot")),   # English ids: t() to show
    npz_name="fashion_mnist.npz",
    credit="Fashion-MNIST: Zalando SE, MIT licence",
)
DATASETS: dict[str, Dataset] = {d.key: d for d in (MNIST, FASHION)}


def get_dataset(key: str) -> Dataset:
    try:
        return DATASETS[key]
    except KeyError:
        raise ValueError(f"unknown dataset {key!r}; choose one of {', '.join(DATASETS)}") from None


def load_arrays(key: str, data: str | Path | None = None):
    """Official train/test split as uint8 arrays: ((x_train, y_train), (x_test, y_test)), x: (N, 28, 28).

    `data` is an .npz file with Keras' keys, or a folder holding `<npz_name>`. Without it, Keras downloads the
    dataset (needs internet). We read npz files with np.load because keras' own loader insists on its own hash.
    """
    ds = get_dataset(key)
    if data is None:
        import keras

        loader = {"mnist": keras.datasets.mnist, "fashion": keras.datasets.fashion_mnist}[key]
        return loader.load_data()
    path = Path(data)
    if path.is_dir():
        path = path / ds.npz_name
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found (expected {ds.npz_name} with x_train/y_train/x_test/y_test)")
    with np.load(path) as d:
        return (d["x_train"], d["y_train"]), (d["x_test"], d["y_test"])
