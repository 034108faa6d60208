"""Measuring a classifier: on the official test set, and on test digits made to look like users' input.

Users don't send MNIST: they draw thick strokes on a big canvas or photograph ink on paper. `user_like_image`
turns a test image into such an input (bigger, off-centre, thicker or thinner, often dark on uneven light
paper with noise); sending it back through the app's own pipeline (`dlviz.inputs.mnist_stages`) and the model
measures what a user actually gets. Both numbers go into the manifest.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from dlviz.inputs import InputError, mnist_stages


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
