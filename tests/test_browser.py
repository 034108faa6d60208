"""The app in a real browser (Debian's chromium through Playwright): draw, click, upload, switch pages.

Screenshots go to artifacts/ (look at them). Locally the tests skip without /usr/bin/chromium; CI sets
DLVIZ_REQUIRE_BROWSER=1 so a missing browser fails instead.
"""
import io
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser

if not os.path.exists(CHROMIUM):
    if os.environ.get("DLVIZ_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{CHROMIUM} is missing and DLVIZ_REQUIRE_BROWSER=1 (apt-get install chromium)",
                    pytrace=False)
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)

# Handwriting as pen strokes in unit coordinates (x right, y down), drawn with the mouse on the canvas.
DIGITS = {
    "1": [[(0.45, 0.22), (0.55, 0.14), (0.55, 0.86)]],
    "0": [[(0.5 + 0.22 * math.sin(t), 0.5 - 0.32 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 40)]],
    "7": [[(0.27, 0.2), (0.73, 0.2), (0.45, 0.86)]],
    "4": [[(0.55, 0.14), (0.25, 0.6), (0.75, 0.6)], [(0.62, 0.35), (0.62, 0.88)]],
    "3": [[(0.3 + 0.2 * math.sin(t), 0.32 - 0.16 * math.cos(t)) for t in np.linspace(-1.8, 3.1, 25)]
          + [(0.5 + 0.23 * math.sin(t), 0.67 - 0.18 * math.cos(t)) for t in np.linspace(0.0, 4.4, 25)]],
    "2": [[(0.3 + 0.2 * math.sin(t) + 0.2, 0.35 - 0.18 * math.cos(t)) for t in np.linspace(-1.6, 2.2, 20)]
          + [(0.28, 0.84), (0.76, 0.84)]],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    log = open(ARTIFACTS.mkdir(exist_ok=True) or ARTIFACTS / "streamlit.log", "w")
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("DLVIZ_PRETRAINED", None)          # the project's own weights
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            pass
        if time.time() > deadline or proc.poll() is not None:
            raise RuntimeError("streamlit did not start:\n" + (ARTIFACTS / "streamlit.log").read_text())
        time.sleep(0.3)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(10)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def settle(pg, extra_ms: int = 300) -> None:
    """Wait until Streamlit has finished rerunning."""
    pg.wait_for_timeout(200)
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    pg.wait_for_timeout(extra_ms)


def prediction(pg) -> str:
    for t in pg.locator(".gtitle").all_text_contents():
        if t.startswith("Prediction:"):
            return t
    return ""


def wait_prediction_change(pg, before: str) -> str:
    pg.wait_for_function(
        "(before) => [...document.querySelectorAll('.gtitle')].some(e => e.textContent.startsWith('Prediction:')"
        " && e.textContent !== before)", arg=before, timeout=60_000)
    settle(pg)
    return prediction(pg)


def open_page(pg, url: str) -> None:
    pg.goto(url)
    pg.wait_for_selector(".gtitle", timeout=90_000)
    settle(pg, 800)


def canvas_box(pg):
    """The drawing canvas' box; after Clear the canvas is remounted, so retry until the new one is stable."""
    for _ in range(50):
        try:
            canvas = pg.locator("canvas.upper-canvas").first
            canvas.wait_for(state="visible", timeout=10_000)
            canvas.scroll_into_view_if_needed(timeout=2_000)
            box = canvas.bounding_box(timeout=2_000)
            if box and box["width"] > 100:
                return box
        except Exception:   # detached between lookup and use while Streamlit swaps it
            pass
        pg.wait_for_timeout(200)
    raise AssertionError("no drawing canvas on the page")


def draw(pg, strokes) -> None:
    box = canvas_box(pg)
    for stroke in strokes:
        x0, y0 = stroke[0]
        pg.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
        pg.mouse.down()
        for x, y in stroke[1:]:
            pg.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=4)
        pg.mouse.up()


def clear_canvas(pg) -> None:
    pg.get_by_role("button", name="Clear").click()
    settle(pg, 1000)      # the canvas is remounted: strokes sent before it is live would be lost


def test_home_page_links_every_page(page, server):
    page.goto(server)
    page.wait_for_selector("h1")
    settle(page)
    assert page.locator("h1").first.text_content().strip() == "dlviz"
    from dlviz.catalog import PAGES

    for p in PAGES:
        assert page.get_by_role("link", name=p.title).count() >= 1
    page.screenshot(path=ARTIFACTS / "home.png")


def test_drawn_digits_are_recognised_and_feature_maps_render(page, server):
    open_page(page, f"{server}/convolution")
    results = {}
    for i, (digit, strokes) in enumerate(DIGITS.items()):
        if i:
            clear_canvas(page)
            assert prediction(page) == ""          # an empty canvas is a hint, not a prediction
            assert page.get_by_text("Draw a digit", exact=False).count() >= 1
        before = prediction(page)
        draw(page, strokes)
        results[digit] = wait_prediction_change(page, before)
        page.screenshot(path=ARTIFACTS / f"draw_{digit}.png")
    print("drawn digit -> prediction:", results)
    (ARTIFACTS / "drawn_digits.txt").write_text("\n".join(f"{d}: {p}" for d, p in results.items()) + "\n")
    recognised = [d for d, p in results.items() if p.startswith(f"Prediction: {d} ")]
    assert {"1", "0", "7"} <= set(recognised), results
    assert len(recognised) >= len(DIGITS) - 1, results
    # feature maps: the map grid shows one titled tile per conv1 map (16), drawn as a heatmap
    tiles = page.evaluate("() => Math.max(...[...document.querySelectorAll('.js-plotly-plot')]"
                          ".filter(g => (g.data || []).some(t => t.type === 'heatmap'))"
                          ".map(g => (g.layout.annotations || []).filter(a => /^#\\d+$/.test(a.text)).length))")
    assert tiles >= 16, tiles


def _map_cell_position(pg, channel: int, row: int, col: int) -> tuple[float, float]:
    """Page coordinates of cell (row, col) of map `channel` in the clickable feature-map grid: the point whose
    customdata is (channel, row, col, value), located through the plot's own axes."""
    pos = pg.evaluate("""([channel, row, col]) => {
        for (const gd of document.querySelectorAll('.js-plotly-plot')) {
            for (const t of (gd._fullData || [])) {
                if (t.type !== 'scatter' || !t.customdata || t.customdata.length < 100) continue;
                for (let i = 0; i < t.customdata.length; i++) {
                    const d = t.customdata[i];
                    if (d[0] === channel && d[1] === row && d[2] === col) {
                        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
                        return [r.left + xa._offset + xa.l2p(t.x[i]), r.top + ya._offset + ya.l2p(t.y[i])];
                    }
                }
            }
        }
        return null;
    }""", [channel, row, col])
    assert pos, f"no clickable cell ({channel}, {row}, {col}) on the page"
    return tuple(pos)


def test_clicking_a_feature_map_pixel_explains_that_value(page, server):
    open_page(page, f"{server}/convolution")
    before = prediction(page)
    draw(page, DIGITS["7"])
    wait_prediction_change(page, before)
    page.get_by_text("One value, step by step").scroll_into_view_if_needed()
    settle(page, 500)
    x, y = _map_cell_position(page, 5, 9, 12)
    page.mouse.move(x, y)
    page.wait_for_timeout(500)           # plotly picks the point under the pointer on hover
    page.mouse.down()
    page.mouse.up()
    page.wait_for_function("() => [...document.querySelectorAll('li, p')].some(e => "
                           "e.textContent.includes('[9, 12], map 5'))", timeout=60_000)
    settle(page)
    values = [page.get_by_label(label, exact=True).input_value() for label in ("Map (channel)", "Row", "Column")]
    assert values == ["5", "9", "12"], values
    assert page.get_by_text("✓ equals", exact=False).count() >= 1
    page.get_by_text("One value, step by step").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "convolution_click.png")


def _png(draw_fn, size=(400, 300), background=235) -> bytes:
    img = Image.new("L", size, background)
    draw_fn(ImageDraw.Draw(img))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_upload_then_bad_upload_then_pooling_keeps_the_input(page, server, tmp_path):
    open_page(page, f"{server}/convolution")
    page.get_by_role("tab", name="Upload").click()
    seven = tmp_path / "seven_on_paper.png"
    seven.write_bytes(_png(lambda d: (d.line([(140, 60), (270, 60)], fill=25, width=22),
                                      d.line([(270, 60), (185, 250)], fill=25, width=22))))
    before = prediction(page)
    page.locator('input[type="file"]').set_input_files(str(seven))
    after = wait_prediction_change(page, before)
    assert after.startswith("Prediction: 7 "), after
    page.screenshot(path=ARTIFACTS / "convolution_upload.png")

    notes = tmp_path / "notes.png"
    notes.write_text("shopping list: milk, eggs")
    page.locator('input[type="file"]').set_input_files(str(notes))
    page.wait_for_selector("text=previous input is still in use", timeout=60_000)
    settle(page)
    assert "notes.png" in page.locator('[data-testid="stAlert"]').first.text_content()
    assert prediction(page) == after
    page.screenshot(path=ARTIFACTS / "convolution_bad_upload.png")

    page.get_by_role("link", name="Pooling").first.click()
    page.wait_for_selector("text=The numbers", timeout=60_000)
    settle(page, 800)
    assert page.get_by_text("seven_on_paper.png", exact=False).count() >= 1       # same input on this page
    formula = page.get_by_text("Output size for every window operation", exact=False).first.text_content()
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="Pool size").locator('[role="slider"], input')
    slider.first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(before) => ![...document.querySelectorAll('p')].some(e => e.textContent === before)",
                           arg=formula, timeout=60_000)
    settle(page)
    new_formula = page.get_by_text("Output size for every window operation", exact=False).first.text_content()
    assert "3) / 3⌋" in new_formula or "3) / 2⌋" in new_formula, new_formula
    page.screenshot(path=ARTIFACTS / "pooling.png")


def test_readme_screenshot(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    open_page(pg, f"{server}/convolution")
    before = prediction(pg)
    draw(pg, DIGITS["4"])
    wait_prediction_change(pg, before)
    pg.mouse.wheel(0, 300)
    pg.wait_for_timeout(500)
    pg.screenshot(path=ARTIFACTS / "readme.png")
    context.close()
