"""Issue 9's bad-input corpus (tests/bad_input_corpus.py, built in memory) through every entry point that takes a
file: the decoder, the upload widget of every page and slot (AppTest), and the command line.

Each refused file must give a message naming the file and saying why, never a traceback, and leave the previous
input in use (the next rerun still shows it); each usable file becomes the input and the page answers it (a blank
image with the page's hint instead of a result). A refused file is not left listed in the uploader.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dlviz.inputs import ChosenInput, EmptyInputError, InputError, decode_upload, model_view
from tests.bad_input_corpus import Case, case, corpus
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
TIMEOUT = 300
CASES = corpus()
NAMES = [c.name for c in CASES]


# --------------------------------------------------------------------------- the decoder and the recipes


@pytest.mark.parametrize("c", CASES, ids=NAMES)
def test_decoder_refuses_with_a_reason_or_gives_a_small_upright_image(c: Case):
    if c.refuse:
        with pytest.raises(InputError) as err:
            decode_upload(c.data, c.name)
        message = str(err.value)
        assert c.name in message and c.refuse.lower() in message.lower(), message
        assert "Traceback" not in message and "\n" not in message
        return
    d = decode_upload(c.data, c.name)
    assert d.rgb.dtype == np.uint8 and d.rgb.ndim == 3 and d.rgb.shape[2] == 3
    assert max(d.rgb.shape[:2]) <= 1024 and min(d.rgb.shape[:2]) >= 1
    for dataset in ("mnist", "fashion"):
        try:
            view = model_view(ChosenInput.from_rgb(d.rgb, "upload", c.name), dataset)
        except EmptyInputError:
            assert c.blank, f"{c.name} was taken for a blank image"
            continue
        assert not c.blank, f"{c.name} is blank but got a prediction view"
        assert view.image.shape == (28, 28) and np.isfinite(view.image).all()


def test_exif_orientation_is_applied():
    d = decode_upload(case("exif_rotated.jpg").data)
    assert d.rgb.shape[:2] == (100, 60) and d.full_size == (100, 60)          # portrait again
    ink = d.rgb[..., 0] > 128
    assert ink.any(axis=1).sum() > 50 and ink.any(axis=0).sum() <= 12          # the stroke stands upright


def test_animated_gif_uses_its_first_frame_and_the_huge_photo_is_shrunk():
    first = decode_upload(case("animated.gif").data).rgb
    assert first[0, 0, 0] < 50 and first[60, 45, 0] > 200                      # white stroke on black (frame 1)
    huge = decode_upload(case("huge_photo.jpg").data)
    assert huge.full_size == (4000, 6000) and huge.rgb.shape == (683, 1024, 3)


def test_the_byte_limit_message_never_says_the_limit_equals_the_size():
    message = str(pytest.raises(InputError, decode_upload, case("toobig.png").data, "toobig.png").value)
    assert "20.0 MB" not in message and "limit is 20 MB" in message, message


# --------------------------------------------------------------------------- every upload widget (AppTest)


def _open(page: str, setup: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(page)
    at.run()
    for key, value in (setup or {}).items():
        at.session_state[key] = value
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _uploader(at: AppTest, prefix: str):
    """The slot's uploader, whichever generation of its key it has (`dlviz.upload`, `dlviz.upload.3`, ...)."""
    base = f"{prefix}.upload"
    found = [u for u in at.get("file_uploader") if u.key == base or (u.key or "").startswith(base + ".")]
    assert len(found) == 1, [u.key for u in at.get("file_uploader")]
    return found[0]


def _same_input(a: ChosenInput, b: ChosenInput) -> bool:
    return a.source == b.source and a.name == b.name and np.array_equal(a.rgb, b.rgb)


def _ok(at: AppTest, what: str) -> None:
    assert not at.exception, (what, [e.value for e in at.exception])


# (id, page, slot prefix, session state to set first); every place a user can upload a file
ENTRY_POINTS = [
    ("convolution", "pages/convolution.py", "dlviz", None),
    ("pooling", "pages/pooling.py", "dlviz", None),
    ("autoencoder", "pages/autoencoder.py", "dlviz", None),
    ("autoencoder_b", "pages/autoencoder.py", "dlviz.b", {"ae.tab": "Interpolation"}),
    ("gan_critic", "pages/gan.py", "dlviz", {"gan.tab": "Your input vs the critic"}),
    ("unet_digits", "pages/unet.py", "dlviz.unet.digits", None),
    ("unet_membrane", "pages/unet.py", "dlviz.unet.membrane", {"unet.mode": "membrane"}),
]


@pytest.mark.parametrize("page,prefix,setup", [e[1:] for e in ENTRY_POINTS], ids=[e[0] for e in ENTRY_POINTS])
def test_every_upload_widget_takes_the_whole_corpus(page, prefix, setup):
    at = _open(page, setup)
    input_key = f"{prefix}.input"
    previous = at.session_state[input_key]
    for c in CASES:
        _uploader(at, prefix).set_value((c.name, c.data, "application/octet-stream")).run()
        _ok(at, c.name)
        now = at.session_state[input_key]
        errors = " ".join(e.value for e in at.error)
        if c.refuse:
            assert c.name in errors and c.refuse.lower() in errors.lower(), (c.name, errors)
            assert "previous input is still in use" in errors
            assert _same_input(now, previous), f"{c.name}: the refused file replaced the input"
            assert _uploader(at, prefix).value is None, f"{c.name}: the refused file is still listed"
            at.run()                                     # the next interaction: same input, same message
            _ok(at, c.name + " (next run)")
            assert _same_input(at.session_state[input_key], previous)
            continue
        assert c.name not in errors, (c.name, errors)
        assert now.source == "upload" and now.name == c.name
        assert f"Current input: **{c.name}" in " ".join(m.value for m in at.markdown)
        if prefix == "dlviz" and c.blank:                # the shared page header: a hint instead of a result
            assert any("blank" in i.value or "Nothing to recognise" in i.value for i in at.info), c.name
        previous = now


# --------------------------------------------------------------------------- the command line


def test_cli_reports_every_bad_file_and_predicts_every_usable_one(tiny_pretrained, tmp_path, capsys):
    from dlviz.__main__ import main

    d, name = tiny_pretrained
    paths = []
    for c in CASES:
        p = tmp_path / c.name
        p.write_bytes(c.data)
        paths.append(str(p))
    code = main(["--pretrained", str(d), "predict", *paths, "--model", name, "--json"])
    rows = {r["file"]: r for r in json.loads(capsys.readouterr().out)}
    assert code == 1
    for c, path in zip(CASES, paths):
        r = rows[path]
        if c.refuse:
            assert c.refuse.lower() in r["error"].lower(), (c.name, r)
        elif c.blank:
            assert "error" in r and ("blank" in r["error"] or "Nothing" in r["error"]), (c.name, r)
        else:
            assert "error" not in r and abs(sum(r["probs"].values()) - 1) < 1e-4, (c.name, r)


# --------------------------------------------------------------------------- the canvas


@pytest.mark.parametrize("shape", [(0, 10, 4), (10, 10), (10, 10, 2), (3000, 20, 4)])
def test_canvas_pixels_of_a_wrong_shape_or_size_are_refused_with_a_message(shape):
    from dlviz.inputs import canvas_to_rgb

    with pytest.raises(InputError) as err:
        canvas_to_rgb(np.full(shape, 255, np.uint8))
    assert "drawing" in str(err.value)


# --------------------------------------------------------------------------- the picker in a real browser

ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="module")
def browser_app(tmp_path_factory):
    from tests.browser_helpers import (CHROMIUM, CHROMIUM_ARGS, App, StreamlitServer, require_browser,
                                       require_models)

    require_browser()
    require_models(["cnn_mnist"], "python -m dlviz.train cnn --dataset mnist")
    from playwright.sync_api import sync_playwright

    srv = StreamlitServer(tmp_path_factory.mktemp("streamlit") / "streamlit.log")
    try:
        srv.start(timeout=120)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            app = App(page, srv.url)
            app.goto("/convolution", timeout=180_000)
            yield app
            browser.close()
    finally:
        srv.stop()


def _boxes_overlap(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.browser
def test_browser_canvas_toolbar_leaves_the_tab_labels_free(browser_app):
    app = browser_app
    app.open_tab("Draw")
    canvas = app.canvas()
    canvas.hover()
    toolbar = app.page.locator(".dc-toolbar").first
    app.page.wait_for_function("(t) => getComputedStyle(t).opacity === '1'", arg=toolbar.element_handle())
    app.page.wait_for_timeout(400)                       # its slide-up transition
    ARTIFACTS.mkdir(exist_ok=True)
    app.page.screenshot(path=str(ARTIFACTS / "picker_toolbar_hover.png"))
    bar = toolbar.bounding_box()
    for name in ("Draw", "Upload", "Samples"):
        tab = app.page.get_by_role("tab", name=name).first.bounding_box()
        assert not _boxes_overlap(bar, tab), f"the canvas toolbar {bar} covers the {name} tab {tab}"


@pytest.mark.browser
def test_browser_upload_empties_the_drawing_and_a_refused_file_is_not_listed(browser_app, tmp_path):
    from tests.browser_helpers import DIGITS

    app = browser_app
    app.draw(DIGITS["1"])
    assert "Current input: your drawing" in app.main_text()
    good = tmp_path / "stroke.jpg"
    good.write_bytes(case("exif_rotated.jpg").data)
    app.upload(good)
    app.wait_until("() => document.querySelector('[data-testid=\"stMain\"]').innerText"
                   ".includes('Current input: stroke.jpg')")
    # the uploader is empty again (the file lives on as the input, named in the status line)
    assert app.page.locator('[data-testid="stFileUploaderFile"]').count() == 0
    app.open_tab("Draw")
    app.canvas()                                         # the new (empty) canvas has mounted
    app.page.wait_for_timeout(500)
    ink = app.page.evaluate("""() => {
        let lit = 0;
        for (const c of document.querySelectorAll('[data-testid="stMain"] canvas')) {
            if (!c.width || !c.height) continue;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 0; i < d.length; i += 4) if (d[i] > 128 && d[i + 3] > 128) lit++;
        }
        return lit; }""")
    assert ink == 0, f"the Draw tab still shows the old drawing ({ink} white pixels) while the upload is in use"
    app.page.screenshot(path=str(ARTIFACTS / "picker_draw_after_upload.png"))

    bad = tmp_path / "notes.png"
    bad.write_text("not an image at all")
    app.upload(bad)
    error = app.page.locator('[data-testid="stAlertContentError"]', has_text="notes.png")
    error.wait_for(timeout=30_000)
    assert app.page.locator('[data-testid="stFileUploaderFile"]').count() == 0, "the refused file is still listed"
    assert "Current input: stroke.jpg" in app.main_text()
    app.scroll_under_header(app.page.get_by_text("Current input:").first)
    app.page.screenshot(path=str(ARTIFACTS / "picker_refused_upload.png"))
