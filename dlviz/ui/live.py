"""The live-training views: settings, run controls and a fragment that polls the run and redraws its figures.

    live_cnn_view(dataset, image)     # Convolution page: a CNN (or a dense network) from scratch
    live_latent_view(dataset)         # Autoencoder & VAE page: a 2-D latent space forming
    live_gan_view()                   # GAN page: DCGAN vs WGAN-GP on 2-D points

A session has at most one run, kept in `st.session_state["dlviz.live.run"]` (a `SessionRun`: when Streamlit
drops the session, the run stops). Starting a run anywhere stops the session's previous one. The panel is a
fragment (its widgets rerun only it); inside it, `_poller` is a fragment with `run_every=POLL_SECONDS` while the run
trains, and none while it is paused or over, so an idle page costs nothing.
"""
from __future__ import annotations

import base64
import hashlib

import numpy as np
import streamlit as st

from dlviz import registry
from dlviz.datasets import get_dataset
from dlviz.figures import live as lfig
from dlviz.i18n import t
from dlviz.live import cnn, gan2d, latent
from dlviz.live.runner import (FAILED, FINISHED, PAUSED, QUEUED, RUNNING, STARTING, STOPPED, POOL, LiveRun,
                               SessionRun, Snapshot)
from dlviz.ui.widgets import radio, selectbox

RUN = "dlviz.live.run"              # the session's SessionRun
START = "dlviz.live.start"          # a Start click's request: the kind of view to start a run in
PAST = "dlviz.live.past"            # {kind: [(label, steps, values), ...]}: earlier runs' curves, for comparison
POLL_SECONDS = 0.2                  # 5 redraws per second while a run trains
CURVES_SECONDS = 2.0                # the loss / accuracy curves: every 2 s
POLLING_STATES = (QUEUED, STARTING, RUNNING)
KIND_PAGES = {"cnn": "Convolution", "latent": "Autoencoder & VAE", "gan2d": "GAN"}


# --------------------------------------------------------------------------- the session's run
def session_run() -> SessionRun | None:
    return st.session_state.get(RUN)


def _run_of(kind: str) -> LiveRun | None:
    handle = session_run()
    return handle.run if handle is not None and handle.kind == kind else None


def _start(kind: str, make_task, settings: dict, label: str) -> LiveRun:
    old = session_run()
    if old is not None:
        old.run.stop(t("stopped: a new run started"))
        _remember(old)
    run = LiveRun(make_task, POOL, name=label).start()
    st.session_state[RUN] = SessionRun(run, kind, {**settings, "label": label})
    return run


def _remember(handle: SessionRun, keep: int = 4) -> None:
    """Keep an ended run's test curve (CNN) so the next run can be compared with it."""
    arrays = handle.run.snapshot().arrays
    if handle.kind == "cnn" and len(arrays.get("test_steps", ())) > 1:
        past = st.session_state.setdefault(PAST, {}).setdefault("cnn", [])
        past.append((handle.settings["label"], arrays["test_steps"], arrays["test_accuracy"]))
        del past[:-keep]


def _status(snap: Snapshot) -> None:
    if snap.state == QUEUED:
        running, waiting = POOL.load()
        st.info(t("{running} runs are training on this server, the most it allows at once. Yours is number "
                  "{position} in the queue and starts by itself when one ends.",
                  running=running, position=snap.queue_position or 1), icon=":material/hourglass_top:")
    elif snap.state == STARTING:
        st.info(t("Building the network and compiling its training step…"), icon=":material/hourglass_top:")
    elif snap.state == FAILED:
        st.error(t("The run failed: {message}. Change a setting and start again.", message=snap.message))
    else:
        what = {RUNNING: t("training"), PAUSED: t("paused"), FINISHED: t("finished"), STOPPED: t("stopped")}
        text = t("**{state}** · step {step:,} of {total:,}", state=what.get(snap.state, snap.state),
                 step=snap.step, total=snap.max_steps)
        if snap.state == RUNNING:
            text += " · " + t("{rate:.0f} steps/s", rate=snap.steps_per_second)
        if snap.state in (STOPPED, FINISHED) and snap.message:
            text += f" · {snap.message}"
        st.markdown(text)


def _controls(kind: str, start) -> LiveRun | None:
    """Start / pause / resume / one step / stop. `start()` makes a new run from the current settings.

    The buttons act in `on_click` callbacks, which Streamlit runs before the script: a page that reruns itself
    (e.g. to update its URL) cannot swallow a click. Starting needs the page's current settings, so its callback
    only leaves a request that this function picks up.
    """
    if st.session_state.pop(START, None) == kind:
        run = start()
        _settle(run, lambda s: s.state != QUEUED or s.queue_position is not None, timeout=2)
    run = _run_of(kind)
    snap = run.snapshot() if run is not None else None
    other = session_run()
    if other is not None and other.kind != kind and other.run.state in (QUEUED, STARTING, RUNNING, PAUSED):
        st.caption(t("Your run on the {page} page is still going; starting one here stops it.",
                     page=t(KIND_PAGES[other.kind])))
    cols = st.columns(5)
    active = snap is not None and snap.active
    paused = snap is not None and snap.state == PAUSED
    cols[0].button(t("Start a new run") if active else t("Start"), key=f"live.{kind}.start", type="primary",
                   icon=":material/play_arrow:", on_click=st.session_state.__setitem__, args=(START, kind))
    cols[1].button(t("Resume") if paused else t("Pause"), key=f"live.{kind}.pause", disabled=not active,
                   icon=":material/play_circle:" if paused else ":material/pause:", on_click=_pause_or_resume,
                   args=(kind, paused))
    cols[2].button(t("One step"), key=f"live.{kind}.step", disabled=not active,
                   help=t("Pause and train exactly one batch."), icon=":material/skip_next:", on_click=_one_step,
                   args=(kind, snap.step if paused else None))
    cols[3].button(t("Stop"), key=f"live.{kind}.stop", disabled=not active, icon=":material/stop:",
                   on_click=_stop, args=(kind,))
    running, waiting = POOL.load()
    cols[4].caption(t("Server: {running} of {capacity} training slots in use, {waiting} waiting.",
                      running=running, capacity=POOL.capacity, waiting=waiting))
    return run


def _pause_or_resume(kind: str, shown_paused: bool) -> None:
    """Do what the button said ("Resume" when the page showed the run paused, else "Pause"), not a toggle of the
    run's state now: one click delivered to two reruns (see `LiveRun.step_once`) must not pause and resume again."""
    run = _run_of(kind)
    if run is None:
        return
    if shown_paused:
        run.resume()
        _settle(run, lambda s: s.state != PAUSED)
    else:
        run.pause()
        _settle(run, lambda s: s.state == PAUSED or not s.active)


def _one_step(kind: str, shown_step: int | None = None) -> None:
    run = _run_of(kind)
    if run is None:
        return
    before = run.snapshot()
    if not run.step_once(from_step=shown_step):
        return
    _settle(run, lambda s: (s.step > before.step and s.state == PAUSED) or not s.active
            or s.state in (QUEUED, STARTING))


def _stop(kind: str) -> None:
    run = _run_of(kind)
    if run is not None:
        run.stop(t("stopped by you"))
        _settle(run, lambda s: not s.active)


def _settle(run: LiveRun, condition, timeout: float = 3.0) -> None:
    """Wait (briefly) until the training thread has acted on a command, so the redraw shows its effect."""
    try:
        run.wait_for(condition, timeout=timeout)
    except TimeoutError:
        pass


def _configure_changed(run: LiveRun, **settings) -> None:
    """Send the settings that differ from what the session's run has now (the first call: all of them)."""
    handle = session_run()
    changed = {k: v for k, v in settings.items() if handle.settings.get(k) != v}
    if changed:
        handle.settings.update(changed)
        run.configure(**changed)


def _poll(kind: str, draw, draw_curves) -> None:
    """Draw the run's latest snapshot now, and again while it trains: the pictures every POLL_SECONDS, the Plotly
    curves every CURVES_SECONDS (a Plotly chart whose data changed is mounted anew and blinks blank while it
    redraws, so the curves are redrawn seldom enough to be seen)."""
    run = _run_of(kind)
    if run is None:
        st.caption(t("Press **Start** to train from random weights and watch it learn."))
        return
    polling = run.snapshot().state in POLLING_STATES

    @st.fragment(run_every=POLL_SECONDS if polling else None)
    def poller():
        current = _run_of(kind)
        if current is not run:          # replaced or dropped since the panel ran
            st.rerun()
        snap = run.snapshot()
        _status(snap)
        if snap.arrays:
            draw(snap)
        if polling and snap.state not in POLLING_STATES:
            st.rerun()                  # paused, finished or stopped: redraw the panel without polling

    @st.fragment(run_every=CURVES_SECONDS if polling else None)
    def curves():
        snap = run.snapshot()
        if snap.arrays:
            draw_curves(snap)

    poller()
    curves()


def _picture(data: bytes, caption: str | None = None) -> None:
    """A PNG/JPEG shown from a data: URL. st.image would store bytes in the media file manager, whose files from
    one fragment run can be dropped by another fragment's run before the browser fetched them (broken images in
    the browser test); a data: URL travels inside the message and the <img> element stays, only its src changes."""
    kind = "jpeg" if data[:2] == b"\xff\xd8" else "png"
    st.image(f"data:image/{kind};base64,{base64.b64encode(data).decode('ascii')}", caption=caption)


def _digest(array: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(array, np.float32).tobytes()).hexdigest()[:12]


# --------------------------------------------------------------------------- CNN from scratch
@st.fragment
def live_cnn_view(dataset: str, image: np.ndarray) -> None:
    """image: the user's current input (28, 28) float32 in [0, 1], as the trained CNN sees it."""
    ds = get_dataset(dataset)
    st.markdown(t("Train a small network **from random weights** on {n:,} {title} images and watch it learn: "
                  "the first layer's kernels, what they make of your input, and its prediction, several times a "
                  "second.", n=2000, title=ds.title))
    c1, c2, c3, c4 = st.columns([2, 2, 3, 2])
    architecture = radio(c1, t("Network"), cnn.ARCHITECTURES, key="live.cnn.arch",
                             format_func=lambda a: {"cnn": t("CNN (2 conv layers)"),
                                                    "dense": t("Dense (no convolutions)")}[a])
    shuffled = c1.toggle(t("Shuffle the pixels"), key="live.cnn.shuffle",
                         help=t("One fixed random permutation of the 784 pixel positions, the same for every "
                                "training image and for your input."))
    optimizer = selectbox(c2, t("Optimizer"), list(cnn.OPTIMIZERS), index=2, key="live.cnn.opt",
                              format_func=lambda o: t(cnn.OPTIMIZERS[o]))
    lr_key = f"live.cnn.lr.{optimizer}"
    learning_rate = c3.select_slider(t("Learning rate"), cnn.LEARNING_RATES, value=cnn.DEFAULT_LR[optimizer],
                                     key=lr_key, help=t("Changes apply while it trains."))
    batch_size = c4.select_slider(t("Batch size"), cnn.BATCH_SIZES, value=32, key="live.cnn.batch",
                                  help=t("Changes apply while it trains."))

    def start():
        try:
            data = registry.load_data(f"live_{dataset}")
        except registry.ModelUnavailable as e:
            st.error(t("Live training needs its bundled images. {error}", error=str(e)))
            st.stop()
        settings = cnn.CnnSettings(dataset=dataset, architecture=architecture, optimizer=optimizer,
                                   learning_rate=learning_rate, batch_size=batch_size, shuffle_pixels=shuffled)
        label = (t("CNN") if architecture == "cnn" else t("Dense")) + (t(", shuffled") if shuffled else "") + \
            f", {cnn.OPTIMIZERS[optimizer]} {learning_rate:g}"
        return _start("cnn", lambda: cnn.CnnTask(settings, data, image), {"image": _digest(image)}, label)

    run = _controls("cnn", start)
    if run is not None:
        _configure_changed(run, learning_rate=learning_rate, batch_size=batch_size)
        digest = _digest(image)
        if session_run().settings.get("image") != digest:
            session_run().settings["image"] = digest
            before = run.snapshot().serial
            run.configure(image=image)
            _settle(run, lambda s: s.serial > before or s.state != PAUSED, timeout=1.0)
    _poll("cnn", lambda snap: _draw_cnn(snap, ds.classes), _draw_cnn_curves)
    st.caption(t("The point of the shuffle switch: a dense layer gives every pixel its own weight and never knew "
                 "which pixels were neighbours, so it learns the shuffled images just as well. A convolution's "
                 "small kernels only look at neighbours: on shuffled pixels there are no strokes or edges left "
                 "for them to find. Start one run of each and compare their test curves."))


def _draw_cnn(snap: Snapshot, classes) -> None:
    a = snap.arrays
    left, right = st.columns([2, 3])
    with left.container(key="live.cnn.input"):
        _picture(lfig.image_png(a["input"], 6), caption=t("Your input, as this network sees it"))
    best = int(np.argmax(a["probs"]))
    right.markdown(t("**Prediction: {label}** ({p:.0%}) · test accuracy so far **{acc:.1%}**", label=classes[best],
                     p=float(a["probs"][best]), acc=float(a["test_accuracy"][-1])))
    with right.container(key="live.cnn.probs"):
        _picture(lfig.probabilities_png(a["probs"], classes, width=460, height=190))
    if a["architecture"] == "cnn":
        k1, k2 = st.columns([2, 3])
        k1.markdown(t("**conv1's 8 kernels** (3×3; red positive, blue negative)"))
        with k1.container(key="live.cnn.kernels"):
            _picture(lfig.tiles_png(a["kernels"], signed=True, cols=4, tile_px=60))
        k2.markdown(t("**conv1's feature maps of your input** (each kernel slid over it, then ReLU)"))
        with k2.container(key="live.cnn.maps1"):
            _picture(lfig.tiles_png(a["maps"]["conv1"], cols=4, tile_px=84))
        st.markdown(t("**conv2's 16 feature maps** (14×14, after pooling and a second convolution)"))
        with st.container(key="live.cnn.maps2"):
            _picture(lfig.tiles_png(a["maps"]["conv2"], cols=8, tile_px=70))
    else:
        st.markdown(t("**The weights of 8 of the dense layer's 32 units**, laid out like the input they multiply "
                      "(red positive, blue negative)"))
        with st.container(key="live.cnn.kernels"):
            _picture(lfig.tiles_png(a["unit_weights"], signed=True, cols=8, tile_px=90))


def _draw_cnn_curves(snap: Snapshot) -> None:
    a, h = snap.arrays, snap.history
    test = a["test_accuracy"]
    past = {label: (steps, values) for label, steps, values in st.session_state.get(PAST, {}).get("cnn", [])}
    sparse = {t("test accuracy (this run)"): (a["test_steps"], test), **past}
    left, right = st.columns(2)
    left.plotly_chart(lfig.curves({t("training accuracy"): h.get("accuracy", np.zeros(0))}, snap.max_steps,
                                  t("Accuracy"), sparse=sparse, y_range=(0, 1.02), height=280), key="live.cnn.acc")
    right.plotly_chart(lfig.curves({t("training loss"): h.get("loss", np.zeros(0))}, snap.max_steps,
                                   t("Loss (cross-entropy)"), height=280), key="live.cnn.loss")
    st.caption(t("Test accuracy on {n} bundled test images, measured every {k} steps; earlier runs of this "
                 "session are kept for comparison. Learning rate {lr:g}, batch size {b}.", n=500,
                 k=cnn.EVAL_EVERY, lr=a["learning_rate"], b=a["batch_size"]))


# --------------------------------------------------------------------------- latent space forming
@st.fragment
def live_latent_view(dataset: str) -> None:
    ds = get_dataset(dataset)
    st.markdown(t("Train a 2-D autoencoder or VAE **from random weights** on {n:,} {title} images and watch "
                  "the {m} test images' codes sort themselves by class.", n=2000, title=ds.title, m=500))
    c1, c2, c3 = st.columns([2, 3, 2])
    kind = radio(c1, t("Model"), latent.KINDS, key="live.latent.kind", horizontal=True,
                     format_func=lambda k: {"vae": t("VAE"), "ae": t("Autoencoder")}[k])
    beta = c2.slider(t("β, the weight of the KL term"), 0.0, 5.0, 1.0, 0.1, key="live.latent.beta",
                     disabled=kind != "vae", help=t("Loss = reconstruction + β·KL. Changes apply while it trains."))
    learning_rate = c3.select_slider(t("Learning rate"), (0.0003, 0.001, 0.003, 0.01), value=0.001,
                                     key="live.latent.lr", help=t("Changes apply while it trains."))

    def start():
        try:
            data = registry.load_data(f"live_{dataset}")
        except registry.ModelUnavailable as e:
            st.error(t("Live training needs its bundled images. {error}", error=str(e)))
            st.stop()
        settings = latent.LatentSettings(dataset=dataset, kind=kind, beta=beta, learning_rate=learning_rate)
        return _start("latent", lambda: latent.LatentTask(settings, data), {}, kind)

    run = _controls("latent", start)
    if run is not None:
        _configure_changed(run, beta=beta, learning_rate=learning_rate)
    _poll("latent", lambda snap: _draw_latent(snap, ds.classes), _draw_latent_curves)


def _draw_latent(snap: Snapshot, classes) -> None:
    a = snap.arrays
    name = t("VAE, β = {beta:g}", beta=a["beta"]) if a["kind"] == "vae" else t("Autoencoder")
    left, right = st.columns([3, 2])
    picture, (cx, cy, half) = lfig.latent_png(a["codes"], a["labels"], classes)
    left.markdown(t("**{name}: codes (μ) of {n} test images, step {step:,}**", name=name, n=len(a["codes"]),
                    step=snap.step))
    with left.container(key="live.latent.scatter"):
        _picture(picture, caption=t("z₁ from {x0:.2f} to {x1:.2f}, z₂ from {y0:.2f} to {y1:.2f}; grey lines: 0",
                                    x0=cx - half, x1=cx + half, y0=cy - half, y1=cy + half))
    n = latent.GRID
    right.markdown(t("**Decoded over the codes' range** ({n}×{n} codes)", n=n))
    with right.container(key="live.latent.grid"):
        _picture(lfig.mosaic_png(a["grid"], n, n, scale=2),
                 caption=t("z₁ from {x0:.2f} (left) to {x1:.2f}, z₂ from {y1:.2f} (top) to {y0:.2f}",
                           x0=a["grid_x"][0], x1=a["grid_x"][-1], y0=a["grid_y"][-1], y1=a["grid_y"][0]))


def _draw_latent_curves(snap: Snapshot) -> None:
    a, h = snap.arrays, snap.history
    series = {t("reconstruction (BCE, summed over 784 pixels)"): h.get("reconstruction", np.zeros(0))}
    if a["kind"] == "vae":
        series[t("KL")] = h.get("kl", np.zeros(0))
    st.plotly_chart(lfig.curves(series, snap.max_steps, t("Loss terms"), log_y=True, height=240),
                    key="live.latent.loss")
    st.caption(t("The axes follow the codes. An autoencoder's codes spread out in streaks with gaps between them; "
                 "the KL term pulls a VAE's towards N(0, I): raise β and the classes crowd together (and the "
                 "decodes blur), set it to 0 and the VAE behaves like an autoencoder."))


# --------------------------------------------------------------------------- GAN on 2-D points
TARGET_NAMES = {"ring": "Ring of 8 Gaussians", "grid": "Grid of 25 Gaussians", "moons": "Two moons",
                "drawn": "Your drawing"}


@st.fragment
def live_gan_view() -> None:
    st.markdown(t("GAN Lab's lesson: a **DCGAN** and a **WGAN-GP** learn the same 2-D distribution from the "
                  "same seed, side by side. Green: real points; purple: generated ones; the background: the "
                  "discriminator's P(real) (the critic's score for WGAN-GP); arrows: where the generator's loss "
                  "pushes each generated point."))
    c1, c2, c3 = st.columns([3, 2, 2])
    target = radio(c1, t("Target distribution"), gan2d.TARGETS, key="live.gan.target", horizontal=True,
                       format_func=lambda k: t(TARGET_NAMES[k]))
    learning_rate = c2.select_slider(t("Learning rate"), (0.0001, 0.0003, 0.001, 0.003), value=0.001,
                                     key="live.gan.lr", help=t("Changes apply while it trains."))
    seed = c3.number_input(t("Seed"), 0, 9999, 0, key="live.gan.seed")
    points = np.zeros((0, 2), np.float32)
    if target == "drawn":
        points = _drawn_points()
    can_start = target != "drawn" or len(points) >= 10

    def start():
        if not can_start:
            st.warning(t("Draw a shape on the canvas first (white on black)."))
            st.stop()
        settings = gan2d.Gan2dSettings(target=target, learning_rate=learning_rate, seed=int(seed),
                                       points=tuple(map(tuple, points.tolist())))
        return _start("gan2d", lambda: gan2d.Gan2dTask(settings), {}, target)

    run = _controls("gan2d", start)
    if run is not None:
        _configure_changed(run, learning_rate=learning_rate)
    _poll("gan2d", _draw_gan, _draw_gan_curves)


def _drawn_points() -> np.ndarray:
    from streamlit_drawable_canvas import st_canvas

    c1, c2 = st.columns([1, 2])
    with c1:
        result = st_canvas(stroke_width=14, stroke_color="#FFFFFF", background_color="#000000", width=240,
                           height=240, drawing_mode="freedraw", return_image_data=True, key="live.gan.canvas")
    data = getattr(result, "image_data", None)
    points = gan2d.points_from_drawing(data) if data is not None else np.zeros((0, 2), np.float32)
    c2.caption(t("Draw the distribution the generators should learn; its ink becomes {n:,} target points. "
                 "Then press Start.", n=len(points)))
    return points


def _draw_gan(snap: Snapshot) -> None:
    a = snap.arrays
    titles = {"dcgan": t("DCGAN (binary cross-entropy)"), "wgan_gp": t("WGAN-GP (critic, gradient penalty)")}
    for col, loss in zip(st.columns(2), gan2d.LOSSES):
        m = a[loss]
        col.markdown(t("**{name}**, step {step:,}", name=titles[loss], step=snap.step))
        with col.container(key=f"live.gan.{loss}"):
            _picture(lfig.gan_field_png(a["axis"], m["surface"], a["real"], m["fake"], m["arrows"],
                                        critic=loss == "wgan_gp", modes=a["modes"]))
    lim = float(a["axis"][-1])
    st.caption(t("Both planes span −{lim:g} to {lim:g} on each axis. Green: real points (rings: the modes); purple: "
                 "generated; black: where the generator's loss pushes a generated point. Background: P(real) from "
                 "blue 0 to red 1 (DCGAN), the critic's score around its median (WGAN-GP).", lim=lim))


def _draw_gan_curves(snap: Snapshot) -> None:
    a, h = snap.arrays, snap.history
    titles = {"dcgan": t("DCGAN (binary cross-entropy)"), "wgan_gp": t("WGAN-GP (critic, gradient penalty)")}
    left, right = st.columns(2)
    left.plotly_chart(lfig.curves({t("DCGAN discriminator"): h.get("dcgan_d_loss", np.zeros(0)),
                                   t("DCGAN generator"): h.get("dcgan_g_loss", np.zeros(0))}, snap.max_steps,
                                  t("DCGAN losses"), height=240), key="live.gan.loss.dcgan")
    right.plotly_chart(lfig.curves({t("WGAN-GP critic"): h.get("wgan_gp_d_loss", np.zeros(0)),
                                    t("WGAN-GP generator"): h.get("wgan_gp_g_loss", np.zeros(0))}, snap.max_steps,
                                   t("WGAN-GP losses"), height=240), key="live.gan.loss.wgan")
    if a["modes"] is not None:
        counts = {titles[loss]: a[loss]["modes"] for loss in gan2d.LOSSES}
        st.plotly_chart(lfig.modes_over_time(a["mode_steps"], counts, len(a["modes"]), snap.max_steps),
                        key="live.gan.modes")
        last = {loss: int(a[loss]["modes"][-1]) for loss in gan2d.LOSSES}
        st.caption(t("Now: DCGAN covers {d} of {k} modes, WGAN-GP {w}. A mode counts as covered when at least a "
                     "quarter of its fair share of {n} generated points lies within 3σ of it.", d=last["dcgan"],
                     k=len(a["modes"]), w=last["wgan_gp"], n=gan2d.SHOWN))


def live_tab_label() -> str:
    """The name of the live-training tab on each model page."""
    return t("Live training")
