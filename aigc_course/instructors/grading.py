"""Grade a class: run each learner's notebook in a fresh kernel and collect every exercise check's result.

Every check cell of a course notebook calls an :class:`aigc_course.checks.Exercise`; with
``AIGC_COURSE_RESULTS=FILE`` each call appends its result to FILE as a JSON line. The grader
sets that variable for each notebook, runs it with :func:`execute_notebook` (a new kernel, a
deadline for the whole notebook, fast mode unless asked otherwise, cells that raise do not stop
the run) and reads the records back. Which exercises a notebook holds is read from its check
cells (``from aigc_course.checks.<chapter> import check_...``), so an exercise whose check never
ran (the notebook crashed, hung or failed before it) is reported as ERROR with the reason.

Status of each exercise: PASS, FAIL, TODO (not attempted: the function still raises
``NotImplementedError``) or ERROR (the check did not run to a verdict).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ..config import FAST_ENV, RESULTS_ENV, STRICT_ENV
from ..files import atomic_write_bytes
from .execute import CELL_ERRORS, OK, Execution, execute_notebook

PASS, FAIL, TODO, ERROR = "PASS", "FAIL", "TODO", "ERROR"
_STATUS = {"pass": PASS, "fail": FAIL, "not attempted": TODO}
_PAST = {"timeout": "timed out", "crashed": "crashed"}
_CHECK_IMPORT = re.compile(r"from[ \t]+aigc_course\.checks\.(\w+)[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w \t,]+))")


@dataclass
class ExerciseGrade:
    """One exercise of one learner's notebook."""

    exercise: str
    title: str
    status: str
    message: str


@dataclass
class NotebookGrade:
    """One learner's notebook: how its run went and the grade of each exercise."""

    learner: str
    notebook: str
    path: str
    run_status: str
    seconds: float
    run_message: str = ""
    exercises: list[ExerciseGrade] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(e.status == status for e in self.exercises)


def find_notebooks(paths: Sequence[str | os.PathLike]) -> list[tuple[str, Path]]:
    """``(learner, notebook)`` for every ``.ipynb`` in ``paths`` (files, or folders searched recursively).

    The learner is the first folder below a given folder (``class/alice/04_x.ipynb`` -> "alice"),
    or the notebook's file name when it lies directly in it (``class/alice_04.ipynb`` -> "alice_04");
    for a notebook given as a file, the folder it is in. Checkpoint copies
    (``.ipynb_checkpoints``) and hidden folders are skipped. Raises ``ValueError`` for a path that
    does not exist, is not a notebook, or when nothing is found.
    """
    if isinstance(paths, (str, os.PathLike)) or not paths:
        raise ValueError(f"paths must be a non-empty list of notebooks or folders, got {paths!r}")
    found: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            if path.suffix != ".ipynb":
                raise ValueError(f"{path} is not a notebook (.ipynb)")
            found.append((path.resolve().parent.name or path.stem, path))
        elif path.is_dir():
            for notebook in sorted(path.rglob("*.ipynb")):
                relative = notebook.relative_to(path)
                if any(part.startswith(".") for part in relative.parts):
                    continue
                found.append((relative.parts[0] if len(relative.parts) > 1 else notebook.stem, notebook))
        else:
            raise ValueError(f"{path} does not exist")
    if not found:
        raise ValueError(f"no notebooks (.ipynb) found in {', '.join(map(str, paths))}")
    return found


def expected_exercises(notebook) -> list[tuple[str, str, int]]:
    """``(exercise id, title, cell index)`` of every course check a notebook's code cells import."""
    from .. import checks
    from ..checks import Exercise

    expected: dict[str, tuple[str, str, int]] = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for module_name, grouped, names in _CHECK_IMPORT.findall(cell.source):
            try:
                module = __import__(f"{checks.__name__}.{module_name}", fromlist=["_"])
            except ImportError:
                continue
            for name in (n.strip() for n in (grouped or names).split(",")):
                exercise = getattr(module, name, None)
                if isinstance(exercise, Exercise) and exercise.exercise_id not in expected:
                    expected[exercise.exercise_id] = (exercise.exercise_id, exercise.title, index)
    return list(expected.values())


def _read_records(path: Path) -> dict[str, dict]:
    records: dict[str, dict] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a dying kernel
                continue
            if isinstance(record, dict) and "exercise" in record:
                records[str(record["exercise"])] = record  # a check run twice: the last verdict counts
    return records


def _why_no_verdict(run: Execution, cell: int) -> str:
    if run.stopped_at is not None and cell >= run.stopped_at:
        return f"not reached: the notebook {_PAST.get(run.status, run.status)} ({run.message})"
    error = run.cell_error(cell)
    if error:
        return f"the check cell raised {error}"
    earlier = [i for i in run.error_cells() if i < cell]
    if earlier:
        return f"the check did not run; cell {earlier[0] + 1} raised {run.cell_error(earlier[0])}"
    return "the check did not run"


def grade_notebook(path: str | os.PathLike, learner: str, *, timeout: float = 300.0, fast: bool = True,
                   env: dict[str, str] | None = None) -> NotebookGrade:
    """Run one notebook (fresh kernel, ``timeout`` seconds in all) and grade each of its exercises."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="aigc-grade-") as scratch:
        results = Path(scratch) / "results.jsonl"
        kernel_env = {**(os.environ if env is None else env), RESULTS_ENV: str(results),
                      FAST_ENV: "1" if fast else "0", STRICT_ENV: "0", "MPLBACKEND": "Agg"}
        run = execute_notebook(path, timeout=timeout, env=kernel_env)
        records = _read_records(results)
    grade = NotebookGrade(learner, path.name, str(path), run.status, round(run.seconds, 1), run.message)
    if run.notebook is None:
        return grade
    for exercise_id, title, cell in expected_exercises(run.notebook):
        record = records.pop(exercise_id, None)
        if record is None:
            grade.exercises.append(ExerciseGrade(exercise_id, title, ERROR, _why_no_verdict(run, cell)))
        else:
            grade.exercises.append(ExerciseGrade(exercise_id, title, _STATUS.get(record.get("status"), ERROR),
                                                 str(record.get("message", ""))))
    for exercise_id, record in records.items():  # checks the notebook ran without importing them visibly
        grade.exercises.append(ExerciseGrade(exercise_id, str(record.get("title", "")),
                                             _STATUS.get(record.get("status"), ERROR), str(record.get("message", ""))))
    return grade


def grade_all(notebooks: Iterable[tuple[str, Path]], *, timeout: float = 300.0, fast: bool = True,
              jobs: int = 1, on_done=None) -> list[NotebookGrade]:
    """Grade every ``(learner, path)``; ``jobs`` notebooks at a time; ``on_done(grade)`` after each."""
    from concurrent.futures import ThreadPoolExecutor

    notebooks = list(notebooks)
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")

    def one(item: tuple[str, Path]) -> NotebookGrade:
        grade = grade_notebook(item[1], item[0], timeout=timeout, fast=fast)
        if on_done is not None:
            on_done(grade)
        return grade

    if jobs == 1:
        return [one(item) for item in notebooks]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, notebooks))


COLUMNS = ("learner", "notebook", "exercise", "title", "status", "message", "run_status", "seconds")


def grade_rows(grades: Sequence[NotebookGrade]) -> list[dict[str, str]]:
    """One row per learner, notebook and exercise (a notebook without exercises or unreadable: one row)."""
    rows = []
    for g in grades:
        base = {"learner": g.learner, "notebook": g.notebook, "run_status": g.run_status, "seconds": f"{g.seconds:.1f}"}
        if not g.exercises:
            rows.append({**base, "exercise": "", "title": "", "status": ERROR if g.run_status not in (OK, CELL_ERRORS)
                         else "", "message": g.run_message})
        for e in g.exercises:
            rows.append({**base, "exercise": e.exercise, "title": e.title, "status": e.status, "message": e.message})
    return rows


def format_table(grades: Sequence[NotebookGrade], width: int = 100) -> str:
    """The terminal report: one line per exercise, then one summary line per learner."""
    rows = grade_rows(grades)
    headers = ("LEARNER", "NOTEBOOK", "EXERCISE", "STATUS", "MESSAGE")
    cells = [(r["learner"], r["notebook"], r["exercise"], r["status"],
              (r["message"] if len(r["message"]) <= width else r["message"][:width - 3] + "...").replace("\n", " "))
             for r in rows]
    sizes = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(s) for h, s in zip(headers, sizes)).rstrip()]
    lines += ["  ".join(c.ljust(s) for c, s in zip(row, sizes)).rstrip() for row in cells]
    lines.append("")
    for g in grades:
        if g.run_status != OK:
            lines.append(f"{g.learner}/{g.notebook}: run {g.run_status} after {g.seconds:.0f} s: {g.run_message}")
    learners: dict[str, list[NotebookGrade]] = {}
    for g in grades:
        learners.setdefault(g.learner, []).append(g)
    for learner, own in learners.items():
        counts = {s: sum(g.count(s) for g in own) for s in (PASS, FAIL, TODO, ERROR)}
        total = sum(counts.values())
        lines.append(f"{learner}: {counts[PASS]}/{total} PASS, {counts[FAIL]} FAIL, {counts[TODO]} TODO, "
                     f"{counts[ERROR]} ERROR ({len(own)} notebook{'s' if len(own) != 1 else ''}, "
                     f"{sum(g.seconds for g in own):.0f} s)")
    return "\n".join(lines)


def write_csv(grades: Sequence[NotebookGrade], path: str | os.PathLike) -> Path:
    """The rows of :func:`grade_rows` as CSV (UTF-8 with a BOM, which spreadsheets read as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(grade_rows(grades))
    return atomic_write_bytes(path, buffer.getvalue().encode("utf-8-sig"))


def write_json(grades: Sequence[NotebookGrade], path: str | os.PathLike) -> Path:
    """Every notebook with its run status and exercises, as JSON."""
    payload = {"notebooks": [asdict(g) for g in grades]}
    return atomic_write_bytes(path, (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
