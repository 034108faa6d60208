"""Your own model and "Why this class?": benchmarks, gathered by bench/interactions.py (`--page why`), and a
standalone run for what happens once per upload (`python bench/own_model.py`).

Targets (2 cores): the Why tab's opacity slider ≤ 100 ms p95 (the maps are kept, only the overlay is redrawn); a
new class ≤ 1 s p95 for the shipped CNN (Grad-CAM + gradients + SmoothGrad 24 + integrated gradients 32);
checking and loading an uploaded lecture-size model ≤ 2 s.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.interactions import ModelCall, Scenario  # noqa: E402

PAGE = "pages/convolution.py"
WHY = [("session_state", "conv.tab", "Why this class? (Grad-CAM, saliency)")]

SCENARIOS = [
    Scenario("why: overlay opacity", PAGE, ("slider", "why.opacity"), (0.3, 0.5, 0.8), setup=WHY, naive=None,
             note="maps cached in the session: only the four overlays are redrawn"),
    Scenario("why: explain another class", PAGE, ("selectbox", "why.class.*"), (1, 2, 3, 4), setup=WHY, naive=None,
             note="Grad-CAM, gradients, SmoothGrad (24 samples), integrated gradients (32 steps)"),
]


def _saliency_calls(method: str):
    def build():
        from dlviz import registry, saliency

        model = registry.load_model("cnn_mnist")
        x = registry.load_samples("mnist")[0][0].astype("float32")[..., None] / 255.0
        calls = {"grad_cam": lambda: saliency.grad_cam(model, x, 3, "conv6"),
                 "gradients": lambda: saliency.vanilla_gradients(model, x, 3),
                 "smoothgrad": lambda: saliency.smoothgrad(model, x, 3),
                 "integrated": lambda: saliency.integrated_gradients(model, x, 3)}
        return calls[method], None
    return build


MODEL_CALLS = [ModelCall(f"why: cnn_mnist {m}", PAGE, _saliency_calls(m))
               for m in ("grad_cam", "gradients", "smoothgrad", "integrated")]


def _median_ms(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times), sorted(times)[max(0, int(0.95 * len(times)) - 1)]


def main(runs: int = 10) -> None:
    """Once per upload: check + load, Inspector (per session, no XLA), then one forward pass and one arithmetic."""
    import keras

    from dlviz import explain, saliency
    from dlviz.user_model import load_user_model
    from tests.test_user_model import bn_strided, nested, rgb_cnn

    print("| model | file KB | check + load ms | Inspector build ms | run median / p95 ms | arithmetic ms |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        builds = [("rgb 32×32", rgb_cnn), ("bn+strides 64×64", bn_strided), ("nested 28×28", nested)]
        for name, build in builds:
            path = Path(d) / "m.keras"
            build().save(path)
            data = path.read_bytes()
            t0 = time.perf_counter()
            m = load_user_model(data, "m.keras")
            load_ms = 1000 * (time.perf_counter() - t0)
            t0 = time.perf_counter()
            inspector = explain.Inspector(m.model, xla=False)
            build_ms = 1000 * (time.perf_counter() - t0)
            x = np.random.default_rng(0).random(m.input_shape).astype("float32")
            med, p95 = _median_ms(lambda: inspector.run(x), runs)
            maps, _ = inspector.run(x)
            layer = inspector.names[0]
            ch, r, c = explain.strongest_cell(maps[layer])
            explain.output_arithmetic(inspector, x, maps, layer, r, c, ch)       # first call builds nothing more
            arith, _ = _median_ms(lambda: explain.output_arithmetic(inspector, x, maps, layer, r, c, ch), runs)
            print(f"| {name} | {len(data) // 1024} | {load_ms:.0f} | {build_ms:.0f} | {med:.1f} / {p95:.1f} "
                  f"| {arith:.1f} |")
    print("\n| MobileNetV2 1.0 224 (random weights) | ms median / p95 |")
    print("|---|---|")
    model = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    t0 = time.perf_counter()
    inspector = explain.Inspector(model, xla=False)
    print(f"| Inspector build | {1000 * (time.perf_counter() - t0):.0f} |")
    x = np.random.default_rng(0).uniform(-1, 1, (224, 224, 3)).astype("float32")
    inspector.run(x)
    for label, fn in (("run (52 conv maps + output)", lambda: inspector.run(x)),
                      ("Grad-CAM Conv_1", lambda: saliency.grad_cam(model, x, 1, "Conv_1")),
                      ("SmoothGrad 8 (the page's count at this size)", lambda: saliency.smoothgrad(model, x, 1, 8)),
                      ("integrated gradients 16", lambda: saliency.integrated_gradients(model, x, 1, 16))):
        fn()
        med, p95 = _median_ms(fn, max(3, runs // 3))
        print(f"| {label} | {med:.0f} / {p95:.0f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
