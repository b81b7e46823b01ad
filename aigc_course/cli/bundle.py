"""``python -m aigc_course bundle OUT`` and ``install-bundle DIR``: the course for a room without network."""

from __future__ import annotations

import argparse

from .common import CommandError, positive_float


def _add_bundle(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT", help="the bundle folder to create (must not exist, or be empty)")
    parser.add_argument("--train", nargs="+", default=[], metavar="NN",
                        help="first run these chapters' solution notebooks (e.g. 03 05 07) so that every model "
                             "they load-or-train is in the cache (full budget unless AIGC_COURSE_FAST=1)")
    parser.add_argument("--train-timeout", type=positive_float, default=3600.0, metavar="SECONDS",
                        help="time allowed for each chapter's notebook with --train (default 3600)")
    parser.add_argument("--wheel", metavar="FILE", help="use this course wheel instead of building one")
    parser.add_argument("--repo", metavar="DIR", help="the course checkout (default: the one this package is in)")


def _run_bundle(args: argparse.Namespace) -> int:
    from ..instructors.bundle import BundleError, make_bundle

    try:
        report = make_bundle(args.out, repo=args.repo, wheel=args.wheel, train=args.train,
                             train_timeout=args.train_timeout)
    except BundleError as err:
        raise CommandError(str(err)) from None
    except OSError as err:
        raise CommandError(f"cannot write the bundle: {err}") from None
    print(report.summary())
    print(f"next: copy {args.out} to a USB stick; with network, 'sh make_wheelhouse.sh' in it adds the "
          f"dependencies' wheels (see its README.md)")
    return 0


def _add_install(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", metavar="DIR", help="a folder written by 'python -m aigc_course bundle'")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace models this machine already has with the bundle's")


def _run_install(args: argparse.Namespace) -> int:
    from ..instructors.bundle import BundleError, install_bundle

    try:
        install_bundle(args.bundle, overwrite=args.overwrite)
    except BundleError as err:
        raise CommandError(str(err)) from None
    except OSError as err:
        raise CommandError(f"cannot install the bundle: {err}") from None
    return 0


COMMANDS = {
    "bundle": ("instructors: write one folder with the course wheel, MNIST, trained models and notebooks "
               "(SHA256SUMS) for a room without network", _add_bundle, _run_bundle),
    "install-bundle": ("verify a bundle's checksums, then install its MNIST and models into the data cache",
                       _add_install, _run_install),
}
