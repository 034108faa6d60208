"""Tests for dlviz.inputs: decoding untrusted uploads, canvas handling, MNIST preprocessing."""

import io
import math
import os
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile

from dlviz import inputs
from tests.conftest import shared_dataset
from dlviz.inputs import (
    EmptyInputError,
    InputError,
    MnistStages,
    canvas_to_rgb,
    decode_image,
    limit_size,
    fashion_stages,
    mnist_stages,
    model_view,
    preprocess,
    to_gray,
)



# --------------------------------------------------------------------------- helpers


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def pattern_rgb(h=24, w=32):
    """Distinct quadrants so any rotation/flip/colour mix-up is visible."""
    a = np.zeros((h, w, 3), dtype=np.uint8)
    a[: h // 2, : w // 2] = (255, 0, 0)
    a[: h // 2, w // 2:] = (0, 255, 0)
    a[h // 2:, : w // 2] = (0, 0, 255)
    a[h // 2:, w // 2:] = (255, 255, 255)
    return a


def draw_digit(size=(120, 100), fg=255, bg=0, box=(20, 15, 80, 100), width=8):
    """A '7'-like glyph (asymmetric on purpose), (H, W) uint8; box = (left, top, right, bottom)."""
    w, h = size[1], size[0]
    img = Image.new("L", (w, h), bg)
    d = ImageDraw.Draw(img)
    left, top, right, bottom = box
    d.line([(left, top), (right, top), (left + (right - left) // 3, bottom)], fill=fg, width=width)
    d.line([(left + (right - left) // 4, (top + bottom) // 2), (right - 5, (top + bottom) // 2)],
           fill=fg, width=max(1, width // 2))
    return np.asarray(img)


def rgb3(gray):
    return np.repeat(np.asarray(gray, dtype=np.uint8)[..., None], 3, axis=2)


def centre_of_mass(img):
    ys, xs = np.mgrid[: img.shape[0], : img.shape[1]]
    m = img.sum()
    return float((ys * img).sum() / m), float((xs * img).sum() / m)


def nonzero_bbox(img, level=0.0):
    rows = np.flatnonzero((img > level).any(axis=1))
    cols = np.flatnonzero((img > level).any(axis=0))
    return rows[0], cols[0], rows[-1] + 1, cols[-1] + 1


def png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def bilevel_png(width, height):
    """A valid all-black 1-bit PNG: tiny on disk, huge once decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any pixel data gets decoded."""
    def refuse(self, *a, **k):
        raise AssertionError("pixel data was decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("fmt,kw", [("PNG", {}), ("BMP", {}), ("WEBP", {"lossless": True})])
def test_lossless_formats_round_trip_exactly(fmt, kw):
    a = pattern_rgb()
    out = decode_image(encode(Image.fromarray(a), fmt, **kw), f"x.{fmt.lower()}")
    assert out.dtype == np.uint8 and out.shape == a.shape
    np.testing.assert_array_equal(out, a)


def test_jpeg_decodes_close_to_original():
    a = pattern_rgb(48, 64)
    out = decode_image(encode(Image.fromarray(a), "JPEG", quality=95))
    assert out.shape == a.shape
    # Compare block interiors, away from JPEG ringing at the colour edges.
    assert np.abs(out[4:20, 4:28].astype(int) - (255, 0, 0)).max() < 20
    assert np.abs(out[28:44, 36:60].astype(int) - 255).max() < 20


def test_multi_picture_jpeg_from_phones_is_accepted():
    a = pattern_rgb(48, 64)
    data = encode(Image.fromarray(a), "MPO", save_all=True,
                  append_images=[Image.new("RGB", (64, 48), "black")])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    out = decode_image(data, "photo.jpg")
    assert np.abs(out[4:20, 4:28].astype(int) - (255, 0, 0)).max() < 25  # first picture


def test_animated_gif_gives_first_frame():
    red = Image.new("RGB", (20, 10), (255, 0, 0))
    blue = Image.new("RGB", (20, 10), (0, 0, 255))
    data = encode(red, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    out = decode_image(data, "anim.gif")
    assert out.shape == (10, 20, 3)
    np.testing.assert_array_equal(out[5, 5], (255, 0, 0))


def test_animated_webp_gives_first_frame():
    green = Image.new("RGB", (20, 10), (0, 255, 0))
    black = Image.new("RGB", (20, 10), (0, 0, 0))
    data = encode(green, "WEBP", save_all=True, append_images=[black], lossless=True, duration=100)
    out = decode_image(data, "anim.webp")
    np.testing.assert_array_equal(out[5, 5], (0, 255, 0))


def transparent_digit(ink_rgb, mode="RGBA"):
    """Digit strokes of colour ink_rgb on a fully transparent background whose hidden colour is
    the same as the ink (as many editors store it), so only alpha makes the digit visible."""
    mask = draw_digit((60, 50), box=(10, 8, 40, 52), width=5)
    a = np.zeros((60, 50, 4), dtype=np.uint8)
    a[..., :3] = ink_rgb
    a[..., 3] = mask
    img = Image.fromarray(a)
    return mask, (img if mode == "RGBA" else img.convert(mode))


def test_black_digit_on_transparent_png_gets_white_background():
    mask, img = transparent_digit((0, 0, 0))
    out = decode_image(encode(img, "PNG"))
    assert (out[mask == 0] == 255).all()       # background became white
    assert (out[mask == 255] == 0).all()       # ink stays black, i.e. visible


def test_white_digit_on_transparent_png_gets_black_background():
    mask, img = transparent_digit((255, 255, 255))
    out = decode_image(encode(img, "PNG"))
    assert (out[mask == 0] == 0).all()
    assert (out[mask == 255] == 255).all()


def test_la_mode_png():
    mask, img = transparent_digit((0, 0, 0), mode="LA")
    assert Image.open(io.BytesIO(encode(img, "PNG"))).mode == "LA"
    out = decode_image(encode(img, "PNG"))
    assert (out[mask == 0] == 255).all() and (out[mask == 255] == 0).all()


def test_palette_png_with_transparency_index():
    img = Image.new("P", (30, 20), 0)
    img.putpalette([0, 0, 0, 20, 20, 20] + [0] * (254 * 3))  # 0: black (transparent), 1: dark ink
    ImageDraw.Draw(img).rectangle([10, 5, 19, 14], fill=1)
    data = encode(img, "PNG", transparency=0)
    reopened = Image.open(io.BytesIO(data))
    assert reopened.mode == "P" and "transparency" in reopened.info
    out = decode_image(data)
    assert (out[0, 0] == 255).all()            # transparent -> white behind dark ink
    assert (out[10, 15] == 20).all()


def test_gif_with_transparency_and_light_ink():
    img = Image.new("P", (30, 20), 0)
    img.putpalette([0, 0, 0, 250, 250, 250] + [0] * (254 * 3))
    ImageDraw.Draw(img).rectangle([10, 5, 19, 14], fill=1)
    out = decode_image(encode(img, "GIF", transparency=0))
    assert (out[0, 0] == 0).all() and (out[10, 15] == 250).all()


def test_16_bit_png_is_scaled_by_range_not_clipped():
    a = np.zeros((10, 30), dtype=np.uint16)
    a[:, 10:20] = 1000
    a[:, 20:] = 2000
    img = Image.fromarray(a)
    assert img.mode == "I;16"
    out = decode_image(encode(img, "PNG"))
    assert out.shape == (10, 30, 3)
    np.testing.assert_array_equal(out[0, [0, 15, 25], 0], [0, 128, 255])
    assert (out[..., 0] == out[..., 2]).all()


def test_cmyk_jpeg_is_converted_to_rgb():
    img = Image.new("CMYK", (40, 20), (0, 0, 0, 0))           # white paper
    ImageDraw.Draw(img).rectangle([20, 0, 39, 19], fill=(0, 0, 0, 255))  # black ink
    data = encode(img, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = decode_image(data)
    assert out.shape == (20, 40, 3)
    assert out[10, 5].min() > 230 and out[10, 30].max() < 25


def test_bilevel_png():
    img = Image.new("1", (16, 8), 0)
    ImageDraw.Draw(img).rectangle([8, 0, 15, 7], fill=1)
    out = decode_image(encode(img, "PNG"))
    assert (out[:, :8] == 0).all() and (out[:, 8:] == 255).all()


def test_exif_orientation_is_applied():
    # Stored 40 wide x 20 tall, red on the left half. Orientation 6 = "rotate 90 deg clockwise
    # to display", so the upright image is 20 wide x 40 tall with red on the top half.
    a = np.zeros((20, 40, 3), dtype=np.uint8)
    a[:, :20] = (255, 0, 0)
    a[:, 20:] = (0, 0, 255)
    img = Image.fromarray(a)
    exif = img.getexif()
    exif[0x0112] = 6
    data = encode(img, "JPEG", quality=95, exif=exif.tobytes())
    out = decode_image(data, "phone.jpg")
    assert out.shape == (40, 20, 3)
    assert out[8, 10, 0] > 200 and out[8, 10, 2] < 60      # top: red
    assert out[32, 10, 2] > 200 and out[32, 10, 0] < 60    # bottom: blue


# --------------------------------------------------------------------------- refusals


def test_load_truncated_images_is_left_false():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_empty_file_is_refused():
    with pytest.raises(InputError, match=r"empty.*PNG"):
        decode_image(b"", "nothing.png")


def test_text_file_named_png_is_refused():
    with pytest.raises(InputError) as err:
        decode_image(b"just some notes\nnot an image\n", "digit.png")
    msg = str(err.value)
    assert "digit.png" in msg and "text" in msg and "PNG" in msg


def test_svg_is_refused_with_a_hint_to_export():
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    with pytest.raises(InputError, match=r"SVG.*not supported.*PNG"):
        decode_image(svg, "digit.svg")


def test_pdf_is_refused():
    with pytest.raises(InputError, match="PDF"):
        decode_image(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "scan.pdf")


def noisy_image(h=64, w=64, seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_is_refused(fmt):
    data = encode(noisy_image(), fmt)
    assert decode_image(data).shape == (64, 64, 3)  # the intact file is fine
    with pytest.raises(InputError, match="damaged"):
        decode_image(data[: len(data) // 2], f"cut.{fmt.lower()}")


def test_garbage_after_a_valid_signature_is_refused():
    with pytest.raises(InputError):
        decode_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "broken.png")


def test_too_many_bytes_is_refused_before_parsing(no_decoding):
    with pytest.raises(InputError, match=r"MB.*limit"):
        decode_image(b"\x00" * (inputs.MAX_BYTES + 1), "huge.png")


def test_decompression_bomb_is_refused_from_the_header(no_decoding):
    data = bilevel_png(20000, 20000)       # 400 megapixels in ~50 kB
    assert len(data) < 200_000
    with pytest.raises(InputError, match="megapixels"):
        decode_image(data, "bomb.png")


def test_pillow_bomb_warning_range_is_refused_without_touching_warning_filters(no_decoding):
    """100 MP: Pillow only warns in this range; our own check refuses it from the header. Changing the
    process-wide warning filters per request (warnings.catch_warnings) is not thread-safe, so it must not happen."""
    data = bilevel_png(10000, 10000)
    before = list(warnings.filters)
    with pytest.raises(InputError, match="megapixels"):
        decode_image(data, "big.png")
    assert warnings.filters == before


def test_just_over_max_pixels_is_refused_by_our_own_check(no_decoding):
    data = bilevel_png(8000, 6000)         # 48 MP: under Pillow's limit, over ours
    with pytest.raises(InputError, match=r"8000 × 6000"):
        decode_image(data, "big.png")


def test_max_pixels_is_read_at_call_time(monkeypatch):
    data = encode(Image.new("RGB", (100, 60)), "PNG")
    assert decode_image(data).shape == (60, 100, 3)
    monkeypatch.setattr(inputs.decoding, "MAX_PIXELS", 5000)
    with pytest.raises(InputError, match=r"100 × 60"):
        decode_image(data, "small.png")


def test_tiff_is_refused_naming_the_supported_formats():
    with pytest.raises(InputError) as err:
        decode_image(encode(Image.new("RGB", (10, 10)), "TIFF"), "scan.tif")
    msg = str(err.value)
    assert "TIFF" in msg and "PNG" in msg and "JPEG" in msg


def test_other_pillow_format_is_refused_by_name():
    with pytest.raises(InputError, match=r"ICO.*not supported"):
        decode_image(encode(Image.new("RGB", (16, 16)), "ICO"), "favicon.ico")


# --------------------------------------------------------------------------- canvas


def canvas_rgba(ink, h=200, w=200, opaque_bg=None):
    mask = draw_digit((h, w), box=(50, 40, 140, 170), width=14)
    a = np.zeros((h, w, 4), dtype=np.uint8)
    if opaque_bg is not None:
        a[...] = (*opaque_bg, 255)
    a[mask > 0] = (*ink, 255)
    return a, mask


def test_canvas_transparent_background_white_strokes():
    a, mask = canvas_rgba((255, 255, 255))
    rgb = canvas_to_rgb(a)
    assert rgb.shape == (200, 200, 3) and rgb.dtype == np.uint8
    assert (rgb[mask == 0] == 0).all() and (rgb[mask > 0] == 255).all()
    stages = mnist_stages(rgb)
    assert not stages.inverted and stages.image.max() == pytest.approx(1.0)


def test_canvas_black_strokes_give_same_model_input_as_white_strokes():
    white = mnist_stages(canvas_to_rgb(canvas_rgba((255, 255, 255))[0]))
    black_rgb = canvas_to_rgb(canvas_rgba((0, 0, 0))[0])
    assert (black_rgb[0, 0] == 255).all()   # white background behind black ink
    black = mnist_stages(black_rgb)
    assert black.inverted
    np.testing.assert_allclose(black.image, white.image, atol=1e-4)


def test_canvas_opaque_background_is_kept():
    a, mask = canvas_rgba((0, 0, 0), opaque_bg=(255, 255, 255))
    rgb = canvas_to_rgb(a)
    assert (rgb[mask == 0] == 255).all() and (rgb[mask > 0] == 0).all()


@pytest.mark.parametrize("scale", [1.0, 1 / 255])
def test_canvas_float_input(scale):
    a, _ = canvas_rgba((255, 255, 255))
    np.testing.assert_array_equal(canvas_to_rgb(a.astype(np.float64) * scale), canvas_to_rgb(a))


@pytest.mark.parametrize("canvas", [
    np.zeros((100, 100, 4), dtype=np.uint8),                          # untouched, transparent
    np.full((100, 100, 4), 255, dtype=np.uint8),                      # opaque white, no strokes
    np.dstack([np.zeros((100, 100, 3)), np.full((100, 100), 1)]).astype(np.uint8),  # invisible
])
def test_blank_canvas_raises_empty(canvas):
    with pytest.raises(EmptyInputError, match="Draw a digit"):
        canvas_to_rgb(canvas)


def test_empty_error_is_an_input_error():
    assert issubclass(EmptyInputError, InputError) and issubclass(InputError, ValueError)


# --------------------------------------------------------------------------- basic ops


def test_to_gray_uses_601_luma():
    a = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]]], np.uint8)
    g = to_gray(a)
    assert g.dtype == np.float32 and g.shape == (1, 5)
    np.testing.assert_allclose(g[0], [0.299, 0.587, 0.114, 1.0, 0.0], atol=1e-6)


def test_to_gray_refuses_float_images():
    with pytest.raises(ValueError, match="uint8"):
        to_gray(np.zeros((4, 4, 3), dtype=np.float32))


def test_limit_size_downscales_keeping_aspect():
    a = np.zeros((300, 1200, 3), dtype=np.uint8)
    a[:, 600:] = 255
    out = limit_size(a, 400)
    assert out.shape == (100, 400, 3) and out.dtype == np.uint8
    assert out[50, 100].max() == 0 and out[50, 300].min() == 255


def test_limit_size_never_upscales():
    a = np.zeros((30, 40, 3), dtype=np.uint8)
    assert limit_size(a, 40) is a
    assert limit_size(a, 1000).shape == (30, 40, 3)
    assert limit_size(np.zeros((50, 10), np.uint8), 25).shape == (25, 5)


# --------------------------------------------------------------------------- MNIST pipeline


def check_stages(s: MnistStages):
    h, w = s.gray.shape
    assert s.gray.dtype == s.ink.dtype == s.image.dtype == np.float32
    assert s.ink.shape == (h, w) and s.image.shape == (28, 28)
    assert 0 <= s.ink.min() and s.ink.max() <= 1 and 0 <= s.image.min() and s.image.max() <= 1
    top, left, bottom, right = s.bbox
    np.testing.assert_array_equal(s.cropped, s.ink[top:bottom, left:right])
    assert max(s.fitted.shape) == 20
    # The fitted digit really is what sits inside the 28x28 input, at the reported shift.
    row = round(s.shift[0] + (28 - s.fitted.shape[0]) / 2)
    col = round(s.shift[1] + (28 - s.fitted.shape[1]) / 2)
    np.testing.assert_array_equal(s.image[row:row + s.fitted.shape[0], col:col + s.fitted.shape[1]],
                                  s.fitted)
    assert s.image.sum() == pytest.approx(s.fitted.sum(), rel=1e-5)


def test_light_background_gives_same_input_as_dark_twin():
    dark = draw_digit()
    s_dark = mnist_stages(rgb3(dark))
    s_light = mnist_stages(rgb3(255 - dark))
    check_stages(s_dark)
    check_stages(s_light)
    assert not s_dark.inverted and s_light.inverted
    np.testing.assert_allclose(s_light.image, s_dark.image, atol=1e-4)
    assert s_light.image.max() == pytest.approx(1.0)


def test_off_centre_digit_is_centred_and_scaled_to_20():
    big = draw_digit((300, 400), box=(20, 15, 110, 160), width=12)   # top-left corner
    s = mnist_stages(rgb3(big))
    check_stages(s)
    cy, cx = centre_of_mass(s.image)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    top, left, bottom, right = nonzero_bbox(s.image, 0.05)
    assert 19 <= max(bottom - top, right - left) <= 20
    # The crop found the digit, not the empty canvas around it.
    assert s.bbox[0] <= 15 and s.bbox[1] <= 20 and s.bbox[2] <= 170 and s.bbox[3] <= 120


def test_thin_one_keeps_its_aspect_ratio():
    img = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(img).line([(100, 20), (100, 180)], fill=0, width=10)
    s = mnist_stages(rgb3(np.asarray(img)))
    check_stages(s)
    assert s.fitted.shape[0] == 20 and s.fitted.shape[1] <= 2
    top, left, bottom, right = nonzero_bbox(s.image)
    assert bottom - top == 20 and right - left <= 3
    assert abs(centre_of_mass(s.image)[1] - 14) <= 1


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_image_raises_empty(value):
    with pytest.raises(EmptyInputError, match="blank"):
        mnist_stages(np.full((64, 48, 3), value, dtype=np.uint8))


def test_faint_noise_only_raises_empty():
    rng = np.random.default_rng(1)
    noise = np.clip(200 + rng.normal(0, 2, (80, 80)), 0, 255).astype(np.uint8)
    with pytest.raises(EmptyInputError):
        mnist_stages(rgb3(noise))


def test_photo_with_lighting_gradient_gives_clean_background():
    h, w = 160, 200
    yy, xx = np.mgrid[:h, :w]
    # Dim, unevenly lit paper: 0.35 at the left edge to 0.75 at the right, plus noise.
    paper = 0.35 + 0.4 * xx / (w - 1) + 0.05 * (yy / (h - 1)) ** 2
    paper += np.random.default_rng(0).normal(0, 0.015, (h, w))
    digit = draw_digit((h, w), box=(60, 30, 140, 130), width=9) / 255.0
    photo = paper * (1 - 0.8 * digit)                      # ink absorbs 80 % of the light
    s = mnist_stages(rgb3(np.clip(photo * 255, 0, 255).round()))
    check_stages(s)
    assert s.inverted
    ink_zone = draw_digit((h, w), box=(60, 30, 140, 130), width=25) > 0
    assert (s.ink[~ink_zone] == 0).mean() > 0.995        # background really is 0, not grey mush
    assert s.ink[digit > 0.99].mean() > 0.8               # ink is strong
    expected = mnist_stages(rgb3(draw_digit((h, w), box=(60, 30, 140, 130), width=9)))
    assert np.abs(s.image - expected.image).mean() < 0.03
    assert (s.image[(s.image > 0) & (s.image < 0.1)]).size < 30


def test_faint_stain_away_from_the_digit_is_removed():
    h, w = 160, 200
    yy, xx = np.mgrid[:h, :w]
    paper = np.full((h, w), 0.85) + np.random.default_rng(2).normal(0, 0.01, (h, w))
    stain = 0.12 * np.exp(-((yy - 120) ** 2 + (xx - 40) ** 2) / (2 * 12.0 ** 2))  # coffee ring
    digit = draw_digit((h, w), box=(90, 20, 170, 110), width=8) / 255.0
    photo = (paper - stain) * (1 - 0.8 * digit)
    s = mnist_stages(rgb3(np.clip(photo * 255, 0, 255).round()))
    assert (s.ink[100:140, 20:60] == 0).all()        # the stain is gone, not a grey blob
    assert s.bbox[1] >= 85                            # and does not widen the crop
    expected = mnist_stages(rgb3(draw_digit((h, w), box=(90, 20, 170, 110), width=8)))
    assert np.abs(s.image - expected.image).mean() < 0.03


def test_isolated_specks_do_not_widen_the_crop():
    img = draw_digit((200, 200), box=(80, 60, 150, 160), width=10)
    clean = mnist_stages(rgb3(img))
    speckled = img.copy()
    speckled[5:8, 5:8] = 255       # far top-left speck
    speckled[190:192, 195:197] = 255
    s = mnist_stages(rgb3(speckled))
    assert s.bbox == clean.bbox
    np.testing.assert_allclose(s.image, clean.image, atol=1e-6)


def synthetic_mnist_digit():
    """Built like MNIST: anti-aliased digit fitted to a 20-pixel box, integer-shifted so its
    centre of mass is at (14, 14)."""
    arr = draw_digit((200, 160), box=(10, 10, 150, 190), width=22).astype(np.float32) / 255
    t, l, b, r = nonzero_bbox(arr)
    crop = Image.fromarray(arr[t:b, l:r])
    scale = 20 / max(b - t, r - l)
    small = np.asarray(crop.resize((round((r - l) * scale), round((b - t) * scale)),
                                   Image.Resampling.BOX), dtype=np.float32)
    small = np.clip(small, 0, 1)
    assert max(small.shape) == 20
    cy, cx = centre_of_mass(small)
    row, col = math.floor(14 - cy + 0.5), math.floor(14 - cx + 0.5)
    out = np.zeros((28, 28), dtype=np.float32)
    out[row:row + small.shape[0], col:col + small.shape[1]] = small
    return np.round(out * 255).astype(np.uint8)


def test_mnist_style_digit_passes_through_nearly_unchanged():
    digit = synthetic_mnist_digit()
    for given in (digit, rgb3(digit)):
        s = mnist_stages(given)
        check_stages(s)
        assert s.shift == (0.0, 0.0) or max(map(abs, s.shift)) <= 4
        assert np.abs(s.image - digit / 255.0).mean() < 0.01
        assert np.abs(s.image - digit / 255.0).max() < 0.05


def test_real_mnist_digits_pass_through_nearly_unchanged():
    (_, _), (x_test, _) = shared_dataset("mnist")
    digits = x_test[:50]
    diffs = [np.abs(mnist_stages(rgb3(d)).image - d / 255.0).mean() for d in digits]
    assert np.mean(diffs) < 0.01
    assert max(diffs) < 0.05
    # Printed dark-on-light, they come back the same way.
    diffs = [np.abs(mnist_stages(rgb3(255 - d)).image - d / 255.0).mean() for d in digits[:10]]
    assert max(diffs) < 0.05


# --------------------------------------------------------------------------- Fashion-MNIST recipe


def test_fashion_image_passes_through_unchanged():
    coat = np.zeros((28, 28), np.uint8)
    coat[:, 5:23] = 200                      # 28 × 18, touching top and bottom like Fashion-MNIST's garments
    coat[10:16, 8:20] = 90                   # a pale band
    coat[0:3, 5:8] = coat[0:3, 20:23] = 0    # shoulders
    s = fashion_stages(rgb3(coat))
    assert s.dataset == "fashion" and not s.inverted and s.note is None
    np.testing.assert_allclose(s.image, coat / 255.0, atol=2 / 255)


def test_fashion_product_shot_on_white_is_negated_and_fills_28():
    """A grey 240×120 garment on white paper, off-centre: Fashion-MNIST's recipe by hand gives a 28×14 block of
    1 - 155/255 = 0.392 at columns 7..20 (centred), every other pixel 0."""
    photo = np.full((400, 500), 255, np.uint8)
    photo[100:340, 300:420] = 155
    s = fashion_stages(rgb3(photo))
    assert s.inverted and s.fitted.shape == (28, 14)
    expected = np.zeros((28, 28), np.float32)
    expected[:, 7:21] = 1 - 155 / 255
    np.testing.assert_allclose(s.image, expected, atol=0.01)
    # The MNIST recipe on the same photo fits it into 20×20 and stretches the ink to 1: a different input.
    m = mnist_stages(rgb3(photo))
    assert m.fitted.shape == (20, 10) and m.image.max() == pytest.approx(1.0)


def test_fashion_garment_on_a_dark_cloth_is_not_negated():
    photo = np.full((300, 300), 20, np.uint8)
    photo[40:260, 100:210] = 180              # 220 × 110 -> 28 × 14
    s = fashion_stages(rgb3(photo))
    assert not s.inverted and s.fitted.shape == (28, 14)
    inner = s.image[2:26, 9:19]                # away from the resampled edges
    np.testing.assert_allclose(inner, (180 - 20) / (255 - 20), atol=0.02)
    assert (s.image[:, :6] == 0).all() and (s.image[:, 22:] == 0).all()


def test_fashion_light_backdrop_with_a_lighting_gradient_ends_at_zero():
    h, w = 300, 400
    yy, xx = np.mgrid[:h, :w]
    light = 0.8 + 0.2 * xx / (w - 1)                       # backdrop 204..255 across the picture
    photo = 255 * light
    photo[60:240, 150:250] *= 0.5                          # the garment takes half the light
    s = fashion_stages(rgb3(np.round(photo).astype(np.uint8)))
    assert s.inverted
    np.testing.assert_allclose(s.image[3:25, 10:18], 0.5, atol=0.03)   # same value across the gradient
    assert (s.image[:, :5] == 0).all() and (s.image[:, 23:] == 0).all()


def test_fashion_garment_filling_the_frame_keeps_a_black_background():
    """Fashion-MNIST garments touch the border on their long side; the background is still found."""
    g = np.zeros((28, 28), np.uint8)
    g[:, 6:22] = 150                          # a "dress" from top to bottom: half of the border is garment
    s = fashion_stages(rgb3(g))
    np.testing.assert_allclose(s.image, g / 255.0, atol=2 / 255)


@pytest.mark.parametrize("dataset,long_side", [("mnist", 20), ("fashion", 28)])
def test_preprocess_picks_the_recipe_of_the_dataset(dataset, long_side):
    photo = np.zeros((200, 200), np.uint8)
    photo[20:180, 60:140] = 255
    s = preprocess(rgb3(photo), dataset)
    assert s.dataset == dataset and max(s.fitted.shape) == long_side
    assert dataset.replace("mnist", "MNIST").replace("fashion", "Fashion-MNIST") in s.recipe
    with pytest.raises(ValueError, match="cifar"):
        preprocess(rgb3(photo), "cifar")


def test_real_fashion_images_pass_through_nearly_unchanged():
    (_, _), (x_test, _) = shared_dataset("fashion")
    diffs = np.array([np.abs(fashion_stages(rgb3(g)).image - g / 255.0).mean() for g in x_test[:200]])
    assert np.median(diffs) < 0.002          # most come back exactly (up to the noise floor)
    assert np.mean(diffs < 0.02) > 0.93      # the rest are 27-px garments resized to 28, or faint 1-px rims


# --------------------------------------------------------------------------- any image is explorable


def texture(h=240, w=320, seed=0):
    """A photo-like scene without one object: smooth random blobs all over, full contrast."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (6, 8)).astype(np.float32)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC).convert("L"))


@pytest.mark.parametrize("recipe", [mnist_stages, fashion_stages])
def test_a_scene_without_an_object_still_gets_a_view_with_a_note(recipe):
    s = recipe(rgb3(texture()))
    assert s.image.shape == (28, 28) and s.image.max() > 0.5
    assert s.note and "does not look like the training data" in s.note


@pytest.mark.parametrize("recipe", [mnist_stages, fashion_stages])
def test_a_clear_object_has_no_note(recipe):
    assert recipe(rgb3(draw_digit((200, 200), box=(60, 40, 140, 160), width=12))).note is None


@pytest.mark.parametrize("recipe", [mnist_stages, fashion_stages])
@pytest.mark.parametrize("value", [0, 128, 255])
def test_only_a_blank_image_is_refused(recipe, value):
    with pytest.raises(EmptyInputError, match="blank"):
        recipe(np.full((64, 48, 3), value, dtype=np.uint8))


def test_model_view_follows_the_dataset():
    photo = np.full((200, 200), 255, np.uint8)
    photo[40:160, 70:130] = 60
    choice = inputs.ChosenInput.from_rgb(rgb3(photo), source="upload", name="x.png")
    assert max(model_view(choice, "mnist").fitted.shape) == 20
    assert max(model_view(choice, "fashion").fitted.shape) == 28
    with pytest.raises(EmptyInputError):
        model_view(inputs.ChosenInput.empty_canvas(), "fashion")


# --------------------------------------------------------------------------- page sample sets


def test_sample_set_is_read_only_and_checked():
    images = np.zeros((2, 5, 9), np.uint8)
    images[1, 2, 3] = 200
    s = inputs.SampleSet("k", "title", images, ["x", "y"], masks=images > 0)
    images[1, 2, 3] = 0                                  # the caller's array is not shared with the set
    assert s.images[1, 2, 3] == 200 and not s.images.flags.writeable and not s.masks.flags.writeable
    with pytest.raises(ValueError):
        s.images[0, 0, 0] = 1
    with pytest.raises(ValueError, match="labels"):
        inputs.SampleSet("k", "t", images, ["only one"])
    with pytest.raises(ValueError, match="uint8"):
        inputs.SampleSet("k", "t", images.astype(float), ["x", "y"])


def test_chosen_input_from_sample_set():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    s = inputs.SampleSet("scenes", "scene", images, ["a", "b"])
    c = inputs.ChosenInput.from_sample_set(s, 3)              # wraps around like dataset samples
    assert (c.source, c.index, c.label, c.sample_set, c.name) == ("sample", 1, "b", "scenes", "scene #1")
    assert c.rgb.shape == (3, 4, 3) and all(np.array_equal(c.rgb[..., i], images[1]) for i in range(3))


# --------------------------------------------------------------------------- values from the URL

from hypothesis import given, settings, strategies as hs  # noqa: E402


@given(hs.one_of(hs.text(), hs.none(), hs.integers(), hs.lists(hs.text(), max_size=3)))
@settings(max_examples=400, deadline=None)
def test_any_sample_parameter_gives_an_index_or_none(value):
    got = inputs.sample_index_from_url(value)
    assert got is None or (isinstance(got, int) and 0 <= got < inputs.choice.MAX_URL_INDEX)


@given(hs.integers(min_value=0, max_value=999_999_999))
def test_plain_sample_numbers_round_trip(n):
    assert inputs.sample_index_from_url(str(n)) == n
    assert inputs.sample_index_from_url([str(n)]) == n


@pytest.mark.parametrize("value", ["²", "٣", "-3", "+3", "3.0", "1e3", "", " ", "0x10", "1_000", "9" * 10, "５"])
def test_malformed_sample_parameters_are_ignored(value):
    assert inputs.sample_index_from_url(value) is None


@given(hs.one_of(hs.text(), hs.none(), hs.lists(hs.text(), max_size=2)))
def test_any_dataset_parameter_gives_a_known_dataset(value):
    assert inputs.choice_from_url(value, ("mnist", "fashion"), "mnist") in ("mnist", "fashion")
    assert inputs.choice_from_url("fashion", ("mnist", "fashion"), "mnist") == "fashion"
