"""Semantic segmentation without the model: the digit-scene data set, the metrics, tiling and augmentation.

- Digit scenes: MNIST digits pasted at random positions and scales on a black canvas. Every pixel is labelled
  background (0) or its digit's class + 1, from that digit's own ink (ink >= INK_THRESHOLD). Where two digits
  overlap, the brighter ink wins (the one the composite image shows); on a tie the digit pasted later wins.
  Training scenes are built from MNIST *train* digits only and evaluation scenes from *test* digits only.
- Metrics: confusion counts -> IoU and Dice per class, mean IoU over the digit classes, pixel accuracy, and a
  TP / FP / FN map for one class.
- Tiling: predict a large image (a 512×512 EM slice) tile by tile, with overlapping margins thrown away, so each
  kept pixel saw `margin` pixels of context on every side.
- Augmentation for the EM slices: random crops, flips, 90° rotations and elastic deformation (as in the U-Net
  paper: random displacements on a coarse grid, smoothly interpolated), in numpy.
- Preparing a drawing or an upload for the digit-scene model (grey, white ink on black, digits scaled to
  MNIST size, padded to a multiple of the model's downsampling).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from dlviz.inputs import to_gray
from dlviz.i18n import N_
from dlviz.ops import shrink_for_display

SCENE_SIZE = 64                     # training/evaluation canvases are SCENE_SIZE × SCENE_SIZE
INK_THRESHOLD = 0.5                 # a digit pixel is labelled when its ink is at least this (0..1)
DIGIT_CLASSES = tuple(str(d) for d in range(10))
SCENE_CLASSES = (N_("background"), *DIGIT_CLASSES)      # label k: background (0) or digit k - 1
MEMBRANE_CLASSES = (N_("membrane"), N_("cell interior"))    # the EM masks: 0 membrane, 1 interior
NO_LABEL = 255                      # in a bundled mask: this image has no ground truth (the EM test volume)
SCENE_DIGITS = (1, 5)               # digits per scene (fewer when they do not fit without touching)
SCALES = (0.8, 1.3)                 # a 28×28 MNIST box is pasted at 22..36 pixels
OVERLAP_INK = 0.2                   # digits are placed so that their inks (>= this) do not touch each other
TARGET_INK_HEIGHT = 21              # drawings are scaled so a digit's ink is about this tall (MNIST: ~20 of 28)


# --------------------------------------------------------------------------- digit scenes

@dataclass(frozen=True)
class Scenes:
    """images: (N, H, W) uint8 white ink on black; masks: (N, H, W) uint8 labels in 0..10 (SCENE_CLASSES);
    sources: (N, max_digits) int32 index of each pasted digit in the digit pool it came from, -1 for none."""

    images: np.ndarray
    masks: np.ndarray
    sources: np.ndarray


def _resized(digit: np.ndarray, side: int) -> np.ndarray:
    """A (28, 28) uint8 digit resized to (side, side) float32 in [0, 1] (bilinear)."""
    img = Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.float32) / 255.0


def paste_digits(digits: list[np.ndarray], labels: list[int], boxes: list[tuple[int, int]],
                 shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Compose already-resized digits (each (s, s) float in [0, 1]) at (top, left) positions on a black canvas.

    Returns (image (H, W) float32 = the brightest ink at each pixel, mask (H, W) uint8 = 0 or class + 1 of that
    brightest digit where its ink >= INK_THRESHOLD; ties go to the digit pasted later).
    """
    image = np.zeros(shape, np.float32)
    mask = np.zeros(shape, np.uint8)
    for digit, label, (top, left) in zip(digits, labels, boxes):
        h, w = digit.shape
        region = image[top:top + h, left:left + w]
        wins = digit >= region                       # later digit wins ties
        mask_region = mask[top:top + h, left:left + w]
        mask_region[wins & (digit >= INK_THRESHOLD)] = label + 1
        mask_region[wins & (digit < INK_THRESHOLD)] = 0      # faint ink on top of faint ink: background
        np.maximum(region, digit, out=region)
    return image, mask


def digit_scenes(x: np.ndarray, y: np.ndarray, n: int, seed: int, size: tuple[int, int] = (SCENE_SIZE, SCENE_SIZE),
                 digits: tuple[int, int] = SCENE_DIGITS, scales: tuple[float, float] = SCALES) -> Scenes:
    """`n` scenes from the digit pool (x: (M, 28, 28) uint8, y: (M,) labels), deterministic given `seed`.

    Each scene gets between digits[0] and digits[1] digits (inclusive), each at a random scale and a random
    position fully inside the canvas; a digit whose ink (>= OVERLAP_INK) would touch earlier digits' ink is tried
    elsewhere (up to 20 times), then left out. (Overlaps can still happen through the faintest ink; the labels
    handle them: see `paste_digits`.)
    """
    rng = np.random.default_rng(seed)
    height, width = size
    images = np.zeros((n, height, width), np.uint8)
    masks = np.zeros((n, height, width), np.uint8)
    sources = np.full((n, digits[1]), -1, np.int32)
    for i in range(n):
        wanted = int(rng.integers(digits[0], digits[1] + 1))
        placed, labels, boxes, ink = [], [], [], np.zeros(size, bool)
        for _ in range(wanted):
            index = int(rng.integers(len(x)))
            side = int(round(28 * rng.uniform(*scales)))
            side = min(side, height, width)
            digit = _resized(x[index], side)
            digit_ink = digit >= OVERLAP_INK
            for _attempt in range(20):
                top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
                if not (ink[top:top + side, left:left + side] & digit_ink).any():
                    sources[i, len(placed)] = index
                    placed.append(digit)
                    labels.append(int(y[index]))
                    boxes.append((top, left))
                    ink[top:top + side, left:left + side] |= digit_ink
                    break
        image, masks[i] = paste_digits(placed, labels, boxes, size)
        images[i] = np.round(image * 255).astype(np.uint8)
    return Scenes(images, masks, sources)


def split_seed(seed: int, split: str) -> int:
    """Different random streams for train and test scenes made with the same --seed."""
    return seed * 2 + {"train": 0, "test": 1}[split]


def scenes_from_mnist(mnist, split: str, n: int, seed: int, **kwargs) -> Scenes:
    """Scenes built only from MNIST's `split` digits: mnist = ((x_train, y_train), (x_test, y_test))."""
    (x_train, y_train), (x_test, y_test) = mnist
    x, y = (x_train, y_train) if split == "train" else (x_test, y_test)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return digit_scenes(x, y, n, split_seed(seed, split), **kwargs)


# --------------------------------------------------------------------------- metrics

def confusion(true: np.ndarray, pred: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) int64 pixel counts: row = true class, column = predicted class."""
    true, pred = np.asarray(true).ravel().astype(np.int64), np.asarray(pred).ravel().astype(np.int64)
    if true.shape != pred.shape:
        raise ValueError(f"true and pred differ in size: {true.size} vs {pred.size}")
    return np.bincount(true * classes + pred, minlength=classes * classes).reshape(classes, classes)


def iou_dice(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class from a confusion matrix: IoU = TP / (TP + FP + FN), Dice = 2 TP / (2 TP + FP + FN).
    NaN for a class that appears in neither the truth nor the prediction."""
    tp = np.diag(counts).astype(np.float64)
    fp = counts.sum(axis=0) - tp
    fn = counts.sum(axis=1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(tp + fp + fn > 0, tp / (tp + fp + fn), np.nan)
        dice = np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    return iou, dice


def segmentation_metrics(counts: np.ndarray, names: tuple[str, ...], mean_over: tuple[int, ...] | None = None) -> dict:
    """Pixel accuracy, IoU and Dice per class (by name) and their means over `mean_over` (default: all classes,
    NaN classes left out). Plain floats, ready for the manifest."""
    iou, dice = iou_dice(counts)
    mean_over = tuple(range(len(names))) if mean_over is None else mean_over
    picked = [k for k in mean_over if not np.isnan(iou[k])]
    rnd = lambda v: None if np.isnan(v) else round(float(v), 4)   # noqa: E731
    return {
        "pixel_accuracy": round(float(np.trace(counts) / max(counts.sum(), 1)), 4),
        "iou": {name: rnd(v) for name, v in zip(names, iou)},
        "dice": {name: rnd(v) for name, v in zip(names, dice)},
        "mean_iou": round(float(np.mean(iou[picked])), 4) if picked else None,
        "mean_dice": round(float(np.mean(dice[picked])), 4) if picked else None,
        "pixels": int(counts.sum()),
    }


TN, TP, FP, FN = 0, 1, 2, 3
OUTCOMES = ("true negative", "true positive", "false positive", "false negative")


def outcome_map(true: np.ndarray, pred: np.ndarray, positive: int) -> np.ndarray:
    """(H, W) uint8 per pixel for class `positive`: TN 0, TP 1, FP 2 (predicted, not true), FN 3 (missed)."""
    t, p = np.asarray(true) == positive, np.asarray(pred) == positive
    out = np.full(t.shape, TN, np.uint8)
    out[t & p] = TP
    out[~t & p] = FP
    out[t & ~p] = FN
    return out


# --------------------------------------------------------------------------- tiling

def tile_starts(length: int, tile: int, step: int) -> list[int]:
    """Start offsets of tiles of size `tile` every `step` pixels covering 0..length; the last one ends at length."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def predict_tiled(predict: Callable[[np.ndarray], np.ndarray], image: np.ndarray, tile: int, margin: int) -> np.ndarray:
    """Apply `predict` ((h, w) -> (h, w, C)) to a large (H, W) image in overlapping tiles of tile×tile pixels.

    The image is mirror-padded by `margin` (as in the U-Net paper), tiles are taken every tile - 2·margin pixels,
    and only each tile's centre (its margin thrown away) is kept, so every output pixel saw at least `margin`
    pixels of context on each side. If one tile covers the padded image, this is one call on the padded image.
    """
    if tile <= 2 * margin:
        raise ValueError(f"tile ({tile}) must be larger than twice the margin ({margin})")
    h, w = image.shape
    padded = np.pad(image, margin, mode="reflect") if margin else image
    ph, pw = padded.shape
    th, tw = min(tile, ph), min(tile, pw)
    out = None
    for top in tile_starts(ph, th, th - 2 * margin):
        for left in tile_starts(pw, tw, tw - 2 * margin):
            pred = predict(padded[top:top + th, left:left + tw])
            if out is None:
                out = np.zeros((h, w, pred.shape[-1]), pred.dtype)
            # this tile's centre, in image coordinates (tiles at the edge keep up to the edge)
            out[top:top + th - 2 * margin, left:left + tw - 2 * margin] = \
                pred[margin:th - margin, margin:tw - margin]
    return out


def pad_to_multiple(image: np.ndarray, multiple: int, mode: str = "constant") -> tuple[np.ndarray, tuple[int, int]]:
    """Pad an (H, W) image at the bottom/right so both sides are multiples of `multiple`; returns (padded, (H, W))."""
    h, w = image.shape
    ph, pw = -h % multiple, -w % multiple
    return np.pad(image, ((0, ph), (0, pw)), mode=mode), (h, w)


# --------------------------------------------------------------------------- augmentation (EM slices)

def bilinear_sample(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """image (H, W) sampled at fractional (rows, cols) (any equal shapes), mirrored at the borders."""
    h, w = image.shape

    def mirror(v, n):           # reflect into 0..n-1 ("reflect" mode: -1 -> 1, n -> n-2)
        period = 2 * (n - 1)
        v = np.abs(v) % period
        return np.where(v > n - 1, period - v, v)

    r, c = mirror(rows, h), mirror(cols, w)
    r0, c0 = np.floor(r).astype(np.int64), np.floor(c).astype(np.int64)
    r1, c1 = np.minimum(r0 + 1, h - 1), np.minimum(c0 + 1, w - 1)
    fr, fc = r - r0, c - c0
    img = image.astype(np.float32)
    top = img[r0, c0] * (1 - fc) + img[r0, c1] * fc
    bottom = img[r1, c0] * (1 - fc) + img[r1, c1] * fc
    return (top * (1 - fr) + bottom * fr).astype(np.float32)


ELASTIC_GRID, ELASTIC_SIGMA = 3, 6.0   # the paper: 10 pixels on a 3×3 grid of its 572-pixel tiles; ours are 160


def elastic_field(shape: tuple[int, int], rng: np.random.Generator, grid: int = ELASTIC_GRID,
                  sigma: float = ELASTIC_SIGMA
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Smooth random displacements (d_rows, d_cols), each (H, W): Gaussian (std `sigma` pixels) on a grid×grid
    coarse grid, interpolated bicubically in between."""
    h, w = shape
    fields = []
    for _ in range(2):
        coarse = rng.normal(0.0, sigma, (grid, grid)).astype(np.float32)
        fields.append(np.asarray(Image.fromarray(coarse, mode="F").resize((w, h), Image.Resampling.BICUBIC)))
    return fields[0], fields[1]


def elastic_deform(image: np.ndarray, mask: np.ndarray | None, rng: np.random.Generator, grid: int = ELASTIC_GRID,
                   sigma: float = ELASTIC_SIGMA) -> tuple[np.ndarray, np.ndarray | None]:
    """The same smooth random deformation of an image (H, W) (bilinear) and its {0, 1} mask (bilinear, then >= 0.5)."""
    d_rows, d_cols = elastic_field(image.shape, rng, grid, sigma)
    rows, cols = np.mgrid[0:image.shape[0], 0:image.shape[1]].astype(np.float32)
    rows, cols = rows + d_rows, cols + d_cols
    warped = bilinear_sample(image, rows, cols)
    warped_mask = None if mask is None else (bilinear_sample(mask, rows, cols) >= 0.5).astype(np.uint8)
    return warped, warped_mask


def membrane_crops(images: np.ndarray, masks: np.ndarray, n: int, crop: int, rng: np.random.Generator,
                   elastic: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """n augmented crops: a random slice, a random crop (taken with a border so the deformation has real pixels
    to pull in), a random flip and 90° rotation, an elastic deformation. images (S, H, W) uint8, masks {0, 1}.
    Returns x (n, crop, crop, 1) float32 in [0, 1] and y (n, crop, crop, 1) float32 in {0, 1}."""
    s, h, w = images.shape
    border = 16 if elastic else 0
    big = crop + 2 * border
    x = np.zeros((n, crop, crop, 1), np.float32)
    y = np.zeros((n, crop, crop, 1), np.float32)
    for i in range(n):
        k = int(rng.integers(s))
        top, left = int(rng.integers(0, h - big + 1)), int(rng.integers(0, w - big + 1))
        img = images[k, top:top + big, left:left + big].astype(np.float32) / 255.0
        msk = masks[k, top:top + big, left:left + big]
        turns, flip = int(rng.integers(4)), bool(rng.integers(2))
        img, msk = np.rot90(img, turns), np.rot90(msk, turns)
        if flip:
            img, msk = img[:, ::-1], msk[:, ::-1]
        if elastic:
            img, msk = elastic_deform(np.ascontiguousarray(img), np.ascontiguousarray(msk), rng)
        x[i, ..., 0] = img[border:border + crop, border:border + crop]
        y[i, ..., 0] = msk[border:border + crop, border:border + crop]
    return x, y


# --------------------------------------------------------------------------- the user's input

@dataclass(frozen=True)
class PreparedScene:
    """A drawing/upload made ready for the digit-scene model.

    gray: (H, W) float32 in [0, 1], the upload/drawing as grey; inverted: the background was light and was
    inverted; scale: resize factor applied; image: (h, w) float32 white ink on black at model scale, with a black
    margin, padded to a multiple of the model's downsampling; size: (h, w) before that last padding.
    """

    gray: np.ndarray
    inverted: bool
    scale: float
    image: np.ndarray
    size: tuple[int, int]


def ink_height(ink: np.ndarray, threshold: float = 0.3) -> int:
    """Typical height of a digit in an (H, W) white-on-black image: the median height of the ink columns' runs
    is noisy, so use the rows spanned by ink in each group of touching columns, and take the tallest group."""
    cols = (ink >= threshold).any(axis=0)
    best, start = 0, None
    for c, on in enumerate(np.append(cols, False)):
        if on and start is None:
            start = c
        elif not on and start is not None:
            rows = np.flatnonzero((ink[:, start:c] >= threshold).any(axis=1))
            best = max(best, int(rows[-1] - rows[0] + 1))
            start = None
    return best


def prepare_digit_scene(rgb: np.ndarray, multiple: int, target_height: int = TARGET_INK_HEIGHT,
                        max_side: int = 512, margin: int = 6) -> PreparedScene:
    """(H, W, 3) or (H, W) uint8 -> model input for the digit-scene model: grey, white ink on black (inverted if
    the background is light), background pulled to 0, scaled so the tallest digit is about `target_height` pixels
    (MNIST-like), at most `max_side` pixels per side, a black `margin` all round (digits drawn up to the canvas
    edge get some room, as in the training scenes), padded with black to a multiple of `multiple`."""
    gray = to_gray(rgb)
    inverted = bool(np.median(gray) > 0.5)
    ink = 1.0 - gray if inverted else gray
    background = float(np.median(ink))
    ink = np.clip((ink - background) / max(float(ink.max()) - background, 1e-6), 0.0, 1.0)
    height = ink_height(ink)
    scale = target_height / height if height else 1.0
    scale = min(scale, max_side / max(ink.shape))
    h, w = max(1, round(ink.shape[0] * scale)), max(1, round(ink.shape[1] * scale))
    small = np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize((w, h), Image.Resampling.BILINEAR
                                                                                if scale >= 0.5 else
                                                                                Image.Resampling.BOX))
    small = np.pad(np.clip(small, 0.0, 1.0).astype(np.float32), margin)
    padded, size = pad_to_multiple(small, multiple)
    return PreparedScene(gray=gray, inverted=inverted, scale=float(scale), image=padded, size=size)


def prepare_membrane(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) or (H, W) uint8 EM image -> (H, W) float32 in [0, 1] as the membrane model was trained."""
    return to_gray(rgb)


# --------------------------------------------------------------------------- running a trained segmenter

@dataclass(frozen=True)
class MapPreview:
    """What a page draws of one level's feature maps: the first channels, block-averaged to a small side; `shape`
    is the level's full (h, w, channels)."""

    shown: np.ndarray
    shape: tuple[int, int, int]


def preview_maps(maps: dict[str, np.ndarray], side: int = 128, channels: int = 16) -> dict[str, MapPreview]:
    """The feature maps a page keeps between reruns: a 512×512 membrane slice's nine levels are 30.5 MB in full,
    ~2 MB as previews. Every session keeps its page's arguments (Streamlit stores a fragment's arguments for its
    reruns): with 20 sessions on EM slices, full maps were ~0.6 GB of the server's memory."""
    # a copy, never a view: a view would keep the full map alive
    return {name: MapPreview(np.array(shrink_for_display(m[..., :channels], side), np.float32), tuple(m.shape))
            for name, m in maps.items()}


@dataclass(frozen=True)
class Segmentation:
    """One forward pass. probs: (H, W, C) class probabilities (binary models: C = 2, [membrane, cell interior]);
    maps: {level name: (h, w, channels)} feature maps along the contracting and expanding paths."""

    probs: np.ndarray
    maps: dict[str, np.ndarray]

    def without_maps(self) -> "Segmentation":
        return Segmentation(self.probs, {})

    def labels(self, threshold: float | None = None) -> np.ndarray:
        """(H, W) uint8 most likely class; a binary model's class 1 where P(class 1) >= threshold (default 0.5)."""
        if self.probs.shape[-1] == 2 and threshold is not None:
            return (self.probs[..., 1] >= threshold).astype(np.uint8)
        return self.probs.argmax(-1).astype(np.uint8)


class Segmenter:
    """A trained U-Net / no-skip model made fast for interactive use.

    ONE XLA-compiled function per model serves every input and every combination of switched-off skips (the
    skips are multiplied by a `skip_gates` input). Streamlit's per-rerun `keras.backend.clear_session()` throws
    away TensorFlow's plain function kernels (measured: a 64×128 scene 17 ms -> 1.1 s after it) but not XLA's
    compiled executables (54 ms). XLA compiles once per input shape, so inputs are padded up to a multiple of
    `bucket` pixels: a handful of shapes, each compiled once per server (`warm` shapes at start-up).
    """

    def __init__(self, model, bucket: int = 64, warm: tuple[tuple[int, int], ...] = ()):
        from dlviz.models.unet import segmenter_views, skip_levels

        self.model = model
        self.classes = int(model.output_shape[-1])
        self.binary = self.classes == 1
        self.depth = sum(1 for layer in model.layers if layer.name.startswith("pool"))
        self.multiple = 2 ** self.depth
        self.bucket = max(bucket, self.multiple)
        self.skip_levels = skip_levels(model)
        views = segmenter_views(model, gated=bool(self.skip_levels))
        self.map_names: list[str] = views.map_names
        self._call = self._compile(views)
        for shape in warm or ((self.bucket, self.bucket),):
            self.run(np.zeros(shape, np.float32))

    def _compile(self, views):
        import tensorflow as tf

        image = tf.TensorSpec((1, None, None, 1), tf.float32)
        if self.skip_levels:
            signature = [image, tf.TensorSpec((1, self.depth), tf.float32)]
            plain = lambda x, g: views([x, g], training=False)     # noqa: E731
        else:
            signature = [image]
            plain = lambda x: views(x, training=False)             # noqa: E731
        fn = tf.function(plain, jit_compile=True, input_signature=signature)
        args = [tf.zeros((1, self.bucket, self.bucket, 1))] + ([tf.ones((1, self.depth))] if self.skip_levels else [])
        try:
            fn(*args)
        except Exception:       # no XLA here: a plain graph function (slower after clear_session, still right)
            fn = tf.function(plain, input_signature=signature)
        return fn

    def run(self, image: np.ndarray, disabled=(), maps: bool = True, context: int = 0,
            pad: str = "reflect") -> Segmentation:
        """image: (H, W) float32 in [0, 1] -> Segmentation with (H, W, C) probabilities.

        disabled: skip levels replaced by zeros (U-Net only).
        context: mirror-pad every side by this many pixels first (as the membrane model's tiles were), so pixels
        near the border see plausible surroundings instead of zeros; the outputs are cropped back to (H, W).
        pad: how the image is extended to the bucket size: "reflect" (EM slices) or "constant" (digit scenes:
        black around the drawing)."""
        h, w = image.shape
        if context:
            image = np.pad(image, context, mode="reflect" if min(h, w) > context else "constant")
        ph, pw = image.shape
        extra = ((0, -ph % self.bucket), (0, -pw % self.bucket))
        padded = np.pad(image, extra, mode=pad if pad == "constant" or min(ph, pw) > max(extra[0][1], extra[1][1])
                        else "constant")
        x = padded[None, :, :, None].astype(np.float32)
        if self.skip_levels:
            gates = np.ones((1, self.depth), np.float32)
            gates[0, list(disabled)] = 0.0
            outs = self._call(x, gates)
        elif disabled:
            raise ValueError("this model has no skip connections to switch off")
        else:
            outs = self._call(x)
        logits = np.asarray(outs[0][0])[context:context + h, context:context + w].astype(np.float64)
        if self.binary:
            p = 1.0 / (1.0 + np.exp(-logits[..., 0]))
            probs = np.stack([1.0 - p, p], axis=-1)
        else:
            e = np.exp(logits - logits.max(-1, keepdims=True))
            probs = e / e.sum(-1, keepdims=True)
        level_maps = {}
        if maps:
            for name, out in zip(self.map_names, outs[1:]):
                out = np.asarray(out[0])
                f = padded.shape[0] // out.shape[0]
                top = context // f
                level_maps[name] = out[top:top + max(1, -(-h // f)), top:top + max(1, -(-w // f))]
        return Segmentation(probs.astype(np.float32), level_maps)
