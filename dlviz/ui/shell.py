"""What every page and the app need: process start-up, making sure a page runs inside app.py, and the sidebar's
settings (language, presenter mode), shareable link and exports.

Pieces of Streamlit behaviour the app relies on and that no public API covers; they live only here, each
checked by a test in tests/test_pages.py that fails loudly when a Streamlit upgrade changes it:

* `enter_app` flips Streamlit's private `PagesManager.uses_pages_directory` (see its docstring). The documented
  way to avoid the legacy `pages/` mode is to name the folder something else; the product keeps `pages/`.
* `start_up` freezes the garbage collector once. After every rerun Streamlit runs `gc.collect(2)` (config option
  `runner.postScriptGC`, on by default) and, when Keras is imported, `keras.backend.clear_session()` (which
  collects again and empties TensorFlow's kernel cache; `dlviz.explain.Inspector` keeps its own compiled
  functions for that reason). With TensorFlow's millions of long-lived objects each pass costs ~100 ms; frozen
  into the permanent generation they are not scanned again.
* `start_up` replaces the script runner's private `_clean_problem_modules` so that Keras' session is no longer
  cleared after every run (`keep_keras_session`; checked by tests/test_shell.py).
* `start_up` also wraps `st.plotly_chart` (`dlviz.ui.charts.install`: presenter style, PNG file names, exports;
  checked by tests/test_links.py).
* `start_up_with_server` is the lifespan of the `st.App` in app.py, which `streamlit run app.py` finds by reading
  the file (Streamlit 1.67's app discovery); checked by tests/test_shell.py.

Session state and URL parameters of the shell (one documented name each):
    dlviz.lang   the language ("en" / "ko"); URL `?lang=ko`, first default from the browser (`st.context.locale`)
    present      presenter mode (the toggle's key); URL `?present=true` (bound by Streamlit, absent when off)
"""
from __future__ import annotations

import gc
import sys
import threading
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import streamlit as st

from dlviz import i18n
from dlviz.i18n import t
from dlviz.ui import charts

_started = False
_start_lock = threading.Lock()
_app_run = threading.local()    # .page: this thread is running a page through app.py (`run_page`)
ENTERED = "dlviz.shell.entered"
CHART_BUNDLE = "dlviz.shell.chart_bundle"
CHART_BUNDLE_KEY = "dlviz-chart-bundle"
LANG = "dlviz.lang"
LANG_WIDGET = "dlviz.lang.widget"


def start_up() -> None:
    """Once per process, from app.py: import TensorFlow and Keras, then `gc.freeze()` everything alive.

    Deliberately here and not in a cached loader: a freeze inside a loader would run whenever the cache is
    (re)filled, in whichever session's thread, and freeze that session's objects with it.
    """
    global _started
    with _start_lock:
        if _started:
            return
        import keras  # noqa: F401  (the imports are the point: their objects are what gets frozen)
        import tensorflow  # noqa: F401

        keep_keras_session()
        quiet_bucket_tracing()
        gc.collect()
        gc.freeze()
        # A fragment rerun does not run app.py (and may run on another thread): t() then asks the session.
        i18n.set_resolver(lambda: st.session_state.get(LANG))
        charts.install()
        _started = True


@asynccontextmanager
async def start_up_with_server(_app):
    """The lifespan of app.py's `st.App`: `start_up` begins in a thread as soon as the server starts, so the
    TensorFlow import (~2 s) overlaps the browser's first page load instead of following it. The first session's
    script waits in `start_up` (its lock) for whatever is left; if the import fails there, it fails again in
    that script, visibly.

    Plotly peeks into `sys.modules` for pandas and PIL.Image while it builds a chart (to recognise their types);
    the TensorFlow import brings both in, and half-imported by that thread they would fail the hidden chart of a
    session's first run (`load_chart_bundle`: "partially initialized module 'pandas' has no attribute 'Series'").
    So they are imported here, before the thread starts (~0.15 s, before any session exists)."""
    import pandas  # noqa: F401
    import PIL.Image  # noqa: F401

    threading.Thread(target=start_up, name="dlviz-start-up", daemon=True).start()
    yield


def load_chart_bundle() -> None:
    """Every run: a hidden container at the top of the page; on a session's first run, one tiny Plotly chart in it.

    The browser fetches and parses Plotly's 4.7 MB bundle only when a page's first chart arrives (~1.8 s on this
    machine); with this chart in the run's first messages it does so while the server is still importing
    TensorFlow and loading the page's model. The container itself is sent on every run: the browser tells
    elements apart by their position, and a container that vanished after the first run would shift every element
    below it, remounting the drawing canvas (a drawn digit lost) and every chart. A plain dict, so the export
    wrapper (`dlviz.ui.charts`) skips the chart."""
    st.html(f"<style>.st-key-{CHART_BUNDLE_KEY} {{display: none}}</style>")      # a style only: takes no place
    with st.container(key=CHART_BUNDLE_KEY):
        if st.session_state.get(CHART_BUNDLE):
            return
        st.session_state[CHART_BUNDLE] = True
        st.plotly_chart({"data": [{"type": "scatter", "x": [0], "y": [0]}], "layout": {"height": 10}},
                        config={"staticPlot": True, "displayModeBar": False}, key=f"{CHART_BUNDLE_KEY}-chart")


class _BucketTracingFilter:
    """Drops TensorFlow's "N out of the last M calls to <function> triggered tf.function retracing" warning."""

    def filter(self, record) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def quiet_bucket_tracing() -> None:
    """Silence a warning that is wrong for dlviz: the model wrappers (`dlviz.coder`, `dlviz.gan_sampler`,
    `dlviz.explain`, `dlviz.saliency`) trace one function per fixed batch size, each exactly once, from one line
    of code; TensorFlow counts traces per line of code, so a page that warms four models reads as "excessive
    retracing" in the server log (dozens of lines) although nothing is traced twice."""
    import tensorflow as tf

    logger = tf.get_logger()
    if not any(isinstance(f, _BucketTracingFilter) for f in logger.filters):
        logger.addFilter(_BucketTracingFilter())


def keep_keras_session() -> bool:
    """Stop Streamlit's `keras.backend.clear_session()` after every script run; True if its hook was replaced.

    Streamlit's script runner calls its private `_clean_problem_modules` after each run: it clears Keras' global
    session (a guard from TF1 days, when every run added to one global graph) and closes matplotlib figures.
    dlviz never builds a model per run (models live in cached resources or in a session's own objects), so the
    call only costs: a full `gc.collect()` plus emptying TensorFlow's kernel cache, 67 ms per rerun measured with
    the 20 models loaded (and the next model call is slower). Worse, it resets Keras' global state from one
    session's thread while another session may be building a model (an uploaded model, a live-training run).
    The matplotlib half is kept. tests/test_shell.py fails loudly if a Streamlit upgrade moves the hook.
    """
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        return False
    if not callable(getattr(script_runner, "_clean_problem_modules", None)):
        return False

    def close_matplotlib_figures() -> None:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            try:
                plt.close("all")
            except Exception:  # noqa: S110  (as Streamlit's own: never fail a run over this)
                pass

    current = script_runner._clean_problem_modules
    # the hook it replaced, for tests that need Streamlit's own behaviour back (also after a second call)
    close_matplotlib_figures.streamlit_original = getattr(current, "streamlit_original", current)
    script_runner._clean_problem_modules = close_matplotlib_figures
    return True


def _legacy_pages_mode() -> bool | None:
    """Streamlit's private flag "this server runs the legacy pages/ folder mode", or None if it is gone."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return None
    value = getattr(PagesManager, "uses_pages_directory", None)
    return value if isinstance(value, bool) else None


def run_page(page) -> None:
    """app.py's `page.run()`, marked as a run through app.py for `enter_app` (this script thread, this run)."""
    _app_run.page = True
    try:
        page.run()
    finally:
        _app_run.page = False


def enter_app() -> None:
    """Call first in every page.

    Streamlit decides once per server whether the app uses the legacy `pages/` folder mode, and it does so before
    app.py has had a chance to call `st.navigation`. When a fresh server's first visitor opens a page URL directly
    (a shared link), that legacy mode runs the page file on its own: no app layout, a raw file list as the menu.
    Switching the flag off and rerunning sends the visit through app.py, which then shows the requested page.

    Whether this run is such a bare run is read from the run itself (`run_page` marks runs through app.py), not
    from the flag: when two visitors open deep links on a fresh server at once, both first runs are bare, and the
    second found the flag already switched off by the first and stayed bare (raw file list, no language
    switch; seen with two browsers). The rerun happens at most once until app.py has run (`settings` clears the
    mark), so a Streamlit version where the flag means something else can never loop (tests/test_pages.py checks
    the flag still exists and still works this way; tests/test_browser_lecture.py opens a deep link on a fresh
    server).

    No public replacement exists in Streamlit 1.67: the mode is chosen from the folder's existence when the first
    session starts, and `st.navigation` (which turns it off) only runs inside app.py.
    """
    if getattr(_app_run, "page", False) or st.session_state.get(ENTERED):
        return
    st.session_state[ENTERED] = True
    if _legacy_pages_mode():
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
    st.rerun()


# --------------------------------------------------------------------------- the sidebar: settings, link, exports

def _first_language() -> str:
    """?lang= of the link, else the browser's language, else English."""
    from_url = i18n.normalize(st.query_params.get("lang"))
    if from_url:
        return from_url
    try:
        return i18n.normalize(st.context.locale) or i18n.DEFAULT
    except Exception:       # AppTest and old Streamlit versions: no browser locale
        return i18n.DEFAULT


def settings() -> str:
    """Language and presenter mode, at the top of the sidebar; call at the top of every full run (app.py).

    Sets the language of this script run (`dlviz.i18n.set_language`) before any page text is made, writes it to
    the URL, and adds presenter mode's large-type CSS while it is on. Returns the language.
    """
    st.session_state.pop(ENTERED, None)        # app.py runs: a later bare page run may send it here again
    if LANG not in st.session_state:
        st.session_state[LANG] = _first_language()
    st.session_state[LANG_WIDGET] = st.session_state[LANG]

    def remember():
        st.session_state[LANG] = st.session_state[LANG_WIDGET]

    lang = st.sidebar.segmented_control(
        "Language / 언어", i18n.LANGUAGES, format_func=i18n.LANGUAGE_NAMES.get, key=LANG_WIDGET,
        on_change=remember, required=True) or st.session_state[LANG]
    i18n.set_language(lang)
    st.query_params["lang"] = lang
    presenting = st.sidebar.toggle(t("Presenter mode"), key=charts.PRESENTER, bind="query-params",
                                   help=t("Large type, thick lines and high-contrast colours for a projector."))
    if presenting:
        st.html(PRESENTER_CSS)
    return lang


# Large type for the lecture hall: Streamlit sizes its text in rem, so one root size scales nearly everything.
PRESENTER_CSS = """<style>
html { font-size: 22px; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
[data-testid="stCaptionContainer"], [data-testid="stWidgetLabel"] p { font-size: 1.05rem; line-height: 1.45; }
[data-testid="stCaptionContainer"] { color: #222 !important; }
h1 { font-size: 2.2rem !important; }
</style>"""


def share_and_export(title: str) -> None:
    """The sidebar's "Share & export" part; call after the page ran (app.py), so the record holds its charts."""
    record = charts.view_record()
    record.url = _view_url()
    side = st.sidebar
    side.divider()
    side.markdown("**" + t("Share this view") + "**")
    side.caption(t("The address bar always holds this view (page, dataset, sample, tab, settings, language): "
                   "copy it to share or bookmark it."))
    current = st.session_state.get("dlviz.input")
    if current is not None and getattr(current, "source", "sample") != "sample":
        side.info(t("A drawn or uploaded input cannot travel in a link: whoever opens it sees the sample "
                    "instead."), icon=":material/link_off:")
    side.markdown("**" + t("Export") + "**")
    side.caption(t("Every chart has a camera button (top right of the chart) that saves it as a PNG."))
    if not record.figures:
        return
    stem = f"dlviz-{charts._slug(title)}"
    lang = i18n.language()

    def snapshot() -> str:
        i18n.set_language(lang)        # runs when clicked, outside the script run
        return charts.html_snapshot(record, f"dlviz: {title}", t("Snapshot of the view, made"))

    side.download_button(t("Arrays of this view (.npz)"), data=lambda: charts.npz_bytes(record),
                         file_name=f"{stem}.npz", mime="application/octet-stream", icon=":material/download:",
                         on_click="ignore", key="dlviz.export.npz")
    side.download_button(t("Snapshot of this view (.html)"), data=snapshot, file_name=f"{stem}.html",
                         mime="text/html", icon=":material/download:", on_click="ignore",
                         key="dlviz.export.html")


def start_view(page_title: str) -> None:
    """Forget the previous run's charts (a full run redraws them all); call before the page runs."""
    charts.view_record().clear(page_title, "", i18n.language())


def _view_url() -> str:
    """This view's link as the server knows it (the browser's address bar is the authority)."""
    try:
        base = (st.context.url or "").split("?")[0]
    except Exception:
        base = ""
    query = urlencode(st.query_params.to_dict())
    return f"{base}?{query}" if base and query else base
