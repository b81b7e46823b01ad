"""The browser suite's machinery: a JupyterLab server on a free local port and headless Chromium (Playwright).

Runs only when ``AIGC_COURSE_BROWSER_TESTS=1`` (the test command sets it; see tools/run_tests.py).
The browser is the system's Chromium (Debian: ``apt-get install -y chromium chromium-driver``),
driven by Playwright through ``executable_path``, so nothing is downloaded. ``AIGC_COURSE_CHROMIUM``
names another binary.

Each pytest worker starts its own server on a copy of the repository's notebooks (the committed
files are never modified by autosave), with its own settings (the notebook renders every cell, no
news pop-up) and a random token; kernels run in fast mode with one torch thread.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENABLE_ENV = "AIGC_COURSE_BROWSER_TESTS"
CHROMIUM_ENV = "AIGC_COURSE_CHROMIUM"


def _switched_on(variable: str) -> bool:
    """True when the environment variable is 1/true/yes/on."""
    return os.environ.get(variable, "").strip() in {"1", "true", "yes", "on"}


if not _switched_on(ENABLE_ENV):
    collect_ignore_glob = ["test_*.py"]


ALL_EDITIONS_ENV = "AIGC_COURSE_BROWSER_ALL"
# The Chinese notebooks' code cells are the English ones (checked cell by cell by tools/notebooks.py check,
# and every Chinese notebook runs in the test command through nbval), so by default the browser suite
# opens one Chinese notebook, to see the Chinese edition render and run in JupyterLab, and every English
# one; AIGC_COURSE_BROWSER_ALL=1 opens every notebook of every edition (twice the time).
CHINESE_SAMPLE = ("zh/notebooks/00_overview.ipynb",)


def course_notebooks(all_editions: bool | None = None) -> list[str]:
    """The committed notebooks the suite opens, as paths relative to the repository: every English notebook
    (student and solution) and :data:`CHINESE_SAMPLE`, or every notebook of every edition when
    ``all_editions`` (default: the ``AIGC_COURSE_BROWSER_ALL`` environment variable)."""
    if all_editions is None:
        all_editions = _switched_on(ALL_EDITIONS_ENV)
    try:
        listed = subprocess.run(["git", "ls-files", "--", "*.ipynb"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.split("\n")
        found = [p for p in listed if p and (ROOT / p).is_file()]
    except (OSError, subprocess.CalledProcessError):
        found = [p.relative_to(ROOT).as_posix() for folder in ("notebooks", "solutions", "zh/notebooks", "zh/solutions")
                 for p in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb"))]
    found = [p for p in found if not p.startswith(("tests/", "benchmarks/"))]
    if not all_editions:
        found = [p for p in found if not p.startswith("zh/") or p in CHINESE_SAMPLE]
    return sorted(found)


def pytest_generate_tests(metafunc):
    if "notebook" in metafunc.fixturenames:
        metafunc.parametrize("notebook", course_notebooks())


def chromium_path() -> str:
    for candidate in (os.environ.get(CHROMIUM_ENV), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    raise RuntimeError(f"no Chromium found: install it (Debian: apt-get install -y chromium chromium-driver) "
                       f"or set {CHROMIUM_ENV}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """``jupyter lab`` on 127.0.0.1:<free port> serving a copy of the notebooks, stopped by :meth:`stop`."""

    def __init__(self, notebooks: list[str]):
        self.root = Path(tempfile.mkdtemp(prefix="aigc-browser-"))
        self.serve = self.root / "serve"
        for relative in notebooks:
            (self.serve / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / relative, self.serve / relative)
        settings = self.root / "settings"
        for plugin, values in {
            "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},  # every cell in the page
            "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        }.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.port, self.token = _free_port(), secrets.token_hex(16)
        env = {**os.environ, "AIGC_COURSE_FAST": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(self.root / "workspaces"),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        env.pop("MPLBACKEND", None)  # the kernel's inline backend draws the figures the widgets show
        env.pop("AIGC_COURSE_STRICT", None)
        self.log = open(self.root / "server.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.serve}",
             "--expose-app-in-browser", "--allow-root"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=5).read()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"JupyterLab did not start; its log: {self.root / 'server.log'}")
                time.sleep(0.5)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, notebook: str, workspace: str) -> str:
        return f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?token={self.token}&reset"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def lab_server():
    server = LabServer(course_notebooks())
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts(tmp_path_factory) -> Path:
    """Where a failing test leaves its screenshot."""
    folder = os.environ.get("AIGC_COURSE_BROWSER_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("browser-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


_counts: dict[str, dict] = defaultdict(dict)


def pytest_runtest_logreport(report):
    if report.when == "call" and "browser" in report.nodeid:
        props = dict(report.user_properties)
        if "widgets" in props:
            _counts[props["notebook"]] = {**props, "seconds": report.duration, "ok": report.passed}


def pytest_terminal_summary(terminalreporter):
    if not _counts:
        return
    terminalreporter.section("browser suite: widgets moved in JupyterLab (headless Chromium)")
    for notebook, c in sorted(_counts.items()):
        terminalreporter.write_line(
            f"{c['seconds']:7.1f} s  {'ok' if c['ok'] else 'FAILED':6s} {notebook:48s} {c['widgets']:2d} widgets, "
            f"{c['controls']:2d} controls, {c['moves']:3d} moves" + (f", {c['fixed']} fixed (one value)" if c["fixed"] else ""))
    total = {k: sum(c[k] for c in _counts.values()) for k in ("widgets", "controls", "moves", "fixed", "seconds")}
    terminalreporter.write_line(
        f"{total['seconds']:7.1f} s  total: {len(_counts)} notebooks, {total['widgets']} widgets, {total['controls']} "
        f"controls, {total['moves']} moves, {total['fixed']} fixed")
