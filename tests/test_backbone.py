"""MobileNetV2 as an optional backbone: offline it says so and the rest works; downloads are complete or absent."""
import json

import keras
import numpy as np
import pytest

from dlviz import backbone, explain
from tests.test_pages import open_page, prediction_title, text_of

NOWHERE = "http://127.0.0.1:9"          # the discard port: connection refused at once, as on an offline machine


@pytest.fixture
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv(backbone.URL_ENV, NOWHERE)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras" / "models"


def test_offline_the_backbone_is_refused_with_a_clear_message(offline):
    with pytest.raises(backbone.BackboneUnavailable, match="cannot reach 127.0.0.1:9.*works offline"):
        backbone.load_backbone()
    assert not offline.exists() or not any(offline.iterdir())        # no half-downloaded file left behind


def test_download_reports_progress_and_is_complete_or_absent(tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(np.random.default_rng(0).bytes(300_000))
    seen = []
    dest = backbone.download(source.as_uri(), tmp_path / "cache" / "w.h5", lambda done, total: seen.append(done))
    assert dest.read_bytes() == source.read_bytes()
    assert seen == sorted(seen) and seen[-1] == 300_000 and len(seen) > 1
    seen.clear()
    backbone.download(source.as_uri(), dest, lambda done, total: seen.append(done))
    assert seen == []                                            # cached: not fetched again
    with pytest.raises(backbone.BackboneUnavailable):
        backbone.download((tmp_path / "missing").as_uri(), tmp_path / "cache" / "x.h5")
    assert not (tmp_path / "cache" / "x.h5").exists() and not (tmp_path / "cache" / "x.h5.part").exists()


def test_a_damaged_cached_file_is_removed(offline):
    offline.mkdir(parents=True)
    (offline / backbone.WEIGHTS_FILE).write_bytes(b"not an h5 file")
    (offline / backbone.CLASSES_FILE).write_text(json.dumps({"0": ["n0", "tench"]}))
    with pytest.raises(backbone.BackboneUnavailable, match="could not be read"):
        backbone.load_backbone()
    assert not (offline / backbone.WEIGHTS_FILE).exists()


def test_mobilenet_v2_structure_works_in_the_inspector():
    """The architecture itself (random weights, no download): depthwise convolutions, Conv → BatchNorm → ReLU6,
    residual additions; every Conv2D value and its BatchNorm are reproduced by the numpy reference."""
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=0.35)
    inspector = explain.Inspector(model, xla=False)
    image = np.random.default_rng(1).uniform(-1, 1, (96, 96, 3)).astype("float32")
    maps, probs = inspector.run(image)
    assert probs.shape == (1000,) and "expanded_conv_depthwise" in inspector.names
    for name in ("Conv1", "block_1_expand", "block_16_project"):
        ch, r, c = explain.strongest_cell(maps[name])
        arith = explain.output_arithmetic(inspector, image, maps, name, r, c, ch)
        assert arith.computed == pytest.approx(arith.keras_value, rel=1e-3, abs=1e-4), name
        assert arith.batchnorm is not None
        assert arith.batchnorm.value == pytest.approx(arith.batchnorm.keras_value, rel=1e-3, abs=1e-3), name
    with pytest.raises(ValueError, match="Conv2D and pooling"):
        explain.output_arithmetic(inspector, image, maps, "expanded_conv_depthwise", 0, 0, 0)


def test_the_page_offline_says_so_and_the_shipped_model_still_works(offline):
    at = open_page("pages/convolution.py")
    at.segmented_control(key="dlviz.model.source.widget").set_value("mobilenet").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("cannot reach" in e.value and "works offline" in e.value for e in at.error)
    assert any(b.label == "Try again" for b in at.button)
    at.button(key="dlviz.backbone.retry").click().run()       # still offline: the same message, one button
    assert not at.exception, [e.value for e in at.exception]
    assert any("cannot reach" in e.value for e in at.error)
    assert [b.label for b in at.button if b.key == "dlviz.backbone.retry"] == ["Try again"]
    at.segmented_control(key="dlviz.model.source.widget").set_value("shipped").run()
    assert not at.exception and prediction_title(at).startswith("Prediction: ")
    at.switch_page("pages/pooling.py").run()
    assert not at.exception and "predicts" in text_of(at)
