"""Measuring a classifier: on the official test set, and on test images made to look like users' input.

Users don't send MNIST: they draw thick strokes on a big canvas or photograph ink on paper. `user_like_image`
turns a test digit into such an input (bigger, off-centre, thicker or thinner, often dark on uneven light
paper with noise); sending it back through the app's own pipeline (`dlviz.inputs.mnist_stages`) and the model
measures what a user actually gets. For garments, `product_photo` turns a Fashion-MNIST test image back into
what it was made from, a product photo (on a white or light backdrop, or on a plain dark one), at any size,
position and aspect ratio, unevenly lit, noisy and JPEG-compressed; `product_photo_accuracy` sends those through
the app's decoding and Fashion-MNIST recipe. Every number goes into the manifest.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

from dlviz.inputs import InputError, decode_image, fashion_stages, mnist_stages


def classifier_metrics(probs: np.ndarray, y: np.ndarray) -> dict:
    """Accuracy, loss, per-class accuracy and confusion matrix from predicted probabilities (N, classes)."""
    pred = probs.argmax(1)
    y = np.asarray(y).astype(int)
    n = probs.shape[1]
    confusion = np.zeros((n, n), dtype=int)
    np.add.at(confusion, (y, pred), 1)
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0))))
    return {
        "accuracy": round(float((pred == y).mean()), 4),
        "loss": round(loss, 4),
        "images": int(len(y)),
        "per_class_accuracy": [round(float(confusion[i, i] / max(confusion[i].sum(), 1)), 4) for i in range(n)],
        "confusion": confusion.tolist(),
    }


def user_like_image(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """x: (28, 28) uint8 test image -> (H, W, 3) uint8 that looks like a drawing or a photo of paper."""
    scale = int(rng.integers(5, 12))
    img = Image.fromarray(x).resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)
    width = int(rng.choice([0, 0, 3, 5, 7]))          # thicker pen (max filter) or thinner (min filter)
    if width:
        img = img.filter(ImageFilter.MaxFilter(width) if rng.random() < 0.7 else ImageFilter.MinFilter(3))
    ink = np.asarray(img, dtype=np.float32) / 255.0
    h, w = ink.shape
    canvas_h, canvas_w = int(h * rng.uniform(1.1, 1.8)), int(w * rng.uniform(1.1, 1.8))
    top, left = int(rng.integers(0, canvas_h - h + 1)), int(rng.integers(0, canvas_w - w + 1))
    field = np.zeros((canvas_h, canvas_w), np.float32)
    field[top:top + h, left:left + w] = ink
    if rng.random() < 0.5:                         # a canvas: white strokes on black
        out = field * 255.0
    else:                                          # a photo: dark ink on unevenly lit paper, sensor noise
        yy, xx = np.mgrid[0:canvas_h, 0:canvas_w] / max(canvas_h, canvas_w)
        paper = rng.uniform(170, 240) + rng.uniform(-30, 30) * yy + rng.uniform(-30, 30) * xx
        ink_level = rng.uniform(10, 80)
        out = paper * (1 - field) + ink_level * field + rng.normal(0, 4, field.shape)
    gray = np.clip(out, 0, 255).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)


def user_like_accuracy(predict, x_test: np.ndarray, y_test: np.ndarray, n: int = 2000, seed: int = 0) -> dict:
    """Accuracy on `n` test images disguised by `user_like_image`, through the app's preprocessing.

    predict: (N, 28, 28, 1) float32 -> (N, classes) probabilities.
    """
    rng = np.random.default_rng(seed)
    index = rng.choice(len(x_test), size=min(n, len(x_test)), replace=False)
    images, labels, refused = [], [], 0
    for i in index:
        try:
            images.append(mnist_stages(user_like_image(x_test[i], rng)).image)
            labels.append(int(y_test[i]))
        except InputError:          # e.g. a digit so faint the pipeline calls the image empty: counts as wrong
            refused += 1
    probs = predict(np.stack(images)[..., None].astype("float32"))
    correct = int((probs.argmax(1) == np.array(labels)).sum())
    return {"user_like_accuracy": round(correct / len(index), 4), "user_like_images": int(len(index)),
            "user_like_refused": refused, "user_like_seed": seed}


def product_photo(x: np.ndarray, rng: np.random.Generator, background: str = "light",
                  stretch: float = 0.1) -> bytes:
    """x: (28, 28) uint8 Fashion-MNIST test image -> JPEG bytes of a photo of that garment.

    "light": a product shot, what Fashion-MNIST was made from (Xiao et al. 2017 negated such photos), so the
    garment as photographed is ``255 - x``, on a white to light grey backdrop (200–255), in a random colour of
    the same luma. "dark": the garment as Fashion-MNIST shows it (bright) on a plain dark backdrop (0–50), cut
    out along its own outline, i.e. what the app's white-on-black convention expects (a dark garment on a dark
    cloth cannot be separated from it by anyone).
    Both: upscaled (bicubic) to a random size (long side 60–600 px), its aspect ratio changed by up to
    ±`stretch` (a camera not quite square on: 10 %), at a random position on a backdrop 1.1–1.7× its size in each
    direction independently (so any picture aspect ratio), a lighting gradient (±12 % across the image), sensor
    noise (σ = 3 levels) and JPEG quality 60–95.
    """
    long_side = int(rng.integers(60, 601))
    aspect = float(np.exp(rng.uniform(-1, 1) * np.log1p(stretch)))
    h = max(8, int(round(long_side * min(1.0, 1.0 / aspect))))
    w = max(8, int(round(long_side * min(1.0, aspect))))
    canvas_h, canvas_w = int(h * rng.uniform(1.1, 1.7)), int(w * rng.uniform(1.1, 1.7))
    top, left = int(rng.integers(0, canvas_h - h + 1)), int(rng.integers(0, canvas_w - w + 1))
    tint = rng.uniform(0.75, 1.25, 3).astype(np.float32)
    tint /= float(tint @ np.array([0.299, 0.587, 0.114], np.float32))   # a colour of the same luma

    def big(a: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(a.astype(np.float32)).resize((w, h), Image.Resampling.BICUBIC),
                          np.float32)

    if background == "light":
        level = float(rng.uniform(200, 255))
        garment = np.clip(big(x), 0, 255)
        photo = np.full((canvas_h, canvas_w, 3), level, np.float32)
        colour = np.where(garment[..., None] > 8, tint, np.float32(1.0))
        photo[top:top + h, left:left + w] = (255.0 - garment[..., None]) * (level / 255.0) * colour
    elif background == "dark":
        level = float(rng.uniform(0, 50))
        # x at an edge is the garment's colour mixed with the white it was shot on: x = alpha * (nearby colour).
        nearby = np.asarray(Image.fromarray(x).filter(ImageFilter.MaxFilter(5)), np.float32)
        alpha = np.clip(big(np.divide(x, nearby, out=np.zeros(x.shape, np.float32), where=nearby > 0)), 0, 1)
        colour = np.clip(big(nearby), 0, 255)[..., None] * float(rng.uniform(0.85, 1.0)) * tint
        photo = np.full((canvas_h, canvas_w, 3), level, np.float32)
        region = photo[top:top + h, left:left + w]
        region[:] = region * (1.0 - alpha[..., None]) + colour * alpha[..., None]
    else:
        raise ValueError(f"background must be 'light' or 'dark', got {background!r}")

    yy, xx = np.mgrid[0:canvas_h, 0:canvas_w].astype(np.float32)
    light = 1.0 + rng.uniform(-0.12, 0.12) * (yy / canvas_h - 0.5) + rng.uniform(-0.12, 0.12) * (xx / canvas_w - 0.5)
    photo = photo * light[..., None] + rng.normal(0, 3.0, photo.shape).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.round(photo), 0, 255).astype(np.uint8)).save(buf, "JPEG",
                                                                            quality=int(rng.integers(60, 96)))
    return buf.getvalue()


def product_photo_accuracy(predict, x_test: np.ndarray, y_test: np.ndarray, n: int = 2000, seed: int = 0,
                           recipe=fashion_stages) -> dict:
    """Accuracy on `n` Fashion-MNIST test garments photographed by `product_photo` (half on a light backdrop,
    half on a dark one), decoded by the app's `decode_image` and made into model inputs by `recipe`.

    predict: (N, 28, 28, 1) float32 -> (N, classes) probabilities. Refused images count as wrong.
    """
    rng = np.random.default_rng(seed)
    index = rng.choice(len(x_test), size=min(n, len(x_test)), replace=False)
    results = {}
    for background in ("light", "dark"):
        part = index[: len(index) // 2] if background == "light" else index[len(index) // 2:]
        images, labels, refused = [], [], 0
        for i in part:
            try:
                images.append(recipe(decode_image(product_photo(x_test[i], rng, background))).image)
                labels.append(int(y_test[i]))
            except InputError:
                refused += 1
        correct = 0
        if images:
            probs = predict(np.stack(images)[..., None].astype("float32"))
            correct = int((probs.argmax(1) == np.array(labels)).sum())
        results[background] = (correct, len(part), refused)
    correct = sum(c for c, _, _ in results.values())
    total = sum(t for _, t, _ in results.values())
    return {"product_photo_accuracy": round(correct / max(total, 1), 4),
            "product_photo_light_accuracy": round(results["light"][0] / max(results["light"][1], 1), 4),
            "product_photo_dark_accuracy": round(results["dark"][0] / max(results["dark"][1], 1), 4),
            "product_photo_images": int(total),
            "product_photo_refused": int(sum(r for _, _, r in results.values())),
            "product_photo_seed": seed}
