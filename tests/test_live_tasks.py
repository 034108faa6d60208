"""The live tasks themselves (a few real training steps each): deterministic given a seed, they learn, live
settings reach them, and the numpy helpers (pixel shuffle, drawn points, modes covered) do what they say."""
import numpy as np
import pytest

from dlviz.live import cnn, gan2d, latent
from dlviz.live.data import load_live_data


def losses(task, steps):
    return [task.step() for _ in range(steps)]


@pytest.fixture(scope="module")
def data():
    return load_live_data("mnist")


def test_bundled_subsets_are_class_balanced_uint8(data):
    assert data["x_train"].shape == (2000, 28, 28) and data["x_test"].shape == (500, 28, 28)
    assert data["x_train"].dtype == np.uint8
    assert np.bincount(data["y_train"]).tolist() == [200] * 10
    assert np.bincount(data["y_test"]).tolist() == [50] * 10


def test_pixel_shuffle_is_one_fixed_permutation_of_the_pixels(data):
    perm = cnn.pixel_permutation()
    np.testing.assert_array_equal(perm, cnn.pixel_permutation())
    images = data["x_train"][:3]
    shuffled = cnn.shuffle_pixels(images, perm)
    assert not np.array_equal(shuffled, images)
    np.testing.assert_array_equal(np.sort(shuffled.reshape(3, -1), 1), np.sort(images.reshape(3, -1), 1))
    back = np.empty_like(shuffled.reshape(3, -1))
    back[:, perm] = shuffled.reshape(3, -1)
    np.testing.assert_array_equal(back.reshape(images.shape), images)


def test_cnn_task_is_deterministic_given_a_seed_and_learns(data):
    settings = cnn.CnnSettings(max_steps=60, seed=3)
    a, b = cnn.CnnTask(settings, data), cnn.CnnTask(settings, data)
    first, second = losses(a, 60), losses(b, 60)
    assert [s["loss"] for s in first] == [s["loss"] for s in second]
    other = losses(cnn.CnnTask(cnn.CnnSettings(max_steps=60, seed=4), data), 5)
    assert other[0]["loss"] != first[0]["loss"]
    snap = a.snapshot()
    assert snap["test_accuracy"][-1] > snap["test_accuracy"][0] + 0.3      # 60 batches: far above chance
    assert snap["kernels"].shape == (3, 3, 8) and snap["maps"]["conv1"].shape == (28, 28, 8)
    assert snap["probs"].shape == (10,) and abs(float(snap["probs"].sum()) - 1) < 1e-4


def test_cnn_task_takes_live_settings_and_the_users_input(data):
    task = cnn.CnnTask(cnn.CnnSettings(architecture="dense", shuffle_pixels=True, optimizer="sgd",
                                       learning_rate=0.05), data)
    image = data["x_test"][0] / 255.0
    task.configure(learning_rate=0.2, batch_size=8, image=image)
    snap = task.snapshot()
    assert snap["learning_rate"] == pytest.approx(0.2) and snap["batch_size"] == 8
    np.testing.assert_allclose(snap["input"], cnn.shuffle_pixels(image.astype(np.float32), task.permutation))
    assert snap["unit_weights"].shape == (28, 28, 8)


def test_latent_task_is_deterministic_and_beta_changes_the_loss(data):
    settings = latent.LatentSettings(max_steps=20, seed=1)
    a, b = latent.LatentTask(settings, data), latent.LatentTask(settings, data)
    assert losses(a, 10) == losses(b, 10)
    b.configure(beta=4.0)
    after_a, after_b = a.step(), b.step()
    assert after_a["reconstruction"] == after_b["reconstruction"]
    assert after_b["loss"] == pytest.approx(after_b["reconstruction"] + 4.0 * after_b["kl"], rel=1e-4)
    snap = a.snapshot()
    assert snap["codes"].shape == (500, 2) and snap["grid"].shape == (latent.GRID ** 2, 28, 28)


def test_gan_pair_starts_from_the_same_generator_and_is_deterministic():
    settings = gan2d.Gan2dSettings(target="ring", max_steps=10, seed=2)
    a, b = gan2d.Gan2dTask(settings), gan2d.Gan2dTask(settings)
    start = a.snapshot()
    np.testing.assert_array_equal(start["dcgan"]["fake"], start["wgan_gp"]["fake"])   # same seed, same weights
    assert losses(a, 10) == losses(b, 10)
    snap = a.snapshot()
    assert snap["dcgan"]["surface"].shape == (gan2d.SURFACE, gan2d.SURFACE)
    assert snap["wgan_gp"]["arrows"].shape == (gan2d.ARROWS, 2)
    assert len(snap["mode_steps"]) == 2 and snap["modes"].shape == (8, 2)


def test_modes_covered_counts_modes_with_a_fair_share():
    modes = gan2d.target_modes("ring")
    rng = np.random.default_rng(0)
    collapsed = modes[[0, 1]][rng.integers(2, size=512)] + rng.normal(0, 0.02, (512, 2))
    assert gan2d.modes_covered(collapsed, modes, 0.05) == 2
    everywhere = gan2d.sample_target("ring", 512, rng)
    assert gan2d.modes_covered(everywhere, modes, 0.05) == 8
    assert gan2d.modes_covered(rng.normal(0, 0.1, (512, 2)), modes, 0.05) == 0       # all in the middle


def test_drawn_points_come_from_the_ink_with_y_up():
    canvas = np.zeros((100, 100, 4), np.uint8)
    canvas[10:20, 80:90] = 255                      # top right
    pts = gan2d.points_from_drawing(canvas)
    assert len(pts) == 100 and (pts[:, 0] > 1).all() and (pts[:, 1] > 1).all()
    assert gan2d.points_from_drawing(np.zeros((50, 50, 4), np.uint8)).shape == (0, 2)
    with pytest.raises(ValueError):
        gan2d.points_from_drawing(np.zeros((50, 50), np.uint8))
    with pytest.raises(ValueError, match="draw"):
        gan2d.sample_target("drawn", 10, np.random.default_rng(0), np.zeros((0, 2)))
