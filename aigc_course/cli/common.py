"""What every command shares: the user-facing error, argument types, the device choice."""

from __future__ import annotations

import argparse
from typing import Callable


class CommandError(Exception):
    """An error the user can fix; printed as one line without a traceback (exit status 2)."""


def int_at_least(minimum: int, description: str) -> Callable[[str], int]:
    """An argparse type accepting integers >= ``minimum`` ("expected a <description> integer")."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {description} integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {description} integer, got {value}")
        return value

    return parse


positive_int = int_at_least(1, "positive")
non_negative_int = int_at_least(0, "non-negative")


def positive_float(text: str) -> float:
    """An argparse type accepting finite numbers > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def device_or_error(name: str | None):
    """The torch device named ``name`` (None: the best available), or a :class:`CommandError`."""
    from ..config import get_device

    try:
        return get_device(name)
    except ValueError as err:
        raise CommandError(str(err)) from None
