"""Autoencoder & VAE: reconstruction, denoising, sparsity, anomaly score, latent space, manifold, interpolation,
the VAE's sampling and loss, samples from the prior. Wiring only: the maths is in dlviz.latent / anomaly / noise."""
import numpy as np
import streamlit as st

from dlviz import anomaly, figures, latent, noise, registry
from dlviz.coder import Coder
from dlviz.datasets import get_dataset
from dlviz.figures import latent as lfig
from dlviz.training.autoencoder import KIND_TITLES, SHORT_TITLES, model_name, other_dataset
from dlviz.ui.input_picker import dataset_selector, input_with_view
from dlviz.ui.live import live_latent_view, live_tab_label
from dlviz.ui.shell import enter_app

enter_app()

SCORES = {"kl": "cross-entropy minus the image's own entropy (Σ KL per pixel)", "mse": "MSE per image",
          "bce": "binary cross-entropy summed over the pixels (the training loss)"}
SHOWN = 2000            # test codes drawn on a latent scatter (3,000 are stored: PCA and ranges use them all)
TABS = ["Reconstruction", "Denoising", "Sparsity", "Anomaly", "Latent space", "Manifold grid", "Interpolation",
        "VAE mechanics", "Sampling"]


@st.cache_resource(show_spinner="Loading the autoencoder…")
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
        st.error(f"**This section needs the model `{model_name(kind, dataset)}`, which cannot be loaded.** {e}")
        st.stop()


def extra(kind: str, dataset: str) -> dict:
    try:
        return cached_extra(model_name(kind, dataset))
    except registry.ModelUnavailable as e:
        st.error(f"**This section needs the test-set data of `{model_name(kind, dataset)}`.** {e}")
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
    results = [(SHORT_TITLES[k], coder(k, dataset).reconstruct(x)[1][0]) for k in kinds]
    st.plotly_chart(lfig.reconstructions(x, results), key="ae.recon")
    st.caption("Top: what each network rebuilds from its code (the VAE from its mean μ). Bottom: the squared error "
               "per pixel, one colour scale for all. Test-set MSE per image: " + ", ".join(
                   f"{KIND_TITLES[k]} {metric(k, dataset, 'test_mse'):.4f}" for k in kinds) + ".")


@st.fragment
def denoising_tab(x, dataset):
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    kind = c1.radio("Noise", list(noise.NOISE_KINDS), format_func=lambda k: noise.NOISE_KINDS[k][0],
                    horizontal=True, key="ae.noise.kind")
    label, (low, high), meaning = noise.NOISE_KINDS[kind]
    amount = c2.slider(f"Amount ({meaning})", low, high, {"gaussian": 0.3, "salt_pepper": 0.1}.get(kind, 0.2),
                       0.01, key=f"ae.noise.amount.{kind}")
    seed = c3.number_input("Noise seed", 0, 9999, 0, key="ae.noise.seed")
    noisy = noise.corrupt(x, kind, amount, np.random.default_rng(seed))
    plain = coder("ae", dataset).reconstruct(noisy)[1][0]
    clean = coder("ae_denoise", dataset).reconstruct(noisy)[1][0]
    st.plotly_chart(lfig.reconstructions(x, [("noisy input", noisy), ("plain AE", plain), ("denoising AE", clean)]),
                    key="ae.denoise")
    st.caption("Errors are against your clean input. The denoising AE was trained on noisy copies of the training "
               "images (each epoch a fresh mix of all three noises) with the clean image as the target. On the test "
               f"set with {label.lower()}: plain AE MSE {metric('ae', dataset, f'noisy_{kind}_mse'):.4f}, denoising AE "
               f"{metric('ae_denoise', dataset, f'noisy_{kind}_mse'):.4f} (at the amount the slider starts at).")


@st.fragment
def sparsity_tab(x, dataset):
    codes = [(KIND_TITLES[k], coder(k, dataset).encode(x).code[0]) for k in ("ae", "ae_sparse")]
    st.plotly_chart(lfig.code_bars(codes), key="ae.sparse.bars")
    shares = [float(latent.near_zero_share(c[None])[0]) for _, c in codes]
    cols = st.columns(2)
    for col, (name, _), share, k in zip(cols, codes, shares, ("ae", "ae_sparse")):
        col.metric(f"{name}: near-zero units for your input", f"{share:.0%}",
                   help="|unit| ≤ 1 % of the code's largest unit")
        col.caption(f"On the test set: {metric(k, dataset, 'near_zero_share'):.0%} of units on average.")
    lam = entry("ae_sparse", dataset).get("config", {}).get("sparsity", "λ")
    st.caption(f"The sparse AE's loss adds {lam}·Σ|code|: an L1 penalty "
               "on the activations (as in the notes), so each image is described by a few active units.")


@st.fragment
def anomaly_tab(x, dataset):
    data = extra("ae", dataset)
    chosen = metric("ae", dataset, "anomaly_score", "mse")         # chosen by the training code (on training images)
    score = st.radio("Anomaly score", list(SCORES), index=list(SCORES).index(chosen), format_func=SCORES.get,
                     horizontal=True, key=f"ae.anomaly.score.{dataset}")
    k = st.slider("Threshold = mean + k·std of the test errors; k =", 0.0, 6.0, 3.0, 0.25, key="ae.anomaly.k")
    normal = data[f"errors_{score}"]
    t = anomaly.threshold(normal, k)
    errors = {"mse": latent.mse_per_image, "bce": latent.bce_per_image, "kl": latent.excess_bce_per_image}[score]
    error = float(errors(x[None], coder("ae", dataset).reconstruct(x)[1])[0])
    verdict = "anomaly" if t.is_anomaly(error) else "normal"
    names = get_dataset(dataset).title, get_dataset(other_dataset(dataset)).title
    odd = data.get(f"other_errors_{score}")
    unit = SCORES[score]
    c1, c2 = st.columns([3, 2])
    c1.plotly_chart(lfig.error_histogram(normal, odd, t.value, error, verdict, *names, unit), key="ae.anomaly.hist")
    st.markdown(f"Your input's reconstruction error is **{error:.4g}**: **{verdict}** (threshold "
                f"{t.mean:.4g} + {k:g} × {t.std:.4g} = {t.value:.4g}).")
    if odd is not None:
        fp, tp = anomaly.rates_at(t.value, normal, odd)
        c2.plotly_chart(lfig.roc(data[f"roc_fpr_{score}"], data[f"roc_tpr_{score}"],
                                 metric("ae", dataset, f"anomaly_auroc_{score}"), (fp, tp)), key="ae.anomaly.roc")
        st.markdown(f"At this k, {fp:.1%} of the normal test images are flagged and {tp:.1%} of the {names[1]} "
                    f"test images are caught.")
    aurocs = ", ".join(f"{s}: {metric('ae', dataset, f'anomaly_auroc_{s}'):.4f}" for s in SCORES)
    st.caption(f"Score: {unit}, under the {KIND_TITLES['ae']} trained on {names[0]} only; the other dataset's test "
               f"images play the anomalies (test AUROC by score: {aurocs}). The default score is the one that told "
               f"the two datasets apart best on their training images. Plain cross-entropy grows with how grey an "
               f"image is, so mostly-black digits look \"easy\" to any model: try it under the garment model."
               " Try a scribble or a letter in the Draw tab.")


@st.fragment
def latent_tab(x, dataset):
    classes = get_dataset(dataset).classes
    left_kind = st.radio("Left", ["ae2d", "ae"], horizontal=True, key="ae.latent.left",
                         format_func=lambda k: KIND_TITLES[k] + (" (PCA of the code)" if k == "ae" else ""))
    for col, kind in zip(st.columns(2), (left_kind, "vae2d")):
        with col:
            data, c = extra(kind, dataset), coder(kind, dataset)
            view = latent.latent_view(data["codes"])
            enc = c.encode(x)
            user = view.place(enc.code)[0]
            ellipse = (enc.code[0], enc.sigma[0]) if c.is_vae else None
            state = f"ae.latent.click.{kind}.{dataset}"
            clicked = st.session_state.get(state)
            title = KIND_TITLES[kind]
            if view.projection is not None:
                ratio = view.projection.explained_ratio
                title += f" (PCA: {ratio[0]:.0%} + {ratio[1]:.0%} of the variance)"
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
                what = f"test image #{int(data['index'][clicked[2]])}'s code" if clicked[2] >= 0 else "an empty spot"
                st.plotly_chart(figures.image(c.decode(code)[0], f"decoded: {what} ({clicked[0]:.2f}, "
                                              f"{clicked[1]:.2f})", height=260), key=f"ae.latent.dec.{kind}")
            else:
                st.caption("Click a point or an empty spot to decode it.")
    st.caption(f"★ your input (VAE: its mean μ and the 1-σ ellipse). {SHOWN:,} test images, coloured by class. "
               "The AE's codes spread out in streaks with gaps that decode to nonsense; the KL term packs the VAE's "
               "around 0.")


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
    kind = c1.radio("Model", ["vae2d", "ae2d"], format_func=KIND_TITLES.get, horizontal=True, key="ae.grid.kind")
    n = c2.slider("Grid size", 3, 30, 15, key="ae.grid.n")
    if kind == "vae2d":
        ax = ay = latent.gaussian_grid_axis(n)
        how = "quantiles of N(0, 1) at (i + ½)/n: every cell holds the same prior probability (Kingma & Welling)"
    else:
        codes = extra(kind, dataset)["codes"].astype(np.float64)
        ax, ay = latent.range_grid_axis(codes[:, 0], n), latent.range_grid_axis(codes[:, 1], n)
        how = "evenly across the central 98 % of the test codes (an AE has no prior to take quantiles of)"
    coder(kind, dataset)                # a clear message if the model cannot be loaded
    fig = manifold_figure(model_name(kind, dataset), entry(kind, dataset).get("sha256", ""), n, tuple(ax), tuple(ay))
    st.plotly_chart(fig, key="ae.grid")
    st.caption(f"{n}×{n} codes decoded in one batch, spaced by {how}.")


@st.fragment
def interpolation_tab(x_a, dataset):
    st.markdown("Your input above is **A**. Pick **B** here:")
    _, view_b, right = input_with_view(dataset, slot="b", default_index=700)
    x_b = view_b.image
    with right:
        c1, c2 = st.columns(2)
        kind = c1.radio("Latent space of", ["ae", "vae2d", "ae2d"], format_func=KIND_TITLES.get, key="ae.interp.kind")
        steps = c2.slider("Steps", 3, 15, 9, key="ae.interp.steps")
        st.plotly_chart(figures.stages_strip([("A", x_a), ("B", x_b)], height=180), key="ae.interp.ab")
    t = np.linspace(0, 1, steps)
    c = coder(kind, dataset)
    za, zb = c.encode(np.stack([x_a, x_b])).code.astype(np.float64)
    paths = np.concatenate([latent.lerp(za, zb, t), latent.slerp(za, zb, t)])
    rows = np.concatenate([c.decode(paths), latent.crossfade(x_a, x_b, t)])        # both paths: one decoder call
    st.plotly_chart(lfig.mosaic(rows, 3, steps, row_labels=["linear", "spherical", "pixels"],
                                col_labels=[f"{v:.2f}" for v in t], axis_titles=("t", ""),
                                height=min(560, 3 * 1000 // steps + 90)), key="ae.interp")
    mid = steps // 2
    st.caption(f"Linear: (1−t)·z_A + t·z_B. Spherical: along the arc, |z| from {np.linalg.norm(za):.2f} to "
               f"{np.linalg.norm(zb):.2f} (halfway |z| = {np.linalg.norm(paths[steps + mid]):.2f} vs "
               f"{np.linalg.norm(paths[mid]):.2f} on the line). Pixels: the two images simply blended.")


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
    c3.button("Resample ε", on_click=_resample, key="ae.vae.resample", icon=":material/casino:")
    z = mu + sigma * eps
    decoded = c.decode(z[None])
    st.plotly_chart(lfig.vae_mechanics(mu, sigma, eps, z, decoded[0]), key="ae.vae.fig")
    st.markdown(f"μ = ({mu[0]:.3f}, {mu[1]:.3f}), σ = exp(½·log σ²) = ({sigma[0]:.3f}, {sigma[1]:.3f}); "
                f"z = μ + σ·ε = ({z[0]:.3f}, {z[1]:.3f}).")
    bce = float(latent.bce_per_image(x[None], decoded)[0])
    kl = float(latent.kl_per_image(mu[None], log_var[None])[0])
    m1, m2, m3 = st.columns(3)
    m1.metric("Reconstruction: BCE summed over 784 pixels", f"{bce:.1f}",
              help="between your input and the image decoded from this z")
    m2.metric("KL(N(μ, σ²) ‖ N(0, I))", f"{kl:.2f}", help="-½ Σ (1 + log σ² − μ² − σ²)")
    m3.metric("Loss = reconstruction + KL", f"{bce + kl:.1f}")
    st.caption(f"Test-set average at the mean (ε = 0): {metric('vae2d', dataset, 'test_reconstruction_loss'):.1f} + "
               f"{metric('vae2d', dataset, 'test_kl'):.2f} = {metric('vae2d', dataset, 'test_loss'):.1f}.")


@st.fragment
def sampling_tab(dataset):
    c1, c2, c3 = st.columns(3)
    n = c1.select_slider("Samples", [8, 16, 32, 64], 32, key="ae.sample.n")
    seed = c2.number_input("Seed", 0, 99999, 0, key="ae.sample.seed")
    compare = c3.toggle("Same z through the 2-D AE", key="ae.sample.ae")
    z = np.random.default_rng(seed).standard_normal((n, 2)).astype(np.float32)
    rows = n // 8
    st.plotly_chart(lfig.mosaic(coder("vae2d", dataset).decode(z), rows, 8, title="VAE: z ~ N(0, I), decoded"),
                    key="ae.sample.vae")
    if compare:
        st.plotly_chart(lfig.mosaic(coder("ae2d", dataset).decode(z), rows, 8, title="2-D AE: the same z"),
                        key="ae.sample.ae2d")
        st.caption("The AE was never asked to put its codes near N(0, I): many of these z fall where it has no data.")


st.title("Autoencoder & VAE")
st.caption("An autoencoder squeezes an image through a short code and rebuilds it from the code alone. "
           "What it keeps, what it cannot rebuild, and how its codes are arranged, on your own input.")
dataset = dataset_selector()
choice, view, right = input_with_view(dataset)
x = view.image
with right:
    st.plotly_chart(figures.stages_strip(view.panels()), key="ae.stages")
    st.caption("The models see the last image (28×28, values in [0, 1]).")

tabs = st.tabs([*TABS, live_tab_label()], key="ae.tab", on_change="rerun")
sections = [lambda: reconstruction_tab(x, dataset), lambda: denoising_tab(x, dataset),
            lambda: sparsity_tab(x, dataset), lambda: anomaly_tab(x, dataset), lambda: latent_tab(x, dataset),
            lambda: manifold_tab(dataset), lambda: interpolation_tab(x, dataset), lambda: vae_tab(x, dataset),
            lambda: sampling_tab(dataset), lambda: live_latent_view(dataset)]
for tab, section in zip(tabs, sections):      # only the open tab runs
    with tab:
        if tab.open:
            section()
