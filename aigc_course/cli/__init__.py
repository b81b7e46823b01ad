"""Command line: ``python -m aigc_course <command>``.

One module per group of commands; each exports ``COMMANDS`` as
``name -> (help, add_arguments, run)`` and :data:`COMMANDS` below joins them. ``run`` returns
an exit code. Expected errors (bad arguments, missing data, a corrupt checkpoint, a file or
folder that cannot be written, not enough memory) print one clear line to stderr and exit 2,
never a deep traceback: :func:`main` catches them for every command
(:func:`~aigc_course.cli.common.expected_failure`), so a new command inherits the net.

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
from typing import Callable, NoReturn, Sequence

from .. import __version__
from . import bundle, data, grading, models
from .common import CommandError, expected_failure

__all__ = ["COMMANDS", "CommandError", "build_parser", "main"]

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    **data.COMMANDS,
    **models.COMMANDS,
    **grading.COMMANDS,
    **bundle.COMMANDS,
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong and where the help is), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m aigc_course", description="AIGC core-techniques course: data and model tools")
    parser.add_argument("--version", action="version", version=f"aigc_course {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _check_environment()
        return COMMANDS[args.command][2](args)
    except KeyboardInterrupt:
        print("interrupted (a training run resumes from its last checkpoint)", file=sys.stderr)
        return 130
    except Exception as err:  # the net: every failure a user can fix is one line, a bug keeps its traceback
        message = expected_failure(err)
        if message is None:
            raise
        lines = [line.strip() for line in message.splitlines() if line.strip()]  # quoted input keeps its spacing
        one_line = "; ".join(line.rstrip(".") if len(lines) > 1 else line for line in lines)
        print(f"error: {one_line}", file=sys.stderr)
        return 2


def _check_environment() -> None:
    """The course's switches must parse before any work starts (``AIGC_COURSE_FAST=maybe`` is an error)."""
    from ..config import is_fast_mode, is_strict

    try:
        is_fast_mode()
        is_strict()
    except ValueError as err:
        raise CommandError(str(err)) from None
