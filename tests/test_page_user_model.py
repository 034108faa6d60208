"""The Convolution and Pooling pages with a model the user uploads, and the "Why this class?" tab (AppTest)."""
import json

import keras
import numpy as np
import pytest
from keras import layers

from tests.conftest import page_charts
from tests.test_pages import open_page, open_tab, prediction_title, text_of
from tests.test_user_model import bn_strided, nested, rgb_cnn

UPLOAD = "dlviz.user_model.upload"


def model_uploader(at):
    """The model uploader, whichever generation of its key it has: a new file gets it a fresh key (emptied)."""
    found = [u for u in at.get("file_uploader") if u.key == UPLOAD or (u.key or "").startswith(UPLOAD + ".")]
    assert len(found) == 1, [u.key for u in at.get("file_uploader")]
    return found[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    out = {}
    for name, build in (("cifar.keras", rgb_cnn), ("bn.keras", bn_strided), ("nested.keras", nested)):
        build().save(d / name)
        out[name] = (d / name).read_bytes()
    marker = d / "ran"
    touch = eval(f"lambda x: (open({str(marker)!r}, 'w').write('ran'), x)[1]")
    evil = keras.Sequential([keras.Input((8, 8, 1)), layers.Lambda(touch), layers.Conv2D(2, 3), layers.Flatten(),
                             layers.Dense(2)])
    evil.save(d / "evil.keras")
    marker.unlink()
    out["evil.keras"] = (d / "evil.keras").read_bytes()
    out["marker"] = marker
    return out


def your_model(page: str, files, name: str):
    at = open_page(page)
    at.segmented_control(key="dlviz.model.source.widget").set_value("yours").run()
    assert not at.exception
    assert "Upload a .keras file" in text_of(at)
    model_uploader(at).set_value((name, files[name], "application/octet-stream")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_titles(at) -> str:
    """Every figure's panel titles (annotations) and title, one per line."""
    out = []
    for chart in page_charts(at):
        layout = json.loads(chart.proto.spec).get("layout", {})
        out += [a.get("text", "") for a in layout.get("annotations", [])]
        title = layout.get("title", {})
        out.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return "\n".join(out).replace("<br>", " ")        # narrow panels break long titles in two lines


def test_an_uploaded_rgb_cnn_drives_the_convolution_page(files):
    at = your_model("pages/convolution.py", files, "cifar.keras")
    text = text_of(at)
    assert "**cifar.keras**: input 32×32×3, 10 outputs" in text
    assert "✓ equals" in text and "✗" not in text and "over 3 input channels" in text
    assert prediction_title(at).startswith("Prediction: ")
    names = "plane, car, bird, cat, deer, dog, frog, horse, ship, truck"
    at.text_area(key=next(w.key for w in at.text_area if w.key.startswith("dlviz.user_model.classes"))) \
        .set_value(names).run()
    assert any(prediction_title(at).startswith(f"Prediction: {c.strip()} ") for c in names.split(","))
    at.segmented_control(key="conv.layer").set_value("p2").run()
    assert "maximum" not in text_of(at) and "average" in text_of(at) and "✓ equals" in text_of(at)
    open_tab(at, "Layers, parameters, MACs")
    assert "3·3·3·6 + 6 = 168" in str(at.dataframe[0].value.to_dict())
    # the model stays for the session: the Pooling page uses it too
    at.switch_page("pages/pooling.py").run()
    assert not at.exception
    assert "cifar.keras" in text_of(at)


def test_batchnorm_and_strides_are_explained_on_the_page(files):
    at = your_model("pages/convolution.py", files, "bn.keras")
    at.segmented_control(key="conv.layer").set_value("pre_bn").run()
    story = text_of(at)
    assert "BatchNorm `bn`" in story and "Folded into the convolution" in story and "✗" not in story
    at.segmented_control(key="conv.layer").set_value("dilated").run()
    assert "dilation 2×2" in text_of(at)


def test_a_nested_model_lists_its_inner_layers(files):
    at = your_model("pages/convolution.py", files, "nested.keras")
    assert "block/conv" in at.segmented_control(key="conv.layer").options
    at.segmented_control(key="conv.layer").set_value("block/conv").run()
    assert "✓ equals" in text_of(at)


def test_refused_uploads_say_why_and_the_page_keeps_running(files):
    at = your_model("pages/convolution.py", files, "evil.keras")
    assert any("refused" in e.value and "Lambda" in e.value for e in at.error)
    assert not files["marker"].exists()
    assert not model_uploader(at).value, "a refused file must not stay listed in the uploader as if in use"
    model_uploader(at).set_value(("photo.keras", b"\x89PNG\r\n\x1a\nnot a model", "image/png")).run()
    assert not at.exception
    assert any("not a Keras model file" in e.value for e in at.error)
    model_uploader(at).set_value(("cifar.keras", files["cifar.keras"], "application/octet-stream")).run()
    assert not at.exception and not at.error
    assert "input 32×32×3" in text_of(at)


def test_why_tab_explains_the_shipped_cnn_and_a_contrast():
    at = open_page("pages/convolution.py")
    at.selectbox(key="dlviz.sample.class.mnist").set_value("7").run()
    open_tab(at, "Why this class? (Grad-CAM, saliency)")
    assert not at.exception, [e.value for e in at.exception]
    titles = chart_titles(at)
    for title in ("Grad-CAM (conv6, 7×7)", "gradients", "SmoothGrad", "integrated gradients"):
        assert title in titles
    assert "Why **7**?" in text_of(at)
    versus = next(w for w in at.selectbox if w.key.startswith("why.versus"))
    versus.set_value(1).run()
    assert "Why **7** and not **1**?" in text_of(at)
    at.slider(key="why.opacity").set_value(0.2).run()
    assert not at.exception


def test_why_tab_on_an_uploaded_model(files):
    at = your_model("pages/convolution.py", files, "cifar.keras")
    open_tab(at, "Why this class? (Grad-CAM, saliency)")
    assert not at.exception, [e.value for e in at.exception]
    assert "Grad-CAM (c2, 15×15)" in chart_titles(at)
    spec = json.loads(next(c.proto.spec for c in page_charts(at) if "Grad-CAM" in c.proto.spec))
    assert [d["type"] for d in spec["data"]] == ["image"] * 4


def test_an_uploaded_photo_runs_through_your_model_at_full_size(files):
    from tests.test_pages import png_bytes

    at = your_model("pages/convolution.py", files, "cifar.keras")
    photo = np.zeros((120, 200, 3), np.uint8)
    photo[:, :100] = (200, 40, 40)
    photo[30:90, 120:180] = (20, 200, 60)
    at.file_uploader(key="dlviz.upload").set_value(("photo.png", png_bytes(photo), "image/png")).run()
    assert not at.exception, [e.value for e in at.exception]
    open_tab(at, "Network on the full image")
    # the whole picture (not the 32×32 input) through the trained conv stack: 120×200 -> c1 118×198
    assert "Input 120×200 (whole image) → `c1` 118×198×6" in text_of(at)
    scaling = next(w.key for w in at.radio if w.key.startswith("dlviz.user_model.scaling"))
    at.radio(key=scaling).set_value("0–255").run()
    assert not at.exception and "values 0–255" in text_of(at)
