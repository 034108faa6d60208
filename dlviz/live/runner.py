"""One live training run: a background thread that trains in small steps and publishes snapshots.

    run = LiveRun(lambda: CnnTask(CnnSettings()), pool=POOL).start()
    snap = run.snapshot()           # the latest Snapshot; cheap, never waits for the training thread
    run.pause(); run.step_once(); run.resume(); run.configure(learning_rate=0.01); run.stop()

The page never touches the model: it polls `snapshot()` (a frozen object the thread replaced as a whole, so a
reader never sees half an update) and sends commands that the thread applies between two batches. Only the
thread calls the task, so tasks need no locks.

Load on a shared server:
* `RunPool` caps how many runs train at once (2 on 2 cores); a run started beyond the cap waits in a first come,
  first served queue and its snapshot says where it stands.
* A run ends by itself after its task's `max_steps`; a running run nobody has polled for `idle_seconds` stops
  (a closed browser tab), and so does a run left paused for `paused_seconds`.
* `SessionRun` is what a session keeps: when Streamlit drops the session's state, its finalizer stops the run,
  the thread ends and the task (models, optimizer, data) is freed with it.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

QUEUED, STARTING, RUNNING, PAUSED = "queued", "starting", "running", "paused"
FINISHED, STOPPED, FAILED = "finished", "stopped", "failed"
ACTIVE_STATES = (QUEUED, STARTING, RUNNING, PAUSED)
DEFAULT_CAPACITY = 2


class Task(Protocol):
    max_steps: int

    def step(self) -> dict[str, float]: ...             # one batch; the scalars to plot
    def snapshot(self) -> dict[str, Any]: ...           # the arrays the page draws
    def configure(self, **settings) -> None: ...        # settings that change while it trains


@dataclass(frozen=True)
class Snapshot:
    """What the page draws: published by the training thread, read by any number of page reruns."""
    run_id: int
    state: str                      # one of QUEUED ... FAILED
    step: int
    max_steps: int
    history: dict[str, np.ndarray]  # scalar name -> one value per step so far
    arrays: dict[str, Any]          # the task's snapshot(): kernels, maps, codes, samples...
    steps_per_second: float
    queue_position: int | None      # 1 = next to start, while QUEUED
    message: str                    # why it stopped or failed, or ""
    serial: int                     # +1 with every publication: "has anything changed since I last drew?"
    seconds_to_publish: float = 0.0  # what the last task.snapshot() cost the training thread

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


class RunPool:
    """At most `capacity` runs train at once, server-wide; the others wait in a first come, first served queue."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        self._cond = threading.Condition()
        self._active: list = []
        self._queue: deque = deque()

    def acquire(self, run, cancelled: Callable[[], bool], poll: float = 0.1) -> bool:
        """Block until `run` may train (True), or until `cancelled()` (False)."""
        with self._cond:
            self._queue.append(run)
            try:
                while not (self._queue[0] is run and len(self._active) < self.capacity):
                    if cancelled():
                        return False
                    self._cond.wait(poll)
                self._queue.popleft()
                self._active.append(run)
                return True
            finally:
                if run in self._queue:
                    self._queue.remove(run)
                self._cond.notify_all()

    def release(self, run) -> None:
        with self._cond:
            if run in self._active:
                self._active.remove(run)
            self._cond.notify_all()

    def position(self, run) -> int | None:
        """1-based place of `run` in the queue, None if it is not waiting."""
        with self._cond:
            return self._queue.index(run) + 1 if run in self._queue else None

    def load(self) -> tuple[int, int]:
        """(runs training, runs waiting)."""
        with self._cond:
            return len(self._active), len(self._queue)


POOL = RunPool()            # the server's pool: every session's runs share it


class LiveRun:
    """Trains `make_task()` in a thread; see the module docstring."""

    _ids = itertools.count(1)

    def __init__(self, make_task: Callable[[], Task], pool: RunPool | None = None, *, max_steps: int | None = None,
                 publish_interval: float = 0.1, idle_seconds: float | None = 30.0,
                 paused_seconds: float | None = 600.0, start_paused: bool = False, duty: float = 1.0,
                 name: str = ""):
        """publish_interval: at most one snapshot per this many seconds while running (snapshots cost time);
        duty: share of wall time the thread may train (< 1 sleeps after each batch, leaving the CPU to others);
        max_steps: a lower bound than the task's own (tests)."""
        self.id = next(self._ids)
        self.name = name
        self.pool = pool or POOL
        self._make_task = make_task
        self._max_steps_override = max_steps
        self.publish_interval, self.idle_seconds, self.paused_seconds = publish_interval, idle_seconds, paused_seconds
        self.duty = min(max(duty, 0.05), 1.0)
        self._cond = threading.Condition()
        self._paused, self._stop, self._step_requests = start_paused, False, 0
        self._pending: dict[str, Any] = {}
        self._stop_message = ""
        self._last_touch = time.monotonic()
        self._serial = 0
        self._history: dict[str, list[float]] = {}
        self._step = 0
        self._max_steps = max_steps or 0
        self._rate = 0.0
        self._snapshot = Snapshot(self.id, QUEUED, 0, self._max_steps, {}, {}, 0.0, None, "", 0)
        self._thread = threading.Thread(target=self._main, name=f"dlviz-live-{self.id}", daemon=True)

    # ------------------------------------------------------------------ the page's side
    def start(self) -> LiveRun:
        self._thread.start()
        return self

    def snapshot(self) -> Snapshot:
        """The latest snapshot (and a sign of life: a run nobody polls stops after `idle_seconds`)."""
        self._last_touch = time.monotonic()
        snap = self._snapshot
        if snap.state == QUEUED:
            position = self.pool.position(self)
            if position != snap.queue_position:
                snap = Snapshot(**{**snap.__dict__, "queue_position": position})
        return snap

    @property
    def state(self) -> str:
        return self._snapshot.state

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused, self._step_requests = False, 0
            self._last_touch = time.monotonic()
            self._cond.notify_all()

    def step_once(self, batches: int = 1, from_step: int | None = None) -> bool:
        """Pause (if running) and train exactly `batches` more batches; False if the request was dropped.

        from_step: the step the page showed when the user asked, while paused. A request from a step the run has
        already left, or while another is pending, is dropped: the browser can deliver one click to two reruns
        (a click that lands while a polling fragment reruns), and that must not train two batches.
        """
        with self._cond:
            if from_step is not None and self._paused and (self._step != from_step or self._step_requests):
                return False
            self._paused = True
            self._step_requests += batches
            self._cond.notify_all()
            return True

    def stop(self, message: str = "") -> None:
        with self._cond:
            self._stop = True
            self._stop_message = self._stop_message or message
            self._cond.notify_all()

    def configure(self, **settings) -> None:
        """Settings the task applies between two batches (learning rate, β, the user's input...)."""
        with self._cond:
            self._pending.update(settings)
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def wait_for(self, condition: Callable[[Snapshot], bool], timeout: float = 30.0, poll: float = 0.01) -> Snapshot:
        """Poll until `condition(snapshot)` holds (tests, bench); raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            snap = self.snapshot()
            if condition(snap):
                return snap
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {self.id}: condition not met in {timeout} s (state {snap.state}, "
                                   f"step {snap.step}, {snap.message!r})")
            time.sleep(poll)

    # ------------------------------------------------------------------ the thread
    def _main(self) -> None:
        task = None
        try:
            if not self.pool.acquire(self, lambda: self._stop):
                self._publish(None, STOPPED, self._stop_message or "stopped before it started")
                return
            try:
                self._publish(None, STARTING)
                task = self._make_task()
                self._max_steps = min(task.max_steps, self._max_steps_override or task.max_steps)
                self._loop(task)
            finally:
                self.pool.release(self)
        except Exception as e:  # a task that fails says so in the page; the server and other runs go on
            log.exception("live run %s failed", self.id)
            self._publish(None, FAILED, f"{type(e).__name__}: {e}")
        finally:
            del task                # the models, optimizer and data go with the thread

    def _loop(self, task: Task) -> None:
        last_publish = 0.0
        paused_since: float | None = None
        rate_window: deque = deque(maxlen=50)
        while True:
            with self._cond:
                # Paused and nothing asked for: sleep until a command comes (the paused state is published first).
                while (self._paused and not self._step_requests and not self._stop and not self._pending
                       and self._snapshot.state == PAUSED):
                    if self.paused_seconds and paused_since and time.monotonic() - paused_since > self.paused_seconds:
                        self._stop = True
                        self._stop_message = f"stopped after {self.paused_seconds / 60:.0f} minutes paused"
                        break
                    self._cond.wait(0.25)
                settings, self._pending = self._pending, {}
                stop, paused = self._stop, self._paused
                single = paused and self._step_requests > 0 and not stop
                if single:
                    self._step_requests -= 1
            if settings:
                task.configure(**settings)
            if stop:
                self._publish(task, STOPPED, self._stop_message or "stopped")
                return
            if self._step >= self._max_steps:
                self._publish(task, FINISHED, f"finished: {self._max_steps:,} steps")
                return
            if paused and not single:
                paused_since = paused_since or time.monotonic()
                self._publish(task, PAUSED)
                continue
            if not paused:
                paused_since = None
            if (not paused and self.idle_seconds is not None
                    and time.monotonic() - self._last_touch > self.idle_seconds):
                self.stop(f"stopped: no page looked at it for {self.idle_seconds:.0f} s")
                continue

            started = time.perf_counter()
            scalars = task.step()
            spent = time.perf_counter() - started
            self._step += 1
            for key, value in scalars.items():
                self._history.setdefault(key, []).append(float(value))
            rate_window.append(time.monotonic())
            if len(rate_window) > 1:
                self._rate = (len(rate_window) - 1) / max(rate_window[-1] - rate_window[0], 1e-9)
            if single or time.monotonic() - last_publish >= self.publish_interval or self._step >= self._max_steps:
                self._publish(task, PAUSED if single else RUNNING)
                last_publish = time.monotonic()
            if self.duty < 1.0:
                time.sleep(spent * (1 - self.duty) / self.duty)

    def _publish(self, task: Task | None, state: str, message: str = "") -> None:
        started = time.perf_counter()
        arrays = task.snapshot() if task is not None else self._snapshot.arrays
        cost = time.perf_counter() - started if task is not None else self._snapshot.seconds_to_publish
        self._serial += 1
        history = {k: np.asarray(v, np.float32) for k, v in self._history.items()}
        position = self.pool.position(self) if state == QUEUED else None
        self._snapshot = Snapshot(self.id, state, self._step, self._max_steps, history, arrays,
                                  self._rate if state == RUNNING else 0.0, position, message, self._serial, cost)


@dataclass(eq=False)
class SessionRun:
    """A session's handle on its run: when the session (and with it this handle) is gone, the run stops.

    The run's thread holds the LiveRun, so the LiveRun itself would live on; nothing but the session holds this
    handle, so Streamlit dropping the session state (or a new run replacing it) triggers the finalizer.
    """
    run: LiveRun
    kind: str                       # which live view started it ("cnn", "latent", "gan2d")
    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        weakref.finalize(self, self.run.stop, "stopped: the session ended")
