"""Your own model and "Why this class?" in a real browser: upload a .keras file, see its maps, see Grad-CAM.

Shares the helpers of tests/test_browser.py. Screenshots: artifacts/own_model_*.png, artifacts/why_*.png.
"""
from __future__ import annotations

import re

import keras
import pytest
from keras import layers

from tests.browser_helpers import (CHROMIUM, CHROMIUM_ARGS, ROOT, App, StreamlitServer, predicted_class,
                                   require_browser, require_models)
from tests.test_user_model import rgb_cnn

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    require_browser()
    require_models(("cnn_mnist",), "python -m dlviz.train cnn --dataset mnist")
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


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    rgb_cnn().save(d / "cifar_like.keras")
    marker = d / "ran"
    touch = eval(f"lambda x: (open({str(marker)!r}, 'w').write('ran'), x)[1]")
    keras.Sequential([keras.Input((8, 8, 1)), layers.Lambda(touch), layers.Conv2D(2, 3), layers.Flatten(),
                      layers.Dense(2)]).save(d / "evil.keras")
    marker.unlink()
    return d, marker


def upload_model(app: App, path) -> None:
    box = app.page.locator('[data-testid="stFileUploader"]').filter(has_text="Your model (.keras)")
    app.act(lambda: box.locator('input[type="file"]').set_input_files(str(path)))


def test_why_tab_overlays_saliency_on_a_sample(app):
    app.goto("/convolution", timeout=180_000)
    app.page.get_by_role("heading", name="Convolution & feature maps", level=1).wait_for()
    app.open_tab("Why this class? (Grad-CAM, saliency)")
    app.page.get_by_text(re.compile(r"Grad-CAM\s*\(conv6,\s*7×7\)")).first.wait_for()
    predicted = predicted_class(app.prediction())
    assert f"Why {predicted}?" in app.main_text(), "the class selector should start on the model's answer"
    panels = app.page.locator('[data-testid="stPlotlyChart"]').filter(has_text="SmoothGrad")
    panels.scroll_into_view_if_needed()
    titles = panels.inner_text()
    for title in ("gradients", "SmoothGrad", "integrated"):
        assert title in titles
    ARTIFACTS.mkdir(exist_ok=True)
    app.page.screenshot(path=str(ARTIFACTS / "why_sample.png"), full_page=False)
    assert not app.js_errors, app.js_errors


def test_an_uploaded_model_is_explored_and_an_unsafe_one_refused(app, model_files):
    folder, marker = model_files
    app.goto("/convolution")
    app.act(app.page.locator('[data-testid="stButtonGroup"]').get_by_text("Your model (.keras)").click)
    app.page.get_by_text("Upload a .keras file to explore your own CNN").wait_for()
    upload_model(app, folder / "evil.keras")
    app.page.get_by_text("it contains a Lambda layer").wait_for()
    assert not marker.exists(), "the uploaded model's code ran in the server"
    app.page.screenshot(path=str(ARTIFACTS / "own_model_refused.png"))
    upload_model(app, folder / "cifar_like.keras")
    app.page.get_by_text("input 32×32×3, 10 outputs").wait_for()
    assert app.prediction().startswith("Prediction: ")
    app.page.get_by_text("over 3 input channels").first.wait_for()
    app.page.get_by_text("✓ equals").first.wait_for()
    app.full_screenshot(ARTIFACTS / "own_model_convolution.png")
    app.open_tab("Why this class? (Grad-CAM, saliency)")
    try:    # the first saliency call traces this model's gradient functions: slow on a loaded 2-core machine
        app.page.get_by_text(re.compile(r"Grad-CAM\s*\(c2,\s*15×15\)")).first.wait_for(timeout=180_000)
    except Exception:
        app.page.screenshot(path=str(ARTIFACTS / "why_own_model_failed.png"))
        raise
    app.scroll_under_header(app.page.locator('[data-testid="stPlotlyChart"]').filter(has_text="SmoothGrad").first,
                            margin=120)
    app.page.screenshot(path=str(ARTIFACTS / "why_own_model.png"))
    app.switch_page("Pooling")
    app.page.get_by_text("Model: cifar_like.keras").wait_for()
    app.page.screenshot(path=str(ARTIFACTS / "own_model_pooling.png"))
    assert not app.js_errors, app.js_errors
