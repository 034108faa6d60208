"""The Autoencoder & VAE page in a real browser (Debian's chromium, Playwright): draw a digit, see it rebuilt, click
the latent scatter (a test point and an empty spot) and see the decoded image, draw a second input and see the
interpolation. Screenshots go to artifacts/autoencoder_*.png. Shares the server and browser fixtures of
tests/test_browser.py (same skip / fail rules)."""
from __future__ import annotations

import json

import pytest

from tests.browser_helpers import DIGITS, ROOT
from tests.test_browser import _server_log_on_failure, app, browser, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
MODELS = ("ae2d_mnist", "vae2d_mnist", "ae_mnist", "ae_denoise_mnist", "ae_sparse_mnist")


@pytest.fixture(scope="module")
def ae_page(app):  # noqa: F811
    models = json.loads((ROOT / "pretrained" / "manifest.json").read_text()).get("models", {})
    missing = [m for m in MODELS if m not in models]
    if missing:
        pytest.fail(f"pretrained/manifest.json lacks {missing}: train them (python -m dlviz.train ae --kind ...)")
    app.goto("/autoencoder")
    app.page.get_by_role("heading", name="Autoencoder & VAE", level=1).wait_for()
    return app


def draw_on(app, strokes, nth: int = 0, steps: int = 4) -> None:  # noqa: F811
    """Draw on the page's `nth` canvas (0: the main input, 1: the interpolation's input B)."""
    canvas = app.page.locator("canvas.upper-canvas").nth(nth)
    canvas.wait_for(state="visible")
    canvas.scroll_into_view_if_needed()
    for stroke in strokes:
        box = canvas.bounding_box()
        pts = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]

        def pen(pts=pts):
            app.page.mouse.move(*pts[0])
            app.page.mouse.down()
            for p in pts[1:]:
                app.page.mouse.move(*p, steps=steps)
            app.page.mouse.up()

        app.act(pen)
    app.page.mouse.move(1, 1)


def annotations(app) -> list[str]:  # noqa: F811
    return app.page.locator(".annotation-text").all_text_contents() + app.page.locator(".gtitle").all_text_contents()


# The latent scatter whose title starts with `prefix`: the pixel position of a clickable point (a test code when
# `test_point`, else an empty spot of the transparent grid), from the trace's own Plotly axes.
_POINT_JS = """([prefix, testPoint]) => {
    for (const g of document.querySelectorAll('.js-plotly-plot')) {
        const title = ((g._fullLayout.title && g._fullLayout.title.text) || '').replace(/<[^>]+>/g, '');
        if (!title.startsWith(prefix)) continue;
        const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
        const box = g.querySelector('.main-svg').getBoundingClientRect();
        for (const t of g._fullData) {
            if (t.type !== 'scatter' || !t.customdata || !t.customdata.length) continue;
            const n = t.customdata.length;
            for (let k = 0; k < n; k++) {
                const i = Math.floor((k * 7919) % n);         // spread over the trace, not its first corner
                const cd = Array.from(t.customdata[i]).map(Number);
                if ((cd[2] >= 0) !== testPoint) continue;
                const x = box.left + xa._offset + xa.l2p(Number(t.x[i]));
                const y = box.top + ya._offset + ya.l2p(Number(t.y[i]));
                const inside = x > box.left + xa._offset + 15 && x < box.left + xa._offset + xa._length - 15
                             && y > box.top + ya._offset + 15 && y < box.top + ya._offset + ya._length - 15;
                if (inside && (testPoint || k > n / 3)) return [x, y, cd];
            }
        }
    }
    return null;
}"""


def test_a_drawing_is_rebuilt_by_every_autoencoder(ae_page):
    app = ae_page
    app.open_tab("Draw")
    app.act(app.page.get_by_role("button", name="Clear").first.click)
    draw_on(app, DIGITS["3"])
    app.open_tab("Reconstruction")
    app.wait_until("() => [...document.querySelectorAll('.annotation-text')]"
                   ".filter(t => t.textContent.startsWith('MSE ')).length === 5")
    texts = annotations(app)
    assert "Current input: your drawing" in app.main_text()
    for name in ("AE, 2-D", "VAE, 2-D", "AE, 16-D", "denoising AE", "sparse AE"):
        assert name in texts
    assert not app.js_errors, app.js_errors
    app.full_screenshot(ARTIFACTS / "autoencoder_reconstruction.png")


@pytest.mark.parametrize("test_point", [True, False], ids=["test point", "empty spot"])
def test_clicking_the_latent_scatter_decodes_that_spot(ae_page, test_point):
    app = ae_page
    app.open_tab("Latent space")
    app.wait_until("() => [...document.querySelectorAll('.gtitle')].some(t => t.textContent.startsWith('VAE'))")
    plot = app.page.locator(".js-plotly-plot").filter(has_text="VAE, 2-D latent").first
    app.scroll_under_header(plot)
    app.page.wait_for_timeout(300)
    target = app.page.evaluate(_POINT_JS, ["VAE", test_point])
    assert target is not None, "no clickable point on the VAE's latent scatter"
    x, y, cd = target
    app.act(lambda: app.page.mouse.click(x, y))
    want = "decoded: test image #" if test_point else "decoded: an empty spot"
    app.wait_until("(w) => [...document.querySelectorAll('.gtitle')].some(t => t.textContent.startsWith(w))",
                   want, timeout=20_000)
    title = next(t for t in app.page.locator(".gtitle").all_text_contents() if t.startswith("decoded:"))
    if not test_point:      # the decoded spot is where we clicked, up to the grid's spacing
        got = [float(v) for v in title.rsplit("(", 1)[1].rstrip(")").split(",")]
        assert abs(got[0] - cd[0]) < 0.05 and abs(got[1] - cd[1]) < 0.05, (got, cd)
    assert not app.js_errors, app.js_errors
    app.full_screenshot(ARTIFACTS / f"autoencoder_latent_{'point' if test_point else 'empty'}.png")


def test_interpolation_between_two_drawn_inputs(ae_page):
    app = ae_page
    app.open_tab("Interpolation")
    app.page.locator("canvas.upper-canvas").nth(1).wait_for(state="visible")
    draw_on(app, DIGITS["7"], nth=1)
    app.wait_until("""() => [...document.querySelectorAll('.js-plotly-plot')].some(g =>
        (g._fullLayout.yaxis.ticktext || []).join() === 'linear,spherical,pixels'
        && g.querySelector('image'))""")
    text = app.main_text()
    assert "Current input: your drawing" in text.split("Pick B here")[1]       # B is the drawing
    assert not app.js_errors, app.js_errors
    plot = app.page.locator(".js-plotly-plot").filter(has_text="spherical").first
    app.scroll_under_header(plot, margin=-200)
    app.page.screenshot(path=str(ARTIFACTS / "autoencoder_interpolation.png"))
