"""The execution cache: executed copies of the notebooks, kept between runs, reused by the book.

A notebook is executed once per budget and its executed copy stored under
``build/executed/<mode>/<path in the repository>`` (``mode`` is ``fast`` or ``full``):

* the test command (``tools/run_tests.py``) saves every notebook nbval ran, with its outputs,
  through the hook in ``conftest.py`` (fast mode in CI: no extra execution for the book);
* ``python tools/book.py execute`` runs notebooks with nbclient (full budget by default).

Each copy records in its metadata (``aigc_execution``) the budget, a hash of its code cells,
the commit and the date. A copy is *current* for a notebook when the code hashes agree: the
book takes the prose from the notebook of today and only the outputs from the copy, so a
change of Markdown (or a translation) never needs a new run; a change of code does.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import subprocess
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "executed"
MODES = ("fast", "full")


def code_sha(notebook) -> str:
    """SHA-256 of the notebook's code cells, in order (what determines its outputs)."""
    digest = hashlib.sha256()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode("utf-8") + b"\n\x00")
    return digest.hexdigest()


def mode_from_env() -> str:
    return "fast" if os.environ.get("AIGC_COURSE_FAST", "0").strip().lower() in ("1", "true", "yes", "on") else "full"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def stamp(notebook, mode: str, how: str) -> None:
    """Record how the outputs of ``notebook`` were made (its metadata ``aigc_execution``)."""
    notebook.metadata["aigc_execution"] = {
        "mode": mode, "code_sha": code_sha(notebook), "commit": _commit(), "how": how,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def cache_path(source: Path, mode: str, cache: Path = CACHE) -> Path:
    """Where the executed copy of ``source`` (a notebook in the repository) lives."""
    source = Path(source).resolve()
    try:
        rel = source.relative_to(ROOT)
    except ValueError:
        rel = Path(source.name)
    return cache / mode / rel


def save(notebook, path: Path) -> None:
    from aigc_course.files import atomic_write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, nbformat.writes(notebook).encode("utf-8"))


def current_copy(source: Path, mode: str, cache: Path = CACHE):
    """The executed copy of ``source`` at budget ``mode`` if its code is today's code, else None."""
    path = cache_path(source, mode, cache)
    if not path.exists():
        return None
    copy = nbformat.read(path, as_version=4)
    recorded = copy.metadata.get("aigc_execution", {})
    wanted = code_sha(nbformat.read(source, as_version=4))
    if recorded.get("code_sha") != wanted or code_sha(copy) != wanted or recorded.get("mode") != mode:
        return None
    return copy


def _ends_with_semicolon(source: str) -> bool:
    lines = [line.split("#")[0].rstrip() for line in source.strip().split("\n")]
    lines = [line for line in lines if line]
    return bool(lines) and lines[-1].endswith(";")


def save_nbval_run(source: Path, outputs: dict[int, list], cache: Path = CACHE) -> Path:
    """Store a notebook nbval just ran: ``outputs[k]`` are the outputs of its k-th code cell.

    nbval runs cells without IPython's history, so a trailing ``;`` does not hide the cell's
    value as it does in Jupyter; that value is dropped here, as Jupyter would.
    """
    notebook = nbformat.read(source, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code):
        cell.outputs = [nbformat.from_dict(dict(out)) for out in outputs.get(number, [])
                        if not (out["output_type"] == "execute_result" and _ends_with_semicolon(cell.source))]
        for out in cell.outputs:
            if out.output_type == "execute_result":
                out.setdefault("metadata", {})
                out.execution_count = number + 1
        cell.execution_count = number + 1 if number in outputs else None
    mode = mode_from_env()
    stamp(notebook, mode, "nbval (tools/run_tests.py)")
    path = cache_path(source, mode, cache)
    save(notebook, path)
    return path


def execute(source: Path, mode: str, cache: Path = CACHE, timeout: int = 3600) -> Path:
    """Run ``source`` top to bottom in a fresh kernel at budget ``mode``; store and return its copy."""
    from nbclient import NotebookClient

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    notebook = nbformat.read(source, as_version=4)
    previous = os.environ.get("AIGC_COURSE_FAST")
    os.environ["AIGC_COURSE_FAST"] = "1" if mode == "fast" else "0"
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(source).parent)}}).execute()
    finally:
        if previous is None:
            os.environ.pop("AIGC_COURSE_FAST", None)
        else:
            os.environ["AIGC_COURSE_FAST"] = previous
    stamp(notebook, mode, "nbclient (tools/book.py execute)")
    path = cache_path(source, mode, cache)
    save(notebook, path)
    return path


def import_copy(executed: Path, source: Path, mode: str, cache: Path = CACHE) -> Path:
    """Store a notebook executed elsewhere (e.g. a Colab GPU run) as the copy of ``source``.

    Refused unless its code cells are exactly today's code of ``source``.
    """
    notebook = nbformat.read(executed, as_version=4)
    if code_sha(notebook) != code_sha(nbformat.read(source, as_version=4)):
        raise ValueError(f"{executed}: its code cells are not those of {source} today; execute it again")
    if not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"):
        raise ValueError(f"{executed}: has no outputs (was it executed?)")
    stamp(notebook, mode, f"imported from {executed}")
    modified = _dt.datetime.fromtimestamp(Path(executed).stat().st_mtime, _dt.timezone.utc)
    notebook.metadata["aigc_execution"]["date"] = modified.strftime("%Y-%m-%d %H:%M UTC")  # when it ran
    path = cache_path(source, mode, cache)
    save(notebook, path)
    return path
