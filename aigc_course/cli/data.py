"""``python -m aigc_course download``: fill the data cache with MNIST (MD5-verified)."""

from __future__ import annotations

import argparse

from .common import CommandError


def _add_download(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", metavar="DIR",
                        help="copy the four MNIST .gz files from this folder instead of downloading")


def _run_download(args: argparse.Namespace) -> int:
    from ..data import MNISTUnavailableError, copy_mnist_from, ensure_mnist, mnist_status

    try:
        if args.source:
            copy_mnist_from(args.source, verbose=True)
        else:
            ensure_mnist(download=True, verbose=True)
    except (MNISTUnavailableError, ValueError) as err:
        raise CommandError(str(err)) from None
    print(f"MNIST: {mnist_status()}")
    return 0


COMMANDS = {
    "download": ("fill the data cache with MNIST (MD5-verified)", _add_download, _run_download),
}
