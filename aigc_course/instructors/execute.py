"""Run one notebook top to bottom in a fresh Jupyter kernel (nbclient), with a deadline for the whole notebook.

The notebook's code runs in the kernel, a separate process started for this notebook alone and
shut down afterwards, never in the caller's process. :func:`execute_notebook` never raises for
what the notebook does: a cell that raises, a kernel that dies, a notebook that runs past its
deadline or a file that is not a notebook all come back as an :class:`Execution` with a status.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

OK, CELL_ERRORS, TIMEOUT, CRASHED, UNREADABLE = "ok", "cell errors", "timeout", "crashed", "unreadable"


@dataclass
class Execution:
    """What happened when a notebook ran.

    ``status``: "ok" (every cell ran without error), "cell errors" (every cell ran, some raised),
    "timeout" (stopped at the deadline), "crashed" (the kernel died) or "unreadable" (not a notebook).
    ``stopped_at`` is the index of the cell running when a timeout or crash stopped the notebook.
    Messages count cells from 1, as a reader of the notebook does.
    """

    path: Path
    status: str
    seconds: float
    message: str = ""
    notebook: Any = None
    stopped_at: int | None = None

    def cell_error(self, index: int) -> str | None:
        """``"Name: value"`` of the first error output of cell ``index``, or None."""
        if self.notebook is None or not 0 <= index < len(self.notebook.cells):
            return None
        for output in self.notebook.cells[index].get("outputs", []):
            if output.get("output_type") == "error":
                return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
        return None

    def error_cells(self) -> list[int]:
        """Indices of the cells whose outputs hold an error."""
        if self.notebook is None:
            return []
        return [i for i in range(len(self.notebook.cells)) if self.cell_error(i) is not None]


def _last_line(log) -> str:
    log.seek(0)
    lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return f" (its last words: {lines[-1][:160]})" if lines else ""


def execute_notebook(path: str | os.PathLike, *, timeout: float, env: Mapping[str, str] | None = None,
                     cwd: str | os.PathLike | None = None, kernel_name: str = "python3",
                     allow_errors: bool = True, startup_timeout: float = 120.0) -> Execution:
    """Execute the notebook at ``path`` in a new ``kernel_name`` kernel; at most ``timeout`` seconds in all.

    ``env`` replaces the kernel's environment (default: this process's); ``cwd`` is the kernel's
    working folder (default: the notebook's folder). With ``allow_errors`` a cell that raises is
    recorded in its outputs and the next cells still run, as "Run All" with errors skipped would.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    path = Path(path)
    start = time.monotonic()
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as err:  # not JSON, not a notebook, unreadable file
        return Execution(path, UNREADABLE, 0.0, f"cannot read the notebook ({type(err).__name__}: "
                                                   f"{str(err).splitlines()[0][:160] if str(err) else ''})")
    deadline = start + timeout
    current: dict[str, int | None] = {"cell": None}

    def remaining(cell: Any) -> int:  # nbclient asks before each cell: what is left of the notebook's time
        return max(1, int(deadline - time.monotonic() + 0.999))

    def on_cell_start(cell: Any, cell_index: int) -> None:
        current["cell"] = cell_index

    client = NotebookClient(notebook, timeout=int(timeout) + 1, timeout_func=remaining, kernel_name=kernel_name,
                            allow_errors=allow_errors, startup_timeout=int(startup_timeout),
                            resources={"metadata": {"path": str(Path(cwd) if cwd else path.parent)}},
                            on_cell_start=on_cell_start)
    kernel_env = dict(os.environ if env is None else env)
    log = tempfile.TemporaryFile(mode="w+b")  # the kernel's own stderr: quoted when it dies
    try:
        client.execute(env=kernel_env, stderr=log)
    except CellTimeoutError:
        return Execution(path, TIMEOUT, time.monotonic() - start,
                         f"ran past its {timeout:g} s limit in cell {current['cell'] + 1}", notebook, current["cell"])
    except DeadKernelError as err:
        return Execution(path, CRASHED, time.monotonic() - start,
                         f"the kernel died in cell {current['cell'] + 1}{_last_line(log)}",
                         notebook, current["cell"])
    except Exception as err:  # a cell error with allow_errors=False, a kernel that would not start, ...
        first = str(err).strip().splitlines()[-1][:200] if str(err).strip() else type(err).__name__
        status = CELL_ERRORS if current["cell"] is not None else CRASHED
        return Execution(path, status, time.monotonic() - start, first, notebook, current["cell"])
    finally:
        log.close()
    seconds = time.monotonic() - start
    run = Execution(path, OK, seconds, "", notebook)
    errors = run.error_cells()
    if errors:
        run.status = CELL_ERRORS
        run.message = f"{len(errors)} cell(s) raised; first: cell {errors[0] + 1}: {run.cell_error(errors[0])}"
    return run
