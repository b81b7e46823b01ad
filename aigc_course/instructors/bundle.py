"""A room without network: one folder with everything the notebooks fetch or train for minutes.

``make_bundle(OUT)`` (``python -m aigc_course bundle OUT``) writes, from a checkout of the course
and the instructor's data cache::

    OUT/README.md                  how to install (learners) and what is inside
    OUT/SHA256SUMS                 SHA-256 of every other file ("sha256sum -c SHA256SUMS" format)
    OUT/aigc_course-<v>-py3-none-any.whl     the course package
    OUT/make_wheelhouse.sh         the command that downloads the dependencies' wheels (run with network)
    OUT/mnist/*.gz                 the four MNIST files (MD5-verified)
    OUT/cache/<tree>/...           every trained model of the cache, laid out as in the cache
    OUT/notebooks/...              the student notebooks

The checkpoints come from the instructor's cache: every file under the cache's :data:`MODEL_TREES`
(``models/``: the digit classifier, chapter 05's GAN runs, chapter 07's models, whatever a chapter
caches there; ``checkpoints/``: chapter 03's VAE), each ``.pt`` verified to load before it is
packed. ``train=["03", "05"]`` first runs those chapters' solution notebooks in fresh kernels, in
the current mode, so that their load-or-train trains and caches what is missing (and loads the rest).

``install_bundle(DIR)`` (``install-bundle``) checks every file against SHA256SUMS before it copies
anything, then puts MNIST into the cache and each ``cache/...`` file at the same place in the
learner's cache, where the notebooks' load-or-train finds it. A tampered file is refused by name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Sequence

from .. import __version__
from ..config import FAST_ENV, STRICT_ENV, data_dir, is_fast_mode
from ..files import atomic_write_bytes, sha256_of

MODEL_TREES = ("models", "checkpoints")
SUMS, README = "SHA256SUMS", "README.md"
WHEELHOUSE_SCRIPT = "make_wheelhouse.sh"


class BundleError(ValueError):
    """A bundle cannot be made or installed; the message is one line naming the file at fault."""


def repository_root(start: str | os.PathLike | None = None) -> Path:
    """The course checkout (pyproject.toml, notebooks/, solutions/) holding this package, or ``start``."""
    root = Path(start) if start else Path(__file__).resolve().parents[2]
    if not ((root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() and (root / "aigc_course").is_dir()):
        raise BundleError(f"{root} is not a checkout of the course (pyproject.toml, aigc_course/ and notebooks/); "
                          f"run the command from a clone or pass --repo")
    return root


def cached_model_files(cache: Path | None = None) -> list[Path]:
    """Every file under the cache's model trees (temporary and hidden files skipped), sorted."""
    cache = cache or data_dir()
    files = []
    for tree in MODEL_TREES:
        for path in sorted((cache / tree).rglob("*")):
            relative = path.relative_to(cache)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                files.append(path)
    return files


def student_notebooks(repo: Path) -> list[Path]:
    """The student notebooks of every edition: each committed ``.ipynb`` outside ``solutions/`` (paths in repo)."""
    try:
        listed = subprocess.run(["git", "ls-files", "--", "*.ipynb"], cwd=repo, capture_output=True, text=True,
                                check=True).stdout.split("\n")
        paths = [Path(p) for p in listed if p]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: the notebooks/ folder
        paths = [p.relative_to(repo) for p in sorted((repo / "notebooks").glob("*.ipynb"))]
    return [p for p in paths if "solutions" not in p.parts and (repo / p).is_file()]


def train_chapters(chapters: Sequence[str], repo: Path, *, timeout: float = 3600.0, log=print) -> None:
    """Run the solution notebook of each chapter ("03", "05", ...) in a fresh kernel, in the current mode.

    Their load-or-train code loads what the cache holds and trains (and caches) what is missing.
    """
    from .execute import OK, execute_notebook

    for chapter in chapters:
        matches = sorted((repo / "solutions").glob(f"{chapter}_*.ipynb"))
        if len(chapter) != 2 or not chapter.isdigit() or not matches:
            raise BundleError(f"--train takes two-digit chapter numbers with a solutions/NN_*.ipynb, got {chapter!r}")
        log(f"training chapter {chapter}: running {matches[0].relative_to(repo)} "
            f"({'fast mode' if is_fast_mode() else 'full budget'}; cached models are loaded, missing ones trained)")
        env = {**os.environ, STRICT_ENV: "0", "MPLBACKEND": "Agg",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))}
        run = execute_notebook(matches[0], timeout=timeout, env=env, allow_errors=False)
        if run.status != OK:
            raise BundleError(f"training chapter {chapter} failed: {matches[0].name} {run.status}: {run.message}")
        log(f"training chapter {chapter}: done in {run.seconds:.0f} s")


def build_wheel(repo: Path, dest: Path) -> Path:
    """``pip wheel`` of the course (no dependencies) into ``dest``; returns the wheel's path."""
    try:
        from importlib.metadata import version

        isolated = int(version("setuptools").split(".")[0]) < 77  # pyproject.toml needs setuptools >= 77
    except Exception:
        isolated = True
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dest), str(repo)]
    if not isolated:
        command.insert(5, "--no-build-isolation")
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(dest.glob("aigc_course-*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no wheel written"])[-1]
        raise BundleError(f"building the course wheel failed ({last}); build one with "
                          f"'python -m pip wheel --no-deps {repo}' and pass it with --wheel")
    return wheels[-1]


def _wheelhouse_script(wheel_name: str) -> str:
    return f"""#!/bin/sh
# Download the wheels of everything the course needs into ./wheelhouse (needs network; run it on a
# machine with the same operating system, CPU type and Python version as the room's machines).
# Machines without an NVIDIA GPU: add PyTorch's CPU index so that pip takes the small CPU build:
#   sh {WHEELHOUSE_SCRIPT} --extra-index-url https://download.pytorch.org/whl/cpu
# Learners then install with:
#   python -m pip install --no-index --find-links wheelhouse "{wheel_name}[lab]"
set -e
cd "$(dirname "$0")"
python -m pip download --dest wheelhouse "./{wheel_name}[lab]" "$@"
"""


def _readme(wheel_name: str, files: dict[str, str], mode: str) -> str:
    models = [name for name in files if name.startswith("cache/")]
    listing = "\n".join(f"    {name}" for name in models) or "    (none: the notebooks will train their models)"
    return f"""# AIGC course bundle (aigc_course {__version__})

Everything a room needs without network: the course package, MNIST, trained models, student notebooks.
Models were packed from the instructor's cache ({mode}); the notebooks load them instead of training.

## Once, with network (instructor)

    sh {WHEELHOUSE_SCRIPT}          # downloads the dependencies' wheels into ./wheelhouse (see the script)

## On each learner machine (no network needed)

    sha256sum -c {SUMS}             # optional, Linux (macOS: shasum -a 256 -c {SUMS})
    python -m pip install --no-index --find-links wheelhouse "{wheel_name}[lab]"
    python -m aigc_course install-bundle .
    python -m jupyter lab notebooks/

`install-bundle` checks every file against {SUMS} before copying anything (a changed file is refused by
name), then puts MNIST into the course's data cache and each model where the notebooks look for it.

## Models in this bundle

{listing}
"""


@dataclass
class BundleReport:
    out: Path
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    sizes: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        groups: dict[str, list[str]] = {}
        for name in self.files:
            groups.setdefault(name.split("/")[0] if "/" in name else name, []).append(name)
        lines = [f"bundle {self.out}: {len(self.files)} files, {sum(self.sizes.values()) / 1e6:.1f} MB, "
                 f"every one in {SUMS}"]
        for group, names in groups.items():
            size = sum(self.sizes[n] for n in names) / 1e6
            lines.append(f"  {group + ('/' if len(names) > 1 or '/' in names[0] else ''):<40} "
                         f"{len(names):>3} file{'s' if len(names) != 1 else ' '} {size:8.1f} MB")
        for name in self.files:
            if name.startswith("cache/") and name.endswith(".pt"):
                lines.append(f"  model: {name} ({self.sizes[name] / 1e6:.1f} MB)")
        return "\n".join(lines)


def make_bundle(out: str | os.PathLike, *, repo: str | os.PathLike | None = None, wheel: str | os.PathLike | None = None,
                train: Sequence[str] = (), train_timeout: float = 3600.0, log=print) -> BundleReport:
    """Write the bundle folder ``out`` (which must not exist, or be empty); see the module docstring."""
    from ..checkpoints import CheckpointError, load_checkpoint
    from ..data import MD5SUMS, MNISTUnavailableError, ensure_mnist

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BundleError(f"{out} already exists and is not an empty folder; choose a new folder for the bundle")
    root = repository_root(repo)
    if wheel is not None and not (Path(wheel).is_file() and Path(wheel).name.startswith("aigc_course-")
                                  and Path(wheel).suffix == ".whl"):
        raise BundleError(f"--wheel must be an existing aigc_course-*.whl file, got {str(wheel)!r}")
    try:
        mnist = ensure_mnist(download=False)
    except MNISTUnavailableError:
        raise BundleError(f"MNIST is not in the data cache {data_dir()}; run 'python -m aigc_course download' "
                          f"first") from None
    if train:
        train_chapters(train, root, timeout=train_timeout, log=log)
    cache = data_dir()
    models = cached_model_files(cache)
    for path in models:
        if path.suffix == ".pt":
            try:
                load_checkpoint(path)
            except CheckpointError as err:
                raise BundleError(f"the cache holds a checkpoint that does not load: {err}; delete it "
                                  f"(or re-train it with --train) and run bundle again") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if wheel is None:
            log("building the course wheel...")
            wheel = build_wheel(root, staging / "_wheel")
        wheel = Path(wheel)
        copies = {wheel.name: wheel}
        copies.update({f"mnist/{name}": mnist / name for name in MD5SUMS})
        copies.update({"cache/" + path.relative_to(cache).as_posix(): path for path in models})
        copies.update({p.as_posix(): root / p for p in student_notebooks(root)})
        for name, source in copies.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, staging / name)
        shutil.rmtree(staging / "_wheel", ignore_errors=True)
        (staging / WHEELHOUSE_SCRIPT).write_text(_wheelhouse_script(wheel.name), encoding="utf-8")
        names = sorted([*copies, WHEELHOUSE_SCRIPT])
        mode = "fast mode" if is_fast_mode() else "full budget"
        (staging / README).write_text(_readme(wheel.name, dict.fromkeys(names), mode), encoding="utf-8")
        names = sorted([*names, README])
        report = BundleReport(out)
        for name in names:
            report.files[name] = sha256_of(staging / name)
            report.sizes[name] = (staging / name).stat().st_size
        sums = "".join(f"{digest}  {name}\n" for name, digest in report.files.items())
        atomic_write_bytes(staging / SUMS, sums.encode("utf-8"))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp made it private; a bundle is meant to be copied and shared
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


def read_sums(bundle: Path) -> dict[str, str]:
    """The bundle's SHA256SUMS as ``{relative path: sha256}``; a malformed or unsafe line is a :class:`BundleError`."""
    sums = bundle / SUMS
    if not bundle.is_dir():
        raise BundleError(f"{bundle} is not a folder; pass the bundle's folder")
    if not sums.is_file():
        raise BundleError(f"{bundle} is not a course bundle (it has no {SUMS})")
    entries: dict[str, str] = {}
    for number, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        digest, _, name = line.partition("  ")
        relative = PurePosixPath(name.lstrip("*"))
        if (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not name
                or relative.is_absolute() or ".." in relative.parts or "\\" in name):
            raise BundleError(f"{sums} line {number} is not '<sha256>  <relative path>': {line[:100]!r}")
        entries[relative.as_posix()] = digest
    if not entries:
        raise BundleError(f"{sums} lists no files")
    return entries


def verify_bundle(bundle: str | os.PathLike) -> dict[str, str]:
    """Check every file listed in SHA256SUMS; refuse the bundle naming each missing or changed file."""
    bundle = Path(bundle)
    entries = read_sums(bundle)
    missing = [name for name in entries if not (bundle / name).is_file()]
    changed = [name for name, digest in entries.items() if name not in missing and sha256_of(bundle / name) != digest]
    if missing or changed:
        parts = ([f"changed (tampered or corrupted): {', '.join(changed)}"] if changed else []) + \
                ([f"missing: {', '.join(missing)}"] if missing else [])
        raise BundleError(f"refusing the bundle {bundle}, nothing was installed; {'; '.join(parts)}")
    return entries


@dataclass
class InstallReport:
    installed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)


def install_bundle(bundle: str | os.PathLike, *, overwrite: bool = False, log=print) -> InstallReport:
    """Verify every checksum, then install MNIST and the models into this machine's data cache."""
    from ..data import MD5SUMS, copy_mnist_from

    bundle = Path(bundle)
    entries = verify_bundle(bundle)
    if any(f"mnist/{name}" not in entries for name in MD5SUMS):
        raise BundleError(f"{bundle} does not list the four MNIST files in {SUMS}; it is not a course bundle")
    log(f"all {len(entries)} files of {bundle} match {SUMS}")
    try:
        copy_mnist_from(bundle / "mnist")
    except ValueError as err:
        raise BundleError(str(err)) from None
    cache = data_dir()
    log(f"MNIST: 4 files in {cache / 'mnist'}")
    report = InstallReport()
    for name, digest in entries.items():
        if not name.startswith("cache/"):
            continue
        target = cache / name[len("cache/"):]
        if target.is_file() and sha256_of(target) == digest:
            report.already.append(name)
        elif target.exists() and not overwrite:
            report.kept.append(name)
        else:
            atomic_write_bytes(target, (bundle / name).read_bytes())
            report.installed.append(name)
    listed = set(entries) | {SUMS}
    report.unlisted = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*")
                             if p.is_file() and p.relative_to(bundle).as_posix() not in listed)
    log(f"models: {len(report.installed)} installed, {len(report.already)} already there"
        + (f", {len(report.kept)} kept (this machine has its own; --overwrite replaces them): "
           f"{', '.join(report.kept)}" if report.kept else "") + f" (cache: {cache})")
    if report.unlisted:
        log(f"not in {SUMS}, so not checked and not installed: {len(report.unlisted)} file(s), "
            f"e.g. {report.unlisted[0]}")
    return report
