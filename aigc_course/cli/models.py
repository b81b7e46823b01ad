"""``python -m aigc_course train | sample | evaluate``: chapter 05's GANs from the command line."""

from __future__ import annotations

import argparse
import sys

from .common import CommandError, device_or_error, non_negative_int, positive_float, positive_int


def _add_train(parser: argparse.ArgumentParser) -> None:
    from ..gan.mnist_models import MODELS

    parser.add_argument("model", choices=sorted(MODELS), help="gan = the article's model ported faithfully, "
                        "dcgan = convolutional, mlp = the chapter's improved model")
    parser.add_argument("--epochs", type=positive_int, required=True, help="train until this many epochs are done")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="run folder: checkpoint.pt and samples/epoch_NNN.png; an existing run there is resumed")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: the best available)")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--train-subset", type=positive_int, default=None, metavar="N",
                        help="train on the first N training images only (default: all 60,000)")
    parser.add_argument("--max-minutes", type=positive_float, default=None,
                        help="stop before an epoch that would end after this many minutes")
    parser.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")


def _run_train(args: argparse.Namespace) -> int:
    import torch

    from ..data import MNISTUnavailableError
    from ..checkpoints import CheckpointError
    from ..gan.training import train_gan

    if args.threads:
        torch.set_num_threads(args.threads)
    device = device_or_error(args.device)
    try:
        run = train_gan(args.model, args.epochs, args.out, seed=args.seed, train_subset=args.train_subset,
                        device=device, max_seconds=args.max_minutes * 60 if args.max_minutes else None)
    except (CheckpointError, MNISTUnavailableError, FloatingPointError) as err:
        raise CommandError(str(err)) from None
    except ValueError as err:  # argument checks of train_gan (e.g. a subset smaller than a batch)
        raise CommandError(str(err)) from None
    h = run.history
    if run.trained_epochs == 0:
        print(f"{run.spec.name}: nothing to train, {run.out_dir} already holds {run.epochs_done} epochs")
    else:
        if run.resumed_from:
            print(f"resumed after epoch {run.resumed_from}")
        print(f"{run.spec.name}: {run.epochs_done} epochs done ({run.trained_epochs} now, "
              f"{sum(h['train/seconds'][run.resumed_from:run.epochs_done]):.0f} s, {run.images_per_second:.0f} images/s)"
              + ("; stopped by --max-minutes" if run.stopped_early else ""))
    if "train/d_loss" in h:
        print(f"last epoch: D loss {h.last('train/d_loss'):.3f}, G loss {h.last('train/g_loss'):.3f}, "
              f"D(x) {h.last('eval/d_real'):.3f}, D(G(z)) {h.last('eval/d_fake'):.3f}")
    print(f"checkpoint: {run.out_dir / 'checkpoint.pt'}")
    return 0


def _add_sample(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="PATH", help="a checkpoint.pt written by train")
    parser.add_argument("--n", type=positive_int, required=True, help="number of images")
    parser.add_argument("--out", required=True, metavar="FILE.npy", help="float32 [N, 28, 28], values in [0, 1]")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--device", default=None)
    parser.add_argument("--raw", action="store_true", help="use the raw generator, not its moving average")


def _run_sample(args: argparse.Namespace) -> int:
    import io

    import numpy as np

    from ..files import atomic_write_bytes
    from ..checkpoints import CheckpointError
    from ..gan.runs import load_generator
    from ..gan.mnist_models import generate

    if not args.out.endswith(".npy"):
        raise CommandError(f"--out must name a .npy file, got {args.out!r}")
    try:
        generator, spec = load_generator(args.checkpoint, device_or_error(args.device), ema=not args.raw)
    except CheckpointError as err:
        raise CommandError(str(err)) from None
    images = generate(generator, args.n, spec.z_dim, seed=args.seed).numpy().astype(np.float32)
    buffer = io.BytesIO()
    np.save(buffer, images)
    atomic_write_bytes(args.out, buffer.getvalue())
    print(f"wrote {args.out}: {images.shape[0]} images from model {spec.name!r}, float32 [N, 28, 28] in [0, 1]")
    return 0


def _add_evaluate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.npy", help="images [N, 28, 28] (or [N, 1, 28, 28]) in [0, 1]")
    parser.add_argument("--nn-queries", type=positive_int, default=1000,
                        help="how many images get a nearest-training-neighbour search (default 1000)")


def _run_evaluate(args: argparse.Namespace) -> int:
    import json

    import numpy as np
    import torch

    from ..data import MNISTUnavailableError
    from ..config import budget
    from ..evaluation.metrics import classifier_config, evaluation_report, load_or_train_classifier, real_reference

    try:
        array = np.load(args.file, allow_pickle=False)
    except FileNotFoundError:
        raise CommandError(f"{args.file} does not exist") from None
    except (ValueError, OSError, EOFError) as err:
        raise CommandError(f"{args.file} is not a readable .npy array ({err})") from None
    if array.dtype.kind != "f":
        raise CommandError(f"{args.file} must hold floats in [0, 1], got dtype {array.dtype}")
    images = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    try:
        print("loading or training the evaluation classifier...", file=sys.stderr)
        config = classifier_config()
        classifier = load_or_train_classifier(**config, verbose=False, progress=False)
        reference = real_reference(classifier, budget("mnist_gan").reference_images)
        report = evaluation_report(images, classifier, reference=reference, nn_queries=args.nn_queries)
    except MNISTUnavailableError as err:
        raise CommandError(str(err)) from None
    except (ValueError, TypeError) as err:
        raise CommandError(f"{args.file}: {err}") from None
    print(json.dumps({"file": args.file, **report, "classifier": config}, indent=2))
    return 0


COMMANDS = {
    "train": ("train a chapter-05 GAN on MNIST (resumes an interrupted run)", _add_train, _run_train),
    "sample": ("draw images from a trained GAN checkpoint into a .npy file", _add_sample, _run_sample),
    "evaluate": ("judge images in a .npy file with the course's MNIST classifier (JSON)", _add_evaluate,
                 _run_evaluate),
}
