"""Live training (issue 11): how fast runs train and publish, what a redraw costs, and what a run costs others.

    .venv/bin/python bench/live.py                        # every task 8 s, 30 interactions per condition
    .venv/bin/python bench/live.py --seconds 5 --runs 20 --json artifacts/live.json
    .venv/bin/python bench/live.py --only cnn --no-interactions

Per live task (in this process, in the runner's thread, as on a server):
- start-up: from `LiveRun.start()` to the first snapshot with arrays (building the model, tracing its step);
- steps/s and *updates/s*: snapshots the runner published per second while a page-like poller read it every
  0.2 s (the page redraws at most 5 times a second: updates/s ≥ 5 means every redraw shows a new state);
- snapshot cost: what one `task.snapshot()` costs the training thread (median, p95);
- figure cost: building the view's pictures (PNG) and Plotly figures from one snapshot, as the page does on every redraw (median,
  p95), and their JSON size (what each redraw sends to the browser).
Then *a second session's interactions* (AppTest reruns of the GAN page's "timeline point" slider, the harness of
bench/interactions.py) without a run, and while a CNN and a GAN run train: median and p95.
The load average is printed: background jobs on the 2 cores change every number here.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

POLL = 0.2


def stats(values) -> dict[str, float]:
    a = np.asarray(values, float)
    if len(a) == 0:
        return {"median": float("nan"), "p95": float("nan"), "n": 0}
    return {"median": float(np.median(a)), "p95": float(np.percentile(a, 95)), "n": int(len(a))}


def tasks():
    from dlviz.live import cnn, gan2d, latent

    return {
        "cnn": lambda: cnn.CnnTask(cnn.CnnSettings(), image=_digit()),
        "dense_shuffled": lambda: cnn.CnnTask(cnn.CnnSettings(architecture="dense", shuffle_pixels=True),
                                              image=_digit()),
        "vae": lambda: latent.LatentTask(latent.LatentSettings(kind="vae")),
        "gan2d": lambda: gan2d.Gan2dTask(gan2d.Gan2dSettings(target="ring")),
    }


def _digit() -> np.ndarray:
    from dlviz.live.data import load_live_data

    return load_live_data("mnist")["x_test"][0] / 255.0


def figures_of(name: str, snap) -> list:
    """The figures the page builds from one snapshot (the same calls as dlviz/ui/live.py's _draw_*)."""
    from dlviz.datasets import get_dataset
    from dlviz.figures import live as lfig
    from dlviz.live import gan2d, latent

    a, h = snap.arrays, snap.history
    classes = get_dataset("mnist").classes
    if name in ("cnn", "dense_shuffled"):
        figs = [lfig.image_png(a["input"], 7), lfig.probabilities(a["probs"], classes),
                lfig.curves({"acc": h["accuracy"]}, snap.max_steps, sparse={"test": (a["test_steps"],
                                                                                  a["test_accuracy"])}),
                lfig.curves({"loss": h["loss"]}, snap.max_steps)]
        if a["architecture"] == "cnn":
            figs += [lfig.tiles_png(a["kernels"], signed=True, cols=4, tile_px=60),
                     lfig.tiles_png(a["maps"]["conv1"], cols=4), lfig.tiles_png(a["maps"]["conv2"], tile_px=70)]
        else:
            figs.append(lfig.tiles_png(a["unit_weights"], signed=True, tile_px=90))
        return figs
    if name == "vae":
        return [lfig.latent_png(a["codes"], a["labels"], classes)[0],
                lfig.mosaic_png(a["grid"], latent.GRID, latent.GRID),
                lfig.curves({"rec": h["reconstruction"], "kl": h["kl"]}, snap.max_steps, log_y=True)]
    figs = [lfig.gan_field_png(a["axis"], a[k]["surface"], a["real"], a[k]["fake"], a[k]["arrows"],
                               critic=k == "wgan_gp", modes=a["modes"]) for k in gan2d.LOSSES]
    figs += [lfig.curves({"d": h["dcgan_d_loss"], "g": h["dcgan_g_loss"]}, snap.max_steps),
             lfig.curves({"d": h["wgan_gp_d_loss"], "g": h["wgan_gp_g_loss"]}, snap.max_steps),
             lfig.modes_over_time(a["mode_steps"], {k: a[k]["modes"] for k in gan2d.LOSSES}, 8, snap.max_steps)]
    return figs


def bench_task(name: str, make, seconds: float) -> dict:
    from dlviz.live.runner import LiveRun, RunPool

    run = LiveRun(make, RunPool(1), idle_seconds=None).start()
    t0 = time.perf_counter()
    first = run.wait_for(lambda s: bool(s.arrays) and s.step >= 1, timeout=300)
    startup = time.perf_counter() - t0
    serials, publish_ms, figure_ms, sizes = set(), [], [], []
    start_snap, started = run.snapshot(), time.perf_counter()
    while time.perf_counter() - started < seconds:
        snap = run.snapshot()
        if snap.serial not in serials:
            serials.add(snap.serial)
            publish_ms.append(snap.seconds_to_publish * 1000)
            f0 = time.perf_counter()
            figs = figures_of(name, snap)
            figure_ms.append((time.perf_counter() - f0) * 1000)
            if len(sizes) < 5:
                sizes.append(sum(len(f) if isinstance(f, bytes) else len(f.to_json()) for f in figs))
        time.sleep(max(0.0, POLL - (time.perf_counter() - started) % POLL))
    end_snap, elapsed = run.snapshot(), time.perf_counter() - started
    run.stop()
    run.join(30)
    return {"task": name, "startup_s": round(startup, 2), "first_step": first.step,
            "steps_per_s": (end_snap.step - start_snap.step) / elapsed,
            "published_per_s": (end_snap.serial - start_snap.serial) / elapsed,
            "redraws_with_news_per_s": len(serials) / elapsed,
            "snapshot_ms": stats(publish_ms), "figures_ms": stats(figure_ms),
            "json_kb_per_redraw": float(np.mean(sizes)) / 1024 if sizes else float("nan")}


def bench_interactions(runs: int, duty: float = 1.0) -> list[dict]:
    from bench.gan import SCENARIOS as GAN_SCENARIOS
    from bench.interactions import quiet_streamlit_logs, run_scenario
    from dlviz.live.runner import LiveRun, RunPool

    quiet_streamlit_logs()
    scenario = next(s for s in GAN_SCENARIOS if "timeline point" in s.name)
    out = []
    for condition in ("no run", "cnn", "gan2d"):
        run = None
        if condition != "no run":
            run = LiveRun(tasks()[condition], RunPool(1), idle_seconds=None, duty=duty).start()
            run.wait_for(lambda s: bool(s.arrays) and s.step >= 1, timeout=300)
        before = run.snapshot().step if run else 0
        t0 = time.perf_counter()
        result = run_scenario(scenario, runs)
        steps = (run.snapshot().step - before) / (time.perf_counter() - t0) if run else 0.0
        if run:
            run.stop()
            run.join(30)
        out.append({"scenario": scenario.name, "while": condition, "duty": duty, "interaction_ms": stats(result.total_ms),
                    "run_steps_per_s_meanwhile": steps})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--only", help="one task: cnn, dense_shuffled, vae, gan2d")
    p.add_argument("--no-interactions", action="store_true")
    p.add_argument("--no-tasks", action="store_true")
    p.add_argument("--duty", type=float, default=1.0, help="the runs' duty cycle during the interaction bench")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    report = {"loadavg_before": os.getloadavg(), "tasks": [], "interactions": []}
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    print("| task | start-up s | steps/s | snapshots published/s | redraws with news/s | snapshot ms p50/p95 | "
          "figures ms p50/p95 | KB per redraw |\n|---|---|---|---|---|---|---|---|", flush=True)
    for name, make in tasks().items():
        if args.only and name != args.only or args.no_tasks:
            continue
        r = bench_task(name, make, args.seconds)
        report["tasks"].append(r)
        print(f"| {name} | {r['startup_s']:.1f} | {r['steps_per_s']:.1f} | {r['published_per_s']:.1f} | "
              f"{r['redraws_with_news_per_s']:.1f} | {r['snapshot_ms']['median']:.1f} / {r['snapshot_ms']['p95']:.1f} | "
              f"{r['figures_ms']['median']:.1f} / {r['figures_ms']['p95']:.1f} | {r['json_kb_per_redraw']:.0f} |",
              flush=True)
    if not args.no_interactions:
        print("\n| second session's interaction | while | median ms | p95 ms | run's steps/s meanwhile |\n"
              "|---|---|---|---|---|", flush=True)
        for r in bench_interactions(args.runs, args.duty):
            report["interactions"].append(r)
            s = r["interaction_ms"]
            print(f"| {r['scenario']} | {r['while']} (duty {r['duty']:g}) | {s['median']:.1f} | {s['p95']:.1f} | "
                  f"{r['run_steps_per_s_meanwhile']:.1f} |", flush=True)
    report["loadavg_after"] = os.getloadavg()
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
