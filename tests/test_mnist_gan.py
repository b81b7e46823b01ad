"""Chapter 05: models, evaluation math, training with checkpoints and resume, command line."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from aigc_course import cli
from aigc_course.evaluation.metrics import (class_histogram, class_probabilities, classifier_path, comparison_markdown,
                                    evaluate_images, frechet_distance, inception_score, load_or_train_classifier,
                                    nearest_neighbour_pairs, nearest_neighbours, plot_class_histograms)
from aigc_course.checkpoints import CheckpointError
from aigc_course.gan.runs import (load_generator, load_sample_grid, load_training_state, restore_training_state,
                                  run_folder, sample_grid_paths, save_grid_png, save_training_state)
from aigc_course.vae import MLPVAE, save_vae
from aigc_course.gan.training import discriminator_outputs, ema_update, make_optimizers, measure_step_speed, train_gan
from aigc_course.gan.mnist_models import (MODELS, GaussianNoise, MinibatchStd, article_discriminator, article_generator,
                                   build_models, count_parameters, dcgan_up_block, generate, latent_directions_image,
                                   latent_steps, latent_walk, recalibrate_batch_norm, to_unit)

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- models

@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_maps_noise_to_images_and_images_to_logits(name):
    torch.manual_seed(0)
    g, d = build_models(name)
    images = g(torch.randn(4, MODELS[name].z_dim))
    assert images.shape == (4, 1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1
    assert d(images).shape == (4, 1)


def test_article_port_has_the_articles_layers_and_keras_init():
    g, d = article_generator(), article_discriminator()
    assert [type(m).__name__ for m in g] == ["Linear", "GaussianNoise", "LeakyReLU", "Linear", "Tanh", "Unflatten"]
    assert [type(m).__name__ for m in d] == ["Flatten", "Linear", "Dropout", "LeakyReLU", "Linear"]
    assert (g[0].in_features, g[0].out_features, g[3].out_features) == (100, 128, 784)
    assert count_parameters(g) == 100 * 128 + 128 + 128 * 784 + 784
    assert count_parameters(d) == 784 * 128 + 128 + 128 + 1
    for layer in (g[0], g[3], d[1], d[4]):  # Glorot-uniform bound sqrt(6 / (fan_in + fan_out)), zero bias
        bound = math.sqrt(6 / (layer.in_features + layer.out_features))
        assert layer.weight.abs().max() <= bound and layer.weight.abs().max() > 0.9 * bound
        assert torch.count_nonzero(layer.bias) == 0


def test_gaussian_noise_is_active_only_in_training():
    layer = GaussianNoise(0.1)
    x = torch.zeros(20000)
    torch.manual_seed(0)
    assert abs(layer(x).std().item() - 0.1) < 0.003
    layer.eval()
    assert torch.equal(layer(x), x)
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(-1.0)


def test_minibatch_std_appends_mean_spread():
    h = torch.tensor([[0.0, 2.0], [2.0, 6.0]])
    out = MinibatchStd()(h)
    assert out.shape == (2, 3)
    assert torch.allclose(out[:, 2], torch.tensor([1.5, 1.5]))  # population std 1 and 2, mean 1.5
    with pytest.raises(ValueError, match="at least 2"):
        MinibatchStd()(h[:1])


def test_dcgan_up_block_doubles_resolution_without_conv_bias():
    block = dcgan_up_block(8, 4)
    assert block(torch.randn(2, 8, 7, 7)).shape == (2, 4, 14, 14)
    assert block[0].bias is None and isinstance(block[1], torch.nn.BatchNorm2d)
    with pytest.raises(TypeError, match="in_channels"):
        dcgan_up_block(8.0, 4)


def test_generate_is_seeded_in_unit_range_and_keeps_training_mode():
    g, _ = build_models("gan")
    g.train()
    a, b = generate(g, 5, seed=3), generate(g, 5, seed=3)
    assert a.shape == (5, 28, 28) and torch.equal(a, b) and g.training
    assert a.min() >= 0 and a.max() <= 1
    assert torch.equal(generate(g, 5, z_dim=100, seed=3), a)  # the spec's size, given or read from the network
    with pytest.raises(ValueError, match="z_dim must be the generator's noise size 100, got 64"):
        generate(g, 5, z_dim=64)
    with pytest.raises(ValueError, match="z_dim must be given"):
        generate(torch.nn.Sequential(torch.nn.Linear(8, 784), torch.nn.Unflatten(1, (1, 28, 28))), 2)
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 0, :4] = torch.tensor([-1.0, 0.0, 1.0, 3.0])
    assert to_unit(x).shape == (1, 28, 28) and torch.equal(to_unit(x)[0, 0, :4], torch.tensor([0.0, 0.5, 1.0, 1.0]))
    z = latent_steps(torch.zeros(3), torch.ones(3), 5)
    assert torch.allclose(z[:, 0], torch.tensor([0, 0.25, 0.5, 0.75, 1.0]))


def test_recalibrated_batch_norm_matches_the_current_weights():
    torch.manual_seed(0)
    g, _ = build_models("mlp")
    with torch.no_grad():
        for p in g.parameters():
            p.mul_(1.5)  # weights whose statistics the running buffers have never seen
    z = torch.randn(4000, 100)
    first_linear, first_norm = g[0], g[1]
    with torch.no_grad():
        pre = first_linear(z)
        g.train()
        batch_stats = g(z)  # training mode: normalizes with this batch's own statistics
        g.eval()
        stale = (g(z) - batch_stats).abs().mean()
    recalibrate_batch_norm(g, 100, batches=8, batch_size=500)
    assert not g.training and first_norm.momentum == 0.1  # momentum restored after the cumulative average
    standard_error = pre.std(0) * math.sqrt(1 / 4000 + 1 / 4000)  # two independent samples of 4000
    assert ((first_norm.running_mean - pre.mean(0)).abs() < 5 * standard_error).all()
    assert torch.allclose(first_norm.running_var, pre.var(0), rtol=0.15)
    with torch.no_grad():
        fresh = (g(z) - batch_stats).abs().mean()
    assert fresh < 0.2 * stale


def test_latent_helpers_and_widget_functions(tmp_path):
    torch.manual_seed(0)
    g, _ = build_models("gan")
    walk = latent_walk(g, torch.zeros(100), torch.ones(100), 6)
    assert walk.shape == (6, 28, 28) and 0 <= walk.min() and walk.max() <= 1
    directions = torch.eye(100)[:3]
    image = latent_directions_image(g, torch.zeros(100), directions, [1.0, 0.0, -2.0])
    expected = to_unit(g.eval()(torch.cat([torch.tensor([1.0, 0.0, -2.0]), torch.zeros(97)])[None]))[0]
    assert torch.allclose(image, expected)
    with pytest.raises(ValueError, match="one value per direction"):
        latent_directions_image(g, torch.zeros(100), directions, [1.0])
    save_grid_png(torch.rand(4, 28, 28), tmp_path / "samples" / "epoch_001.png", nrow=2)
    grid = load_sample_grid(tmp_path, 1)
    assert grid.shape[:2] == (2 * (2 * 30 + 2), 2 * (2 * 30 + 2))  # 2 x 2 images, each pixel doubled
    with pytest.raises(ValueError, match=r"saved epochs \[1\]"):
        load_sample_grid(tmp_path, 2)


def test_step_speed_is_measured_without_touching_the_global_rng():
    state = torch.get_rng_state()
    speed = measure_step_speed("gan", steps=2, warmup=1)
    assert speed > 0 and torch.equal(torch.get_rng_state(), state)
    g, d = build_models("gan")
    g_opt, d_opt = make_optimizers(MODELS["gan"], g, d)
    assert g_opt.defaults["lr"] == MODELS["gan"].g_lr and g_opt.defaults["betas"] == MODELS["gan"].betas


# ---------------------------------------------------------------- evaluation math

def test_inception_score_extremes_and_formula():
    assert inception_score(torch.eye(10)) == pytest.approx(10.0)
    assert inception_score(torch.full((7, 10), 0.1)) == pytest.approx(1.0)
    assert inception_score(torch.eye(10)[[0, 0, 1, 1]]) == pytest.approx(2.0)
    probs = torch.softmax(torch.randn(50, 10, generator=torch.Generator().manual_seed(0)) * 3, 1).double()
    p = probs.numpy()
    marginal = p.mean(0)
    expected = np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), 1)))
    assert inception_score(probs) == pytest.approx(expected, rel=1e-10)
    assert inception_score(probs[:, torch.randperm(10)]) == pytest.approx(expected, rel=1e-10)  # class order is irrelevant
    with pytest.raises(ValueError, match="rows summing to 1"):
        inception_score(torch.rand(4, 10))


def test_class_histogram_counts_argmax():
    probs = torch.eye(3)[[0, 2, 2, 1]].double()
    assert torch.allclose(class_histogram(probs), torch.tensor([0.25, 0.25, 0.5], dtype=torch.float64))


def test_frechet_distance_matches_closed_forms():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4000, 1, generator=g, dtype=torch.float64) * 2 + 1
    b = torch.randn(3000, 1, generator=g, dtype=torch.float64) * 0.5 - 1
    # 1-D: FD = (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2 with the samples' own moments (unbiased variance).
    closed = (a.mean() - b.mean()) ** 2 + (a.std() - b.std()) ** 2
    assert frechet_distance(a, b) == pytest.approx(closed.item(), rel=1e-9)
    x = torch.randn(500, 6, generator=g, dtype=torch.float64)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    shift = torch.arange(6, dtype=torch.float64)
    assert frechet_distance(x, x + shift) == pytest.approx(shift.square().sum().item(), rel=1e-8)
    y = torch.randn(400, 6, generator=g, dtype=torch.float64) @ torch.randn(6, 6, generator=g, dtype=torch.float64)
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-8)
    scipy_linalg = pytest.importorskip("scipy.linalg")
    ca, cb = np.cov(x.numpy().T), np.cov(y.numpy().T)
    reference = (np.sum((x.numpy().mean(0) - y.numpy().mean(0)) ** 2) + np.trace(ca + cb)
                 - 2 * np.trace(scipy_linalg.sqrtm(ca @ cb).real))
    assert frechet_distance(x, y) == pytest.approx(reference, rel=1e-6)
    with pytest.raises(ValueError, match="same width"):
        frechet_distance(x, y[:, :3])


def test_nearest_neighbours_match_brute_force():
    g = torch.Generator().manual_seed(1)
    pool, queries = torch.rand(30, 28, 28, generator=g), torch.rand(7, 28, 28, generator=g)
    queries[2] = pool[11]
    dist, index = nearest_neighbours(queries, pool, batch_size=3)
    brute = ((queries.flatten(1)[:, None] - pool.flatten(1)[None]) ** 2).sum(-1).sqrt()
    assert torch.equal(index, brute.argmin(1)) and index[2] == 11
    assert torch.allclose(dist, brute.min(1).values, atol=1e-4)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        nearest_neighbours(queries * 2 - 1, pool)


def test_report_table_histogram_plot_and_neighbour_pairs():
    report = {"n": 10, "inception_score": 7.25, "frechet_distance": 3.0, "min_class_fraction": 0.05,
              "max_class_fraction": 0.2, "mean_confidence": 0.9}
    table = comparison_markdown({"a": report, "b": dict(report, inception_score=9.5)})
    assert "| Inception-style score (max 10) | 7.25 | 9.50 |" in table and "nearest" not in table
    ax = plot_class_histograms({"a": [0.1] * 10, "b": [0.05, 0.15] * 5})
    assert len(ax.patches) >= 20
    with pytest.raises(ValueError, match="10 shares"):
        plot_class_histograms({"a": [0.5, 0.5]})
    pool = torch.rand(20, 28, 28, generator=torch.Generator().manual_seed(0))
    pairs = nearest_neighbour_pairs(pool[[3, 7]] * 0.99, pool, n=2)
    assert pairs.shape == (4, 28, 28) and torch.equal(pairs[2], pool[3]) and torch.equal(pairs[3], pool[7])


def test_classifier_is_cached_and_a_corrupt_cache_is_replaced(mnist_env, monkeypatch, capsys):
    torch.manual_seed(0)
    model = load_or_train_classifier(train_subset=300, epochs=1, progress=False, verbose=False)
    path = classifier_path(300, 1, 0)
    assert path.is_file() and str(path).startswith(str(mnist_env))
    import aigc_course.evaluation.metrics as evaluation

    def no_training(*args, **kwargs):
        raise AssertionError("a cached classifier must be loaded, not trained again")

    monkeypatch.setattr(evaluation, "train_classifier", no_training)
    again = load_or_train_classifier(train_subset=300, epochs=1, verbose=False)
    for key, value in model.state_dict().items():
        assert torch.equal(value, again.state_dict()[key])
    path.write_bytes(b"not a checkpoint")
    monkeypatch.undo()
    monkeypatch.setenv("AIGC_COURSE_DATA", str(mnist_env))
    load_or_train_classifier(train_subset=300, epochs=1, progress=False, verbose=False)
    assert "not a readable checkpoint" in capsys.readouterr().err  # reported in one line, then retrained
    torch.save({"model": model.state_dict(), "test_accuracy": 0.9}, path)  # the cache format before checkpoints.py
    replaced = load_or_train_classifier(train_subset=300, epochs=1, progress=False, verbose=False)
    assert "old cache" in capsys.readouterr().err and isinstance(replaced, type(model))
    assert load_or_train_classifier(train_subset=300, epochs=1, verbose=False) is not None  # now a valid cache
    assert capsys.readouterr().out == ""
    probs = class_probabilities(model, torch.rand(5, 28, 28))
    assert torch.allclose(probs.sum(1), torch.ones(5))
    report = evaluate_images(model, torch.rand(20, 28, 28), torch.randn(50, 128).abs())
    assert set(report) >= {"inception_score", "class_fractions", "frechet_distance"}


# ---------------------------------------------------------------- training, checkpoints, resume

def test_ema_update_formula_and_buffers():
    a, b = torch.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    with torch.no_grad():
        a.weight.fill_(1.0)
        b.weight.fill_(3.0)
        b.running_mean.fill_(5.0)
    ema_update(a, b, 0.75)
    assert torch.allclose(a.weight, torch.full((3,), 1.5))  # 0.75 * 1 + 0.25 * 3
    assert torch.equal(a.running_mean, b.running_mean) and torch.equal(b.weight, torch.full((3,), 3.0))
    with pytest.raises(ValueError, match="decay"):
        ema_update(a, b, 1.5)


class _Interrupt(Exception):
    pass


def _states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_interrupted_training_resumes_exactly(mnist_env, tmp_path):
    straight = train_gan("mlp", 3, tmp_path / "a", train_subset=384, progress=False)
    assert straight.epochs_done == 3 and len(sample_grid_paths(tmp_path / "a")) == 3

    def crash(epoch, batch):
        if (epoch, batch) == (2, 1):  # mid-epoch: epoch 1 is checkpointed, epoch 2 half done
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train_gan("mlp", 3, tmp_path / "b", train_subset=384, progress=False, on_batch=crash)
    assert load_training_state(tmp_path / "b" / "checkpoint.pt")["epoch"] == 1
    resumed = train_gan("mlp", 3, tmp_path / "b", train_subset=384, progress=False)
    assert (resumed.resumed_from, resumed.trained_epochs, resumed.epochs_done) == (1, 2, 3)
    a, b = load_training_state(tmp_path / "a" / "checkpoint.pt"), load_training_state(tmp_path / "b" / "checkpoint.pt")
    for key in ("generator", "discriminator", "ema_generator"):
        assert _states_equal(a[key], b[key]), f"{key} differs after resuming"
    assert a["history"]["train/g_loss"] == b["history"]["train/g_loss"]
    assert a["history"]["eval/d_real"] == b["history"]["eval/d_real"]
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])

    # Load-or-train: asking for epochs already done trains nothing.
    def must_not_train(epoch, batch):
        raise AssertionError("nothing should be trained")

    loaded = train_gan("mlp", 3, tmp_path / "b", train_subset=384, progress=False, on_batch=must_not_train)
    assert loaded.trained_epochs == 0 and loaded.epochs_done == 3
    assert _states_equal(loaded.generator.state_dict(), b["ema_generator"])


def test_restore_training_state_returns_next_epoch_and_restores_everything(mnist_env, tmp_path):
    train_gan("gan", 1, tmp_path, train_subset=256, progress=False)
    checkpoint = load_training_state(tmp_path / "checkpoint.pt")
    g, d = build_models("gan")
    g_opt, d_opt = torch.optim.Adam(g.parameters()), torch.optim.Adam(d.parameters())
    torch.manual_seed(123)
    assert restore_training_state(checkpoint, g, d, g_opt, d_opt) == 2
    assert _states_equal(g.state_dict(), checkpoint["generator"])
    assert g_opt.state_dict()["param_groups"][0]["lr"] == MODELS["gan"].g_lr
    assert torch.equal(torch.get_rng_state(), checkpoint["rng"]["torch"])


def test_port_trains_without_nan_and_reports_discriminator_outputs(mnist_env, tmp_path):
    run = train_gan("gan", 2, tmp_path, train_subset=512, progress=False)
    h = run.history
    assert all(math.isfinite(v) for key in ("train/d_loss", "train/g_loss", "eval/d_real", "eval/d_fake") for v in h[key])
    assert all(0 < v < 1 for v in h["eval/d_real"] + h["eval/d_fake"])
    g, d = build_models("gan")
    d_real, d_fake = discriminator_outputs(d, g, torch.zeros(4, 1, 28, 28), torch.randn(4, 100))
    assert 0 < d_real < 1 and 0 < d_fake < 1 and g.training and d.training


def test_checkpoint_errors_are_clear(mnist_env, tmp_path, capsys):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_training_state(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_training_state(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")  # e.g. a cache of the old format
    with pytest.raises(CheckpointError, match="not an aigc-course checkpoint"):
        load_training_state(tmp_path / "foreign.pt")
    save_vae(MLPVAE(latent_dim=2, hidden=8), tmp_path / "vae.pt")
    with pytest.raises(CheckpointError, match="holds a 'vae' checkpoint, expected 'gan'"):
        load_training_state(tmp_path / "vae.pt")
    train_gan("gan", 1, tmp_path / "run", train_subset=256, progress=False)
    with pytest.raises(CheckpointError, match="model='gan'.*use another out_dir"):
        train_gan("mlp", 2, tmp_path / "run", train_subset=256, progress=False)
    checkpoint = load_training_state(tmp_path / "run" / "checkpoint.pt")
    for field, value in (("epoch", -2), ("epoch", "1"), ("history", [1.0])):  # parse, but lie
        save_training_state(tmp_path / "lying.pt", {**checkpoint, field: value})
        with pytest.raises(CheckpointError, match=field):
            load_training_state(tmp_path / "lying.pt")
    checkpoint["generator"] = build_models("mlp")[0].state_dict()  # weights of another architecture
    save_training_state(tmp_path / "mismatch.pt", checkpoint)
    with pytest.raises(CheckpointError, match="do not fit model 'gan'"):
        load_generator(tmp_path / "mismatch.pt")
    code, _, err = _cli(capsys, "sample", "--checkpoint", str(tmp_path / "mismatch.pt"), "--n", "2", "--out",
                        str(tmp_path / "s.npy"))
    assert code == 2 and "do not fit model 'gan'" in err and "Traceback" not in err
    checkpoint["spec"] = dict(checkpoint["spec"], name="stylegan")
    save_training_state(tmp_path / "unknown.pt", checkpoint)
    with pytest.raises(CheckpointError, match="unknown model 'stylegan'"):
        load_generator(tmp_path / "unknown.pt")


def test_max_seconds_stops_between_epochs(mnist_env, tmp_path):
    run = train_gan("gan", 50, tmp_path, train_subset=256, progress=False, max_seconds=1e-3)
    assert run.stopped_early and run.epochs_done == 1


# ---------------------------------------------------------------- command line

def _cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_train_sample_evaluate(mnist_env, tmp_path, capsys):
    run = tmp_path / "run"
    code, out, _ = _cli(capsys, "train", "gan", "--epochs", "1", "--out", str(run), "--train-subset", "256")
    assert code == 0 and "1 epochs done" in out
    code, out, _ = _cli(capsys, "train", "gan", "--epochs", "2", "--out", str(run), "--train-subset", "256")
    assert code == 0 and "resumed after epoch 1" in out
    code, out, _ = _cli(capsys, "train", "gan", "--epochs", "2", "--out", str(run), "--train-subset", "256")
    assert code == 0 and "nothing to train" in out and "2 epochs" in out
    npy = tmp_path / "samples.npy"
    code, out, _ = _cli(capsys, "sample", "--checkpoint", str(run / "checkpoint.pt"), "--n", "40", "--out", str(npy))
    assert code == 0
    images = np.load(npy)
    assert images.shape == (40, 28, 28) and images.dtype == np.float32 and 0 <= images.min() <= images.max() <= 1
    code, out, err = _cli(capsys, "evaluate", str(npy), "--nn-queries", "10")
    assert code == 0, err
    report = json.loads(out)
    assert report["generated"]["n"] == 40 and report["real"]["n"] == 40
    assert 1 <= report["generated"]["inception_score"] <= 10 and len(report["real"]["class_fractions"]) == 10
    assert report["generated"]["frechet_distance"] > report["real"]["frechet_distance"] >= 0


@pytest.mark.parametrize("argv, message", [
    (["train", "gan", "--epochs", "0", "--out", "x"], "positive integer"),
    (["train", "vae", "--epochs", "1", "--out", "x"], "invalid choice"),
    (["train", "gan", "--epochs", "1", "--out", "x", "--device", "cuda:7"], "device"),
    (["train", "gan", "--epochs", "1", "--out", "x", "--train-subset", "5"], "train_subset must be >= 128"),
    (["sample", "--checkpoint", "nowhere.pt", "--n", "3", "--out", "a.npy"], "does not exist"),
    (["sample", "--checkpoint", "nowhere.pt", "--n", "3", "--out", "a.png"], ".npy"),
    (["sample", "--checkpoint", "x.pt", "--n", "-3", "--out", "a.npy"], "positive integer"),
    (["evaluate", "nothing.npy"], "does not exist"),
    (["train", "gan", "--epochs", "1", "--out", "a_file.txt"], "out_dir must be a folder"),
])
def test_cli_bad_arguments_give_one_clear_line(mnist_env, tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file.txt").write_text("not a folder")
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_cli_rejects_corrupt_checkpoint_and_bad_arrays(mnist_env, tmp_path, capsys):
    (tmp_path / "bad.pt").write_bytes(b"PK\x03\x04 truncated")
    code, _, err = _cli(capsys, "sample", "--checkpoint", str(tmp_path / "bad.pt"), "--n", "2", "--out",
                        str(tmp_path / "s.npy"))
    assert code == 2 and "not a readable checkpoint" in err
    for name, array, message in [("shape.npy", np.zeros((3, 32, 32), np.float32), "shape"),
                                 ("range.npy", np.full((3, 28, 28), 255.0, np.float32), "[0, 1]"),
                                 ("ints.npy", np.zeros((3, 28, 28), np.uint8), "dtype")]:
        np.save(tmp_path / name, array)
        code, _, err = _cli(capsys, "evaluate", str(tmp_path / name))
        assert code == 2 and message in err and "Traceback" not in err, err
    (tmp_path / "text.npy").write_text("hello")
    code, _, err = _cli(capsys, "evaluate", str(tmp_path / "text.npy"))
    assert code == 2 and "not a readable .npy" in err


def test_killed_training_process_resumes_from_its_checkpoint(mnist_env, tmp_path):
    """SIGKILL a training process after its first checkpoint; the checkpoint stays valid and training resumes."""
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "aigc_course", "train", "mlp", "--epochs", "1000", "--out", str(out),
               "--train-subset", "1280", "--threads", "1"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.pt").exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint written within 120 s"
            time.sleep(0.05)
        time.sleep(0.3)  # into a later epoch
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    done = load_training_state(out / "checkpoint.pt")["epoch"]  # still a valid checkpoint after the kill
    assert done >= 1
    command[command.index("1000")] = str(done + 1)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"resumed after epoch {done}" in result.stdout
    assert load_training_state(out / "checkpoint.pt")["epoch"] == done + 1
    assert len(sample_grid_paths(out)) == done + 1


def test_run_folder_depends_on_settings(mnist_env):
    a, b = run_folder("mlp"), run_folder("mlp", 1024, seed=3)
    assert a.parent == mnist_env / "models" / "mnist_gan" and a.name.startswith("mlp-") and a.name.endswith("-nall-s0")
    assert b.name.endswith("-n1024-s3") and a.name.split("-")[1] == b.name.split("-")[1]
    assert run_folder("gan").name.split("-")[1] != a.name.split("-")[1]
