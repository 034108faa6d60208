"""The live-training runner without TensorFlow: a counting task shows pause / step / stop, the step bound, the cap
and the queue, idle runs stopping, a failing task, and a session's handle stopping its run."""
import gc
import threading
import time

import numpy as np
import pytest

from dlviz.live.runner import (FAILED, FINISHED, PAUSED, QUEUED, RUNNING, STOPPED, LiveRun, RunPool, SessionRun)


class CountingTask:
    """Each step adds `rate` to a counter (settable live); `gate` lets a test hold the thread inside a step."""

    def __init__(self, max_steps=1000, seed=0, step_seconds=0.0, gate=None):
        self.max_steps, self.count, self.rate = max_steps, 0.0, 1.0
        self.rng = np.random.default_rng(seed)
        self.step_seconds, self.gate = step_seconds, gate
        self.configured = []

    def step(self):
        if self.gate is not None:
            self.gate.wait()
        if self.step_seconds:
            time.sleep(self.step_seconds)
        self.count += self.rate
        return {"count": self.count, "noise": float(self.rng.normal())}

    def snapshot(self):
        return {"count": self.count}

    def configure(self, **settings):
        self.configured.append(settings)
        self.rate = settings.get("rate", self.rate)


def run_of(task, pool=None, **kw):
    kw.setdefault("idle_seconds", None)
    return LiveRun(lambda: task, pool or RunPool(2), **kw).start()


def test_a_run_ends_by_itself_after_its_bounded_steps():
    run = run_of(CountingTask(max_steps=50))
    snap = run.wait_for(lambda s: s.state == FINISHED, timeout=10)
    assert snap.step == 50 and len(snap.history["count"]) == 50
    assert snap.arrays["count"] == 50.0 and "50" in snap.message
    assert run.join(5)


def test_the_runner_bound_can_be_lower_than_the_task_s():
    run = run_of(CountingTask(max_steps=1000), max_steps=7)
    assert run.wait_for(lambda s: s.state == FINISHED).step == 7


def test_pause_holds_the_step_and_step_once_trains_exactly_one_batch():
    run = run_of(CountingTask(max_steps=10**6, step_seconds=0.001))
    run.wait_for(lambda s: s.step >= 5)
    run.pause()
    paused = run.wait_for(lambda s: s.state == PAUSED)
    time.sleep(0.2)
    assert run.snapshot().step == paused.step          # nothing trains while paused
    run.step_once()
    one = run.wait_for(lambda s: s.step == paused.step + 1 and s.state == PAUSED)
    time.sleep(0.1)
    assert run.snapshot().step == one.step
    run.step_once(3)
    run.wait_for(lambda s: s.step == paused.step + 4)
    time.sleep(0.1)
    assert run.snapshot().step == paused.step + 4
    run.resume()
    run.wait_for(lambda s: s.state == RUNNING and s.step > paused.step + 10)
    run.stop()
    stopped = run.wait_for(lambda s: s.state == STOPPED)
    assert run.join(5)
    assert not stopped.active and stopped.step < 10**6


def test_one_click_delivered_twice_trains_one_batch():
    """The page passes the step it showed; the same request seen again (before or after the batch ran) is dropped,
    and the next click, from the new step, is taken."""
    run = run_of(CountingTask(max_steps=10**6, step_seconds=0.05), start_paused=True)
    shown = run.wait_for(lambda s: s.state == PAUSED).step
    assert run.step_once(from_step=shown)
    assert not run.step_once(from_step=shown)                     # while the first is pending or training
    one = run.wait_for(lambda s: s.step == shown + 1 and s.state == PAUSED)
    assert not run.step_once(from_step=shown)                     # after it: the run has left that step
    time.sleep(0.2)
    assert run.snapshot().step == one.step
    assert run.step_once(from_step=one.step)
    run.wait_for(lambda s: s.step == shown + 2 and s.state == PAUSED)
    run.stop()
    assert run.join(5)


def test_configure_applies_between_batches_also_while_paused():
    task = CountingTask(max_steps=10**6)
    run = run_of(task, start_paused=True)
    run.wait_for(lambda s: s.state == PAUSED)
    run.configure(rate=10.0)
    run.wait_for(lambda s: task.configured == [{"rate": 10.0}])
    run.step_once()
    snap = run.wait_for(lambda s: s.step == 1)
    assert snap.history["count"][-1] == 10.0
    run.stop()
    assert run.join(5)


def test_same_seed_same_history():
    histories = []
    for _ in range(2):
        run = run_of(CountingTask(max_steps=30, seed=7))
        histories.append(run.wait_for(lambda s: s.state == FINISHED).history["noise"])
    other = run_of(CountingTask(max_steps=30, seed=8)).wait_for(lambda s: s.state == FINISHED).history["noise"]
    np.testing.assert_array_equal(histories[0], histories[1])
    assert not np.array_equal(histories[0], other)


def test_the_cap_queues_the_third_run_and_starts_it_when_a_slot_frees():
    pool = RunPool(capacity=2)
    gate = threading.Event()
    runs = [run_of(CountingTask(max_steps=10**6, gate=gate), pool) for _ in range(2)]
    for r in runs:
        r.wait_for(lambda s: s.state in ("starting", RUNNING))
    third = run_of(CountingTask(max_steps=5), pool)
    fourth = run_of(CountingTask(max_steps=5), pool)
    time.sleep(0.2)
    assert third.snapshot().state == QUEUED and third.snapshot().queue_position == 1
    assert fourth.snapshot().queue_position == 2
    assert pool.load() == (2, 2)
    gate.set()
    runs[0].stop()
    assert third.wait_for(lambda s: s.state == FINISHED).step == 5       # took the freed slot
    assert fourth.snapshot().state == QUEUED or fourth.snapshot().step <= 5
    runs[1].stop()
    assert fourth.wait_for(lambda s: s.state == FINISHED).step == 5
    assert all(r.join(5) for r in [*runs, third, fourth])
    assert pool.load() == (0, 0)


def test_a_queued_run_can_be_stopped_before_it_starts():
    pool = RunPool(capacity=1)
    gate = threading.Event()
    first = run_of(CountingTask(max_steps=10**6, gate=gate), pool)
    first.wait_for(lambda s: s.state in ("starting", RUNNING))
    waiting = run_of(CountingTask(max_steps=5), pool)
    waiting.wait_for(lambda s: s.queue_position == 1)
    waiting.stop()
    snap = waiting.wait_for(lambda s: s.state == STOPPED)
    assert snap.step == 0 and pool.load() == (1, 0)
    gate.set()
    first.stop()
    assert first.join(5) and waiting.join(5)


def test_a_run_nobody_polls_stops_and_frees_its_slot():
    pool = RunPool(1)
    run = LiveRun(lambda: CountingTask(max_steps=10**7, step_seconds=0.001), pool, idle_seconds=0.3).start()
    assert run.join(5)
    assert run._snapshot.state == STOPPED and "no page" in run._snapshot.message
    assert pool.load() == (0, 0)


def test_a_failing_task_reports_its_error_and_releases_the_pool():
    class Broken(CountingTask):
        def step(self):
            raise ValueError("NaN loss")

    pool = RunPool(1)
    run = run_of(Broken(), pool)
    snap = run.wait_for(lambda s: s.state == FAILED)
    assert "NaN loss" in snap.message and run.join(5) and pool.load() == (0, 0)


def test_dropping_the_session_handle_stops_the_run():
    run = run_of(CountingTask(max_steps=10**7, step_seconds=0.001))
    handle = SessionRun(run, "count")
    run.wait_for(lambda s: s.step > 3)
    del handle
    gc.collect()
    snap = run.wait_for(lambda s: s.state == STOPPED)
    assert "session" in snap.message and run.join(5)


def test_duty_below_one_leaves_time_to_others():
    full = run_of(CountingTask(max_steps=10**6, step_seconds=0.002))
    half = run_of(CountingTask(max_steps=10**6, step_seconds=0.002), duty=0.5)
    time.sleep(0.6)
    a, b = full.snapshot().step, half.snapshot().step
    for r in (full, half):
        r.stop()
        r.join(5)
    assert b < 0.75 * a, (a, b)


@pytest.mark.parametrize("interval", [0.05])
def test_snapshots_are_published_at_most_every_interval_while_running(interval):
    run = run_of(CountingTask(max_steps=10**7), publish_interval=interval)
    first = run.snapshot().serial
    time.sleep(0.5)
    serials = run.snapshot().serial - first
    run.stop()
    run.join(5)
    assert 3 <= serials <= 0.5 / interval + 3
