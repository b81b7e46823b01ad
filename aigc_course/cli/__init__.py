"""Command line: ``python -m aigc_course <command>``.

One module per group of commands; each exports ``COMMANDS`` as
``name -> (help, add_arguments, run)`` and :data:`COMMANDS` below joins them. ``run`` returns
an exit code. Expected errors (bad arguments, missing data, a corrupt checkpoint) print one
clear line to stderr and exit 2, never a deep traceback.

=============  ==========================================================
module         commands
=============  ==========================================================
``data``       ``download``
``models``     ``train``, ``sample``, ``evaluate`` (chapter 05's GANs)
``grading``    ``grade`` (instructors: run learners' notebooks, report exercises)
``bundle``     ``bundle``, ``install-bundle`` (instructors: a room without network)
=============  ==========================================================
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from .. import __version__
from . import bundle, data, grading, models
from .common import CommandError

__all__ = ["COMMANDS", "CommandError", "build_parser", "main"]

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    **data.COMMANDS,
    **models.COMMANDS,
    **grading.COMMANDS,
    **bundle.COMMANDS,
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
