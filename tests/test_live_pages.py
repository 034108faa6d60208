"""The live-training tabs through AppTest: start a run on each page, watch a few steps arrive, pause, step one batch,
stop; one run per session; the queue message when the server's slots are taken."""
import json
import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from dlviz.live import runner
from tests.conftest import ROOT, page_charts

APP = str(ROOT / "app.py")
TIMEOUT = 180
LIVE = "Live training"


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def text_of(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
                     + [w.value for w in at.warning])


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in page_charts(at):
        title = json.loads(chart.proto.spec).get("layout", {}).get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


def open_live(page: str, tab_key: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(page)
    at.run()
    at.session_state[tab_key] = LIVE
    at.run()
    return ok(at)


def button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def run_of(at: AppTest):
    return at.session_state["dlviz.live.run"].run


def watch_until(at: AppTest, condition, timeout: float = 120) -> AppTest:
    """Rerun the page (as the polling fragment would) until `condition(snapshot)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        ok(at)
        snap = run_of(at).snapshot()
        if condition(snap):
            at.run()                    # and draw it (the page drew the snapshot before this one)
            return ok(at)
        assert time.monotonic() < deadline, f"state {snap.state}, step {snap.step}, {snap.message}"
        time.sleep(0.3)


@pytest.fixture(autouse=True)
def stop_runs():
    """No test leaves a training thread behind."""
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("dlviz-live-"):
            thread.join(0)


def finish(at: AppTest) -> None:
    run = run_of(at)
    run.stop()
    assert run.join(30)


def test_cnn_tab_trains_pauses_steps_and_stops():
    at = open_live("pages/convolution.py", "conv.tab")
    assert "Press **Start**" in text_of(at)
    button(at, "live.cnn.start").click()
    at.run()
    ok(at)
    watch_until(at, lambda s: s.step >= 3 and s.arrays)
    text = text_of(at)
    assert "training" in text or "paused" in text
    titles = chart_titles(at)
    assert "Accuracy" in titles and "**Prediction:" in text
    assert "conv1's 8 kernels" in text
    button(at, "live.cnn.pause").click()
    at.run()
    ok(at)
    paused = run_of(at).snapshot()
    assert paused.state == runner.PAUSED
    time.sleep(0.5)
    assert run_of(at).snapshot().step == paused.step
    button(at, "live.cnn.step").click()
    at.run()
    ok(at)
    assert run_of(at).snapshot().step == paused.step + 1
    assert f"step {paused.step + 1:,} of" in text_of(at)
    button(at, "live.cnn.stop").click()
    at.run()
    ok(at)
    assert run_of(at).snapshot().state == runner.STOPPED and "stopped by you" in text_of(at)
    finish(at)


def test_cnn_learning_rate_changes_while_it_trains_and_a_new_run_replaces_the_old():
    at = open_live("pages/convolution.py", "conv.tab")
    button(at, "live.cnn.start").click()
    at.run()
    first = run_of(at)
    watch_until(at, lambda s: s.step >= 1 and s.arrays)
    at.select_slider(key="live.cnn.lr.adam").set_value(0.01)
    watch_until(at, lambda s: s.arrays.get("learning_rate") == pytest.approx(0.01))
    at.toggle(key="live.cnn.shuffle").set_value(True)
    at.run()
    button(at, "live.cnn.start").click()          # "Start a new run": one run per session
    at.run()
    ok(at)
    assert run_of(at) is not first
    assert first.join(30) and first.snapshot().state == runner.STOPPED
    watch_until(at, lambda s: s.arrays and s.step >= 1)
    finish(at)


def test_latent_tab_trains_and_beta_reaches_the_run():
    at = open_live("pages/autoencoder.py", "ae.tab")
    button(at, "live.latent.start").click()
    at.run()
    watch_until(at, lambda s: s.step >= 3 and s.arrays)
    assert "codes (μ) of 500 test images" in text_of(at)
    assert len(at.get("image")) >= 2                     # the scatter and the decoded grid, as pictures
    at.slider(key="live.latent.beta").set_value(3.0)
    watch_until(at, lambda s: s.arrays.get("beta") == pytest.approx(3.0))
    assert "VAE, β = 3" in text_of(at)
    finish(at)


def test_gan_tab_trains_both_models_on_the_ring():
    at = open_live("pages/gan.py", "gan.tab")
    button(at, "live.gan2d.start").click()
    at.run()
    watch_until(at, lambda s: s.step >= 2 and s.arrays)
    text = text_of(at)
    assert "**DCGAN (binary cross-entropy)**, step" in text and "**WGAN-GP (critic, gradient penalty)**" in text
    assert "Modes covered (of 8)" in chart_titles(at)
    assert len(at.get("image")) >= 2                     # the two planes
    finish(at)


def test_drawn_target_without_a_drawing_asks_for_one():
    at = open_live("pages/gan.py", "gan.tab")
    at.radio(key="live.gan.target").set_value("drawn")
    at.run()
    button(at, "live.gan2d.start").click()
    at.run()
    assert not at.exception
    assert any("Draw a shape" in w.value for w in at.warning)
    assert "dlviz.live.run" not in at.session_state


def test_a_full_server_queues_the_run_with_a_message(monkeypatch):
    pool = runner.RunPool(capacity=0)                   # every slot taken
    monkeypatch.setattr(runner, "POOL", pool)
    import dlviz.ui.live as ui_live

    monkeypatch.setattr(ui_live, "POOL", pool)
    at = open_live("pages/gan.py", "gan.tab")
    button(at, "live.gan2d.start").click()
    at.run()
    ok(at)
    assert run_of(at).snapshot().state == runner.QUEUED
    assert any("number 1 in the queue" in i.value for i in at.info)
    finish(at)
