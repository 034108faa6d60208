"""GAN: samples, latent walks, the critic's opinion of your input, the training timeline and mode collapse."""

import numpy as np
import streamlit as st

from dlviz import gan_sampler, registry
from dlviz.datasets import get_dataset
from dlviz.figures import gan as gfig
from dlviz.gan_latent import sample_z
from dlviz.i18n import N_, t
from dlviz.latent import lerp, slerp
from dlviz.ui.input_picker import dataset_selector, input_with_view
from dlviz.ui.links import LINK
from dlviz.ui.live import live_gan_view, live_tab_label
from dlviz.ui.shell import enter_app
from dlviz.ui.widgets import radio, segmented_control

enter_app()
KIND = {"dcgan": "DCGAN", "wgan_gp": "WGAN-GP"}


@st.cache_resource(show_spinner=t("Loading the GAN…"))       # pages run anew each run: in its language
def cached_sampler(name: str) -> gan_sampler.GanSampler:
    sampler = gan_sampler.GanSampler(registry.load_model(name), name)
    return sampler


@st.cache_resource(show_spinner=False)
def cached_records(name: str) -> dict:
    return registry.load_extra(name, "records")


@st.cache_resource(show_spinner=t("Loading the CNN judge…"))
def cached_judge(dataset: str) -> gan_sampler.Judge:
    return gan_sampler.Judge(f"cnn_{dataset}")


@st.cache_resource(show_spinner=False)
def cached_bank(dataset: str) -> dict:
    return registry.load_data(f"gan_bank_{dataset}")


@st.cache_data(max_entries=64, show_spinner=t("Sampling and judging…"))
def cached_meter(name: str, n: int, seed: int) -> dict:
    return gan_sampler.collapse_meter(cached_sampler(name), cached_judge(registry.model_card(name).dataset), n, seed)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_samples(name: str, seed: int, psi: float) -> np.ndarray:
    """The 64 samples of a seed (sample_z is prefix-stable: any count shows the first ones of these)."""
    sampler = cached_sampler(name)
    return sampler.generate(sample_z(seed, 64, sampler.latent_dim, psi))


@st.cache_data(max_entries=32, show_spinner=False)
def cached_code_rows(name: str, seed: int, psi: float) -> np.ndarray:
    """The first 8 samples of a seed once per value of the generator's categorical code."""
    sampler = cached_sampler(name)
    return sampler.generate(gan_sampler.code_rows(sample_z(seed, 8, sampler.latent_dim, psi), sampler.categories))


def loaded(what, *args):
    """`what(*args)`, or None after a clear message when a weight or data file is missing or corrupt."""
    try:
        return what(*args)
    except registry.ModelUnavailable as e:
        st.error(t("**Cannot load this part of the page.** {reason}", reason=e))
        return None


def kept(key: str, default):
    """The last value of widget `key`, also while its tab is closed (Streamlit drops the state of undrawn widgets)."""
    return st.session_state.get(f"keep.{key}", default)


def keep(key: str, default) -> dict:
    """Widget kwargs: start from the kept value, keep every change (so reopening a tab restores its settings);
    the value is also in the shareable link (dlviz.ui.links), which wins when the page opens from one."""
    if key not in st.session_state and key not in st.query_params:
        st.session_state[key] = kept(key, default)
    return dict(key=key, bind=LINK, on_change=lambda: st.session_state.__setitem__(f"keep.{key}", st.session_state[key]))


def label(card) -> str:
    if card.entry.get("collapsed"):
        return t("Collapsed DCGAN")
    if card.entry["config"].get("labelled_code"):
        return t("Class-conditional DCGAN")
    if card.entry["config"].get("categories"):
        return t("DCGAN with an InfoGAN code")
    return KIND[card.entry["loss"]]


def code_section(sampler, name, seed, psi):
    """For a generator with a categorical code: the same 8 latent vectors once per code value."""
    k = sampler.categories
    st.plotly_chart(gfig.sample_grid(cached_code_rows(name, seed, psi), 8, height=62 * k + 40,
                                     title=t("row c: code c (the first 8 samples of seed {seed})", seed=seed)),
                    key=f"gan.codes.{name}")
    if sampler.labelled_code:
        st.caption(t("This generator reads a class code from z: the largest of z's first {k} entries. It was "
                     "trained with the labels (AC-GAN): its discriminator also learned to name the class of real "
                     "images, so code c makes class c, and the classes come out equally often. A column keeps the "
                     "same z apart from the code: the rest of z sets the style (slant, stroke width).", k=k))
    else:
        st.caption(t("This generator reads a code from z: the largest of z's first {k} entries. Nobody told it "
                     "what the code means (InfoGAN): its discriminator only learned to tell the code back from "
                     "the image.", k=k))


@st.fragment
def samples_section(sampler, name):
    c1, c2, c3 = st.columns(3)
    # the toggle sits below the sliders; while it is on, the count does not apply
    by_code = bool(sampler.categories) and st.session_state.get("gan.by_code", kept("gan.by_code", False))
    seed = c1.number_input(t("Seed"), 0, 10**6, **keep("gan.seed", 0))
    count = c2.slider(t("Samples"), 1, 64, disabled=by_code, **keep("gan.count", 32))
    psi = c3.slider(t("Truncation ψ"), 0.1, 1.0, step=0.05, **keep("gan.psi", 1.0),
                    help=t("z' = ψ·z pulls every latent vector toward the mean: smaller ψ, more typical but less "
                           "varied samples (the truncation trick of BigGAN/StyleGAN)."))
    if sampler.categories and st.toggle(t("One row per class code"), **keep("gan.by_code", False)):
        code_section(sampler, name, seed, psi)
        return
    images = cached_samples(name, seed, psi)[:count]
    chosen = min(st.session_state.get("gan.chosen", 0), count - 1)
    event = st.plotly_chart(gfig.sample_grid(images, 8, selected=chosen, clickable=True), key=f"gan.grid.{name}",
                            on_select="rerun", selection_mode="points")
    clicked = gfig.clicked_tile(event)
    if clicked is not None and clicked != st.session_state.get("gan.click"):
        st.session_state["gan.click"] = st.session_state["gan.chosen"] = clicked
        st.rerun(scope="fragment")
    st.caption(t("{n} samples of z ~ N(0, I) in {d} dimensions, seed {seed}, ψ = {psi:.2f}. Click a sample to "
                 "choose it for the latent sliders and the nearest-training-image tab (now: #{chosen}).",
                 n=count, d=sampler.latent_dim, seed=seed, psi=psi, chosen=chosen))


def chosen_z(latent_dim: int) -> tuple[np.ndarray, int]:
    seed, psi = kept("gan.seed", 0), kept("gan.psi", 1.0)
    index = st.session_state.get("gan.chosen", 0)
    return sample_z(seed, index + 1, latent_dim, psi)[index], index


@st.fragment
def sliders_section(sampler, records):
    z, index = chosen_z(sampler.latent_dim)
    mode = radio(st, t("Move along"), [N_("principal directions"), N_("raw dimensions")], horizontal=True,
                     format_func=t, **keep("gan.slider_mode", "principal directions"),
                     help=t("Principal directions: latent directions that change the images the most (the top "
                            "principal components of 2,000 samples, regressed on z at training time)."))
    if mode == "principal directions":
        dirs = np.asarray(records["latent_directions"][:4])
        names = [t("direction {i} ({e:.0%} of the image variance)", i=i + 1, e=e)
                 for i, e in enumerate(records["latent_directions_explained"][:4])]
    else:
        dims = st.multiselect(t("Dimensions"), list(range(sampler.latent_dim)), max_selections=4,
                              **keep("gan.dims", [0, 1, 2, 3])) or [0]
        dirs = np.eye(sampler.latent_dim, dtype=np.float32)[dims]
        names = [t("z[{d}] (now {v:+.2f})", d=d, v=z[d]) for d in dims]
    cols = st.columns(len(dirs))
    moves = np.array([c.slider(n, -3.0, 3.0, step=0.1, **keep(f"gan.move.{mode}.{i}", 0.0)) for i, (c, n)
                      in enumerate(zip(cols, names))], np.float32)
    offsets = np.linspace(-3, 3, 7, dtype=np.float32)
    edited = z + moves @ dirs
    images = sampler.generate(np.vstack([z, edited, gan_sampler.direction_sweeps(edited, dirs, offsets)]))
    a, b = st.columns([1, 3])
    a.plotly_chart(gfig.image_strip(images[:2], [f"sample #{index}", "moved"], height=200), key="gan.edit")
    b.plotly_chart(gfig.sample_grid(images[2:], len(offsets), height=60 * len(dirs) + 60,
                                    title=t("each row: one direction from −3 to +3 around the moved sample")),
                   key="gan.sweeps")


@st.fragment
def interpolation_section(sampler):
    c1, c2, c3 = st.columns(3)
    seed_a = c1.number_input(t("Seed A"), 0, 10**6, **keep("gan.seed_a", 1))
    seed_b = c2.number_input(t("Seed B"), 0, 10**6, **keep("gan.seed_b", 2))
    steps = c3.slider(t("Steps"), 3, 12, **keep("gan.steps", 8))
    z0, z1 = sample_z(seed_a, 1, sampler.latent_dim)[0], sample_z(seed_b, 1, sampler.latent_dim)[0]
    ts = np.linspace(0, 1, steps)
    paths = {"linear": lerp(z0, z1, ts), "spherical": slerp(z0, z1, ts)}
    images = sampler.generate(np.vstack(list(paths.values())))
    for i, (kind, path) in enumerate(paths.items()):
        norms = np.linalg.norm(path, axis=1)
        st.plotly_chart(gfig.image_strip(images[i * steps:(i + 1) * steps], [f"|z| {v:.1f}" for v in norms],
                                         title=t("linear (lerp)") if kind == "linear" else t("spherical (slerp)")),
                        key=f"gan.path.{kind}")
    st.caption(t("A Gaussian z in {d} dimensions has |z| ≈ √{d} = {r:.1f}. The straight line cuts through the sphere "
                 "(|z| dips to {low:.1f} half way), where the generator rarely saw inputs; the spherical path keeps "
                 "|z| on the sphere.", d=sampler.latent_dim, r=np.sqrt(sampler.latent_dim),
                 low=np.linalg.norm(paths["linear"], axis=1).min()))


@st.fragment
def critic_section(sampler, records, card, dataset):
    choice, view, right = input_with_view(dataset)
    score = float(sampler.score(view.image[None])[0])
    real, fake = np.asarray(records["real_scores"]), np.asarray(records["fake_scores"])
    wgan = card.entry["loss"] == "wgan_gp"
    with right:
        what = t("critic score (higher = more real)") if wgan else t("discriminator logit (higher = more real)")
        st.plotly_chart(gfig.score_histogram(real, fake, score, what), key="gan.scores")
        share = float((real < score).mean())
        reading = (t("The critic gives your input **{s:.2f}**.", s=score) if wgan else
                   t("The discriminator gives your input **{s:.2f}**, i.e. P(real) = σ({s:.2f}) = **{p:.0%}**.",
                     s=score, p=1 / (1 + np.exp(-score))))
        st.markdown(reading + " " + t("That is higher than {a:.0%} of {n} real test images (median {ma:.2f}) and "
                                      "{b:.0%} of {m} generated ones (median {mb:.2f}).", a=share, n=len(real),
                                      ma=np.median(real), b=(fake < score).mean(), m=len(fake),
                                      mb=np.median(fake)))
        st.caption(t("A WGAN critic's score has no absolute meaning, only differences do (it estimates the "
                     "Wasserstein distance as E[critic(real)] − E[critic(fake)]).") if wgan else
                   t("At equilibrium a DCGAN discriminator cannot tell real from generated: both histograms sit "
                     "near P(real) = 50 %."))
        st.caption(t("It only ever learnt to separate this generator's samples from real training images; it never saw "
                     "anything else, so an input unlike both (a T-shirt under an MNIST model, a photo) can still score "
                     "as real. It is not an out-of-distribution detector: the Autoencoder page's anomaly score is."))


@st.fragment
def timeline_section(cards, dataset):
    runs = [c for c in cards if not c.entry.get("collapsed")]
    if st.toggle(t("Also show the collapsed run"), **keep("gan.tl_collapsed", False)):
        runs = list(cards)
    records = [loaded(cached_records, c.name) for c in runs]
    runs, records = [c for c, r in zip(runs, records) if r is not None], [r for r in records if r is not None]
    if not runs:
        return
    points = min(len(r["snapshot_steps"]) for r in records)
    key = f"gan.tl.{dataset}"
    if kept(key, points) > points:          # fewer recorded points than when it was set (another model list)
        st.session_state[f"keep.{key}"] = points
        st.session_state.pop(key, None)
    i = st.slider(t("Recorded point (of {n})", n=points), 1, points, **keep(key, points)) - 1
    for col, card, rec in zip(st.columns(len(runs)), runs, records):
        steps = rec["snapshot_steps"]
        step = int(steps[round(i * (len(steps) - 1) / max(points - 1, 1))])
        series = {k[len("loss_"):]: rec[k] for k in rec if k.startswith("loss_") and k != "loss_steps"}
        if card.entry["loss"] == "dcgan":
            series = {k: v for k, v in series.items() if k in ("d_loss", "g_loss")}
        snap = list(steps).index(step)
        col.plotly_chart(gfig.sample_grid(rec["snapshot_grids"][snap], 6, height=330,
                                          title=t("{title}: step {step}", title=label(card), step=step)),
                         key=f"gan.tl.grid.{card.name}")
        col.plotly_chart(gfig.loss_curves(rec["loss_steps"], series, step, int(rec["loss_steps"][-1]),
                                          height=250), key=f"gan.tl.loss.{card.name}")
    st.caption(t("The same 36 latent vectors at each recorded point. DCGAN's losses are a tug of war that need not "
                 "go down; WGAN-GP's critic loss (−Wasserstein estimate + penalty) shrinks as the samples improve."))


@st.fragment
def collapse_section(cards, dataset):
    classes = get_dataset(dataset).classes
    healthy = [c for c in cards if not c.entry.get("collapsed")]
    collapsed = [c for c in cards if c.entry.get("collapsed")]
    c1, c2 = st.columns(2)
    n = c1.select_slider(t("Samples judged"), [100, 250, 500, 1000], **keep("gan.meter_n", 500))
    seed = c2.number_input(t("Sampling seed"), 0, 10**6, **keep("gan.meter_seed", 0))
    shown = healthy[:1] + collapsed[:1]
    reference = shown[0].metrics.get("reference", {}) if shown else {}
    for col, card in zip(st.columns(max(len(shown), 1)), shown):
        if loaded(cached_sampler, card.name) is None:
            continue
        m = cached_meter(card.name, n, seed)
        color = gfig.COLLAPSED if card.entry.get("collapsed") else gfig.HEALTHY
        col.plotly_chart(gfig.class_histogram(m["histogram"], classes, reference.get("class_histogram"),
                                              title=card.title, color=color), key=f"gan.meter.{card.name}")
        col.markdown(t("Classes with ≥ 5 %: **{c}/{n}** · Inception Score **{is_:.2f}** · diversity **{d:.1f}** "
                       "(real test images: {rd:.1f})", c=m["coverage"], n=len(classes), is_=m["inception_score"],
                       d=m["diversity"], rd=reference.get("diversity", float("nan"))))
        col.plotly_chart(gfig.sample_grid(m["images"], 8, height=230), key=f"gan.meter.grid.{card.name}")
    if not collapsed:
        st.info(t("No collapsed run is trained for this dataset: `{command}` (a folder with the dataset's .npz).",
                  command=f"python -m dlviz.train gan --collapse --dataset {dataset} --data PATH"))
    st.caption(t("Diversity = mean distance between two random samples in the CNN's 128 `dense1` features. A "
                 "collapsed generator makes a few images over and over: few classes, low diversity."))


@st.fragment
def nearest_section(sampler, dataset):
    bank, judge = loaded(cached_bank, dataset), loaded(cached_judge, dataset)
    if bank is None or judge is None:
        return
    z, index = chosen_z(sampler.latent_dim)
    image = sampler.generate(z[None])[0]
    idx, dist = gan_sampler.nearest_training(judge, bank, image, k=5)
    st.plotly_chart(gfig.image_strip(np.vstack([image[None], bank["x"][idx] / 255.0]),
                                     [t("sample #{i}", i=index)] + [f"d = {d:.1f}" for d in dist],
                                     title=t("A generated sample and its 5 nearest training images"), height=210),
                    key="gan.nearest")
    st.caption(t("Sample #{i} of seed {seed} (choose another on the Samples tab). Searched in the CNN's dense1 "
                 "features over a bundled subset of {n:,} of the 60,000 training images. Similar digits, but not "
                 "copies: the generator did not memorise its data.", i=index, seed=kept("gan.seed", 0),
                 n=len(bank["x"])))


st.title(t("GAN"))
st.caption(t("A generator turns random noise into images; a discriminator (a critic, for WGAN-GP) tries to tell them "
             "from real ones. Each learns from the other."))
dataset = dataset_selector()
order = {"dcgan": 0, "wgan_gp": 1}
cards = sorted(registry.model_cards(family="gan", dataset=dataset),       # the conditional one after the rest
               key=lambda c: (c.entry.get("collapsed", False), bool(c.entry["config"].get("labelled_code")),
                              order.get(c.entry.get("loss"), 9)))
if not cards:
    st.warning(t("No GAN is trained on {title} yet: `{command}` (a folder with the dataset's .npz).",
                 title=t(get_dataset(dataset).title),
                 command=f"python -m dlviz.train gan --loss dcgan --dataset {dataset} --data PATH"))
    st.stop()
by_name = {c.name: c for c in cards}
name = segmented_control(st, t("Model"), list(by_name), format_func=lambda n: label(by_name[n]),
                             default=cards[0].name, key=f"gan.model.{dataset}", bind=LINK, required=True)
card = by_name[name]
sampler, records = loaded(cached_sampler, name), loaded(cached_records, name)
if sampler is None or records is None:
    st.stop()
m = card.metrics
st.caption(t("**{title}** · {steps:,} generator steps ({minutes:.0f} min of CPU training) · judged by `{judge}` on "
             "{n:,} samples: IS **{is_:.2f}** (real {ris:.2f}), Fréchet **{fd:.1f}**, classes ≥ 5 %: **{c}**/10",
             title=card.title, steps=card.entry["steps"], minutes=card.entry["training_seconds"] / 60,
             judge=m.get("judge"), n=m.get("samples", 0), is_=m.get("inception_score", 0),
             ris=m.get("reference", {}).get("inception_score", 0), fd=m.get("frechet_distance", 0),
             c=m.get("classes_over_5_percent")))

TABS = [N_("Samples"), N_("Latent sliders"), N_("Interpolation"), N_("Your input vs the critic"),
        N_("Training timeline"), N_("Mode collapse"), N_("Nearest training image")]
tabs = st.tabs([*map(t, TABS), live_tab_label()], key="gan.tab", on_change="rerun", bind=LINK)
sections = [lambda: samples_section(sampler, name), lambda: sliders_section(sampler, records),
            lambda: interpolation_section(sampler), lambda: critic_section(sampler, records, card, dataset),
            lambda: timeline_section(cards, dataset), lambda: collapse_section(cards, dataset),
            lambda: nearest_section(sampler, dataset), live_gan_view]
for tab, section in zip(tabs, sections):
    with tab:
        if tab.open:
            section()
