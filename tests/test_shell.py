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
