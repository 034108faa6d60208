"""Soak test: K light clients speaking Streamlit's own websocket protocol drive random interactions on every page.

    python bench/soak.py --sessions 20 --minutes 10 --json                  # starts its own server on 127.0.0.1
    python bench/soak.py --url http://127.0.0.1:8080 --timing-log FILE --pid 123 --pid 124 --json   # a running one

Each client is what a browser tab is to the server, minus the drawing: it opens the websocket at /_stcore/stream,
sends BackMsg.rerun_script with the widget states it chose (Streamlit's protobuf classes, streamlit.proto.*),
reads every ForwardMsg (deltas, script_finished, exceptions), learns the widgets of the page it is on (sliders,
number inputs, select boxes, radios, segmented controls, checkboxes, buttons, stateful tabs) and changes one at a
time, with the fragment id when the widget lives in a fragment (as the browser does, so fragment reruns are
exercised); now and then it moves to another page; now and then it fetches a /media/ image the page showed (which
only the replica that made it can serve: a session moved to another replica would get 404). One asyncio loop holds
all clients: about 1-3 % of one core for 20 sessions, so they do not starve the server on a 2-core machine.

Numbers are measured on the server: the app appends one JSON line per script or fragment run to
DLVIZ_TIMING_LOG (dlviz/ui/timing.py); p50/p95 are over the runs in the measured window (after every client has
loaded its first page). The client-side latency (message sent -> script_finished received, so including queueing
behind other sessions) is reported beside it. RSS of the server process(es) is sampled every 5 s.

Errors: an exception element in any page, a run logged with "error", a script that does not finish within
--timeout, a closed websocket, a page not found, a media file that does not load, a session whose id changes.
Canvas drawing and file uploads are not driven here (tests/test_bad_inputs.py and the browser tests cover them).
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
WIDGETS = ("slider", "number_input", "selectbox", "radio", "button_group", "checkbox", "button")


# --------------------------------------------------------------------------- the server side: timing log, RSS


def read_log(path: Path, since: float, until: float) -> list[dict]:
    rows = []
    if not path.exists():
        return rows
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if since <= row.get("t", 0) <= until:
                rows.append(row)
    return rows


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return round(values[lo] + (values[hi] - values[lo]) * (k - lo), 1)


def rss_mb(pids: list[int]) -> float | None:
    total, found = 0, False
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        found = True
        except OSError:
            pass
    return round(total / 1024, 1) if found else None


def rss_trend(samples: list[tuple[float, float]], third: float, stop: float, window: float = 60.0) -> dict:
    """The RSS level, not one sample of it: under 20 sessions the RSS swings by a few hundred MB within seconds
    (a large batch is decoded and freed), so two single samples can show +20 % or -20 % of pure noise. Medians
    over one-minute windows (ending at the first third and at the end) show whether the level moves."""
    def median_in(lo, hi):
        vals = [v for t, v in samples if lo <= t <= hi]
        return statistics.median(vals) if vals else None
    at_third, at_end = median_in(third - window, third), median_in(stop - window, stop)
    if not at_third or not at_end:
        return {}
    return {"rss_mb_third_median": round(at_third, 1), "rss_mb_end_median": round(at_end, 1),
            "rss_median_growth_after_third_pct": round(100 * (at_end - at_third) / at_third, 1)}


def minute_medians(samples: list[tuple[float, float]], start: float, stop: float) -> list[float]:
    """The RSS level minute by minute (median of each minute's samples): whether a rise levels off."""
    out, lo = [], start
    while lo < stop:
        vals = [v for t, v in samples if lo <= t < lo + 60]
        if vals:
            out.append(round(statistics.median(vals), 1))
        lo += 60
    return out


def wait_healthy(base: str, timeout: float) -> bool:
    """Poll the server's /_stcore/health until it says ok (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(base.rstrip("/") + "/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return True
        except OSError:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, DLVIZ_TIMING_LOG=str(log), TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           # as deployed (deploy/): no file watcher. A watcher that sees an edited file drops its modules from
           # sys.modules, and concurrent sessions then import half-initialised modules (KeyError, ImportError).
           "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
    out = open(log.with_suffix(".server.log"), "w")      # the server's own messages, next to the timing log
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    if wait_healthy(f"http://127.0.0.1:{port}", 120):
        return proc
    proc.kill()
    raise SystemExit("the server did not become healthy within 120 s")


# --------------------------------------------------------------------------- one client


@dataclass
class Widget:
    kind: str
    proto: object
    fragment_id: str


@dataclass
class Stats:
    runs: int = 0
    latencies_ms: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    pages: dict = field(default_factory=dict)
    media_ok: int = 0
    session_ids: set = field(default_factory=set)


class Client:
    def __init__(self, n: int, base: str, stats: Stats, rng: random.Random, timeout: float):
        self.n, self.base, self.stats, self.rng, self.timeout = n, base.rstrip("/"), stats, rng, timeout
        self.ws = None
        self.cookie = ""
        self.pages: dict[str, str] = {}          # url path -> page_script_hash
        self.page = ""
        self.page_hash = ""
        self.query = ""                          # the URL's query string, as a browser sends it (dataset=fashion)
        self.allowed: set[str] | None = None     # --pages: the url paths this client may visit (None: all)
        self.widgets: dict[str, Widget] = {}
        self.seen: dict[str, Widget] = {}
        self.values: dict[str, object] = {}      # widget id -> WidgetState we set (sent again, as a browser does)
        self.tabs: dict[tuple, str] = {}         # delta path of a tab container -> its widget id
        self.tab_labels: dict[str, list[str]] = {}
        self.media: list[str] = []
        self.finished: asyncio.Event | None = None
        self.exceptions: list[str] = []
        self.session_id = ""

    # -- protocol
    async def connect(self):
        from websockets.asyncio.client import connect

        parsed = urlparse(self.base)
        # What a browser does first: GET the page (a load balancer may set its affinity cookie here).
        loop = asyncio.get_running_loop()
        self.cookie = await loop.run_in_executor(None, self._get_cookie)
        ws_url = ("wss" if parsed.scheme == "https" else "ws") + f"://{parsed.netloc}{parsed.path}/_stcore/stream"
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self.ws = await connect(ws_url, subprotocols=["streamlit"], additional_headers=headers,
                                max_size=64 * 2**20, open_timeout=60, ping_interval=None)
        self.reader = asyncio.create_task(self.read())

    def _get_cookie(self) -> str:
        with urllib.request.urlopen(self.base + "/", timeout=30) as r:
            cookies = [c.split(";", 1)[0] for c in r.headers.get_all("Set-Cookie") or []]
        return "; ".join(cookies)

    async def read(self):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            async for data in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self.handle(msg)
        except Exception as e:          # a dropped connection is an error of the run, reported by the caller
            self.stats.errors.append(f"client {self.n}: websocket closed: {type(e).__name__}: {e}"[:300])
        if self.finished:
            self.finished.set()
        self.closed = True

    def handle(self, msg):
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            sid = msg.new_session.initialize.session_id
            if self.session_id and sid != self.session_id:
                self.stats.errors.append(f"client {self.n}: session changed {self.session_id} -> {sid}")
            self.session_id = sid
            self.stats.session_ids.add(sid)
            self._pages(msg.new_session.app_pages)
            if msg.new_session.page_script_hash:
                self.page_hash = msg.new_session.page_script_hash
        elif kind == "navigation":
            self._pages(msg.navigation.app_pages)
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "page_not_found":
            self.stats.errors.append(f"client {self.n}: page not found: {msg.page_not_found.page_name}")
        elif kind == "delta":
            self._delta(msg.delta, tuple(msg.metadata.delta_path))
        elif kind == "script_finished":
            status = msg.script_finished
            if status == 0:          # FINISHED_SUCCESSFULLY: the page's widgets are exactly those of this run
                self.widgets = dict(self.seen)
            elif status == 3:        # a fragment run: its widgets replace the fragment's old ones
                self.widgets.update(self.seen)
            else:
                return               # FINISHED_EARLY_FOR_RERUN: another run follows
            self.seen = {}
            if self.finished:
                self.finished.set()

    def _pages(self, app_pages):
        for p in app_pages:
            self.pages[p.url_pathname or ""] = p.page_script_hash

    def _delta(self, delta, path):
        which = delta.WhichOneof("type")
        if which == "add_block":
            block = delta.add_block
            if block.WhichOneof("type") == "tab_container" and block.tab_container.id:
                self.tabs[path] = block.tab_container.id
                self.tab_labels[block.tab_container.id] = []
            elif block.WhichOneof("type") == "tab" and path[:-1] in self.tabs:
                wid = self.tabs[path[:-1]]
                self.tab_labels[wid].append(block.tab.label)
                self.seen[wid] = Widget("tabs", None, delta.fragment_id)
            return
        if which != "new_element":
            return
        el = delta.new_element
        etype = el.WhichOneof("type")
        if etype == "exception":
            text = f"client {self.n} on /{self.page}: {el.exception.type}: {el.exception.message}"[:400]
            self.stats.errors.append(text)
        elif etype == "imgs":
            self.media.extend(i.url for i in el.imgs.imgs if i.url.startswith("/media/"))
        elif etype in WIDGETS:
            proto = getattr(el, etype)
            if not proto.id or getattr(proto, "disabled", False):
                return
            self.seen[proto.id] = Widget(etype, proto, delta.fragment_id)

    async def rerun(self, page_hash: str = "", page_name: str = "", fragment_id: str = "", extra=None) -> float:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = page_hash
        state.page_name = page_name
        if fragment_id:
            state.fragment_id = fragment_id
        for wid, ws in self.values.items():
            if wid in self.widgets and (extra is None or wid != extra.id):
                state.widget_states.widgets.append(ws)
        if extra is not None:
            state.widget_states.widgets.append(extra)
        self.finished = asyncio.Event()
        self.media = []
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        try:
            await asyncio.wait_for(self.finished.wait(), self.timeout)
        except asyncio.TimeoutError:
            self.stats.errors.append(f"client {self.n}: no script_finished within {self.timeout:.0f} s on /{self.page}")
        ms = (time.perf_counter() - start) * 1000
        self.stats.runs += 1
        return ms

    def dataset_shown(self) -> str | None:
        """The label the page's dataset switch shows as chosen (None on a page without one)."""
        for wid, w in self.widgets.items():
            if w.kind == "button_group" and wid.endswith("dlviz.dataset.widget"):
                if w.proto.set_value and w.proto.raw_values:       # the value the page set (session state)
                    return w.proto.raw_values[0]
                if w.proto.default:
                    return w.proto.options[w.proto.default[0]].content
        return None

    # -- what a user does
    def choose(self):
        """A random widget of the current page and a new value for it, as a WidgetState (None: nothing to do)."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        candidates = [(wid, w) for wid, w in self.widgets.items() if w.kind != "tabs" or self.tab_labels.get(wid)]
        if not candidates:
            return None, None
        wid, w = self.rng.choice(candidates)
        ws = WidgetState(id=wid)
        p, r = w.proto, self.rng
        if w.kind == "tabs":
            ws.string_value = r.choice(self.tab_labels[wid])
        elif w.kind == "slider" and p.options:         # st.select_slider: its options' labels
            ws.string_array_value.data.append(r.choice(list(p.options)))
        elif w.kind == "slider":
            steps = max(0, int(round((p.max - p.min) / p.step))) if p.step else 0
            values = [p.min + p.step * r.randint(0, steps) for _ in (p.default or [0])]
            ws.double_array_value.data.extend(sorted(values))
        elif w.kind == "number_input":
            lo = p.min if p.has_min else p.default - 10 * (p.step or 1)
            hi = p.max if p.has_max else p.default + 10 * (p.step or 1)
            ws.double_value = float(r.randint(int(lo), int(hi))) if p.data_type == 1 else r.uniform(lo, hi)
        elif w.kind in ("selectbox", "radio"):
            if not p.options:
                return None, None
            ws.string_value = r.choice(list(p.options))
        elif w.kind == "button_group":
            if not p.options:
                return None, None
            ws.string_array_value.data.append(r.choice([o.content for o in p.options]))
        elif w.kind == "checkbox":
            ws.bool_value = r.random() < 0.5
        elif w.kind == "button":
            ws.trigger_value = True
        return w, ws

    async def interact(self):
        if self.rng.random() < 0.12 or not self.widgets:
            by_hash = {h: name for name, h in self.pages.items()     # one entry per page (home is "" and "home")
                       if self.allowed is None or name in self.allowed}
            here = self.pages.get(self.page)
            await self.visit(self.rng.choice([n for h, n in by_hash.items() if h != here]
                                             or [self.page if self.allowed else ""]))
            return
        w, ws = self.choose()
        if ws is None:
            return
        if w.kind != "button":
            self.values[ws.id] = ws
        ms = await self.rerun(self.page_hash, fragment_id=w.fragment_id, extra=ws)
        self.stats.latencies_ms.append(ms)
        self.stats.pages[self.page] = self.stats.pages.get(self.page, 0) + 1
        if self.media and self.rng.random() < 0.3:
            await self.fetch_media(self.rng.choice(self.media))

    async def visit(self, page: str):
        self.page = page
        self.values = {}
        ms = await self.rerun(self.pages.get(page, ""), page_name=page)
        self.stats.latencies_ms.append(ms)
        self.stats.pages[page] = self.stats.pages.get(page, 0) + 1

    async def fetch_media(self, url: str):
        def get():
            req = urllib.request.Request(self.base + url, headers={"Cookie": self.cookie} if self.cookie else {})
            with urllib.request.urlopen(req, timeout=30) as r:
                r.read()
        try:
            await asyncio.get_running_loop().run_in_executor(None, get)
            self.stats.media_ok += 1
        except (OSError, urllib.error.HTTPError) as e:
            self.stats.errors.append(f"client {self.n}: media {url} failed: {e}"[:300])

    async def close(self):
        if self.ws is not None:
            await self.ws.close()


# --------------------------------------------------------------------------- the run


PAGE_NAMES = ["", "convolution", "pooling", "autoencoder", "gan", "unet"]
DATASETS = ("mnist", "fashion")
SWITCHES_LEFT_ALONE = ("dlviz.lang.widget", "dlviz.dataset.widget", "dlviz.model.source.widget")


async def warm_up(base: str, timeout: float) -> dict[str, float | str]:
    """One visitor opens every page, every choice of its own switches and every tab, on each dataset: every model
    the pages can show is loaded and compiled once, before students arrive (seconds per page and dataset, and the
    dataset each visitor's pages showed as chosen). A replica that has not done this makes its first visitors wait
    for it together. Raises RuntimeError if a page showed an exception."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    stats = Stats()
    cold = {}
    for dataset in DATASETS:          # a session keeps its dataset: one visitor (session) per dataset
        c = Client(-1, base, stats, random.Random(0), timeout)
        c.query = f"dataset={dataset}"
        await c.connect()
        try:
            for name in PAGE_NAMES:
                t = time.perf_counter()
                await c.visit(name)
                # Each choice of the page's own switches (the GAN's model, the U-Net's task, ...): its models load
                # here, not when the first student picks it. Not the language, dataset or model-source switches.
                for wid, w in list(c.widgets.items()):
                    if w.kind != "button_group" or wid.endswith(SWITCHES_LEFT_ALONE):
                        continue
                    for option in [o.content for o in w.proto.options][1:]:
                        ws = WidgetState(id=wid)
                        ws.string_array_value.data.append(option)
                        await c.rerun(c.page_hash, fragment_id=w.fragment_id, extra=ws)
                    c.values.pop(wid, None)
                    await c.visit(name)
                for wid, w in list(c.widgets.items()):
                    if w.kind == "tabs":
                        for label in c.tab_labels.get(wid, [])[1:]:
                            ws = WidgetState(id=wid, string_value=label)
                            c.values[wid] = ws
                            await c.rerun(c.page_hash, extra=ws)
                cold[f"{name or 'home'}/{dataset}"] = round(time.perf_counter() - t, 1)
                shown = c.dataset_shown()
                if shown is not None:
                    cold[f"dataset shown/{dataset}"] = shown
        finally:
            await c.close()
    if stats.errors:
        raise RuntimeError("warm-up: " + "; ".join(stats.errors[:5]))
    return cold


async def soak(args, base: str, pids: list[int], log: Path | None) -> dict:
    stats = Stats()
    rng = random.Random(args.seed)
    clients = [Client(i, base, stats, random.Random(rng.random()), args.timeout) for i in range(args.sessions)]
    page_names = args.pages or PAGE_NAMES
    for c in clients:
        c.allowed = set(args.pages) if args.pages else None

    async def first_load(c: Client, i: int):
        await asyncio.sleep(i * args.ramp)            # students do not all press Enter in the same millisecond
        await c.connect()
        await c.visit(page_names[i % len(page_names)])

    cold = {}
    if args.warm:        # what deploy/ does before a replica takes students: every page and tab opened once
        try:
            cold = await warm_up(base, args.warmup_limit)
        except RuntimeError as e:
            stats.errors.append(str(e)[:400])
    t_connect = time.time()
    rss_cold = rss_mb(pids)
    try:
        await asyncio.wait_for(asyncio.gather(*(first_load(c, i) for i, c in enumerate(clients))), args.warmup_limit)
    except asyncio.TimeoutError:
        stats.errors.append(f"the first page loads took more than {args.warmup_limit:.0f} s")
    warm = time.time()
    rss_samples: list[tuple[float, float]] = []
    end = warm + args.minutes * 60

    async def user(c: Client):
        while time.time() < end:
            await asyncio.sleep(c.rng.uniform(0.5 * args.think, 1.5 * args.think))
            if time.time() >= end or getattr(c, "closed", False):
                break
            await c.interact()

    async def sample_rss():
        while time.time() < end:
            value = rss_mb(pids)
            if value is not None:
                rss_samples.append((time.time(), value))
            await asyncio.sleep(5)

    try:        # bounded: every client stops at `end`; a run still hanging then is cut off after its own timeout
        await asyncio.wait_for(asyncio.gather(sample_rss(), *(user(c) for c in clients)),
                               end - time.time() + args.timeout + 30)
    except asyncio.TimeoutError:
        stats.errors.append("clients still busy after the end of the run")
    stop = time.time()
    for c in clients:
        await c.close()

    result = {"sessions": args.sessions, "minutes": args.minutes, "think_s": args.think, "url": base,
              "client_runs": stats.runs, "errors": len(stats.errors), "error_samples": stats.errors[:10],
              "client_p50_ms": percentile(stats.latencies_ms, 50),
              "client_p95_ms": percentile(stats.latencies_ms, 95),
              "visits_per_page": stats.pages, "media_fetched": stats.media_ok,
              "warmup_s": round(warm - t_connect, 1), "cold_page_s": cold}
    if log is not None:
        rows = read_log(log, warm, stop + 1)
        run_ms = [r["ms"] for r in rows if not r.get("rerun")]
        logged_errors = [r for r in rows if "error" in r]
        result.update({"runs": len(run_ms), "p50_ms": percentile(run_ms, 50), "p95_ms": percentile(run_ms, 95),
                       "p99_ms": percentile(run_ms, 99), "max_ms": max(run_ms) if run_ms else None})
        result["errors"] += len(logged_errors)
        per = {}
        for r in rows:
            if not r.get("rerun"):
                per.setdefault(f"{r['page']}/{r['kind']}", []).append(r["ms"])
        result["per_page"] = {k: {"runs": len(v), "p50_ms": percentile(v, 50), "p95_ms": percentile(v, 95)}
                              for k, v in sorted(per.items())}
        by_session = {}
        for r in rows:
            by_session.setdefault(r["session"], set()).add(r.get("pid"))
        mine = {hashlib.sha1(s.encode()).hexdigest()[:8] for s in stats.session_ids}
        replicas = {}
        for s in mine:
            for pid in by_session.get(s, ()):
                replicas[str(pid)] = replicas.get(str(pid), 0) + 1
        result["sessions_per_replica"] = replicas
        result["sessions_on_more_than_one_replica"] = sum(1 for s in mine if len(by_session.get(s, ())) > 1)
        result["errors"] += result["sessions_on_more_than_one_replica"]
    else:
        result.update({"runs": stats.runs, "p50_ms": None, "p95_ms": None,
                       "note": "no --timing-log: server-side times unknown; client-side only"})
    result["sessions_seen"] = len(stats.session_ids)
    if len(stats.session_ids) != args.sessions:
        result["errors"] += 1
        stats.errors.append(f"{len(stats.session_ids)} session ids for {args.sessions} clients (a reconnect?)")
    if rss_samples:
        third = warm + (stop - warm) / 3
        at_third = min(rss_samples, key=lambda s: abs(s[0] - third))[1]
        result.update({"rss_mb_cold": rss_cold, "rss_mb_start": rss_samples[0][1], "rss_mb_third": at_third,
                       "rss_mb_end": rss_samples[-1][1], "rss_mb_max": max(v for _, v in rss_samples),
                       "rss_growth_after_third_pct": round(100 * (rss_samples[-1][1] - at_third) / at_third, 1)})
        result.update(rss_trend(rss_samples, third, stop))
        result["rss_mb_minute_medians"] = minute_medians(rss_samples, warm, stop)
    else:
        result.update({"rss_mb_start": None, "rss_mb_end": None})
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return result


def warm_only(base: str, limit: float, ready_file: Path | None) -> int:
    if not wait_healthy(base, limit):       # a container starts this beside the server: wait until it answers
        print(f"warm-up: {base} did not become healthy in {limit:.0f} s", file=sys.stderr)
        return 1
    started = time.monotonic()
    try:
        cold = asyncio.run(warm_up(base, limit))
    except (RuntimeError, OSError) as e:
        print(str(e), file=sys.stderr)
        return 1
    print(json.dumps({"url": base, "warm_s": round(time.monotonic() - started, 1), "per_page_s": cold}))
    if ready_file:
        ready_file.touch()
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--think", type=float, default=3.0, help="mean seconds between one session's interactions")
    ap.add_argument("--url", help="a running server or load balancer (default: start one on 127.0.0.1)")
    ap.add_argument("--timing-log", type=Path, help="with --url: the DLVIZ_TIMING_LOG file of the server(s)")
    ap.add_argument("--pid", type=int, action="append", default=[], help="with --url: server pid(s) for RSS")
    ap.add_argument("--ramp", type=float, default=0.5, help="seconds between two sessions' first page loads")
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds a run may take before it is an error")
    ap.add_argument("--warm", action="store_true",
                    help="one client opens every page, switch choice and tab, on each dataset, before the sessions "
                         "start")
    ap.add_argument("--warm-only", action="store_true",
                    help="only that warm-up (waits for the server to be healthy first), then exit: 0 if no page "
                         "showed an exception; deploy/ uses it so a replica takes students only once warm")
    ap.add_argument("--ready-file", type=Path, help="with --warm-only: touch this file when the warm-up is done")
    ap.add_argument("--warmup-limit", type=float, default=300.0, help="seconds for every session's first page")
    ap.add_argument("--pages", type=lambda v: [p.strip() for p in v.split(",")],
                    help="only these pages (url paths, comma-separated; '' is home), e.g. to find which page "
                         "makes the RSS grow")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    if args.warm_only:
        return warm_only(args.url or "http://127.0.0.1:8501", args.warmup_limit, args.ready_file)
    proc = None
    if args.url:
        base, log, pids = args.url, args.timing_log, args.pid
    else:
        log = Path(tempfile.mkstemp(prefix="dlviz-timing-", suffix=".jsonl")[1])
        port = free_port()
        proc = start_server(port, log)
        base, pids = f"http://127.0.0.1:{port}", [proc.pid]
    try:
        result = asyncio.run(soak(args, base, pids, log))
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k}: {v}")
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
