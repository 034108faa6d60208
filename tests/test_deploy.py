"""The deployment's warm-up: a replica takes students only after every page and tab was opened once.

deploy/Dockerfile starts `bench/soak.py --warm-only --ready-file /tmp/dlviz-ready` beside the server and
deploy/k8s.yaml's readiness probe waits for that file; deploy/replicas.sh runs the same warm-up before nginx.
"""
from __future__ import annotations

import json
import subprocess
import sys

from tests.browser_helpers import ROOT, StreamlitServer, free_port, require_models


def test_warm_only_opens_every_page_on_each_dataset_then_marks_the_replica_ready(tmp_path):
    require_models(["cnn_mnist", "cnn_fashion"], "python -m dlviz.train cnn --dataset mnist|fashion")
    server = StreamlitServer(tmp_path / "streamlit.log")
    ready = tmp_path / "ready"
    # Started before the server is up, as in the container: it waits for /_stcore/health itself.
    warm = subprocess.Popen([sys.executable, "bench/soak.py", "--warm-only", "--url", server.url,
                             "--warmup-limit", "300", "--ready-file", str(ready)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        server.start(timeout=90)
        out, err = warm.communicate(timeout=400)
    finally:
        warm.kill()
        server.stop()
    assert warm.returncode == 0, f"{err}\n----- server log -----\n{server.log()[-5000:]}"
    assert ready.exists()
    result = json.loads(out.strip().splitlines()[-1])
    pages = ["home", "convolution", "pooling", "autoencoder", "gan", "unet"]
    seconds = {k: v for k, v in result["per_page_s"].items() if not k.startswith("dataset shown/")}
    assert set(seconds) == {f"{p}/{d}" for p in pages for d in ("mnist", "fashion")}
    # Each visitor's pages were on its dataset (a session keeps the dataset it started with): the Fashion-MNIST
    # models were loaded and compiled too, not only the MNIST ones twice.
    assert "Fashion" not in result["per_page_s"]["dataset shown/mnist"]
    assert "Fashion" in result["per_page_s"]["dataset shown/fashion"]


def test_warm_only_fails_without_a_server(tmp_path):
    ready = tmp_path / "ready"
    done = subprocess.run([sys.executable, "bench/soak.py", "--warm-only", "--url", f"http://127.0.0.1:{free_port()}",
                           "--warmup-limit", "2", "--ready-file", str(ready)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "did not become healthy" in done.stderr
    assert not ready.exists()
