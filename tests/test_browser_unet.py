"""The U-Net page in a real browser: draw two digits on the wide canvas and see them segmented.

Shares the helpers (server, waits, handwriting) of tests/test_browser.py. Screenshots: artifacts/unet_*.png.
"""
from __future__ import annotations


import pytest

from tests.browser_helpers import (CHROMIUM, CHROMIUM_ARGS, DIGITS, ROOT, App, StreamlitServer, require_browser,
                                   require_models)

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
VIEWPORT = {"width": 1400, "height": 1000}
NEEDED = ("seg_digits_unet", "seg_digits_noskip", "seg_membrane_unet")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    require_browser()
    require_models(NEEDED, "python -m dlviz.train unet ...")
    from playwright.sync_api import sync_playwright

    srv = StreamlitServer(tmp_path_factory.mktemp("streamlit") / "streamlit.log")
    try:
        srv.start(timeout=90)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            a = App(page, srv.url)
            a.js_errors, a.server = errors, srv
            yield a
            browser.close()
    except RuntimeError as e:
        pytest.fail(str(e))
    finally:
        srv.stop()


def side_by_side(digit: str, left: float, width: float = 0.36) -> list[list[tuple[float, float]]]:
    """A handwritten digit squeezed into the horizontal band left..left+width of the wide canvas."""
    return [[(left + x * width, y) for x, y in stroke] for stroke in DIGITS[digit]]


def legend_of(app: App, chart_index: int = 0) -> list[str]:
    charts = app.page.locator('[data-testid="stPlotlyChart"]:visible')
    return [t.strip() for t in charts.nth(chart_index).locator(".legendtext").all_text_contents()]


def test_two_drawn_digits_are_segmented(app):
    app.goto("/unet", timeout=180_000)
    app.page.get_by_role("heading", name="U-Net", level=1).wait_for()
    box = app.canvas().bounding_box()
    assert box["width"] > 1.8 * box["height"], "the U-Net page should offer a wide canvas"
    app.draw(side_by_side("7", 0.08))
    app.draw(side_by_side("3", 0.55))
    app.wait_until("() => document.body.innerText.includes('Current input: your drawing')")
    text = app.main_text()
    assert "scaled by" in text
    found = legend_of(app, 0)
    ARTIFACTS.mkdir(exist_ok=True)
    app.page.screenshot(path=str(ARTIFACTS / "unet_drawn.png"))
    app.full_screenshot(ARTIFACTS / "unet_drawn_full.png")
    assert "7" in found and "3" in found, f"legend of the mask: {found}"
    assert not app.js_errors, app.js_errors


def test_membrane_slice_and_skip_switch(app):
    if not app.page.url.startswith(app.base_url):
        app.goto("/unet", timeout=180_000)
    app.act(app.page.get_by_text("EM membranes", exact=True).click, timeout=120_000)
    app.wait_until("() => document.body.innerText.includes('training slice 25, held out')", timeout=120_000)
    assert "Pixel accuracy" in app.main_text()
    toggle = app.page.get_by_text("skip 0 (", exact=False).first
    toggle.scroll_into_view_if_needed()
    app.act(toggle.click, timeout=120_000)
    app.wait_until("() => document.body.textContent.includes('skips 0 off')", timeout=60_000)
    app.full_screenshot(ARTIFACTS / "unet_membrane_full.png")
    assert not app.js_errors, app.js_errors
