"""Command line: ``python -m aigc_course <command>``.

Commands register themselves in :data:`COMMANDS` as ``name -> (add_arguments, run)``;
``run`` returns an exit code. Expected errors (bad arguments, missing data, a corrupt
checkpoint) print one clear line to stderr and exit 2, never a deep traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from . import __version__


class CommandError(Exception):
    """An error the user can fix; printed without a traceback."""


def _add_download(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", metavar="DIR",
                        help="copy the four MNIST .gz files from this folder instead of downloading")


def _run_download(args: argparse.Namespace) -> int:
    from .data import MNISTUnavailableError, copy_mnist_from, ensure_mnist, mnist_status

    try:
        if args.source:
            copy_mnist_from(args.source, verbose=True)
        else:
            ensure_mnist(download=True, verbose=True)
    except (MNISTUnavailableError, ValueError) as err:
        raise CommandError(str(err)) from None
    print(f"MNIST: {mnist_status()}")
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "download": ("fill the data cache with MNIST (MD5-verified)", _add_download, _run_download),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m aigc_course",
                                     description="AIGC core-techniques course: data and model tools")
    parser.add_argument("--version", action="version", version=f"aigc_course {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command][2](args)
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
