"""Server time of one interaction per page, the model call alone, and the naive `model.predict` path for the ratio.

Run from the project root:

    .venv/bin/python bench/interactions.py                  # every scenario, 60 runs each, then a profiling pass
    .venv/bin/python bench/interactions.py --page pooling --runs 100 --json artifacts/bench.json

An *interaction* is one rerun after a widget change, driven through Streamlit's `AppTest` in this process: the
widget is set to the next of the scenario's values (cycled, so every rerun is a real change) and `at.run()` is
timed with `time.perf_counter`. That is the whole server side of a rerun (page script, widget handling, protobuf
messages) plus AppTest's own bookkeeping (parsing the messages into an element tree), so it is an upper bound of
what a real server spends. The *naive* column re-times the same interaction with `Inspector.run` monkeypatched to
call `keras.Model.predict` (what a straightforward app would do) instead of `predict_on_batch`; AppTest runs the
page script in this process, so the patch applies. `ratio` = naive median / median.

Three differences between AppTest and a browser talking to a real server are put back, so that a rerun costs what
it costs a server: a widget inside an `st.fragment` reruns only that fragment (`FrontendReruns`; `--full-reruns`
for AppTest's whole-page reruns), AppTest resets the `pages/`-folder flag before every run (which would make every
run execute the page twice, see `pin_pages_directory_flag`), and its script runner skips the server's post-run
`gc.collect(2)` (`ServerFidelity`; `--no-server-gc` leaves it out). A second table splits each interaction into the time until the page's last
element and Streamlit's post-run clean-up; a profiling pass then times the functions a rerun calls.

Each later page has its own small module, `bench/<page>.py` (listed in `PAGE_BENCHES`), that defines
`SCENARIOS` (and, for a new network, `MODEL_CALLS` and `PROFILE_TARGETS`) with the classes of this file; they are
gathered at start, so one command runs them all.
`--target-ms` makes the run a gate: exit code 1 when any p95 (interaction or model call, fast path) exceeds it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime as _dt  # noqa: E402
import functools  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

APP = ROOT / "app.py"
TIMEOUT = 120          # seconds per AppTest run; the first one loads TensorFlow and the model


# --------------------------------------------------------------------------------------------------------------
# The naive path
# --------------------------------------------------------------------------------------------------------------

def naive_inspector_run(self, image: np.ndarray):
    """`dlviz.explain.Inspector.run` with `keras.Model.predict`, as a first version of the app would call it."""
    import keras

    extractor = self.__dict__.get("_naive_extractor")
    if extractor is None:       # a plain feature-extraction model (the shipped CNNs have no nested sub-models)
        extractor = self.__dict__["_naive_extractor"] = keras.Model(
            self.model.input, [layer.output for layer in self.layers] + [self.model.output])
    outputs = extractor.predict(image[None, :, :, None].astype("float32"), verbose=0)
    maps = {name: np.asarray(out[0]) for name, out in zip(self.names, outputs[:-1])}
    return maps, np.asarray(outputs[-1][0])


@contextlib.contextmanager
def naive_keras_predict() -> Iterator[None]:
    """Every `Inspector.run` (the app's cached inspectors included) goes through `model.predict` meanwhile."""
    from dlviz.explain import Inspector

    original = Inspector.run
    Inspector.run = naive_inspector_run
    try:
        yield
    finally:
        Inspector.run = original


# --------------------------------------------------------------------------------------------------------------
# What to measure: later pages append here
# --------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    """One interaction: set `widget` = (AppTest element type, key) to the next of `values`, time the rerun.

    setup: (element type, key, value) set (one rerun each) before the warm-up, e.g. to pick a layer first;
        element type "session_state" sets `at.session_state[key]`, e.g. the open tab of `st.tabs(key=...)`.
    A widget inside an `st.fragment` reruns only that fragment, as in the browser (see `FrontendReruns`).
    naive: a context manager factory that swaps the fast model path for the naive one, or None (no model).
    """
    name: str
    page: str                                   # as given to AppTest.switch_page, relative to app.py
    widget: tuple[str, str]
    values: Sequence[Any]
    setup: Sequence[tuple[str, str, Any]] = ()
    naive: Callable[[], contextlib.AbstractContextManager] | None = naive_keras_predict
    note: str = ""


@dataclass(frozen=True)
class ModelCall:
    """The model call alone. `build()` loads what it needs once and returns (fast, naive) zero-argument calls.

    before_each: an untimed call before every timed one, e.g. what Streamlit does between two reruns.
    """
    name: str
    page: str                                   # for --page filtering: the page(s) that use this network
    build: Callable[[], tuple[Callable[[], Any], Callable[[], Any] | None]]
    before_each: Callable[[], Any] | None = None


def keras_clear_session() -> None:
    """What Streamlit's script runner does after every rerun when keras is imported (`_clean_problem_modules`),
    minus its gc.collect(): it also empties TensorFlow's kernel cache."""
    import keras

    keras.backend.clear_session(free_memory=False)


def _cnn_call(model: str, dataset: str) -> Callable[[], tuple[Callable[[], Any], Callable[[], Any]]]:
    def build():
        from dlviz.explain import Inspector
        from dlviz.registry import load_model, load_samples

        inspector = Inspector(load_model(model))
        image = load_samples(dataset)[0][0].astype("float32") / 255.0
        return (lambda: inspector.run(image)), (lambda: naive_inspector_run(inspector, image))
    return build


CONV = "pages/convolution.py"
POOL = "pages/pooling.py"
CONV_LAYERS = ("conv1", "conv2", "pool1", "conv3", "conv4", "pool2", "conv5", "conv6")

SCENARIOS: list[Scenario] = [
    Scenario("conv: sample change", CONV, ("number_input", "dlviz.sample.pos.mnist"), (1, 2, 3, 4, 5, 6),
             note="new input: preprocessing + model + every figure"),
    Scenario("conv: layer switch (all 8)", CONV, ("segmented_control", "conv.layer"), CONV_LAYERS,
             note="cycles conv1..conv6; conv5/conv6 draw 64 maps"),
    Scenario("conv: layer switch (conv1/conv2/pool1/conv3)", CONV, ("segmented_control", "conv.layer"),
             CONV_LAYERS[:4]),
    Scenario("conv: shared colour scale", CONV, ("toggle", "conv.shared"), (True, False)),
    Scenario("conv: cell row (conv1)", CONV, ("number_input", "conv.row.conv1.*"), (5, 10, 15, 20)),
    Scenario("conv: playground stride", CONV, ("slider", "play.stride"), (1, 2, 3),
             setup=[("session_state", "conv.tab", "Convolution playground")]),
    Scenario("pool: sample change", POOL, ("number_input", "dlviz.sample.pos.mnist"), (1, 2, 3, 4, 5, 6),
             note="new input: full rerun with the model"),
    Scenario("pool: size", POOL, ("slider", "pool.size"), (2, 3, 4)),
    Scenario("pool: stride", POOL, ("slider", "pool.stride"), (1, 2, 3)),
    Scenario("pool: padding", POOL, ("radio", "pool.padding"), ("valid", "same")),
    Scenario("pool: map channel (conv1)", POOL, ("number_input", "pool.ch.conv1"), (0, 3, 7, 11)),
]

MODEL_CALLS: list[ModelCall] = [
    ModelCall("model call: cnn_mnist Inspector.run", f"{CONV} {POOL}", _cnn_call("cnn_mnist", "mnist")),
    ModelCall("model call: same, after Streamlit's per-rerun keras clear_session", f"{CONV} {POOL}",
              _cnn_call("cnn_mnist", "mnist"), before_each=keras_clear_session),
]

# Functions timed in the profiling pass: (module, attribute); "Class.method" for methods, "*" for every public
# function of the module. Pages look these up as module attributes at run time, so patching the module works.
PROFILE_TARGETS: list[tuple[str | types.ModuleType, str]] = [
    ("dlviz.figures", "*"),
    ("dlviz.explain", "Inspector.run"),
    ("dlviz.explain", "output_arithmetic"),
    ("dlviz.explain", "layer_table"),
    ("dlviz.ui.input_picker", "model_view"),          # the picker's own reference (dlviz.inputs re-exports it)
    ("dlviz.playground", "convolve"),
    ("dlviz.downsampling", "downsample_all"),
    ("dlviz.downsampling", "busiest_crop"),
    ("dlviz.ops", "pool2d"),
    ("dlviz.ops", "pool_sources"),
    ("dlviz.ui.input_picker", "input_picker"),
    ("dlviz.ui.input_picker", "st_canvas"),
    ("dlviz.ui.input_picker", "dataset_selector"),
    ("dlviz.ui.models", "inspector_or_stop"),
    ("streamlit", "plotly_chart"),
    ("streamlit.delta_generator", "DeltaGenerator.plotly_chart"),
    ("streamlit", "image"),
    ("streamlit.delta_generator", "DeltaGenerator.image"),
    ("streamlit", "dataframe"),
    ("streamlit", "tabs"),
    # Streamlit's ScriptRunner calls keras.backend.clear_session() after every execution of a script (when keras
    # is imported), and that runs a full gc.collect(); runner.postScriptGC adds another gc.collect(2).
    ("keras.backend", "clear_session"),
    (sys.modules[__name__], "server_post_run_gc"),   # this module as an object: a script run re-binds __main__
    ("gc", "collect"),
]


# --------------------------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------------------------

def ms_stats(values: Sequence[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    return {"median": float(np.median(a)), "p95": float(np.percentile(a, 95)), "mean": float(a.mean()),
            "min": float(a.min()), "max": float(a.max())}


@dataclass
class Result:
    name: str
    kind: str                                   # "interaction" or "model call"
    page: str
    times_ms: list[float]
    naive_ms: list[float] | None = None
    load: dict[str, list[float]] = field(default_factory=dict)   # loadavg before / after
    note: str = ""
    execs_per_rerun: float | None = None        # page executions per interaction (> 1: the page reran itself)
    to_script_end_ms: list[float] | None = None  # widget change -> page's last element (before post-run clean-up)
    fragment_scoped: bool = False               # the reruns ran only the widget's st.fragment

    @property
    def stats(self) -> dict[str, float]:
        return ms_stats(self.times_ms)

    @property
    def naive_stats(self) -> dict[str, float] | None:
        return ms_stats(self.naive_ms) if self.naive_ms else None

    @property
    def ratio(self) -> float | None:
        n = self.naive_stats
        return n["median"] / self.stats["median"] if n else None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "page": self.page, "note": self.note, "runs": len(self.times_ms),
                "stats_ms": self.stats, "naive_stats_ms": self.naive_stats, "ratio_naive_over_fast": self.ratio,
                "load": self.load, "execs_per_rerun": self.execs_per_rerun, "fragment_scoped": self.fragment_scoped,
                "to_script_end_stats_ms": ms_stats(self.to_script_end_ms) if self.to_script_end_ms else None,
                "times_ms": self.times_ms, "naive_ms": self.naive_ms}


def _element(at, kind: str, key: str):
    if key.endswith("*"):   # keys with a per-input suffix, e.g. "conv.row.conv1.<input fingerprint>"
        return next(w for w in getattr(at, kind) if (w.key or "").startswith(key[:-1]))
    return getattr(at, kind)(key=key)


def _check(at, what: str) -> None:
    if at.exception:
        raise RuntimeError(f"{what}: the app raised " + "; ".join(str(e.value) for e in at.exception))


def pin_pages_directory_flag() -> None:
    """Keep `PagesManager.uses_pages_directory` at its steady-state value, as a real server does.

    A server decides once whether the app uses the legacy `pages/` folder mode, and `st.navigation` (in app.py)
    switches that off for good. AppTest instead resets the flag to None before *every* run, so each run starts in
    legacy mode and `dlviz.ui.shell.enter_app` has to `st.rerun()` through app.py: every `at.run()` would execute
    the page twice, which no real user's rerun does. AppTest resets the name it imported; pointing that name at a
    subclass leaves the flag Streamlit actually reads (the base class's) alone.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import app_test

    if app_test.PagesManager is PagesManager:
        app_test.PagesManager = type("PagesManagerPinnedFlag", (PagesManager,), {})


class ServerFidelity:
    """What AppTest's script runner does differently from a real server's, put back, plus a clock at script end.

    A real server's `ScriptRunner._on_script_finished` ends with `gc.collect(2)` (option `runner.postScriptGC`,
    default on); AppTest's `LocalScriptRunner` overrides that method without it. With `post_gc`, the collection
    is done here, where the server does it, so `at.run()` costs what a server's rerun costs. `script_end` gets the
    perf_counter time at which the page's last element was produced (before Streamlit's post-run clean-up:
    the GC above, then `keras.backend.clear_session()`, which runs another full `gc.collect()`).
    """

    def __init__(self, post_gc: bool = True):
        self.post_gc = post_gc
        self.script_end: list[float] = []

    @contextlib.contextmanager
    def installed(self) -> Iterator["ServerFidelity"]:
        from streamlit import config
        from streamlit.testing.v1.local_script_runner import LocalScriptRunner

        original = LocalScriptRunner.__dict__["_on_script_finished"]
        fidelity = self

        def _on_script_finished(runner, ctx, event, premature_stop, run_descriptor):
            fidelity.script_end.append(time.perf_counter())
            original(runner, ctx, event, premature_stop, run_descriptor)
            if fidelity.post_gc and config.get_option("runner.postScriptGC"):
                server_post_run_gc()
        LocalScriptRunner._on_script_finished = _on_script_finished
        try:
            yield self
        finally:
            LocalScriptRunner._on_script_finished = original


def server_post_run_gc() -> None:
    """The real server's `gc.collect(2)` after each script run (a named function, so the profile can show it)."""
    import gc

    gc.collect(2)


SERVER_POST_GC = True      # --no-server-gc turns the real server's post-run gc.collect(2) off (AppTest's default)


class FrontendReruns:
    """Reruns as the browser requests them: a widget inside an `st.fragment` reruns that fragment only.

    AppTest always reruns the whole script; a real frontend sends the widget's fragment id with the rerun request
    (`RerunData(fragment_id=...)`) and the server runs just that fragment. The fragment of every widget is read from
    the `delta.fragment_id` of the messages of the previous run.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.widget_fragment: dict[str, str] = {}    # widget id -> fragment id ("" outside any fragment)
        self.next_fragment: str | None = None

    def fragment_of(self, widget) -> str | None:
        return (self.widget_fragment.get(getattr(widget, "id", "")) or None) if self.enabled else None

    @contextlib.contextmanager
    def installed(self) -> Iterator["FrontendReruns"]:
        from streamlit.testing.v1 import local_script_runner as lsr

        original_parse, original_rerun_data = lsr.parse_tree_from_messages, lsr.RerunData

        def parse_tree_from_messages(messages):
            for msg in messages:
                if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
                    continue
                element = msg.delta.new_element
                kind = element.WhichOneof("type")
                widget_id = getattr(getattr(element, kind), "id", "") if kind else ""
                if isinstance(widget_id, str) and widget_id:
                    self.widget_fragment[widget_id] = msg.delta.fragment_id
            return original_parse(messages)

        def rerun_data(**kwargs):
            if self.next_fragment and "fragment_id" not in kwargs:
                kwargs["fragment_id"] = self.next_fragment
            return original_rerun_data(**kwargs)

        lsr.parse_tree_from_messages, lsr.RerunData = parse_tree_from_messages, rerun_data
        try:
            yield self
        finally:
            lsr.parse_tree_from_messages, lsr.RerunData = original_parse, original_rerun_data


FRAGMENT_RERUNS = True     # --full-reruns: rerun the whole script for every widget (AppTest's own behaviour)


class ExecCounter:
    """Counts page executions (one per pass of the script runner's rerun loop) to catch hidden `st.rerun()`s."""

    def __init__(self):
        self.count = 0

    @contextlib.contextmanager
    def installed(self) -> Iterator["ExecCounter"]:
        from streamlit.runtime.scriptrunner import script_runner

        original = script_runner._clean_problem_modules      # called once after every execution of the script

        def counted():
            self.count += 1
            return original()
        script_runner._clean_problem_modules = counted
        try:
            yield self
        finally:
            script_runner._clean_problem_modules = original


def open_page(page: str):
    """A fresh AppTest on `page`, after the home page: a new session, with the server's cached models kept."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    _check(at, "home page")
    at.switch_page(page)
    at.run()
    _check(at, page)
    return at


@dataclass
class Runs:
    """One scenario's timed reruns."""
    total_ms: list[float]          # at.run(): the whole rerun, Streamlit's post-run clean-up included
    to_script_end_ms: list[float]  # from the widget change to the page's last element
    execs_per_rerun: float         # page executions per interaction: 1.0 unless the page calls st.rerun()
    fragment_scoped: bool = False  # every timed rerun ran only the widget's st.fragment, as in the browser


def run_scenario(scenario: Scenario, runs: int, warmup_cycles: int = 2,
                 before_timed: Callable[[], None] | None = None) -> Runs:
    """`runs` reruns of `scenario`, each after a real change of its widget, in a fresh session."""
    pin_pages_directory_flag()
    with contextlib.ExitStack() as stack:
        frontend = stack.enter_context(FrontendReruns(FRAGMENT_RERUNS).installed())
        at = open_page(scenario.page)
        for kind, key, value in scenario.setup:
            if kind == "session_state":        # e.g. which lazy tab is open: st.tabs(key=...) has no AppTest setter
                at.session_state[key] = value
            else:
                _element(at, kind, key).set_value(value)
            at.run()
            _check(at, f"{scenario.name}: setup {key}={value!r}")
        return _timed_reruns(at, scenario, runs, warmup_cycles, before_timed, frontend)


def _timed_reruns(at, scenario: Scenario, runs: int, warmup_cycles: int, before_timed, frontend) -> Runs:
    kind, key = scenario.widget
    values = list(scenario.values)
    current = _element(at, kind, key).value
    # Start on a value different from the current one, so that the first set is a change too.
    start = next((i for i, v in enumerate(values) if v != current), 0)
    order = values[start:] + values[:start]
    warmup = max(3, warmup_cycles * len(values))
    times, to_end, fragments = [], [], set()
    with ExecCounter().installed() as execs, ServerFidelity(SERVER_POST_GC).installed() as server:
        for i in range(warmup + runs):
            if i == warmup:
                execs.count = 0
                if before_timed:
                    before_timed()
            widget = _element(at, kind, key)
            widget.set_value(order[i % len(order)])
            frontend.next_fragment = frontend.fragment_of(widget)
            if i >= warmup:
                fragments.add(frontend.next_fragment)
            server.script_end.clear()
            t0 = time.perf_counter()
            at.run()
            t1 = time.perf_counter()
            _check(at, f"{scenario.name}: {key}={order[i % len(order)]!r}")
            if i >= warmup:
                times.append((t1 - t0) * 1000.0)
                to_end.append(((server.script_end[-1] if server.script_end else t1) - t0) * 1000.0)
    return Runs(times, to_end, execs.count / runs, fragment_scoped=bool(fragments) and None not in fragments)


def run_model_call(call: ModelCall, runs: int, warmup: int = 5) -> tuple[list[float], list[float] | None]:
    """The fast and naive calls, alternating in one loop so both see the same machine load."""
    fast, naive = call.build()
    before = call.before_each or (lambda: None)
    for _ in range(warmup):
        fast()
        if naive:
            naive()
    fast_ms, naive_ms = [], []
    for _ in range(runs):
        before()
        t0 = time.perf_counter()
        fast()
        fast_ms.append((time.perf_counter() - t0) * 1000.0)
        if naive:
            before()
            t0 = time.perf_counter()
            naive()
            naive_ms.append((time.perf_counter() - t0) * 1000.0)
    return fast_ms, (naive_ms or None)


# --------------------------------------------------------------------------------------------------------------
# Profiling pass: timing wrappers around the functions a rerun calls
# --------------------------------------------------------------------------------------------------------------

_INHERITED = object()     # marks an attribute that came from a base class: restored by deleting the override


class Profiler:
    """Inclusive wall time per wrapped function, plus the page script's own time, accumulated over reruns."""

    def __init__(self):
        self.total_ms: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.nested: set[str] = set()            # labels seen inside another wrapped call
        self._local = threading.local()

    def wrap(self, label: str, fn: Callable) -> Callable:
        prof = self

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            depth = getattr(prof._local, "depth", 0)
            if depth:
                prof.nested.add(label)
            prof._local.depth = depth + 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                prof.total_ms[label] += (time.perf_counter() - t0) * 1000.0
                prof.calls[label] += 1
                prof._local.depth = depth
        timed.__bench_wrapped__ = True
        return timed

    @contextlib.contextmanager
    def installed(self, targets: Sequence[tuple[str | types.ModuleType, str]]) -> Iterator[None]:
        from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

        undo: list[tuple[Any, str, Any]] = []

        def patch(owner, attr: str, label: str):
            original = getattr(owner, attr)            # a class attribute may come from a base (mixin)
            if getattr(original, "__bench_wrapped__", False):
                return
            own = attr in vars(owner)
            undo.append((owner, attr, vars(owner)[attr] if own else _INHERITED))
            setattr(owner, attr, self.wrap(label, original))

        for target, attr in targets:
            module = target if isinstance(target, types.ModuleType) else sys.modules.get(target)
            module_name = module.__name__ if module is not None else target
            if module is target:
                module_name = "bench"
            if module is None:
                try:
                    module = importlib.import_module(module_name)
                except Exception:        # not importable outside a script run, and not used by this page
                    continue
            if attr == "*":
                names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                         and getattr(v, "__module__", None) == module.__name__ and not isinstance(v, type)]
            else:
                names = [attr]
            for name in names:
                owner_name, _, method = name.rpartition(".")
                owner = getattr(module, owner_name) if owner_name else module
                short = "st" if module_name == "streamlit" else "" if owner_name else module_name.split(".")[-1]
                if not hasattr(owner, method):
                    continue
                patch(owner, method, f"{short}.{name}" if short else name)

        # The page script itself (incl. Streamlit's delta enqueueing), without AppTest's tree parsing.
        original_run_script = ScriptRunner.__dict__["_run_script"]
        prof = self

        def _run_script(runner, rerun_data):
            t0 = time.perf_counter()
            try:
                return original_run_script(runner, rerun_data)
            finally:
                prof.total_ms["<script run>"] += (time.perf_counter() - t0) * 1000.0
                prof.calls["<script run>"] += 1
        ScriptRunner._run_script = _run_script
        undo.append((ScriptRunner, "_run_script", original_run_script))
        try:
            yield
        finally:
            for owner, attr, original in reversed(undo):
                if original is _INHERITED:
                    delattr(owner, attr)
                else:
                    setattr(owner, attr, original)


def profile_scenario(scenario: Scenario, runs: int) -> dict[str, Any]:
    """Mean ms per rerun of each wrapped function, the page script's own time and AppTest's total."""
    prof = Profiler()
    with contextlib.ExitStack() as stack:
        # Installed after the warm-up, when the page has imported everything (some modules, e.g. the drawing
        # canvas component, can only be imported inside a script run).
        measured = run_scenario(scenario, runs, before_timed=lambda: stack.enter_context(prof.installed(
            PROFILE_TARGETS)))
    at_times, execs = measured.total_ms, measured.execs_per_rerun
    per_rerun = {label: prof.total_ms[label] / runs for label in prof.total_ms}
    calls = {label: prof.calls[label] / runs for label in prof.calls}
    return {"scenario": scenario.name, "runs": runs, "at_run_ms": ms_stats(at_times), "execs_per_rerun": execs,
            "script_ms_per_rerun": per_rerun.pop("<script run>", float("nan")),
            "script_runs_per_rerun": calls.pop("<script run>", float("nan")),
            "functions_ms_per_rerun": dict(sorted(per_rerun.items(), key=lambda kv: -kv[1])),
            "calls_per_rerun": calls, "nested": sorted(prof.nested)}


# --------------------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------------------

def _fmt(v: float | None, spec: str = ".1f") -> str:
    return "–" if v is None else format(v, spec)


def table(results: Sequence[Result], target_ms: float) -> str:
    head = "| scenario | runs | median ms | p95 ms | naive median | naive p95 | ratio | target met |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|:---:|"]
    for r in results:
        s, n = r.stats, r.naive_stats
        lines.append(f"| {r.name}{' †' if r.fragment_scoped else ''} | {len(r.times_ms)} | {s['median']:.1f} | {s['p95']:.1f} | "
                     f"{_fmt(n and n['median'])} | {_fmt(n and n['p95'])} | "
                     f"{_fmt(r.ratio, '.1f') + '×' if r.ratio else '–'} | "
                     f"{'yes' if s['p95'] <= target_ms else '**no**'} |")
    return "\n".join(lines)


def split_table(results: Sequence[Result]) -> str:
    lines = ["| scenario | to last element median | to last element p95 | post-run clean-up median |",
             "|---|---:|---:|---:|"]
    for r in results:
        end = ms_stats(r.to_script_end_ms)
        cleanup = float(np.median(np.subtract(r.times_ms, r.to_script_end_ms)))
        lines.append(f"| {r.name} | {end['median']:.1f} | {end['p95']:.1f} | {cleanup:.1f} |")
    return "\n".join(lines)


def profile_table(profile: dict[str, Any], top: int) -> str:
    at_med = profile["at_run_ms"]["mean"]
    lines = [f"**{profile['scenario']}**: at.run() mean {at_med:.1f} ms, of which the script runner "
             f"{profile['script_ms_per_rerun']:.1f} ms/rerun ({profile['execs_per_rerun']:.1f} page execution(s) "
             "incl. Streamlit's post-run clean-up; the rest is AppTest's session setup and tree parsing)",
             "", "| function | ms / rerun | calls / rerun | share of at.run() |", "|---|---:|---:|---:|"]
    for label, ms in list(profile["functions_ms_per_rerun"].items())[:top]:
        nested = " (inside another)" if label in profile["nested"] else ""
        lines.append(f"| `{label}`{nested} | {ms:.1f} | {profile['calls_per_rerun'][label]:.1f} | "
                     f"{100 * ms / at_med:.0f}% |")
    return "\n".join(lines)


def source_fingerprint() -> dict[str, str]:
    """Which code was measured: a digest of app.py, pages/ and dlviz/, and the newest file."""
    import hashlib

    files = sorted([ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("dlviz/**/*.py")])
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(ROOT).as_posix().encode() + b"\0" + f.read_bytes())
    newest = max(files, key=lambda f: f.stat().st_mtime)
    return {"sha256": digest.hexdigest()[:12], "newest_file": newest.relative_to(ROOT).as_posix(),
            "newest_mtime": _dt.datetime.fromtimestamp(newest.stat().st_mtime).isoformat(timespec="seconds")}


def machine_info() -> dict[str, Any]:
    from dlviz import registry

    directory = registry.pretrained_dir()
    manifest = registry.read_manifest(directory)
    training = subprocess.run(["pgrep", "-af", "dlviz.train"], capture_output=True, text=True).stdout.strip()
    models = {name: {k: entry.get(k) for k in ("sha256", "date", "metrics")}
              for name, entry in manifest.get("models", {}).items()}
    return {"date": _dt.datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform(),
            "pretrained_dir": str(directory), "models": models, "sources": source_fingerprint(),
            "training_running": [line for line in training.splitlines() if "pgrep" not in line]}


def versions() -> dict[str, str]:
    import keras
    import plotly
    import streamlit
    import tensorflow as tf

    return {"streamlit": streamlit.__version__, "tensorflow": tf.__version__, "keras": keras.__version__,
            "plotly": plotly.__version__, "numpy": np.__version__}


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------

PAGE_BENCHES = ("autoencoder", "gan", "unet", "own_model")


def gather_page_benches() -> None:
    """Add each page module's SCENARIOS / MODEL_CALLS / PROFILE_TARGETS (bench/<page>.py) to the lists here."""
    import importlib

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    for name in PAGE_BENCHES:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"bench.{name}":
                raise
            continue                # that page's bench has not landed yet
        SCENARIOS.extend(getattr(module, "SCENARIOS", []))
        MODEL_CALLS.extend(getattr(module, "MODEL_CALLS", []))
        PROFILE_TARGETS.extend(getattr(module, "PROFILE_TARGETS", []))


def _selected(items, page_filter: str | None) -> list:
    """Items whose page path contains the filter; if none does, those whose name does ("pool: size")."""
    if not page_filter:
        return list(items)
    f = page_filter.lower()
    return [x for x in items if f in x.page.lower()] or [x for x in items if f in x.name.lower()]


def quiet_streamlit_logs() -> None:
    """AppTest outside `streamlit run` logs 'missing ScriptRunContext' from the main thread: noise here.

    A filter, not a level: Streamlit resets its loggers' levels from its config on the first run.
    """
    import streamlit.logger

    logger = streamlit.logger.get_logger("streamlit.runtime.scriptrunner_utils.script_run_context")
    logger.addFilter(lambda record: "missing ScriptRunContext" not in record.getMessage())


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=60, help="timed reruns per scenario (default 60; ≥ 50 for a p95)")
    p.add_argument("--page", help="only this page's scenarios (substring of the path, e.g. pooling), or else the "
                                  "scenarios whose name contains it (e.g. 'pool: size')")
    p.add_argument("--json", type=Path, help="write all results (raw timings included) to this file")
    p.add_argument("--target-ms", type=float, default=100.0, help="p95 budget per interaction (default 100)")
    p.add_argument("--no-naive", action="store_true", help="skip the naive model.predict reruns")
    p.add_argument("--no-server-gc", action="store_true",
                   help="don't add the real server's post-run gc.collect(2) that AppTest leaves out")
    p.add_argument("--full-reruns", action="store_true",
                   help="rerun the whole page for every widget, also inside an st.fragment (AppTest's default)")
    p.add_argument("--profile-runs", type=int, default=15,
                   help="reruns per scenario in the profiling pass (0 = skip it; default 15)")
    p.add_argument("--top", type=int, default=8, help="rows per scenario in the profile tables")
    args = p.parse_args(argv)

    gather_page_benches()
    scenarios = _selected(SCENARIOS, args.page)
    calls = _selected(MODEL_CALLS, args.page) if not args.page or any(args.page.lower() in sc.page.lower()
                                                                       for sc in scenarios) else []
    if not scenarios and not calls:
        p.error(f"no scenario matches --page {args.page!r}")

    global SERVER_POST_GC, FRAGMENT_RERUNS
    SERVER_POST_GC = not args.no_server_gc
    FRAGMENT_RERUNS = not args.full_reruns
    quiet_streamlit_logs()
    info = machine_info()
    print(f"# dlviz interaction benchmark ({info['date']})\n")
    print(f"- machine: {info['cpus']} CPUs, {info['platform']}, Python {info['python']}")
    print(f"- weights: {info['pretrained_dir']} (models: {', '.join(info['models']) or 'none'})")
    src = info["sources"]
    print(f"- app sources: sha256 {src['sha256']} (newest: {src['newest_file']}, {src['newest_mtime']})")
    if info["training_running"]:
        print(f"- **a training job is running**: {info['training_running'][0][:120]}")
    print(f"- load average at start (1/5/15 min): {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
    sys.stdout.flush()

    results: list[Result] = []
    loads = [os.getloadavg()[0]]
    for sc in scenarios:
        load0 = list(os.getloadavg())
        loads.append(load0[0])
        print(f"  … {sc.name}", end="", flush=True)
        measured = run_scenario(sc, args.runs)
        times, execs = measured.total_ms, measured.execs_per_rerun
        naive = None
        if sc.naive and not args.no_naive:
            with sc.naive():
                naive = run_scenario(sc, args.runs).total_ms
        res = Result(sc.name, "interaction", sc.page, times, naive,
                     {"before": load0, "after": list(os.getloadavg())}, sc.note, execs, measured.to_script_end_ms,
                     measured.fragment_scoped)
        results.append(res)
        print(f": median {res.stats['median']:.1f} ms, p95 {res.stats['p95']:.1f} ms"
              + (f", naive median {res.naive_stats['median']:.1f} ms" if naive else "")
              + (f"  (the page ran {execs:.1f}× per interaction: it calls st.rerun())" if execs > 1.01 else ""),
              flush=True)
    for call in calls:
        load0 = list(os.getloadavg())
        loads.append(load0[0])
        print(f"  … {call.name}", end="", flush=True)
        fast, naive = run_model_call(call, args.runs)
        res = Result(call.name, "model call", call.page, fast, None if args.no_naive else naive,
                     {"before": load0, "after": list(os.getloadavg())})
        results.append(res)
        print(f": median {res.stats['median']:.2f} ms", flush=True)

    load_end = os.getloadavg()
    loads.append(load_end[0])
    training_end = machine_info()["training_running"]
    print(f"\n## Results (target: p95 ≤ {args.target_ms:g} ms)\n")
    print(table(results, args.target_ms))
    if any(r.fragment_scoped for r in results):
        print("\n† the widget is inside an `st.fragment`: the rerun runs that fragment only, as in the browser "
              "(`--full-reruns` reruns the whole page instead, as AppTest does by default)")
    interactions = [r for r in results if r.to_script_end_ms]
    if interactions:
        print("\nSplit of an interaction: until the page's last element (what the user waits for), and Streamlit's "
              "post-run clean-up after it (GC; it holds the GIL, so the next rerun waits for it)\n")
        print(split_table(interactions))
    high = max(loads) > 0.75 * (info["cpus"] or 1)
    print(f"\nLoad average (1 min) during the run: {min(loads):.2f}–{max(loads):.2f} on {info['cpus']} CPUs; "
          f"at end (1/5/15 min) {' / '.join(f'{v:.2f}' for v in load_end)}"
          + ("  **(high: other processes competed for the CPUs, timings are pessimistic)**" if high else "")
          + ("  **(a training job was running)**" if info["training_running"] or training_end else ""))

    profiles = []
    if args.profile_runs > 0 and scenarios:
        print(f"\n## Where the time goes ({args.profile_runs} profiled reruns each; inclusive times, "
              "nested calls marked)\n")
        for sc in scenarios:
            prof = profile_scenario(sc, args.profile_runs)
            profiles.append(prof)
            print(profile_table(prof, args.top) + "\n", flush=True)

    failed = [r.name for r in results if r.stats["p95"] > args.target_ms]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "meta": {**info, "versions": versions(), "runs": args.runs, "target_ms": args.target_ms,
                     "server_post_gc": SERVER_POST_GC, "fragment_reruns": FRAGMENT_RERUNS, "load_end": list(load_end),
                     "load_1min_samples": loads, "training_running_at_end": training_end},
            "results": [r.to_json() for r in results], "profiles": profiles, "over_target": failed}, indent=2))
        print(f"Wrote {args.json}")
    if failed:
        print(f"\nOver the {args.target_ms:g} ms p95 target: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
