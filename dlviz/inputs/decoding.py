"""Untrusted bytes and canvas pixels -> a clean, small ``(H, W, 3) uint8`` RGB array, or a message for the user.

Everything a browser can send arrives here first. Bad input (empty, too big, not an image, an unsupported or
damaged file) becomes an ``InputError`` whose text can be shown as is. Cost is bounded for every accepted file:
the size is checked from the header before any pixel is decoded, JPEGs are decoded at a reduced scale
(``draft``), other formats are shrunk by Pillow (box reduction, then Lanczos) right after decoding and before
anything becomes a float array, so one upload costs at most one full-size decoded copy plus small arrays.

Only numpy and Pillow are used; this module must not import streamlit or keras.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = [
    "InputError",
    "EmptyInputError",
    "MAX_BYTES",
    "MAX_PIXELS",
    "MAX_ASPECT",
    "MAX_CANVAS_SIDE",
    "MAX_SIDE",
    "SUPPORTED_FORMATS",
    "Decoded",
    "decode_upload",
    "decode_image",
    "canvas_to_rgb",
    "limit_size",
    "check_uint8_image",
]


class InputError(ValueError):
    """A problem with the user's input. ``str(err)`` is shown to the user verbatim."""


class EmptyInputError(InputError):
    """The input has nothing to recognise (e.g. a blank canvas). Show it as a hint."""


MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
# A drawing comes from the browser as RGBA pixels: the app's canvases are at most 560 px wide; anything much larger
# did not come from them (Streamlit itself caps a widget's state at server.maxWidgetStateSize, 25 MB by default).
MAX_CANVAS_SIDE = 2048
# The long side at most this many times the short one: a 1 × 10,000 strip holds nothing a page can show, and
# shrunk to MAX_SIDE its short side would round to a single pixel (every figure downsamples further).
MAX_ASPECT = 20
# Decoded images are kept at most this big on their long side: plenty for every view (the largest, the
# convolution playground's full image, uses 512) and a bounded amount of memory per session.
MAX_SIDE = 1024
SUPPORTED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")

# Phones often write multi-picture JPEGs, which Pillow reports as "MPO"; they are JPEGs
# to the user, so refusing them would be baffling.
_FORMAT_ALIASES = {"MPO": "JPEG"}
_FORMATS_TEXT = "PNG, JPEG, GIF, BMP or WebP"


# --------------------------------------------------------------------------- decoding


def _label(name: str) -> str:
    return f"“{name}”" if name else "This file"


def _sniff_kind(data: bytes) -> str | None:
    """Name well-known non-image or unsupported file types from their first bytes."""
    head = data[:2048]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = stripped.lower()
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if b"<svg" in lowered or (lowered.startswith(b"<?xml") and b"svg" in lowered):
        return "an SVG (vector) drawing"
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "an HTML web page"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"):
            return "a HEIC photo"
        if brand in (b"avif", b"avis"):
            return "an AVIF image"
        return "a video or other media file"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "a TIFF image"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive or office document"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 3:  # not just a character cut off at the 2 kB mark
                return None
        return "a text file"
    return None


def _identify_any_format(data: bytes) -> str | None:
    """Format name Pillow would give the file with all its plugins, without decoding."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.format
    except Exception:  # only used to word an error message; any failure means "unknown"
        return None


def _unsupported_error(data: bytes, label: str) -> InputError:
    kind = _sniff_kind(data)
    if kind is None:
        fmt = _identify_any_format(data)
        if fmt:
            return InputError(
                f"{label} is in {fmt} format, which is not supported. "
                f"Please convert it to {_FORMATS_TEXT} and upload it again."
            )
        return InputError(
            f"{label} is not an image we can read. Please upload a {_FORMATS_TEXT} image."
        )
    if kind.endswith("image") or kind.endswith("photo") or kind.endswith("drawing"):
        return InputError(
            f"{label} is {kind}, which is not supported. "
            f"Please export or convert it to {_FORMATS_TEXT} and upload that."
        )
    return InputError(
        f"{label} is not an image (it looks like {kind}). Please upload a {_FORMATS_TEXT} image."
    )


def _too_many_pixels_error(label: str, width: int | None, height: int | None,
                           pixels: int | None = None) -> InputError:
    if width and height:
        size = f"{width} × {height} pixels ({width * height / 1e6:.0f} megapixels)"
    elif pixels:
        size = f"{pixels / 1e6:.0f} megapixels"
    else:
        size = "far too many pixels"
    return InputError(
        f"{label} is too large: {size}. The limit is {MAX_PIXELS / 1e6:.0f} megapixels; "
        "please scale the image down and try again."
    )


def _damaged_error(label: str) -> InputError:
    return InputError(
        f"{label} could not be read completely: it seems to be damaged or cut off. "
        "Please re-save or re-export the image and try again."
    )



@dataclass(frozen=True)
class Decoded:
    """A decoded upload: ``rgb`` ``(h, w, 3) uint8`` with ``max(h, w) <= max_side``, upright; ``full_size`` the
    image's own (H, W) before shrinking, after EXIF orientation."""

    rgb: np.ndarray
    full_size: tuple[int, int]


def decode_image(data: bytes, name: str = "", max_side: int = MAX_SIDE) -> np.ndarray:
    """Decode uploaded bytes into an RGB array no larger than ``max_side`` on its long side.

    Args:
        data: the file's bytes, untrusted.
        name: the file name, used only to word error messages.
        max_side: the long side of the result is at most this (aspect ratio kept, never upscaled).

    Returns:
        ``(H, W, 3) uint8`` RGB, upright (EXIF orientation applied). Animated GIF/WebP:
        the first frame. Transparent images are composited onto a background that
        contrasts with their visible content (dark ink -> white, light ink -> black), so a
        black digit on a transparent PNG stays visible. 16-bit and 32-bit integer/float
        grayscale images are stretched from their own min..max to 0..255 (not clipped).

    Raises:
        InputError: empty file, more than ``MAX_BYTES``, not an image, a format outside
            ``SUPPORTED_FORMATS``, more than ``MAX_PIXELS`` pixels or a side more than ``MAX_ASPECT``
            times the other (checked from the header
            before anything is decoded), or a truncated/damaged file. The message says
            what to do.

    Truncated files are refused only while ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` is
    False (Pillow's default); this module never changes it.
    """
    return decode_upload(data, name, max_side).rgb


def decode_upload(data: bytes, name: str = "", max_side: int = MAX_SIDE) -> Decoded:
    """``decode_image`` that also reports the image's full size (for "photo.jpg (4032×3024)")."""
    label = _label(name)
    if not data:
        raise InputError(
            f"{label} is empty (0 bytes). Please choose an image file ({_FORMATS_TEXT})."
        )
    if len(data) > MAX_BYTES:
        raise InputError(
            f"{label} is {math.ceil(len(data) * 10 / 2**20) / 10:.1f} MB; the limit is {MAX_BYTES / 2**20:.0f} MB. "
            "Please upload a smaller or more compressed image."
        )
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")

    # open() reads the header only. Pillow's own bomb guard raises above twice its MAX_IMAGE_PIXELS (and only
    # warns between once and twice, a range far above ours); our MAX_PIXELS check below refuses every such
    # image before a single pixel is decoded, without touching process-wide warning filters.
    try:
        img = Image.open(io.BytesIO(data), formats=list(SUPPORTED_FORMATS))
    except Image.DecompressionBombError as exc:
        match = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(match.group(1)) if match else None
        raise _too_many_pixels_error(label, None, None, pixels) from exc
    except UnidentifiedImageError as exc:
        raise _unsupported_error(data, label) from exc
    except Exception as exc:  # a corrupt header can raise almost anything from a plugin
        raise _damaged_error(label) from exc

    with img:
        fmt = _FORMAT_ALIASES.get(img.format or "", img.format)
        if fmt not in SUPPORTED_FORMATS:
            raise _unsupported_error(data, label)
        width, height = img.size
        if width * height > MAX_PIXELS:
            raise _too_many_pixels_error(label, width, height)
        if width < 1 or height < 1:
            raise _damaged_error(label)
        if max(width, height) > MAX_ASPECT * min(width, height):
            raise InputError(
                f"{label} is {width} × {height} pixels: one side is more than {MAX_ASPECT} times the other, "
                "too thin a strip to show anything. Please crop it to the part you want to explore."
            )
        try:
            orientation = _orientation(img)
            small = _decode_small(img, max_side)
            rgb = _pil_to_rgb(small)
        except InputError:
            raise
        except Exception as exc:  # decoders raise OSError, SyntaxError, ValueError, EOFError, ...
            raise _damaged_error(label) from exc
    rgb, full_size = _upright(rgb, orientation, (height, width))
    return Decoded(rgb, full_size)


# EXIF orientation -> the transposition that makes the image upright (as ImageOps.exif_transpose does).
_TRANSPOSE = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation tag (1 = upright); broken EXIF counts as upright rather than refusing a good image."""
    try:
        value = img.getexif().get(0x0112, 1)
        return int(value) if int(value) in _TRANSPOSE else 1
    except Exception:  # metadata only: the pixels are still fine
        return 1


def _upright(rgb: np.ndarray, orientation: int, size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """Apply the EXIF orientation to the (already small) array; (H, W) of the full image, upright."""
    if orientation == 1:
        return rgb, size
    img = Image.fromarray(rgb)
    for step in _TRANSPOSE[orientation]:
        img = img.transpose(step)
    swapped = orientation in (5, 6, 7, 8)
    return np.asarray(img).copy(), (size[1], size[0]) if swapped else size


_WIDE_GRAY_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}
# Modes Pillow can shrink (box reduction + resampling) directly; others are converted to one of these first.
_RESIZABLE = {"L", "LA", "RGB", "RGBA", "I", "F"}


def _shrunk_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = max_side / max(width, height)
    return (min(max_side, max(1, round(width * scale))), min(max_side, max(1, round(height * scale))))


def _decode_small(img: Image.Image, max_side: int) -> Image.Image:
    """Decode the first frame and shrink it to ``max_side``, one full-size copy at a time.

    JPEG: ``draft`` lets the decoder itself skip detail (DCT scaling by 1/2, 1/4 or 1/8), so a 36-megapixel
    photo is never held at full size. Other formats decode at full size once; Pillow then shrinks in C (box
    reduction by an integer factor, then Lanczos) before numpy sees a pixel. Transparency stays in the alpha
    band (shrunk premultiplied by Pillow) so compositing later sees the same picture, only smaller.
    """
    width, height = img.size
    if max(width, height) > max_side and img.format in ("JPEG", "MPO"):
        img.draft(img.mode if img.mode in ("L", "RGB") else None, (max_side, max_side))
    img.load()     # decodes the current (first) frame only; raises on truncated data
    if img.mode in _WIDE_GRAY_MODES:
        return _small_wide_gray(img, max_side)
    if img.mode in ("P", "PA") or "transparency" in img.info:
        img = img.convert("RGBA")
    elif img.mode == "1":
        img = img.convert("L")
    elif img.mode in ("RGBa", "La"):
        img = img.convert(img.mode[:-1] + "A")
    elif img.mode not in _RESIZABLE:       # CMYK, YCbCr, LAB, HSV ...
        img = img.convert("RGB")
    if max(img.size) > max_side:
        img = img.resize(_shrunk_size(*img.size, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return img


def _small_wide_gray(img: Image.Image, max_side: int) -> Image.Image:
    """16/32-bit integer or float grey -> an 8-bit "L" image (or "LA" when a value is marked transparent),
    stretched from its own min..max to 0..255, then shrunk.

    The stretch is done a block of rows at a time straight into uint8, so no full-size float copy is ever made:
    a 36-megapixel 16-bit image costs its own 72 MB plus 36 MB.
    """
    values = np.asarray(img)                                     # full size, its own dtype (uint16 / int32 / float32)
    transparency = img.info.get("transparency")
    opaque = None
    if isinstance(transparency, (int, float)) and not isinstance(transparency, bool):
        opaque = values != transparency
        if not opaque.any():
            opaque = None
    valid = opaque
    if values.dtype.kind == "f":                                 # a float image may hold NaN or inf
        finite = np.isfinite(values)
        valid = finite if valid is None else valid & finite
    if valid is None:
        lo, hi = float(values.min()), float(values.max())
    elif valid.any():
        big = np.iinfo(values.dtype) if values.dtype.kind in "iu" else np.finfo(values.dtype)
        lo = float(values.min(initial=big.max, where=valid))
        hi = float(values.max(initial=big.min, where=valid))
    else:
        lo = hi = 0.0
    del valid
    gray = np.empty(values.shape, np.uint8)
    if hi > lo:
        scale = np.float32(255.0 / (hi - lo))
        for top in range(0, values.shape[0], 256):
            block = (values[top:top + 256].astype(np.float32) - np.float32(lo)) * scale
            np.clip(np.round(np.nan_to_num(block, nan=0.0)), 0, 255, out=block)
            gray[top:top + 256] = block
    else:  # flat image: nothing to stretch, show it as black or white
        gray.fill(255 if hi > 0 else 0)
    del values
    small = Image.fromarray(gray)
    if max(small.size) > max_side:
        small = small.resize(_shrunk_size(*small.size, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if opaque is None:
        return small
    alpha = Image.fromarray(opaque.astype(np.uint8) * np.uint8(255))
    del opaque
    if alpha.size != small.size:
        alpha = alpha.resize(small.size, Image.Resampling.BOX, reducing_gap=3.0)
    return Image.merge("LA", [small, alpha])


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    """A small decoded image in mode L, LA, RGB or RGBA -> (H, W, 3) uint8 RGB, transparency composited."""
    if img.mode in ("LA", "RGBA"):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32)
        return _composite(rgba[..., :3], rgba[..., 3] / np.float32(255.0))
    return np.array(img.convert("RGB"), dtype=np.uint8)


def _composite(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend (H, W, 3) colour in 0..255 over a background contrasting with the visible content.

    ``alpha``: (H, W) in [0, 1]. Returns (H, W, 3) uint8.
    """
    weight = float(alpha.sum())
    if weight <= 1e-6:
        background = 255.0  # nothing visible; white is what an empty transparent image shows as
    else:
        luma = color @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        content = float((luma * alpha).sum() / weight)
        background = 255.0 if content < 127.5 else 0.0
    a = alpha[..., None].astype(np.float32)
    out = color * a + np.float32(background) * (np.float32(1.0) - a)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def canvas_to_rgb(rgba: np.ndarray) -> np.ndarray:
    """Canvas pixels -> RGB with the same contrasting-background compositing as uploads.

    Args:
        rgba: ``(H, W, 4)`` RGBA from streamlit-drawable-canvas ``image_data`` (uint8, or
            float in 0..255 or 0..1; the background may be transparent or opaque).
            ``(H, W, 3)`` is accepted as fully opaque.

    Returns:
        ``(H, W, 3) uint8`` RGB.

    Raises:
        EmptyInputError: nothing visible has been drawn.
    """
    arr = np.asarray(rgba)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(
            f"The drawing has an unexpected shape {arr.shape}; "
            "expected height × width × 4 (RGBA)."
        )
    if max(arr.shape[:2]) > MAX_CANVAS_SIDE:
        raise InputError(
            f"The drawing is {arr.shape[1]} × {arr.shape[0]} pixels; a canvas is at most {MAX_CANVAS_SIDE} pixels "
            "a side. Please reload the page and draw again."
        )
    values = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
    if np.issubdtype(arr.dtype, np.floating) and values.max(initial=0.0) <= 1.0:
        values = values * 255.0  # float canvases may be normalised to 0..1
    values = np.clip(values, 0.0, 255.0)
    color = values[..., :3]
    alpha = values[..., 3] / np.float32(255.0) if arr.shape[2] == 4 else np.ones(arr.shape[:2], np.float32)

    empty = EmptyInputError("The canvas is empty. Draw a digit to see what the model sees.")
    if not (alpha > 0.02).any():
        raise empty
    rgb = _composite(color, alpha)
    # Visible strokes differ from the background; a few levels of difference are invisible.
    spread = rgb.reshape(-1, 3).max(axis=0).astype(int) - rgb.reshape(-1, 3).min(axis=0)
    if spread.max() < 10:
        raise empty
    return rgb


# --------------------------------------------------------------------------- shared checks


def check_uint8_image(rgb: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8:
        raise ValueError(
            f"{what} expects a uint8 image (0..255), got dtype {arr.dtype}; "
            "scale float images by 255 and cast with .astype(np.uint8)."
        )
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(
            f"{what} expects an (H, W, 3) RGB or (H, W) gray image, got shape {arr.shape}."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{what} got an image with no pixels (shape {arr.shape}).")
    return arr


def limit_size(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale so that ``max(H, W) <= max_side``, keeping the aspect ratio; never upscale.

    Args:
        rgb: ``(H, W, 3)`` or ``(H, W)`` uint8.
        max_side: largest allowed side, >= 1.

    Returns:
        The input itself when it is small enough, else a new antialiased (Lanczos)
        downscaled uint8 array of the same number of channels.
    """
    arr = check_uint8_image(rgb, "limit_size")
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    height, width = arr.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return arr
    scale = max_side / longest
    new_w = min(max_side, max(1, round(width * scale)))
    new_h = min(max_side, max(1, round(height * scale)))
    # reducing_gap first shrinks by an integer factor with a box filter: much faster on
    # phone photos and visually identical.
    small = Image.fromarray(np.ascontiguousarray(arr)).resize(
        (new_w, new_h), Image.Resampling.LANCZOS, reducing_gap=3.0
    )
    return np.array(small, dtype=np.uint8)

