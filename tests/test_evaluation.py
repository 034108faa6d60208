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
