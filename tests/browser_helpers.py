"""Helpers for the real-browser tests: the Streamlit server, Playwright waits and handwritten digit strokes.

Kept free of pytest fixtures so it can also be used from a scratch script while developing.
"""
from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

Point = tuple[float, float]


def require_browser() -> None:
    """Skip when Debian's chromium or playwright is missing, or fail when DLVIZ_REQUIRE_BROWSER=1 (as in CI)."""
    import pytest

    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed in this environment"
    if missing:
        if os.environ.get("DLVIZ_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{missing}, and DLVIZ_REQUIRE_BROWSER=1 requires the browser tests")
        pytest.skip(missing)


def require_models(names: Sequence[str], how: str) -> None:
    """Fail with the training command when pretrained/manifest.json lacks any of `names`."""
    import json

    import pytest

    manifest = ROOT / "pretrained" / "manifest.json"
    models = json.loads(manifest.read_text()).get("models", {}) if manifest.exists() else {}
    missing = [n for n in names if n not in models]
    if missing:
        pytest.fail(f"{manifest} lacks {', '.join(missing)}: train first ({how})")


# --------------------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """`streamlit run app.py` in its own process group, its output kept in a log file."""

    def __init__(self, log_path: Path, env: dict[str, str] | None = None, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        # The app reads the project's own pretrained/ unless `env` says otherwise: an inherited DLVIZ_PRETRAINED
        # (a developer's scratch weights) must not leak into the test.
        base = {k: v for k, v in os.environ.items() if k != "DLVIZ_PRETRAINED"}
        self.env = {**base, "TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90.0) -> None:
        self._log = open(self.log_path, "wb")
        # No file watcher: other edits under the project must not trigger "File change" prompts or reruns.
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
               "--server.runOnSave", "false", "--browser.gatherUsageStats", "false"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy in {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        finally:
            self._log.close()


# --------------------------------------------------------------------------- waiting on Streamlit

# A script run marks every element it has not redrawn yet with data-stale="true" and removes the leftovers when it
# ends; the "Running…" status widget only shows up after about a second; lazily loaded elements (Plotly) show a
# skeleton first and a chart draws its SVG a moment after it mounts. "Settled" = none of these is pending.
_SETTLED_JS = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-stale="true"]')
    && !document.querySelector('[data-testid="stSkeleton"]')
    && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'))"""


class RunTracker:
    """Watches Streamlit's websocket: which reruns the browser asked for and when the server finished them.

    Streamlit's DOM has no "the rerun my action caused is over" signal (the status widget appears only after a
    second, and a multi-stroke drawing or a `st.rerun()` chains several runs), but its protocol does: the browser
    sends a `rerun_script` BackMsg for every interaction, the server answers with `script_finished` and
    `session_status_changed(script_is_running=False)`. `settled_since(mark)` is true once at least one rerun was
    requested after `mark` and the last run after the last request finished for good (not "early for rerun").
    """

    def __init__(self, page):
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._back, self._fwd = BackMsg, ForwardMsg
        self.events: list[tuple[str, object]] = []
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framesent", self._sent)
            ws.on("framereceived", self._received)

    def _sent(self, payload) -> None:
        if isinstance(payload, bytes) and self._back.FromString(payload).WhichOneof("type") == "rerun_script":
            self.events.append(("sent", None))

    def _received(self, payload) -> None:
        if not isinstance(payload, bytes):
            return
        msg = self._fwd.FromString(payload)
        kind = msg.WhichOneof("type")
        if kind == "script_finished":
            self.events.append(("finished", msg.script_finished))
        elif kind == "session_status_changed":
            self.events.append(("running", msg.session_status_changed.script_is_running))

    def mark(self) -> int:
        return len(self.events)

    def settled_since(self, mark: int) -> bool:
        ev = self.events[mark:]
        sent = [i for i, (k, _) in enumerate(ev) if k == "sent"]
        if not sent:
            return False
        after = ev[sent[-1] + 1:]
        finished = [v for k, v in after if k == "finished"]
        running = [v for k, v in after if k == "running"]
        early = self._fwd.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
        return bool(finished) and finished[-1] != early and bool(running) and running[-1] is False \
            and ev[-1][0] == "running"


class App:
    """A browser page on the Streamlit app with waits that follow the app's script runs."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.runs = RunTracker(page)

    def goto(self, path: str = "/", timeout: float = 90_000) -> None:
        mark = self.runs.mark()
        self.page.goto(self.base_url + path)
        self.wait_runs(mark, timeout)

    def wait_runs(self, mark: int, timeout: float = 60_000) -> None:
        """Until the reruns requested since `mark` are over and the page has dropped their stale elements."""
        deadline = time.monotonic() + timeout / 1000
        while not self.runs.settled_since(mark):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no finished script run after the action; websocket events: "
                                   f"{self.runs.events[mark:]}")
            self.page.wait_for_timeout(50)     # lets Playwright deliver the websocket events
        self.wait_settled(timeout)

    def wait_settled(self, timeout: float = 60_000) -> None:
        self.page.wait_for_function(_SETTLED_JS, timeout=timeout)

    def act(self, action, timeout: float = 60_000):
        """Run `action()` (a click, a key press, a stroke...), then wait for the script runs it caused."""
        mark = self.runs.mark()
        result = action()
        self.wait_runs(mark, timeout)
        return result

    def wait_until(self, condition_js: str, arg=None, timeout: float = 30_000) -> None:
        """Until the JS predicate `condition_js` (a function of `arg`) holds on a settled page."""
        self.page.wait_for_function(f"(arg) => ({condition_js})(arg) && ({_SETTLED_JS})()", arg=arg,
                                    timeout=timeout)

    # ------------------------------------------------------------------ reading the page

    def main_text(self) -> str:
        return self.page.locator('[data-testid="stMain"]').inner_text()

    def prediction(self) -> str:
        """The one 'Prediction: <class> (<p>%)' chart title on the page."""
        titles = [t for t in self.page.locator(".gtitle").all_text_contents() if t.startswith("Prediction:")]
        assert len(titles) == 1, f"expected one prediction title, found {titles}"
        return titles[0]

    def number_input(self, label: str) -> int:
        box = self.page.locator('[data-testid="stNumberInput"]').filter(
            has=self.page.get_by_text(label, exact=True)).locator("input")
        return int(box.input_value())

    # ------------------------------------------------------------------ doing things

    def open_tab(self, name: str) -> None:
        """Select a tab. Plain tabs switch in the browser only; tabs made with on_change="rerun" also rerun the
        script (to render the newly opened tab), so wait for that run if the click asked for one."""
        tab = self.page.get_by_role("tab", name=name).first
        if tab.get_attribute("aria-selected") == "true":
            return
        mark = self.runs.mark()
        tab.click()
        self.page.wait_for_function("(t) => t.getAttribute('aria-selected') === 'true'", arg=tab.element_handle())
        self.page.wait_for_timeout(300)          # a rerun request, if any, is sent at once
        if any(kind == "sent" for kind, _ in self.runs.events[mark:]):
            self.wait_runs(mark)

    def switch_page(self, title: str) -> None:
        """Click the page's entry in the sidebar navigation: the same session, so session state survives."""
        nav = self.page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title)
        self.act(nav.click)

    def canvas(self):
        """The Fabric canvas that takes the pen: the upper of the stacked canvases, once it is mounted."""
        upper = self.page.locator("canvas.upper-canvas").first
        upper.wait_for(state="visible")
        return upper

    def clear_canvas(self) -> None:
        self.open_tab("Draw")
        self.act(self.page.get_by_role("button", name="Clear").click)

    def draw(self, strokes: Sequence[Sequence[Point]], steps: int = 4) -> None:
        """Draw polylines (canvas fractions, y down) with the mouse, stroke by stroke like a person.

        Every pen-up sends the drawing to Streamlit, which reruns; waiting for each run keeps a later stroke from
        racing an earlier stroke's run (which would let a test read the prediction of a half-drawn digit).
        """
        self.open_tab("Draw")
        canvas = self.canvas()
        canvas.scroll_into_view_if_needed()
        for stroke in strokes:
            box = canvas.bounding_box()
            assert box is not None, "the drawing canvas is not visible"
            pts = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]

            def pen(pts=pts):
                self.page.mouse.move(*pts[0])
                self.page.mouse.down()
                for p in pts[1:]:
                    self.page.mouse.move(*p, steps=steps)
                self.page.mouse.up()

            self.act(pen)
        self.page.mouse.move(1, 1)        # off the canvas: its hover toolbar would cover the tabs in screenshots

    def upload(self, path: Path) -> None:
        self.open_tab("Upload")
        self.act(lambda: self.page.locator('input[type="file"]').set_input_files(str(path)))

    def scroll_by(self, dy: float) -> None:
        """Scroll the page's main area (Streamlit scrolls `stMain`, not the document)."""
        self.page.evaluate("""(dy) => {
            const main = document.querySelector('[data-testid="stMain"]');
            (main && main.scrollHeight > main.clientHeight ? main : document.scrollingElement).scrollBy(0, dy);
        }""", dy)

    def scroll_under_header(self, locator, margin: float = 12) -> None:
        """Scroll so `locator`'s top sits just below Streamlit's fixed header (scrollIntoView hides it under it)."""
        header = self.page.locator('[data-testid="stHeader"]').bounding_box()
        below = (header["y"] + header["height"]) if header else 0
        self.scroll_by(locator.bounding_box()["y"] - below - margin)

    def full_screenshot(self, path: Path) -> None:
        """The whole page: Streamlit scrolls inside its own container, so grow the viewport to fit it first."""
        page = self.page
        old = page.viewport_size
        height = page.evaluate("""() => Math.max(0, ...[...document.querySelectorAll(
            '[data-testid="stMain"], [data-testid="stAppViewContainer"]')].map(e => e.scrollHeight))""")
        page.set_viewport_size({"width": old["width"], "height": max(old["height"], int(height) + 40)})
        try:
            page.wait_for_timeout(400)       # Plotly redraws on resize
            self.wait_settled()
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.set_viewport_size(old)


def predicted_class(title: str) -> str:
    """'Prediction: 7 (99.8%)' -> '7'."""
    return title.removeprefix("Prediction:").strip().rsplit(" (", 1)[0]


# --------------------------------------------------------------------------- handwriting

def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 24) -> list[Point]:
    """Points on an ellipse from angle a0 to a1 (degrees, 0 = right, 90 = down: screen coordinates)."""
    return [(cx + rx * math.cos(math.radians(a0 + (a1 - a0) * i / n)),
             cy + ry * math.sin(math.radians(a0 + (a1 - a0) * i / n))) for i in range(n + 1)]


# Each digit is a list of strokes; each stroke a polyline in canvas fractions (0..1, y down), drawn the way a
# person writes it: one pen-down per stroke, slightly slanted and irregular, filling most of the canvas.
DIGITS: dict[str, list[list[Point]]] = {
    "1": [[(0.47, 0.26), (0.52, 0.19), (0.57, 0.14), (0.56, 0.30), (0.54, 0.50), (0.52, 0.70), (0.51, 0.86)]],
    "0": [_arc(0.50, 0.50, 0.22, 0.35, -100, 275, 40)],
    "7": [[(0.27, 0.19), (0.45, 0.18), (0.62, 0.17), (0.73, 0.17), (0.66, 0.30), (0.58, 0.45), (0.51, 0.62),
           (0.46, 0.76), (0.43, 0.87)]],
    "3": [_arc(0.48, 0.32, 0.20, 0.16, -160, 95, 24) + _arc(0.48, 0.65, 0.23, 0.19, -95, 160, 24)[1:]],
    "4": [[(0.40, 0.14), (0.35, 0.32), (0.29, 0.54), (0.48, 0.55), (0.74, 0.54)],
          [(0.63, 0.26), (0.62, 0.50), (0.61, 0.70), (0.60, 0.88)]],
    "2": [_arc(0.49, 0.34, 0.21, 0.19, -165, 40, 22) + [(0.55, 0.56), (0.42, 0.70), (0.28, 0.84),
                                                        (0.50, 0.83), (0.75, 0.83)]],
    "5": [[(0.37, 0.18), (0.35, 0.32), (0.33, 0.47)] + _arc(0.49, 0.64, 0.22, 0.20, -130, 150, 24),
          [(0.37, 0.18), (0.55, 0.17), (0.72, 0.16)]],
    "6": [[(0.66, 0.14), (0.53, 0.24), (0.42, 0.39), (0.34, 0.56)] + _arc(0.51, 0.67, 0.18, 0.18, 180, -175, 30)],
    "8": [_arc(0.50, 0.30, 0.17, 0.15, 90, 450, 28) + _arc(0.50, 0.66, 0.21, 0.19, -90, 270, 32)[1:]],
    "9": [_arc(0.47, 0.33, 0.19, 0.17, 0, -360, 30) + [(0.65, 0.45), (0.63, 0.62), (0.60, 0.87)]],
}
