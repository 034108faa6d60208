"""The GAN family: shapes and ranges, the training step, the gradient penalty, weights round trip, training CLI."""
import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlviz import registry
from dlviz.models import build
from dlviz.models.gan import GAN, build_gan, from_gan_range, to_gan_range


@pytest.fixture(scope="module", params=["dcgan", "wgan_gp"])
def gan(request):
    return build_gan(latent_dim=8, loss=request.param, gen_filters=8, disc_filters=8)


def test_generator_maps_z_to_images_in_the_output_range(gan):
    x = gan.generator(tf.random.normal((5, 8)) * 10).numpy()    # large z: saturates the tanh, stays in range
    assert x.shape == (5, 28, 28, 1)
    assert x.min() >= -1 and x.max() <= 1
    assert gan.discriminator(x).shape == (5, 1)
    assert gan.critic is gan.discriminator


def test_the_sampler_generates_and_scores_in_chunks_like_one_keras_call(gan):
    """GanSampler pads and cuts batches into fixed compiled sizes (generators at most 64 rows): the result is the
    same as one Keras call on the whole batch, in order."""
    from dlviz.gan_sampler import GENERATOR_BUCKETS, GanSampler

    sampler = GanSampler(gan, "tiny")
    z = np.random.default_rng(3).standard_normal((2 * GENERATOR_BUCKETS[-1] + 5, 8)).astype("float32")
    images = sampler.generate(z)
    np.testing.assert_allclose(images, np.asarray(from_gan_range(gan.generator(z, training=False)))[..., 0],
                               atol=1e-5)
    scores = sampler.score(images)
    np.testing.assert_allclose(scores, np.asarray(gan.discriminator(to_gan_range(images[..., None]),
                                                                    training=False))[:, 0], atol=1e-4)


def test_range_conversions_are_inverse():
    x = np.linspace(0, 1, 11)
    np.testing.assert_allclose(to_gan_range(x)[[0, 5, 10]], [-1, 0, 1])
    np.testing.assert_allclose(from_gan_range(to_gan_range(x)), x)


def test_builder_by_family_name_returns_a_built_gan():
    g = build("gan", latent_dim=4, loss="dcgan", gen_filters=8, disc_filters=8)
    assert isinstance(g, GAN) and g.built and g.generator.input_shape == (None, 4)
    with pytest.raises(ValueError):
        build_gan(loss="lsgan")


def test_gradient_penalty_of_a_linear_critic_is_hand_computed():
    # D(x) = w·x with ||w|| = 2 everywhere -> ||∇D|| = 2 -> penalty (2 - 1)² = 1 on any interpolate.
    g = GAN(latent_dim=4, loss="wgan_gp", gen_filters=8, disc_filters=8)       # not built yet: parts can be swapped
    linear = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    w = np.zeros((784, 1), np.float32)
    w[:4, 0] = 1.0                                   # norm 2
    linear.layers[-1].set_weights([w])
    g.discriminator = linear
    real, fake = tf.random.uniform((6, 28, 28, 1)), tf.random.uniform((6, 28, 28, 1))
    assert float(g.gradient_penalty(real, fake)) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("loss", ["dcgan", "wgan_gp"])
def test_train_step_updates_both_networks_and_reports_losses(loss):
    keras.utils.set_random_seed(0)
    g = build_gan(latent_dim=8, loss=loss, gen_filters=8, disc_filters=8, n_critic=2)
    g.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    gen0 = [w.copy() for w in g.generator.get_weights()]
    disc0 = [w.copy() for w in g.discriminator.get_weights()]
    logs = g.train_step(tf.random.uniform((8, 28, 28, 1)) * 2 - 1)
    assert {"d_loss", "g_loss"} <= set(logs)
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert any(not np.allclose(a, b) for a, b in zip(gen0, g.generator.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(disc0, g.discriminator.get_weights()))
    if loss == "wgan_gp":
        assert float(logs["d_loss"]) == pytest.approx(-float(logs["wasserstein"]) + 10 * float(logs["gp"]), rel=1e-4)


def test_dcgan_discriminator_loss_is_binary_cross_entropy_of_smoothed_labels():
    # With a frozen optimizer (lr 0) the reported loss is BCE(real -> 0.9) + BCE(fake -> 0) on this step's logits.
    keras.utils.set_random_seed(1)
    g = build_gan(latent_dim=4, loss="dcgan", gen_filters=8, disc_filters=8, dropout=0.0, real_label=0.9)
    g.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    real = tf.random.uniform((4, 28, 28, 1)) * 2 - 1
    logs = g.train_step(real)
    p_real = float(logs["d_real"])              # mean sigmoid of the real logits; check with one logit per batch
    logit = g.discriminator(real, training=True).numpy()[:, 0]
    np.testing.assert_allclose(np.mean(1 / (1 + np.exp(-logit))), p_real, rtol=1e-5)
    bce_real = np.mean(-(0.9 * np.log(1 / (1 + np.exp(-logit))) + 0.1 * np.log(1 - 1 / (1 + np.exp(-logit)))))
    assert float(logs["d_loss"]) > bce_real          # plus the (positive) fake term


def test_weights_round_trip_restores_the_generator_exactly(tmp_path):
    a = build_gan(latent_dim=8, loss="dcgan", gen_filters=8, disc_filters=8)
    a.save_weights(tmp_path / "g.weights.h5")
    b = build_gan(latent_dim=8, loss="dcgan", gen_filters=8, disc_filters=8)
    b.load_weights(tmp_path / "g.weights.h5")
    z = tf.random.normal((3, 8))
    np.testing.assert_array_equal(a.generator(z).numpy(), b.generator(z).numpy())
    np.testing.assert_array_equal(a.critic(a.generator(z)).numpy(), b.critic(a.generator(z)).numpy())


def tiny_run_args(tmp_path, loss: str = "dcgan", n_train: int = 128, n_test: int = 60, batch: int = 16,
                  eval_samples: int = 200) -> tuple[list[str], Path]:
    """`python -m dlviz.train` arguments of a tiny GAN on a fake MNIST file, and its output folder; skips the test
    when the judge CNN is not in pretrained/."""
    from tests.conftest import write_fake_dataset

    if not (registry.PRETRAINED_DIR / "cnn_mnist.weights.h5").is_file():
        pytest.skip("the judge cnn_mnist is not in pretrained/")
    data = write_fake_dataset(tmp_path / "mnist.npz", n_train=n_train, n_test=n_test)
    out = tmp_path / "pt"
    return ["gan", "--loss", loss, "--dataset", "mnist", "--data", str(data), "--batch-size", str(batch),
            "--latent-dim", "8", "--gen-filters", "8", "--disc-filters", "8", "--eval-samples", str(eval_samples),
            "--no-xla", "--out", str(out)], out


def test_training_cli_writes_weights_records_and_judged_metrics(tmp_path):
    from dlviz import train

    common, out = tiny_run_args(tmp_path, loss="wgan_gp")
    assert train.main(common + ["--steps", "40", "--n-critic", "1", "--snapshots", "12",
                                "--checkpoint-every", "20"]) == 0
    entry = json.loads((out / "manifest.json").read_text())["models"]["gan_wgan_gp_mnist"]
    assert entry["latent_dim"] == 8 and entry["output_range"] == [-1.0, 1.0] and entry["complete"]
    assert entry["command"].startswith("python -m dlviz.train gan --loss wgan_gp")
    m = entry["metrics"]
    assert 1.0 <= m["inception_score"] <= 10.0 and m["samples"] == 200 and len(m["class_histogram"]) == 10
    assert m["reference"]["inception_score"] > 1.0 and "frechet_distance" in m["reference"]
    rec = registry.load_extra("gan_wgan_gp_mnist", "records", out)
    assert rec["loss_d_loss"].shape == (40,) and rec["loss_g_loss"].shape == (40,)
    assert len(rec["snapshot_steps"]) >= 10 and rec["snapshot_steps"][0] == 0 and rec["snapshot_steps"][-1] == 40
    assert rec["snapshot_grids"].shape == (len(rec["snapshot_steps"]), 36, 28, 28)
    assert rec["snapshot_grids"].dtype == np.uint8
    assert list(rec["checkpoint_step"]) == [20, 40]
    assert rec["real_scores"].shape == rec["fake_scores"].shape
    model = registry.load_model("gan_wgan_gp_mnist", out)
    assert model.generator(rec["fixed_z"][:2]).shape == (2, 28, 28, 1)


def test_a_resumed_run_keeps_the_first_stages_records_and_saves_the_averaged_generator(tmp_path):
    from dlviz import train

    common, out = tiny_run_args(tmp_path)
    assert train.main(common + ["--steps", "20", "--snapshots", "5", "--checkpoint-every", "20"]) == 0
    first = registry.load_extra("gan_dcgan_mnist", "records", out)
    first_losses = np.array(first["loss_d_loss"])
    assert train.main(common + ["--steps", "10", "--snapshots", "2", "--checkpoint-every", "100", "--resume",
                                "--ema", "0.5"]) == 0
    entry = json.loads((out / "manifest.json").read_text())["models"]["gan_dcgan_mnist"]
    assert entry["steps"] == 30 and entry["ema"] == 0.5 and [s["steps"] for s in entry["stages"]] == [20, 10]
    assert entry["command"].count("python -m dlviz.train gan") == 2 and "--resume" in entry["command"]
    rec = registry.load_extra("gan_dcgan_mnist", "records", out)
    np.testing.assert_array_equal(rec["loss_d_loss"][:20], first_losses)
    assert rec["loss_d_loss"].shape == (30,) and list(rec["loss_steps"][[0, -1]]) == [1, 30]
    assert list(rec["snapshot_steps"][-2:]) == [25, 30] and list(rec["checkpoint_step"]) == [20, 30]
    # the saved generator is the average: it differs from the last trained weights only through averaging,
    # and loading it through the registry works
    model = registry.load_model("gan_dcgan_mnist", out)
    assert model.generator(rec["fixed_z"][:1]).shape == (1, 28, 28, 1)

    # a collapse run started from this healthy one: its architecture, the collapse settings, fresh records
    assert train.main(common + ["--steps", "4", "--snapshots", "3", "--collapse", "--init-from", "gan_dcgan_mnist",
                                "--name", "broken"]) == 0
    broken = json.loads((out / "manifest.json").read_text())["models"]["broken"]
    assert broken["init_from"]["name"] == "gan_dcgan_mnist" and broken["init_from"]["steps"] == 30
    assert broken["config"]["batchnorm"] is True and broken["optimizer"]["d_lr"] == 0.0
    assert broken["config"]["real_label"] == 1.0 and broken["collapsed"] and "collapsed" in broken["title"]
    start = registry.load_extra("broken", "records", out)["snapshot_grids"][0]
    np.testing.assert_array_equal(start, rec["snapshot_grids"][-1])      # step 0 = where the healthy run ended


def test_fully_connected_hidden_layers_are_optional_and_round_trip_through_the_weights_file(tmp_path):
    plain = build_gan(latent_dim=4, loss="dcgan", gen_filters=8, disc_filters=8)
    wide = build_gan(latent_dim=4, loss="dcgan", gen_filters=8, disc_filters=8, gen_hidden=16, disc_hidden=12)
    assert "hidden" not in [layer.name for layer in plain.generator.layers]
    assert wide.generator.get_layer("hidden").units == 16 and wide.discriminator.get_layer("hidden").units == 12
    # z (4) -> 16 (no bias: batch norm, 4 numbers per unit) -> 7·7·8 instead of z -> 7·7·8; the critic's 7·7·16
    # features -> 12 -> 1 instead of -> 1
    assert wide.generator.count_params() - plain.generator.count_params() == (4 * 16 + 4 * 16 + 16 * 392) - 4 * 392
    assert wide.discriminator.count_params() - plain.discriminator.count_params() == (784 * 12 + 12 + 13) - 785
    wide.save_weights(tmp_path / "wide.weights.h5")
    again = build_gan(latent_dim=4, loss="dcgan", gen_filters=8, disc_filters=8, gen_hidden=16, disc_hidden=12)
    again.load_weights(tmp_path / "wide.weights.h5")
    z = tf.random.normal((3, 4))
    np.testing.assert_allclose(again(z).numpy(), wide(z).numpy(), rtol=1e-5, atol=1e-6)


def test_an_infogan_code_is_read_from_z_and_told_back_by_a_head_sharing_the_discriminators_layers(tmp_path):
    from dlviz.models.gan import code_of

    keras.utils.set_random_seed(2)
    g = build_gan(latent_dim=12, loss="dcgan", gen_filters=8, disc_filters=8, disc_hidden=6, categories=4)
    z = tf.random.normal((64, 12))
    codes = code_of(z, 4).numpy()
    assert set(codes) <= {0, 1, 2, 3} and len(set(codes)) == 4
    np.testing.assert_array_equal(code_of(z * 0.3, 4).numpy(), codes)     # truncation keeps every sample's code
    # the generator's code layer: one-hot of the argmax of z's first four entries, whatever the rest holds
    base = np.zeros((2, 12), np.float32)
    base[:, 0] = 1.0
    base[1, 1], base[0, 5] = 1.01, 5.0
    np.testing.assert_array_equal(g.generator.get_layer("code")(tf.constant(base)).numpy(), [[1, 0, 0, 0], [0, 1, 0, 0]])
    # the head: the discriminator's variables up to its score layer, plus its own dense layer
    def ids(model, but):
        return {id(v) for layer in model.layers if layer.name != but for v in layer.trainable_weights}
    assert ids(g.discriminator, but="score") == ids(g.code_predictor, but="code_logits")
    assert g.code_predictor.get_layer("code_logits").units == 4
    assert g.code_predictor(g.generator(z)).shape == (64, 4)
    assert g.discriminator(g.generator(z)).shape == (64, 1)

    g.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    head0 = [w.copy() for w in g.code_predictor.get_layer("code_logits").get_weights()]
    logs = g.train_step(tf.random.uniform((16, 28, 28, 1)) * 2 - 1)
    assert 0.0 < float(logs["code_loss"]) < 3 * np.log(4)
    assert not np.allclose(head0[0], g.code_predictor.get_layer("code_logits").get_weights()[0])

    g.save_weights(tmp_path / "info.weights.h5")
    again = build_gan(latent_dim=12, loss="dcgan", gen_filters=8, disc_filters=8, disc_hidden=6, categories=4)
    again.load_weights(tmp_path / "info.weights.h5")
    x = g.generator(z[:3])
    np.testing.assert_allclose(again.generator(z[:3]).numpy(), x.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(again.code_predictor(x).numpy(), g.code_predictor(x).numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError):
        build_gan(latent_dim=12, loss="wgan_gp", categories=4)


def test_the_cli_records_the_code_in_the_config_and_a_collapse_run_from_it_drops_the_codes_loss(tmp_path):
    from dlviz import train

    common, out = tiny_run_args(tmp_path, n_train=64, n_test=30, batch=8, eval_samples=100)
    common += ["--snapshots", "2"]
    assert train.main(common + ["--steps", "4", "--categories", "3", "--info-weight", "0.5"]) == 0
    assert train.main(common + ["--steps", "2", "--collapse", "--init-from", "gan_dcgan_mnist", "--name", "c"]) == 0
    models = json.loads((out / "manifest.json").read_text())["models"]
    assert models["gan_dcgan_mnist"]["config"]["categories"] == 3
    assert models["gan_dcgan_mnist"]["config"]["info_weight"] == 0.5
    assert models["c"]["config"]["categories"] == 3 and models["c"]["config"]["info_weight"] == 0.0
    assert registry.load_extra("gan_dcgan_mnist", "records", out)["loss_code_loss"].shape == (4,)
    loaded = registry.load_model("gan_dcgan_mnist", out)
    assert loaded.code_predictor(loaded.generator(tf.random.normal((2, 8)))).shape == (2, 3)


def test_a_labelled_code_also_teaches_the_head_the_real_images_labels():
    keras.utils.set_random_seed(3)
    g = build_gan(latent_dim=12, loss="dcgan", gen_filters=8, disc_filters=8, categories=4, labelled_code=True)
    g.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))     # frozen: the logs are this step's losses
    real = tf.random.uniform((8, 28, 28, 1)) * 2 - 1
    labels = tf.constant([0, 1, 2, 3, 0, 1, 2, 3])
    logs = g.train_step((real, labels))
    logits = g.code_predictor(real, training=True).numpy()
    expected = np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(8), labels.numpy()])
    assert float(logs["real_code_loss"]) == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match="labels"):
        g.train_step(real)
