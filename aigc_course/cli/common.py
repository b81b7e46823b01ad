"""What every command shares: the user-facing error, argument types, the device choice, the error net.

:func:`expected_failure` is the net :func:`aigc_course.cli.main` puts under every command: it
turns every failure a user can cause or fix (a bad file, a full or read-only disk, a path that
is a file, not enough memory, a corrupt checkpoint, MNIST not cached) into one line saying what
is wrong and what to do. A new command inherits it; it raises :class:`CommandError` where it can
say something more precise.
"""

from __future__ import annotations

import argparse
import errno
from pathlib import Path
from typing import Callable

class CommandError(Exception):
    """An error the user can fix; printed as one line without a traceback (exit status 2)."""


def int_at_least(minimum: int, description: str, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type accepting integers >= ``minimum`` (and <= ``maximum``): "expected a <description> integer"."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {description} integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {description} integer, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"expected a {description} integer of at most {maximum:,}, got {value:,}")
        return value

    return parse


positive_int = int_at_least(1, "positive")
non_negative_int = int_at_least(0, "non-negative")


def seed_int(text: str) -> int:
    """An argparse type for seeds: integers in [0, :data:`aigc_course.validate.MAX_SEED`]."""
    from ..validate import MAX_SEED  # imported here: ``--help`` stays free of torch

    return int_at_least(0, "non-negative", maximum=MAX_SEED)(text)


def positive_float(text: str) -> float:
    """An argparse type accepting finite numbers > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """An argparse type accepting finite numbers >= 0 (at most 100)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 100, got {text!r}")
    return value


def device_or_error(name: str | None):
    """The torch device named ``name`` (None: the best available), or a :class:`CommandError`."""
    from ..config import get_device

    try:
        return get_device(name)
    except ValueError as err:
        raise CommandError(str(err)) from None


def writable_folder(path: str, option: str) -> Path:
    """The folder ``path`` (created if needed) after proving a file can be written there; else a :class:`CommandError`."""
    from ..files import require_writable_folder

    try:
        return require_writable_folder(path, option)
    except OSError as err:
        raise CommandError(describe_os_error(err)) from None


def output_file(path: str, option: str, suffix: str) -> Path:
    """Check an output file name before any work: the suffix, not a folder, a writable folder to hold it."""
    if not path.endswith(suffix):
        raise CommandError(f"{option} must name a {suffix} file, got {path!r}")
    target = Path(path)
    if target.is_dir():
        raise CommandError(f"{option} {path} is a folder; give a file name ending in {suffix}")
    writable_folder(str(target.parent), f"the folder of {option}")
    return target


_HINTS = {
    errno.EACCES: "choose a location you can write to, or fix the permissions",
    errno.EPERM: "choose a location you can write to, or fix the permissions",
    errno.EROFS: "the disk is read-only: choose a folder on another disk",
    errno.ENOSPC: "the disk is full: free some space or choose another disk",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
    errno.EISDIR: "it is a folder: give a file name",
    errno.ENOENT: "check the path",
    errno.ENAMETOOLONG: "use a shorter name",
}
_SAID = {errno.ENOTDIR: "is a file, not a folder", errno.EISDIR: "is a folder"}  # hints a message already gives
if hasattr(errno, "EDQUOT"):
    _HINTS[errno.EDQUOT] = "your disk quota is used up: free some space"


def describe_os_error(err: OSError) -> str:
    """One line for an ``OSError``: the file it concerns, what went wrong, and what to do."""
    text = err.strerror or str(err) or type(err).__name__
    name = err.filename
    if name is not None and str(name) not in text:
        text = f"{name}: {text}"
    if err.filename2 is not None and str(err.filename2) not in text:
        text += f" (and {err.filename2})"
    hint = _HINTS.get(err.errno)
    if hint is None or (err.errno in _SAID and _SAID[err.errno] in text):
        return text
    return f"{text} ({hint})"


def _is_out_of_memory(err: BaseException) -> bool:
    if isinstance(err, MemoryError):
        return True
    text = str(err)
    return isinstance(err, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text.lower())


def expected_failure(err: BaseException) -> str | None:
    """The one-line message for a failure the user can fix, or None for a bug (which keeps its traceback)."""
    if isinstance(err, CommandError):
        return str(err)
    if _is_out_of_memory(err):
        return ("not enough memory for this request: ask for fewer images (--n), a smaller file or "
                "--train-subset, or close other programs")
    if isinstance(err, OSError):
        return describe_os_error(err)
    from ..checkpoints import CheckpointError
    from ..data import MNISTFormatError, MNISTUnavailableError

    if isinstance(err, (CheckpointError, MNISTUnavailableError, MNISTFormatError)):
        return str(err)
    return None
