"""The GAN page in a real browser (Debian's chromium via Playwright): it renders, a latent slider moves the image,
a drawn and an uploaded input get a critic score. Screenshots: artifacts/gan_*.png.
"""
from __future__ import annotations

import json
import os
import re

import pytest

from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, DIGITS, ROOT, App, StreamlitServer, require_browser

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
VIEWPORT = {"width": 1400, "height": 1000}
SCORE = re.compile(r"gives your input (-?\d+\.\d+)")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    require_browser()
    from dlviz import registry

    if not registry.model_cards(family="gan", dataset="mnist"):
        pytest.skip("no GAN trained on MNIST in the pretrained folder")
    from playwright.sync_api import sync_playwright

    # the server reads the same weights as the skip check above (DLVIZ_PRETRAINED if set: scratch weights while
    # developing; the project's pretrained/ otherwise)
    scratch = os.environ.get(registry.PRETRAINED_ENV)
    srv = StreamlitServer(tmp_path_factory.mktemp("streamlit") / "streamlit.log",
                          env={registry.PRETRAINED_ENV: scratch} if scratch else None)
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
            a.goto("/gan", timeout=180_000)
            page.get_by_role("heading", name="GAN", level=1).wait_for()
            yield a
            browser.close()
    finally:
        if os.environ.get("DLVIZ_SHOW_SERVER_LOG"):
            print(srv.log()[-5000:])
        srv.stop()


def plot_count(app: App) -> int:
    return app.page.locator(".js-plotly-plot:not(.st-key-dlviz-chart-bundle *)").count()


def clickable_tiles(app: App) -> int:
    """Tiles of the clickable sample grid (scatter points whose customdata is one sample index)."""
    return app.page.evaluate("""() => {
        for (const g of document.querySelectorAll('.js-plotly-plot'))
            for (const t of (g._fullData || []))
                if (t.type === 'scatter' && t.customdata && t.customdata.length) return t.customdata.length;
        return 0;
    }""")


def slider_input(app: App, label: str):
    return app.page.locator('[data-testid="stSlider"]').filter(has=app.page.get_by_text(label, exact=False)) \
        .first.get_by_role("slider")


def press(app: App, locator, key: str, times: int) -> None:
    locator.focus()
    for _ in range(times):
        app.act(lambda: app.page.keyboard.press(key))


def test_page_renders_samples_and_a_slider_changes_the_count(app):
    ARTIFACTS.mkdir(exist_ok=True)
    app.wait_until("() => document.querySelectorAll('.js-plotly-plot:not(.st-key-dlviz-chart-bundle *)').length >= 1")
    assert clickable_tiles(app) == 32
    assert "IS **" not in app.main_text() and "IS " in app.main_text()       # markdown rendered, not raw
    press(app, slider_input(app, "Samples"), "ArrowRight", 4)
    app.wait_until("() => true")
    assert clickable_tiles(app) == 36
    assert "36 samples of z" in app.main_text()
    app.page.screenshot(path=str(ARTIFACTS / "gan_samples.png"))
    assert not app.js_errors, app.js_errors


def test_a_latent_slider_changes_the_moved_image(app):
    app.open_tab("Latent sliders")
    app.wait_until("() => document.querySelectorAll('.js-plotly-plot:not(.st-key-dlviz-chart-bundle *)').length >= 2")
    moved = app.page.locator(".js-plotly-plot:not(.st-key-dlviz-chart-bundle *)").first
    before = moved.screenshot()
    press(app, app.page.get_by_role("slider").nth(0), "ArrowRight", 10)      # +1.0 along direction 1
    after = moved.screenshot()
    assert before != after, "moving the slider did not change the image"
    app.page.screenshot(path=str(ARTIFACTS / "gan_sliders.png"))


def test_a_drawn_and_an_uploaded_input_get_a_critic_score(app, tmp_path):
    from tests.test_browser import seven_png

    app.open_tab("Your input vs the critic")
    app.wait_until("() => document.body.innerText.includes('gives your input')")
    sample_score = float(SCORE.search(app.main_text()).group(1))
    app.clear_canvas()
    app.draw(DIGITS["3"])
    app.wait_until("() => document.body.innerText.includes('Current input: your drawing')")
    app.wait_until("() => document.body.innerText.includes('gives your input')")
    drawn_score = float(SCORE.search(app.main_text()).group(1))
    assert drawn_score != sample_score
    app.page.screenshot(path=str(ARTIFACTS / "gan_critic_drawn.png"))
    app.upload(seven_png(tmp_path / "seven.png"))
    app.wait_until("() => document.body.innerText.includes('Current input: seven.png')")
    uploaded_score = float(SCORE.search(app.main_text()).group(1))
    assert uploaded_score != drawn_score
    assert app.page.locator(".js-plotly-plot .legendtext", has_text="real test images").count() == 1
    app.page.screenshot(path=str(ARTIFACTS / "gan_critic_upload.png"))


def test_timeline_and_mode_collapse_render(app):
    app.open_tab("Training timeline")
    app.wait_until("() => [...document.querySelectorAll('.gtitle')].some(t => t.textContent.includes(': step'))")
    titles = app.page.locator(".gtitle").all_text_contents()
    last = [t for t in titles if ": step" in t]
    press(app, app.page.get_by_role("slider").first, "Home", 1)
    app.wait_until("() => [...document.querySelectorAll('.gtitle')].some(t => t.textContent.endsWith(': step 0'))")
    app.full_screenshot(ARTIFACTS / "gan_timeline.png")
    assert last and all(not t.endswith(": step 0") for t in last)
    app.open_tab("Mode collapse")
    app.wait_until("() => document.body.innerText.includes('Classes with ≥ 5 %')")
    app.full_screenshot(ARTIFACTS / "gan_collapse.png")
    app.open_tab("Nearest training image")
    app.wait_until("() => document.body.innerText.includes('bundled subset')")
    app.page.screenshot(path=str(ARTIFACTS / "gan_nearest.png"))
    (ARTIFACTS / "gan_browser.json").write_text(json.dumps({"timeline_titles": last}, ensure_ascii=False))
    assert not app.js_errors, app.js_errors


def test_a_class_conditional_model_draws_one_row_per_class_code(app):
    from dlviz import registry

    if not any(c.entry["config"].get("labelled_code") for c in registry.model_cards(family="gan", dataset="mnist")):
        pytest.skip("no class-conditional GAN in the pretrained folder")
    app.open_tab("Samples")
    app.act(app.page.locator('[data-testid="stButtonGroup"]').get_by_text("Class-conditional DCGAN").click)
    app.wait_until("() => document.body.innerText.includes('trained with the labels')")
    app.act(app.page.get_by_text("One row per class code").click)
    app.wait_until("() => [...document.querySelectorAll('.gtitle')]"
                   ".some(t => t.textContent.startsWith('row c: code c'))")
    app.wait_until("() => document.body.innerText.includes('code c makes class c')")
    app.full_screenshot(ARTIFACTS / "gan_class_rows.png")
    assert clickable_tiles(app) == 0            # the rows are a picture, not the clickable sample grid
    app.act(app.page.get_by_text("One row per class code").click)
    app.wait_until("() => !document.body.innerText.includes('code c makes class c')")
    assert clickable_tiles(app) > 0
    app.act(app.page.locator('[data-testid="stButtonGroup"]').get_by_text("DCGAN", exact=True).click)
    app.wait_until("() => !document.body.innerText.includes('trained with the labels')")
    assert not app.js_errors, app.js_errors
