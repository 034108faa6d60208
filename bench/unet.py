"""U-Net page benchmarks, gathered by bench/interactions.py (`python bench/interactions.py --page unet`).

Targets: a digit scene (a new input, the whole page) ≤ 100 ms p95; a full 512×512 EM slice ≤ 1 s.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from bench.interactions import ModelCall, Scenario, keras_clear_session

PAGE = "pages/unet.py"
SCENE_POS = "dlviz.unet.digits.sample.pos.unet.scenes"
EM_POS = "dlviz.unet.membrane.sample.pos.unet.em"
MEMBRANE = [("segmented_control", "unet.mode", "membrane")]


def naive_segmenter_run(self, image, disabled=(), maps=True, context=0, pad="reflect"):
    """`Segmenter.run` through `keras.Model.predict` on a freshly wired model, as a first version would do it."""
    from dlviz import segmentation as seg
    from dlviz.models.unet import segmenter_views

    h, w = image.shape
    mode = pad if pad == "constant" else "reflect"
    padded = np.pad(image, ((context, context + (-(h + 2 * context)) % self.multiple),
                            (context, context + (-(w + 2 * context)) % self.multiple)), mode=mode)
    outs = segmenter_views(self.model, disabled).predict(padded[None, :, :, None].astype("float32"), verbose=0)
    logits = np.asarray(outs[0][0])[context:context + h, context:context + w]
    f = [padded.shape[0] // np.asarray(o).shape[1] for o in outs[1:]]
    maps = {name: np.asarray(o[0])[context // k:context // k + -(-h // k), context // k:context // k + -(-w // k)]
            for name, o, k in zip(self.map_names, outs[1:], f)} if maps else {}
    if self.binary:
        p = 1 / (1 + np.exp(-logits[..., 0]))
        probs = np.stack([1 - p, p], -1)
    else:
        e = np.exp(logits - logits.max(-1, keepdims=True))
        probs = e / e.sum(-1, keepdims=True)
    return seg.Segmentation(probs.astype("float32"), maps)


@contextlib.contextmanager
def naive_predict() -> Iterator[None]:
    from dlviz.segmentation import Segmenter

    original = Segmenter.run
    Segmenter.run = naive_segmenter_run
    try:
        yield
    finally:
        Segmenter.run = original


SCENARIOS = [
    Scenario("unet: digit scene change", PAGE, ("number_input", SCENE_POS), (1, 2, 3, 4, 5, 6), naive=naive_predict,
             note="new input: U-Net (with maps) + U-Net + no-skip model, every figure"),
    Scenario("unet: mask opacity", PAGE, ("slider", "unet.opacity"), (0.3, 0.5, 0.8), naive=None),
    Scenario("unet: skip 1 on/off", PAGE, ("toggle", "unet.skip1"), (False, True), naive=naive_predict,
             note="the comparison runs the U-Net with and without that skip"),
    Scenario("unet: feature-map level", PAGE, ("select_slider", "unet.level"),
             ("down0", "down2", "bottleneck", "dec1"), naive=None),
    Scenario("unet: EM slice change (512×512)", PAGE, ("number_input", EM_POS), (1, 2, 3, 4), setup=MEMBRANE,
             naive=naive_predict, note="target 1 s: a full 512×512 slice, with its metrics"),
    Scenario("unet: EM threshold", PAGE, ("slider", "unet.threshold"), (0.3, 0.5, 0.7), setup=MEMBRANE, naive=None),
]


def _segmenter_call(name: str, image: Callable[[], np.ndarray], **kw) -> Callable[[], tuple[Callable[[], Any],
                                                                                          Callable[[], Any]]]:
    def build():
        from dlviz.registry import load_model
        from dlviz.segmentation import Segmenter

        segmenter, x = Segmenter(load_model(name)), image()
        return (lambda: segmenter.run(x, **kw)), (lambda: naive_segmenter_run(segmenter, x, **kw))
    return build


def _scene() -> np.ndarray:
    from dlviz.registry import load_data

    return load_data("unet_samples")["scene_images"][0].astype("float32") / 255


def _slice() -> np.ndarray:
    from dlviz.registry import load_data

    return load_data("unet_samples")["membrane_images"][0].astype("float32") / 255


MODEL_CALLS = [
    ModelCall("model call: seg_digits_unet, 64×128 scene with maps", PAGE,
              _segmenter_call("seg_digits_unet", _scene, pad="constant")),
    ModelCall("model call: same, after clear_session", PAGE,
              _segmenter_call("seg_digits_unet", _scene, pad="constant"), before_each=keras_clear_session),
    ModelCall("model call: seg_membrane_unet, 512×512 slice (+32 context)", PAGE,
              _segmenter_call("seg_membrane_unet", _slice, context=32)),
    ModelCall("model call: same, after clear_session", PAGE,
              _segmenter_call("seg_membrane_unet", _slice, context=32), before_each=keras_clear_session),
]

PROFILE_TARGETS = [
    ("dlviz.segmentation", "Segmenter.run"),
    ("dlviz.segmentation", "prepare_digit_scene"),
    ("dlviz.figures.masks", "*"),
]
