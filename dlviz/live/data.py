"""The small datasets the live views train on, read from pretrained/ (live_mnist.npz, live_fashion.npz).

They are made by the training CLI (`python -m dlviz.train live-data`, dlviz/training/live_data.py); the app only
loads them, hash-checked, through the registry.
"""
from __future__ import annotations

import functools

import numpy as np

from dlviz import registry


def data_key(dataset: str) -> str:
    return f"live_{dataset}"


@functools.lru_cache(maxsize=4)
def load_live_data(dataset: str, directory: str | None = None) -> dict[str, np.ndarray]:
    """{"x_train": (2000, 28, 28) uint8, "y_train": (2000,) uint8, "x_test": (500, 28, 28), "y_test": (500,)};
    read-only, read once per process. Raises registry.ModelUnavailable with the command that makes it."""
    return registry.load_data(data_key(dataset), directory)
