"""Training GANs: `python -m dlviz.train gan --loss {dcgan,wgan_gp} --dataset mnist --data ../shared/data ...`

    python -m dlviz.train gan --loss dcgan   --dataset mnist --data ../shared/data --steps 6000 --threads 1
    python -m dlviz.train gan --loss wgan_gp --dataset mnist --data ../shared/data --steps 3000 --threads 1
    python -m dlviz.train gan --collapse     --dataset mnist --data ../shared/data --steps 1500 --threads 1
    python -m dlviz.train gan-bank --data ../shared/data      # training images + CNN features for "nearest"

A custom loop (one compiled `train_step` per batch) records, next to the weights, in `<name>.records.npz`:
the losses of every step, the generator's output for one fixed set of 36 latent vectors at ~20 points of
training, the judge's scores at every checkpoint, the discriminator's scores of real test images and of generated
ones, and the latent directions the page's sliders use. Every `--checkpoint-every` steps the weights, records and
manifest entry are written, so a run stopped early (or by `--max-minutes`) is still usable.

The judge is the project's CNN for the dataset (`cnn_mnist` / `cnn_fashion`, from the default pretrained folder):
Inception Score, Fréchet distance in its `dense1` features against the test set, class histogram and diversity
of 10,000 samples, and the same numbers for real data as the reference.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from dlviz import registry
from dlviz.datasets import get_dataset, load_arrays
from dlviz.gan_sampler import JUDGE_LAYER, Judge
from dlviz.training import Progress, as_model_input, seed_everything

FIXED_SEED = 1234          # the fixed latent vectors of the training timeline (same for every run)
FIXED_COUNT = 36
SCORE_COUNT = 1000         # discriminator scores kept for real test images and for generated ones
BANK_SIZE = 3000           # training images shipped for the nearest-neighbour view

# Mode collapse on purpose: the generator keeps training against a discriminator that no longer learns (lr 0), so
# every z is pushed toward the few images this discriminator likes best. Start it from a healthy run (--init-from).
# An InfoGAN code's loss would keep the code's values apart, so it is switched off too.
COLLAPSE = {"g_lr": 2e-4, "d_lr": 0.0, "real_label": 1.0, "batch_size": 32, "g_steps": 1, "batchnorm": False,
            "info_weight": 0.0}


def add_commands(sub, common) -> None:
    p = sub.add_parser("gan", parents=[common], help="train a DCGAN or WGAN-GP")
    p.add_argument("--loss", choices=("dcgan", "wgan_gp"), default="dcgan")
    p.add_argument("--dataset", choices=("mnist", "fashion"), required=True)
    p.add_argument("--steps", type=int, default=6000, help="generator steps (batches)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--latent-dim", type=int, default=64)
    p.add_argument("--gen-filters", type=int, default=48)
    p.add_argument("--disc-filters", type=int, default=32)
    p.add_argument("--gen-hidden", type=int, default=0,
                   help="a fully connected layer of this width before the generator's projection (0: none)")
    p.add_argument("--disc-hidden", type=int, default=0,
                   help="a fully connected layer of this width before the discriminator's score (0: none)")
    p.add_argument("--categories", type=int, default=0,
                   help="DCGAN: InfoGAN's categorical code with this many values, read from z (0: none)")
    p.add_argument("--info-weight", type=float, default=1.0, help="weight of the code's loss (InfoGAN's lambda)")
    p.add_argument("--labelled-code", action="store_true",
                   help="with --categories 10: the code head also learns the real images' labels, so code c "
                        "generates class c (class-conditional, AC-GAN; uses the labels)")
    p.add_argument("--g-lr", type=float, default=2e-4)
    p.add_argument("--d-lr", type=float, default=2e-4)
    p.add_argument("--n-critic", type=int, default=3, help="WGAN-GP critic steps per generator step")
    p.add_argument("--g-steps", type=int, default=1, help="DCGAN generator steps per discriminator step")
    p.add_argument("--real-label", type=float, default=0.9, help="DCGAN one-sided label smoothing")
    p.add_argument("--collapse", action="store_true",
                   help="a deliberately collapsing DCGAN, best with --init-from a healthy run: the generator trains "
                        "against a frozen discriminator (" + ", ".join(f"{k}={v}" for k, v in COLLAPSE.items()) + ")")
    p.add_argument("--snapshots", type=int, default=20, help="fixed-latent grids recorded during training")
    p.add_argument("--checkpoint-every", type=int, default=1500)
    p.add_argument("--eval-samples", type=int, default=10000)
    p.add_argument("--max-minutes", type=float, help="stop early (and finish cleanly) after this long")
    p.add_argument("--judge", help="the CNN that judges samples (default cnn_<dataset>)")
    p.add_argument("--limit", type=int, help="train on the first N images only (smoke tests)")
    p.add_argument("--name", help="manifest name (default gan_<loss>_<dataset>, gan_collapsed_<dataset>)")
    p.add_argument("--no-xla", action="store_true", help="do not XLA-compile the training step")
    p.add_argument("--resume", action="store_true",
                   help="continue the run --name (or the default name) found in --out for --steps more steps: its "
                        "weights, config and records are kept (optimizer state is not saved, so Adam restarts)")
    p.add_argument("--init-from", metavar="NAME",
                   help="start from the weights (and architecture) of another run in --out, with fresh records: "
                        "e.g. a healthy DCGAN that the --collapse settings then break")
    p.add_argument("--ema", type=float, default=0.0,
                   help="keep an exponential moving average of the generator's weights with this decay (e.g. "
                        "0.999) and save/evaluate that generator (Yazıcı et al. 2019)")
    p.set_defaults(run=train_gan)

    b = sub.add_parser("gan-bank", parents=[common],
                       help="bundle training images + their CNN features for the GAN page's nearest-neighbour view")
    b.add_argument("--size", type=int, default=BANK_SIZE)
    b.add_argument("--limit", type=int, help="use the first N training images only (smoke tests)")
    b.set_defaults(run=make_bank)


_REFERENCE: dict[tuple, dict] = {}


def real_reference(judge: Judge, x_train: np.ndarray, x_test: np.ndarray, n: int = 10000) -> dict:
    """The judge's numbers for real data: the test set's IS / class histogram / diversity, and the Fréchet
    distance of n training images to the test set (the best a generator can hope for)."""
    from dlviz import gan_metrics

    key = (judge.name, len(x_train), len(x_test))
    if key not in _REFERENCE:
        test_f, test_p = judge(as_model_input(x_test))
        train_f, train_p = judge(as_model_input(x_train[:n]))
        report = gan_metrics.judge_report(test_p, test_f, test_f)
        report["frechet_distance"] = round(gan_metrics.frechet_distance(train_f, test_f), 4)
        report["frechet_of"] = f"{min(n, len(x_train))} training images vs the {len(x_test)} test images"
        _REFERENCE[key] = {"test_features": test_f, "report": report}
    return _REFERENCE[key]


# ## Training
def snapshot_schedule(total: int, count: int) -> np.ndarray:
    """Step 0 and `count - 1` steps spread geometrically up to `total` (early training changes fastest)."""
    later = np.geomspace(min(25, total), total, max(count - 1, 1))
    return np.unique(np.concatenate([[0], np.round(later).astype(int)]))


def run_name(args) -> str:
    if args.name:
        return args.name
    return f"gan_collapsed_{args.dataset}" if args.collapse else f"gan_{args.loss}_{args.dataset}"


def train_gan(args, command: str) -> dict:
    import keras
    import tensorflow as tf

    from dlviz import gan_metrics
    from dlviz.gan_latent import principal_directions, sample_z
    from dlviz.models import build
    from dlviz.models.gan import OUTPUT_RANGE, from_gan_range, to_gan_range

    if args.collapse:
        if args.loss != "dcgan":
            raise SystemExit("--collapse is a DCGAN setting (use --loss dcgan)")
        for k, v in COLLAPSE.items():
            setattr(args, k, v)
    batchnorm = getattr(args, "batchnorm", True)
    name = run_name(args)
    out: Path = args.out
    previous = None
    if args.resume:
        card = registry.model_card(name, out)
        previous = {"entry": card.entry, "records": registry.load_extra(name, "records", out),
                    "weights": registry.verified_weights_path(card, out)}
        if card.entry["loss"] != args.loss:
            raise SystemExit(f"{name} was trained with --loss {card.entry['loss']}, not {args.loss}")
    offset = previous["entry"]["steps"] if previous else 0
    seed_everything(args.seed + offset)        # a continuation does not replay the first stage's noise and batches
    ds = get_dataset(args.dataset)
    (x_train, y_train), (x_test, _) = load_arrays(args.dataset, args.data)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    out.mkdir(parents=True, exist_ok=True)

    config = {"latent_dim": args.latent_dim, "loss": args.loss, "gen_filters": args.gen_filters,
              "disc_filters": args.disc_filters, "batchnorm": batchnorm}
    if args.gen_hidden or args.disc_hidden:         # absent from the older runs' configs, which had none
        config.update(gen_hidden=args.gen_hidden, disc_hidden=args.disc_hidden)
    if args.categories:
        config.update(categories=args.categories, info_weight=args.info_weight)
        if args.labelled_code:
            config.update(labelled_code=True)
    if args.loss == "dcgan":
        config.update(real_label=args.real_label, g_steps=args.g_steps)
    else:
        config.update(n_critic=args.n_critic, gp_weight=10.0)
    start = None
    if args.init_from:
        source = registry.model_card(args.init_from, out)
        start = {"name": args.init_from, "steps": source.entry["steps"], "command": source.entry["command"],
                 "weights": registry.verified_weights_path(source, out)}
        # the source's architecture, this run's training settings
        config = {**source.entry["config"], **{k: v for k, v in config.items() if k not in
                                                ("latent_dim", "gen_filters", "disc_filters", "batchnorm",
                                                 "gen_hidden", "disc_hidden", "categories")}}
        if config.get("categories"):
            config["info_weight"] = args.info_weight
    if previous:
        config = dict(previous["entry"]["config"])
    gan = build("gan", **config)
    if previous or start:
        gan.load_weights((previous or start)["weights"])
    beta_2 = 0.9 if args.loss == "wgan_gp" else 0.999
    gan.compile(d_optimizer=keras.optimizers.Adam(args.d_lr, beta_1=0.5, beta_2=beta_2),
                g_optimizer=keras.optimizers.Adam(args.g_lr, beta_1=0.5, beta_2=beta_2))
    step_fn = tf.function(gan.train_step, jit_compile=not args.no_xla)
    sampling = gan.generator            # the generator that is sampled, evaluated and saved
    ema_update = None
    if args.ema:
        sampling = keras.models.clone_model(gan.generator)
        sampling.set_weights(gan.generator.get_weights())
        pairs = list(zip(sampling.weights, gan.generator.weights))

        @tf.function(autograph=False)          # a plain Python loop over the variables, unrolled once
        def ema_update():
            for average, weight in pairs:
                average.assign(args.ema * average + (1.0 - args.ema) * weight)
    generate = tf.function(lambda z: sampling(z, training=False))
    score = tf.function(lambda x: gan.discriminator(x, training=False))

    def generated(z: np.ndarray, batch: int = 500) -> np.ndarray:
        """(N, latent_dim) -> (N, 28, 28) in [0, 1]."""
        return np.concatenate([from_gan_range(generate(z[i:i + batch]).numpy())[..., 0]
                               for i in range(0, len(z), batch)])

    def scores(x01: np.ndarray, batch: int = 500) -> np.ndarray:
        x = to_gan_range(np.asarray(x01, np.float32)[..., None])
        return np.concatenate([score(x[i:i + batch]).numpy()[:, 0] for i in range(0, len(x), batch)])

    judge = Judge(args.judge or f"cnn_{args.dataset}")
    reference = real_reference(judge, x_train, x_test)
    print(f"{name}: judge {judge.name}; real data IS {reference['report']['inception_score']}, "
          f"Fréchet train-vs-test {reference['report']['frechet_distance']}", flush=True)

    real = to_gan_range(as_model_input(x_train))
    labelled = bool(config.get("labelled_code"))
    data = (tf.data.Dataset.from_tensor_slices((real, y_train.astype(np.int32)) if labelled else real)
            .shuffle(len(real), seed=args.seed + offset, reshuffle_each_iteration=True).repeat()
            .batch(args.batch_size, drop_remainder=True).prefetch(2))

    fixed_z = sample_z(FIXED_SEED, FIXED_COUNT, args.latent_dim)
    eval_z = sample_z(args.seed + 1, args.eval_samples, args.latent_dim)
    snap_at = set(snapshot_schedule(args.steps, args.snapshots).tolist())
    grids, grid_steps = [to_uint8(generated(fixed_z))], [0]
    history: dict[str, list[float]] = {}
    checkpoints: dict[str, list[float]] = {"step": [], "inception_score": [], "frechet_distance": [],
                                           "classes_over_5_percent": [], "diversity": []}
    stages = []
    if previous:            # the first stage's records come first; this stage's snapshots are evenly spaced
        rec = previous["records"]
        snap_at = set(np.linspace(0, args.steps, args.snapshots + 1)[1:].round().astype(int).tolist())
        grids, grid_steps = list(rec["snapshot_grids"]), [int(v) for v in rec["snapshot_steps"]]
        history = {k[len("loss_"):]: [float(v) for v in rec[k]] for k in rec
                   if k.startswith("loss_") and k != "loss_steps"}
        checkpoints = {k: [float(v) for v in rec[f"checkpoint_{k}"]] for k in checkpoints}
        stages = previous["entry"].get("stages") or [
            {key: previous["entry"][key] for key in ("steps", "command", "optimizer", "batch_size",
                                                     "training_seconds") if key in previous["entry"]}]
    rng = np.random.default_rng(args.seed)
    real_idx = rng.choice(len(x_test), min(SCORE_COUNT, len(x_test)), replace=False)
    progress = Progress(args.steps, every=100, prefix=f"{name} ")
    started, training_seconds, entry = time.time(), 0.0, {}

    def checkpoint(local_step: int, final: bool) -> dict:
        nonlocal training_seconds
        step = offset + local_step
        training_seconds = time.time() - started
        file = f"{name}.weights.h5"
        # Weights only: a fresh GAN gets the two networks' weights (saving `gan` itself would also write the
        # optimizers it tracks, tripling the file).
        bare = build("gan", **config)
        bare.generator.set_weights(sampling.get_weights())
        bare.discriminator.set_weights(gan.discriminator.get_weights())
        if gan.code_predictor is not None:
            bare.code_predictor.set_weights(gan.code_predictor.get_weights())
        bare.save_weights(out / file)
        samples = generated(eval_z)
        feats, probs = judge(samples)
        report = gan_metrics.judge_report(probs, feats, reference["test_features"])
        for k in checkpoints:
            checkpoints[k].append(step if k == "step" else report[k])
        directions, explained = principal_directions(eval_z[:2000], samples[:2000], k=6)
        records = {
            "loss_steps": np.arange(1, len(history["d_loss"]) + 1, dtype=np.int32),
            **{f"loss_{k}": np.asarray(v, np.float32) for k, v in history.items()},
            "snapshot_steps": np.asarray(grid_steps, np.int32),
            "snapshot_grids": np.stack(grids),                               # (K, 36, 28, 28) uint8
            "fixed_z": fixed_z,
            **{f"checkpoint_{k}": np.asarray(v, np.float32) for k, v in checkpoints.items()},
            "real_scores": scores(x_test[real_idx] / 255.0).astype(np.float32),
            "fake_scores": scores(samples[:len(real_idx)]).astype(np.float32),
            "class_histogram": np.asarray(report["class_histogram"], np.float32),
            "real_class_histogram": np.asarray(reference["report"]["class_histogram"], np.float32),
            "latent_directions": directions, "latent_directions_explained": explained,
        }
        np.savez_compressed(out / f"{name}.records.npz", **records)
        kind = {"dcgan": "DCGAN", "wgan_gp": "WGAN-GP"}[args.loss]
        if config.get("labelled_code"):
            kind = "Class-conditional DCGAN (AC-GAN, trained with the labels)"
        elif config.get("categories"):
            kind = "DCGAN with an InfoGAN code"
        title = f"{kind} on {ds.title}" + (" — collapsed (deliberately)" if args.collapse else "")
        entry = {
            "family": "gan", "title": title, "config": config, "file": file, "dataset": args.dataset,
            "latent_dim": args.latent_dim, "output_range": list(OUTPUT_RANGE), "loss": args.loss,
            "collapsed": bool(args.collapse), "complete": bool(final and local_step == args.steps),
            "params": {"generator": int(gan.generator.count_params()),
                       "discriminator": int(gan.discriminator.count_params())},
            "layers": {"generator": registry.layer_summary(gan.generator),
                       "discriminator": registry.layer_summary(gan.discriminator)},
            "seed": args.seed, "steps": step, "planned_steps": offset + args.steps, "batch_size": args.batch_size,
            "epochs": round(sum(s["steps"] * s["batch_size"] for s in stages) / len(real)
                            + local_step * args.batch_size / len(real), 2), "train_images": int(len(real)),
            "optimizer": {"g_lr": args.g_lr, "d_lr": args.d_lr, "beta_1": 0.5, "beta_2": beta_2},
            "ema": args.ema or None,
            "init_from": {k: v for k, v in start.items() if k != "weights"} if start else None,
            "training_seconds": round(sum(s.get("training_seconds", 0) for s in stages) + training_seconds, 1),
            "command": " && ".join([s["command"] for s in stages] + [command]),
            "metrics": {**report, "judge": judge.name, "judge_layer": JUDGE_LAYER, "reference": reference["report"]},
        }
        if stages:
            this = {"steps": local_step, "command": command, "optimizer": entry["optimizer"], "ema": args.ema or None,
                    "batch_size": args.batch_size, "training_seconds": round(training_seconds, 1)}
            entry["stages"] = stages + [this]
        registry.write_entry(name, entry, out, extra_files={"records": f"{name}.records.npz"})
        print(f"{name} checkpoint at step {step}: IS {report['inception_score']}, Fréchet "
              f"{report['frechet_distance']}, classes >= 5% {report['classes_over_5_percent']}, "
              f"min class {report['min_class_share']}, diversity {report['diversity']} "
              f"({training_seconds:.0f} s)", flush=True)
        return entry

    print(f"training {name} ({args.loss}) on {ds.title}: {len(real)} images, {args.steps} steps of "
          f"{args.batch_size}, seed {args.seed}", flush=True)
    step = 0
    for step, batch in enumerate(data.take(args.steps), start=1):
        logs = step_fn(batch)
        if ema_update is not None:
            ema_update()
        for k, v in logs.items():
            history.setdefault(k, []).append(float(v))
        progress(step, **{k: v[-1] for k, v in history.items()})
        out_of_time = args.max_minutes and time.time() - started > 60 * args.max_minutes
        if step in snap_at or out_of_time:
            grids.append(to_uint8(generated(fixed_z)))
            grid_steps.append(offset + step)
        if out_of_time:
            print(f"{name}: stopping at step {step} after {args.max_minutes} minutes", flush=True)
            break
        if step % args.checkpoint_every == 0 and step != args.steps:
            checkpoint(step, final=False)
    entry = checkpoint(step, final=True)
    return entry


def to_uint8(x01: np.ndarray) -> np.ndarray:
    return np.round(np.clip(x01, 0, 1) * 255).astype(np.uint8)


# ## The bank of training images for "nearest training image"
def bank_key(dataset: str) -> str:
    return f"gan_bank_{dataset}"


def make_bank(args, command: str) -> list[Path]:
    """For each dataset, `--size` training images (uint8, a fixed random subset) with the judge CNN's dense1
    features (float16), as a bundled data file the GAN page searches."""
    paths = []
    for dataset in ("mnist", "fashion"):
        (x_train, y_train), _ = load_arrays(dataset, args.data)
        if args.limit:
            x_train, y_train = x_train[:args.limit], y_train[:args.limit]
        idx = np.sort(np.random.default_rng(args.seed).choice(len(x_train), min(args.size, len(x_train)),
                                                               replace=False))
        feats, _ = Judge(f"cnn_{dataset}")(as_model_input(x_train[idx]))
        path = args.out / f"{bank_key(dataset)}.npz"
        args.out.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, x=x_train[idx].astype(np.uint8), y=y_train[idx].astype(np.uint8),
                            index=idx.astype(np.int32), features=feats.astype(np.float16))
        registry.write_data_entry(bank_key(dataset), path,
                                  f"{len(idx)} random {dataset} training images and their cnn_{dataset} "
                                  f"{JUDGE_LAYER} features, for the GAN page's nearest-neighbour search",
                                  args.out, command=command, judge=f"cnn_{dataset}", layer=JUDGE_LAYER)
        print(f"wrote {path} ({path.stat().st_size} bytes)", flush=True)
        paths.append(path)
    return paths
