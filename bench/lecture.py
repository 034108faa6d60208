"""Costs of the lecture-hall features, per call: `python bench/lecture.py [--runs N]`.

* `t()` in English and in Korean (every label of every run goes through it);
* presenter mode's restyle of a finished figure (`dlviz.figures.style.presenter`), applied to every chart shown;
* the exports of a Pooling-like view: `.npz` of its arrays and the self-contained `.html` (time and size).

Figures are built from random arrays of the pages' sizes; no model runs. Medians and p95 in a markdown table.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dlviz import figures, i18n  # noqa: E402
from dlviz.figures.style import presenter  # noqa: E402


def timed(fn, runs: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def pooling_view() -> dict:
    rng = np.random.default_rng(0)
    x = rng.random((28, 28))
    return {
        "pool.stages": figures.stages_strip([(f"s{i}", rng.random((28, 28))) for i in range(5)]),
        "pool.side": figures.side_by_side([("in", x), ("max", x[::2, ::2]), ("avg", x[::2, ::2]),
                                           ("conv", x[::2, ::2]), ("gap", np.array([[0.3]]))], shared_scale=True),
        "pool.gap": figures.bars(rng.random(16), [f"#{i}" for i in range(16)], "gap"),
        "pool.grids": figures.number_grids([dict(values=rng.random((6, 6)), strong=(1, 1)),
                                            dict(values=rng.random((3, 3)), clickable=True),
                                            dict(values=rng.random((3, 3)), clickable=True)],
                                           ["in", "max", "average"], widths=(3, 2, 2)),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args(argv)
    rows = []
    for lang in ("en", "ko"):
        i18n.set_language(lang)
        rows.append((f"t() plain, {lang}", *timed(lambda: i18n.t("Pool size"), args.runs * 50)))
        rows.append((f"t() with fields, {lang}", *timed(
            lambda: i18n.t("Output size: rows {rows}, columns {cols}", rows=3, cols=4), args.runs * 50)))
    i18n.set_language("en")
    rng = np.random.default_rng(1)
    cases = {
        "feature-map grid, 64 maps 7×7": figures.map_grid(rng.random((7, 7, 64))),
        "feature-map grid, 16 maps 28×28": figures.map_grid(rng.random((28, 28, 16))),
        "number grid 6×6": figures.number_grid(rng.random((6, 6)), "t", strong=(1, 1)),
        "probability bars": figures.probability_bars(rng.dirichlet(np.ones(10)), [str(i) for i in range(10)]),
    }
    for name, fig in cases.items():
        rows.append((f"presenter(): {name}", *timed(lambda fig=fig: presenter(fig), args.runs)))

    from dlviz.ui.charts import ViewRecord, html_snapshot, npz_bytes

    record = ViewRecord(page="Pooling", url="http://localhost/pooling?pool.size=3")
    record.figures.update(pooling_view())
    npz = npz_bytes(record)
    html = html_snapshot(record, "dlviz: Pooling", "made")
    rows.append((f"export .npz ({len(npz) / 1024:.0f} KB)", *timed(lambda: npz_bytes(record), max(10, args.runs // 10))))
    rows.append((f"export .html ({len(html) / 2**20:.1f} MB, plotly.js inlined)",
                 *timed(lambda: html_snapshot(record, "dlviz: Pooling", "made"), max(10, args.runs // 20))))
    print("| what | median ms | p95 ms |\n|---|---:|---:|")
    for name, med, p95 in rows:
        print(f"| {name} | {med:.4f} | {p95:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
