"""Every page through Streamlit's AppTest, with each input source AppTest can drive (the canvas needs a browser)."""
import io
import json

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, page_charts

APP = str(ROOT / "app.py")
TIMEOUT = 120


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def text_of(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
                     + [e.value for e in at.error] + [w.value for w in at.warning])


def prediction_title(at: AppTest) -> str:
    """The probability chart's title, 'Prediction: <class> (<p>%)'."""
    for chart in page_charts(at):
        spec = json.loads(chart.proto.spec)
        title = spec.get("layout", {}).get("title", {})
        text = title.get("text", "") if isinstance(title, dict) else str(title)
        if text.startswith("Prediction:"):
            return text
    raise AssertionError("no prediction chart on the page")


def png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_home_lists_every_page_with_a_preview():
    at = open_page()
    from dlviz.catalog import PAGES

    links = [p.proto.label for p in at.get("page_link")]
    for page in PAGES:
        assert any(page.title in label for label in links)
        assert page.teaches in text_of(at)
    assert len(page_charts(at)) == len(PAGES)


def test_convolution_page_explains_a_sample_end_to_end():
    at = open_page("pages/convolution.py")
    from dlviz import registry

    x, y = registry.load_samples("mnist")
    assert prediction_title(at).startswith(f"Prediction: {y[0]} ")
    story = text_of(at)
    assert "ReLU: max(0," in story and "✓ equals" in story and "✗" not in story
    open_tab(at, "Layers, parameters, MACs")
    assert "3·3·1·16 + 16 = 160" in str(at.dataframe[0].value.to_dict())


def test_convolution_page_follows_the_sample_picker_and_the_layer_choice():
    at = open_page("pages/convolution.py")
    from dlviz import registry

    x, y = registry.load_samples("mnist")
    at.selectbox(key="dlviz.sample.class.mnist").set_value("7").run()
    assert prediction_title(at).startswith("Prediction: 7 ")
    at.number_input(key="dlviz.sample.pos.mnist").set_value(5).run()
    assert prediction_title(at).startswith("Prediction: 7 ")
    at.segmented_control(key="conv.layer").set_value("pool1").run()
    assert not at.exception
    story = text_of(at)
    assert "maximum" in story and "✓ equals" in story
    at.segmented_control(key="conv.layer").set_value("conv4").run()
    row = next(w for w in at.number_input if w.label == "Row")
    row.set_value(0).run()                                       # a border cell: half the patch is padding
    assert "[0, " in text_of(at)
    assert "✓ equals" in text_of(at)


def test_fashion_dataset_switches_model_and_samples():
    at = open_page("pages/convolution.py")
    at.segmented_control(key="dlviz.dataset.widget").set_value("fashion").run()
    assert not at.exception
    from dlviz.datasets import FASHION

    title = prediction_title(at)
    assert any(f"Prediction: {c} " in title for c in FASHION.classes)


def test_upload_a_light_background_photo_of_a_digit():
    at = open_page("pages/convolution.py")
    img = np.full((300, 240, 3), 235, np.uint8)                # white paper
    img[60:250, 110:135] = 30                                  # a dark vertical stroke: a "1"
    at.file_uploader(key="dlviz.upload").set_value(("one.png", png_bytes(img), "image/png")).run()
    assert not at.exception
    assert prediction_title(at).startswith("Prediction: 1 ")


@pytest.mark.parametrize("name,data,message", [
    ("notes.png", b"just some text, not an image", "image"),
    ("empty.png", b"", "empty"),
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
])
def test_bad_uploads_show_a_message_and_keep_the_previous_input(name, data, message):
    at = open_page("pages/convolution.py")
    before = prediction_title(at)
    at.file_uploader(key="dlviz.upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert name in errors and message.lower() in errors.lower() and "previous input is still in use" in errors
    assert prediction_title(at) == before


def open_tab(at: AppTest, label: str) -> AppTest:
    """Tabs run lazily (only the open one): open one the way a click on it does."""
    at.session_state["conv.tab"] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_closed_tabs_do_not_run():
    at = open_page("pages/convolution.py")
    assert "Output size: rows" not in text_of(at)          # the playground is closed
    open_tab(at, "Convolution playground")
    assert "Output size: rows" in text_of(at)
    assert "One value, step by step" not in [s.value for s in at.subheader]


def test_playground_formula_and_custom_kernel():
    at = open_tab(open_page("pages/convolution.py"), "Convolution playground")
    at.slider(key="play.stride").set_value(2).run()
    at.radio(key="play.padmode").set_value("valid").run()
    assert "⌊(28 − 3) / 2⌋ + 1 = 13" in text_of(at)
    at.selectbox(key="play.preset").set_value("custom").run()
    at.text_area(key="play.custom").set_value("1 2\n3 4").run()    # even size: refused with a message
    assert not at.exception
    assert any("odd" in e.value.lower() for e in at.error)


def test_input_survives_a_page_switch():
    at = open_page("pages/convolution.py")
    at.selectbox(key="dlviz.sample.class.mnist").set_value("3").run()
    chosen = at.session_state["dlviz.input"]
    at.switch_page("pages/pooling.py").run()
    assert not at.exception
    assert at.session_state["dlviz.input"] is chosen


def test_pooling_page_numbers_and_settings():
    at = open_page("pages/pooling.py")
    story = text_of(at)
    assert "max = **" in story and "average = (" in story
    at.slider(key="pool.size").set_value(3).run()
    at.slider(key="pool.stride").set_value(3).run()
    assert not at.exception
    assert "⌊(28 − 3) / 3⌋ + 1 = 9" in text_of(at)
    at.radio(key="pool.padding").set_value("same").run()
    assert "⌈28 / 3⌉ = 10" in text_of(at)
    at.selectbox(key="pool.source").set_value("the 28×28 input").run()
    assert not at.exception


def test_a_corrupt_model_shows_a_message_in_the_page_and_other_pages_still_work(tmp_path, monkeypatch):
    from dlviz import registry

    broken = tmp_path / "pretrained"
    broken.mkdir()
    for f in registry.PRETRAINED_DIR.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "cnn_mnist.weights.h5").write_bytes(b"garbage")
    monkeypatch.setenv(registry.PRETRAINED_ENV, str(broken))
    st.cache_resource.clear()      # models loaded by earlier tests must not hide the broken file
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/convolution.py").run()
    assert not at.exception
    assert any("corrupt" in e.value for e in at.error)
    at.switch_page("pages/home.py").run()
    assert not at.exception and at.title[0].value == "dlviz"
    st.cache_resource.clear()


# --------------------------------------------------------------------------- the shared picker, for other pages

PICKER_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
import numpy as np
import streamlit as st
from dlviz.inputs import SampleSet
from dlviz.ui.input_picker import input_picker, input_with_view

images = np.zeros((3, 20, 40), np.uint8)
for i in range(3):
    images[i, 5:15, 5 + 10 * i:12 + 10 * i] = 255
masks = (images > 0).astype(np.uint8)
scenes = SampleSet("scenes", "wide scene", images, ["left", "middle", "right"], masks=masks)

a = input_picker("mnist", slot="a", default_index=0)
b = input_picker("mnist", slot="b", default_index=1)
c, view, right = input_with_view("mnist", slot="seg", canvas=(560, 280), samples=scenes)
st.session_state["out"] = (a, b, c, view)
"""


def picker_app() -> AppTest:
    at = AppTest.from_string(PICKER_SCRIPT.format(root=str(ROOT)), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_picker_slots_hold_independent_inputs():
    from dlviz import registry

    x, y = registry.load_samples("mnist")
    at = picker_app()
    a, b, _, _ = at.session_state["out"]
    assert (a.index, b.index) == (0, 1)
    assert np.array_equal(a.rgb[..., 0], x[0]) and np.array_equal(b.rgb[..., 0], x[1])
    at.selectbox(key="dlviz.b.sample.class.mnist").set_value("7").run()
    a, b, _, _ = at.session_state["out"]
    first_seven = int(np.flatnonzero(y == 7)[0])
    assert (a.index, b.index) == (0, first_seven) and b.label == "7"
    # each slot has its own session keys; the shared main input and the URL are untouched
    assert "dlviz.a.input" in at.session_state and "dlviz.b.input" in at.session_state
    assert "dlviz.input" not in at.session_state
    assert "sample" not in at.query_params
    bad = ("notes.png", b"not an image", "image/png")
    at.file_uploader(key="dlviz.a.upload").set_value(bad).run()
    assert not at.exception
    a2, b2, _, _ = at.session_state["out"]
    assert a2.index == 0 and b2.index == first_seven       # a refused upload keeps slot a's input, b untouched
    assert len(at.error) == 1 and "notes.png" in at.error[0].value


def test_picker_offers_a_page_sample_set_and_returns_no_mnist_view():
    at = picker_app()
    _, _, c, view = at.session_state["out"]
    assert view is None
    assert c.source == "sample" and c.sample_set == "scenes" and c.index == 0 and c.label == "left"
    assert c.rgb.shape == (20, 40, 3) and c.rgb.dtype == np.uint8
    at.selectbox(key="dlviz.seg.sample.class.scenes").set_value("right").run()
    _, _, c, _ = at.session_state["out"]
    assert (c.index, c.label) == (2, "right")
    expected = np.zeros((20, 40), np.uint8)
    expected[5:15, 25:32] = 255                               # the third scene, built by hand above
    assert np.array_equal(c.rgb[..., 1], expected)
    assert "Current: wide scene #2" in " ".join(cap.value for cap in at.caption)


def test_main_slot_keeps_its_keys_and_url():
    at = open_page("pages/convolution.py")
    at.selectbox(key="dlviz.sample.class.mnist").set_value("3").run()
    chosen = at.session_state["dlviz.input"]
    assert chosen.label == "3" and at.query_params["sample"] == str(chosen.index)


@pytest.mark.parametrize("sample,dataset,index,title", [
    ("5", "mnist", 5, "MNIST digits"),
    ("7", "fashion", 7, "Fashion-MNIST"),
    ("²", "mnist", 0, "MNIST digits"),           # str.isdigit() accepts superscripts, int() does not
    ("-3", "nonsense", 0, "MNIST digits"),
    ("99999999999999999999", "mnist", 0, "MNIST digits"),
])
def test_shared_links_restore_sample_and_dataset(sample, dataset, index, title):
    """A shared link ?dataset=...&sample=... opens on that input; anything else falls back to the first sample."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["sample"] = sample
    at.query_params["dataset"] = dataset
    at.run()
    at.switch_page("pages/convolution.py").run()
    assert not at.exception, [e.value for e in at.exception]
    chosen = at.session_state["dlviz.input"]
    assert chosen.source == "sample" and chosen.index == index
    assert chosen.dataset == (dataset if dataset in ("mnist", "fashion") else "mnist")
    assert at.query_params["sample"] == str(index)


# --------------------------------------------------------------------------- issue 5: inputs, tabs, values


def chart_text(at: AppTest) -> str:
    """Every plotly chart's spec as readable text (titles, annotations), for "is this panel there" checks; titles
    that narrow panels break over lines read as one line."""
    return "\n".join(json.dumps(json.loads(c.proto.spec), ensure_ascii=False).replace("<br>", " ")
                     for c in page_charts(at))


def fashion_page() -> AppTest:
    at = open_page("pages/convolution.py")
    at.segmented_control(key="dlviz.dataset.widget").set_value("fashion").run()
    assert not at.exception
    return at


def product_shot() -> np.ndarray:
    """A trouser on white, as a shop photographs it: a dark 28×12 Fashion-MNIST test-like shape, much bigger."""
    img = np.full((420, 360, 3), 250, np.uint8)
    img[40:400, 110:170] = 40            # left leg
    img[40:400, 190:250] = 40            # right leg
    img[40:120, 110:250] = 40            # waist
    return img


def test_fashion_upload_uses_the_fashion_recipe_and_caption():
    at = fashion_page()
    at.file_uploader(key="dlviz.upload").set_value(("trousers.png", png_bytes(product_shot()), "image/png")).run()
    assert not at.exception
    assert prediction_title(at).startswith("Prediction: Trouser ")
    story = text_of(at)
    assert "Fashion-MNIST was made" in story and "longest side resized to 28" in story
    assert "MNIST was made" not in story.replace("Fashion-MNIST was made", "")


def test_a_photo_without_a_digit_still_shows_every_view():
    """A scene (smooth blobs over the whole picture): a prediction with a note, and the tabs that exist for such
    photos all work, instead of the page stopping at "no visible digit"."""
    rng = np.random.default_rng(4)
    scene = np.asarray(Image.fromarray(rng.uniform(0, 255, (5, 7, 3)).astype(np.uint8)).resize(
        (640, 427), Image.Resampling.BICUBIC))
    at = open_page("pages/convolution.py")
    at.file_uploader(key="dlviz.upload").set_value(("temple.jpg", png_bytes(scene), "image/png")).run()
    assert not at.exception
    assert prediction_title(at).startswith("Prediction: ")
    assert any("does not look like the training data" in w.value for w in at.warning)
    open_tab(at, "Network on the full image")
    assert "Input " in text_of(at) and "first 16 maps" in text_of(at)
    open_tab(at, "Convolution playground")
    at.radio(key="play.source").set_value("full image, colour (RGB)").run()
    assert not at.exception and "sum of the 3 = output" in chart_text(at)


def test_a_blank_upload_gets_the_hint_alone():
    at = open_page("pages/convolution.py")
    blank = np.full((100, 100, 3), 200, np.uint8)
    at.file_uploader(key="dlviz.upload").set_value(("blank.png", png_bytes(blank), "image/png")).run()
    assert not at.exception
    assert any("blank" in i.value for i in at.info)
    assert not [c for c in page_charts(at) if "Prediction:" in c.proto.spec]


def test_network_on_the_full_image_tab():
    at = open_page("pages/convolution.py")
    open_tab(at, "Network on the full image")
    assert any("Samples are only 28×28" in i.value for i in at.info)     # a bundled sample: nothing bigger
    at.file_uploader(key="dlviz.upload").set_value(("one.png", png_bytes(product_shot()), "image/png")).run()
    open_tab(at, "Network on the full image")
    caption = next(c.value for c in at.caption if "first 16 maps" in c.value)
    # the cleaned image is at most 384 px on its long side; conv1 keeps the size (same padding)
    assert "→ `conv1` " in caption and "×16;" in caption
    at.segmented_control(key="photo.layer").set_value("pool2").run()
    assert not at.exception
    caption = next(c.value for c in at.caption if "first 16 maps" in c.value)
    h, w = (int(v) for v in caption.split("Input ")[1].split(" ")[0].split("×"))
    assert f"`pool2` {h // 4}×{w // 4}×32" in caption       # two 2×2 poolings


@pytest.mark.parametrize("source,expected", [
    ("full image, grey", "input (grey)"),
    ("full image, colour (RGB)", "sum of the 3 = output"),
    ("28×28 model input", "output 26×26"),
])
def test_playground_sources(source, expected):
    at = open_tab(open_page("pages/convolution.py"), "Convolution playground")
    at.radio(key="play.padmode").set_value("valid").run()
    at.radio(key="play.source").set_value(source).run()
    assert not at.exception
    assert expected in chart_text(at).replace("<br>", " ")        # narrow panels break their titles in two


def test_playground_explicit_padding_formula():
    at = open_tab(open_page("pages/convolution.py"), "Convolution playground")
    at.radio(key="play.padmode").set_value("explicit zeros").run()
    at.slider(key="play.pad").set_value(2).run()
    at.slider(key="play.stride").set_value(3).run()
    assert not at.exception
    assert "⌊(28 + 2·2 − 3) / 3⌋ + 1 = 10" in text_of(at)       # by hand: ⌊29 / 3⌋ + 1 = 10


def test_playground_values_stay_valid_when_the_output_shrinks():
    """An output row chosen on a big output must not break the page when stride 4 makes the output small."""
    at = open_tab(open_page("pages/convolution.py"), "Convolution playground")
    at.number_input(key="play.row").set_value(25).run()
    at.number_input(key="play.col").set_value(25).run()
    at.slider(key="play.stride").set_value(4).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Output = **" in text_of(at)


@pytest.mark.parametrize("text", ["1e400 0 0\n0 1 0\n0 0 0", "1e39", "9" * 5000, "1/0", "½ 1 1"])
def test_typed_kernels_never_break_the_page(text):
    at = open_tab(open_page("pages/convolution.py"), "Convolution playground")
    at.selectbox(key="play.preset").set_value("custom").run()
    at.text_area(key="play.custom").set_value(text).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.error and "Output = **" in text_of(at)          # a message, and the identity kernel meanwhile


def test_pooling_grid_cell_choice_moves_the_explanation():
    """The grid click sets `pool.cell` (what a click on the max grid does, see the browser test)."""
    at = open_page("pages/pooling.py")
    at.selectbox(key="pool.source").set_value("the 28×28 input").run()
    at.session_state["pool.cell"] = (2, 1)
    at.run()
    assert not at.exception
    assert "Output [2, 1] of the crop looks at crop rows 4–5, columns 2–3" in text_of(at)


def test_the_private_pages_flag_still_exists_and_navigation_turns_it_off():
    """dlviz.ui.shell.enter_app relies on Streamlit's private PagesManager.uses_pages_directory. If an upgrade
    renames it or changes what it means, this fails here (enter_app itself then does nothing, never loops)."""
    from streamlit.runtime.pages_manager import PagesManager

    from dlviz.ui import shell

    assert hasattr(PagesManager, "uses_pages_directory")      # None until a first session (a test alone) chose it
    assert PagesManager.uses_pages_directory in (None, True, False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert PagesManager.uses_pages_directory is False and shell._legacy_pages_mode() is False


def test_enter_app_reruns_at_most_once():
    """Even if the flag stayed on whatever enter_app does (a changed meaning), a page runs to its end."""
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from dlviz.ui import shell
shell._legacy_pages_mode = lambda: True          # stuck: a Streamlit whose flag means something else
st.session_state["runs"] = st.session_state.get("runs", 0) + 1
shell.enter_app()
st.write("ran to the end")
"""
    from dlviz.ui import shell

    original = shell._legacy_pages_mode              # the script replaces it in this very interpreter
    try:
        at = AppTest.from_string(script, default_timeout=TIMEOUT)
        at.run()
    finally:
        shell._legacy_pages_mode = original
    assert not at.exception
    assert at.markdown[0].value == "ran to the end" and at.session_state["runs"] == 2


def test_a_bare_page_run_goes_through_app_py_even_when_another_session_switched_the_flag_off():
    """Two visitors open deep links on a fresh server at once: both first runs are bare page runs, and the second
    one finds the flag already off (the first switched it). It must still rerun (through app.py in a server);
    it stayed bare before, with a raw file list for a menu. A run through app.py (`run_page`) never reruns."""
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from dlviz.ui import shell
shell._legacy_pages_mode = lambda: False         # another session's first run switched the flag off already
st.session_state["runs"] = st.session_state.get("runs", 0) + 1

class Page:
    def run(self):
        shell.enter_app()
        st.write("page ran")

if st.session_state.get("through_app"):
    shell.run_page(Page())
else:
    Page().run()
"""
    from dlviz.ui import shell

    original = shell._legacy_pages_mode
    try:
        at = AppTest.from_string(script, default_timeout=TIMEOUT)
        at.run()
        assert not at.exception and at.session_state["runs"] == 2          # the bare run was rerun once
        at.session_state["through_app"] = True
        at.session_state[shell.ENTERED] = False
        at.run()
        assert not at.exception and at.session_state["runs"] == 3          # through app.py: no rerun
        assert at.markdown[0].value == "page ran"
    finally:
        shell._legacy_pages_mode = original
