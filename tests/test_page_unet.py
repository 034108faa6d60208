"""The U-Net page through Streamlit's AppTest (the canvas is driven in tests/test_browser_unet.py).

Runs on the project's pretrained/ weights (the trained U-Net, no-skip and membrane models and their bundled
samples), so it also checks that the page's numbers are those of a working model.
"""
import io
import json

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from dlviz import registry
from tests.conftest import ROOT, page_charts

APP = str(ROOT / "app.py")
NEEDED = ("seg_digits_unet", "seg_digits_noskip", "seg_membrane_unet")


@pytest.fixture(autouse=True)
def real_weights(monkeypatch):
    monkeypatch.delenv("DLVIZ_PRETRAINED", raising=False)
    models = registry.read_manifest().get("models", {})
    if not all(name in models for name in NEEDED):
        pytest.fail("the U-Net page's models are not in pretrained/ (python -m dlviz.train unet ...)")
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def open_unet() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("pages/unet.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
                     + [i.value for i in at.info] + [w.value for w in at.warning])


def chart(at, key: str) -> dict:
    for c in page_charts(at):
        if c.proto.id.endswith(key):            # keyed elements' ids end with the user's key
            return json.loads(c.proto.spec)
    raise AssertionError(f"no chart {key}: {[c.proto.id for c in at.get('plotly_chart')]}")


def annotation_texts(spec: dict) -> list[str]:
    """Panel titles as read on screen: narrow panels break them over lines with <br>."""
    return [a.get("text", "").replace("<br>", " ") for a in spec.get("layout", {}).get("annotations", [])]


def miou_in(title: str) -> float:
    return float(title.rsplit("mIoU ", 1)[1])


def test_digit_scene_sample_is_segmented_and_scored():
    at = open_unet()
    text = texts(at)
    assert "digit scene #0" in text
    accuracy = float(text.split("Pixel accuracy **")[1].split("%")[0]) / 100
    assert accuracy > 0.95                      # a bundled test scene, segmented by the trained U-Net
    assert len(at.dataframe) == 1 and "IoU" in at.dataframe[0].value.columns
    titles = annotation_texts(chart(at, "unet.compare"))
    unet, noskip = (t for t in titles if t.startswith(("U-Net", "no skips")))
    assert miou_in(unet) > miou_in(noskip)      # the lesson of the page, measured on this scene
    assert "ground truth" in titles
    assert [t.label.split(" ")[0] for t in at.toggle if t.key.startswith("unet.")] == ["skip"] * 4


def test_switching_skips_off_degrades_the_mask():
    at = open_unet()
    full = miou_in(annotation_texts(chart(at, "unet.compare"))[0])
    for level in range(4):
        at.toggle(key=f"unet.skip{level}").set_value(False)
    at.run()
    assert not at.exception
    titles = annotation_texts(chart(at, "unet.compare"))
    off = next(t for t in titles if "off" in t)
    assert "skips 0, 1, 2, 3 off" in off and miou_in(off) < full - 0.2


def test_membrane_mode_threshold_and_unlabelled_slices():
    at = open_unet()
    at.segmented_control(key="unet.mode").set_value("membrane").run()
    assert not at.exception, [e.value for e in at.exception]
    text = texts(at)
    assert "training slice 25, held out" in text
    acc = float(text.split("Pixel accuracy **")[1].split("%")[0]) / 100
    assert acc > 0.85
    at.slider(key="unet.threshold").set_value(0.9).run()
    acc_high = float(texts(at).split("Pixel accuracy **")[1].split("%")[0]) / 100
    assert acc_high != acc
    # an unlabelled test slice: a mask, no score
    at.number_input(key="dlviz.unet.membrane.sample.pos.unet.em").set_value(7).run()
    assert not at.exception
    assert "No ground truth" in texts(at) and len(at.dataframe) == 0


def test_uploaded_photo_of_digits_on_paper_is_prepared_and_segmented():
    from dlviz.registry import load_samples

    x, y = load_samples("mnist")
    paper = np.full((140, 420), 235, np.uint8)
    for i, k in enumerate((0, 150, 300)):        # three digits, dark ink, drawn 4× MNIST size
        digit = np.asarray(Image.fromarray(x[k]).resize((112, 112), Image.Resampling.BILINEAR))
        paper[14:126, 20 + 130 * i:132 + 130 * i] = np.minimum(paper[14:126, 20 + 130 * i:132 + 130 * i],
                                                             255 - digit)
    buf = io.BytesIO()
    Image.fromarray(paper).save(buf, format="PNG")
    at = open_unet()
    at.file_uploader(key="dlviz.unet.digits.upload").set_value(("digits.png", buf.getvalue(), "image/png")).run()
    assert not at.exception, [e.value for e in at.exception]
    text = texts(at)
    assert "digits.png" in text and "inverted" in text
    overlay = chart(at, "unet.overlay")
    legend = [t.get("name") for t in overlay["data"] if t.get("showlegend")]
    assert {str(int(y[k])) for k in (0, 150, 300)} <= set(legend)     # the three digits are found


def test_bad_upload_keeps_the_page_running():
    at = open_unet()
    at.file_uploader(key="dlviz.unet.digits.upload").set_value(("x.png", b"not an image", "image/png")).run()
    assert not at.exception
    assert "x.png" in "\n".join(e.value for e in at.error)
    assert len(page_charts(at)) >= 4       # the previous input is still segmented


def test_focus_class_missing_from_the_next_scene_falls_back_to_one_present():
    """The TP/FP/FN class chosen for one scene may not exist in the next one: the map then shows a class that is
    present (a browser value outside the options is tests/test_widgets.py)."""
    d = registry.load_data("unet_samples")
    classes = [{int(c) - 1 for c in np.unique(m) if c} for m in d["scene_masks"]]
    first = sorted(classes[0])
    digit, later = next((dg, i) for dg in first for i in range(1, len(classes)) if dg not in classes[i])
    at = open_unet()
    focus = next(s for s in at.selectbox if s.key == "unet.focus.11")
    focus.set_value(str(digit)).run()
    assert not at.exception and f"“{digit}”: TP" in chart(at, "unet.outcome")["layout"]["title"]["text"]
    example = next(n for n in at.number_input if n.label.startswith("Example"))
    example.set_value(later).run()
    assert not at.exception, [e.value for e in at.exception]
    title = chart(at, "unet.outcome")["layout"]["title"]["text"]
    shown = title.split("“")[1].split("”")[0]
    assert shown != str(digit) and int(shown) in classes[later]
