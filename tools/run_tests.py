"""The course's whole test suite: notebook sync check, unit tests, every notebook through nbval.

    python tools/run_tests.py              # everything, fast mode, 2 workers
    python tools/run_tests.py --no-notebooks
    python tools/run_tests.py -- -k vae    # extra arguments go to pytest

Fast mode (AIGC_COURSE_FAST=1) is switched on unless the environment already sets it.
The Chinese edition's notebooks (``zh/notebooks``, ``zh/solutions``) run like the English ones.
The solution notebooks run with matplotlib's inline backend and are saved with their outputs
under ``build/executed/<mode>/`` (``--save-executed``), where the book takes its outputs from.
The MNIST cache is seeded from ``--mnist-from`` (default: ``../shared/data/mnist`` beside
the repository, when present), MD5-verified; otherwise the files are downloaded once.
Each notebook's wall time is printed at the end (see conftest.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", "-n", type=int, default=2, help="parallel pytest workers (default 2)")
    parser.add_argument("--no-notebooks", action="store_true", help="unit tests only")
    parser.add_argument("--mnist-from", type=Path, default=None, help="folder with the four MNIST .gz files")
    parser.add_argument("--cell-timeout", type=int, default=600, help="seconds allowed per notebook cell")
    parser.add_argument("--save-executed", default=str(ROOT / "build" / "executed"),
                        help="folder for the executed solution notebooks (default build/executed; '' to skip)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be >= 1")

    env = dict(os.environ)
    env.setdefault("AIGC_COURSE_FAST", "1")
    env.setdefault("MPLBACKEND", "Agg")
    if args.workers > 1:
        # Two busy processes on two cores: one thread each is much faster than two each.
        env.setdefault("OMP_NUM_THREADS", "1")
        env.setdefault("MKL_NUM_THREADS", "1")

    source = args.mnist_from or (DEFAULT_MNIST if DEFAULT_MNIST.is_dir() else None)
    seed = ["download"] + (["--from", str(source)] if source else [])
    steps = [
        ("seed the MNIST cache", [sys.executable, "-m", "aigc_course", *seed]),
        ("notebook sync check", [sys.executable, str(ROOT / "tools" / "notebooks.py"), "check"]),
    ]
    def pytest_cmd(*targets: str) -> list[str]:
        command = [sys.executable, "-m", "pytest", *targets, "-q", "-ra"]
        if targets != ("tests",):
            command += ["--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={args.cell_timeout}"]
        if args.workers > 1:
            command += ["-n", str(args.workers), "--dist", "loadfile"]
        return command + list(args.pytest_args)

    student = ["notebooks"] + (["zh/notebooks"] if (ROOT / "zh" / "notebooks").is_dir() else [])
    solutions = ["solutions"] + (["zh/solutions"] if (ROOT / "zh" / "solutions").is_dir() else [])
    if args.no_notebooks:
        steps.append(("unit tests", pytest_cmd("tests"), {}))
    else:
        # Student notebooks keep the TODO fallback (a check that is not attempted uses the reference).
        steps.append(("unit tests and student notebooks (English, 中文)", pytest_cmd("tests", *student), {}))
        # Solutions run strict: an exercise check that does not PASS raises, so a broken solution fails.
        # They draw their figures (the kernel's inline backend, not Agg) and are saved for the book.
        solution_env = {"AIGC_COURSE_STRICT": "1", "MPLBACKEND": None}
        if args.save_executed:
            solution_env["AIGC_COURSE_SAVE_EXECUTED"] = str(Path(args.save_executed).resolve())
        steps.append(("solution notebooks, strict checks (English, 中文)", pytest_cmd(*solutions), solution_env))

    for title, command, extra in [(s[0], s[1], s[2] if len(s) > 2 else {}) for s in steps]:
        print(f"==> {title}: {' '.join(command)}", flush=True)
        step_env = {key: value for key, value in {**env, **extra}.items() if value is not None}
        code = subprocess.call(command, cwd=ROOT, env=step_env)
        if code != 0:
            print(f"==> FAILED: {title} (exit {code})", flush=True)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
