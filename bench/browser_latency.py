"""Key press on a slider -> chart redrawn, as the user feels it: Debian's chromium (Playwright) on one page.

    python bench/browser_latency.py [--steps 30] [--url http://127.0.0.1:8501] [--only pooling] [--json]

For each scenario the slider is focused and moved one step with the keyboard (right, left, right, ...; left first
when it starts at its maximum). In the
page, a capture-phase `keydown` listener takes the time of the key, and a requestAnimationFrame loop watches every
Plotly chart in the main area until one of them shows a different figure, drawn (its SVG is in place and it has
traces). Measured per step:

- key -> chart: from the key event to the first frame with a new figure drawn (key -> all charts: the last one);
- blank: how long any chart that was drawn before the key had no drawn figure, or shrank to under half its height,
  in the meantime (Streamlit mounts a new chart element for a new figure and drops the old one: the "flash");
- draws: how many times one chart's figure was replaced before the page settled (1 = drawn once), the most of any
  chart on the page.

The server is started here (`streamlit run app.py` on a free port) unless --url is given. Numbers include the
server's rerun, the websocket, React and Plotly; on a 2-core machine the browser and the server share the cores,
so measure on a quiet machine. Without /usr/bin/chromium it says so and exits 2.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak import percentile  # noqa: E402
from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, StreamlitServer  # noqa: E402

# (name, URL path, the slider's label, a tab to open first or None)
SCENARIOS = [
    ("pooling pool size", "/pooling", "Pool size", None),
    ("pooling stride", "/pooling", "Stride", None),
    ("convolution kernel size", "/convolution", "Kernel size", "Convolution playground"),
    ("autoencoder noise amount", "/autoencoder", "Amount", "Denoising"),
    ("gan truncation", "/gan", "Truncation ψ", None),
    ("unet mask opacity", "/unet", "Mask opacity", None),
]

WATCH = """
() => {
  const main = document.querySelector('[data-testid="stMain"]');
  // the page's charts, not the hidden one that only loads Plotly early (dlviz.ui.shell.load_chart_bundle)
  const charts = () => [...main.querySelectorAll('[data-testid="stPlotlyChart"]')]
      .filter(c => !c.closest('.st-key-dlviz-chart-bundle'));
  const figureOf = (c) => { const g = c.querySelector('.js-plotly-plot');
      return g && g.querySelector('.main-svg') && g._fullData && g._fullData.length ? g : null; };
  const first = charts();
  const before = first.map(figureOf);
  const heights = first.map(c => c.getBoundingClientRect().height);
  const seen = first.map((c, i) => new Set(before[i] ? [before[i].data] : []));
  const w = {key: null, first: null, last: null, blankMs: 0, draws: first.map(() => 0)};
  window.__dlvizWatch = w;
  document.addEventListener('keydown', () => { if (w.key === null) w.key = performance.now(); },
                            {capture: true, once: true});
  let prev = performance.now();
  const frame = (now) => {
    if (w.key !== null) {
      const cs = charts();
      const figs = cs.map(figureOf);
      // blank in this frame: a chart drawn before the key has no drawn figure, or has collapsed to under half its
      // height (the new element mounted before Plotly has drawn into it)
      if (before.some((g, i) => g && (!figs[i] || cs[i].getBoundingClientRect().height < 0.5 * heights[i])))
        w.blankMs += now - prev;
      figs.forEach((g, i) => {
        if (g && seen[i] && !seen[i].has(g.data)) {
          seen[i].add(g.data); w.draws[i] += 1; w.last = now; if (w.first === null) w.first = now;
        }
      });
    }
    prev = now;
    if (now - (w.key ?? now) < 8000) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}
"""


def settle(page, quiet_ms: int = 600, timeout: float = 20.0) -> None:
    """Until Streamlit says it is not running and nothing in the main area changed for `quiet_ms`."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"] button')"
                           " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Stop')",
                           timeout=timeout * 1000)
    page.evaluate("""(quiet) => new Promise(done => {
        let t = setTimeout(() => { o.disconnect(); done(); }, quiet);
        const o = new MutationObserver(() => {
            clearTimeout(t); t = setTimeout(() => { o.disconnect(); done(); }, quiet); });
        o.observe(document.querySelector('[data-testid="stMain"]'), {subtree: true, childList: true, attributes: true});
    })""", quiet_ms)


def run_scenario(page, base: str, path: str, label: str, tab: str | None, steps: int) -> dict:
    page.goto(base + path)
    page.wait_for_selector('[data-testid="stPlotlyChart"]:visible .main-svg', timeout=90_000)
    if tab:
        page.get_by_role("tab", name=tab).click()
        settle(page)
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=label).first.locator('input[type="range"]')
    slider.wait_for(timeout=30_000)
    settle(page)
    key_ms, all_ms, blank_ms, draws, missed = [], [], [], [], 0
    at_max = slider.evaluate("e => Number(e.value) >= Number(e.max)")
    keys = ("ArrowLeft", "ArrowRight") if at_max else ("ArrowRight", "ArrowLeft")
    for i in range(steps):
        settle(page)
        page.evaluate(WATCH)
        slider.focus()
        page.keyboard.press(keys[i % 2])
        try:
            page.wait_for_function("() => window.__dlvizWatch.first !== null", timeout=15_000)
        except Exception:
            missed += 1
            continue
        settle(page)
        w = page.evaluate("() => window.__dlvizWatch")
        key_ms.append(w["first"] - w["key"])
        all_ms.append(w["last"] - w["key"])
        blank_ms.append(w["blankMs"])
        draws.append(max(w["draws"]))
    return {"steps": len(key_ms), "missed": missed, **summary("key_to_chart_ms", key_ms),
            **summary("key_to_all_charts_ms", all_ms),
            **summary("blank_ms", blank_ms), "steps_with_blank": sum(b > 0 for b in blank_ms),
            "draws_per_step": round(statistics.mean(draws), 2) if draws else None}


def summary(name: str, values: list[float]) -> dict:
    return {f"{name}_p50": percentile(values, 50), f"{name}_p95": percentile(values, 95),
            f"{name}_max": percentile(values, 100)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--url", help="a running app (default: start one here)")
    ap.add_argument("--only", help="run the scenarios whose name contains this")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"needs {CHROMIUM} (Debian's chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    server = None
    if not args.url:
        server = StreamlitServer(Path(tempfile.mkdtemp()) / "streamlit.log")
        server.start()
    base = args.url or server.url
    results = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for name, path, label, tab in SCENARIOS:
                if args.only and args.only not in name:
                    continue
                started = time.monotonic()
                results[name] = run_scenario(page, base, path, label, tab, args.steps)
                results[name]["wall_s"] = round(time.monotonic() - started, 1)
                if not args.json:
                    print(name, results[name], flush=True)
            browser.close()
    finally:
        if server:
            server.stop()
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
