"""GAN page interactions for the shared harness (`python bench/interactions.py --page gan`).

The page's model calls are `GanSampler.generate` (XLA-compiled generator, padded to fixed batch sizes) and
`GanSampler.score`; the naive path swaps `generate` for `generator.predict`, as a first version would call it.
The sample grid caches the 64 samples of each (model, seed, ψ), so the count slider never calls the model and a
revisited seed is a cache hit: the model call "generate 64" is the cost of a seed seen for the first time.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from bench.interactions import ModelCall, Scenario, keras_clear_session

GAN = "pages/gan.py"
TAB = "gan.tab"


@contextlib.contextmanager
def naive_generator_predict() -> Iterator[None]:
    from dlviz.gan_sampler import GanSampler

    original = GanSampler.generate

    def generate(self, z):
        return (self.gan.generator.predict(np.asarray(z, np.float32), verbose=0)[..., 0] + 1) / 2

    GanSampler.generate = generate
    try:
        yield
    finally:
        GanSampler.generate = original


def _tab(name: str):
    return [("session_state", TAB, name)]


SCENARIOS: list[Scenario] = [
    Scenario("gan: sample count (up to a 64-sample grid)", GAN, ("slider", "gan.count"), (64, 48, 64, 16),
             naive=naive_generator_predict, note="the 64 samples of a (seed, ψ) are cached: no model call"),
    Scenario("gan: seed, 64 samples", GAN, ("number_input", "gan.seed"), (1, 2, 3, 4, 5, 6),
             setup=[("slider", "gan.count", 64)], naive=naive_generator_predict,
             note="cached per (model, seed, ψ): after the first cycle of values these are cache hits; a new seed "
                  "costs one 'generate 64' model call (below) more"),
    Scenario("gan: truncation, 64 samples", GAN, ("slider", "gan.psi"), (0.5, 0.7, 0.9, 1.0),
             setup=[("slider", "gan.count", 64)], naive=naive_generator_predict, note="cached like the seed"),
    Scenario("gan: latent slider", GAN, ("slider", "gan.move.principal directions.0"), (-1.0, 0.5, 2.0, 0.0),
             setup=_tab("Latent sliders"), naive=naive_generator_predict),
    Scenario("gan: interpolation steps", GAN, ("slider", "gan.steps"), (5, 8, 12, 6),
             setup=_tab("Interpolation"), naive=naive_generator_predict),
    Scenario("gan: critic, new sample input", GAN, ("number_input", "dlviz.sample.pos.mnist"), (1, 2, 3, 4, 5, 6),
             setup=_tab("Your input vs the critic"), naive=None, note="score of the user's input + histogram"),
    Scenario("gan: timeline point", GAN, ("slider", "gan.tl.mnist"), (1, 5, 10, 12),
             setup=_tab("Training timeline"), naive=None, note="recorded grids + loss curves, no model"),
    Scenario("gan: class-conditional, one row per code, seed", GAN, ("number_input", "gan.seed"), (1, 2, 3, 4, 5, 6),
             setup=[("session_state", "gan.model.mnist", "gan_acgan_mnist"), ("session_state", "gan.by_code", True)],
             naive=naive_generator_predict, note="8 latent vectors × 10 codes, cached per (model, seed, ψ)"),
    Scenario("gan: collapse meter N (cached after a first pass)", GAN, ("select_slider", "gan.meter_n"),
             (100, 250, 1000, 500), setup=_tab("Mode collapse"), naive=None,
             note="st.cache_data per (model, N, seed); a new seed: see the model calls below"),
]


def _generate_call(name: str, n: int = 64):
    def build():
        from dlviz import registry
        from dlviz.gan_sampler import GanSampler

        sampler = GanSampler(registry.load_model(name), name)
        z = np.random.default_rng(0).standard_normal((n, sampler.latent_dim)).astype(np.float32)
        return (lambda: sampler.generate(z)), (lambda: sampler.gan.generator.predict(z, verbose=0))
    return build


def _nearest_call():
    def build():
        from dlviz import registry
        from dlviz.gan_sampler import Judge, nearest_training

        judge, bank = Judge("cnn_mnist"), registry.load_data("gan_bank_mnist")
        image = bank["x"][0].astype(np.float32) / 255.0
        return (lambda: nearest_training(judge, bank, image)), None
    return build


def _meter_call(n: int):
    """The collapse meter of a new seed (what a first visit of a value costs; the page caches it afterwards)."""
    def build():
        from dlviz import registry
        from dlviz.gan_sampler import GanSampler, Judge, collapse_meter

        sampler, judge = GanSampler(registry.load_model("gan_dcgan_mnist"), "gan_dcgan_mnist"), Judge("cnn_mnist")
        seeds = iter(range(1, 10**6))
        collapse_meter(sampler, judge, n, 0)             # compiles this count's batch size
        return (lambda: collapse_meter(sampler, judge, n, next(seeds))), None
    return build


MODEL_CALLS: list[ModelCall] = [
    ModelCall("model call: nearest of 3,000 training images (CNN features + search)", GAN, _nearest_call()),
    ModelCall("model call: gan_dcgan_mnist generate 64", GAN, _generate_call("gan_dcgan_mnist")),
    ModelCall("model call: same, after Streamlit's per-rerun keras clear_session", GAN,
              _generate_call("gan_dcgan_mnist"), before_each=keras_clear_session),
    ModelCall("model call: gan_acgan_mnist generate 64 (fully connected layers, 1.76 M parameters)", GAN,
              _generate_call("gan_acgan_mnist")),
    *(ModelCall(f"model call: collapse meter of a new seed, N = {n} (generate + judge)", GAN, _meter_call(n))
      for n in (100, 250, 500, 1000)),
]

PROFILE_TARGETS = [
    ("dlviz.figures.gan", "*"),
    ("dlviz.gan_sampler", "GanSampler.generate"),
    ("dlviz.gan_sampler", "GanSampler.score"),
    ("dlviz.gan_sampler", "collapse_meter"),
    ("dlviz.gan_sampler", "nearest_training"),
]
