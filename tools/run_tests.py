"""The course's whole test suite: notebook sync check, unit tests, every notebook through nbval, browser suite.

    python tools/run_tests.py              # everything, fast mode, 2 workers
    python tools/run_tests.py --no-notebooks
    python tools/run_tests.py --no-browser
    python tools/run_tests.py -- -k vae    # extra arguments go to pytest

The unit tests include the instructor tools (grading a built class, the offline bundle, the Colab
setup cell). The browser suite (tests/browser) opens every notebook in JupyterLab in headless
Chromium, runs it and moves every widget control; it needs Playwright (in requirements.txt) and a
Chromium (Debian: ``apt-get install -y chromium chromium-driver``). Without a Chromium it is skipped
with a message, except under CI (``CI`` set) or with ``--browser``, where it is required.

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


def browser_missing() -> str | None:
    """Why the browser suite cannot run here (None when it can)."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (python -m pip install -r requirements.txt)"
    names = (os.environ.get("AIGC_COURSE_CHROMIUM"), "chromium", "chromium-browser", "google-chrome")
    if not any(name and shutil.which(name) for name in names):
        return "no Chromium found (Debian: apt-get install -y chromium chromium-driver; or set AIGC_COURSE_CHROMIUM)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", "-n", type=int, default=2, help="parallel pytest workers (default 2)")
    parser.add_argument("--no-notebooks", action="store_true", help="unit tests only (no notebooks, no browser suite)")
    parser.add_argument("--mnist-from", type=Path, default=None, help="folder with the four MNIST .gz files")
    parser.add_argument("--cell-timeout", type=int, default=600, help="seconds allowed per notebook cell")
    parser.add_argument("--save-executed", default=str(ROOT / "build" / "executed"),
                        help="folder for the executed solution notebooks (default build/executed; '' to skip)")
    browser = parser.add_mutually_exclusive_group()
    browser.add_argument("--no-browser", action="store_true", help="skip the browser suite")
    browser.add_argument("--browser", action="store_true", help="require the browser suite (default under CI)")
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
    def pytest_cmd(*targets: str, dist: str = "loadfile") -> list[str]:
        command = [sys.executable, "-m", "pytest", *targets, "-q", "-ra"]
        if targets not in (("tests",), ("tests/browser",)):
            command += ["--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={args.cell_timeout}"]
        if args.workers > 1:
            command += ["-n", str(args.workers), "--dist", dist]
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
    if not (args.no_browser or args.no_notebooks):
        missing = browser_missing()
        if missing and not (args.browser or os.environ.get("CI")):
            print(f"==> browser suite skipped: {missing}", flush=True)
        else:
            # Each worker runs its own JupyterLab and Chromium; notebooks are shared out one by one.
            steps.append(("browser suite: every notebook in JupyterLab, every widget moved (headless Chromium)",
                          pytest_cmd("tests/browser", dist="load"), {"AIGC_COURSE_BROWSER_TESTS": "1"}))

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
