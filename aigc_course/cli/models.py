"""``python -m aigc_course train | sample | evaluate``: chapter 05's GANs and chapter 07's diffusion/flow models.

``train`` takes a GAN (``gan``, ``dcgan``, ``mlp``) or a diffusion model (``ddpm``, ``flow``,
``latent-flow``: class-conditional with label dropout, so one model samples both ways);
``sample`` reads either kind of checkpoint; ``--steps``, ``--digit`` and ``--guidance`` apply to
diffusion checkpoints only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import (CommandError, device_or_error, int_at_least, non_negative_float, output_file, positive_float,
                     seed_int, writable_folder)


def _add_train(parser: argparse.ArgumentParser) -> None:
    from ..gan.mnist_models import MODELS
    from ..gan.runs import MAX_EPOCHS

    parser.add_argument("model", choices=sorted(MODELS) + list(DIFFUSION_MODELS),
                        help="gan = the article's model ported faithfully, dcgan = convolutional, mlp = the chapter's "
                        "improved model (chapter 05); ddpm, flow = the pixel U-Net, latent-flow = flow matching in an "
                        "autoencoder's latent space (chapter 07)")
    parser.add_argument("--epochs", type=int_at_least(1, "positive", MAX_EPOCHS), required=True,
                        help="train until this many epochs are done")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="run folder: checkpoint.pt and samples/epoch_NNN.png; an existing run there is resumed")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: the best available)")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--train-subset", type=int_at_least(1, "positive", 60_000), default=None, metavar="N",
                        help="train on the first N training images only (default: all 60,000)")
    parser.add_argument("--max-minutes", type=positive_float, default=None,
                        help="stop before an epoch that would end after this many minutes")
    parser.add_argument("--threads", type=int_at_least(1, "positive", 1024), default=None, help="torch CPU threads")
    parser.add_argument("--ae-epochs", type=int_at_least(1, "positive", 1000), default=3,
                        help="latent-flow only: epochs of the autoencoder (default 3)")


DIFFUSION_MODELS = ("ddpm", "flow", "latent-flow")


def _run_train_diffusion(args: argparse.Namespace, device) -> int:
    from ..checkpoints import CheckpointError
    from ..data import MNISTUnavailableError
    from ..diffusion.recipes import budget_recipe
    from ..diffusion.runs import train_run

    try:
        latent = dict(autoencoder_epochs=args.ae_epochs, autoencoder_minutes=None) if args.model == "latent-flow" else {}
        recipe = budget_recipe(args.model, epochs=args.epochs, minutes=args.max_minutes, train_subset=args.train_subset,
                               seed=args.seed, **latent)
        result = train_run(recipe, args.out, device)
    except (CheckpointError, MNISTUnavailableError, FloatingPointError) as err:
        raise CommandError(str(err)) from None
    except ValueError as err:
        raise CommandError(str(err)) from None
    trained = result.trained
    if result.resumed_from:
        print(f"resumed after epoch {result.resumed_from}")
    print(f"{args.model}: {trained.epochs} epochs done, {trained.train_seconds / 60:.1f} min of training"
          + (f" (+{trained.autoencoder_seconds / 60:.1f} min autoencoder)" if trained.autoencoder is not None else "")
          + f", last loss {trained.history.last('train/loss'):.4f}")
    print(f"checkpoint: {result.checkpoint}")
    return 0


def _run_train(args: argparse.Namespace) -> int:
    import torch

    from ..data import MNISTUnavailableError
    from ..checkpoints import CheckpointError
    from ..gan.training import train_gan

    if args.threads:
        torch.set_num_threads(args.threads)
    device = device_or_error(args.device)
    if not args.out.strip():
        raise CommandError("--out must name a run folder, got an empty string")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise CommandError(f"--out {args.out} is a file; out_dir must be a folder (a run folder holds checkpoint.pt "
                           f"and samples/)")
    writable_folder(args.out, "--out")  # now, not after the first epoch
    if args.model in DIFFUSION_MODELS:
        return _run_train_diffusion(args, device)
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
    from ..gan.mnist_models import MAX_SAMPLES as MAX_IMAGES

    parser.add_argument("--checkpoint", required=True, metavar="PATH", help="a checkpoint.pt written by train")
    parser.add_argument("--n", type=int_at_least(1, "positive", MAX_IMAGES), required=True,
                        help=f"number of images (at most {MAX_IMAGES:,}; run again with another --seed for more)")
    parser.add_argument("--out", required=True, metavar="FILE.npy", help="float32 [N, 28, 28], values in [0, 1]")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--device", default=None)
    parser.add_argument("--raw", action="store_true", help="use the raw generator, not its moving average")
    parser.add_argument("--steps", type=int_at_least(1, "positive", 1000), default=None,
                        help="diffusion models: sampling steps (default 20)")
    parser.add_argument("--digit", type=int_at_least(0, "digit (0-9)", 9), default=None,
                        help="diffusion models: draw this digit (classifier-free guidance)")
    parser.add_argument("--guidance", type=non_negative_float, default=None,
                        help="diffusion models with --digit: guidance scale w (default: the chapter's, 1 = plain "
                             "conditional)")


def _run_sample(args: argparse.Namespace) -> int:
    import io

    import numpy as np

    from ..files import atomic_write_bytes

    output_file(args.out, "--out", ".npy")  # before loading and generating, not after
    kind = _checkpoint_kind(args.checkpoint)
    if kind == "diffusion":
        images, what = _sample_diffusion(args)
    else:
        if kind == "gan" and args.steps is not None or args.digit is not None or args.guidance is not None:
            raise CommandError(f"{args.checkpoint} is a GAN checkpoint: --steps, --digit and --guidance apply to "
                               f"diffusion checkpoints only")
        images, what = _sample_gan(args)
    buffer = io.BytesIO()
    np.save(buffer, images)
    atomic_write_bytes(args.out, buffer.getvalue())
    print(f"wrote {args.out}: {images.shape[0]} images from {what}, float32 [N, 28, 28] in [0, 1]")
    return 0


def _checkpoint_kind(path: str) -> str | None:
    """The kind of a checkpoint file, or None when it cannot be read (the loader then says why)."""
    from ..checkpoints import CheckpointError, load_checkpoint

    try:
        return load_checkpoint(path).kind
    except CheckpointError:
        return None


def _sample_diffusion(args: argparse.Namespace):
    import numpy as np
    import torch

    from ..checkpoints import CheckpointError
    from ..config import budget
    from ..diffusion.recipes import load_diffusion

    if args.guidance is not None and args.digit is None:
        raise CommandError("--guidance needs --digit (guidance steers towards a requested digit)")
    if args.raw:
        raise CommandError("--raw applies to GAN checkpoints only")
    try:
        trained = load_diffusion(args.checkpoint, device_or_error(args.device))
    except CheckpointError as err:
        raise CommandError(str(err)) from None
    if args.digit is not None and not trained.recipe.conditional:
        raise CommandError(f"{args.checkpoint} holds an unconditional model: --digit needs a class-conditional one")
    steps = args.steps if args.steps is not None else 20
    guidance = args.guidance if args.guidance is not None else budget("diffusion").guidance
    y = None if args.digit is None else torch.full((args.n,), args.digit, dtype=torch.long)
    images = trained.sample(args.n, steps=steps, y=y, guidance=guidance if y is not None else 1.0,
                            generator=torch.Generator().manual_seed(args.seed))
    what = f"{trained.recipe.method} ({steps} steps" + (f", digit {args.digit}, guidance {guidance:g})" if y is not None
                                                         else ")")
    return images[:, 0].numpy().astype(np.float32), what


def _sample_gan(args: argparse.Namespace):
    import numpy as np

    from ..checkpoints import CheckpointError
    from ..gan.runs import load_generator
    from ..gan.mnist_models import generate

    try:
        generator, spec = load_generator(args.checkpoint, device_or_error(args.device), ema=not args.raw)
        images = generate(generator, args.n, spec.z_dim, seed=args.seed).numpy().astype(np.float32)
    except CheckpointError as err:
        raise CommandError(str(err)) from None
    except ValueError as err:  # e.g. the generator's output is not finite images in [-1, 1]
        raise CommandError(f"{args.checkpoint}: {err}") from None
    return images, f"model {spec.name!r}"


def _add_evaluate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.npy", help="images [N, 28, 28] (or [N, 1, 28, 28]) in [0, 1]")
    parser.add_argument("--nn-queries", type=int_at_least(1, "positive", 10_000), default=1000,
                        help="how many images get a nearest-training-neighbour search (default 1000, at most 10,000)")


def _run_evaluate(args: argparse.Namespace) -> int:
    import json

    import numpy as np
    import torch

    from ..data import MNISTUnavailableError
    from ..config import budget
    from ..evaluation.metrics import classifier_config, evaluation_report, load_or_train_classifier, real_reference
    from ..validate import require_images

    array = _read_images(args.file)
    images = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    try:
        require_images(args.file, images)  # finite pixels in [0, 1], checked before the classifier is loaded
    except ValueError as err:
        raise CommandError(str(err)) from None
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


def _read_images(path: str):
    """The float array in a ``.npy`` file of images, after checking its header: shape, dtype, size on disk.

    The header is read first, so a file that claims 10^12 images is refused before anything is allocated.
    """
    import numpy as np

    from ..gan.mnist_models import MAX_SAMPLES as MAX_IMAGES

    file = Path(path)
    if not file.exists():
        raise CommandError(f"{path} does not exist")
    if not file.is_file():
        raise CommandError(f"{path} is not a file (a folder?); give a .npy file of images")
    try:
        with open(file, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            data_bytes = file.stat().st_size - handle.tell()
    except (ValueError, EOFError, SyntaxError, TypeError) as err:
        raise CommandError(f"{path} is not a readable .npy array ({str(err).splitlines()[0][:120]}); "
                           f"write it with numpy.save") from None
    if dtype.kind != "f":
        raise CommandError(f"{path} must hold floats in [0, 1], got dtype {dtype}")
    if len(shape) not in (2, 3, 4) or tuple(shape[1:]) not in ((28, 28), (1, 28, 28), (784,)):
        raise CommandError(f"{path}: images must have shape [N, 28, 28] (or [N, 1, 28, 28], [N, 784]), got "
                           f"shape {list(shape)}")
    if not 1 <= shape[0] <= MAX_IMAGES:
        raise CommandError(f"{path}: expected 1 to {MAX_IMAGES:,} images, the header says {shape[0]:,}")
    needed = int(np.prod(shape)) * dtype.itemsize
    if data_bytes < needed:
        raise CommandError(f"{path} is truncated: its header says shape {list(shape)} ({needed:,} bytes of data), "
                           f"the file holds {data_bytes:,}")
    try:
        return np.load(file, allow_pickle=False)
    except (ValueError, EOFError) as err:
        raise CommandError(f"{path} is not a readable .npy array ({str(err).splitlines()[0][:120]})") from None


COMMANDS = {
    "train": ("train a chapter-05 GAN or a chapter-07 diffusion/flow model on MNIST (resumes an interrupted run)",
              _add_train, _run_train),
    "sample": ("draw images from a trained GAN or diffusion checkpoint into a .npy file", _add_sample, _run_sample),
    "evaluate": ("judge images in a .npy file with the course's MNIST classifier (JSON)", _add_evaluate,
                 _run_evaluate),
}
