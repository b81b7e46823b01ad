"""Issue 14: bad input gives a clear error every time, and valid extremes give finite, correct answers.

``CASES`` is a table: each row calls one public function with one bad input and states the
exception type and a word the message must contain (the argument's or the file's name). Rows are
grouped by the issue's families: ``numbers`` (values silently wrong before), ``checkpoint``
(untrusted files), ``cache`` (the MNIST data cache), ``args`` (types, shapes, sizes) and ``cli``
(the command line: exit status 2, one line on stderr, no traceback). ``test_every_notebook_import_has_a_case``
fails when a notebook imports a public function that has no row here.
``EXTREMES`` holds valid extreme inputs and the finite answer each must give.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import io
import math
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.nn as nn

import aigc_course.applications as app
import aigc_course.attention as att
import aigc_course.course as course
import aigc_course.diffusion as dif
import aigc_course.evaluation as ev
import aigc_course.gan as gan
import aigc_course.preprocessing as pre
import aigc_course.vae as vae
from aigc_course import checkpoints, cli, config, data, plotting, training, validate
from aigc_course.checks import all_exercises
from aigc_course.checkpoints import CheckpointError

ROOT = Path(__file__).resolve().parents[1]
NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------- small inputs shared by the rows


@functools.cache
def tiny_vae() -> nn.Module:
    torch.manual_seed(0)
    return vae.MLPVAE(latent_dim=2, hidden=8).eval()


@functools.cache
def tiny_gan() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    return gan.build_models("gan")


@functools.cache
def tiny_classifier() -> nn.Module:
    torch.manual_seed(0)
    return ev.DigitClassifier().eval()


@functools.cache
def tiny_text() -> tuple[nn.Module, Any]:
    vocab = app.CharVocab.from_text("abcde ")
    torch.manual_seed(0)
    return app.CharTransformer(vocab.size, block_size=8, d_model=8, n_heads=2, n_layers=1), vocab


@functools.cache
def tiny_task_model() -> nn.Module:
    torch.manual_seed(0)
    return att.AttentionSequenceModel(vocab=4, length=4, d_model=8)


@functools.cache
def toy_run():
    return gan.train_toy_gan(gan.GaussianRing(), gan.ToyGANConfig(steps=2, batch_size=8, n_snapshots=2,
                                                                   eval_samples=16, hidden=8, depth=1),
                             progress=False)


def imgs(n: int = 3, fill: float | None = None) -> torch.Tensor:
    x = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(n))
    return x if fill is None else x.fill_(fill)


def with_nan(x: torch.Tensor, value: float = NAN) -> torch.Tensor:
    x = x.clone()
    x.view(-1)[len(x.view(-1)) // 2] = value
    return x


def masks(n: int = 3) -> torch.Tensor:
    return app.make_masks("bottom half", n)


# ---------------------------------------------------------------- files for the checkpoint and cache rows


def _save_record(path: Path, record: Any) -> Path:
    buffer = io.BytesIO()
    torch.save(record, buffer)
    path.write_bytes(buffer.getvalue())
    return path


def vae_file(tmp: Path, kind: str) -> Path:
    """A VAE checkpoint that is broken in one way (``kind``); every one must be a CheckpointError on load."""
    path = tmp / f"vae_{kind}.pt"
    good = vae.save_vae(tiny_vae(), tmp / "good_vae.pt", test_loss=1.5)
    raw = good.read_bytes()
    if kind == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "malicious":  # pickled code: weights_only refuses it and nothing runs
        class Payload:
            def __reduce__(self):
                return (os.system, ("echo pwned > " + str(tmp / "pwned"),))
        path.write_bytes(pickle.dumps({"format": "aigc-course-checkpoint", "x": Payload()}))
    elif kind in ("huge_config", "list_config", "unknown_field", "nan_weights", "string_metadata", "state_list"):
        config = {"kind": "mlp", "latent_dim": 2, "hidden": 8}
        states = {"model": tiny_vae().state_dict()}
        metadata: dict = {"test_loss": 1.5}
        if kind == "huge_config":
            config["hidden"] = 10**6  # would allocate gigabytes if built
        elif kind == "list_config":
            config = ["mlp", 2, 8]  # type: ignore[assignment]
        elif kind == "unknown_field":
            config["dropout"] = 0.5
        elif kind == "nan_weights":
            states = {"model": {k: v.clone().fill_(NAN) if v.is_floating_point() else v for k, v in states["model"].items()}}
        elif kind == "string_metadata":
            metadata = {"test_loss": [1, 2]}
        elif kind == "state_list":
            states = {"model": [1, 2, 3]}  # type: ignore[dict-item]
        payload = {"kind": "vae", "config": config, "states": states, "metadata": metadata}
        record = {"format": checkpoints.FORMAT, "version": checkpoints.VERSION, **payload,
                  "sha256": checkpoints._digest(payload)}  # a valid hash: the file parses, but lies
        _save_record(path, record)
    elif kind == "folder":
        path.mkdir()
    return path


@functools.cache
def _gan_run(tmp_root: str) -> dict:
    """One real chapter-05 checkpoint (2 epochs of the small port on 256 images), its fields as a dict."""
    gan.train_gan("gan", 2, Path(tmp_root) / "run", train_subset=256, progress=False)
    return gan.load_training_state(Path(tmp_root) / "run" / "checkpoint.pt")


def lying_gan_file(tmp: Path, root: Path, field: str, value: Any) -> Path:
    """A GAN checkpoint with a valid checksum whose ``field`` holds ``value``."""
    state = dict(_gan_run(str(root)))
    if field.startswith("rng."):
        state["rng"] = {**state["rng"], field[4:]: value}
    elif field.startswith("history."):
        state["history"] = {**state["history"], field[8:]: value}
    else:
        state[field] = value
    path = tmp / f"lying_{field.replace('.', '_').replace('/', '_')}.pt"
    gan.save_training_state(path, state)
    return path


# ---------------------------------------------------------------- the table


@dataclass
class Case:
    family: str
    target: str  # the public name this row exercises
    label: str
    call: Callable[["Ctx"], Any]
    error: type[BaseException]
    needle: str  # must appear in the message; "{tmp}" is replaced by the row's temporary folder


@dataclass
class Ctx:
    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    mnist: Path | None = None
    shared: Path | None = None


CASES: list[Case] = []


def case(family: str, target: str, label: str, error: type[BaseException], needle: str):
    def register(call: Callable[[Ctx], Any]) -> Callable[[Ctx], Any]:
        CASES.append(Case(family, target, label, call, error, needle))
        return call
    return register


def rows(family: str, target: str, error: type[BaseException], needle: str, **calls: Callable[[Ctx], Any]) -> None:
    for label, call in calls.items():
        CASES.append(Case(family, target, label, call, error, needle))


# ---- family "numbers": values that were silently wrong (NaN, inf, out of range, empty) -------------

rows("numbers", "train_vae", ValueError, "images",
     nan_pixel=lambda c: vae.train_vae(tiny_vae(), with_nan(imgs()), epochs=1, progress=False),
     inf_pixel=lambda c: vae.train_vae(tiny_vae(), with_nan(imgs(), INF), epochs=1, progress=False),
     pixels_255=lambda c: vae.train_vae(tiny_vae(), imgs() * 255, epochs=1, progress=False),
     empty=lambda c: vae.train_vae(tiny_vae(), imgs()[:0], epochs=1, progress=False))
rows("numbers", "train_vae", ValueError, "eval_images",
     nan_eval=lambda c: vae.train_vae(tiny_vae(), imgs(), epochs=1, eval_images=with_nan(imgs()), progress=False))
rows("numbers", "reconstruction_nll", ValueError, "x",
     targets_200=lambda c: vae.reconstruction_nll(torch.zeros(2, 784), torch.full((2, 784), 200.0)),
     negative_targets=lambda c: vae.reconstruction_nll(torch.zeros(2, 784), torch.full((2, 784), -0.5)),
     nan_targets=lambda c: vae.reconstruction_nll(torch.zeros(2, 784), with_nan(torch.rand(2, 784))))
rows("numbers", "reconstruction_nll", ValueError, "logits",
     nan_logits=lambda c: vae.reconstruction_nll(with_nan(torch.zeros(2, 784)), torch.rand(2, 784)))
rows("numbers", "vae_loss", ValueError, "x",
     empty_batch=lambda c: vae.vae_loss(torch.zeros(0, 784), torch.zeros(0, 784), torch.zeros(0, 2), torch.zeros(0, 2)))
rows("numbers", "vae_loss", ValueError, "mu",
     nan_mu=lambda c: vae.vae_loss(torch.zeros(2, 784), torch.rand(2, 784), with_nan(torch.zeros(2, 3)), torch.zeros(2, 3)))
rows("numbers", "gaussian_kl", ValueError, "mu",
     nan_mu=lambda c: vae.gaussian_kl(torch.full((2, 3), NAN), torch.zeros(2, 3)),
     no_latent_dims=lambda c: vae.gaussian_kl(torch.zeros(2, 0), torch.zeros(2, 0)))
rows("numbers", "gaussian_kl", ValueError, "logvar",
     inf_logvar=lambda c: vae.gaussian_kl(torch.zeros(2, 3), torch.full((2, 3), INF)))
rows("numbers", "evaluate", ValueError, "images",
     nan_images=lambda c: vae.evaluate(tiny_vae(), with_nan(imgs())))
rows("numbers", "importance_weighted_nll", ValueError, "images",
     out_of_range=lambda c: vae.importance_weighted_nll(tiny_vae(), imgs() + 1, k=2))
rows("numbers", "softmax", ValueError, "x",
     nan=lambda c: att.softmax(torch.tensor([1.0, NAN])),
     pos_inf=lambda c: att.softmax(torch.tensor([1.0, INF])),
     empty_dim=lambda c: att.softmax(torch.zeros(2, 0)),
     empty_dim0=lambda c: att.softmax(torch.zeros(0, 3), dim=0))
rows("numbers", "softmax", ValueError, "temperature",
     zero_temperature=lambda c: att.softmax(torch.zeros(3), temperature=0.0),
     nan_temperature=lambda c: att.softmax(torch.zeros(3), temperature=NAN))
rows("numbers", "scaled_dot_product_attention", ValueError, "q",
     nan_q=lambda c: att.scaled_dot_product_attention(torch.full((2, 3), NAN), torch.rand(2, 3), torch.rand(2, 3)))
rows("numbers", "scaled_dot_product_attention", ValueError, "k",
     inf_k=lambda c: att.scaled_dot_product_attention(torch.rand(2, 3), with_nan(torch.rand(2, 3), INF), torch.rand(2, 3)),
     no_keys=lambda c: att.scaled_dot_product_attention(torch.rand(2, 3), torch.rand(0, 3), torch.rand(0, 3)))
rows("numbers", "scaled_dot_product_attention", ValueError, "v",
     nan_v=lambda c: att.scaled_dot_product_attention(torch.rand(2, 3), torch.rand(2, 3), with_nan(torch.rand(2, 3))))
rows("numbers", "attention_loops", ValueError, "q",
     nan_q=lambda c: att.attention_loops(torch.full((2, 3), NAN), torch.rand(2, 3), torch.rand(2, 3)))
rows("numbers", "SelfAttention", ValueError, "x",
     nan_x=lambda c: att.SelfAttention(4)(with_nan(torch.rand(1, 3, 4))))
rows("numbers", "MultiHeadAttention", ValueError, "query",
     inf_query=lambda c: att.MultiHeadAttention(4, 2)(with_nan(torch.rand(1, 3, 4), INF)))
rows("numbers", "TransformerBlock", ValueError, "x",
     nan_x=lambda c: att.TransformerBlock(4, 2)(with_nan(torch.rand(1, 3, 4))))
rows("numbers", "discriminator_step", ValueError, "real",
     nan_real=lambda c: gan.discriminator_step(*tiny_gan(), torch.optim.SGD(tiny_gan()[1].parameters(), lr=0.0),
                                               with_nan(imgs() * 2 - 1), torch.randn(3, 100)),
     empty_real=lambda c: gan.discriminator_step(*tiny_gan(), torch.optim.SGD(tiny_gan()[1].parameters(), lr=0.0),
                                                 imgs()[:0], torch.randn(3, 100)))
rows("numbers", "generator_step", ValueError, "noise",
     inf_noise=lambda c: gan.generator_step(*tiny_gan(), torch.optim.SGD(tiny_gan()[0].parameters(), lr=0.0),
                                            with_nan(torch.randn(3, 100), INF)))
rows("numbers", "check_discriminator_loss", ValueError, "real_logits",  # the reference the check rebinds
     inf_logits=lambda c: gan.discriminator_loss(torch.tensor([INF]), torch.tensor([0.0])))
rows("numbers", "check_generator_loss", ValueError, "fake_logits",
     nan_logits=lambda c: gan.generator_loss(torch.tensor([NAN])),
     empty_logits=lambda c: gan.generator_loss(torch.zeros(0)))
rows("numbers", "generator_logit_gradients", ValueError, "d_values",
     d_is_one=lambda c: gan.generator_logit_gradients(torch.tensor([0.5, 1.0])),
     nan_d=lambda c: gan.generator_logit_gradients(torch.tensor([NAN])))
rows("numbers", "images_to_symmetric", TypeError, "images",
     float_images=lambda c: data.images_to_symmetric(torch.rand(2, 28, 28)))
rows("numbers", "symmetric_to_unit", ValueError, "x",
     nan=lambda c: validate.symmetric_to_unit(torch.tensor([0.0, NAN])),
     inf=lambda c: validate.symmetric_to_unit(torch.tensor([-INF])))
rows("numbers", "generate", ValueError, "generator's output",
     no_tanh=lambda c: gan.generate(nn.Sequential(nn.Linear(100, 784), nn.Unflatten(1, (1, 28, 28))).apply(
         lambda m: nn.init.constant_(m.weight, 1.0) if isinstance(m, nn.Linear) else None), 2, z_dim=100))
rows("numbers", "unit_to_symmetric", ValueError, "x",
     inf=lambda c: validate.unit_to_symmetric(torch.tensor([INF])),
     pixels_255=lambda c: validate.unit_to_symmetric(torch.tensor([255.0])))
rows("numbers", "from_unit_interval", ValueError, "values",
     nan=lambda c: app.from_unit_interval(torch.tensor([NAN])),
     above_one=lambda c: app.from_unit_interval(torch.tensor([1.5])))
rows("numbers", "to_unit_interval", ValueError, "waves",
     loud=lambda c: app.to_unit_interval(torch.tensor([2.0])),
     nan=lambda c: app.to_unit_interval(torch.tensor([NAN])))
rows("numbers", "evaluation_report", ValueError, "images",
     nan_images=lambda c: ev.evaluation_report(with_nan(imgs()), tiny_classifier(), reference={}))
rows("numbers", "frechet_distance", ValueError, "features_a",
     nan_features=lambda c: ev.frechet_distance(with_nan(torch.rand(5, 3)), torch.rand(5, 3)),
     inf_features=lambda c: ev.frechet_distance(with_nan(torch.rand(5, 3), INF), torch.rand(5, 3)),
     one_row=lambda c: ev.frechet_distance(torch.rand(1, 3), torch.rand(5, 3)))
rows("numbers", "class_histogram", ValueError, "probs",
     nan_row=lambda c: ev.class_histogram(torch.tensor([[NAN, 0.5], [0.2, 0.8]])),
     no_classes=lambda c: ev.class_histogram(torch.zeros(3, 0)))
rows("numbers", "class_probabilities", ValueError, "images",
     nan_images=lambda c: ev.class_probabilities(tiny_classifier(), with_nan(imgs())))
rows("numbers", "check_inception_score", ValueError, "probs",
     nan_row=lambda c: ev.inception_score(torch.tensor([[NAN, 0.5], [0.5, 0.5]])),
     not_normalised=lambda c: ev.inception_score(torch.tensor([[0.9, 0.9]])),
     empty=lambda c: ev.inception_score(torch.zeros(0, 10)))
rows("numbers", "evaluation_report", ValueError, "nn_queries",
     zero_queries=lambda c: ev.evaluation_report(imgs(), tiny_classifier(), reference={}, nn_queries=0))
rows("numbers", "nearest_neighbour_pairs", ValueError, "samples",
     nan_samples=lambda c: ev.nearest_neighbour_pairs(with_nan(imgs()), imgs()))
rows("numbers", "nearest_neighbour_pairs", ValueError, "train_images",
     empty_pool=lambda c: ev.nearest_neighbour_pairs(imgs(), imgs()[:0]))
rows("numbers", "nearest_class_mean_predict", ValueError, "train_x",
     nan_train=lambda c: pre.nearest_class_mean_predict(torch.full((4, 3), NAN), torch.tensor([0, 1, 0, 1]), torch.rand(2, 3)),
     empty_train=lambda c: pre.nearest_class_mean_predict(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), torch.rand(2, 3)))
rows("numbers", "nearest_class_mean_predict", ValueError, "test_x",
     wrong_width=lambda c: pre.nearest_class_mean_predict(torch.rand(4, 3), torch.tensor([0, 1, 0, 1]), torch.rand(2, 5)),
     one_dim=lambda c: pre.nearest_class_mean_predict(torch.rand(4, 3), torch.tensor([0, 1, 0, 1]), torch.rand(3)),
     inf_test=lambda c: pre.nearest_class_mean_predict(torch.rand(4, 3), torch.tensor([0, 1, 0, 1]), with_nan(torch.rand(2, 3), INF)))
rows("numbers", "nearest_class_mean_predict", TypeError, "train_y",
     float_labels=lambda c: pre.nearest_class_mean_predict(torch.rand(4, 3), torch.tensor([0.0, 1, 0, 1]), torch.rand(2, 3)))
rows("numbers", "generate", ValueError, "z_dim",
     wrong_latent=lambda c: gan.generate(tiny_gan()[0], 3, 50),
     wrong_latent_plain_net=lambda c: gan.generate(gan.article_generator(), 3, 50),
     plain_net_without_z_dim=lambda c: gan.generate(gan.article_generator(), 3))
rows("numbers", "generate", ValueError, "n",
     zero=lambda c: gan.generate(tiny_gan()[0], 0),
     absurd=lambda c: gan.generate(tiny_gan()[0], 10**12))
rows("numbers", "generate", ValueError, "batch_size",
     batch_zero=lambda c: gan.generate(tiny_gan()[0], 3, batch_size=0))
rows("numbers", "generate", ValueError, "generator's output",
     nan_weights=lambda c: gan.generate(nn.Sequential(nn.Linear(100, 784), nn.Unflatten(1, (1, 28, 28))).apply(
         lambda m: nn.init.constant_(m.weight, NAN) if isinstance(m, nn.Linear) else None), 2, z_dim=100))
rows("numbers", "check_next_char_probabilities", ValueError, "logits",
     all_neg_inf=lambda c: app.next_char_probabilities(torch.full((5,), -INF)),
     one_row_all_neg_inf=lambda c: app.next_char_probabilities(torch.tensor([[0.0, 1.0], [-INF, -INF]])),
     nan=lambda c: app.next_char_probabilities(torch.tensor([0.0, NAN])),
     pos_inf=lambda c: app.next_char_probabilities(torch.tensor([0.0, INF])))
rows("numbers", "check_next_char_probabilities", ValueError, "temperature",
     negative_temperature=lambda c: app.next_char_probabilities(torch.zeros(4), -1.0))
rows("numbers", "standardize", ValueError, "x",
     nan=lambda c: pre.standardize(torch.tensor([NAN]), 0.5, 0.2))
rows("numbers", "standardize", ValueError, "std",
     zero_std=lambda c: pre.standardize(torch.rand(3), 0.5, 0.0))
rows("numbers", "standardize", ValueError, "overflows",
     std_too_small=lambda c: pre.standardize(torch.tensor([0.9]), 0.5, 1e-300))
rows("numbers", "gaussian_kl", ValueError, "overflows",
     kl_overflows_float32=lambda c: vae.gaussian_kl(torch.full((1, 2), 1e20), torch.zeros(1, 2)))
rows("numbers", "attention_loops", ValueError, "overflow",
     scores_overflow_float64=lambda c: att.attention_loops(torch.tensor([[1e200]], dtype=torch.float64),
                                                           torch.tensor([[1e200]], dtype=torch.float64), torch.ones(1, 1)))
rows("numbers", "check_robust_z", ValueError, "values",
     nan=lambda c: pre.robust_z(torch.tensor([1.0, NAN, 2.0])))
rows("numbers", "unstandardize", ValueError, "z",
     inf=lambda c: pre.unstandardize(torch.tensor([INF]), 0.5, 0.2))
rows("numbers", "fit_standardization", ValueError, "train_images",
     nan=lambda c: pre.fit_standardization(torch.tensor([0.0, NAN])),
     constant=lambda c: pre.fit_standardization(torch.ones(10)))
rows("numbers", "unit_to_uint8", ValueError, "x",
     nan=lambda c: pre.unit_to_uint8(torch.tensor([NAN])))
rows("numbers", "mean_and_std", ValueError, "values",
     one_value=lambda c: pre.mean_and_std([0.5]),
     nan_value=lambda c: pre.mean_and_std([0.5, NAN]))
rows("numbers", "cents_from_nearest_note", ValueError, "frequency",
     nan=lambda c: app.cents_from_nearest_note(torch.tensor([NAN])),
     zero=lambda c: app.cents_from_nearest_note(torch.tensor([0.0])))
rows("numbers", "pitch_report", ValueError, "waves",
     nan=lambda c: app.pitch_report(with_nan(torch.rand(2, 64))))
rows("numbers", "melody", ValueError, "gap_seconds",
     absurd_gap=lambda c: app.melody(torch.zeros(2, 10), gap_seconds=1e9))
rows("numbers", "melody", ValueError, "waves",
     nan=lambda c: app.melody(with_nan(torch.zeros(2, 10))))
rows("numbers", "audio_player", ValueError, "wave",
     inf=lambda c: app.audio_player(with_nan(torch.zeros(100), INF)),
     empty=lambda c: app.audio_player(torch.zeros(0)))
rows("numbers", "add_noise", ValueError, "images",
     nan=lambda c: app.add_noise(with_nan(imgs()), 0.1))
rows("numbers", "add_noise", ValueError, "std",
     negative=lambda c: app.add_noise(imgs(), -0.1))
rows("numbers", "hidden_pixel_mse", ValueError, "candidate",
     nan=lambda c: app.hidden_pixel_mse(with_nan(imgs()), imgs(), masks()))
rows("numbers", "hidden_pixel_mse", ValueError, "visible",
     nothing_hidden=lambda c: app.hidden_pixel_mse(imgs(), imgs(), torch.ones(3, 1, 28, 28, dtype=torch.bool)))
rows("numbers", "complete_images", ValueError, "images",
     out_of_range=lambda c: app.complete_images(tiny_vae(), imgs() * 3, masks(), steps=1))
rows("numbers", "denoise_images", ValueError, "noisy",
     nan=lambda c: app.denoise_images(tiny_vae(), with_nan(imgs()), app.gaussian_nll(0.1), steps=1))
rows("numbers", "check_masked_bernoulli_nll", ValueError, "target",
     target_out_of_range=lambda c: app.masked_bernoulli_nll(torch.zeros(2, 1, 28, 28), torch.full((2, 1, 28, 28), 3.0),
                                                           torch.ones(2, 1, 28, 28, dtype=torch.bool)))
rows("numbers", "check_dominant_frequency", ValueError, "wave",
     nan=lambda c: app.dominant_frequency(with_nan(torch.rand(64))),
     too_short=lambda c: app.dominant_frequency(torch.rand(3)))
rows("numbers", "real_vs_generated", ValueError, "generated",
     nan=lambda c: app.real_vs_generated(imgs(), with_nan(imgs())))
rows("numbers", "memorization_distances", ValueError, "held_out",
     pixels_255=lambda c: app.memorization_distances(imgs(), imgs(), imgs() * 255))
rows("numbers", "generated_probability", ValueError, "images",
     nan=lambda c: app.generated_probability(tiny_classifier(), with_nan(imgs())))
rows("numbers", "predict_logits", ValueError, "images",
     nan=lambda c: ev.predict_logits(tiny_classifier(), with_nan(imgs())))
rows("numbers", "accuracy", ValueError, "images",
     pixels_255=lambda c: ev.accuracy(tiny_classifier(), imgs() * 255, torch.zeros(3, dtype=torch.long)))
rows("numbers", "show_images", ValueError, "images",
     nan=lambda c: plotting.show_images(with_nan(imgs())),
     out_of_range=lambda c: plotting.show_images(imgs() * 2))
rows("numbers", "plot_curves", ValueError, "curves",
     nan_curve=lambda c: plotting.plot_curves({"loss": [1.0, NAN]}),
     empty_curve=lambda c: plotting.plot_curves({"loss": []}))
rows("numbers", "mode_coverage", ValueError, "samples",
     nan=lambda c: gan.mode_coverage(with_nan(torch.zeros(4, 2)), gan.GaussianRing()))
rows("numbers", "latent_walk", ValueError, "start",
     nan=lambda c: gan.latent_walk(tiny_gan()[0], torch.full((100,), NAN), torch.zeros(100)))
rows("numbers", "latent_directions_image", ValueError, "coefficients[1]",
     nan_coefficient=lambda c: gan.latent_directions_image(tiny_gan()[0], torch.zeros(100), torch.eye(2, 100), [0.0, NAN]))
rows("numbers", "plot_latent_codes", ValueError, "codes",
     nan=lambda c: vae.plot_latent_codes(with_nan(torch.zeros(4, 2)), torch.arange(4)))
rows("numbers", "active_units", ValueError, "activity",
     nan=lambda c: vae.active_units(torch.tensor([NAN, 1.0])))
rows("numbers", "encode_mean", ValueError, "images",
     nan=lambda c: vae.encode_mean(tiny_vae(), with_nan(imgs())))
rows("numbers", "kl_per_dimension", ValueError, "images",
     inf=lambda c: vae.kl_per_dimension(tiny_vae(), with_nan(imgs(), INF)))
rows("numbers", "latent_activity", ValueError, "images",
     one_image=lambda c: vae.latent_activity(tiny_vae(), imgs(1)))
rows("numbers", "beta_sweep_figure", ValueError, "results",
     nan_loss=lambda c: vae.beta_sweep_figure({1.0: {"loss": NAN, "reconstruction": 1.0, "kl": 1.0}}),
     missing_terms=lambda c: vae.beta_sweep_figure({1.0: {"loss": 1.0}}))
rows("numbers", "worked_example", ValueError, "inputs",
     nan_input=lambda c: att.worked_example([1.0, NAN]),
     empty=lambda c: att.worked_example([]))
rows("numbers", "worked_example", ValueError, "temperature",
     overflow=lambda c: att.worked_example([100.0, 200.0], temperature=1.0))

# ---- family "args": types, shapes, sizes and choices of every other public function ----------------

rows("args", "MLPVAE", ValueError, "hidden", absurd_hidden=lambda c: vae.MLPVAE(hidden=10**6))
rows("args", "MLPVAE", TypeError, "latent_dim", float_latent=lambda c: vae.MLPVAE(latent_dim=2.5))
rows("args", "ConvVAE", ValueError, "parameters", too_many_parameters=lambda c: vae.ConvVAE(channels=(16, 4096), hidden=4096))
rows("args", "ConvVAE", ValueError, "channels", three_channels=lambda c: vae.ConvVAE(channels=(1, 2, 3)))
rows("args", "reconstruct", ValueError, "images", wrong_shape=lambda c: vae.reconstruct(tiny_vae(), torch.rand(2, 32, 32)))
rows("args", "sample_prior", ValueError, "n", absurd=lambda c: vae.sample_prior(tiny_vae(), 10**9),
     zero=lambda c: vae.sample_prior(tiny_vae(), 0))
rows("args", "sample_prior", ValueError, "seed", huge_seed=lambda c: vae.sample_prior(tiny_vae(), 2, seed=2**70))
rows("args", "latent_manifold", ValueError, "n", absurd=lambda c: vae.latent_manifold(tiny_vae(), n=10**5))
rows("args", "latent_manifold", ValueError, "quantile", half=lambda c: vae.latent_manifold(tiny_vae(), quantile=0.5))
rows("args", "interpolate", ValueError, "x_a", two_images=lambda c: vae.interpolate(tiny_vae(), imgs(2), imgs(1)[0]))
rows("args", "interpolate", ValueError, "steps", one_step=lambda c: vae.interpolate(tiny_vae(), imgs(1)[0], imgs(1)[0], 1))
rows("args", "interpolation_figure", ValueError, "t", t_above_one=lambda c: vae.interpolation_figure(tiny_vae(), imgs(1)[0], imgs(1)[0], 1.5))
rows("args", "latent_explorer_figure", ValueError, "z1", nan=lambda c: vae.latent_explorer_figure(tiny_vae(), NAN, 0.0))
rows("args", "prior_samples_figure", ValueError, "models", empty=lambda c: vae.prior_samples_figure({}))
rows("args", "training_curves_figure", TypeError, "history", a_dict=lambda c: vae.training_curves_figure({}, "x"))
rows("args", "training_curves_figure", ValueError, "history",
     empty_history=lambda c: vae.training_curves_figure(training.History(), "x"))
rows("args", "checkpoint_path", ValueError, "name", path_in_name=lambda c: vae.checkpoint_path("../evil"))
rows("args", "save_vae", TypeError, "model", not_a_vae=lambda c: vae.save_vae(nn.Linear(2, 2), c.tmp / "x.pt"))
rows("args", "save_vae", ValueError, "metadata", nan_metadata=lambda c: vae.save_vae(tiny_vae(), c.tmp / "x.pt", loss=NAN))
rows("args", "save_vae", TypeError, "path", int_path=lambda c: vae.save_vae(tiny_vae(), 42))
rows("args", "load_cached_vae", ValueError, "names", a_string=lambda c: vae.load_cached_vae("vae_conv"))
rows("args", "check_reparameterize", ValueError, "mu", nan_mu=lambda c: vae.reparameterize(torch.full((2, 2), NAN), torch.zeros(2, 2)))
rows("args", "check_gaussian_kl", ValueError, "mu and logvar",
     shape_mismatch=lambda c: vae.gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 4)))
rows("args", "check_vae_loss", ValueError, "beta", negative_beta=lambda c: vae.vae_loss(
    torch.zeros(2, 784), torch.rand(2, 784), torch.zeros(2, 3), torch.zeros(2, 3), beta=-1.0))
rows("args", "softmax", ValueError, "dim", dim_out_of_range=lambda c: att.softmax(torch.zeros(2, 3), dim=5))
rows("args", "check_softmax", TypeError, "candidate", not_callable=lambda c: all_exercises()["4.1"].grade(42))
rows("args", "check_attention", ValueError, "q and k", feature_mismatch=lambda c: att.scaled_dot_product_attention(
    torch.rand(2, 3), torch.rand(2, 4), torch.rand(2, 4)))
rows("args", "check_causal_mask", ValueError, "n", zero=lambda c: att.causal_mask(0), absurd=lambda c: att.causal_mask(10**6))
rows("args", "SelfAttention", ValueError, "d_model", zero=lambda c: att.SelfAttention(0))
rows("args", "MultiHeadAttention", ValueError, "d_model", not_divisible=lambda c: att.MultiHeadAttention(5, 2))
rows("args", "MultiHeadAttention", TypeError, "causal", int_causal=lambda c: att.MultiHeadAttention(4, 2, causal=1))
rows("args", "TransformerBlock", ValueError, "dropout", dropout_one=lambda c: att.TransformerBlock(4, 2, dropout=1.0))
rows("args", "attention_loops", ValueError, "k", no_keys=lambda c: att.attention_loops(torch.rand(2, 3), torch.rand(0, 3), torch.rand(0, 3)))
rows("args", "article_pseudocode", TypeError, "inputs", a_string=lambda c: att.article_pseudocode("12345"))
rows("args", "article_pseudocode", ValueError, "inputs[1]", nan=lambda c: att.article_pseudocode([1.0, NAN]))
rows("args", "plot_worked_example", ValueError, "query", query_zero=lambda c: att.plot_worked_example(query=0))
rows("args", "saturation_stats", ValueError, "dims", empty_dims=lambda c: att.saturation_stats([]))
rows("args", "saturation_stats", ValueError, "n_trials", absurd=lambda c: att.saturation_stats([4], n_trials=10**9))
rows("args", "plot_saturation", ValueError, "stats", missing_stats=lambda c: att.plot_saturation({}))
rows("args", "plot_attention", ValueError, "weights", nan=lambda c: att.plot_attention(torch.full((2, 2), NAN), ["a", "b"], ["a", "b"]))
rows("args", "parse_digits", ValueError, "text", letters=lambda c: att.parse_digits("12ab", 4))
rows("args", "parse_digits", TypeError, "text", a_list=lambda c: att.parse_digits([1, 2], 2))
rows("args", "AttentionSequenceModel", ValueError, "tokens", out_of_vocab=lambda c: tiny_task_model()(torch.full((1, 4), 9)))
rows("args", "AttentionSequenceModel", ValueError, "vocab", vocab_one=lambda c: att.AttentionSequenceModel(vocab=1))
rows("args", "train_sequence_task", ValueError, "task", unknown=lambda c: att.train_sequence_task(tiny_task_model(), "shuffle", 1))
rows("args", "train_sequence_task", TypeError, "model", not_the_model=lambda c: att.train_sequence_task(nn.Linear(2, 2), "sort", 1))
rows("args", "evaluate_sequence_task", TypeError, "x", float_tokens=lambda c: att.evaluate_sequence_task(
    tiny_task_model(), torch.rand(2, 4), torch.zeros(2, 4, dtype=torch.long)))
rows("args", "task_test_set", ValueError, "n", too_many=lambda c: att.task_test_set("sort", 10**9, 4, 4, 0))
rows("args", "plot_task_attention", TypeError, "tokens", float_tokens=lambda c: att.plot_task_attention(
    tiny_task_model(), [0.5, 1.5, 2.5, 3.5], "sort"))
rows("args", "plot_task_attention", ValueError, "task", unknown=lambda c: att.plot_task_attention(tiny_task_model(), [0, 1, 2, 3], "x"))
rows("args", "discriminator_step", TypeError, "d_optimizer", not_an_optimizer=lambda c: gan.discriminator_step(
    *tiny_gan(), "adam", imgs() * 2 - 1, torch.randn(3, 100)))
rows("args", "generator_step", TypeError, "saturating", int_flag=lambda c: gan.generator_step(
    *tiny_gan(), torch.optim.SGD(tiny_gan()[0].parameters(), lr=0.0), torch.randn(3, 100), saturating=1))
rows("args", "check_gan_training_step", ValueError, "g_optimizer and d_optimizer", same_optimizer=lambda c: gan.gan_training_step(
    *tiny_gan(), *(2 * [torch.optim.SGD(tiny_gan()[0].parameters(), lr=0.0)]), imgs() * 2 - 1, torch.randn(3, 100)))
rows("args", "StepLosses", TypeError, "generator", missing_field=lambda c: gan.StepLosses(discriminator=1.0))
rows("args", "GaussianRing", ValueError, "std", zero_std=lambda c: gan.GaussianRing(std=0.0))
rows("args", "GaussianRing", ValueError, "n", absurd_sample=lambda c: gan.GaussianRing().sample(10**12))
rows("args", "ToyGANConfig", TypeError, "saturating", int_flag=lambda c: gan.ToyGANConfig(saturating=1))
rows("args", "ToyGANConfig", ValueError, "betas", beta_one=lambda c: gan.ToyGANConfig(betas=(0.5, 1.0)))
rows("args", "train_toy_gan", TypeError, "ring", swapped=lambda c: gan.train_toy_gan(gan.ToyGANConfig(), gan.GaussianRing()))
rows("args", "mode_coverage", TypeError, "ring", not_a_ring=lambda c: gan.mode_coverage(torch.zeros(4, 2), "ring"))
rows("args", "mlp", ValueError, "depth", zero_depth=lambda c: gan.mlp(2, 2, depth=0))
rows("args", "plot_gan_losses", TypeError, "run", not_a_run=lambda c: gan.plot_gan_losses({}))
rows("args", "plot_gan_losses", ValueError, "window", zero_window=lambda c: gan.plot_gan_losses(toy_run(), window=0))
rows("args", "snapshots_figure", ValueError, "index", past_the_end=lambda c: gan.snapshots_figure({"a": toy_run()}, 99))
rows("args", "snapshot_row", ValueError, "count", too_many=lambda c: gan.snapshot_row(toy_run(), count=99))
rows("args", "plot_generator_gradients", ValueError, "points", one_point=lambda c: gan.plot_generator_gradients(1))
rows("args", "GaussianMixture1D", ValueError, "weights", not_summing_to_one=lambda c: gan.GaussianMixture1D((0.5, 0.2), (0.0, 1.0), (1.0, 1.0)))
rows("args", "train_discriminator_1d", ValueError, "steps", zero=lambda c: gan.train_discriminator_1d(
    gan.GaussianMixture1D((1.0,), (0.0,), (1.0,)), gan.GaussianMixture1D((1.0,), (2.0,), (1.0,)), 0))
rows("args", "compare_with_optimum", ValueError, "lo", reversed=lambda c: gan.compare_with_optimum(
    nn.Linear(1, 1), gan.GaussianMixture1D((1.0,), (0.0,), (1.0,)), gan.GaussianMixture1D((1.0,), (2.0,), (1.0,)), lo=3.0, hi=1.0))
rows("args", "compare_with_optimum", TypeError, "model", not_a_model=lambda c: gan.compare_with_optimum(
    "d", gan.GaussianMixture1D((1.0,), (0.0,), (1.0,)), gan.GaussianMixture1D((1.0,), (2.0,), (1.0,))))
rows("args", "plot_dstar", TypeError, "result", wrong_result=lambda c: gan.plot_dstar(None, None, None))
rows("args", "build_models", ValueError, "model", unknown=lambda c: gan.build_models("stylegan"))
rows("args", "count_parameters", TypeError, "module", not_a_module=lambda c: gan.count_parameters([1, 2]))
rows("args", "measure_step_speed", ValueError, "steps", absurd=lambda c: gan.measure_step_speed("gan", steps=10**9))
rows("args", "check_dcgan_up_block", ValueError, "in_channels", zero=lambda c: gan.dcgan_up_block(0, 4))
rows("args", "check_restore_training_state", ValueError, "checkpoint", missing_fields=lambda c: gan.restore_training_state(
    {"epoch": 1}, *tiny_gan(), torch.optim.Adam(tiny_gan()[0].parameters()), torch.optim.Adam(tiny_gan()[1].parameters())))
rows("args", "check_restore_training_state", CheckpointError, "rng", bad_rng=lambda c: gan.restore_training_state(
    {"epoch": 1, "generator": {}, "discriminator": {}, "g_optimizer": {}, "d_optimizer": {}, "rng": {"torch": torch.zeros(3)}},
    *tiny_gan(), torch.optim.Adam(tiny_gan()[0].parameters()), torch.optim.Adam(tiny_gan()[1].parameters())))
rows("args", "run_folder", ValueError, "seed", negative_seed=lambda c: gan.run_folder("mlp", seed=-1))
rows("args", "run_folder", ValueError, "train_subset", zero_subset=lambda c: gan.run_folder("mlp", 0))
rows("args", "load_sample_grid", ValueError, "epoch", not_saved=lambda c: gan.load_sample_grid(c.tmp, 3))
rows("args", "sample_grid_paths", TypeError, "out_dir", int_folder=lambda c: gan.sample_grid_paths(3))
rows("args", "train_gan", ValueError, "epochs", absurd=lambda c: gan.train_gan("gan", 10**9, c.tmp))
rows("args", "train_gan", ValueError, "seed", huge_seed=lambda c: gan.train_gan("gan", 1, c.tmp, seed=2**64))
rows("args", "train_gan", TypeError, "on_batch", not_callable=lambda c: gan.train_gan("gan", 1, c.tmp, on_batch=3))
rows("args", "load_or_train_gan", ValueError, "model", unknown=lambda c: app.load_or_train_gan("stylegan", 1))
rows("args", "train_gan", TypeError, "restore", not_callable=lambda c: gan.train_gan("gan", 1, c.tmp, restore=3))
rows("args", "train_gan", ValueError, "cut_last_epoch", without_budget=lambda c: gan.train_gan("gan", 1, c.tmp,
                                                                                            cut_last_epoch=True))
rows("args", "build_models", ValueError, "up_block", not_a_dcgan=lambda c: gan.build_models("mlp", up_block=lambda i, o: nn.Identity()))
rows("args", "article_generator_step", ValueError, "steps", zero=lambda c: gan.article_generator_step(0),
     absurd=lambda c: gan.article_generator_step(10**9))
rows("args", "article_generator_step", ValueError, "batch_size", one=lambda c: gan.article_generator_step(1, batch_size=1))
rows("args", "compare_fused_adam", ValueError, "model", unknown=lambda c: gan.compare_fused_adam("stylegan", 1))
rows("args", "compare_fused_adam", ValueError, "repeats", zero=lambda c: gan.compare_fused_adam("gan", 1, repeats=0))
rows("args", "measure_step_speed", TypeError, "fused", not_bool=lambda c: gan.measure_step_speed("gan", fused="yes"))
rows("args", "train_for_seconds", ValueError, "seconds", zero=lambda c: gan.train_for_seconds("gan", 0.0, c.tmp, 1),
     nan=lambda c: gan.train_for_seconds("gan", NAN, c.tmp, 1))
rows("args", "train_for_seconds", ValueError, "max_seconds", sets_budget_twice=lambda c: gan.train_for_seconds(
    "gan", 1.0, c.tmp, 1, max_seconds=3.0))
rows("args", "clipped_gaussian_nll", ValueError, "noise_std", zero=lambda c: app.clipped_gaussian_nll(0.0),
     nan=lambda c: app.clipped_gaussian_nll(NAN))
rows("args", "block_flops", ValueError, "d_model", zero=lambda c: att.block_flops(0, 8))
rows("args", "block_flops", ValueError, "length", absurd=lambda c: att.block_flops(8, 10**9))
rows("args", "attention_crossover", ValueError, "mlp_ratio", zero=lambda c: att.attention_crossover(8, mlp_ratio=0))
rows("args", "measure_block_cost", TypeError, "lengths", empty=lambda c: att.measure_block_cost([]),
     not_a_list=lambda c: att.measure_block_cost(64))
rows("args", "measure_block_cost", ValueError, "lengths[0]", absurd=lambda c: att.measure_block_cost([10**6]))
rows("args", "measure_block_cost", ValueError, "n_heads", too_many=lambda c: att.measure_block_cost([4], d_model=4, n_heads=8))
rows("args", "sinusoidal_positions", ValueError, "length", zero=lambda c: att.sinusoidal_positions(0, 8))
rows("args", "sinusoidal_positions", ValueError, "base", one=lambda c: att.sinusoidal_positions(4, 8, base=1.0))
rows("args", "permutation_error", TypeError, "layer", not_callable=lambda c: att.permutation_error(3, torch.rand(1, 3, 4)))
rows("numbers", "permutation_error", ValueError, "x", nan=lambda c: att.permutation_error(
    nn.Identity(), with_nan(torch.rand(1, 3, 4))), rank_2=lambda c: att.permutation_error(nn.Identity(), torch.rand(3, 4)))
rows("args", "check_split_heads", ValueError, "n_heads", indivisible=lambda c: att.split_heads(torch.rand(1, 2, 5), 2),
     zero=lambda c: att.split_heads(torch.rand(1, 2, 4), 0))
rows("args", "check_merge_heads", ValueError, "x", rank_3=lambda c: att.merge_heads(torch.rand(1, 2, 4)))
rows("args", "key_padding_mask", ValueError, "lengths", too_long=lambda c: att.key_padding_mask([3, 9], 5),
     empty_sequence=lambda c: att.key_padding_mask(torch.tensor([0, 2]), 5))
rows("args", "key_padding_mask", ValueError, "max_length", zero=lambda c: att.key_padding_mask([1], 0))
rows("args", "multi_head_attention", TypeError, "layer", not_a_layer=lambda c: att.multi_head_attention(
    nn.Linear(4, 4), torch.rand(1, 3, 4)))
rows("args", "multi_head_attention", ValueError, "x_kv", wrong_width=lambda c: att.multi_head_attention(
    att.MultiHeadAttention(4, 2), torch.rand(1, 3, 4), torch.rand(1, 3, 5)))
rows("numbers", "multi_head_attention", ValueError, "x_q", nan=lambda c: att.multi_head_attention(
    att.MultiHeadAttention(4, 2), with_nan(torch.rand(1, 3, 4))))
rows("args", "attention_to_matching_digits", ValueError, "layer", out_of_range=lambda c: att.attention_to_matching_digits(
    tiny_task_model(), torch.zeros(2, 4, dtype=torch.int64), torch.zeros(2, 4, dtype=torch.int64), layer=3))
rows("args", "attention_to_matching_digits", ValueError, "y", wrong_shape=lambda c: att.attention_to_matching_digits(
    tiny_task_model(), torch.zeros(2, 4, dtype=torch.int64), torch.zeros(2, 3, dtype=torch.int64)))
rows("args", "AttentionSequenceModel", ValueError, "position", unknown=lambda c: att.AttentionSequenceModel(position="rope"))
rows("args", "TransformerBlock", ValueError, "norm", unknown=lambda c: att.TransformerBlock(4, 2, norm="middle"))
rows("args", "DigitClassifier", ValueError, "num_classes", one_class=lambda c: ev.DigitClassifier(num_classes=1))
rows("args", "accuracy", ValueError, "images and labels", length_mismatch=lambda c: ev.accuracy(tiny_classifier(), imgs(3), torch.zeros(2, dtype=torch.long)))
rows("args", "predict_logits", ValueError, "batch_size", zero=lambda c: ev.predict_logits(tiny_classifier(), imgs(), batch_size=0))
rows("args", "classifier_config", ValueError, "AIGC_COURSE_FAST",
     bad_switch=lambda c: (c.monkeypatch.setenv("AIGC_COURSE_FAST", "perhaps"), ev.classifier_config()))
rows("args", "load_or_train_classifier", ValueError, "train_subset", tiny_subset=lambda c: ev.load_or_train_classifier(5))
rows("args", "load_mnist_cached", ValueError, "split", unknown=lambda c: ev.load_mnist_cached("validation"))
rows("args", "real_reference", ValueError, "n_test", one_image=lambda c: ev.real_reference(tiny_classifier(), 1))
rows("args", "comparison_markdown", ValueError, "reports", list_of_reports=lambda c: ev.comparison_markdown({"a": [1, 2]}))
rows("args", "plot_class_histograms", ValueError, "fractions", shares_above_one=lambda c: ev.plot_class_histograms({"a": [2.0] * 10}))
rows("args", "load_mnist", ValueError, "split", unknown=lambda c: data.load_mnist("validation"))
rows("args", "ensure_mnist", ValueError, "timeout", negative=lambda c: data.ensure_mnist(timeout=-1.0))
rows("args", "images_to_unit", TypeError, "images", float_input=lambda c: data.images_to_unit(torch.rand(2, 28, 28)))
rows("args", "budget", KeyError, "chapter", unknown=lambda c: config.budget("chapter9"))
rows("args", "get_device", ValueError, "device", no_such_gpu=lambda c: config.get_device("cuda:9" if not torch.cuda.is_available() else "tpu"))
rows("args", "seed_everything", ValueError, "seed", huge=lambda c: config.seed_everything(2**40), negative=lambda c: config.seed_everything(-1))
rows("args", "is_fast_mode", ValueError, "AIGC_COURSE_FAST",
     bad_switch=lambda c: (c.monkeypatch.setenv("AIGC_COURSE_FAST", "yes please"), config.is_fast_mode()))
rows("args", "environment_report", ValueError, "AIGC_COURSE_FAST",
     bad_switch=lambda c: (c.monkeypatch.setenv("AIGC_COURSE_FAST", "2"), course.environment_report()))
rows("args", "glossary_markdown", ValueError, "chapter", one_digit=lambda c: course.glossary_markdown("3"))
rows("args", "references_markdown", ValueError, "kind", unknown=lambda c: course.references_markdown(kind="video"))
rows("args", "progress", ValueError, "total", negative=lambda c: training.progress(total=-1))
rows("args", "progress", TypeError, "iterable", not_iterable=lambda c: training.progress(5))
rows("args", "show_images", ValueError, "nrow", zero=lambda c: plotting.show_images(imgs(), nrow=0))
rows("args", "show_images", ValueError, "scale", huge=lambda c: plotting.show_images(imgs(), scale=1e9))
rows("args", "check_kfold_indices", ValueError, "n", absurd=lambda c: pre.kfold_indices(10**12, 5, torch.Generator()))
rows("args", "plot_curves", ValueError, "curves", empty=lambda c: plotting.plot_curves({}))
rows("args", "check_mean_digit_images", ValueError, "labels", a_missing_digit=lambda c: course.mean_digit_images(
    torch.zeros(3, 28, 28, dtype=torch.uint8), torch.tensor([0, 1, 2])))
rows("args", "clean_report", ValueError, "images", three_channels=lambda c: pre.clean_report(torch.rand(2, 3, 28, 28)))
rows("args", "clean_report", ValueError, "low", low_above_high=lambda c: pre.clean_report(imgs(), low=1.0, high=0.0))
rows("args", "image_features", TypeError, "images", integer_images=lambda c: pre.image_features(torch.zeros(2, 28, 28, dtype=torch.uint8)))
rows("args", "inject_corruption", ValueError, "images", too_few=lambda c: pre.inject_corruption(imgs(), torch.Generator(), 1))
rows("args", "detection_scores", ValueError, "truth", wrong_length=lambda c: pre.detection_scores(pre.clean_report(imgs()), torch.zeros(5, dtype=torch.long)))
rows("args", "random_hflip", ValueError, "p", p_above_one=lambda c: pre.random_hflip(imgs(), torch.Generator(), p=1.5))
rows("args", "random_hflip", ValueError, "images", nan=lambda c: pre.random_hflip(with_nan(imgs()), torch.Generator()))
rows("args", "random_rotation", ValueError, "max_degrees", above_180=lambda c: pre.random_rotation(imgs(), torch.Generator(), 270.0))
rows("args", "add_gaussian_noise", TypeError, "generator", seed_instead=lambda c: pre.add_gaussian_noise(imgs(), 0))
rows("args", "add_gaussian_noise", ValueError, "clamp", reversed=lambda c: pre.add_gaussian_noise(imgs(), torch.Generator(), clamp=(1.0, 0.0)))
rows("args", "compose", TypeError, "augments[0]", not_callable=lambda c: pre.compose(3))
rows("args", "augmentation_preview", ValueError, "shift_x", too_far=lambda c: pre.augmentation_preview(torch.rand(28, 28), shift_x=40))
rows("args", "augmentation_preview", TypeError, "flip", string_flag=lambda c: pre.augmentation_preview(torch.rand(28, 28), flip="yes"))
rows("args", "cross_validate", ValueError, "splits", one_split=lambda c: pre.cross_validate(imgs(4), torch.zeros(4, dtype=torch.long),
                                                                                      [(torch.tensor([0]), torch.tensor([1]))], epochs=1, seed=0))
rows("args", "cross_validate", ValueError, "splits[0]", float_indices=lambda c: pre.cross_validate(
    imgs(4), torch.zeros(4, dtype=torch.long), [(torch.tensor([0.0]), torch.tensor([1.0]))] * 2, epochs=1, seed=0))
rows("args", "train_digit_classifier", ValueError, "labels", label_twelve=lambda c: pre.train_digit_classifier(
    imgs(4), torch.tensor([0, 1, 2, 12]), epochs=1, seed=0, progress=False))
rows("args", "train_digit_classifier", ValueError, "seed", huge_seed=lambda c: pre.train_digit_classifier(
    imgs(4), torch.zeros(4, dtype=torch.long), epochs=1, seed=2**40, progress=False))
rows("args", "check_kfold_indices", ValueError, "k", k_above_n=lambda c: pre.kfold_indices(3, 5, torch.Generator()))
rows("args", "stratified_kfold_indices", ValueError, "k", k_above_n=lambda c: pre.stratified_kfold_indices(
    torch.tensor([0, 1, 0]), 5, torch.Generator()))
rows("args", "stratified_kfold_indices", TypeError, "labels", float_labels=lambda c: pre.stratified_kfold_indices(
    torch.tensor([0.0, 1.0, 0.0]), 2, torch.Generator()))
rows("args", "stratified_kfold_indices", TypeError, "generator", seed_instead=lambda c: pre.stratified_kfold_indices(
    torch.tensor([0, 1, 0, 1]), 2, 0))
rows("args", "vanishing_gradient_table", ValueError, "shifts", negative=lambda c: gan.vanishing_gradient_table([-1.0]))
rows("args", "vanishing_gradient_table", ValueError, "std", zero_std=lambda c: gan.vanishing_gradient_table([1.0], std=0.0))
rows("args", "wgan_gp_step", ValueError, "saturating", saturating=lambda c: gan.wgan_gp_step(
    gan.mlp(2, 2), gan.mlp(2, 1), torch.optim.SGD(gan.mlp(2, 2).parameters(), lr=0.1),
    torch.optim.SGD(gan.mlp(2, 1).parameters(), lr=0.1), torch.zeros(4, 2), torch.zeros(4, 2), saturating=True))
rows("args", "wgan_gp_step", ValueError, "critic_steps", zero=lambda c: gan.wgan_gp_step(
    gan.mlp(2, 2), gan.mlp(2, 1), torch.optim.SGD(gan.mlp(2, 2).parameters(), lr=0.1),
    torch.optim.SGD(gan.mlp(2, 1).parameters(), lr=0.1), torch.zeros(4, 2), torch.zeros(4, 2), critic_steps=0))
rows("args", "wgan_gp_step", ValueError, "real", nan_real=lambda c: gan.wgan_gp_step(
    gan.mlp(2, 2), gan.mlp(2, 1), torch.optim.SGD(gan.mlp(2, 2).parameters(), lr=0.1),
    torch.optim.SGD(gan.mlp(2, 1).parameters(), lr=0.1), with_nan(torch.zeros(4, 2)), torch.zeros(4, 2)))
rows("args", "gradient_penalty", ValueError, "fake", other_shape=lambda c: gan.gradient_penalty(
    gan.mlp(2, 1), torch.zeros(4, 2), torch.zeros(3, 2)))
rows("args", "critic_loss", ValueError, "real_scores", nan=lambda c: gan.critic_loss(torch.tensor([NAN]), torch.zeros(1)))
rows("args", "wgan_generator_loss", ValueError, "fake_scores", empty=lambda c: gan.wgan_generator_loss(torch.zeros(0)))
rows("args", "gaussian_decoder_nll", ValueError, "variance", zero=lambda c: vae.gaussian_decoder_nll(imgs(), imgs(), 0.0))
rows("args", "gaussian_decoder_nll", ValueError, "mean", other_shape=lambda c: vae.gaussian_decoder_nll(imgs(3), imgs(2), 1.0))
rows("args", "inception_score", ValueError, "probs", rows_not_summing_to_one=lambda c: ev.inception_score(torch.ones(2, 10)),
     nan=lambda c: ev.inception_score(torch.full((2, 10), NAN)))
rows("args", "bits_per_dimension", ValueError, "dims", zero=lambda c: vae.bits_per_dimension(100.0, dims=0))
rows("args", "bits_per_dimension", ValueError, "nats_per_image", nan=lambda c: vae.bits_per_dimension(NAN))
rows("args", "train_vae", ValueError, "update", unknown=lambda c: vae.train_vae(tiny_vae(), imgs(), epochs=1, progress=False,
                                                                               update="sideways"))
rows("args", "check_robust_z", ValueError, "reference", constant=lambda c: pre.robust_z(torch.ones(5)))
rows("args", "check_random_shift", ValueError, "max_shift", too_large=lambda c: pre.random_shift(imgs(), torch.Generator(), 28))
rows("args", "check_symmetric_to_uint8", ValueError, "y", nan=lambda c: pre.symmetric_to_uint8(torch.tensor([NAN])))
rows("args", "make_masks", ValueError, "kind", unknown=lambda c: app.make_masks("circle", 2))
rows("args", "make_masks", ValueError, "n", absurd=lambda c: app.make_masks("random 60%", 10**9))
rows("args", "gaussian_nll", ValueError, "noise_std", zero=lambda c: app.gaussian_nll(0.0))
rows("args", "complete_images", TypeError, "visible", float_mask=lambda c: app.complete_images(tiny_vae(), imgs(), masks().float(), steps=1))
rows("args", "complete_images", TypeError, "vae", not_a_vae=lambda c: app.complete_images(nn.Linear(2, 2), imgs(), masks(), steps=1))
rows("args", "restoration_figure", ValueError, "rows", empty=lambda c: app.restoration_figure({}))
rows("args", "inpainting_figure", ValueError, "image", two_images=lambda c: app.inpainting_figure(tiny_vae(), imgs(2), "top half"))
rows("args", "random_notes", ValueError, "n", absurd=lambda c: app.random_notes(10**9))
rows("args", "generated_notes_figure", ValueError, "train_note_ids", note_nine=lambda c: app.generated_notes_figure(
    torch.tensor([9]), torch.zeros(2, 784), torch.zeros(2, 784)))
rows("args", "load_course_text", ValueError, "name", path_traversal=lambda c: app.load_course_text("../../etc/passwd.txt"))
rows("args", "CharVocab", ValueError, "text", empty=lambda c: app.CharVocab.from_text(""))
rows("args", "CharVocab", ValueError, "text", unknown_character=lambda c: tiny_text()[1].encode("xyz"))
rows("args", "split_ids", TypeError, "ids", float_ids=lambda c: app.split_ids(torch.rand(100)))
rows("args", "split_ids", ValueError, "val_fraction", too_large=lambda c: app.split_ids(torch.arange(100), 0.9))
rows("args", "check_unigram_cross_entropy", ValueError, "val_ids", out_of_vocab=lambda c: app.unigram_cross_entropy(
    torch.tensor([0, 1]), torch.tensor([5]), 3))
rows("args", "CharTransformer", ValueError, "idx", out_of_vocab=lambda c: tiny_text()[0](torch.full((1, 3), 99)))
rows("args", "CharTransformer", ValueError, "idx", too_long=lambda c: tiny_text()[0](torch.zeros(1, 9, dtype=torch.long)))
rows("args", "train_char_model", ValueError, "train_ids", too_short=lambda c: app.train_char_model(
    tiny_text()[0], torch.zeros(5, dtype=torch.long), torch.zeros(50, dtype=torch.long), steps=1, progress=False))
rows("args", "train_char_model", ValueError, "val_ids", out_of_vocab=lambda c: app.train_char_model(
    tiny_text()[0], torch.zeros(50, dtype=torch.long), torch.full((50,), 99), steps=1, progress=False))
rows("args", "generate_text", ValueError, "prompt", empty=lambda c: app.generate_text(*tiny_text(), ""))
rows("args", "generate_text", ValueError, "temperature", zero=lambda c: app.generate_text(*tiny_text(), "ab", 3, temperature=0.0))
rows("args", "generate_text", ValueError, "length", absurd=lambda c: app.generate_text(*tiny_text(), "ab", 10**9))
rows("args", "next_char_figure", ValueError, "temperatures[1]", negative=lambda c: app.next_char_figure(*tiny_text(), "ab", (1.0, -2.0)))
rows("args", "longest_copied_span", TypeError, "text", bytes_text=lambda c: app.longest_copied_span(b"abc", "abc"))
rows("args", "time_training_steps", TypeError, "step", not_callable=lambda c: app.time_training_steps(3, 2))
rows("args", "course_training_steps", ValueError, "text_ids", out_of_vocab=lambda c: app.course_training_steps(
    imgs(), torch.tensor([0, 1, 50]), 10))
rows("args", "train_detector", ValueError, "y_train", label_two=lambda c: app.train_detector(
    imgs(4), torch.tensor([0, 1, 2, 0]), imgs(2), torch.tensor([0, 1]), epochs=1, progress=False))
rows("args", "real_vs_generated", ValueError, "test_fraction", all_test=lambda c: app.real_vs_generated(imgs(), imgs(), 1.0))
rows("args", "memorization_distances", ValueError, "generated", wrong_shape=lambda c: app.memorization_distances(
    torch.rand(2, 32, 32), imgs(), imgs()))
rows("args", "audio_player", ValueError, "sample_rate", zero=lambda c: app.audio_player(torch.zeros(10), 0))
rows("args", "check_dominant_frequency", ValueError, "sample_rate", zero=lambda c: app.dominant_frequency(torch.rand(64), 0))


# ---- family "checkpoint": files that are truncated, random, malicious, or parse but lie --------------

for _kind, _needle in (("truncated", "truncated"), ("empty", "truncated"), ("random", "vae_random.pt"),
                       ("malicious", "nothing in it was run"), ("huge_config", "hidden"), ("list_config", "config"),
                       ("unknown_field", "dropout"), ("nan_weights", "NaN"), ("string_metadata", "test_loss"),
                       ("state_list", "states"), ("folder", "folder")):
    CASES.append(Case("checkpoint", "load_vae", _kind,
                      (lambda kind: lambda c: vae.load_vae(vae_file(c.tmp, kind)))(_kind), CheckpointError, _needle))


def _flip_tensor_bytes(c: Ctx) -> Any:
    """Flip one byte in the middle of the largest tensor record of a real VAE checkpoint: the stored hash catches it."""
    import zipfile
    path = vae.save_vae(tiny_vae(), c.tmp / "flip.pt")
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = max((i for i in archive.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    name_len, extra_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    raw[start + info.file_size // 2] ^= 0x10
    path.write_bytes(bytes(raw))
    assert torch.load(path, weights_only=True)  # torch itself reads the damaged file without complaint
    return vae.load_vae(path)


CASES.append(Case("checkpoint", "load_vae", "flipped_tensor_byte", _flip_tensor_bytes, CheckpointError, "checksum"))
CASES.append(Case("checkpoint", "load_vae", "kind_gan", lambda c: vae.load_vae(
    checkpoints.save_checkpoint(c.tmp / "g.pt", "gan", config={}, states={"m": {}})), CheckpointError, "'gan'"))

for _field, _value, _needle in (("epoch", -2, "epoch"), ("epoch", "1", "epoch"), ("epoch", 10**9, "epoch"),
                                ("epoch", True, "epoch"), ("spec", ["gan"], "spec"), ("seed", -5, "seed"),
                                ("train_subset", 0, "train_subset"), ("history", [1.0], "history"),
                                ("history.train/d_loss", [NAN, 1.0], "train/d_loss"),
                                ("history.train/g_loss", [1.0], "train/g_loss"),
                                ("rng.torch", torch.zeros(10, dtype=torch.uint8), "rng['torch']"),
                                ("rng.data", torch.zeros(5056), "rng['data']"), ("rng", [1, 2], "rng"),
                                ("generator", {"0.weight": torch.full((2,), NAN)}, "generator"),
                                ("g_optimizer", [1, 2], "g_optimizer"),
                                ("d_optimizer", {"state": {}, "param_groups": [{"lr": NAN, "params": [0]}]}, "lr")):
    CASES.append(Case("checkpoint", "load_training_state", f"{_field}={_value!r}"[:40],
                      (lambda f, v: lambda c: gan.load_training_state(lying_gan_file(c.tmp, c.shared, f, v)))(_field, _value),
                      CheckpointError, _needle))
CASES.append(Case("checkpoint", "load_generator", "weights_of_another_model", lambda c: gan.load_generator(
    lying_gan_file(c.tmp, c.shared, "generator", gan.build_models("mlp")[0].state_dict())), CheckpointError, "do not fit"))
CASES.append(Case("checkpoint", "load_generator", "malicious_file", lambda c: gan.load_generator(
    vae_file(c.tmp, "malicious")), CheckpointError, "vae_malicious.pt"))


# ---- family "cache": the MNIST data cache ------------------------------------------------------------


def _seeded_cache(c: Ctx) -> Path:
    folder = c.tmp / "cache"
    (folder / "mnist").mkdir(parents=True)
    for name in data.MD5SUMS:
        (folder / "mnist" / name).write_bytes((c.mnist / "mnist" / name).read_bytes())
    c.monkeypatch.setenv("AIGC_COURSE_DATA", str(folder))
    return folder / "mnist"


def _corrupt(c: Ctx, how: str) -> Any:
    victim = _seeded_cache(c) / "t10k-labels-idx1-ubyte.gz"
    raw = victim.read_bytes()
    if how == "flipped":
        victim.write_bytes(raw[:50] + bytes([raw[50] ^ 1]) + raw[51:])
    elif how == "truncated":
        victim.write_bytes(raw[:100])
    elif how == "zero":
        victim.write_bytes(b"")
    elif how == "folder":
        victim.unlink()
        victim.mkdir()
    elif how == "readonly":
        victim.write_bytes(raw[:100])
        readonly(c, victim.parent)
    return data.load_mnist("test")


for _how, _needle in (("flipped", "expected ec29112dd5afa0611ce80d1b7f02629c"), ("truncated", "corrupt"),
                      ("zero", "MD5 d41d8cd98f00b204e9800998ecf8427e"), ("folder", "is a folder"),
                      ("readonly", "could not delete")):
    CASES.append(Case("cache", "load_mnist", f"cached_file_{_how}",
                      (lambda how: lambda c: _corrupt(c, how))(_how), data.MNISTUnavailableError, _needle))


def _cache_is_a_file(c: Ctx, action: Callable[[], Any]) -> Any:
    (c.tmp / "cache_file").write_text("not a folder")
    c.monkeypatch.setenv("AIGC_COURSE_DATA", str(c.tmp / "cache_file"))
    return action()


CASES.append(Case("cache", "ensure_mnist", "cache_path_is_a_file", lambda c: _cache_is_a_file(c, data.ensure_mnist),
                  data.MNISTUnavailableError, "cache_file is a file"))
CASES.append(Case("cache", "copy_mnist_from", "cache_path_is_a_file_then_copy", lambda c: _cache_is_a_file(
    c, lambda: data.copy_mnist_from(c.mnist / "mnist")), data.MNISTUnavailableError, "cache_file is a file"))
CASES.append(Case("cache", "ensure_mnist", "readonly_empty_cache", lambda c: (
    c.monkeypatch.setenv("AIGC_COURSE_DATA", str(c.tmp / "ro")), (c.tmp / "ro").mkdir(), readonly(c, c.tmp / "ro"),
    c.monkeypatch.setattr(data, "_fetch", lambda name, timeout: ((c.mnist / "mnist" / name).read_bytes(), [])),
    data.ensure_mnist()), data.MNISTUnavailableError, "cannot write"))


# ---- chapter 07: diffusion and flow matching ---------------------------------------------------------

@functools.cache
def tiny_unet() -> nn.Module:
    torch.manual_seed(0)
    return dif.UNet(base=8, channel_mults=(1, 2), num_classes=10, time_dim=16).eval()


def tiny_trained(method: str = "flow") -> "dif.TrainedDiffusion":
    torch.manual_seed(0)
    recipe = dif.Recipe(method=method, epochs=1, minutes=None, base=8, hidden=16, depth=1, latent_dim=4,
                        autoencoder_base=4)
    model = dif.VelocityMLP(4, 16, 1, 10) if method == "latent-flow" else dif.UNet(base=8, num_classes=10)
    ae = dif.ConvAutoencoder(4, 4) if method == "latent-flow" else None
    return dif.TrainedDiffusion(recipe, model.eval(), ae, training.History({"train/loss": [1.0]}), 1.0, 0.0, 1, 1,
                                raw_model=model)


def diffusion_file(c: Ctx, change: Callable[[dict], None]) -> Path:
    """A real diffusion checkpoint, re-saved after ``change`` edits its record (checksum kept valid)."""
    path = dif.save_diffusion(c.tmp / "d.pt", tiny_trained())
    record = checkpoints.load_checkpoint(path)
    payload = {"config": record.config, "states": record.states, "metadata": record.metadata}
    change(payload)
    return checkpoints.save_checkpoint(c.tmp / "d.pt", "diffusion", **payload)


_COS = dif.NoiseSchedule.cosine(10)
_T = torch.zeros(3, dtype=torch.long)
rows("numbers", "q_sample", ValueError, "x0",
     nan_x0=lambda c: dif.q_sample(with_nan(imgs()), _T, torch.randn(3, 1, 28, 28), _COS),
     empty_x0=lambda c: dif.q_sample(imgs()[:0], _T[:0], torch.randn(0, 1, 28, 28), _COS))
rows("args", "q_sample", ValueError, "t",
     t_past_the_end=lambda c: dif.q_sample(imgs(), torch.full((3,), 10), torch.randn(3, 1, 28, 28), _COS),
     t_negative=lambda c: dif.q_sample(imgs(), torch.full((3,), -1), torch.randn(3, 1, 28, 28), _COS))
rows("args", "q_sample", TypeError, "t", float_t=lambda c: dif.q_sample(imgs(), torch.zeros(3), torch.randn(3, 1, 28, 28), _COS))
rows("args", "q_sample", ValueError, "noise", noise_shape=lambda c: dif.q_sample(imgs(), _T, torch.randn(3, 28, 28), _COS))
rows("args", "simulate_forward_chain", ValueError, "t",
     t_too_large=lambda c: dif.simulate_forward_chain(imgs(), _COS, 10))
rows("args", "NoiseSchedule", ValueError, "steps", one_step=lambda c: dif.NoiseSchedule.linear(1))
rows("args", "NoiseSchedule", ValueError, "beta_end", end_below_start=lambda c: dif.NoiseSchedule.linear(10, 0.1, 0.01))
rows("numbers", "NoiseSchedule", ValueError, "betas",
     beta_one=lambda c: dif.NoiseSchedule(torch.tensor([0.1, 1.0], dtype=torch.float64)),
     nan_beta=lambda c: dif.NoiseSchedule(torch.tensor([0.1, NAN], dtype=torch.float64)))
rows("args", "ddpm_loss", ValueError, "y",
     labels_for_unconditional=lambda c: dif.ddpm_loss(dif.UNet(base=8), imgs() * 2 - 1, _COS, torch.zeros(3, dtype=torch.long)),
     missing_labels=lambda c: dif.ddpm_loss(tiny_unet(), imgs() * 2 - 1, _COS),
     label_11=lambda c: dif.ddpm_loss(tiny_unet(), imgs() * 2 - 1, _COS, torch.full((3,), 11)))
rows("numbers", "flow_matching_loss", ValueError, "x0",
     nan_x0=lambda c: dif.flow_matching_loss(tiny_unet(), with_nan(imgs()), torch.zeros(3, dtype=torch.long)))
rows("args", "flow_matching_loss", ValueError, "p_uncond",
     p_uncond_2=lambda c: dif.flow_matching_loss(tiny_unet(), imgs(), torch.zeros(3, dtype=torch.long), p_uncond=2.0))
rows("args", "drop_labels", TypeError, "y", float_labels=lambda c: dif.drop_labels(torch.zeros(3), 0.1, 10))
rows("args", "UNet", ValueError, "channel_mults", empty_mults=lambda c: dif.UNet(channel_mults=()))
rows("args", "UNet", ValueError, "base", base_2=lambda c: dif.UNet(base=2))
rows("args", "sinusoidal_embedding", TypeError, "t", int_times=lambda c: dif.sinusoidal_embedding(torch.zeros(3, dtype=torch.long), 8))
rows("numbers", "ddim_step", ValueError, "alpha_bar_t",
     alpha_bar_zero=lambda c: dif.ddim_step(torch.zeros(2), torch.zeros(2), 0.0, 1.0),
     alpha_bar_nan=lambda c: dif.ddim_step(torch.zeros(2), torch.zeros(2), NAN, 1.0))
rows("args", "ddim_step", ValueError, "eps", eps_shape=lambda c: dif.ddim_step(torch.zeros(2), torch.zeros(3), 0.5, 1.0))
rows("numbers", "euler_step", ValueError, "velocity",
     nan_velocity=lambda c: dif.euler_step(torch.zeros(2), torch.tensor([0.0, NAN]), 0.1))
rows("args", "euler_step", ValueError, "dt", dt_2=lambda c: dif.euler_step(torch.zeros(2), torch.zeros(2), 2.0))
rows("args", "flow_sample", ValueError, "n",
     n_zero=lambda c: dif.flow_sample(tiny_unet(), 0, (1, 28, 28), 2, progress=False),
     n_huge=lambda c: dif.flow_sample(tiny_unet(), 10**9, (1, 28, 28), 2, progress=False))
rows("args", "flow_sample", ValueError, "method", rk9=lambda c: dif.flow_sample(tiny_unet(), 1, (1, 8, 8), 2, method="rk9", progress=False))
rows("args", "flow_sample", ValueError, "guidance",
     negative_guidance=lambda c: dif.flow_sample(tiny_unet(), 1, (1, 8, 8), 2, guidance=-1.0, progress=False))
rows("args", "flow_sample", ValueError, "trajectory",
     trajectory_too_big=lambda c: dif.flow_sample(tiny_unet(), 10_000, (1, 28, 28), 1000, trajectory=True, progress=False))
rows("args", "ddim_sample", ValueError, "steps",
     more_steps_than_schedule=lambda c: dif.ddim_sample(tiny_unet(), _COS, 1, (1, 8, 8), steps=11, progress=False))
rows("args", "ddpm_sample", ValueError, "y",
     label_out_of_range=lambda c: dif.ddpm_sample(tiny_unet(), _COS, 2, (1, 8, 8), y=torch.tensor([0, 12]), progress=False))
rows("args", "sample_in_batches", ValueError, "batch_size",
     batch_zero=lambda c: dif.sample_in_batches(dif.flow_sample, 2, tiny_unet(), batch_size=0, shape=(1, 8, 8), steps=1))
rows("args", "guided_prediction", ValueError, "guidance",
     nan_guidance=lambda c: dif.guided_prediction(tiny_unet(), torch.zeros(1, 1, 8, 8), torch.zeros(1), None, NAN))
rows("numbers", "samples_to_unit", ValueError, "x", nan_sample=lambda c: dif.samples_to_unit(torch.tensor([NAN])))
rows("args", "train_diffusion", ValueError, "epochs",
     no_budget=lambda c: dif.train_diffusion(tiny_unet(), imgs(), labels=torch.zeros(3, dtype=torch.long)),
     zero_epochs=lambda c: dif.train_diffusion(tiny_unet(), imgs(), epochs=0, labels=torch.zeros(3, dtype=torch.long)))
rows("args", "train_diffusion", ValueError, "labels",
     conditional_without_labels=lambda c: dif.train_diffusion(tiny_unet(), imgs(), epochs=1))
rows("numbers", "train_diffusion", ValueError, "data",
     nan_data=lambda c: dif.train_diffusion(tiny_unet(), with_nan(imgs()), epochs=1, labels=torch.zeros(3, dtype=torch.long)))
rows("args", "train_diffusion", TypeError, "schedule",
     ddpm_without_schedule=lambda c: dif.train_diffusion(tiny_unet(), imgs(), objective="ddpm", epochs=1,
                                                          labels=torch.zeros(3, dtype=torch.long)))
rows("numbers", "train_autoencoder", ValueError, "images",
     unit_pixels_are_fine_but_255_not=lambda c: dif.train_autoencoder(dif.ConvAutoencoder(4, 4), imgs() * 255, epochs=1),
     nan_image=lambda c: dif.train_autoencoder(dif.ConvAutoencoder(4, 4), with_nan(imgs()), epochs=1))
rows("args", "VelocityMLP", ValueError, "depth", depth_0=lambda c: dif.VelocityMLP(depth=0))
rows("args", "ConvAutoencoder", ValueError, "latent_dim", latent_0=lambda c: dif.ConvAutoencoder(latent_dim=0))
rows("numbers", "encode_images", ValueError, "images",
     pixels_above_1=lambda c: dif.encode_images(dif.ConvAutoencoder(4, 4), imgs() + 1.5))
rows("args", "decode_latents", ValueError, "codes",
     wrong_width=lambda c: dif.decode_latents(dif.ConvAutoencoder(4, 4), torch.zeros(2, 5)))
rows("args", "Recipe", ValueError, "method", method_gan=lambda c: dif.Recipe(method="gan"))
rows("args", "Recipe", ValueError, "a recipe needs", no_budget=lambda c: dif.Recipe(epochs=None, minutes=None))
rows("args", "budget_recipe", ValueError, "method", method_vae=lambda c: dif.budget_recipe("vae"))
rows("args", "with_budget", TypeError, "recipe", not_a_recipe=lambda c: dif.with_budget({"method": "flow"}, epochs=1))
rows("args", "cache_path", TypeError, "recipe", dict_recipe=lambda c: dif.cache_path({"method": "flow"}))
rows("args", "train_recipe", TypeError, "recipe", dict_recipe=lambda c: dif.train_recipe({"method": "flow"}))
rows("args", "load_or_train_diffusion", TypeError, "recipe", dict_recipe=lambda c: dif.load_or_train_diffusion("flow"))
rows("args", "train_run", TypeError, "recipe", dict_recipe=lambda c: dif.train_run({"method": "flow"}, c.tmp))
rows("args", "training_digits", ValueError, "train_subset", subset_0=lambda c: dif.training_digits(0))
rows("args", "save_diffusion", TypeError, "trained", a_module=lambda c: dif.save_diffusion(c.tmp / "x.pt", tiny_unet()))
rows("checkpoint", "load_diffusion", CheckpointError, "d.pt",
     nan_weight=lambda c: dif.load_diffusion(diffusion_file(c, lambda p: p["states"]["model"].__setitem__(
         "conv_in.weight", torch.full_like(p["states"]["model"]["conv_in.weight"], NAN)))),
     unknown_method=lambda c: dif.load_diffusion(diffusion_file(c, lambda p: p["config"]["recipe"].__setitem__("method", "gan"))),
     negative_seconds=lambda c: dif.load_diffusion(diffusion_file(c, lambda p: p["metadata"].__setitem__("train_seconds", -1.0))),
     history_nan=lambda c: dif.load_diffusion(diffusion_file(c, lambda p: p["metadata"].__setitem__(
         "history", {"train/loss": [NAN]}))),
     wider_network=lambda c: dif.load_diffusion(diffusion_file(c, lambda p: p["config"]["recipe"].__setitem__("base", 16))),
     huge_network=lambda c: dif.load_diffusion(diffusion_file(c, lambda p: p["config"]["recipe"].__setitem__("hidden", 10**6))))
rows("checkpoint", "load_diffusion", CheckpointError, "expected 'diffusion'",
     a_vae_file=lambda c: dif.load_diffusion(vae.save_vae(tiny_vae(), c.tmp / "v.pt")))
rows("checkpoint", "load_diffusion", CheckpointError, "truncated",
     truncated=lambda c: dif.load_diffusion(vae_file(c.tmp, "truncated")))
rows("args", "requested_accuracy", ValueError, "requested",
     wrong_length=lambda c: dif.requested_accuracy(tiny_classifier(), imgs(), torch.zeros(2, dtype=torch.long)))
rows("args", "within_class_diversity", ValueError, "labels",
     all_distinct=lambda c: dif.within_class_diversity(imgs(), torch.arange(3)))
rows("args", "sampling_seconds", TypeError, "trained", a_module=lambda c: dif.sampling_seconds(tiny_unet(), 2, 2))
rows("args", "score_samples", ValueError, "n", one=lambda c: dif.score_samples(tiny_trained(), tiny_classifier(),
                                                                                torch.zeros(4, 128), 1, 2))
rows("args", "score_samples", ValueError, "guidance",
     negative_guidance=lambda c: dif.score_samples(tiny_trained(), tiny_classifier(), torch.zeros(4, 128), 4, 2,
                                                   guidance=-1.0),
     nan_guidance=lambda c: dif.score_samples(tiny_trained(), tiny_classifier(), torch.zeros(4, 128), 4, 2,
                                              guidance=float("nan")))
rows("args", "score_samples", ValueError, "class-conditional",
     unconditional_model=lambda c: dif.score_samples(dataclasses.replace(tiny_trained(), recipe=dataclasses.replace(
         tiny_trained().recipe, conditional=False)), tiny_classifier(), torch.zeros(4, 128), 4, 2, guidance=1.0))
rows("args", "guidance_sweep", ValueError, "scales",
     no_scales=lambda c: dif.guidance_sweep(tiny_trained(), tiny_classifier(), []))


def readonly(c: Ctx, folder: Path) -> None:
    """Make ``folder`` refuse writes: chmod for a normal user; root ignores permissions, so there the
    writing calls of the course (os.open for writing, os.replace, os.unlink, os.mkdir) fail for paths in it."""
    folder = folder.resolve()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        c.monkeypatch.setattr(_CLEANUP, "folders", _CLEANUP.folders + [folder])
        return
    import errno

    def inside(path: Any) -> bool:
        try:
            return Path(os.fsdecode(path)).resolve().is_relative_to(folder)
        except (TypeError, ValueError):
            return False

    def deny(real: Callable, *checked: int) -> Callable:
        def wrapper(*args, **kwargs):
            if any(inside(args[i]) for i in checked if i < len(args)):
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(args[checked[0]]))
            return real(*args, **kwargs)
        return wrapper

    real_open = os.open

    def guarded_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and inside(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    c.monkeypatch.setattr(os, "open", guarded_open)
    for name in ("replace", "unlink", "mkdir", "rename"):
        c.monkeypatch.setattr(os, name, deny(getattr(os, name), 1 if name in ("replace", "rename") else 0))


class _CLEANUP:
    folders: list[Path] = []


# ---------------------------------------------------------------- the tests


def _id(case: Case) -> str:
    return f"{case.family}-{case.target}-{case.label}"


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory, mnist_cache_dir) -> Path:
    """A folder with one real 2-epoch GAN run (made once for every checkpoint row)."""
    return tmp_path_factory.mktemp("shared_run")


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_bad_input_fails_clearly(case: Case, tmp_path, monkeypatch, request):
    ctx = Ctx(tmp_path, monkeypatch)
    if case.family == "cache" or (case.family == "checkpoint" and case.target in ("load_training_state", "load_generator")):
        ctx.mnist = request.getfixturevalue("mnist_cache_dir")
        ctx.shared = request.getfixturevalue("shared_run")
        if case.family == "checkpoint":
            monkeypatch.setenv("AIGC_COURSE_DATA", str(ctx.mnist))
    try:
        with pytest.raises(case.error) as info:
            case.call(ctx)
    finally:
        for folder in _CLEANUP.folders:
            folder.chmod(0o755)
        _CLEANUP.folders = []
    message = str(info.value)
    assert case.needle.replace("{tmp}", str(tmp_path)) in message, f"{type(info.value).__name__}: {message}"
    assert "weights_only=False" not in message and "Traceback" not in message
    assert not (tmp_path / "pwned").exists(), "code from a checkpoint file ran"


# ---- chapter 07, the notebook side: the 2-D playground, the exact denoiser, figures and exercises --------

import aigc_course.diffusion.plots as dplots  # noqa: E402
import aigc_course.diffusion.toy as dtoy  # noqa: E402
from aigc_course.checks import diffusion as dchecks  # noqa: E402

RING = gan.GaussianRing()
LINEAR = dif.NoiseSchedule.linear(100)


def toy_net() -> nn.Module:
    torch.manual_seed(0)
    return dtoy.ToyDenoiser(hidden=8, depth=1)


def tiny_trajectory() -> "dif.Trajectory":
    return dif.flow_sample(tiny_unet(), 2, (1, 28, 28), steps=2, trajectory=True, progress=False)


rows("args", "check_q_sample", ValueError, "t",  # the reference the check rebinds
     step_past_the_end=lambda c: dchecks.check_q_sample.reference(torch.zeros(2, 2), torch.tensor([0, 100]),
                                                                  torch.zeros(2, 2), LINEAR))
rows("args", "check_ddpm_loss", TypeError, "model",
     not_a_module=lambda c: dchecks.check_ddpm_loss.reference(lambda x, t: x, torch.zeros(2, 2), LINEAR))
rows("numbers", "check_ddim_step", ValueError, "alpha_bar_t",
     zero_alpha_bar=lambda c: dchecks.check_ddim_step.reference(torch.zeros(2, 2), torch.zeros(2, 2), 0.0, 0.5))
rows("args", "train_toy_diffusion", ValueError, "objective",
     unknown_objective=lambda c: dtoy.train_toy_diffusion(RING, "gan", LINEAR, steps=1, progress=False))
rows("args", "train_toy_diffusion", TypeError, "schedule",
     ddpm_without_schedule=lambda c: dtoy.train_toy_diffusion(RING, "ddpm", None, steps=1, progress=False))
rows("args", "train_toy_diffusion", TypeError, "loss",
     loss_not_callable=lambda c: dtoy.train_toy_diffusion(RING, "ddpm", LINEAR, steps=1, progress=False, loss=3))
rows("args", "mixture_denoiser", ValueError, "centers",
     wrong_dimension=lambda c: dtoy.mixture_denoiser(torch.zeros(2, 3), 0.5, RING.centers(), 0.1))
rows("numbers", "mixture_denoiser", ValueError, "alpha_bar",
     zero_alpha_bar=lambda c: dtoy.mixture_denoiser(torch.zeros(2, 2), 0.0, RING.centers(), 0.1))
rows("numbers", "mixture_denoiser", ValueError, "weights",
     negative_weight=lambda c: dtoy.mixture_denoiser(torch.zeros(2, 2), 0.5, RING.centers()[:2], 0.1,
                                                     torch.tensor([1.0, -1.0])))
rows("numbers", "mixture_noise", ValueError, "alpha_bar",
     no_noise=lambda c: dtoy.mixture_noise(torch.zeros(2, 2), 1.0, RING.centers(), 0.1))
rows("numbers", "mixture_log_density", ValueError, "x_t",
     nan_point=lambda c: dtoy.mixture_log_density(with_nan(torch.zeros(2, 2)), 0.5, RING.centers(), 0.1))
rows("args", "monte_carlo_denoiser", ValueError, "samples",
     no_samples=lambda c: dtoy.monte_carlo_denoiser(torch.zeros(2, 2), 0.5, RING, samples=0))
rows("args", "compare_with_exact", ValueError, "steps",
     no_steps=lambda c: dtoy.compare_with_exact(toy_net(), RING, LINEAR, []),
     step_past_the_end=lambda c: dtoy.compare_with_exact(toy_net(), RING, LINEAR, [100]))
rows("args", "noising_grid", ValueError, "x0",
     not_images=lambda c: dplots.noising_grid(torch.zeros(2, 28, 28), LINEAR, [0]))
rows("args", "noising_grid", ValueError, "steps",
     step_past_the_end=lambda c: dplots.noising_grid(torch.zeros(2, 1, 28, 28), LINEAR, [0, 100]))
rows("args", "plot_snr", ValueError, "schedules", empty=lambda c: dplots.plot_snr({}))
rows("args", "plot_snr", TypeError, "schedules['x']", not_a_schedule=lambda c: dplots.plot_snr({"x": [0.1, 0.2]}))
rows("args", "snr_at", ValueError, "fractions", fraction_2=lambda c: dplots.snr_at(LINEAR, [2.0]))
rows("args", "trajectory_frame", TypeError, "trajectory", a_tensor=lambda c: dplots.trajectory_frame(torch.zeros(2), 0))
rows("args", "trajectory_frame", ValueError, "index", past_the_end=lambda c: dplots.trajectory_frame(tiny_trajectory(), 3))
rows("args", "sample_images", ValueError, "sampler",
     unknown_sampler=lambda c: dplots.sample_images(tiny_unet(), "rk4", 2, n=2))
rows("args", "sample_images", TypeError, "schedule",
     ddim_without_schedule=lambda c: dplots.sample_images(tiny_unet(), "ddim", 2, n=2))
rows("args", "sample_images", ValueError, "digit",
     digit_10=lambda c: dplots.sample_images(tiny_unet(), "euler", 2, n=2, digit=10))
rows("args", "plot_toy_samples", ValueError, "samples['x']",
     three_columns=lambda c: dplots.plot_toy_samples({"x": torch.zeros(4, 3)}, RING))
rows("numbers", "evaluate_images", ValueError, "images",
     nan_pixel=lambda c: ev.evaluate_images(tiny_classifier(), with_nan(imgs()), torch.zeros(5, 128)))
rows("numbers", "gan_training_step", ValueError, "real",
     nan_real=lambda c: gan.gan_training_step(*tiny_gan(), torch.optim.SGD(tiny_gan()[0].parameters(), lr=0.0),
                                              torch.optim.SGD(tiny_gan()[1].parameters(), lr=0.0),
                                              with_nan(imgs()[:, 0] * 2 - 1), torch.zeros(3, 100)))

FAMILIES = ("numbers", "args", "checkpoint", "cache")
NO_INPUT = {  # public functions the notebooks call that take no argument at all: nothing to get wrong
    "chapter_table_markdown", "corrections_markdown", "dropped_markdown", "draw_pipelines", "article_claims",
    "draw_preprocessing_in_pipelines",
    "data_dir", "mnist_status",  # read the environment only; an unusable cache is reported by ensure_mnist (cache rows)
}


def _notebook_imports() -> set[str]:
    names = set()
    for path in sorted((ROOT / "solutions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aigc_course"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    value = getattr(module, alias.name)
                    if callable(value) and not isinstance(value, type(importlib)):
                        names.add(alias.name)
    return names


def test_every_notebook_import_has_a_case():
    covered = {case.target for case in CASES}
    missing = sorted(_notebook_imports() - covered - NO_INPUT)
    assert not missing, f"public functions the notebooks call without a bad-input row: {missing}"
    assert len(CASES) >= 150 and {case.family for case in CASES} == set(FAMILIES), (len(CASES), FAMILIES)


# ---------------------------------------------------------------- valid extremes: finite and correct


def _close(got: Any, expected: Any, tol: float = 1e-6) -> bool:
    got, expected = torch.as_tensor(got, dtype=torch.float64), torch.as_tensor(expected, dtype=torch.float64)
    return bool(torch.isfinite(got).all()) and torch.allclose(got, expected, atol=tol, rtol=tol)


EXTREMES: dict[str, Callable[[], bool]] = {
    "softmax T=1e-30 is the argmax": lambda: _close(att.softmax(torch.tensor([1.0, 3.0, 2.0]), temperature=1e-30), [0, 1, 0]),
    "softmax T=1e-300 (below float32) is the argmax": lambda: _close(
        att.softmax(torch.tensor([1.0, 3.0, 2.0]), temperature=1e-300), [0, 1, 0]),
    "softmax T=1e300 (above float32) is uniform, -inf stays 0": lambda: _close(
        att.softmax(torch.tensor([1.0, -INF, 5.0]), temperature=1e300), [0.5, 0, 0.5]),
    "softmax T=5e-324 in float64 ties share": lambda: _close(
        att.softmax(torch.tensor([2.0, 2.0, 1.0], dtype=torch.float64), temperature=5e-324), [0.5, 0.5, 0]),
    "softmax of +-3e38 logits": lambda: _close(att.softmax(torch.tensor([3e38, -3e38])), [1, 0]),
    "softmax all -inf row stays zeros (the masked-row rule)": lambda: _close(
        att.softmax(torch.tensor([[-INF, -INF], [0.0, 0.0]])), [[0, 0], [0.5, 0.5]]),
    "next_char_probabilities T=1e-40": lambda: _close(app.next_char_probabilities(torch.tensor([0.1, 0.2]), 1e-40), [0, 1]),
    "next_char_probabilities T=1e40": lambda: _close(app.next_char_probabilities(torch.tensor([0.1, -50.0]), 1e40), [0.5, 0.5]),
    "attention on scores of 1e4": lambda: _close(att.scaled_dot_product_attention(
        torch.tensor([[100.0]]), torch.tensor([[100.0], [-100.0]]), torch.tensor([[1.0], [2.0]]))[0], [[1.0]]),
    "attention whose float32 scores overflow (q = k = 1e20) is scored in float64": lambda: _close(
        att.scaled_dot_product_attention(torch.tensor([[1e20]]), torch.tensor([[1e20], [-1e20]]),
                                         torch.tensor([[1.0], [2.0]]))[0], [[1.0]]),
    "discriminator_loss at logits +-1e4": lambda: _close(
        gan.discriminator_loss(torch.tensor([1e4]), torch.tensor([-1e4])), 0.0),
    "discriminator_loss, confidently wrong": lambda: _close(
        gan.discriminator_loss(torch.tensor([-1e4]), torch.tensor([1e4])), 2e4, tol=1e-3),
    "non-saturating generator_loss at logit -1e4 is 1e4": lambda: _close(gan.generator_loss(torch.tensor([-1e4])), 1e4, 1e-3),
    "saturating generator_loss at logit -1e4 is 0": lambda: _close(gan.generator_loss(torch.tensor([-1e4]), saturating=True), 0.0),
    "reconstruction_nll at logits +-200 on binary pixels is 0": lambda: _close(vae.reconstruction_nll(
        torch.tensor([[200.0, -200.0]]), torch.tensor([[1.0, 0.0]])), [0.0]),
    "gaussian_kl far from the prior (mu = 1e3)": lambda: _close(
        vae.gaussian_kl(torch.tensor([[1e3]]), torch.tensor([[0.0]])), [5e5], tol=1e-6),
    "gaussian_kl of a tiny variance (logvar = -80)": lambda: _close(
        vae.gaussian_kl(torch.tensor([[0.0]], dtype=torch.float64), torch.tensor([[-80.0]], dtype=torch.float64)),
        [0.5 * (math.exp(-80) - 1 + 80)]),
    "frechet_distance of a set with itself is 0": lambda: (lambda a: _close(ev.frechet_distance(a, a), 0.0, 1e-6))(
        torch.randn(50, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)),
    "frechet_distance of shifted identical sets is the squared shift": lambda: (lambda a: _close(
        ev.frechet_distance(a, a + 1e3), 4 * 1e6, tol=1e-6))(torch.randn(40, 4, generator=torch.Generator().manual_seed(1),
                                                                         dtype=torch.float64)),
    "frechet_distance of two constant sets": lambda: _close(ev.frechet_distance(torch.zeros(5, 3), torch.ones(5, 3)), 3.0),
    "inception_score of one-hot rows is the class count": lambda: _close(ev.inception_score(torch.eye(10)), 10.0, 1e-5),
    "class_histogram with a confident and a flat row": lambda: _close(
        ev.class_histogram(torch.tensor([[1.0, 0.0], [0.5, 0.5]])), [1.0, 0.0]),
    "symmetric_to_unit at the ends": lambda: _close(validate.symmetric_to_unit(torch.tensor([-1.0, 1.0])), [0, 1]),
    "symmetric_to_unit clamps rounding just past 1": lambda: _close(validate.symmetric_to_unit(torch.tensor([1.00001])), [1.0]),
    "nearest_class_mean_predict on huge values": lambda: bool(torch.equal(pre.nearest_class_mean_predict(
        torch.tensor([[1e30], [-1e30]]), torch.tensor([3, 7]), torch.tensor([[2e30], [-5e29]])), torch.tensor([3, 7]))),
    "generate at n = 1 and batch_size = 1": lambda: (lambda x: x.shape == (1, 28, 28) and bool(torch.isfinite(x).all()))(
        gan.generate(tiny_gan()[0], 1, batch_size=1)),
    "worked_example at temperature 1e6 is the mean": lambda: _close(att.worked_example(temperature=1e6).outputs, [3.0] * 5, 1e-4),
    "melody with no gap": lambda: app.melody(torch.zeros(2, 5), gap_seconds=0.0).shape == (10,),
    "mean_and_std of two equal numbers": lambda: _close(pre.mean_and_std([2.0, 2.0]), [2.0, 0.0]),
}


@pytest.mark.parametrize("name", list(EXTREMES))
def test_valid_extremes_give_finite_correct_answers(name):
    assert EXTREMES[name](), name


# ---------------------------------------------------------------- family "cli": one line, exit status 2


@dataclass
class CliCase:
    command: str
    label: str
    argv: Callable[[Ctx], list[str]]  # builds the files it needs, returns the arguments
    needle: str


def _npy_with_header(c: Ctx, shape: tuple, dtype: str = "<f4", data: bytes = b"") -> str:
    """A .npy file whose header claims ``shape`` but which holds only ``data``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    path = c.tmp / "claims.npy"
    path.write_bytes(buffer.getvalue() + data)
    return str(path)


def _array(c: Ctx, array: np.ndarray, name: str = "a.npy") -> str:
    np.save(c.tmp / name, array, allow_pickle=True)
    return str(c.tmp / name)


def _a_file(c: Ctx) -> Path:
    (c.tmp / "a_file.txt").write_text("a regular file")
    return c.tmp / "a_file.txt"


def _good_checkpoint(c: Ctx) -> str:
    return str(c.shared / "run" / "checkpoint.pt")


def _train(c: Ctx, *extra: str) -> list[str]:
    return ["train", "gan", "--epochs", "1", "--train-subset", "256", *extra]


def _sample(c: Ctx, checkpoint: str, out: str, n: str = "2") -> list[str]:
    return ["sample", "--checkpoint", checkpoint, "--n", n, "--out", out]


def _ro(c: Ctx, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    readonly(c, folder)
    return folder


def _corrupt_readonly_cache(c: Ctx, readonly_too: bool = True) -> None:
    """A cache whose train-labels file has one flipped byte (and, by default, a folder that refuses writes)."""
    cache = c.tmp / "cache"
    (cache / "mnist").mkdir(parents=True)
    for name in data.MD5SUMS:
        payload = (c.mnist / "mnist" / name).read_bytes()
        if name == "train-labels-idx1-ubyte.gz":
            payload = payload[:40] + bytes([payload[40] ^ 0xFF]) + payload[41:]
        (cache / "mnist" / name).write_bytes(payload)
    c.monkeypatch.setenv("AIGC_COURSE_DATA", str(cache))
    if readonly_too:
        readonly(c, cache / "mnist")


def _mem_error(*args, **kwargs):
    raise MemoryError


CLI_CASES = [
    # train
    CliCase("train", "out_under_a_file", lambda c: _train(c, "--out", str(_a_file(c) / "run")), "a_file.txt"),
    CliCase("train", "out_empty", lambda c: _train(c, "--out", ""), "--out"),
    CliCase("train", "out_is_a_file", lambda c: _train(c, "--out", str(_a_file(c))), "is a file"),
    CliCase("train", "out_read_only", lambda c: _train(c, "--out", str(_ro(c, c.tmp / "ro") / "run")), "Permission denied"),
    CliCase("train", "epochs_absurd", lambda c: ["train", "gan", "--epochs", str(10**12), "--out", str(c.tmp)], "--epochs"),
    CliCase("train", "seed_absurd", lambda c: _train(c, "--out", str(c.tmp), "--seed", str(10**30)), "--seed"),
    CliCase("train", "subset_too_small", lambda c: ["train", "gan", "--epochs", "1", "--out", str(c.tmp / "r"),
                                                    "--train-subset", "5"], "train_subset"),
    CliCase("train", "threads_absurd", lambda c: _train(c, "--out", str(c.tmp), "--threads", "100000"), "--threads"),
    CliCase("train", "cache_is_a_file", lambda c: (c.monkeypatch.setenv("AIGC_COURSE_DATA", str(_a_file(c))),
                                                  _train(c, "--out", str(c.tmp / "r")))[1], "a_file.txt is a file"),
    CliCase("train", "corrupt_checkpoint_in_out", lambda c: ((c.tmp / "r").mkdir(), (c.tmp / "r" / "checkpoint.pt").write_bytes(
        b"PK\x03\x04 truncated"), _train(c, "--out", str(c.tmp / "r")))[2], "checkpoint.pt"),
    CliCase("train", "lying_checkpoint_in_out", lambda c: ((c.tmp / "r").mkdir(), lying_gan_file(c.tmp, c.shared, "epoch", -2).rename(
        c.tmp / "r" / "checkpoint.pt"), _train(c, "--out", str(c.tmp / "r")))[2], "epoch"),
    CliCase("train", "bad_fast_switch", lambda c: (c.monkeypatch.setenv("AIGC_COURSE_FAST", "maybe"),
                                                  _train(c, "--out", str(c.tmp / "r")))[1], "AIGC_COURSE_FAST"),
    CliCase("train", "out_of_memory", lambda c: (c.monkeypatch.setattr(gan.training, "load_mnist_cached", _mem_error),
                                                _train(c, "--out", str(c.tmp / "r")))[1], "not enough memory"),
    # sample
    CliCase("sample", "out_is_a_folder", lambda c: _sample(c, _good_checkpoint(c), str((c.tmp / "d.npy").mkdir() or c.tmp / "d.npy")),
            "is a folder"),
    CliCase("sample", "out_under_a_file", lambda c: _sample(c, _good_checkpoint(c), str(_a_file(c) / "x.npy")), "a_file.txt"),
    CliCase("sample", "out_read_only", lambda c: _sample(c, _good_checkpoint(c), str(_ro(c, c.tmp / "ro") / "x.npy")),
            "Permission denied"),
    CliCase("sample", "n_absurd", lambda c: _sample(c, _good_checkpoint(c), str(c.tmp / "x.npy"), str(10**12)), "--n"),
    CliCase("sample", "truncated_checkpoint", lambda c: _sample(c, str(vae_file(c.tmp, "truncated")), str(c.tmp / "x.npy")),
            "truncated"),
    CliCase("sample", "malicious_checkpoint", lambda c: _sample(c, str(vae_file(c.tmp, "malicious")), str(c.tmp / "x.npy")),
            "nothing in it was run"),
    CliCase("sample", "nan_weights", lambda c: _sample(c, str(lying_gan_file(c.tmp, c.shared, "generator", {
        k: v.clone().fill_(NAN) for k, v in _gan_run(str(c.shared))["generator"].items()})), str(c.tmp / "x.npy")), "NaN"),
    CliCase("sample", "checkpoint_is_a_folder", lambda c: _sample(c, str(c.tmp), str(c.tmp / "x.npy")), "is a folder"),
    CliCase("sample", "lying_rng", lambda c: _sample(c, str(lying_gan_file(c.tmp, c.shared, "rng.torch", torch.zeros(
        7, dtype=torch.uint8))), str(c.tmp / "x.npy")), "rng['torch']"),
    CliCase("sample", "out_of_memory", lambda c: (c.monkeypatch.setattr(gan.mnist_models, "generate", _mem_error),
                                                 c.monkeypatch.setattr(gan, "generate", _mem_error),
                                                 _sample(c, _good_checkpoint(c), str(c.tmp / "x.npy")))[2], "not enough memory"),
    CliCase("sample", "disk_full", lambda c: (c.monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(
        OSError(28, "No space left on device"))), _sample(c, _good_checkpoint(c), str(c.tmp / "x.npy")))[1], "disk is full"),
    # evaluate
    CliCase("evaluate", "header_claims_1e12_images", lambda c: ["evaluate", _npy_with_header(c, (10**12, 28, 28))],
            "1,000,000,000,000"),
    CliCase("evaluate", "truncated_npy", lambda c: ["evaluate", _npy_with_header(c, (100, 28, 28), data=b"\0" * 4000)],
            "truncated"),
    CliCase("evaluate", "object_array", lambda c: ["evaluate", _array(c, np.array([{"a": 1}], dtype=object))], "dtype"),
    CliCase("evaluate", "integer_images", lambda c: ["evaluate", _array(c, np.zeros((3, 28, 28), np.uint8))], "dtype"),
    CliCase("evaluate", "nan_pixels", lambda c: ["evaluate", _array(c, with_nan(torch.rand(3, 28, 28)).numpy())], "finite"),
    CliCase("evaluate", "wrong_shape", lambda c: ["evaluate", _array(c, np.zeros((3, 32, 32), np.float32))], "shape"),
    CliCase("evaluate", "a_folder", lambda c: ["evaluate", str(c.tmp)], "is not a file"),
    CliCase("evaluate", "missing", lambda c: ["evaluate", str(c.tmp / "nothing.npy")], "does not exist"),
    CliCase("evaluate", "text_file", lambda c: ["evaluate", str(_a_file(c))], "not a readable .npy"),
    CliCase("evaluate", "nn_queries_absurd", lambda c: ["evaluate", "x.npy", "--nn-queries", str(10**9)], "--nn-queries"),
    CliCase("evaluate", "cache_is_a_file", lambda c: (c.monkeypatch.setenv("AIGC_COURSE_DATA", str(_a_file(c))),
                                                     ["evaluate", _array(c, np.zeros((3, 28, 28), np.float32))])[1],
            "a_file.txt is a file"),
    # grade
    CliCase("grade", "missing_notebook", lambda c: ["grade", str(c.tmp / "nothing.ipynb")], "does not exist"),
    CliCase("grade", "not_a_notebook", lambda c: ["grade", str(_a_file(c))], "not a notebook"),
    CliCase("grade", "csv_under_a_file", lambda c: ["grade", str(_a_file(c)), "--csv", str(_a_file(c) / "x.csv")],
            "a_file.txt"),
    CliCase("grade", "json_wrong_suffix", lambda c: ["grade", str(_a_file(c)), "--json", "grades.txt"], "--json"),
    CliCase("grade", "timeout_zero", lambda c: ["grade", str(_a_file(c)), "--timeout", "0"], "--timeout"),
    # bundle and install-bundle
    CliCase("bundle", "out_is_a_file", lambda c: ["bundle", str(_a_file(c))], "not an empty folder"),
    CliCase("bundle", "missing_wheel", lambda c: ["bundle", str(c.tmp / "b"), "--wheel", str(c.tmp / "nothing.whl")],
            "--wheel"),
    CliCase("bundle", "mnist_not_cached", lambda c: (c.monkeypatch.setenv("AIGC_COURSE_DATA", str(c.tmp / "empty")),
                                                    ["bundle", str(c.tmp / "b")])[1], "MNIST"),
    CliCase("install-bundle", "missing_folder", lambda c: ["install-bundle", str(c.tmp / "nothing")], "not a folder"),
    CliCase("install-bundle", "a_file", lambda c: ["install-bundle", str(_a_file(c))], "not a folder"),
    CliCase("install-bundle", "no_checksums", lambda c: ["install-bundle", str(c.tmp)], "SHA256SUMS"),
    # download
    CliCase("download", "cache_is_a_file", lambda c: (c.monkeypatch.setenv("AIGC_COURSE_DATA", str(_a_file(c))),
                                                     ["download", "--from", str(c.mnist / "mnist")])[1], "a_file.txt is a file"),
    CliCase("download", "from_a_file", lambda c: ["download", "--from", str(_a_file(c))], "source must be a folder"),
    CliCase("download", "from_wrong_files", lambda c: ((c.tmp / "usb").mkdir(), [(c.tmp / "usb" / n).write_bytes(b"x")
                                                                                 for n in data.MD5SUMS],
                                                      c.monkeypatch.setenv("AIGC_COURSE_DATA", str(c.tmp / "empty")),
                                                      ["download", "--from", str(c.tmp / "usb")])[3], "MD5"),
    CliCase("download", "read_only_cache", lambda c: (c.monkeypatch.setenv("AIGC_COURSE_DATA", str(_ro(c, c.tmp / "ro"))),
                                                     ["download", "--from", str(c.mnist / "mnist")])[1], "cannot write"),
    CliCase("download", "corrupt_file_in_read_only_cache", lambda c: (
        _corrupt_readonly_cache(c), ["download", "--from", str(c.mnist / "mnist")])[1], "could not delete"),
    CliCase("train", "corrupt_cached_file_offline", lambda c: (
        _corrupt_readonly_cache(c, readonly_too=False), _train(c, "--out", str(c.tmp / "r")))[1],
        "expected d53e105ee54ea40749a09fcbcd1e9432"),
    CliCase("download", "folder_in_place_of_a_gz", lambda c: (
        c.monkeypatch.setenv("AIGC_COURSE_DATA", str(c.tmp / "c")),
        (c.tmp / "c" / "mnist" / "train-images-idx3-ubyte.gz").mkdir(parents=True),
        ["download", "--from", str(c.mnist / "mnist")])[2], "is a folder"),
    # chapter 07: diffusion models on the command line
    CliCase("train", "diffusion_out_is_a_file", lambda c: ["train", "flow", "--epochs", "1", "--out", str(_a_file(c))],
            "is a file"),
    CliCase("train", "ae_epochs_zero", lambda c: ["train", "latent-flow", "--epochs", "1", "--ae-epochs", "0", "--out",
                                                 str(c.tmp / "r")], "--ae-epochs"),
    CliCase("train", "diffusion_over_another_recipe", lambda c: ((c.tmp / "r").mkdir(), dif.save_diffusion(
        c.tmp / "r" / "checkpoint.pt", tiny_trained()), ["train", "ddpm", "--epochs", "1", "--train-subset", "64", "--out",
                                                          str(c.tmp / "r")])[2], "another recipe"),
    CliCase("train", "diffusion_corrupt_checkpoint", lambda c: ((c.tmp / "r").mkdir(), (c.tmp / "r" / "checkpoint.pt")
                                                               .write_bytes(b"PK\x03\x04 truncated"),
                                                               ["train", "flow", "--epochs", "1", "--out", str(c.tmp / "r")])[2],
            "checkpoint.pt"),
    CliCase("sample", "digit_12", lambda c: _sample(c, str(dif.save_diffusion(c.tmp / "d.pt", tiny_trained())),
                                                   str(c.tmp / "x.npy")) + ["--digit", "12"], "--digit"),
    CliCase("sample", "guidance_negative", lambda c: _sample(c, str(dif.save_diffusion(c.tmp / "d.pt", tiny_trained())),
                                                            str(c.tmp / "x.npy")) + ["--digit", "1", "--guidance", "-1"],
            "--guidance"),
    CliCase("sample", "guidance_without_digit", lambda c: _sample(c, str(dif.save_diffusion(c.tmp / "d.pt", tiny_trained())),
                                                                 str(c.tmp / "x.npy")) + ["--guidance", "2"], "--digit"),
    CliCase("sample", "steps_zero", lambda c: _sample(c, str(dif.save_diffusion(c.tmp / "d.pt", tiny_trained())),
                                                     str(c.tmp / "x.npy")) + ["--steps", "0"], "--steps"),
    CliCase("sample", "digit_for_a_gan", lambda c: _sample(c, _good_checkpoint(c), str(c.tmp / "x.npy")) + ["--digit", "3"],
            "GAN checkpoint"),
    CliCase("sample", "raw_for_a_diffusion_model", lambda c: _sample(c, str(dif.save_diffusion(
        c.tmp / "d.pt", tiny_trained())), str(c.tmp / "x.npy")) + ["--raw"], "--raw"),
]


def _cli_id(case: CliCase) -> str:
    return f"cli-{case.command}-{case.label}"


@pytest.mark.parametrize("case", CLI_CASES, ids=_cli_id)
def test_cli_bad_input_is_one_line_and_exit_2(case: CliCase, tmp_path, monkeypatch, capsys, mnist_cache_dir, shared_run):
    monkeypatch.setenv("AIGC_COURSE_DATA", str(mnist_cache_dir))
    monkeypatch.chdir(tmp_path)
    ctx = Ctx(tmp_path, monkeypatch, mnist_cache_dir, shared_run)
    _gan_run(str(shared_run))  # the real checkpoint some rows start from
    try:
        argv = case.argv(ctx)
        capsys.readouterr()
        try:
            code = cli.main(argv)
        except SystemExit as exit_:  # argparse's own errors
            code = exit_.code
    finally:
        for folder in _CLEANUP.folders:
            folder.chmod(0o755)
        _CLEANUP.folders = []
    err = capsys.readouterr().err
    assert code == 2, err
    assert case.needle in err and "Traceback" not in err and "weights_only=False" not in err, err
    lines = [line for line in err.strip().splitlines() if not line.startswith("loading or training")]  # progress note
    assert len(lines) == 1 and lines[0].startswith("error: "), err


def test_cli_table_covers_every_subcommand_three_times():
    counts = {name: sum(case.command == name for case in CLI_CASES) for name in cli.COMMANDS}
    assert all(count >= 3 for count in counts.values()), counts
    assert len(CASES) + len(CLI_CASES) >= 150


def test_evaluate_with_a_read_only_cache_still_reports(tmp_path, monkeypatch, capsys, mnist_cache_dir):
    """The classifier cannot be cached in a read-only cache: evaluate says so on stderr and still prints its JSON."""
    import json

    cache = tmp_path / "cache"
    (cache / "mnist").mkdir(parents=True)
    for name in data.MD5SUMS:
        (cache / "mnist" / name).write_bytes((mnist_cache_dir / "mnist" / name).read_bytes())
    monkeypatch.setenv("AIGC_COURSE_DATA", str(cache))
    monkeypatch.setattr(ev.metrics, "train_classifier", lambda *args, **kwargs: None)  # an untrained classifier is enough
    ctx = Ctx(tmp_path, monkeypatch)
    _ro(ctx, cache)
    try:
        code = cli.main(["evaluate", _array(ctx, np.random.default_rng(0).random((20, 28, 28), dtype=np.float32)),
                         "--nn-queries", "5"])
    finally:
        for folder in _CLEANUP.folders:
            folder.chmod(0o755)
        _CLEANUP.folders = []
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["generated"]["n"] == 20
    assert "cannot write" in err and "Traceback" not in err


def test_a_flipped_byte_in_any_tensor_of_a_real_checkpoint_is_caught(tmp_path, mnist_env, shared_run):
    """checkpoints.py hashes every tensor's dtype, shape and bytes (SHA-256 stored in the file). torch itself checks
    nothing in the tensor records (stored uncompressed in the zip), so without the hash these files would load."""
    import zipfile

    _gan_run(str(shared_run))
    source = shared_run / "run" / "checkpoint.pt"
    raw = source.read_bytes()
    with zipfile.ZipFile(source) as archive:
        records = [i for i in archive.infolist() if "/data/" in i.filename and i.file_size]
    assert len(records) >= 10
    for info in records:
        offset = info.header_offset + 30 + int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little") \
            + int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
        for position in (0, info.file_size // 2, info.file_size - 1):
            damaged = bytearray(raw)
            damaged[offset + position] ^= 0x01
            path = tmp_path / "damaged.pt"
            path.write_bytes(bytes(damaged))
            torch.load(path, weights_only=True)  # parses fine: nothing but the hash can tell
            with pytest.raises(CheckpointError, match="checksum"):
                gan.load_training_state(path)
