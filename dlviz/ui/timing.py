"""Server-side timing log: with `DLVIZ_TIMING_LOG=FILE` every script run and every fragment run of every session
appends one JSON line to FILE:

    {"t": 1763930000.123, "session": "3f9a0c1e", "page": "pooling", "kind": "fragment", "ms": 41.7, "pid": 4242,
     "rss_mb": 1234.5}

t: Unix time at the end of the run; session: a short, stable hash of Streamlit's session id; page: the page's URL
path ("home" for the start page); kind: "script" or "fragment"; ms: wall time of the run's code (the app's own
work, from the first line to the last message; Streamlit's per-run garbage collection afterwards is not in it);
pid: the server process (several replicas may share one log); rss_mb: its resident memory right after the run
(one read of /proc/self/statm, ~10 µs; absent where there is no /proc), so a jump in memory can be tied to the
page and kind of run that made it.
A run stopped by `st.rerun()` gets `"rerun": true`, a run that raised gets `"error": "<ExceptionType>"`.
`bench/soak.py` reads this file for its p50/p95.

Streamlit has no public per-run hook (a fragment rerun does not execute app.py), so `install()` wraps the one
function Streamlit's ScriptRunner calls to execute a script or fragment run. `installed()` says whether that
worked; tests/test_concurrency.py checks it, so a Streamlit upgrade that moves the function fails loudly instead of
logging nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time

ENV = "DLVIZ_TIMING_LOG"
_lock = threading.Lock()
_installed = False
_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 0.0


def rss_mb() -> float | None:
    """This process's resident set size in MB, or None without /proc."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return round(int(f.read().split()[1]) * _PAGE_MB, 1)
    except (OSError, ValueError, IndexError):
        return None


def installed() -> bool:
    return _installed


def _page_of(ctx) -> str:
    try:
        info = ctx.pages_manager.get_pages().get(ctx.page_script_hash) or {}
        return info.get("url_pathname") or "home"
    except Exception:       # logging must never break a run
        return "?"


def _write(path: str, record: dict) -> None:
    line = json.dumps(record, separators=(",", ":")) + "\n"
    with _lock, open(path, "a", encoding="utf-8") as f:
        f.write(line)


def install(path: str | None = None) -> bool:
    """Once per process (later calls are free): log every run to `path` (default: $DLVIZ_TIMING_LOG).
    Returns True when the log is (now) active; without a path it does nothing."""
    global _installed
    path = path or os.environ.get(ENV)
    if not path:
        return False
    with _lock:
        from streamlit.runtime.scriptrunner import script_runner

        original = script_runner.exec_func_with_error_handling
        if getattr(original, "_dlviz_timing", False):     # the mark survives a re-import of this module
            _installed = True
            return True

        def timed(func, ctx):
            start = time.perf_counter()
            result = original(func, ctx)
            ms = (time.perf_counter() - start) * 1000.0
            record = {"t": round(time.time(), 3),
                      "session": hashlib.sha1(str(ctx.session_id).encode()).hexdigest()[:8],
                      "page": _page_of(ctx),
                      "kind": "fragment" if ctx.fragment_ids_this_run else "script",
                      "ms": round(ms, 2), "pid": os.getpid()}
            rss = rss_mb()
            if rss is not None:
                record["rss_mb"] = rss
            if result[2] is not None:
                record["rerun"] = True
            if result[4] is not None:
                record["error"] = type(result[4]).__name__
            try:
                _write(path, record)
            except OSError:
                pass
            return result

        timed._dlviz_timing = True
        timed._dlviz_original = original
        script_runner.exec_func_with_error_handling = timed
        _installed = True
    return True


def uninstall() -> None:
    """Stop logging (for tests): Streamlit's own function is put back."""
    global _installed
    from streamlit.runtime.scriptrunner import script_runner

    with _lock:
        current = script_runner.exec_func_with_error_handling
        while getattr(current, "_dlviz_timing", False):
            current = current._dlviz_original
        script_runner.exec_func_with_error_handling = current
        _installed = False
