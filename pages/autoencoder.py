"""Autoencoder & VAE: reconstruction, denoising, sparsity, anomaly score, latent space, manifold, interpolation,
the VAE's sampling and loss, samples from the prior. Wiring only: the maths is in dlviz.latent / anomaly / noise."""
import numpy as np
import streamlit as st

from dlviz import anomaly, figures, latent, noise, registry
from dlviz.coder import Coder
from dlviz.datasets import get_dataset
from dlviz.figures import latent as lfig
from dlviz.i18n import N_, t
from dlviz.training.autoencoder import KIND_TITLES, SHORT_TITLES, model_name, other_dataset
from dlviz.ui.input_picker import dataset_selector, input_with_view
from dlviz.ui.links import linked
from dlviz.ui.live import live_latent_view, live_tab_label
from dlviz.ui.shell import enter_app
from dlviz.ui.widgets import radio

enter_app()

SCORES = {"kl": N_("cross-entropy minus the image's own entropy (Σ KL per pixel)"), "mse": N_("MSE per image"),
          "bce": N_("binary cross-entropy summed over the pixels (the training loss)")}
SHOWN = 2000            # test codes drawn on a latent scatter (3,000 are stored: PCA and ranges use them all)
TABS = [N_("Reconstruction"), N_("Denoising"), N_("Sparsity"), N_("Anomaly"), N_("Latent space"),
        N_("Manifold grid"), N_("Interpolation"), N_("VAE mechanics"), N_("Sampling")]


@st.cache_resource(show_spinner=t("Loading the autoencoder…"))
def cached_coder(name: str) -> Coder:
    return Coder(registry.load_model(name))


@st.cache_resource(show_spinner=False)
def cached_extra(name: str) -> dict:
    return registry.load_extra(name, "latent")


def coder(kind: str, dataset: str) -> Coder:
    """The model's Coder, or a clear message in place of this section."""
    try:
        return cached_coder(model_name(kind, dataset))
    except registry.ModelUnavailable as e:
        st.error(t("**This section needs the model `{name}`, which cannot be loaded.** {reason}",
                   name=model_name(kind, dataset), reason=e))
        st.stop()


def extra(kind: str, dataset: str) -> dict:
    try:
        return cached_extra(model_name(kind, dataset))
    except registry.ModelUnavailable as e:
        st.error(t("**This section needs the test-set data of `{name}`.** {reason}", name=model_name(kind, dataset),
                   reason=e))
        st.stop()


@st.cache_data(ttl=30, show_spinner=False)
def entry(kind: str, dataset: str) -> dict:
    """The model's manifest entry (how it was trained, its test-set metrics), or {} without one."""
    try:
        return registry.model_card(model_name(kind, dataset)).entry
    except registry.ModelUnavailable:
        return {}


def metric(kind: str, dataset: str, key: str, default=float("nan")):
    return entry(kind, dataset).get("metrics", {}).get(key, default)


@st.fragment
def reconstruction_tab(x, dataset):
    kinds = list(KIND_TITLES)
    results = [(t(SHORT_TITLES[k]), coder(k, dataset).reconstruct(x)[1][0]) for k in kinds]
    st.plotly_chart(lfig.reconstructions(x, results), key="ae.recon")
    st.caption(t("Top: what each network rebuilds from its code (the VAE from its mean μ). Bottom: the squared error "
                 "per pixel, one colour scale for all. Test-set MSE per image: {values}.", values=", ".join(
                     f"{t(KIND_TITLES[k])} {metric(k, dataset, 'test_mse'):.4f}" for k in kinds)))


@st.fragment
def denoising_tab(x, dataset):
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    kind = radio(c1, t("Noise"), list(noise.NOISE_KINDS), format_func=lambda k: t(noise.NOISE_KINDS[k][0]),
                     horizontal=True, **linked("ae.noise.kind"))
    label, (low, high), meaning = noise.NOISE_KINDS[kind]
    amount = c2.slider(t("Amount ({meaning})", meaning=t(meaning)), low, high,
                       {"gaussian": 0.3, "salt_pepper": 0.1}.get(kind, 0.2), 0.01, **linked(f"ae.noise.amount.{kind}"))
    seed = c3.number_input(t("Noise seed"), 0, 9999, 0, **linked("ae.noise.seed"))
    noisy = noise.corrupt(x, kind, amount, np.random.default_rng(seed))
    plain = coder("ae", dataset).reconstruct(noisy)[1][0]
    clean = coder("ae_denoise", dataset).reconstruct(noisy)[1][0]
    st.plotly_chart(lfig.reconstructions(x, [(t("noisy input"), noisy), (t("plain AE"), plain),
                                             (t("denoising AE"), clean)]), key="ae.denoise")
    st.caption(t("Errors are against your clean input. The denoising AE was trained on noisy copies of the training "
                 "images (each epoch a fresh mix of all three noises) with the clean image as the target. On the test "
                 "set with {noise}: plain AE MSE {plain:.4f}, denoising AE {clean:.4f} (at the amount the slider "
                 "starts at).", noise=t(label).lower(), plain=metric("ae", dataset, f"noisy_{kind}_mse"),
                 clean=metric("ae_denoise", dataset, f"noisy_{kind}_mse")))


@st.fragment
def sparsity_tab(x, dataset):
    codes = [(t(KIND_TITLES[k]), coder(k, dataset).encode(x).code[0]) for k in ("ae", "ae_sparse")]
    st.plotly_chart(lfig.code_bars(codes), key="ae.sparse.bars")
    shares = [float(latent.near_zero_share(c[None])[0]) for _, c in codes]
    cols = st.columns(2)
    for col, (name, _), share, k in zip(cols, codes, shares, ("ae", "ae_sparse")):
        col.metric(t("{name}: near-zero units for your input", name=name), f"{share:.0%}",
                   help=t("|unit| ≤ 1 % of the code's largest unit"))
        col.caption(t("On the test set: {share:.0%} of units on average.",
                      share=metric(k, dataset, "near_zero_share")))
    lam = entry("ae_sparse", dataset).get("config", {}).get("sparsity", "λ")
    st.caption(t("The sparse AE's loss adds {lam}·Σ|code|: an L1 penalty on the activations (as in the notes), so "
                 "each image is described by a few active units.", lam=lam))


@st.fragment
def anomaly_tab(x, dataset):
    data = extra("ae", dataset)
    chosen = metric("ae", dataset, "anomaly_score", "mse")         # chosen by the training code (on training images)
    score = radio(st, t("Anomaly score"), list(SCORES), index=list(SCORES).index(chosen),
                      format_func=lambda s: t(SCORES[s]), horizontal=True, **linked(f"ae.anomaly.score.{dataset}"))
    k = st.slider(t("Threshold = mean + k·std of the test errors; k ="), 0.0, 6.0, 3.0, 0.25, **linked("ae.anomaly.k"))
    normal = data[f"errors_{score}"]
    th = anomaly.threshold(normal, k)
    errors = {"mse": latent.mse_per_image, "bce": latent.bce_per_image, "kl": latent.excess_bce_per_image}[score]
    error = float(errors(x[None], coder("ae", dataset).reconstruct(x)[1])[0])
    verdict = t("anomaly") if th.is_anomaly(error) else t("normal")
    names = t(get_dataset(dataset).title), t(get_dataset(other_dataset(dataset)).title)
    odd = data.get(f"other_errors_{score}")
    unit = t(SCORES[score])
    c1, c2 = st.columns([3, 2])
    c1.plotly_chart(lfig.error_histogram(normal, odd, th.value, error, verdict, *names, unit), key="ae.anomaly.hist")
    st.markdown(t("Your input's reconstruction error is **{e:.4g}**: **{verdict}** (threshold {m:.4g} + {k:g} × "
                  "{s:.4g} = {v:.4g}).", e=error, verdict=verdict, m=th.mean, k=k, s=th.std, v=th.value))
    if odd is not None:
        fp, tp = anomaly.rates_at(th.value, normal, odd)
        c2.plotly_chart(lfig.roc(data[f"roc_fpr_{score}"], data[f"roc_tpr_{score}"],
                                 metric("ae", dataset, f"anomaly_auroc_{score}"), (fp, tp)), key="ae.anomaly.roc")
        st.markdown(t("At this k, {fp:.1%} of the normal test images are flagged and {tp:.1%} of the {other} test "
                      "images are caught.", fp=fp, tp=tp, other=names[1]))
    aurocs = ", ".join(f"{s}: {metric('ae', dataset, f'anomaly_auroc_{s}'):.4f}" for s in SCORES)
    st.caption(t("Score: {unit}, under the {model} trained on {data} only; the other dataset's test images play "
                 "the anomalies (test AUROC by score: {aurocs}). The default score is the one that told the two "
                 "datasets apart best on their training images. Plain cross-entropy grows with how grey an image is, "
                 "so mostly-black digits look \"easy\" to any model: try it under the garment model. Try a scribble "
                 "or a letter in the Draw tab.", unit=unit, model=t(KIND_TITLES["ae"]), data=names[0], aurocs=aurocs))


@st.fragment
def latent_tab(x, dataset):
    classes = get_dataset(dataset).classes
    left_kind = radio(st, t("Left"), ["ae2d", "ae"], horizontal=True, **linked("ae.latent.left"),
                          format_func=lambda k: t(KIND_TITLES[k]) + (" " + t("(PCA of the code)") if k == "ae" else ""))
    for col, kind in zip(st.columns(2), (left_kind, "vae2d")):
        with col:
            data, c = extra(kind, dataset), coder(kind, dataset)
            view = latent.latent_view(data["codes"])
            enc = c.encode(x)
            user = view.place(enc.code)[0]
            ellipse = (enc.code[0], enc.sigma[0]) if c.is_vae else None
            state = f"ae.latent.click.{kind}.{dataset}"
            clicked = st.session_state.get(state)
            title = t(KIND_TITLES[kind])
            if view.projection is not None:
                ratio = view.projection.explained_ratio
                title += " " + t("(PCA: {a:.0%} + {b:.0%} of the variance)", a=ratio[0], b=ratio[1])
            event = st.plotly_chart(lfig.latent_scatter(view.points[:SHOWN], data["labels"][:SHOWN], classes,
                                                        view.bounds, user,
                                                        ellipse, None if clicked is None else clicked[:2], title),
                                    key=f"ae.latent.{kind}", on_select="rerun", selection_mode="points")
            hit = lfig.clicked_latent(event)
            if hit is not None and hit != clicked:
                st.session_state[state] = hit
                st.rerun(scope="fragment")
            if clicked is not None:
                code = (data["codes"][clicked[2]][None].astype(np.float32) if clicked[2] >= 0
                        else view.to_code([clicked[:2]]))
                what = (t("test image #{i}'s code", i=int(data["index"][clicked[2]])) if clicked[2] >= 0
                        else t("an empty spot"))
                st.plotly_chart(figures.image(c.decode(code)[0], t("decoded: {what} ({x:.2f}, {y:.2f})", what=what,
                                                                     x=clicked[0], y=clicked[1]), height=260),
                                key=f"ae.latent.dec.{kind}")
            else:
                st.caption(t("Click a point or an empty spot to decode it."))
    st.caption(t("★ your input (VAE: its mean μ and the 1-σ ellipse). {n:,} test images, coloured by class. The AE's "
                 "codes spread out in streaks with gaps that decode to nonsense; the KL term packs the VAE's around 0.",
                 n=SHOWN))


@st.cache_resource(max_entries=64, show_spinner=False)
def manifold_figure(name: str, sha256: str, n: int, codes_x: tuple, codes_y: tuple):
    """The n×n grid decoded in ONE call, as a figure; kept per model file (sha256) and size: the grid of a given
    size never changes, so moving the slider back is free."""
    ax, ay = np.array(codes_x), np.array(codes_y)
    images = cached_coder(name).decode(latent.grid_codes(ax, ay))
    return lfig.mosaic(images, n, n, x_values=ax, y_values=ay[::-1], axis_titles=("z₁", "z₂"), height=760)


@st.fragment
def manifold_tab(dataset):
    c1, c2 = st.columns(2)
    kind = radio(c1, t("Model"), ["vae2d", "ae2d"], format_func=lambda k: t(KIND_TITLES[k]), horizontal=True,
                     **linked("ae.grid.kind"))
    n = c2.slider(t("Grid size"), 3, 30, 15, **linked("ae.grid.n"))
    if kind == "vae2d":
        ax = ay = latent.gaussian_grid_axis(n)
        how = t("quantiles of N(0, 1) at (i + ½)/n: every cell holds the same prior probability (Kingma & Welling)")
    else:
        codes = extra(kind, dataset)["codes"].astype(np.float64)
        ax, ay = latent.range_grid_axis(codes[:, 0], n), latent.range_grid_axis(codes[:, 1], n)
        how = t("evenly across the central 98 % of the test codes (an AE has no prior to take quantiles of)")
    coder(kind, dataset)                # a clear message if the model cannot be loaded
    fig = manifold_figure(model_name(kind, dataset), entry(kind, dataset).get("sha256", ""), n, tuple(ax), tuple(ay))
    st.plotly_chart(fig, key="ae.grid")
    st.caption(t("{n}×{n} codes decoded in one batch, spaced by {how}.", n=n, how=how))


@st.fragment
def interpolation_tab(x_a, dataset):
    st.markdown(t("Your input above is **A**. Pick **B** here:"))
    _, view_b, right = input_with_view(dataset, slot="b", default_index=700)
    x_b = view_b.image
    with right:
        c1, c2 = st.columns(2)
        kind = radio(c1, t("Latent space of"), ["ae", "vae2d", "ae2d"], format_func=lambda k: t(KIND_TITLES[k]),
                         **linked("ae.interp.kind"))
        steps = c2.slider(t("Steps"), 3, 15, 9, **linked("ae.interp.steps"))
        st.plotly_chart(figures.stages_strip([("A", x_a), ("B", x_b)], height=180), key="ae.interp.ab")
    ts = np.linspace(0, 1, steps)
    c = coder(kind, dataset)
    za, zb = c.encode(np.stack([x_a, x_b])).code.astype(np.float64)
    paths = np.concatenate([latent.lerp(za, zb, ts), latent.slerp(za, zb, ts)])
    rows = np.concatenate([c.decode(paths), latent.crossfade(x_a, x_b, ts)])        # both paths: one decoder call
    st.plotly_chart(lfig.mosaic(rows, 3, steps, row_labels=[t("linear"), t("spherical"), t("pixels")],
                                col_labels=[f"{v:.2f}" for v in ts], axis_titles=("t", ""),
                                height=min(560, 3 * 1000 // steps + 90)), key="ae.interp")
    mid = steps // 2
    st.caption(t("Linear: (1−t)·z_A + t·z_B. Spherical: along the arc, |z| from {a:.2f} to {b:.2f} (halfway |z| = "
                 "{arc:.2f} vs {line:.2f} on the line). Pixels: the two images simply blended.",
                 a=np.linalg.norm(za), b=np.linalg.norm(zb), arc=np.linalg.norm(paths[steps + mid]),
                 line=np.linalg.norm(paths[mid])))


def _resample():
    eps = np.random.default_rng().standard_normal(2)
    st.session_state["ae.vae.eps1"], st.session_state["ae.vae.eps2"] = (float(np.clip(e, -3, 3)) for e in eps)


@st.fragment
def vae_tab(x, dataset):
    c = coder("vae2d", dataset)
    enc = c.encode(x)
    mu, log_var, sigma = enc.code[0], enc.log_var[0], enc.sigma[0]
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    eps = np.array([c1.slider("ε₁", -3.0, 3.0, 0.0, 0.1, key="ae.vae.eps1"),
                    c2.slider("ε₂", -3.0, 3.0, 0.0, 0.1, key="ae.vae.eps2")])
    c3.button(t("Resample ε"), on_click=_resample, key="ae.vae.resample", icon=":material/casino:")
    z = mu + sigma * eps
    decoded = c.decode(z[None])
    st.plotly_chart(lfig.vae_mechanics(mu, sigma, eps, z, decoded[0]), key="ae.vae.fig")
    st.markdown(f"μ = ({mu[0]:.3f}, {mu[1]:.3f}), σ = exp(½·log σ²) = ({sigma[0]:.3f}, {sigma[1]:.3f}); "
                f"z = μ + σ·ε = ({z[0]:.3f}, {z[1]:.3f}).")
    bce = float(latent.bce_per_image(x[None], decoded)[0])
    kl = float(latent.kl_per_image(mu[None], log_var[None])[0])
    m1, m2, m3 = st.columns(3)
    m1.metric(t("Reconstruction: BCE summed over 784 pixels"), f"{bce:.1f}",
              help=t("between your input and the image decoded from this z"))
    m2.metric("KL(N(μ, σ²) ‖ N(0, I))", f"{kl:.2f}", help="-½ Σ (1 + log σ² − μ² − σ²)")
    m3.metric(t("Loss = reconstruction + KL"), f"{bce + kl:.1f}")
    st.caption(t("Test-set average at the mean (ε = 0): {r:.1f} + {kl:.2f} = {total:.1f}.",
                 r=metric("vae2d", dataset, "test_reconstruction_loss"), kl=metric("vae2d", dataset, "test_kl"),
                 total=metric("vae2d", dataset, "test_loss")))


@st.fragment
def sampling_tab(dataset):
    c1, c2, c3 = st.columns(3)
    n = c1.select_slider(t("Samples"), [8, 16, 32, 64], 32, **linked("ae.sample.n"))
    seed = c2.number_input(t("Seed"), 0, 99999, 0, **linked("ae.sample.seed"))
    compare = c3.toggle(t("Same z through the 2-D AE"), **linked("ae.sample.ae"))
    z = np.random.default_rng(seed).standard_normal((n, 2)).astype(np.float32)
    rows = n // 8
    st.plotly_chart(lfig.mosaic(coder("vae2d", dataset).decode(z), rows, 8, title=t("VAE: z ~ N(0, I), decoded")),
                    key="ae.sample.vae")
    if compare:
        st.plotly_chart(lfig.mosaic(coder("ae2d", dataset).decode(z), rows, 8, title=t("2-D AE: the same z")),
                        key="ae.sample.ae2d")
        st.caption(t("The AE was never asked to put its codes near N(0, I): many of these z fall where it has no "
                     "data."))


st.title(t("Autoencoder & VAE"))
st.caption(t("An autoencoder squeezes an image through a short code and rebuilds it from the code alone. "
             "What it keeps, what it cannot rebuild, and how its codes are arranged, on your own input."))
dataset = dataset_selector()
choice, view, right = input_with_view(dataset)
x = view.image
with right:
    st.plotly_chart(figures.stages_strip(view.panels()), key="ae.stages")
    st.caption(t("The models see the last image (28×28, values in [0, 1])."))

tabs = st.tabs([*map(t, TABS), live_tab_label()], key="ae.tab", on_change="rerun", bind="query-params")
sections = [lambda: reconstruction_tab(x, dataset), lambda: denoising_tab(x, dataset),
            lambda: sparsity_tab(x, dataset), lambda: anomaly_tab(x, dataset), lambda: latent_tab(x, dataset),
            lambda: manifold_tab(dataset), lambda: interpolation_tab(x, dataset), lambda: vae_tab(x, dataset),
            lambda: sampling_tab(dataset), lambda: live_latent_view(dataset)]
for tab, section in zip(tabs, sections):      # only the open tab runs
    with tab:
        if tab.open:
            section()
