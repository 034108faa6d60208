"""dlviz in a real browser: Debian's chromium driven by Playwright against `streamlit run app.py`.

What AppTest cannot do: draw on the canvas with a mouse, click a Plotly feature map, upload through the file
input, move a slider with the keyboard, switch pages in one browser session. The tests share one server and one
browser session and run in file order, like a student's visit: home, draw digits, click a map pixel, upload,
switch to Pooling. Each test still sets up the input it needs, so any one of them can run alone (-k).

Screenshots go to artifacts/ (the README's picture is artifacts/readme.png). Needs /usr/bin/chromium: without it
the tests skip, unless DLVIZ_REQUIRE_BROWSER=1 (CI), where they fail.
"""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.browser_helpers import (CHROMIUM, CHROMIUM_ARGS, DIGITS, ROOT, App, StreamlitServer, predicted_class,
                                   require_browser, require_models)

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
VIEWPORT = {"width": 1400, "height": 1000}
EMPTY_HINT = "Draw a digit on the canvas"
DRAWN = ["1", "0", "7", "2", "5", "6", "8", "9", "3", "4"]   # every digit; the last one is not a 7 (upload test)
# A garment drawn white on black like the training data: trousers, two legs joined at the waist.
TROUSERS = [[(0.40, 0.12), (0.60, 0.12)], [(0.40, 0.12), (0.38, 0.50), (0.36, 0.88)],
            [(0.60, 0.12), (0.62, 0.50), (0.64, 0.88)], [(0.45, 0.14), (0.44, 0.40)], [(0.55, 0.14), (0.56, 0.40)]]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()
    require_models(["cnn_mnist"], "python -m dlviz.train cnn --dataset mnist")
    srv = StreamlitServer(tmp_path_factory.mktemp("streamlit") / "streamlit.log")
    try:
        srv.start(timeout=90)
    except RuntimeError as e:
        srv.stop()
        pytest.fail(str(e))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def app(browser, server):
    """One page, one Streamlit session, shared by the tests (session state carries over as for a real user)."""
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    a = App(page, server.url)
    a.js_errors = errors
    yield a
    page.close()


@pytest.fixture(autouse=True)
def _server_log_on_failure(request, server):
    """Print the streamlit log (the app's tracebacks land there) after a failed test; pytest shows it."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        print(f"\n----- streamlit log ({server.log_path}) -----\n{server.log()[-20_000:]}")


# --------------------------------------------------------------------------- helpers

def on_page(app: App, path: str, heading: str) -> None:
    """Make sure the browser shows `path` (navigating inside the session when possible)."""
    if not app.page.url.startswith(app.base_url):
        app.goto(path)
    elif app.page.locator("h1").first.text_content() != heading:
        app.switch_page({"/convolution": "Convolution", "/pooling": "Pooling", "/": "Home"}[path])
    app.page.get_by_role("heading", name=heading, level=1).wait_for()


def ensure_drawing(app: App, digit: str = "3") -> str:
    """The Convolution page with a drawn digit as the current input; returns the prediction."""
    on_page(app, "/convolution", "Convolution & feature maps")
    if "Current input: your drawing" not in app.main_text():
        app.clear_canvas()
        app.draw(DIGITS[digit])
    return wait_prediction(app)


def wait_prediction(app: App) -> str:
    app.wait_until("""() => [...document.querySelectorAll('.gtitle')]
                               .filter(t => t.textContent.startsWith('Prediction:')).length === 1""")
    return app.prediction()


# The clickable feature-map grid is the Plotly chart whose scatter points carry customdata (channel, row, col[, ..])
# for more than one channel; this finds it whether the maps are subplots or tiles of one mosaic.
_FIND_GRID_JS = """() => {
    const rows = t => { const cd = t.customdata; if (!cd || !cd.length) return [];
                        return Array.from({length: cd.length}, (_, i) => Array.from(cd[i] || [])); };
    for (const g of document.querySelectorAll('.js-plotly-plot')) {
        const points = [];
        (g._fullData || []).forEach(t => { if (t.type === 'scatter')
            rows(t).forEach((cd, i) => { if (cd.length >= 3) points.push({t, i, cd: cd.map(Number)}); }); });
        if (new Set(points.map(p => p.cd[0])).size > 1) return {g, points};
    }
    return null;
}"""


def map_grid_info(app: App) -> dict:
    """The feature-map grid: maps (channels) it is clickable for, map titles drawn, heatmap images drawn."""
    return app.page.evaluate(f"""() => {{
        const found = ({_FIND_GRID_JS})();
        if (!found) return {{grids: 0}};
        const titles = [...found.g.querySelectorAll('text')].map(t => t.textContent).filter(t => /^#\\d+$/.test(t));
        return {{grids: 1, maps: new Set(found.points.map(p => p.cd[0])).size, titles: titles.length,
                 images: found.g.querySelectorAll('g.hm image').length}};
    }}""")


def map_grid(app: App):
    """A locator for the feature-map grid (tagged with a data attribute)."""
    found = app.page.evaluate(f"""() => {{
        document.querySelectorAll('[data-test-map-grid]').forEach(e => e.removeAttribute('data-test-map-grid'));
        const found = ({_FIND_GRID_JS})();
        if (found) found.g.setAttribute('data-test-map-grid', '1');
        return !!found;
    }}""")
    assert found, "no clickable feature-map grid on the page"
    return app.page.locator("[data-test-map-grid]")


def cell_position(app: App, channel: int, row: int, col: int) -> tuple[float, float]:
    """Viewport pixel of the clickable point for map `channel`, cell (row, col), from its trace's Plotly axes."""
    pos = app.page.evaluate(f"""([channel, row, col]) => {{
        const found = ({_FIND_GRID_JS})();
        const p = found.points.find(p => p.cd[0] === channel && p.cd[1] === row && p.cd[2] === col);
        if (!p) return null;
        const xa = found.g._fullLayout['xaxis' + p.t.xaxis.slice(1)];
        const ya = found.g._fullLayout['yaxis' + p.t.yaxis.slice(1)];
        const box = found.g.querySelector('.main-svg').getBoundingClientRect();
        return [box.left + xa._offset + xa.l2p(Number(p.t.x[p.i])), box.top + ya._offset + ya.l2p(Number(p.t.y[p.i]))];
    }}""", [channel, row, col])
    assert pos is not None, f"no clickable point for map {channel}, row {row}, column {col}"
    return pos[0], pos[1]


def seven_png(path: Path) -> Path:
    """A photo-like upload: a thick dark '7' written on slightly grey paper, 400×300."""
    from PIL import Image, ImageDraw, ImageFilter

    img = Image.new("RGB", (400, 300), (236, 233, 226))
    d = ImageDraw.Draw(img)
    ink = (35, 35, 45)
    d.line([(135, 62), (205, 58), (268, 60)], fill=ink, width=22, joint="curve")
    d.line([(268, 60), (232, 140), (200, 250)], fill=ink, width=22, joint="curve")
    for x, y in [(135, 62), (268, 60), (200, 250)]:
        d.ellipse([x - 11, y - 11, x + 11, y + 11], fill=ink)
    img.filter(ImageFilter.GaussianBlur(1.2)).save(path)
    return path


# --------------------------------------------------------------------------- tests

def test_home_page_names_the_app_and_links_every_page(app):
    from dlviz.catalog import PAGES

    app.goto("/")
    page = app.page
    assert page.get_by_role("heading", name="dlviz", level=1).is_visible()
    links = page.locator('[data-testid="stMain"] [data-testid="stPageLink"] a')
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    texts = links.all_inner_texts()
    for p in PAGES:
        assert any(h.rstrip("/").split("/")[-1] == p.url_path for h in hrefs), (p.url_path, hrefs)
        assert any(p.title in t for t in texts), (p.title, texts)
        assert p.teaches in app.main_text()
    app.wait_settled()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home.png"))
    assert not app.js_errors, app.js_errors


def test_drawn_digits_are_recognised_and_feature_maps_render(app):
    on_page(app, "/convolution", "Convolution & feature maps")
    wait_prediction(app)                           # the bundled sample, before any drawing
    results = {}
    for digit in DRAWN:
        had_drawing = "Current input: your drawing" in app.main_text()
        app.clear_canvas()
        blank_plots = app.page.locator(".js-plotly-plot:not(.st-key-dlviz-chart-bundle *)").count()
        if had_drawing:             # clearing a drawing leaves an empty canvas: a hint instead of a prediction
            assert EMPTY_HINT in app.main_text() and not app.page.locator(".gtitle", has_text="Prediction:").count()
        app.draw(DIGITS[digit])
        title = wait_prediction(app)
        results[digit] = title
        app.page.locator('[data-testid="stHorizontalBlock"]').filter(has=app.page.locator("canvas.upper-canvas")) \
            .first.screenshot(path=str(ARTIFACTS / f"convolution_digit_{digit}.png"))
        grid = map_grid_info(app)
        maps = int(re.search(r"conv1 output: \d+×\d+×(\d+)", app.main_text()).group(1))
        assert grid["grids"] == 1 and grid["maps"] == maps >= 8, grid
        assert grid["titles"] == maps and grid["images"] >= 1, f"the feature maps were not all drawn: {grid}"
        if had_drawing:
            assert app.page.locator(".js-plotly-plot:not(.st-key-dlviz-chart-bundle *)").count() > blank_plots
    (ARTIFACTS / "drawing_results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print("\ndrawn digit -> prediction:", results)
    wrong = {d: t for d, t in results.items() if predicted_class(t) != d}
    assert not wrong, f"drawn digits misread: {wrong} (all: {results})"      # the README says every one is read
    app.full_screenshot(ARTIFACTS / "convolution_draw.png")


def test_readme_screenshot(app):
    """artifacts/readme.png: 1400×1000 px, drawing + prediction + every conv1 feature map in one view.

    At 100 % they need about 1150 px of height, so the shot is taken as the browser would show it zoomed to 85 %
    (a 1647×1176 CSS-px window at device scale 0.85 = a 1400×1000 px image), on the same session and drawing.
    """
    title = ensure_drawing(app, "3")
    page = app.page
    zoom = 0.85
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("Emulation.setDeviceMetricsOverride", {"width": round(VIEWPORT["width"] / zoom),
                 "height": round(VIEWPORT["height"] / zoom), "deviceScaleFactor": zoom, "mobile": False})
        page.wait_for_function("(w) => window.innerWidth === w", arg=round(VIEWPORT["width"] / zoom))
        app.wait_settled()
        grid = map_grid(app)
        parts = {"canvas": page.locator("canvas.upper-canvas").first,
                 "prediction": page.locator(".gtitle", has_text="Prediction:"), "feature maps": grid}
        # The prediction title (above the canvas) just under the fixed header.
        app.scroll_under_header(parts["prediction"], margin=20)
        header = page.locator('[data-testid="stHeader"]').bounding_box()
        below_header = (header["y"] + header["height"]) if header else 0
        app.wait_settled()
        height = page.evaluate("window.innerHeight")
        for name, part in parts.items():
            box = part.bounding_box()
            assert box and box["y"] >= below_header and box["y"] + box["height"] <= height, (name, box)
        shot = cdp.send("Page.captureScreenshot", {"format": "png"})
        (ARTIFACTS / "readme.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        cdp.send("Emulation.setDeviceMetricsOverride", {**VIEWPORT, "deviceScaleFactor": 1, "mobile": False})
        cdp.detach()
    from PIL import Image

    with Image.open(ARTIFACTS / "readme.png") as img:
        assert img.size == (VIEWPORT["width"], VIEWPORT["height"])
    # the override is lifted asynchronously: the window is back to its size once the page has seen it
    page.wait_for_function("([w, h]) => innerWidth === w && innerHeight === h",
                           arg=[VIEWPORT["width"], VIEWPORT["height"]], timeout=10_000)
    assert title.startswith("Prediction:")


def test_clicking_a_feature_map_pixel_explains_it(app):
    ensure_drawing(app, "3")
    page = app.page
    app.open_tab("Feature maps")
    grid = map_grid_info(app)
    assert grid["grids"] == 1, grid
    before = (app.number_input("Map (channel)"), app.number_input("Row"), app.number_input("Column"))
    caption = re.search(r"conv1 output: (\d+)×(\d+)×(\d+)", app.main_text())
    assert caption, "no 'conv1 output: H×W×C' caption"
    h, w, c = map(int, caption.groups())
    target = ((before[0] + 3) % c, h // 3 if before[1] != h // 3 else h // 3 + 1, (2 * w) // 3)
    assert target != before
    map_grid(app).scroll_into_view_if_needed()
    x, y = cell_position(app, *target)
    app.act(lambda: page.mouse.click(x, y))
    try:
        app.wait_until("""([ch, r, c]) => {
            const v = l => [...document.querySelectorAll('[data-testid="stNumberInput"]')]
                .find(n => n.innerText.includes(l)).querySelector('input').value;
            return v('Map (channel)') == ch && v('Row') == r && v('Column') == c;
        }""", list(target), timeout=15_000)
    except Exception as e:
        now = (app.number_input("Map (channel)"), app.number_input("Row"), app.number_input("Column"))
        pytest.fail(f"clicked map {target[0]} at row {target[1]}, column {target[2]} (x={x:.0f}, y={y:.0f}); "
                    f"the number inputs still show {now} ({type(e).__name__})")
    assert (app.number_input("Map (channel)"), app.number_input("Row"), app.number_input("Column")) == target
    text = app.main_text()
    assert f"conv1[{target[1]}, {target[2]}], map {target[0]}:" in text
    assert f"Receptive field of conv1[{target[1]}, {target[2]}]" in page.locator(".gtitle").all_text_contents()
    app.scroll_under_header(map_grid(app), margin=-30)     # the maps, the outline and the explanation
    page.screenshot(path=str(ARTIFACTS / "convolution_click.png"))


def test_upload_replaces_the_input_and_a_bad_file_is_refused(app, tmp_path):
    on_page(app, "/convolution", "Convolution & feature maps")
    before = wait_prediction(app)
    if predicted_class(before) == "7":             # make "the prediction changes" observable
        app.clear_canvas()
        app.draw(DIGITS["3"])
        before = wait_prediction(app)
    app.upload(seven_png(tmp_path / "seven.png"))
    app.wait_until("() => document.querySelector('[data-testid=\"stMain\"]').innerText"
                   ".includes('Current input: seven.png')")
    after = wait_prediction(app)
    assert predicted_class(after) == "7", f"uploaded 7 read as {after} (before: {before})"
    assert after != before

    notes = tmp_path / "notes.png"
    notes.write_text("Lecture 4 notes\n- convolution = sliding dot product\n- pooling halves the size\n")
    app.upload(notes)
    error = app.page.locator('[data-testid="stAlertContentError"]', has_text="notes.png")
    try:
        error.wait_for(timeout=15_000)
    except Exception:
        pytest.fail("no error message naming notes.png after uploading a text file; the page says:\n"
                    + app.main_text()[:1500])
    assert "notes.png" in error.inner_text()
    assert wait_prediction(app) == after, "a refused upload must leave the previous prediction"
    assert "Current input: seven.png" in app.main_text()
    app.scroll_under_header(app.page.get_by_text("Current input:").first)
    app.page.screenshot(path=str(ARTIFACTS / "convolution_upload.png"))


def test_pooling_keeps_the_input_and_follows_the_pool_size_slider(app, tmp_path):
    on_page(app, "/convolution", "Convolution & feature maps")
    if "Current input: seven.png" not in app.main_text():
        app.upload(seven_png(tmp_path / "seven.png"))
    app.switch_page("Pooling")
    page = app.page
    page.get_by_role("heading", name="Pooling", level=1).wait_for()
    app.wait_until("() => document.querySelectorAll('.js-plotly-plot:not(.st-key-dlviz-chart-bundle *)').length >= 3")
    text = app.main_text()
    assert EMPTY_HINT not in text
    assert "Current input: seven.png" in text, "the uploaded image did not survive the page switch"
    pooled = page.evaluate("""() => Math.max(...[...document.querySelectorAll('.js-plotly-plot')]
        .map(g => g.querySelectorAll('g.hm image').length))""")
    assert pooled >= 5, "input, max, average, strided conv and global average should all be drawn"

    def formula() -> str:
        lines = [t for t in app.main_text().split("\n") if t.startswith("Output size for every window operation")]
        assert len(lines) == 1, lines
        return lines[0]

    slider = page.locator('[data-testid="stSlider"]').filter(has_text="Pool size").locator('input[type="range"]')
    old_value, old_formula = int(slider.evaluate("e => e.value")), formula()
    step = 1 if old_value < int(slider.get_attribute("max")) else -1
    slider.focus()
    app.act(lambda: page.keyboard.press("ArrowRight" if step > 0 else "ArrowLeft"))
    new_value = int(slider.evaluate("e => e.value"))
    assert new_value == old_value + step
    try:
        app.wait_until("(old) => !document.querySelector('[data-testid=\"stMain\"]').innerText.includes(old)",
                       old_formula, timeout=15_000)
    except Exception:
        pytest.fail(f"pool size {old_value} -> {new_value}, but the formula still reads: {old_formula}")
    new_formula = formula()
    assert new_formula != old_formula
    assert f"− {new_value})" in new_formula, new_formula
    page.get_by_text("Output size for every window operation").scroll_into_view_if_needed()
    app.full_screenshot(ARTIFACTS / "pooling.png")
    assert not app.js_errors, app.js_errors


def test_a_drawing_survives_a_round_trip_to_another_page(app):
    drawn = ensure_drawing(app, "3")
    app.switch_page("Pooling")
    app.page.get_by_role("heading", name="Pooling", level=1).wait_for()
    assert "Current input: your drawing" in app.main_text()
    app.switch_page("Convolution")
    app.page.get_by_role("heading", name="Convolution & feature maps", level=1).wait_for()
    assert wait_prediction(app) == drawn
    # the strokes are back on the canvas itself, not only in the prediction: nothing the user did is lost
    # the canvas component renders inside a shadow root, which document.querySelectorAll does not enter
    ink = app.page.evaluate("""() => Math.max(...[...document.querySelectorAll('*')].filter(e => e.shadowRoot)
        .flatMap(e => [...e.shadowRoot.querySelectorAll('canvas')]).map(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++; return n / (d.length / 4); }))""")
    assert ink > 0.03, f"only {ink:.1%} of the canvas is ink after coming back"


def test_a_garment_drawn_with_fashion_selected(app):
    """The Fashion-MNIST path from the canvas: the garment recipe (longest side 28), its caption, a garment class."""
    from dlviz.datasets import FASHION

    on_page(app, "/convolution", "Convolution & feature maps")
    page = app.page
    app.act(page.locator('[data-testid="stButtonGroup"]').get_by_text("Fashion-MNIST", exact=True).click)
    app.wait_until("() => document.querySelector('[data-testid=\"stMain\"]').innerText"
                   ".includes('the way Fashion-MNIST was made')")
    app.clear_canvas()
    app.draw(TROUSERS)
    title = wait_prediction(app)
    assert predicted_class(title) in FASHION.classes
    assert predicted_class(title) == "Trouser", title
    assert "longest side resized to 28" in app.main_text()
    app.full_screenshot(ARTIFACTS / "convolution_fashion_draw.png")
    app.act(page.locator('[data-testid="stButtonGroup"]').get_by_text("MNIST digits", exact=True).click)
    app.wait_until("() => document.querySelector('[data-testid=\"stMain\"]').innerText"
                   ".includes('the way MNIST was made')")


def test_clicking_a_pooled_cell_shows_its_window(app):
    on_page(app, "/convolution", "Convolution & feature maps")
    ensure_drawing(app, "3")
    app.switch_page("Pooling")
    page = app.page
    page.get_by_role("heading", name="Pooling", level=1).wait_for()
    app.wait_until("() => document.querySelectorAll('.js-plotly-plot:not(.st-key-dlviz-chart-bundle *)').length >= 4")
    # the number grids are one chart (input, max, average); wait until it is drawn
    grids = """[...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullData
        && (g._fullLayout.annotations || []).some(a => a.text === 'max'))"""
    page.wait_for_function(f"() => !!{grids}", timeout=30_000)
    # the max grid's last output cell (grid 1 in the customdata): its size follows the pool size an earlier view
    # left (links keep it across pages), and it is never the cell shown by default (the first)
    found = page.evaluate(f"""() => {{
        const g = {grids};
        g.scrollIntoView({{block: 'center'}});
        for (const t of g._fullData) {{
            const cd = t.customdata; if (t.type !== 'scatter' || !cd || !cd.length) continue;
            const i = cd.length - 1, c = Array.from(cd[i]).map(Number);
            if (c[0] !== 1) continue;
            const xa = g._fullLayout['xaxis' + t.xaxis.slice(1)], ya = g._fullLayout['yaxis' + t.yaxis.slice(1)];
            const box = g.querySelector('.main-svg').getBoundingClientRect();
            return {{cell: [c[1], c[2]], cells: cd.length,
                    pos: [box.left + xa._offset + xa.l2p(Number(t.x[i])), box.top + ya._offset + ya.l2p(Number(t.y[i]))]}};
        }}
        return null;
    }}""")
    assert found is not None and found["cells"] >= 4, f"no clickable max-pooling grid: {found}"
    target, pos = tuple(found["cell"]), found["pos"]
    assert target != (0, 0)
    app.act(lambda: page.mouse.click(*pos))
    try:
        app.wait_until("(t) => document.querySelector('[data-testid=\"stMain\"]').innerText.includes(t)",
                       f"Output [{target[0]}, {target[1]}] of the crop", timeout=15_000)
    except Exception:
        pytest.fail(f"clicked max-pool cell {target}; the page says: "
                    + next((l for l in app.main_text().split("\n") if l.startswith("Output [")), "nothing"))
    page.get_by_text("The numbers").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "pooling_click.png"))
