"""Fuzzing (hypothesis) of everything between a user's file and a model: the decoder, the canvas, the per-dataset
recipes and each page's own input path. The only acceptable outcomes are an `InputError` (a message for the user)
or a valid result; anything else (a ValueError from numpy, an OSError from Pillow, NaN in a model input) fails.

Examples are capped so CI stays short: DLVIZ_FUZZ_EXAMPLES (default 40) per test; run with e.g. 2000 locally to
search harder. Failures hypothesis finds are replayed first on the next run (.hypothesis/).
"""
from __future__ import annotations

import io
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as hs
from PIL import Image

from dlviz import segmentation as seg
from dlviz.inputs import (MAX_ASPECT, MAX_SIDE, ChosenInput, EmptyInputError, InputError, canvas_to_rgb,
                          decode_upload, limit_size, model_view, preprocess)
from tests.bad_input_corpus import corpus

EXAMPLES = int(os.environ.get("DLVIZ_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                             HealthCheck.data_too_large])


def check_rgb(rgb: np.ndarray, max_side: int = MAX_SIDE) -> None:
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    assert 1 <= min(rgb.shape[:2]) and max(rgb.shape[:2]) <= max_side


def check_view(view) -> None:
    assert view.image.shape == (28, 28) and view.image.dtype == np.float32
    assert np.isfinite(view.image).all() and view.image.min() >= 0 and view.image.max() <= 1


def decode_or_refuse(data: bytes, name: str = "fuzz.bin"):
    try:
        d = decode_upload(data, name)
    except InputError as e:
        assert str(e) and "Traceback" not in str(e)
        return None
    check_rgb(d.rgb)
    return d


# --------------------------------------------------------------------------- random images of every kind

MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]
FORMATS = ["PNG", "JPEG", "GIF", "BMP", "WEBP"]


@hs.composite
def images(draw) -> tuple[bytes, str, tuple[int, int]]:
    """(file bytes, format, (h, w)) of a random image: any mode Pillow can write in that format, any aspect."""
    mode, fmt = draw(hs.sampled_from(MODES)), draw(hs.sampled_from(FORMATS))
    h = draw(hs.integers(1, 300))
    w = draw(hs.one_of(hs.integers(1, 300), hs.integers(1, 3000) if h < 4 else hs.integers(1, 300)))
    seed = draw(hs.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(hs.sampled_from(["noise", "flat", "stroke"]))
    base = np.zeros((h, w), np.float64)
    if kind == "noise":
        base = rng.random((h, w))
    elif kind == "flat":
        base[:] = rng.random()
    else:
        base[h // 4: 3 * h // 4 + 1, w // 3: 2 * w // 3 + 1] = 1.0
    rgb = Image.fromarray((np.repeat(base[..., None], 3, axis=2) * 255).astype(np.uint8))
    if mode in ("I;16", "I"):
        img = Image.fromarray((base * draw(hs.sampled_from([1, 255, 65535]))).astype(np.uint16 if mode == "I;16"
                                                                                     else np.int32))
    elif mode == "F":
        img = Image.fromarray(base.astype(np.float32) * draw(hs.sampled_from([1.0, 1e6, -3.0])))
    elif mode in ("LA", "RGBA", "PA"):
        img = rgb.convert("RGBA")
        img.putalpha(Image.fromarray((rng.random((h, w)) * 255).astype(np.uint8)))
        img = img.convert(mode) if mode != "PA" else img.convert("P").convert("PA")
    else:
        img = rgb.convert(mode)
    extra = {}
    if mode == "P" and draw(hs.booleans()):
        extra["transparency"] = 0
    buf = io.BytesIO()
    try:
        img.save(buf, format=fmt, **extra)
    except (OSError, ValueError, KeyError, TypeError):
        assume(False)           # Pillow cannot write this mode in this format: not a file a user can have
    return buf.getvalue(), fmt, (h, w)


@FUZZ
@given(images())
def test_decoder_reads_random_valid_images_of_every_mode_and_shape(image):
    data, fmt, (h, w) = image
    if max(h, w) > MAX_ASPECT * min(h, w):
        with pytest.raises(InputError, match="times the other"):
            decode_upload(data, f"fuzz.{fmt.lower()}")
        return
    d = decode_or_refuse(data, f"fuzz.{fmt.lower()}")
    assert d is not None, f"a valid {fmt} {w}×{h} was refused"
    assert d.full_size == (h, w)
    scale = min(1.0, MAX_SIDE / max(h, w))
    assert abs(d.rgb.shape[0] - h * scale) <= 1 and abs(d.rgb.shape[1] - w * scale) <= 1


@FUZZ
@given(hs.binary(max_size=4096))
def test_decoder_on_random_bytes(data):
    decode_or_refuse(data)


def _mutations():
    """Real files of the corpus with random bytes flipped, cut or inserted: what a broken upload looks like."""
    seeds = [c.data for c in corpus() if c.data and len(c.data) < 100_000]
    return hs.tuples(hs.sampled_from(seeds), hs.lists(hs.tuples(hs.integers(0, 10**6), hs.integers(0, 255)),
                                                      max_size=8), hs.integers(0, 10**6) | hs.none())


@FUZZ
@given(_mutations())
def test_decoder_on_damaged_real_files(mutation):
    data, flips, cut = mutation
    buf = bytearray(data)
    for pos, value in flips:
        buf[pos % len(buf)] = value
    if cut is not None:
        buf = buf[: cut % (len(buf) + 1)]
    d = decode_or_refuse(bytes(buf))
    if d is not None:
        try:
            check_view(model_view(ChosenInput.from_rgb(d.rgb, "upload", "x"), "mnist"))
        except EmptyInputError:
            pass


# --------------------------------------------------------------------------- arrays: canvas and recipes

@hs.composite
def rgb_arrays(draw, max_side: int = 200, channels: int = 3):
    h, w = draw(hs.integers(1, max_side)), draw(hs.integers(1, max_side))
    rng = np.random.default_rng(draw(hs.integers(0, 2**32 - 1)))
    kind = draw(hs.sampled_from(["noise", "flat", "stroke", "sparse"]))
    if kind == "noise":
        a = rng.integers(0, 256, (h, w, channels))
    elif kind == "flat":
        a = np.full((h, w, channels), rng.integers(0, 256))
    elif kind == "sparse":
        a = np.where(rng.random((h, w, 1)) > 0.995, 255, 0).repeat(channels, axis=2)
    else:
        a = np.full((h, w, channels), draw(hs.sampled_from([0, 255])))
        a[h // 4: 3 * h // 4 + 1, w // 2: w // 2 + 1 + w // 10] = 255 - a[0, 0]
    return a.astype(np.uint8)


@FUZZ
@given(rgb_arrays(channels=4))
def test_canvas_pixels_give_an_image_or_the_empty_hint(rgba):
    try:
        check_rgb(canvas_to_rgb(rgba), max_side=10**6)
    except EmptyInputError:
        pass


@FUZZ
@given(rgb_arrays(), hs.sampled_from(["mnist", "fashion"]))
def test_each_dataset_recipe_gives_a_valid_28x28_input_or_the_blank_hint(rgb, dataset):
    """The path of the Convolution, Pooling, Autoencoder and GAN pages: ChosenInput -> model_view -> 28×28."""
    try:
        view = model_view(ChosenInput.from_rgb(rgb, "upload", "fuzz.png"), dataset)
    except EmptyInputError:
        return
    check_view(view)
    assert np.array_equal(preprocess(rgb, dataset).image, view.image)       # deterministic


@FUZZ
@given(rgb_arrays(max_side=600))
def test_unet_page_input_path_gives_model_shaped_inputs(rgb):
    """The U-Net page's own preparation of uploads and drawings (pages/unet.py model_input)."""
    p = seg.prepare_digit_scene(rgb, 16)
    assert p.image.ndim == 2 and p.image.shape[0] % 16 == 0 and p.image.shape[1] % 16 == 0
    assert max(p.image.shape) <= 512 + 2 * 6 + 16 and np.isfinite(p.image).all()
    assert 0 <= p.image.min() and p.image.max() <= 1
    em = seg.prepare_membrane(limit_size(rgb, 512))
    assert em.shape == limit_size(rgb, 512).shape[:2] and np.isfinite(em).all()


@pytest.fixture(scope="module")
def digit_segmenter():
    from dlviz import registry

    try:
        return seg.Segmenter(registry.load_model("seg_digits_unet"))
    except registry.ModelUnavailable as e:
        pytest.skip(str(e))


@settings(max_examples=max(5, EXAMPLES // 4), deadline=None, suppress_health_check=list(HealthCheck))
@given(rgb_arrays(max_side=300))
def test_unet_runs_on_any_prepared_upload(digit_segmenter, rgb):
    p = seg.prepare_digit_scene(rgb, digit_segmenter.multiple)
    out = digit_segmenter.run(p.image, maps=False, pad="constant")
    assert out.probs.shape[:2] == p.image.shape and np.isfinite(out.probs).all()
