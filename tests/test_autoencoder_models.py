"""The autoencoder and VAE models, their training CLI (on a tiny fake dataset) and the fast Coder."""
import numpy as np
import pytest

from tests.conftest import write_fake_dataset


@pytest.fixture(scope="module")
def models():
    from dlviz.models import build

    return {"ae": build("autoencoder", latent_dim=16, code_activation="relu", kind="ae"),
            "vae": build("vae", latent_dim=2, seed=0)}


def test_shapes_and_ranges(models):
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    ae, vae = models["ae"], models["vae"]
    code = np.asarray(ae.encoder(x))
    assert code.shape == (3, 16) and code.min() >= 0                 # ReLU code
    out = np.asarray(ae.decoder(code))
    assert out.shape == (3, 28, 28, 1) and 0 <= out.min() and out.max() <= 1
    z_mean, z_log_var, z = (np.asarray(t) for t in vae.encoder(x))
    assert z_mean.shape == z_log_var.shape == z.shape == (3, 2)
    assert np.asarray(vae.decoder(z)).shape == (3, 28, 28, 1)
    np.testing.assert_allclose(np.asarray(vae(x)), np.asarray(vae.decoder(z_mean)), atol=1e-6)  # at the mean


def test_vae_sampling_is_the_reparameterization(models):
    vae = models["vae"]
    x = np.random.default_rng(1).random((2000, 28, 28, 1)).astype("float32") * 0 + 0.3   # one image, many draws
    z_mean, z_log_var, z = (np.asarray(t) for t in vae.encoder(x))
    eps = (z - z_mean) / np.exp(0.5 * z_log_var)
    assert abs(eps.mean()) < 0.08 and abs(eps.std() - 1) < 0.06      # ε ~ N(0, 1)


def test_vae_loss_terms_match_the_numpy_ones(models):
    from dlviz.latent import kl_per_image

    vae = models["vae"]
    x = np.random.default_rng(2).random((8, 28, 28, 1)).astype("float32")
    total, reconstruction, kl = (float(t) for t in vae.losses_for(x))
    z_mean, z_log_var, _ = (np.asarray(t) for t in vae.encoder(x))
    assert kl == pytest.approx(kl_per_image(z_mean, z_log_var).mean(), rel=1e-5)
    assert total == pytest.approx(reconstruction + kl, rel=1e-6)
    assert 400 < reconstruction / 1 < 784 * 2      # an untrained decoder outputs ~0.5: ≈ 784·0.69 per image


def test_sparse_penalty_is_l1_of_the_code_per_image():
    from dlviz.models import build

    sparse = build("autoencoder", latent_dim=16, code_activation="relu", sparsity=0.01, kind="ae_sparse")
    x = np.random.default_rng(3).random((4, 28, 28, 1)).astype("float32")
    code = np.asarray(sparse.encoder(x))
    penalty = sum(float(t) for t in sparse.encoder.losses)
    assert penalty == pytest.approx(0.01 * np.abs(code).sum() / len(code), rel=1e-5)   # Keras divides by the batch


def test_weights_round_trip(tmp_path, models):
    from dlviz.models import build

    path = tmp_path / "vae.weights.h5"
    models["vae"].save_weights(path)
    again = build("vae", latent_dim=2, seed=0)
    again.load_weights(path)
    z = np.array([[0.5, -1.0]], np.float32)
    np.testing.assert_array_equal(np.asarray(again.decoder(z)), np.asarray(models["vae"].decoder(z)))


def test_coder_matches_keras_and_pads_batches(models):
    from dlviz.coder import Coder

    for model in models.values():
        coder = Coder(model)
        x = np.random.default_rng(4).random((5, 28, 28)).astype("float32")
        enc, rec = coder.reconstruct(x)
        ref = model.encoder(x[..., None])
        code = np.asarray(ref[0] if coder.is_vae else ref)
        np.testing.assert_allclose(enc.code, code, atol=1e-5)
        if coder.is_vae:
            np.testing.assert_allclose(enc.log_var, np.asarray(ref[1]), atol=1e-5)
        np.testing.assert_allclose(rec, np.asarray(model.decoder(code))[..., 0], atol=1e-5)
        grid = np.random.default_rng(5).normal(size=(901, coder.latent_dim)).astype("float32")  # 8 chunks
        out = coder.decode(grid)
        assert out.shape == (901, 28, 28)
        np.testing.assert_allclose(out, np.asarray(model.decoder(grid))[..., 0], atol=1e-5)   # in order, no padding


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The real CLI on tiny fake data (both datasets, so the anomaly metrics run): ae, ae_denoise, vae2d."""
    from dlviz import train

    d = tmp_path_factory.mktemp("pretrained_ae")
    write_fake_dataset(d / "mnist.npz", n_train=128, n_test=60)
    write_fake_dataset(d / "fashion_mnist.npz", n_train=16, n_test=60, seed=1)
    for kind in ("ae", "ae_denoise", "vae2d"):
        assert train.main(["ae", "--kind", kind, "--dataset", "mnist", "--data", str(d), "--epochs", "1",
                           "--out", str(d)]) == 0
    return d


def test_training_writes_manifest_metrics_and_page_data(trained):
    from dlviz import registry

    cards = {c.name: c for c in registry.model_cards(trained)}
    assert set(cards) >= {"ae_mnist", "ae_denoise_mnist", "vae2d_mnist"}
    vae = cards["vae2d_mnist"]
    assert vae.family == "vae" and vae.entry["command"].startswith("python -m dlviz.train ae --kind vae2d")
    m = vae.metrics
    assert m["test_loss"] == pytest.approx(m["test_reconstruction_loss"] + m["test_kl"])
    assert 0 <= m["anomaly_auroc"] <= 1 and m["anomaly_dataset"] == "fashion"
    assert 0 <= cards["ae_mnist"].metrics["near_zero_share"] <= 1
    choice = m["anomaly_score_choice"]            # chosen on training images, reported on the test images
    assert m["anomaly_score"] == max(choice["train_auroc"], key=choice["train_auroc"].get) == choice["score"]
    assert set(choice["train_auroc"]) == {"mse", "bce", "kl"} and choice["images"] > 0
    assert m["anomaly_auroc"] == m[f"anomaly_auroc_{m['anomaly_score']}"]
    denoise = cards["ae_denoise_mnist"].metrics
    assert set(denoise["plain_ae_noisy_mse"]) == {"gaussian", "salt_pepper", "erasing"}
    data = registry.load_extra("vae2d_mnist", "latent", trained)
    assert data["codes"].shape == (60, 2) and data["log_vars"].shape == (60, 2)
    assert data["errors_mse"].shape == (60,) and data["other_errors_mse"].shape == (60,)
    assert data["roc_fpr_mse"][0] == 0 and data["roc_tpr_mse"][-1] == 1
    assert m["error_mse_mean"] == pytest.approx(float(np.mean(data["errors_mse"])), rel=1e-3)


def test_trained_models_load_by_name(trained):
    from dlviz import registry

    ae = registry.load_model("ae_mnist", trained)
    assert ae.encoder.output.shape[-1] == 16
    vae = registry.load_model("vae2d_mnist", trained)
    assert len(vae.encoder.outputs) == 3


def test_evaluate_only_keeps_the_training_record(trained):
    from dlviz import registry, train

    before = registry.model_card("ae_mnist", trained).entry
    assert train.main(["ae", "--kind", "ae", "--dataset", "mnist", "--data", str(trained), "--out", str(trained),
                       "--evaluate-only"]) == 0
    after = registry.model_card("ae_mnist", trained).entry
    assert after["command"] == before["command"] and after["training_seconds"] == before["training_seconds"]
    assert after["sha256"] == before["sha256"] and "--evaluate-only" in after["evaluated_by"]
    assert after["metrics"]["test_mse"] == pytest.approx(before["metrics"]["test_mse"], rel=1e-5)


def test_decoder_hidden_layer_and_kl_weight_are_not_saved_state(tmp_path):
    """The optional hidden layer is part of the architecture (config), the KL warm-up weight is not a weight."""
    from dlviz.models.vae import build_vae

    plain, hidden = build_vae(decoder_filters=(32, 16)), build_vae(decoder_filters=(32, 16), decoder_hidden=8)
    assert "hidden" in [layer.name for layer in hidden.decoder.layers]
    assert len(hidden.weights) == len(plain.weights) + 2               # its kernel and bias, nothing else
    assert all("kl_weight" not in w.path for w in hidden.weights)
    hidden.kl_weight.assign(0.25)
    hidden.save_weights(tmp_path / "v.weights.h5")
    again = build_vae(decoder_filters=(32, 16), decoder_hidden=8)
    again.load_weights(tmp_path / "v.weights.h5")
    assert float(again.kl_weight.numpy()) == 1.0
    z = np.random.default_rng(0).standard_normal((3, 2)).astype("float32")
    np.testing.assert_allclose(again.decoder(z), hidden.decoder(z), atol=1e-6)


def test_kl_weight_scales_only_the_kl_gradient():
    """The gradient follows β: with β = 0 the KL term (which pulls μ to 0) no longer moves the encoder."""
    import tensorflow as tf

    from dlviz.models.vae import build_vae

    vae = build_vae(seed=0)
    x = np.random.default_rng(1).random((4, 28, 28, 1)).astype("float32")
    grads = {}
    for beta in (0.0, 1.0):
        vae.kl_weight.assign(beta)
        with tf.GradientTape() as tape:
            total, reconstruction, kl = vae.losses_for(x)
            loss = reconstruction + vae.kl_weight * kl
        grads[beta] = tape.gradient(loss, vae.encoder.get_layer("z_mean").kernel)
    assert not np.allclose(grads[0.0], grads[1.0])
