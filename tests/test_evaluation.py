"""The user-like disguise is hard enough to matter and the pipeline undoes it."""
import numpy as np

from dlviz import registry
from dlviz.evaluation import classifier_metrics, user_like_image
from dlviz.inputs import mnist_stages


def test_disguised_samples_come_back_close_to_the_original():
    x, _ = registry.load_samples("mnist")
    rng = np.random.default_rng(0)
    corr, light = [], 0
    for digit in x[::50]:
        photo = user_like_image(digit, rng)
        assert photo.shape[0] > 28 * 5 and photo.dtype == np.uint8
        light += photo[0, 0, 0] > 128
        back = mnist_stages(photo).image
        corr.append(np.corrcoef(back.ravel(), digit.ravel() / 255.0)[0, 1])
    assert 0 < light < len(corr)                       # both canvases and photos of paper were made
    assert np.median(corr) > 0.75, np.round(corr, 2)


def test_classifier_metrics_counts():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    m = classifier_metrics(probs, np.array([0, 1, 1]))
    assert m["accuracy"] == round(2 / 3, 4)
    assert m["confusion"] == [[1, 0], [1, 1]]
    assert m["per_class_accuracy"] == [1.0, 0.5]
    assert m["loss"] == round(-np.mean(np.log([0.9, 0.8, 0.4])), 4)


# --------------------------------------------------------------------------- the accuracy functions, with oracles


def bars(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class 0: a tall bar, class 1: a wide bar (28×28 uint8, bright on black), at varied sizes and places."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.uint8)
    y = rng.integers(0, 2, n)
    for i, c in enumerate(y):
        long, short = int(rng.integers(16, 27)), int(rng.integers(4, 8))
        h, w = (long, short) if c == 0 else (short, long)
        top, left = int(rng.integers(0, 28 - h + 1)), int(rng.integers(0, 28 - w + 1))
        x[i, top:top + h, left:left + w] = int(rng.integers(120, 256))
    return x, y


def orientation_oracle(batch: np.ndarray) -> np.ndarray:
    """A classifier written by hand: tall ink -> class 0, wide ink -> class 1 (as one-hot "probabilities")."""
    out = np.zeros((len(batch), 2), np.float32)
    for i, img in enumerate(batch[..., 0]):
        ys, xs = np.nonzero(img > 0.3)
        out[i, 0 if (ys.max() - ys.min()) > (xs.max() - xs.min()) else 1] = 1.0
    return out


def test_user_like_accuracy_sends_disguised_images_through_the_pipeline():
    from dlviz.evaluation import user_like_accuracy

    x, y = bars(60)
    perfect = user_like_accuracy(orientation_oracle, x, y, n=60, seed=1)
    assert perfect["user_like_accuracy"] == 1.0 and perfect["user_like_images"] == 60
    assert perfect["user_like_refused"] == 0
    always_tall = user_like_accuracy(lambda b: np.tile([1.0, 0.0], (len(b), 1)), x, y, n=60, seed=1)
    assert always_tall["user_like_accuracy"] == round(float((y == 0).mean()), 4)   # counted, not estimated


def test_product_photo_accuracy_sends_photos_through_decoding_and_the_fashion_recipe():
    from dlviz.evaluation import product_photo_accuracy

    x, y = bars(40, seed=2)
    perfect = product_photo_accuracy(orientation_oracle, x, y, n=40, seed=3)
    assert perfect["product_photo_accuracy"] == 1.0 and perfect["product_photo_images"] == 40
    assert perfect["product_photo_light_accuracy"] == perfect["product_photo_dark_accuracy"] == 1.0
    always_wide = product_photo_accuracy(lambda b: np.tile([0.0, 1.0], (len(b), 1)), x, y, n=40, seed=3)
    assert always_wide["product_photo_accuracy"] == round(float((y == 1).mean()), 4)


def test_product_photos_are_jpegs_of_the_garment_on_light_and_dark_backdrops():
    from dlviz.evaluation import product_photo
    from dlviz.inputs import decode_image, fashion_stages

    garment = np.zeros((28, 28), np.uint8)
    garment[:, 8:20] = 180                               # a 28×12 "trouser", as Fashion-MNIST stores it
    rng = np.random.default_rng(0)
    for background, corner in (("light", lambda v: v >= 170), ("dark", lambda v: v <= 80)):
        data = product_photo(garment, rng, background)
        assert data[:2] == b"\xff\xd8"                   # a JPEG
        rgb = decode_image(data)
        assert corner(int(rgb[0, 0].mean())) and max(rgb.shape[:2]) >= 60
        back = fashion_stages(rgb).image
        # the recipe undoes the photo: a bright bar about 12 wide, full height, centred
        cols = np.flatnonzero(back.mean(axis=0) > 0.3)
        assert 10 <= cols.size <= 15 and abs(cols.mean() - 13.5) <= 1.5
        assert abs(float(back[3:25, cols].mean()) - 180 / 255) < 0.12
