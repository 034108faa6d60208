"""Training code per model family, dispatched by `python -m dlviz.train` (see `dlviz/train.py`).

Each family module (`autoencoder.py`, `gan.py`, `unet.py`) defines `add_commands(sub, common)`: it adds its
sub-commands to the CLI with `set_defaults(run=function)`, where `function(args, command) -> dict` trains,
saves weights only (`save_weights`, no optimizer state), measures its metrics and writes them through
`dlviz.registry.write_entry`, exactly as the CNN does. The helpers below are shared by all of them.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

FAMILY_MODULES = ("dlviz.training.autoencoder", "dlviz.training.gan", "dlviz.training.unet",
                  "dlviz.training.live_data")


def as_model_input(x_uint8: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 28, 28, 1) float32 in [0, 1]."""
    return (x_uint8.astype("float32") / 255.0)[..., None]


def limit_threads(threads: int | None) -> None:
    """Use at most `threads` CPU threads (call before TensorFlow runs anything). Parallel background runs on a
    2-core machine each take one, instead of all of them fighting over both cores."""
    if not threads:
        return
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)


def seed_everything(seed: int) -> None:
    """Same seed, same data, same versions -> the same weights. Deterministic ops stay on for the process:
    only training processes call this (tests that call it reset it, see tests/conftest.py)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)           # python, numpy and backend RNGs
    tf.config.experimental.enable_op_determinism()


def fit_verbosity() -> int:
    """Keras' progress bar on a terminal, one line per epoch in a log file."""
    return 1 if sys.stdout.isatty() else 2


class Progress:
    """Progress lines for custom training loops: `step k/n, losses, elapsed, eta` every `every` steps."""

    def __init__(self, total: int, every: int = 100, prefix: str = ""):
        self.total, self.every, self.prefix, self.started = total, every, prefix, time.time()

    def __call__(self, step: int, **values: float) -> None:
        if step % self.every and step != self.total:
            return
        elapsed = time.time() - self.started
        eta = elapsed / max(step, 1) * (self.total - step)
        shown = ", ".join(f"{k} {v:.4f}" for k, v in values.items())
        print(f"{self.prefix}step {step}/{self.total}: {shown} ({elapsed:.0f} s, eta {eta:.0f} s)", flush=True)

    @property
    def seconds(self) -> float:
        return time.time() - self.started
