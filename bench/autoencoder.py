"""Autoencoder & VAE page benchmarks, gathered by bench/interactions.py (`python bench/interactions.py --page
autoencoder`). Targets: every interaction ≤ 100 ms p95; the 30×30 manifold grid's decoding ≤ 50 ms.

keras-io's VAE example draws its manifold grid with one `decoder.predict` per cell: 900 calls for 30×30. That
costs seconds, far too long to repeat 60 times inside the harness, so `python bench/autoencoder.py` times it
separately, alternating with our one-batch decode in the same process (same load):

    .venv/bin/python bench/autoencoder.py --runs 20 --naive-runs 3
"""
from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.interactions import ModelCall, Scenario, keras_clear_session  # noqa: E402

PAGE = "pages/autoencoder.py"


def tab(label: str) -> tuple[str, str, str]:
    return ("session_state", "ae.tab", label)


@contextlib.contextmanager
def naive_predict() -> Iterator[None]:
    """Every Coder call through `keras.Model.predict` (one call per batch), as a first version would do it."""
    from dlviz.coder import Coder, Encoded

    encode, decode = Coder.encode, Coder.decode

    def naive_encode(self, images):
        out = self.model.encoder.predict(np.asarray(images, np.float32).reshape(-1, 28, 28, 1), verbose=0)
        return Encoded(out[0], out[1]) if self.is_vae else Encoded(out, None)

    def naive_decode(self, codes):
        z = np.asarray(codes, np.float32).reshape(-1, self.latent_dim)
        return self.model.decoder.predict(z, verbose=0)[..., 0]

    Coder.encode, Coder.decode = naive_encode, naive_decode
    try:
        yield
    finally:
        Coder.encode, Coder.decode = encode, decode


SAMPLE = ("number_input", "dlviz.sample.pos.mnist")
SCENARIOS = [
    Scenario("ae: new sample, Reconstruction tab", PAGE, SAMPLE, (1, 2, 3, 4, 5, 6), setup=[tab("Reconstruction")],
             naive=naive_predict, note="new input: the whole page, 5 models encode + decode"),
    Scenario("ae: noise amount", PAGE, ("slider", "ae.noise.amount.gaussian"), (0.1, 0.3, 0.5),
             setup=[tab("Denoising")], naive=naive_predict),
    Scenario("ae: new sample, Sparsity tab", PAGE, SAMPLE, (1, 2, 3), setup=[tab("Sparsity")], naive=naive_predict),
    Scenario("ae: anomaly k", PAGE, ("slider", "ae.anomaly.k"), (1.0, 2.0, 3.0), setup=[tab("Anomaly")],
             naive=naive_predict),
    Scenario("ae: latent scatter, left model", PAGE, ("radio", "ae.latent.left"), ("ae", "ae2d"),
             setup=[tab("Latent space")], naive=naive_predict,
             note="two scatters of 2,000 codes + 900 clickable grid points"),
    Scenario("ae: manifold grid size", PAGE, ("slider", "ae.grid.n"), (30, 20, 25), setup=[tab("Manifold grid")],
             naive=naive_predict, note="the page keeps each size's decoded grid: after the first view of a size this "
                                       "is the figure only (the decode itself: the model call below)"),
    Scenario("ae: interpolation steps", PAGE, ("slider", "ae.interp.steps"), (5, 9, 15),
             setup=[tab("Interpolation")], naive=naive_predict),
    Scenario("ae: VAE ε", PAGE, ("slider", "ae.vae.eps1"), (-1.0, 0.5, 2.0), setup=[tab("VAE mechanics")],
             naive=naive_predict),
    Scenario("ae: prior samples seed", PAGE, ("number_input", "ae.sample.seed"), (1, 2, 3), setup=[tab("Sampling")],
             naive=naive_predict),
]


def _grid_codes(n: int = 30) -> np.ndarray:
    from dlviz import latent

    axis = latent.gaussian_grid_axis(n)
    return latent.grid_codes(axis, axis).astype(np.float32)


def _grid_call():
    from dlviz.coder import Coder
    from dlviz.registry import load_model

    coder = Coder(load_model("vae2d_mnist")).warm(encode=(), decode=(128,))
    codes = _grid_codes()
    # naive here: one predict of the whole batch (keras-io's 900 calls: see keras_io_grid below)
    return (lambda: coder.decode(codes)), (lambda: coder.model.decoder.predict(codes, verbose=0))


def _one_image_call():
    from dlviz.coder import Coder
    from dlviz.registry import load_model, load_samples

    coder = Coder(load_model("ae_mnist")).warm(encode=(1,), decode=(1,))
    x = load_samples("mnist")[0][:1].astype(np.float32) / 255.0

    def naive():
        code = coder.model.encoder.predict(x[..., None], verbose=0)
        return coder.model.decoder.predict(code, verbose=0)
    return (lambda: coder.reconstruct(x)), naive


MODEL_CALLS = [
    ModelCall("ae: reconstruct one image (encode + decode)", PAGE, _one_image_call, before_each=keras_clear_session),
    ModelCall("ae: VAE 30×30 manifold grid, one decode call", PAGE, _grid_call, before_each=keras_clear_session),
]


def keras_io_grid(runs: int = 20, naive_runs: int = 3) -> dict:
    """Our 30×30 grid (one decode call: XLA, in 128-row chunks) against keras-io's `plot_latent_space` loop (900 `predict` calls),
    alternating in one process. Returns the timings in ms."""
    from dlviz.coder import Coder
    from dlviz.registry import load_model

    coder = Coder(load_model("vae2d_mnist")).warm(encode=(), decode=(128,))
    codes = _grid_codes()
    decoder = coder.model.decoder

    def keras_io():
        n, size = 30, 28
        figure = np.zeros((size * n, size * n))
        for k, z in enumerate(codes):                  # as keras-io: one predict per cell
            x_decoded = decoder.predict(z[None], verbose=0)
            i, j = divmod(k, n)
            figure[i * size:(i + 1) * size, j * size:(j + 1) * size] = x_decoded[0].reshape(size, size)
        return figure

    fast, naive = [], []
    for _ in range(3):
        coder.decode(codes)
    keras_io()
    every = max(1, runs // naive_runs)
    for i in range(runs):
        keras_clear_session()
        t0 = time.perf_counter()
        coder.decode(codes)
        fast.append((time.perf_counter() - t0) * 1000)
        if i % every == 0 and len(naive) < naive_runs:
            keras_clear_session()
            t0 = time.perf_counter()
            keras_io()
            naive.append((time.perf_counter() - t0) * 1000)
    return {"ours_median_ms": float(np.median(fast)), "ours_p95_ms": float(np.percentile(fast, 95)),
            "keras_io_median_ms": float(np.median(naive)), "ratio": float(np.median(naive) / np.median(fast)),
            "runs": runs, "keras_io_runs": len(naive)}


if __name__ == "__main__":
    import argparse
    import json
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description="30×30 manifold grid: ours vs keras-io's 900 predict calls")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--naive-runs", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(keras_io_grid(args.runs, args.naive_runs), indent=2))
