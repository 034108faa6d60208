"""Sessions share one cached copy of every heavy object (models, compiled functions); Streamlit runs each session's
script in its own thread, and after every run it calls `keras.backend.clear_session()` and `gc.collect()`.

These tests run many calls in parallel threads against ONE shared object per model family, as the pages' caches
hand them out, with Streamlit's clear_session running at the same time, and compare every result with a serial
run of the same inputs. (Whole sessions in parallel are exercised against a real server by bench/soak.py:
AppTest itself is not thread-safe, it swaps process-wide Streamlit singletons for each run.)
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dlviz import registry

THREADS = 8
CALLS = 6          # per thread


def _needs(*names):
    models = registry.read_manifest().get("models", {})
    missing = [n for n in names if n not in models]
    if missing:
        pytest.skip(f"models not in pretrained/: {missing}")


def _inputs(n: int, shape=(28, 28), seed: int = 0) -> list[np.ndarray]:
    x, _ = registry.load_samples("mnist")
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        img = x[(i * 167) % len(x)].astype(np.float32) / 255.0      # samples are sorted by class
        if shape != (28, 28):
            img = np.pad(img, ((0, shape[0] - 28), (0, shape[1] - 28)))
        out.append(np.clip(img + rng.normal(0, 0.05, img.shape).astype(np.float32), 0, 1))
    return out


def _parallel_equals_serial(call, inputs, compare):
    """call(x) -> result; serial results first, then THREADS threads each calling on every input in a shuffled
    order while another thread keeps calling keras.backend.clear_session() (as Streamlit does after each run)."""
    import keras

    serial = [call(x) for x in inputs]
    stop = threading.Event()

    def clear():
        while not stop.is_set():
            keras.backend.clear_session()
            stop.wait(0.01)

    def worker(seed):
        order = np.random.default_rng(seed).permutation(len(inputs))
        return [(int(i), call(inputs[i])) for i in order]

    clearer = threading.Thread(target=clear, daemon=True)
    clearer.start()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(worker, range(THREADS)))
    finally:
        stop.set()
        clearer.join()
    for per_thread in results:
        for i, got in per_thread:
            compare(got, serial[i])
    return serial


def test_cnn_inspector_shared_by_threads():
    from dlviz.explain import Inspector

    _needs("cnn_mnist")
    inspector = Inspector(registry.load_model("cnn_mnist"))

    def compare(a, b):
        maps_a, out_a = a
        maps_b, out_b = b
        assert maps_a.keys() == maps_b.keys()
        for k in maps_a:
            np.testing.assert_array_equal(maps_a[k], maps_b[k])
        np.testing.assert_array_equal(out_a, out_b)

    serial = _parallel_equals_serial(inspector.run, _inputs(CALLS), compare)
    assert len({int(out.argmax()) for _, out in serial}) > 1          # different inputs, different answers


def test_autoencoder_coders_shared_by_threads():
    from dlviz.coder import Coder

    _needs("ae_mnist", "vae2d_mnist")
    for name in ("ae_mnist", "vae2d_mnist"):
        coder = Coder(registry.load_model(name))

        def call(x, coder=coder):
            enc, rec = coder.reconstruct(x[None])
            return enc.code.copy(), rec.copy()

        def compare(a, b):
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])

        _parallel_equals_serial(call, _inputs(CALLS), compare)


def test_gan_sampler_shared_by_threads():
    from dlviz.gan_sampler import GanSampler

    _needs("gan_dcgan_mnist")
    sampler = GanSampler(registry.load_model("gan_dcgan_mnist"), "gan_dcgan_mnist")
    zs = [np.random.default_rng(i).standard_normal((4, 64)).astype(np.float32) for i in range(CALLS)]

    def call(z):
        images = sampler.generate(z)
        return images.copy(), np.asarray(sampler.score(images)).copy()

    def compare(a, b):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])

    _parallel_equals_serial(call, zs, compare)


def test_unet_segmenter_shared_by_threads():
    from dlviz import segmentation as seg

    _needs("seg_digits_unet")
    segmenter = seg.Segmenter(registry.load_model("seg_digits_unet"))
    inputs = _inputs(CALLS, shape=(64, 64))

    def call(x):
        return segmenter.run(x, maps=False, pad="constant").probs.copy()

    _parallel_equals_serial(call, inputs, np.testing.assert_array_equal)


# --------------------------------------------------------------------------- the timing log (bench/soak.py reads it)

def test_timing_log_writes_one_line_per_run_and_stops_when_uninstalled(tmp_path):
    """Script runs here (AppTest reruns whole scripts); fragment runs of a real server show as "kind": "fragment"
    in bench/soak.py's logs."""
    import json

    from streamlit.testing.v1 import AppTest

    from dlviz.ui import timing
    from tests.conftest import ROOT

    log = tmp_path / "timing.jsonl"
    assert timing.install(str(log)) and timing.installed()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.run()
        at.switch_page("pages/pooling.py")
        at.run()
        at.run()
        assert not at.exception
    finally:
        timing.uninstall()
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) >= 3
    assert {"t", "session", "page", "kind", "ms", "pid"} <= set(rows[-1])
    assert rows[-1]["page"] == "pooling" and rows[-1]["kind"] == "script" and rows[-1]["ms"] > 0
    if timing.rss_mb() is not None:     # Linux: each run carries the process's RSS, the same value ps reports
        assert 50 < rows[-1]["rss_mb"] < 1.5 * timing.rss_mb()
        with open("/proc/self/status") as f:
            vm_rss = next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))
        assert abs(timing.rss_mb() - vm_rss) < 0.05 * vm_rss
    assert len({r["session"] for r in rows}) == 1                      # one AppTest, one session
    at.run()                                                            # after uninstall: nothing more is logged
    assert len(log.read_text().splitlines()) == len(rows)


def test_soak_rss_trend_is_a_level_not_one_sample():
    """Two single samples of a swinging RSS say +/- 20 %; one-minute medians say whether the level moved."""
    from bench.soak import rss_trend

    flat = [(t, 1000.0 + (300.0 if t % 20 == 0 else 0.0)) for t in range(0, 600, 5)]     # spikes, no growth
    trend = rss_trend(flat, third=200, stop=595)
    assert trend["rss_median_growth_after_third_pct"] == 0.0
    growing = [(t, 1000.0 + t) for t in range(0, 600, 5)]
    trend = rss_trend(growing, third=200, stop=595)
    assert trend["rss_mb_third_median"] == 1170.0 and trend["rss_mb_end_median"] == 1565.0
    assert trend["rss_median_growth_after_third_pct"] == round(100 * 395 / 1170, 1)
    assert rss_trend(growing[:3], third=200, stop=595) == {}            # no samples in a window: no claim


def test_soak_minute_medians_show_where_a_rise_levels_off():
    from bench.soak import minute_medians

    rising_then_flat = [(t, 1000.0 + min(t, 120)) for t in range(0, 300, 5)]
    assert minute_medians(rising_then_flat, start=0, stop=300) == [1027.5, 1087.5, 1120.0, 1120.0, 1120.0]
    assert minute_medians([(10.0, 5.0)], start=0, stop=180) == [5.0]          # minutes without samples: left out
