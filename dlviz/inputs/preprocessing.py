"""Per-dataset preprocessing: any RGB image -> the 28×28 input its model expects, with every stage kept.

Each dataset was made by its own recipe, and a model only understands inputs made the same way:

* **MNIST** (digits): crop to the ink, fit into 20×20 keeping the aspect ratio, put the centre of mass at the
  centre of 28×28 (LeCun et al.). `mnist_stages`.
* **Fashion-MNIST** (garments): product photos on a white background, trimmed to the garment, the longest side
  resized to 28, centred, then negated so the background is black (Xiao et al. 2017). `fashion_stages`: a photo
  on a white or light background is negated the same way (dark parts of the garment become bright); a garment on
  a plain dark background, or drawn white on black, is already the right way round and only has its background
  removed.

`preprocess(rgb, dataset)` picks the recipe. Only an input with nothing in it raises `EmptyInputError`: an image
without a clear object (a landscape, a texture) still gets a 28×28 view (the whole picture shrunk) and a `note`
saying it looks unlike the training data.

Only numpy and Pillow are used; this module must not import streamlit or keras.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from dlviz.i18n import N_, t
from dlviz.inputs.decoding import EmptyInputError, check_uint8_image, limit_size

__all__ = [
    "Stages",
    "MnistStages",
    "mnist_stages",
    "fashion_stages",
    "preprocess",
    "PREPROCESSORS",
    "RECIPES",
    "to_gray",
]

# MNIST geometry: digits were fitted into a 20x20 box, then translated (by whole pixels)
# so that the centre of mass sits at pixel (14, 14) of the 28x28 field. Checked on the
# real test set: every digit's non-zero bounding box has a long side of exactly 20 and
# its centre of mass lies in [13.5, 14.5] on both axes.
MNIST_SIZE = 28
MNIST_BOX = 20
MNIST_COM = 14.0
# Fashion-MNIST geometry: the garment's longest side is 28 (1977 of the first 2000 test images, the rest 27) and
# its bounding box is centred, an odd margin's extra pixel above / to the left (mean centre (13.6, 13.7)).
FASHION_SIZE = 28

# The recipes work on at most this many pixels a side: the 28×28 result is the same, and a 1024-px upload costs
# a quarter of the time (``Stages.gray``, ``.ink`` and ``.bbox`` are at this working size; ``.original`` is as given).
WORK_SIDE = 512

# Ink with less contrast than this against its local background (0..1) counts as nothing.
_MIN_CONTRAST = 0.08
# The threshold may never fall below this, so a perfectly flat background stays exactly 0
# while MNIST's faintest anti-aliasing (1/255) survives.
_NOISE_FLOOR = 0.5 / 255.0
# Border pixels further than this many robust sigmas from the fitted background are noise.
_NOISE_SIGMAS = 4.0
# End runs of rows/columns holding less than this share of the ink are treated as specks.
_SPECK_MASS = 0.04
# An object whose box spans this share of both sides of a larger image is probably a scene, not one object.
_SCENE_SPAN = 0.95

RECIPES = {
    "mnist": N_("your input in grey, cleaned and cropped to the ink, then fitted into 20×20 and centred by its "
                "centre of mass in 28×28, the way MNIST was made"),
    "fashion": N_("your input in grey with the background removed (a photo on a light background is negated, so "
                  "the garment's dark parts become bright), cropped to the garment, its longest side resized to 28 "
                  "and centred in 28×28, the way Fashion-MNIST was made"),
}

UNLIKE_TRAINING = N_("This does not look like the training data: no single {thing} stands out from a plain "
                     "background, so the model sees {what}. Expect a guess, not a recognition.")
_THING = {"mnist": N_("digit"), "fashion": N_("garment")}


def _unlike(thing: str, what: str) -> str:
    return t(UNLIKE_TRAINING, thing=t(thing), what=t(what))


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3) uint8`` RGB -> ``(H, W) float32`` in [0, 1], ITU-R 601 luma.

    An ``(H, W) uint8`` gray image is accepted and only rescaled.
    """
    arr = check_uint8_image(rgb, "to_gray")
    if arr.ndim == 2:
        return arr.astype(np.float32) / np.float32(255.0)
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32) / np.float32(255.0)
    return np.clip(arr.astype(np.float32) @ weights, 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True, eq=False)
class Stages:
    """Every stage of turning an image into a model input (for "what the model sees").

    Attributes:
        original: ``(H, W, 3)`` (or ``(H, W)``) uint8, exactly as given.
        gray: ``(h, w)`` float32 in [0, 1], luma of ``original`` shrunk to at most ``WORK_SIDE`` a side.
        inverted: True when the background was light and the image was negated.
        ink: ``(h, w)`` float32 in [0, 1], the object white on black, background removed to 0.
        bbox: ``(top, left, bottom, right)``, bottom/right exclusive, of the object in ``ink``
            coordinates (isolated specks ignored).
        cropped: ``(bottom - top, right - left)`` float32, ``ink[top:bottom, left:right]``.
        fitted: ``(h, w)`` float32 in [0, 1], the crop resized: long side 20 (MNIST) or 28 (Fashion-MNIST).
        image: ``(28, 28)`` float32 in [0, 1], the model input.
        shift: ``(dy, dx)`` in pixels: where ``fitted`` was placed in ``image`` relative to
            plain geometric centring (MNIST: so the centre of mass lands on (14, 14); Fashion: 0).
        dataset: the recipe used ("mnist" or "fashion").
        note: None, or a sentence for the user when the input looks unlike the training data.
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
    dataset: str = "mnist"
    note: str | None = None

    @property
    def recipe(self) -> str:
        """One sentence: how this input was made into the model input."""
        return RECIPES[self.dataset]

    def panels(self) -> list[tuple[str, np.ndarray]]:
        """(title, image) pairs for the "what the model sees" strip, left to right."""
        first = self.original if self.original.ndim == 3 else self.original / 255.0
        what = t("garment") if self.dataset == "fashion" else t("ink only")
        return [(t("input"), first),
                (t("grey, inverted") if self.inverted else t("grey"), 1.0 - self.gray if self.inverted else self.gray),
                (what, self.ink),
                (t("crop {h}×{w}", h=self.cropped.shape[0], w=self.cropped.shape[1]), _pad_square(self.cropped)),
                (t("model input"), self.image)]


MnistStages = Stages        # the name callers used before Fashion-MNIST had its own recipe


# --------------------------------------------------------------------------- shared steps


def _pad_square(img: np.ndarray) -> np.ndarray:
    """Centre a (h, w) image on a black square, so strips of panels can show it without distortion."""
    h, w = img.shape
    n = max(h, w)
    out = np.zeros((n, n), dtype=img.dtype)
    out[(n - h) // 2:(n - h) // 2 + h, (n - w) // 2:(n - w) // 2 + w] = img
    return out


def _empty_image_error() -> EmptyInputError:
    return EmptyInputError(
        t("Nothing to recognise yet: the image is blank (one flat colour, or only faint noise). "
          "Draw on the canvas, or upload an image with a clearly visible object.")
    )


def _border_mask(height: int, width: int) -> np.ndarray:
    band = max(1, min(height, width) // 20)
    mask = np.zeros((height, width), dtype=bool)
    mask[:band, :] = mask[-band:, :] = True
    mask[:, :band] = mask[:, -band:] = True
    return mask


def _least_squares(design: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Coefficients minimising |design @ c - values|², from the 6×6 normal equations (the terms are scaled to
    [-1, 1], so they are well conditioned; `np.linalg.lstsq` on the tall matrix is ~20× slower here)."""
    gram = design.T @ design
    try:
        return np.linalg.solve(gram, design.T @ values)
    except np.linalg.LinAlgError:       # degenerate sample layout (a 1-pixel-wide image): plain least squares
        return np.linalg.lstsq(design, values, rcond=None)[0]


def _fit_background(gray: np.ndarray, side: int = 0) -> tuple[np.ndarray, float]:
    """Smooth background model from the border band, robust to ink touching the border.

    A quadratic surface fitted only to border pixels follows lighting gradients and
    vignetting of photographed paper, yet cannot "learn" the digit in the middle.

    side: 0 rejects outliers on both sides of the surface; +1 when the background is known to be the dark side
    (an object brighter than it may cover much of the border, as garments that fill the frame do), -1 when it is
    the light side: the fit then starts from the border's darkest (lightest) quarter and only rejects pixels
    brighter (darker) than the surface.

    Returns:
        background: ``(H, W)`` float32, the estimated background level.
        sigma: robust standard deviation of the border around that surface (noise).
    """
    height, width = gray.shape
    border = _border_mask(height, width)
    ys, xs = np.nonzero(border)
    step = max(1, ys.size // 4000)  # plenty of samples for 6 coefficients
    ys, xs = ys[::step], xs[::step]
    values = gray[ys, xs].astype(np.float64)

    def terms(y: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
        ny = 2.0 * y / max(height - 1, 1) - 1.0
        nx = 2.0 * x / max(width - 1, 1) - 1.0
        return [np.ones_like(ny), nx, ny, nx * ny, nx * nx, ny * ny]

    design = np.stack(terms(ys.astype(np.float64), xs.astype(np.float64)), axis=1)
    coef = np.zeros(design.shape[1])
    if side == 0:
        keep = np.ones(values.size, dtype=bool)
        coef[0] = float(np.median(values))
    else:
        coef[0] = float(np.quantile(values, 0.25 if side > 0 else 0.75))
        keep = (values <= coef[0]) if side > 0 else (values >= coef[0])
    for _ in range(4 if side == 0 else 6):
        if keep.sum() >= design.shape[1]:
            coef = _least_squares(design[keep], values[keep])
        residual = values - design @ coef
        mad = float(np.median(np.abs(residual[keep] - np.median(residual[keep]))))
        limit = max(3.0 * 1.4826 * mad, 2.0 / 255.0)
        if side == 0:
            new_keep = np.abs(residual) <= limit
        else:
            new_keep = side * residual <= limit
        too_few = new_keep.sum() < max(design.shape[1], values.size // (4 if side == 0 else 8))
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


def _fit_box(cropped: np.ndarray, box: int) -> np.ndarray:
    """Resize so the long side is exactly `box`, keeping the aspect ratio."""
    height, width = cropped.shape
    scale = box / max(height, width)
    new_h = box if height >= width else min(box, max(1, round(height * scale)))
    new_w = box if width >= height else min(box, max(1, round(width * scale)))
    if (new_h, new_w) == (height, width):
        return cropped.astype(np.float32, copy=True)
    # BOX averages exactly the covered area when shrinking (MNIST's soft grey edges);
    # BILINEAR avoids Lanczos ringing when a small crop has to grow.
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    resized = Image.fromarray(np.ascontiguousarray(cropped, dtype=np.float32)).resize(
        (new_w, new_h), resample
    )
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _paste(fitted: np.ndarray, row: int, col: int, size: int) -> tuple[np.ndarray, tuple[float, float]]:
    """`fitted` pasted at (row, col) into a black size×size image, and its offset from the exact centre."""
    h, w = fitted.shape
    image = np.zeros((size, size), dtype=np.float32)
    image[row:row + h, col:col + w] = fitted
    return image, (row - (size - h) / 2, col - (size - w) / 2)


def _centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    mass = float(img.sum())
    if mass <= 0:
        return (img.shape[0] - 1) / 2, (img.shape[1] - 1) / 2
    cy = float(img.sum(axis=1) @ np.arange(img.shape[0])) / mass
    cx = float(img.sum(axis=0) @ np.arange(img.shape[1])) / mass
    return cy, cx



# --------------------------------------------------------------------------- MNIST


def _robust_spread(gray: np.ndarray) -> float:
    """How much the image varies at all: 99.5th minus 0.5th percentile of its grey levels."""
    step = max(1, gray.size // 200_000)
    lo, hi = np.percentile(gray.ravel()[::step], [0.5, 99.5])
    return float(hi - lo)


def _whole_picture(gray: np.ndarray, background: np.ndarray, inverted: bool) -> np.ndarray:
    """Fallback "ink" when no object stands out: the whole picture, polarity fixed, stretched to [0, 1]."""
    level = (background - gray) if inverted else (gray - background)
    lo, hi = np.percentile(level, [1, 99.5])
    if hi <= lo:
        raise _empty_image_error()
    return np.clip((level - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def _scene_note(bbox: tuple[int, int, int, int], shape: tuple[int, int], dataset: str) -> str | None:
    top, left, bottom, right = bbox
    height, width = shape
    if max(height, width) > 2 * MNIST_SIZE and (bottom - top) >= _SCENE_SPAN * height \
            and (right - left) >= _SCENE_SPAN * width:
        return _unlike(_THING[dataset], N_("everything in the picture, shrunk to 28×28"))
    return None


def mnist_stages(rgb: np.ndarray) -> Stages:
    """Preprocess any image the way MNIST was made, keeping every intermediate stage.

    Steps: luma; invert when the background is light; remove the background (a smooth
    surface fitted to the border, then a noise/Otsu hysteresis threshold) and stretch the
    ink to 1; crop to the ink (ignoring detached specks); fit into 20x20 keeping the aspect
    ratio; paste into 28x28 with a whole-pixel shift that puts the centre of mass at
    (14, 14). An MNIST digit (already 28x28, white on black, centred) comes back unchanged
    up to a ~0.002 intensity offset.

    An image with contrast but no ink standing out (a photo of a landscape, a texture) is
    shrunk whole instead, with a ``note``.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB (or ``(H, W)`` uint8 gray), at most ~1024 px a side
            (``decode_image`` already shrinks uploads to that).

    Returns:
        Stages; ``.image`` is ``(28, 28) float32`` in [0, 1].

    Raises:
        EmptyInputError: a blank input (one flat colour, or only faint noise).
    """
    original = check_uint8_image(rgb, "mnist_stages")
    gray = to_gray(limit_size(original, WORK_SIDE))
    note = None
    try:
        ink, inverted = _clean_ink(gray)
        if not (ink > 0).any():
            raise _empty_image_error()
        top, left, bottom, right = _ink_bbox(ink)
    except EmptyInputError:
        if _robust_spread(gray) < _MIN_CONTRAST:
            raise
        background, sigma = _fit_background(gray)
        inverted = _light_background(gray, gray - background, sigma)
        ink = _whole_picture(gray, background, inverted)
        top, left, bottom, right = 0, 0, gray.shape[0], gray.shape[1]
        note = _unlike("digit", N_("the whole picture, shrunk to 20×20"))
    note = note or _scene_note((top, left, bottom, right), gray.shape, "mnist")

    cropped = ink[top:bottom, left:right].copy()
    fitted = _fit_box(cropped, MNIST_BOX)

    h, w = fitted.shape
    cy, cx = _centre_of_mass(fitted)
    # floor(x + 0.5) rather than round(): no banker's rounding, so ties always go one way.
    row = min(max(int(math.floor(MNIST_COM - cy + 0.5)), 0), MNIST_SIZE - h)
    col = min(max(int(math.floor(MNIST_COM - cx + 0.5)), 0), MNIST_SIZE - w)
    image, shift = _paste(fitted, row, col, MNIST_SIZE)

    return Stages(
        original=rgb,
        gray=gray,
        inverted=bool(inverted),
        ink=ink,
        bbox=(int(top), int(left), int(bottom), int(right)),
        cropped=cropped,
        fitted=fitted,
        image=image,
        shift=(float(shift[0]), float(shift[1])),
        dataset="mnist",
        note=note,
    )


# --------------------------------------------------------------------------- Fashion-MNIST


def _connected_to(seed: np.ndarray, mask: np.ndarray, grid: int = 96) -> np.ndarray:
    """The parts of boolean `mask` connected to `seed` (a flood fill from the seed inside the mask).

    Computed on a coarse grid of at most `grid` cells a side (a cell counts when a quarter of its pixels are in
    `mask`), so gaps narrower than a cell do not separate parts, isolated noise pixels do not connect anything,
    and the fill takes at most ~`grid`² steps of tiny arrays.
    """
    height, width = mask.shape
    f = max(1, math.ceil(max(height, width) / grid))
    gh, gw = math.ceil(height / f), math.ceil(width / f)

    def share(a: np.ndarray) -> np.ndarray:
        padded = np.zeros((gh * f, gw * f), dtype=np.float32)
        padded[:height, :width] = a
        return padded.reshape(gh, f, gw, f).mean(axis=(1, 3))

    # A cell belongs to the object when a fair share of it is above the noise: scattered noise pixels, however
    # many, never chain cells together across the background.
    grown = share(seed & mask) > 0
    allowed = (share(mask) >= 0.25) | grown
    while True:
        bigger = _dilate(grown, 1) & allowed
        if np.array_equal(bigger, grown):
            break
        grown = bigger
    return mask & np.repeat(np.repeat(grown, f, axis=0), f, axis=1)[:height, :width]


def _garment(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """Gray image -> (the garment white on black with the background exactly 0, negated?), or raise
    EmptyInputError when nothing stands out.

    Light background (a product shot, what Fashion-MNIST was made from): each pixel becomes the share of the
    background's light it takes away, ``1 - gray / background``: Fashion-MNIST's negation, with the background
    level fitted to the border so a grey or unevenly lit backdrop also ends at 0. Dark background (a garment on
    a plain dark cloth, or drawn white on black): the garment is already bright; its brightness above the
    background is kept. Levels are not stretched: a light garment stays faint, as in Fashion-MNIST. A hysteresis
    threshold removes noise and stains: pixels above Otsu's split are surely the garment, and weaker ones (above
    the noise) are kept where they are connected to those, however faint (the pale body of a white shirt).
    """
    background, sigma = _fit_background(gray)
    negated = _light_background(gray, gray - background, sigma)
    background, sigma = _fit_background(gray, side=-1 if negated else 1)
    residual = gray - background
    if negated:
        value = 1.0 - gray / np.maximum(background, 0.05)
    else:
        value = residual / np.maximum(1.0 - background, 0.05)
    border = value[_border_mask(*gray.shape)]
    noise = 1.4826 * float(np.median(np.abs(border - np.median(border))))
    weak_level = max(_NOISE_SIGMAS * noise, _NOISE_FLOOR)
    positive = np.clip(value, 0.0, 1.0)
    strong_level = max(_otsu(positive), weak_level)
    strong = positive > strong_level
    if not strong.any() or float(np.percentile(positive[strong], 95)) - weak_level < _MIN_CONTRAST:
        raise _empty_image_error()
    keep = _connected_to(strong, positive > weak_level)
    garment = np.clip((positive - weak_level) / (1.0 - weak_level), 0.0, 1.0) * keep
    return garment.astype(np.float32), negated


def fashion_stages(rgb: np.ndarray) -> Stages:
    """Preprocess any image the way Fashion-MNIST was made, keeping every intermediate stage.

    Steps (Xiao et al. 2017, who trimmed product photos to the garment, resized the longest edge to 28, centred
    the result and negated it): luma; the garment white on black (see `_garment`: negated on a light
    background); crop to it (ignoring detached specks); resize the longest side to 28 keeping the aspect ratio;
    centre in 28×28. A Fashion-MNIST test image comes back unchanged up to a small intensity offset.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB (or ``(H, W)`` uint8 gray), at most ~1024 px a side.

    Returns:
        Stages; ``.image`` is ``(28, 28) float32`` in [0, 1].

    Raises:
        EmptyInputError: a blank input (one flat colour, or only faint noise).
    """
    original = check_uint8_image(rgb, "fashion_stages")
    gray = to_gray(limit_size(original, WORK_SIDE))
    if _robust_spread(gray) < _MIN_CONTRAST:
        raise _empty_image_error()
    try:
        ink, inverted = _garment(gray)
        top, left, bottom, right = _ink_bbox(ink)
        note = _scene_note((top, left, bottom, right), gray.shape, "fashion")
    except EmptyInputError:
        background, sigma = _fit_background(gray)
        inverted = _light_background(gray, gray - background, sigma)
        ink = _whole_picture(gray, background, inverted)
        top, left, bottom, right = 0, 0, gray.shape[0], gray.shape[1]
        note = _unlike("garment", N_("the whole picture, shrunk to 28×28"))

    cropped = ink[top:bottom, left:right].copy()
    fitted = _fit_box(cropped, FASHION_SIZE)
    h, w = fitted.shape
    # An odd margin puts its extra pixel above / to the left, as in Fashion-MNIST (checked on the test set).
    row, col = (FASHION_SIZE - h + 1) // 2, (FASHION_SIZE - w + 1) // 2
    image, shift = _paste(fitted, row, col, FASHION_SIZE)
    return Stages(
        original=rgb,
        gray=gray,
        inverted=bool(inverted),
        ink=ink,
        bbox=(int(top), int(left), int(bottom), int(right)),
        cropped=cropped,
        fitted=fitted,
        image=image,
        shift=(float(shift[0]), float(shift[1])),
        dataset="fashion",
        note=note,
    )


PREPROCESSORS = {"mnist": mnist_stages, "fashion": fashion_stages}


def preprocess(rgb: np.ndarray, dataset: str) -> Stages:
    """The recipe of `dataset` ("mnist" or "fashion") applied to `rgb`; see `mnist_stages`, `fashion_stages`."""
    try:
        recipe = PREPROCESSORS[dataset]
    except KeyError:
        raise ValueError(f"no preprocessing for dataset {dataset!r}; known: {', '.join(PREPROCESSORS)}") from None
    return recipe(rgb)
