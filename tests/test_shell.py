"""The app shell's hooks into Streamlit internals: each must fail loudly when a Streamlit upgrade moves it."""
import keras


def streamlit_own_cleanup():
    """Streamlit's hook as shipped, also when an earlier test's app run already replaced it."""
    from streamlit.runtime.scriptrunner import script_runner

    hook = script_runner._clean_problem_modules
    return getattr(hook, "streamlit_original", hook)


def test_streamlit_still_has_the_hook_that_clears_keras_after_every_run():
    assert callable(streamlit_own_cleanup())


def test_page_runs_no_longer_clear_the_keras_session(monkeypatch):
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    from dlviz.ui.shell import keep_keras_session

    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: calls.append(1))
    monkeypatch.setattr(script_runner, "_clean_problem_modules", streamlit_own_cleanup())
    script = "import keras\nimport streamlit as st\nst.write('ran')\n"
    at = AppTest.from_string(script).run()
    assert not at.exception and calls, "Streamlit no longer clears Keras after a run: the hook can go"
    calls.clear()
    assert keep_keras_session()
    at.run()
    assert not at.exception and at.markdown[0].value == "ran" and not calls


def test_matplotlib_figures_are_still_closed_after_a_run(monkeypatch):
    """The half of Streamlit's clean-up that is kept: `pyplot.close("all")` when pyplot is imported."""
    import sys
    import types

    from streamlit.runtime.scriptrunner import script_runner

    from dlviz.ui.shell import keep_keras_session

    closed = []
    fake_pyplot = types.SimpleNamespace(close=lambda which: closed.append(which))
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", fake_pyplot)
    monkeypatch.setattr(script_runner, "_clean_problem_modules", streamlit_own_cleanup())
    keep_keras_session()
    script_runner._clean_problem_modules()
    assert closed == ["all"]


def test_streamlit_run_serves_app_py_through_its_st_app_whose_lifespan_starts_the_import(monkeypatch):
    """`streamlit run app.py` must find the `st.App` (else the lifespan never runs and the TensorFlow import waits
    for the first session again); imported as a module, app.py only builds that App and runs no page."""
    import asyncio
    import importlib.util
    import threading
    from pathlib import Path

    import streamlit as st
    from streamlit.web.server.app_discovery import discover_asgi_app

    from dlviz.ui import shell

    app_py = Path(__file__).resolve().parent.parent / "app.py"
    found = discover_asgi_app(app_py)
    assert found.is_asgi_app and found.app_name == "app"

    spec = importlib.util.spec_from_file_location("dlviz_app_module", app_py)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setattr(shell, "settings", lambda: (_ for _ in ()).throw(AssertionError("a page ran")))
    spec.loader.exec_module(module)
    assert isinstance(module.app, st.App)

    started = []
    monkeypatch.setattr(shell, "start_up", lambda: started.append(1))

    async def serve_briefly():
        async with shell.start_up_with_server(module.app):
            pass

    asyncio.run(serve_briefly())
    for thread in threading.enumerate():
        if thread.name == "dlviz-start-up":
            thread.join(5)
    assert started == [1]


def test_a_sessions_first_run_sends_one_hidden_chart_so_the_browser_loads_plotly_early():
    from streamlit.testing.v1 import AppTest

    from dlviz.ui.shell import CHART_BUNDLE_KEY

    script = ("import streamlit as st\nfrom dlviz.ui import shell\nshell.load_chart_bundle()\n"
              "st.slider('n', 0, 5, key='n')\n")
    at = AppTest.from_string(script).run()
    assert not at.exception
    layout = {i: (c.type, getattr(c, "key", None)) for i, c in at.main.children.items()}
    assert layout == {0: ("flex_container", CHART_BUNDLE_KEY), 1: ("slider", "n")}
    charts = at.get("plotly_chart")
    assert len(charts) == 1 and CHART_BUNDLE_KEY in charts[0].proto.id
    styles = [h.proto.body for h in at.get("html")]
    assert any(f".st-key-{CHART_BUNDLE_KEY}" in s and "display: none" in s for s in styles)
    at.slider[0].set_value(3).run()             # later runs: the hidden container stays (so the slider keeps its
    assert not at.exception and not at.get("plotly_chart")      # place in the page), without the chart
    assert [h.proto.body for h in at.get("html")] == styles
    assert {i: (c.type, getattr(c, "key", None)) for i, c in at.main.children.items()} == layout


def test_charts_build_while_the_start_up_thread_imports_tensorflow():
    """A fresh server's first session draws its hidden chart while the lifespan's thread is importing TensorFlow,
    which imports pandas; Plotly looks pandas up in `sys.modules` and failed on the half-imported module (CI:
    every first run of a fresh server could die). A fresh interpreter builds charts in a loop until the
    thread is done; none may fail."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = """
import asyncio, sys, threading, time
import plotly.io
from plotly.tools import return_figure_from_figure_or_data
from dlviz.ui import shell
assert "pandas" not in sys.modules      # else this test proves nothing

async def serve():
    async with shell.start_up_with_server(None):
        thread = next(t for t in threading.enumerate() if t.name == "dlviz-start-up")
        n = 0
        while thread.is_alive():
            fig = return_figure_from_figure_or_data({"data": [{"type": "scatter", "x": [0], "y": [0]}]}, True)
            plotly.io.to_json(fig, validate=False)
            n += 1
            time.sleep(0.002)     # a tight loop would hold the GIL and stall the import for a minute
        thread.join()
        print(n)
asyncio.run(serve())
"""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root), "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
    done = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) > 50        # charts really were built while the import ran


def test_tracing_one_function_per_batch_size_does_not_warn_of_retracing(caplog):
    """The model wrappers trace one fixed-signature function per batch size from one line of code; TensorFlow
    warned of "excessive retracing" for that (dozens of lines in the server log). Still warned before the filter,
    silent after it."""
    import logging

    import tensorflow as tf

    from dlviz.ui.shell import _BucketTracingFilter, quiet_bucket_tracing

    def trace_buckets():
        for b in (1, 2, 3, 4, 5, 6, 7):
            f = tf.function(lambda x: x * 2, input_signature=[tf.TensorSpec((b,), tf.float32)])
            f(tf.zeros((b,)))

    logger = tf.get_logger()
    kept = list(logger.filters)
    for f in kept:
        logger.removeFilter(f)
    try:
        with caplog.at_level(logging.WARNING, logger=logger.name):
            trace_buckets()
        assert any("retracing" in r.getMessage() for r in caplog.records)      # TensorFlow still says it
        caplog.clear()
        quiet_bucket_tracing()
        quiet_bucket_tracing()                                                   # once, however often called
        assert sum(isinstance(f, _BucketTracingFilter) for f in logger.filters) == 1
        with caplog.at_level(logging.WARNING, logger=logger.name):
            trace_buckets()
        assert not any("retracing" in r.getMessage() for r in caplog.records)
    finally:
        for f in list(logger.filters):
            logger.removeFilter(f)
        for f in kept:
            logger.addFilter(f)
