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
STATUS = '[data-testid="stStatusWidget"]'
EMPTY_HINT_START = "Draw a digit"

Point = tuple[float, float]


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
        self.env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
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

def wait_idle(page, timeout: float = 60_000) -> None:
    """Until no script run is in progress: the 'Running…' status widget is gone."""
    page.locator(STATUS).first.wait_for(state="detached", timeout=timeout)


def wait_app_ready(page, timeout: float = 90_000) -> None:
    page.locator('[data-testid="stApp"]').wait_for(timeout=timeout)
    page.locator('h1').first.wait_for(timeout=timeout)
    wait_idle(page, timeout)


def prediction_titles(page) -> list[str]:
    return [t for t in page.locator(".gtitle").all_text_contents() if t.startswith("Prediction:")]


def wait_prediction(page, differs_from: str | None = None, timeout: float = 60_000) -> str:
    """The 'Prediction: <class> (<p>%)' title once it exists (and differs from `differs_from`), after the run."""
    page.wait_for_function(
        """(old) => [...document.querySelectorAll('.gtitle')].some(
                 t => t.textContent.startsWith('Prediction:') && t.textContent !== old)""",
        arg=differs_from, timeout=timeout)
    wait_idle(page, timeout)
    titles = prediction_titles(page)
    assert len(titles) == 1, titles
    return titles[0]


def predicted_class(title: str) -> str:
    return title.removeprefix("Prediction:").strip().rsplit(" (", 1)[0]


def number_input_value(page, label: str) -> int:
    box = page.locator('[data-testid="stNumberInput"]').filter(
        has=page.get_by_text(label, exact=True)).locator("input")
    return int(box.input_value())


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).first.click()


def full_screenshot(page, path: Path, width: int | None = None) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport to fit it first."""
    old = page.viewport_size
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stAppViewContainer"], section.main')].map(e => e.scrollHeight), 0)""")
    page.set_viewport_size({"width": width or old["width"], "height": max(old["height"], int(height) + 40)})
    page.wait_for_timeout(400)           # let Plotly react to the resize
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(old)


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
}


def draw_strokes(page, canvas, strokes: Sequence[Sequence[Point]], steps: int = 4) -> None:
    """Draw polylines (canvas fractions) with the mouse on the canvas element `canvas`."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None, "the drawing canvas is not visible"
    for stroke in strokes:
        pts = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*pts[0])
        page.mouse.down()
        for p in pts[1:]:
            page.mouse.move(*p, steps=steps)
        page.mouse.up()


def drawing_canvas(page):
    """The Fabric canvas that takes the pen: the upper of the stacked canvases."""
    upper = page.locator("canvas.upper-canvas")
    return upper.first if upper.count() else page.locator("canvas").last
