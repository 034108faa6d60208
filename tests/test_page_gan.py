"""The GAN page through Streamlit's AppTest: every tab, the widgets, both datasets, a missing weight file."""
import json
import shutil

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dlviz import registry
from tests.conftest import ROOT, page_charts

APP = str(ROOT / "app.py")
PAGE = "pages/gan.py"
TIMEOUT = 180


def gan_names(dataset=None, directory=None):
    return [c.name for c in registry.model_cards(directory, family="gan", dataset=dataset)]


pytestmark = pytest.mark.skipif(not gan_names("mnist"), reason="no GAN trained on MNIST in pretrained/")


def text_of(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
                     + [e.value for e in at.error] + [w.value for w in at.warning])


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in page_charts(at):
        title = json.loads(chart.proto.spec).get("layout", {}).get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def open_gan(tab: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(PAGE)
    at.run()
    ok(at)
    if tab:
        at.session_state["gan.tab"] = tab
        at.run()
        ok(at)
    return at


@pytest.fixture(scope="module")
def page():
    return open_gan()


def test_page_shows_the_model_and_its_judged_metrics(page):
    text = text_of(page)
    assert "judged by `cnn_mnist`" in text and "IS **" in text and "Fréchet" in text
    model = page.get("button_group")            # the model selector (segmented control)
    assert model, "no model selector"


def test_sample_grid_follows_count_seed_and_truncation():
    at = open_gan()
    assert "32 samples of z ~ N(0, I)" in text_of(at)
    at.slider(key="gan.count").set_value(64).run()
    ok(at)
    assert "64 samples of z ~ N(0, I)" in text_of(at)
    at.number_input(key="gan.seed").set_value(7).run()
    at.slider(key="gan.psi").set_value(0.5).run()
    ok(at)
    assert "seed 7, ψ = 0.50" in text_of(at)


def test_latent_sliders_move_the_chosen_sample():
    at = open_gan("Latent sliders")
    assert any("each row: one direction" in t for t in chart_titles(at))
    at.slider(key="gan.move.principal directions.0").set_value(2.0).run()
    ok(at)
    at.radio(key="gan.slider_mode").set_value("raw dimensions").run()
    ok(at)
    assert "z[0] (now" in " ".join(s.label for s in at.slider)


def test_interpolation_shows_linear_and_spherical_paths():
    at = open_gan("Interpolation")
    titles = chart_titles(at)
    assert "linear (lerp)" in titles and "spherical (slerp)" in titles
    assert "keeps |z| on the sphere" in text_of(at)
    at.slider(key="gan.steps").set_value(5).run()
    ok(at)


def test_critic_scores_the_users_input_against_real_and_generated_histograms():
    at = open_gan("Your input vs the critic")
    text = text_of(at)
    assert "gives your input **" in text and "real test images" in text
    # another sample as input: the score sentence is recomputed
    at.selectbox(key="dlviz.sample.class.mnist").set_value("7").run()
    ok(at)
    assert "gives your input **" in text_of(at)


def test_training_timeline_slider_and_mode_collapse_meter():
    at = open_gan("Training timeline")
    assert any(": step " in t for t in chart_titles(at))
    slider = at.slider(key="gan.tl.mnist")
    slider.set_value(2).run()
    ok(at)
    assert any(": step " in t for t in chart_titles(at))
    at.session_state["gan.tab"] = "Mode collapse"
    at.run()
    ok(at)
    text = text_of(at)
    assert "Classes with ≥ 5 %" in text and "diversity" in text


def test_nearest_training_image_searches_the_bundled_subset():
    at = open_gan("Nearest training image")
    assert "bundled subset of" in text_of(at)
    assert any("5 nearest training images" in t for t in chart_titles(at))


@pytest.mark.skipif(not gan_names("fashion"), reason="no GAN trained on Fashion-MNIST")
def test_fashion_dataset():
    at = open_gan()
    at.session_state["dlviz.dataset.widget"] = "fashion"
    at.session_state["dlviz.dataset"] = "fashion"
    at.run()
    ok(at)
    assert "judged by `cnn_fashion`" in text_of(at)


def test_a_corrupt_weight_file_gives_a_clear_message(tmp_path, monkeypatch):
    copy = tmp_path / "pretrained"
    shutil.copytree(registry.pretrained_dir(), copy)
    card = registry.model_card(gan_names("mnist")[0], copy)
    (copy / card.file).write_bytes(b"not weights")
    monkeypatch.setenv(registry.PRETRAINED_ENV, str(copy))
    st.cache_resource.clear()          # the models loaded by earlier tests of this process
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert any("corrupt or were replaced" in e.value for e in at.error)
    st.cache_resource.clear()          # later tests must not see the corrupt copy's (absent) cache entries


def test_a_class_conditional_gan_is_listed_after_the_unconditional_ones_and_draws_one_row_per_class_code(tmp_path, monkeypatch):
    from dlviz import train
    from tests.conftest import write_fake_dataset

    copy = tmp_path / "pretrained"
    shutil.copytree(registry.pretrained_dir(), copy)
    data = write_fake_dataset(tmp_path / "mnist.npz", n_train=64, n_test=30)
    assert train.main(["gan", "--loss", "dcgan", "--dataset", "mnist", "--data", str(data), "--batch-size", "8",
                       "--latent-dim", "16", "--gen-filters", "8", "--disc-filters", "8", "--eval-samples", "100",
                       "--snapshots", "2", "--steps", "2", "--categories", "10", "--labelled-code", "--no-xla",
                       "--name", "gan_acgan_mnist", "--out", str(copy)]) == 0
    monkeypatch.setenv(registry.PRETRAINED_ENV, str(copy))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = open_gan()
    model = at.segmented_control(key="gan.model.mnist")
    assert model.options == ["DCGAN", "WGAN-GP", "Class-conditional DCGAN", "Collapsed DCGAN"]
    model.set_value("gan_acgan_mnist").run()
    ok(at)
    assert "Class-conditional DCGAN (AC-GAN, trained with the labels)" in text_of(at)
    at.toggle(key="gan.by_code").set_value(True).run()
    ok(at)
    assert any(title.startswith("row c: code c") for title in chart_titles(at))
    assert at.slider(key="gan.count").disabled          # the rows always show the seed's first 8 samples
    assert "code c makes class c" in text_of(at)
    st.cache_resource.clear()          # later tests must not see this copy's models
    st.cache_data.clear()


def test_settings_survive_a_visit_to_another_tab():
    at = open_gan()
    at.number_input(key="gan.seed").set_value(7).run()
    at.slider(key="gan.count").set_value(12).run()
    at.session_state["gan.tab"] = "Nearest training image"
    at.run()
    ok(at)
    assert "of seed 7" in text_of(at)
    at.session_state["gan.tab"] = "Samples"
    at.run()
    ok(at)
    assert at.number_input(key="gan.seed").value == 7 and at.slider(key="gan.count").value == 12
