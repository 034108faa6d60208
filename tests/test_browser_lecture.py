"""The lecture hall in a real browser: a bookmarked deep link on a fresh server, Korean, presenter mode, exports.

A lecturer bookmarks a view, and the next morning (a fresh server, a fresh browser) opens it straight on the
Pooling page, in Korean and presenter mode: the app must show its navigation and restore every setting. Then a
setting changed inside a fragment keeps the language and lands in the URL, the URL reopens in another browser,
a Korean browser starts in Korean, and the exports download what they promise.

Screenshots at 1280×720 (a projector) go to artifacts/lecture_*.png. Needs /usr/bin/chromium and a Korean font
(Debian: fonts-nanum) for readable screenshots.
"""
from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, quote, urlparse

import numpy as np
import pytest

from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, ROOT, App, StreamlitServer, require_browser, \
    require_models

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
PROJECTOR = {"width": 1280, "height": 720}
# As a Korean lecturer's address bar has it: an option is written with its label in the link's language.
DEEP_LINK = "/pooling?pool.size=3&pool.kernel=" + quote("라플라시안") + "&sample=5&lang=ko&present=true"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own: the deep link below must be its very first visit."""
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


def fresh_app(browser, server, locale: str = "en-US") -> App:
    """A new browser context: no cookies, no session, like opening a bookmark the next day."""
    context = browser.new_context(viewport=PROJECTOR, locale=locale, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    app = App(page, server.url)
    app.js_errors = []
    page.on("pageerror", lambda e: app.js_errors.append(str(e)))
    return app


@pytest.fixture(scope="module")
def lecture(browser, server):
    app = fresh_app(browser, server)
    app.goto(DEEP_LINK, timeout=180_000)
    yield app
    app.page.context.close()


@pytest.fixture(autouse=True)
def _server_log_on_failure(request, server):
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        print(f"\n----- streamlit log ({server.log_path}) -----\n{server.log()[-20_000:]}")


def slider_value(app: App, label: str) -> int:
    box = app.page.locator('[data-testid="stSlider"]').filter(has_text=label).locator('input[type="range"]')
    return int(box.evaluate("e => e.value"))


def query(app: App) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(app.page.url).query).items()}


def test_a_deep_link_on_a_fresh_server_shows_the_app_with_its_view(lecture):
    page = lecture.page
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.get_by_role("link", name="합성곱").count() == 1, "the first visit must show the app's navigation"
    assert page.locator("h1").first.inner_text() == "풀링"
    assert slider_value(lecture, "풀 크기") == 3
    kernel = page.locator('[data-testid="stSelectbox"]').filter(has_text="스트라이드 합성곱의 커널")
    assert "라플라시안" in kernel.evaluate(
        "e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' ')")
    assert page.get_by_role("switch", name="발표자 모드").is_checked()
    font = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert font >= 20, "presenter mode enlarges the type"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lecture_deep_link_ko_presenter.png"))
    lecture.scroll_under_header(page.locator('[data-testid="stPlotlyChart"]:visible').nth(1))
    page.screenshot(path=str(ARTIFACTS / "lecture_pooling_charts_presenter.png"))
    assert not lecture.js_errors, lecture.js_errors


def test_a_fragment_rerun_keeps_korean_and_updates_the_link(lecture):
    page = lecture.page
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="스트라이드").last.locator('input[type="range"]')
    before = int(slider.evaluate("e => e.value"))
    slider.focus()
    lecture.act(lambda: page.keyboard.press("ArrowLeft"))
    assert int(slider.evaluate("e => e.value")) == before - 1
    text = lecture.main_text()
    assert "모든 창 연산의 출력 크기" in text and "Output size" not in text, "a fragment rerun fell back to English"
    page.wait_for_function("(v) => location.search.includes('pool.stride=' + v)", arg=str(before - 1))
    assert query(lecture)["lang"] == "ko" and query(lecture)["pool.size"] == "3"


def test_the_copied_link_restores_the_view_in_another_browser(lecture, browser, server):
    link = lecture.page.url
    other = fresh_app(browser, server)
    try:
        other.goto(link.removeprefix(server.url))
        assert other.page.locator("h1").first.inner_text() == "풀링"
        assert slider_value(other, "풀 크기") == 3
        assert slider_value(other, "스트라이드") == int(query(lecture)["pool.stride"])
        assert "#5" in other.main_text()
    finally:
        other.page.context.close()


def test_a_korean_browser_starts_in_korean(browser, server):
    app = fresh_app(browser, server, locale="ko-KR")
    try:
        app.goto("/")
        assert app.page.get_by_role("link", name=re.compile("합성곱")).count() >= 1
        app.page.wait_for_function("() => location.search.includes('lang=ko')")
        app.page.screenshot(path=str(ARTIFACTS / "lecture_home_ko.png"))
    finally:
        app.page.context.close()


def test_png_button_and_exports_download_the_view(lecture):
    page = lecture.page
    chart = page.locator('[data-testid="stPlotlyChart"]:visible').filter(has=page.locator(".modebar-container")).first
    chart.scroll_into_view_if_needed()
    chart.hover()
    button = chart.locator('.modebar-btn[data-title*="png" i]').first
    with page.expect_download() as png:
        button.click()
    name = png.value.suggested_filename
    assert name.startswith("dlviz-") and name.endswith(".png"), name
    assert png.value.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    with page.expect_download() as npz:
        page.get_by_role("button", name=re.compile(r"\.npz")).click()
    arrays = np.load(io.BytesIO(npz.value.path().read_bytes()))
    assert any(k.startswith("pool.side/") for k in arrays.files)
    with page.expect_download() as snap:
        page.get_by_role("button", name=re.compile(r"\.html")).click()
    html = snap.value.path().read_text(encoding="utf-8")
    assert "Plotly.newPlot" in html and "<script src=" not in html and 'lang="ko"' in html


def test_deep_links_opened_at_once_on_a_fresh_server_all_get_the_app(browser, tmp_path_factory):
    """Three students open three shared links the moment a server starts: each first run is a bare page run
    (Streamlit's legacy pages/ mode), and each must end up in the app: its menu and the language switch. Before the
    fix, a session whose first run found the flag already switched off by another stayed bare (2 of 3 tries)."""
    paths = {"/gan": "GAN", "/autoencoder": "Autoencoder & VAE", "/unet": "U-Net"}
    srv = StreamlitServer(tmp_path_factory.mktemp("streamlit") / "streamlit.log")
    contexts = []
    try:
        srv.start(timeout=90)
        pages = []
        for path in paths:
            contexts.append(browser.new_context(viewport={"width": 1400, "height": 1000}))
            pages.append(contexts[-1].new_page())
            pages[-1].goto(srv.url + path, wait_until="commit")          # all three before any has loaded
        for page, title in zip(pages, paths.values()):
            page.get_by_role("heading", name=title, level=1).wait_for(timeout=180_000)
            page.get_by_text("Language / 언어").wait_for(timeout=60_000)
            menu = [text.split("\n")[-1].strip()                        # "home\n\nHome": icon name, then title
                    for text in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]
            assert "Home" in menu and "app" not in menu, menu
    except Exception:
        print(f"\n----- streamlit log ({srv.log_path}) -----\n{srv.log()[-20_000:]}")
        raise
    finally:
        for c in contexts:
            c.close()
        srv.stop()
