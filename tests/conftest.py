import os
import sys
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# The real datasets, if this checkout sits next to them (../shared/data, as on the course machines). Tests that
# need them skip without them, except in CI, which sets DLVIZ_REQUIRE_DATA=1 so that a missing folder fails.
SHARED_DATA = ROOT.parent / "shared" / "data"
REQUIRE_DATA = "DLVIZ_REQUIRE_DATA"


def shared_dataset(key: str):
    """((x_train, y_train), (x_test, y_test)) of `key` from ../shared/data; skips (or fails in CI) without it."""
    from dlviz.datasets import get_dataset, load_arrays

    path = SHARED_DATA / get_dataset(key).npz_name
    if not path.is_file():
        message = f"{path} not found (the real {key} data, next to the repository)"
        if os.environ.get(REQUIRE_DATA) == "1":
            pytest.fail(message + f"; {REQUIRE_DATA}=1 requires it")
        pytest.skip(message)
    return load_arrays(key, path)


def page_charts(at) -> list:
    """An AppTest run's Plotly charts without the shell's hidden one (`dlviz.ui.shell.load_chart_bundle`)."""
    from dlviz.ui.shell import CHART_BUNDLE_KEY

    return [c for c in at.get("plotly_chart") if CHART_BUNDLE_KEY not in c.proto.id]


def write_fake_dataset(path: Path, n_train: int = 256, n_test: int = 100, seed: int = 0) -> Path:
    """A tiny npz with Keras' keys: classes are bright squares at class-dependent positions (learnable)."""
    rng = np.random.default_rng(seed)

    def make(n):
        y = np.arange(n) % 10
        x = rng.integers(0, 30, (n, 28, 28)).astype(np.uint8)
        for i, c in enumerate(y):
            r, col = 2 + (c // 5) * 12, 2 + (c % 5) * 5
            x[i, r:r + 10, col:col + 4] = 255
        return x, y.astype(np.uint8)

    (xtr, ytr), (xte, yte) = make(n_train), make(n_test)
    np.savez_compressed(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    return path


@pytest.fixture(scope="session")
def tiny_pretrained(tmp_path_factory):
    """A pretrained/ folder made by the real training CLI on a tiny fake dataset: (dir, name)."""
    from dlviz import train

    d = tmp_path_factory.mktemp("pretrained")
    data = write_fake_dataset(d / "mnist.npz")
    assert train.main(["cnn", "--dataset", "mnist", "--data", str(data), "--epochs", "2",
                       "--out", str(d), "--name", "tiny"]) == 0
    return d, "tiny"


@pytest.fixture(autouse=True)
def _no_op_determinism_leak():
    """Training code turns on TensorFlow's deterministic ops for the whole process (`seed_everything`); a test
    that trains must not slow down or change every test after it. TensorFlow has no public switch back
    (`tf.config.experimental` only exports `enable_op_determinism`); the module that defines it also defines
    `disable_op_determinism` and `is_op_determinism_enabled`, used here (tests/test_train_registry.py checks
    that this still works, so a TensorFlow upgrade that removes them fails loudly)."""
    yield
    if "tensorflow" in sys.modules:
        from tensorflow.python.framework import config as tf_config

        if tf_config.is_op_determinism_enabled():
            tf_config.disable_op_determinism()
