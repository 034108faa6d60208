"""`python -m dlviz models|predict`, run as a user would (subprocess) and in-process for the details."""
import json
import subprocess
import sys

import numpy as np
from PIL import Image

from dlviz.__main__ import main
from tests.conftest import ROOT


def _digit_png(path, invert=False):
    img = np.zeros((120, 90), np.uint8)
    img[20:100, 40:52] = 255                       # a thick vertical stroke
    if invert:
        img = 255 - img
    Image.fromarray(img).save(path)
    return path


def test_models_lists_the_manifest_as_json(tiny_pretrained, capsys):
    d, name = tiny_pretrained
    assert main(["--pretrained", str(d), "models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == name and "test_accuracy" in rows[0]["metrics"]


def test_predict_reports_bad_files_and_still_predicts_good_ones(tiny_pretrained, tmp_path, capsys):
    d, name = tiny_pretrained
    good = _digit_png(tmp_path / "one.png")
    twin = _digit_png(tmp_path / "one_on_paper.png", invert=True)
    bad = tmp_path / "notes.png"
    bad.write_text("this is text, not a picture")
    code = main(["--pretrained", str(d), "predict", str(good), str(bad), str(twin), "--model", name, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [r["file"] for r in out] == [str(good), str(bad), str(twin)]
    assert "error" in out[1] and "image" in out[1]["error"].lower()
    for r in (out[0], out[2]):
        assert set(r["probs"]) == set("0123456789")
        assert abs(sum(r["probs"].values()) - 1) < 1e-4
        assert r["label"] == max(r["probs"], key=r["probs"].get)
    # a dark-on-light photo of the same stroke is the same model input, so the same answer
    assert out[0]["probs"] == out[2]["probs"]


def test_predict_with_only_good_files_exits_zero(tiny_pretrained, tmp_path, capsys):
    d, name = tiny_pretrained
    assert main(["--pretrained", str(d), "predict", str(_digit_png(tmp_path / "a.png")), "--model", name]) == 0
    assert "a.png:" in capsys.readouterr().out


def test_unknown_model_is_a_message_not_a_traceback(tiny_pretrained, capsys):
    d, _ = tiny_pretrained
    assert main(["--pretrained", str(d), "predict", "x.png", "--model", "nope"]) == 2
    assert "No model named 'nope'" in capsys.readouterr().err


def test_the_real_cli_classifies_bundled_samples(tmp_path):
    """End to end with the committed model, as a user runs it."""
    from dlviz import registry

    x, y = registry.load_samples("mnist")
    files = []
    for i in (0, 150, 420):
        files.append(str(tmp_path / f"s{i}.png"))
        Image.fromarray(255 - x[i]).resize((280, 280)).save(files[-1])   # a big black-on-white version
    run = subprocess.run([sys.executable, "-m", "dlviz", "predict", *files, "--model", "cnn_mnist", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    labels = [r["label"] for r in json.loads(run.stdout)]
    assert labels == [str(y[i]) for i in (0, 150, 420)]
