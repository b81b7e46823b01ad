"""``python -m aigc_course grade PATH...``: run learners' notebooks and report every exercise."""

from __future__ import annotations

import argparse
import sys

from .common import CommandError, output_file, positive_float, positive_int


def _add_grade(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="notebooks, or folders of them (one subfolder per learner, or one notebook per learner)")
    parser.add_argument("--timeout", type=positive_float, default=300.0, metavar="SECONDS",
                        help="time allowed for each whole notebook (default 300)")
    parser.add_argument("--full", action="store_true",
                        help="run with the students' full budget (default: fast mode, AIGC_COURSE_FAST=1)")
    parser.add_argument("--jobs", "-j", type=positive_int, default=1, help="notebooks graded at a time (default 1)")
    parser.add_argument("--csv", metavar="FILE", help="write one row per learner, notebook and exercise")
    parser.add_argument("--json", metavar="FILE", help="write every notebook's run and exercises as JSON")


def _run_grade(args: argparse.Namespace) -> int:
    from ..instructors.grading import find_notebooks, format_table, grade_all, write_csv, write_json

    for option in ("csv", "json"):  # checked before any notebook runs, not after the whole class
        if getattr(args, option):
            output_file(getattr(args, option), f"--{option}", f".{option}")
    try:
        notebooks = find_notebooks(args.paths)
    except ValueError as err:
        raise CommandError(str(err)) from None
    mode = "full budget" if args.full else "fast mode"
    print(f"grading {len(notebooks)} notebook(s) in {mode}, a fresh kernel each, {args.timeout:g} s per notebook",
          file=sys.stderr)

    def progress(grade) -> None:
        print(f"  {grade.learner}/{grade.notebook}: {grade.run_status}, {grade.seconds:.0f} s", file=sys.stderr)

    grades = grade_all(notebooks, timeout=args.timeout, fast=not args.full, jobs=args.jobs, on_done=progress)
    print(format_table(grades))
    try:
        if args.csv:
            print(f"wrote {write_csv(grades, args.csv)}")
        if args.json:
            print(f"wrote {write_json(grades, args.json)}")
    except OSError as err:
        raise CommandError(f"cannot write the report: {err}") from None
    return 0


COMMANDS = {
    "grade": ("run learners' notebooks (fresh kernel each) and report every exercise: PASS/FAIL/TODO/ERROR",
              _add_grade, _run_grade),
}
