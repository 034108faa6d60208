"""Turn user images (uploads, canvas drawings, bundled samples) into model inputs.

Two jobs, kept separate so the UI can show each stage:

* ``decode_image`` / ``canvas_to_rgb``: untrusted bytes or canvas pixels -> a clean
  ``(H, W, 3) uint8`` RGB array, refusing bad input with an ``InputError`` whose message
  can be shown to the user as is.
* ``mnist_stages``: any RGB array -> the 28x28 white-on-black input an MNIST model
  expects, built the way MNIST itself was built (crop to the ink, fit into 20x20 keeping
  the aspect ratio, centre of mass at the centre of 28x28), with every stage kept.

Only numpy and Pillow are used; this module must not import streamlit or keras.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "InputError",
    "EmptyInputError",
    "MAX_BYTES",
    "MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "decode_image",
    "canvas_to_rgb",
    "to_gray",
    "limit_size",
    "MnistStages",
    "mnist_stages",
    "ChosenInput",
    "SampleSet",
    "model_view",
    "EMPTY_HINT",
]


class InputError(ValueError):
    """A problem with the user's input. ``str(err)`` is shown to the user verbatim."""


class EmptyInputError(InputError):
    """The input has nothing to recognise (e.g. a blank canvas). Show it as a hint."""


MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
SUPPORTED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")

# Phones often write multi-picture JPEGs, which Pillow reports as "MPO"; they are JPEGs
# to the user, so refusing them would be baffling.
_FORMAT_ALIASES = {"MPO": "JPEG"}
_FORMATS_TEXT = "PNG, JPEG, GIF, BMP or WebP"

# MNIST geometry: digits were fitted into a 20x20 box, then translated (by whole pixels)
# so that the centre of mass sits at pixel (14, 14) of the 28x28 field. Checked on the
# real test set: every digit's non-zero bounding box has a long side of exactly 20 and
# its centre of mass lies in [13.5, 14.5] on both axes.
MNIST_SIZE = 28
MNIST_BOX = 20
MNIST_COM = 14.0

# Ink with less contrast than this against its local background (0..1) counts as nothing.
_MIN_CONTRAST = 0.08
# The threshold may never fall below this, so a perfectly flat background stays exactly 0
# while MNIST's faintest anti-aliasing (1/255) survives.
_NOISE_FLOOR = 0.5 / 255.0
# Border pixels further than this many robust sigmas from the fitted background are noise.
_NOISE_SIGMAS = 4.0
# End runs of rows/columns holding less than this share of the ink are treated as specks.
_SPECK_MASS = 0.04


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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
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


def decode_image(data: bytes, name: str = "") -> np.ndarray:
    """Decode uploaded bytes into an RGB array.

    Args:
        data: the file's bytes, untrusted.
        name: the file name, used only to word error messages.

    Returns:
        ``(H, W, 3) uint8`` RGB, upright (EXIF orientation applied). Animated GIF/WebP:
        the first frame. Transparent images are composited onto a background that
        contrasts with their visible content (dark ink -> white, light ink -> black), so a
        black digit on a transparent PNG stays visible. 16-bit and 32-bit integer/float
        grayscale images are stretched from their own min..max to 0..255 (not clipped).

    Raises:
        InputError: empty file, more than ``MAX_BYTES``, not an image, a format outside
            ``SUPPORTED_FORMATS``, more than ``MAX_PIXELS`` pixels (checked from the header
            before anything is decoded), or a truncated/damaged file. The message says
            what to do.

    Truncated files are refused only while ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` is
    False (Pillow's default); this module never changes it.
    """
    label = _label(name)
    if not data:
        raise InputError(
            f"{label} is empty (0 bytes). Please choose an image file ({_FORMATS_TEXT})."
        )
    if len(data) > MAX_BYTES:
        raise InputError(
            f"{label} is {len(data) / 2**20:.1f} MB; the limit is {MAX_BYTES / 2**20:.0f} MB. "
            "Please upload a smaller or more compressed image."
        )

    # Pillow's own bomb guard fires inside open() (warning above MAX_IMAGE_PIXELS, error
    # above twice that); turn the warning into an error so neither path decodes anything.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=list(SUPPORTED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
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
        try:
            # load() decodes only the current (first) frame and raises on truncated data.
            img.load()
            img = _exif_upright(img)
            return _pil_to_rgb(img)
        except InputError:
            raise
        except Exception as exc:  # decoders raise OSError, SyntaxError, ValueError, EOFError, ...
            raise _damaged_error(label) from exc


def _exif_upright(img: Image.Image) -> Image.Image:
    """Apply EXIF orientation; broken EXIF is ignored rather than refusing a good image."""
    try:
        upright = ImageOps.exif_transpose(img)
    except Exception:  # metadata only: the pixels are still fine
        return img
    return upright if upright is not None else img


_WIDE_GRAY_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    """Loaded Pillow image of any mode -> (H, W, 3) uint8 RGB."""
    if img.mode in _WIDE_GRAY_MODES:
        values = np.asarray(img).astype(np.float64)
        alpha = None
        transparency = img.info.get("transparency")
        if isinstance(transparency, (int, float)):
            alpha = (values != transparency).astype(np.float64)
            if not alpha.any():
                alpha = None
        valid = values if alpha is None else values[alpha > 0]
        lo, hi = float(valid.min()), float(valid.max())
        if hi > lo:
            gray = (values - lo) * (255.0 / (hi - lo))
        else:  # flat image: nothing to stretch, show it as black or white
            gray = np.full(values.shape, 255.0 if hi > 0 else 0.0)
        gray = np.clip(gray, 0, 255)
        color = np.repeat(gray[..., None], 3, axis=2)
        if alpha is not None:
            return _composite(color, alpha)
        return np.round(color).astype(np.uint8)

    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        rgba = np.array(img.convert("RGBA"), dtype=np.float64)
        return _composite(rgba[..., :3], rgba[..., 3] / 255.0)
    return np.array(img.convert("RGB"), dtype=np.uint8)


def _composite(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend (H, W, 3) colour in 0..255 over a background contrasting with the visible content.

    ``alpha``: (H, W) in [0, 1]. Returns (H, W, 3) uint8.
    """
    weight = float(alpha.sum())
    if weight <= 1e-6:
        background = 255.0  # nothing visible; white is what an empty transparent image shows as
    else:
        luma = color @ np.array([0.299, 0.587, 0.114])
        content = float((luma * alpha).sum() / weight)
        background = 255.0 if content < 127.5 else 0.0
    a = alpha[..., None]
    out = color * a + background * (1.0 - a)
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
    values = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
    if np.issubdtype(arr.dtype, np.floating) and values.max(initial=0.0) <= 1.0:
        values = values * 255.0  # float canvases may be normalised to 0..1
    values = np.clip(values, 0.0, 255.0)
    color = values[..., :3]
    alpha = values[..., 3] / 255.0 if arr.shape[2] == 4 else np.ones(arr.shape[:2])

    empty = EmptyInputError("The canvas is empty. Draw a digit to see what the model sees.")
    if not (alpha > 0.02).any():
        raise empty
    rgb = _composite(color, alpha)
    # Visible strokes differ from the background; a few levels of difference are invisible.
    spread = rgb.reshape(-1, 3).max(axis=0).astype(int) - rgb.reshape(-1, 3).min(axis=0)
    if spread.max() < 10:
        raise empty
    return rgb


# --------------------------------------------------------------------------- basic ops


def _check_uint8_image(rgb: np.ndarray, what: str) -> np.ndarray:
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


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3) uint8`` RGB -> ``(H, W) float32`` in [0, 1], ITU-R 601 luma.

    An ``(H, W) uint8`` gray image is accepted and only rescaled.
    """
    arr = _check_uint8_image(rgb, "to_gray")
    if arr.ndim == 2:
        return arr.astype(np.float32) / np.float32(255.0)
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32) / np.float32(255.0)
    return np.clip(arr.astype(np.float32) @ weights, 0.0, 1.0).astype(np.float32)


def limit_size(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale so that ``max(H, W) <= max_side``, keeping the aspect ratio; never upscale.

    Args:
        rgb: ``(H, W, 3)`` or ``(H, W)`` uint8.
        max_side: largest allowed side, >= 1.

    Returns:
        The input itself when it is small enough, else a new antialiased (Lanczos)
        downscaled uint8 array of the same number of channels.
    """
    arr = _check_uint8_image(rgb, "limit_size")
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


# --------------------------------------------------------------------------- MNIST pipeline


@dataclass(frozen=True, eq=False)
class MnistStages:
    """Every stage of turning an image into an MNIST model input (for "what the model sees").

    Attributes:
        original: ``(H, W, 3)`` (or ``(H, W)``) uint8, exactly as given.
        gray: ``(H, W)`` float32 in [0, 1], luma of ``original``.
        inverted: True when the background was light (dark ink) and the image was inverted.
        ink: ``(H, W)`` float32 in [0, 1], white ink on black; background removed to 0
            and the strongest ink stretched to 1.
        bbox: ``(top, left, bottom, right)``, bottom/right exclusive, of the ink in ``ink``
            coordinates (isolated specks ignored).
        cropped: ``(bottom - top, right - left)`` float32, ``ink[top:bottom, left:right]``.
        fitted: ``(h, w)`` float32 in [0, 1] with ``max(h, w) == 20``, aspect ratio kept.
        image: ``(28, 28)`` float32 in [0, 1], the model input.
        shift: ``(dy, dx)`` in pixels: where ``fitted`` was placed in ``image`` relative to
            plain geometric centring, chosen so the centre of mass lands on (14, 14).
    """

    original: np.ndarray
    gray: np.ndarray
    inverted: bool
    ink: np.ndarray
    bbox: tuple[int, int, int, int]
    cropped: np.ndarray
    fitted: np.ndarray
    image: np.ndarray
    shift: tuple[float, float]

    def panels(self) -> list[tuple[str, np.ndarray]]:
        """(title, image) pairs for the "what the model sees" strip, left to right."""
        first = self.original if self.original.ndim == 3 else self.original / 255.0
        return [("input", first),
                ("grey, inverted" if self.inverted else "grey", 1.0 - self.gray if self.inverted else self.gray),
                ("ink only", self.ink),
                (f"crop {self.cropped.shape[0]}×{self.cropped.shape[1]}", _pad_square(self.cropped)),
                ("model input", self.image)]


def _pad_square(img: np.ndarray) -> np.ndarray:
    """Centre a (h, w) image on a black square, so strips of panels can show it without distortion."""
    h, w = img.shape
    n = max(h, w)
    out = np.zeros((n, n), dtype=img.dtype)
    out[(n - h) // 2:(n - h) // 2 + h, (n - w) // 2:(n - w) // 2 + w] = img
    return out


def _empty_image_error() -> EmptyInputError:
    return EmptyInputError(
        "Nothing to recognise yet: the image has no visible digit. "
        "Draw a digit, or upload an image with a clearly visible object."
    )


def _border_mask(height: int, width: int) -> np.ndarray:
    band = max(1, min(height, width) // 20)
    mask = np.zeros((height, width), dtype=bool)
    mask[:band, :] = mask[-band:, :] = True
    mask[:, :band] = mask[:, -band:] = True
    return mask


def _fit_background(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Smooth background model from the border band, robust to ink touching the border.

    A quadratic surface fitted only to border pixels follows lighting gradients and
    vignetting of photographed paper, yet cannot "learn" the digit in the middle.

    Returns:
        background: ``(H, W)`` float32, the estimated background level.
        sigma: robust standard deviation of the border around that surface (noise).
    """
    height, width = gray.shape
    border = _border_mask(height, width)
    ys, xs = np.nonzero(border)
    step = max(1, ys.size // 8000)  # plenty of samples for 6 coefficients
    ys, xs = ys[::step], xs[::step]
    values = gray[ys, xs].astype(np.float64)

    def terms(y: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
        ny = 2.0 * y / max(height - 1, 1) - 1.0
        nx = 2.0 * x / max(width - 1, 1) - 1.0
        return [np.ones_like(ny), nx, ny, nx * ny, nx * nx, ny * ny]

    design = np.stack(terms(ys.astype(np.float64), xs.astype(np.float64)), axis=1)
    keep = np.ones(values.size, dtype=bool)
    coef = np.zeros(design.shape[1])
    coef[0] = float(np.median(values))
    for _ in range(4):
        if keep.sum() >= design.shape[1]:
            coef, *_ = np.linalg.lstsq(design[keep], values[keep], rcond=None)
        residual = values - design @ coef
        mad = float(np.median(np.abs(residual[keep] - np.median(residual[keep]))))
        limit = max(3.0 * 1.4826 * mad, 2.0 / 255.0)
        new_keep = np.abs(residual) <= limit
        too_few = new_keep.sum() < max(design.shape[1], values.size // 4)
        if too_few or np.array_equal(new_keep, keep):
            break
        keep = new_keep

    residual = values - design @ coef
    sigma = 1.4826 * float(np.median(np.abs(residual[keep] - np.median(residual[keep]))))
    gy = np.arange(height, dtype=np.float64)[:, None]
    gx = np.arange(width, dtype=np.float64)[None, :]
    surface = sum(c * t for c, t in zip(coef, terms(gy, gx)))
    # Extrapolation into the middle must not invent a level the border never had.
    inliers = values[keep]
    surface = np.clip(np.broadcast_to(surface, (height, width)), inliers.min(), inliers.max())
    return surface.astype(np.float32), sigma


def _light_background(gray: np.ndarray, residual: np.ndarray, sigma: float) -> bool:
    """True when the ink is darker than the background (so the image must be inverted)."""
    border_level = float(np.median(gray[_border_mask(*gray.shape)]))
    if border_level >= 0.6:
        return True
    if border_level <= 0.4:
        return False
    # Mid-grey border (a dim photo of paper, say): decide by which way the content deviates.
    margin = max(_NOISE_SIGMAS * sigma, 0.02)
    darker = float(np.clip(-residual - margin, 0, None).sum())
    lighter = float(np.clip(residual - margin, 0, None).sum())
    if darker == lighter:
        return border_level > 0.5
    return darker > lighter


def _otsu(values: np.ndarray) -> float:
    """Otsu threshold of non-negative ``values`` (256-bin histogram)."""
    top = float(values.max(initial=0.0))
    if top <= 0:
        return 0.0
    hist, edges = np.histogram(values, bins=256, range=(0.0, top))
    hist = hist.astype(np.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mean0 = m0 / np.maximum(w0, 1e-12)
    mean1 = (m0[-1] - m0) / np.maximum(w1, 1e-12)
    between = w0 * w1 * (mean0 - mean1) ** 2
    return float(edges[int(np.argmax(between)) + 1])


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation with a (2r+1)^2 square, separable so cost is O(r * N)."""
    out = mask.copy()
    for axis in (0, 1):
        src = out.copy()
        n = src.shape[axis]
        for k in range(1, min(radius, n - 1) + 1):
            if axis == 0:
                out[k:] |= src[:-k]
                out[:-k] |= src[k:]
            else:
                out[:, k:] |= src[:, :-k]
                out[:, :-k] |= src[:, k:]
    return out


def _clean_ink(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """Gray image -> (white-on-black ink in [0, 1] with background exactly 0, inverted)."""
    background, sigma = _fit_background(gray)
    residual = gray - background
    inverted = _light_background(gray, residual, sigma)
    level = 1.0 - background if inverted else background
    # Ink on paper removes a share of the light falling on it, so in dim corners its absolute
    # contrast is smaller. Measuring contrast relative to the headroom above the local
    # background makes one stroke equally strong across a lighting gradient (and is the
    # identity on a clean black background).
    headroom = np.maximum(1.0 - level, 0.05)
    raw = (-residual if inverted else residual) / headroom
    border = _border_mask(*gray.shape)
    border_raw = raw[border]
    sigma = 1.4826 * float(np.median(np.abs(border_raw - np.median(border_raw))))

    # Hysteresis threshold: "strong" ink is above Otsu's split; weaker pixels are kept only
    # next to strong ink (anti-aliased edges) and dropped elsewhere (shadows, paper grain).
    # Clean inputs such as MNIST samples therefore keep all their soft edges.
    weak_level = max(_NOISE_SIGMAS * sigma, _NOISE_FLOOR)
    positive = np.clip(raw, 0.0, None)
    strong_level = max(_otsu(positive), weak_level)
    strong = positive > strong_level
    if not strong.any():
        raise _empty_image_error()
    peak = float(np.percentile(positive[strong], 95))
    if peak - weak_level < _MIN_CONTRAST:
        raise _empty_image_error()
    radius = max(2, round(0.01 * max(gray.shape)))
    keep = (positive > weak_level) & _dilate(strong, radius)
    ink = np.clip((positive - weak_level) / (peak - weak_level), 0.0, 1.0) * keep
    return ink.astype(np.float32), inverted


def _ink_span(profile: np.ndarray) -> tuple[int, int]:
    """[start, stop) of the ink along one axis, dropping small detached runs at the ends."""
    total = float(profile.sum())
    filled = np.flatnonzero(profile > 0)
    gap = max(1, round(0.02 * profile.size))  # tiny breaks in a stroke are not separate parts
    runs: list[list[float]] = []
    for idx in filled:
        if runs and idx - runs[-1][1] <= gap:
            runs[-1][1] = idx + 1
        else:
            runs.append([idx, idx + 1])
    masses = [float(profile[int(a):int(b)].sum()) for a, b in runs]
    first, last = 0, len(runs) - 1
    while first < last and masses[first] < _SPECK_MASS * total:
        first += 1
    while last > first and masses[last] < _SPECK_MASS * total:
        last -= 1
    return int(runs[first][0]), int(runs[last][1])


def _ink_bbox(ink: np.ndarray) -> tuple[int, int, int, int]:
    top, bottom = _ink_span(ink.sum(axis=1))
    left, right = _ink_span(ink[top:bottom].sum(axis=0))
    # Trimming columns can leave rows that only a removed speck occupied.
    top2, bottom2 = _ink_span(ink[top:bottom, left:right].sum(axis=1))
    return top + top2, left, top + bottom2, right


def _fit_box(cropped: np.ndarray) -> np.ndarray:
    """Resize so the long side is exactly MNIST_BOX, keeping the aspect ratio."""
    height, width = cropped.shape
    scale = MNIST_BOX / max(height, width)
    new_h = MNIST_BOX if height >= width else min(MNIST_BOX, max(1, round(height * scale)))
    new_w = MNIST_BOX if width >= height else min(MNIST_BOX, max(1, round(width * scale)))
    if (new_h, new_w) == (height, width):
        return cropped.astype(np.float32, copy=True)
    # BOX averages exactly the covered area when shrinking (MNIST's soft grey edges);
    # BILINEAR avoids Lanczos ringing when a small crop has to grow.
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    resized = Image.fromarray(np.ascontiguousarray(cropped, dtype=np.float32)).resize(
        (new_w, new_h), resample
    )
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    mass = float(img.sum())
    if mass <= 0:
        return (img.shape[0] - 1) / 2, (img.shape[1] - 1) / 2
    cy = float(img.sum(axis=1) @ np.arange(img.shape[0])) / mass
    cx = float(img.sum(axis=0) @ np.arange(img.shape[1])) / mass
    return cy, cx


def mnist_stages(rgb: np.ndarray) -> MnistStages:
    """Preprocess any image the way MNIST was made, keeping every intermediate stage.

    Steps: luma; invert when the background is light; remove the background (a smooth
    surface fitted to the border, then a noise/Otsu hysteresis threshold) and stretch the
    ink to 1; crop to the ink (ignoring detached specks); fit into 20x20 keeping the aspect
    ratio; paste into 28x28 with a whole-pixel shift that puts the centre of mass at
    (14, 14). An MNIST digit (already 28x28, white on black, centred) comes back unchanged
    up to a ~0.002 intensity offset.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB (or ``(H, W)`` uint8 gray). Large photos are slow;
            pass them through ``limit_size`` first.

    Returns:
        MnistStages; ``.image`` is ``(28, 28) float32`` in [0, 1].

    Raises:
        EmptyInputError: no visible ink (blank or uniform image).
    """
    original = _check_uint8_image(rgb, "mnist_stages")
    gray = to_gray(original)
    ink, inverted = _clean_ink(gray)
    if not (ink > 0).any():
        raise _empty_image_error()

    top, left, bottom, right = _ink_bbox(ink)
    cropped = ink[top:bottom, left:right].copy()
    fitted = _fit_box(cropped)

    h, w = fitted.shape
    cy, cx = _centre_of_mass(fitted)
    # floor(x + 0.5) rather than round(): no banker's rounding, so ties always go one way.
    row = min(max(int(math.floor(MNIST_COM - cy + 0.5)), 0), MNIST_SIZE - h)
    col = min(max(int(math.floor(MNIST_COM - cx + 0.5)), 0), MNIST_SIZE - w)
    image = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    image[row:row + h, col:col + w] = fitted
    shift = (row - (MNIST_SIZE - h) / 2, col - (MNIST_SIZE - w) / 2)

    return MnistStages(
        original=rgb,
        gray=gray,
        inverted=bool(inverted),
        ink=ink,
        bbox=(int(top), int(left), int(bottom), int(right)),
        cropped=cropped,
        fitted=fitted,
        image=image,
        shift=(float(shift[0]), float(shift[1])),
    )


# --------------------------------------------------------------------------- the user's current input

EMPTY_HINT = "Draw a digit on the canvas, upload an image or pick a sample to begin."


@dataclass(frozen=True, eq=False)
class SampleSet:
    """A page's own bundled examples, offered in the picker's Samples tab instead of the dataset's test images.

    key: unique name of the set (stored in every ChosenInput picked from it, so the page can find it again);
    title: shown to users ("EM slice", "three digits", ...); images: (N, H, W) uint8 grey, any H×W (one size for
    the whole set); labels: N strings, one per image (the Samples tab offers them as classes); masks: optional
    (N, H, W) array belonging to the images (e.g. segmentation targets), looked up by `ChosenInput.index`.
    Arrays are stored read-only (sets are shared between sessions).
    """

    key: str
    title: str
    images: np.ndarray
    labels: tuple[str, ...]
    masks: np.ndarray | None = None

    def __post_init__(self):
        images = _read_only(self.images)
        if images.dtype != np.uint8 or images.ndim != 3 or 0 in images.shape:
            raise ValueError(f"SampleSet {self.key!r}: images must be (N, H, W) uint8 with N, H, W >= 1, "
                             f"got {images.dtype} {images.shape}")
        labels = tuple(str(label) for label in self.labels)
        if len(labels) != len(images):
            raise ValueError(f"SampleSet {self.key!r}: {len(images)} images but {len(labels)} labels")
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)
        if self.masks is not None:
            masks = _read_only(self.masks)
            if masks.shape[0] != len(images):
                raise ValueError(f"SampleSet {self.key!r}: {len(images)} images but {masks.shape[0]} masks")
            object.__setattr__(self, "masks", masks)

    def __len__(self) -> int:
        return len(self.images)


def _read_only(a: np.ndarray) -> np.ndarray:
    """`a` itself when already read-only, else a read-only copy (never a view others could still write through)."""
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.copy()
        a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class ChosenInput:
    """What the user picked, whichever way: every page starts from one of these.

    source: "draw", "upload" or "sample"; rgb: (H, W, 3) uint8 (None for an empty canvas);
    sample_image: (28, 28) uint8 for the dataset's bundled samples, which are already in MNIST form;
    sample_set: the `SampleSet.key` a page-provided sample came from (its mask: `set.masks[index]`).
    """

    source: str
    name: str
    rgb: np.ndarray | None
    dataset: str | None = None
    index: int | None = None
    label: str | None = None
    full_size: tuple[int, int] | None = None   # (H, W) before `limit_size`, for uploads
    sample_image: np.ndarray | None = None
    sample_set: str | None = None

    @classmethod
    def from_rgb(cls, rgb: np.ndarray, source: str, name: str,
                 full_size: tuple[int, int] | None = None) -> "ChosenInput":
        return cls(source, name, rgb, full_size=full_size or tuple(rgb.shape[:2]))

    @classmethod
    def from_sample(cls, x: np.ndarray, dataset: str, index: int, label: str) -> "ChosenInput":
        """x: (28, 28) uint8 white on black, straight from the bundled test set."""
        return cls("sample", f"{dataset} test image #{index}", np.repeat(x[:, :, None], 3, axis=2),
                   dataset=dataset, index=index, label=label, sample_image=x)

    @classmethod
    def from_sample_set(cls, samples: SampleSet, index: int) -> "ChosenInput":
        """Image `index` (taken modulo the set's size) of a page's own sample set; rgb is (H, W, 3) uint8."""
        index = int(index) % len(samples)
        x = samples.images[index]
        return cls("sample", f"{samples.title} #{index}", np.repeat(x[:, :, None], 3, axis=2),
                   index=index, label=samples.labels[index], sample_set=samples.key)

    @classmethod
    def empty_canvas(cls) -> "ChosenInput":
        return cls("draw", "your drawing", None)


def model_view(choice: ChosenInput) -> MnistStages:
    """The 28×28 model input with every stage. Samples are used exactly as stored (they are MNIST already);
    drawings and uploads go through `mnist_stages`. An empty canvas raises EmptyInputError."""
    if choice.rgb is None:
        raise EmptyInputError(EMPTY_HINT)
    if choice.sample_image is None:
        return mnist_stages(choice.rgb)
    x = choice.sample_image.astype(np.float32) / 255.0
    ys, xs = np.nonzero(x > 0)
    bbox = (int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1) if len(ys) else (0, 0, 28, 28)
    return MnistStages(original=choice.rgb, gray=x, inverted=False, ink=x, bbox=bbox,
                       cropped=x[bbox[0]:bbox[2], bbox[1]:bbox[3]], fitted=x[bbox[0]:bbox[2], bbox[1]:bbox[3]],
                       image=x, shift=(0.0, 0.0))
