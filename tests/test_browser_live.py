"""Live training in a real browser (Debian's chromium via Playwright): on each model page, start a run, watch the
figures change for a few seconds, pause (the step holds), step one batch, stop. Screenshots: artifacts/live_*.png.

The polling fragment reruns every 0.2 s while a run trains, so the page is never "settled" for long: these tests
read the status line and compare screenshots instead of waiting for quiet.
"""
from __future__ import annotations

import json
import os
import re
import time

import pytest

from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, ROOT, App, StreamlitServer, require_browser

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
VIEWPORT = {"width": 1400, "height": 1000}
STEP = re.compile(r"step ([\d,]+) of ([\d,]+)")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    require_browser()
    from playwright.sync_api import sync_playwright

    srv = StreamlitServer(tmp_path_factory.mktemp("streamlit") / "streamlit.log")
    try:
        srv.start(timeout=120)
    except RuntimeError as e:
        srv.stop()
        pytest.fail(str(e))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            a = App(page, srv.url)
            a.js_errors = errors
            yield a
            browser.close()
    finally:
        if os.environ.get("DLVIZ_SHOW_SERVER_LOG"):
            print(srv.log()[-5000:])
        srv.stop()


def step_now(app: App) -> tuple[int, str]:
    """(step, status line) from the live view's status line."""
    text = app.main_text()
    m = STEP.search(text)
    assert m, f"no status line in the page: {text[-600:]}"
    line = text[max(0, m.start() - 40):m.end() + 40]
    return int(m.group(1).replace(",", "")), line


def wait_step(app: App, at_least: int, timeout: float = 180) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            step, _ = step_now(app)
        except AssertionError:
            step = -1
        if step >= at_least:
            return step
        assert time.monotonic() < deadline, f"step {step} < {at_least} after {timeout} s: {app.main_text()[-800:]}"
        app.page.wait_for_timeout(250)


def wait_text(app: App, text: str, timeout: float = 30) -> None:
    """Until the main area's visible text contains `text`."""
    app.page.wait_for_function("(t) => document.querySelector('[data-testid=\"stMain\"]').innerText.includes(t)",
                               arg=text, timeout=timeout * 1000)


def click(app: App, key: str) -> None:
    """Click a keyed button. The polling redraws can swap elements under Playwright's actionability checks, so
    the click is dispatched on whatever button carries the key at that instant."""
    selector = f".st-key-{key.replace('.', '-')} button"
    app.page.locator(selector).first.wait_for()
    assert app.page.evaluate("(sel) => { const all = document.querySelectorAll(sel); const b = all[all.length - 1];"
                             " if (!b || b.disabled) return false; b.click(); return true; }", selector), \
        f"{selector} missing or disabled"


def box_of(app: App, selector: str) -> dict:
    """Where the figure `selector` is on the screen. Each redraw may swap the element (Streamlit identifies a
    Plotly chart by its content), so retry until one stays long enough; the layout itself does not move."""
    for _ in range(100):
        box = app.page.evaluate("""(sel) => { const e = document.querySelector(sel);
            if (!e) return null; const r = e.getBoundingClientRect();
            return r.width > 0 ? {x: r.x, y: r.y, width: r.width, height: r.height} : null; }""", selector)
        if box:
            return box
        app.page.wait_for_timeout(100)
    raise AssertionError(f"{selector} never showed up")


def live_tab(app: App, path: str) -> None:
    app.goto(path, timeout=180_000)
    app.open_tab("Live training")
    app.page.locator(".st-key-live-" + {"/gan": "gan2d", "/convolution": "cnn", "/autoencoder": "latent"}[path]
                     + "-start button").wait_for()


def watch(app: App, kind: str, chart: str, name: str) -> dict:
    """Start, watch the figures change, pause, step, stop; screenshots along the way."""
    ARTIFACTS.mkdir(exist_ok=True)
    click(app, f"live.{kind}.start")
    first = wait_step(app, 3)
    box_of(app, chart)                                  # the run's first pictures are on the page
    app.page.evaluate("(sel) => document.querySelector(sel).scrollIntoView({block: 'center'})", chart)
    app.page.wait_for_timeout(300)
    box = box_of(app, chart)
    button = app.page.locator(f".st-key-live-{kind}-pause button").last.element_handle()
    picture = app.page.locator(chart).last.element_handle()
    before = app.page.screenshot(clip=box)
    app.page.wait_for_timeout(2500)
    later = wait_step(app, first + 2)
    after = app.page.screenshot(clip=box)
    assert before != after, "the figure did not change while the run trained"
    # redraws swap pixels, not elements: the same <img> and button nodes are still on the page
    attached = {"button": app.page.evaluate("(e) => e.isConnected", button),
                "picture": app.page.evaluate("(e) => e.isConnected", picture)}
    app.page.screenshot(path=str(ARTIFACTS / f"live_{name}_running.png"))

    click(app, f"live.{kind}.pause")
    wait_text(app, "paused · step")
    paused, _ = step_now(app)
    app.page.wait_for_timeout(1500)
    assert step_now(app)[0] == paused, "the step moved while paused"
    click(app, f"live.{kind}.step")
    stepped = wait_step(app, paused + 1, timeout=30)
    app.page.wait_for_timeout(1000)
    assert step_now(app)[0] == stepped == paused + 1, (paused, stepped, step_now(app))
    app.full_screenshot(ARTIFACTS / f"live_{name}_paused.png")
    click(app, f"live.{kind}.stop")
    wait_text(app, "stopped by you")
    return {"first": first, "later": later, "paused": paused, "stays_attached": attached}


def test_gan_page_trains_dcgan_and_wgan_side_by_side(app):
    live_tab(app, "/gan")
    steps = watch(app, "gan2d", ".st-key-live-gan-dcgan img", "gan")
    assert "DCGAN (binary cross-entropy), step" in app.main_text()
    assert any(t.startswith("Modes covered (of 8)") for t in app.page.locator(".gtitle").all_text_contents())
    assert not app.js_errors, app.js_errors
    (ARTIFACTS / "live_browser.json").write_text(json.dumps({"gan": steps}))


def test_convolution_page_trains_a_cnn_from_scratch(app):
    live_tab(app, "/convolution")
    steps = watch(app, "cnn", ".st-key-live-cnn-maps1 img", "cnn")
    assert "Prediction:" in app.main_text()
    assert not app.js_errors, app.js_errors
    assert steps["later"] > steps["first"]


def test_autoencoder_page_forms_a_latent_space(app):
    live_tab(app, "/autoencoder")
    steps = watch(app, "latent", ".st-key-live-latent-scatter img", "latent")
    assert "codes (μ) of 500 test images" in app.main_text()
    assert not app.js_errors, app.js_errors
    assert steps["later"] > steps["first"]
