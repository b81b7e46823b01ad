"""The grader: submissions built here (solved, wrong, never attempted, raising, looping forever) graded end to end.

Each notebook runs in its own kernel (nbclient), as ``python -m aigc_course grade`` does.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import nbformat
import pytest

from aigc_course.checks import Exercise, record_result
from aigc_course.cli import main
from aigc_course.instructors.execute import execute_notebook
from aigc_course.instructors.grading import ERROR, FAIL, PASS, TODO, expected_exercises, find_notebooks, grade_all

ROOT = Path(__file__).resolve().parents[1]

SOFTMAX = {
    "solved": "def softmax(x, dim=-1, temperature=1.0):\n"
              "    if temperature <= 0:\n        raise ValueError('temperature must be > 0')\n"
              "    e = torch.exp((x - x.amax(dim, keepdim=True)) / temperature)\n"
              "    return e / e.sum(dim, keepdim=True)",
    "wrong": "def softmax(x, dim=-1, temperature=1.0):\n"
             "    e = torch.exp(x / temperature)  # overflows for large logits\n"
             "    return e / e.sum(dim, keepdim=True)",
    "todo": "def softmax(x, dim=-1, temperature=1.0):\n    raise NotImplementedError('Exercise 4.1: stable softmax')",
    "raises": "def softmax(x, dim=-1, temperature=1.0):\n    return {}[x]",
    "loops": "def softmax(x, dim=-1, temperature=1.0):\n    while True:\n        pass",
}
MASK = {
    "solved": "def causal_mask(n, device=None):\n    if not isinstance(n, int) or n < 1:\n"
              "        raise ValueError('n must be >= 1')\n    return torch.ones(n, n, dtype=torch.bool).tril()",
    "todo": "def causal_mask(n, device=None):\n    raise NotImplementedError('Exercise 4.3: the causal mask')",
    "syntax_error": "def causal_mask(n, device=None)\n    return torch.ones(n, n).tril()",
}


def submission(softmax: str, mask: str) -> nbformat.NotebookNode:
    """A small chapter-04-like notebook: two exercises, each followed by its course check cell."""
    cells = [
        nbformat.v4.new_markdown_cell("# A learner's notebook"),
        nbformat.v4.new_code_cell("import torch"),
        nbformat.v4.new_code_cell(softmax),
        nbformat.v4.new_code_cell("from aigc_course.checks.attention import check_softmax\n\n"
                                  "softmax = check_softmax(softmax)"),
        nbformat.v4.new_code_cell(mask),
        nbformat.v4.new_code_cell("from aigc_course.checks.attention import (check_causal_mask,\n"
                                  "                                        check_softmax)\n"
                                  "causal_mask = check_causal_mask(causal_mask)"),
        nbformat.v4.new_code_cell("print('the end', causal_mask(3).sum().item())"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


CLASS = {  # learner -> (softmax variant, mask variant)
    "ana": ("solved", "solved"),
    "ben": ("wrong", "solved"),
    "chen": ("todo", "todo"),
    "dara": ("raises", "syntax_error"),
    "eli": ("loops", "solved"),
}


@pytest.fixture
def kernel_env(monkeypatch):
    """Kernels import this checkout's package; no network is needed by these notebooks."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture
def class_folder(tmp_path) -> Path:
    for learner, (soft, mask) in CLASS.items():
        (tmp_path / "class" / learner).mkdir(parents=True)
        nbformat.write(submission(SOFTMAX[soft], MASK[mask]), tmp_path / "class" / learner / "04_self_attention.ipynb")
    (tmp_path / "class" / "ana" / ".ipynb_checkpoints").mkdir()
    nbformat.write(submission(SOFTMAX["todo"], MASK["todo"]),
                   tmp_path / "class" / "ana" / ".ipynb_checkpoints" / "04_self_attention-checkpoint.ipynb")
    return tmp_path / "class"


def test_find_notebooks_names_learners_and_skips_checkpoints(class_folder, tmp_path):
    found = find_notebooks([class_folder])
    assert [learner for learner, _ in found] == sorted(CLASS)
    flat = tmp_path / "flat"
    flat.mkdir()
    nbformat.write(submission(SOFTMAX["todo"], MASK["todo"]), flat / "zoe_04.ipynb")
    assert find_notebooks([flat]) == [("zoe_04", flat / "zoe_04.ipynb")]
    with pytest.raises(ValueError, match="does not exist"):
        find_notebooks([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no notebooks"):
        find_notebooks([tmp_path / "empty"])


def test_expected_exercises_read_from_check_cells():
    found = expected_exercises(submission(SOFTMAX["todo"], MASK["todo"]))
    assert [(e, cell) for e, _, cell in found] == [("4.1", 3), ("4.3", 5)]
    course = nbformat.read(ROOT / "notebooks" / "04_self_attention.ipynb", as_version=4)
    assert [e for e, _, _ in expected_exercises(course)] == ["4.1", "4.2", "4.3", "4.4", "4.5"]


def test_results_are_recorded_as_json_lines(tmp_path, monkeypatch):
    log = tmp_path / "results.jsonl"
    monkeypatch.setenv("AIGC_COURSE_RESULTS", str(log))
    exercise = Exercise("9.1", "double", lambda x: 2 * x, [lambda c, r: None if c(2) == r(2) else
                                                           (_ for _ in ()).throw(AssertionError("not double"))])
    exercise(lambda x: x + x)
    exercise(lambda x: 3 * x)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["exercise"], r["title"], r["status"]) for r in records] == [("9.1", "double", "pass"),
                                                                          ("9.1", "double", "fail")]
    assert "not double" in records[1]["message"]
    monkeypatch.delenv("AIGC_COURSE_RESULTS")
    record_result(exercise.grade(lambda x: x))  # unset: nothing written, no error
    assert len(log.read_text().splitlines()) == 2


def test_grade_a_class(class_folder, kernel_env):
    (class_folder / "eli" / "04_self_attention.ipynb").unlink()  # the endless loop: in the command test below
    (class_folder / "eli").rmdir()
    grades = grade_all(find_notebooks([class_folder]), timeout=180)
    by = {g.learner: g for g in grades}
    status = {g.learner: {e.exercise: e.status for e in g.exercises} for g in grades}
    assert status["ana"] == {"4.1": PASS, "4.3": PASS} and by["ana"].run_status == "ok"
    assert status["ben"] == {"4.1": FAIL, "4.3": PASS}
    assert "differ" in by["ben"].exercises[0].message or "nan" in by["ben"].exercises[0].message.lower()
    assert status["chen"] == {"4.1": TODO, "4.3": TODO} and by["chen"].run_status == "ok"
    # dara: her softmax raises inside the check (a FAIL naming the error); her mask cell is a syntax error,
    # so the check cell raises NameError (an ERROR with that message) and the rest of the notebook still runs
    assert status["dara"]["4.1"] == FAIL and "raised KeyError" in by["dara"].exercises[0].message
    assert status["dara"]["4.3"] == ERROR and by["dara"].run_status == "cell errors"
    assert "the check cell raised NameError" in by["dara"].exercises[1].message
    assert "SyntaxError" in by["dara"].run_message


def test_grade_command_table_csv_json(class_folder, kernel_env, tmp_path, capsys):
    """A loop that never ends, a kernel that dies, a file that is not a notebook: reported, grading goes on."""
    for learner in ("ana", "ben", "dara"):  # solved, wrong and raising: covered by the test above
        for path in (class_folder / learner).rglob("*.ipynb"):
            path.unlink()
    (class_folder / "fay").mkdir()
    nbformat.write(submission("import os\nos._exit(3)", MASK["solved"]), class_folder / "fay" / "04_self_attention.ipynb")
    (class_folder / "gus").mkdir()
    (class_folder / "gus" / "04_self_attention.ipynb").write_text("{not json")
    out_csv, out_json = tmp_path / "grades.csv", tmp_path / "grades.json"
    assert main(["grade", str(class_folder), "--timeout", "25", "--jobs", "2",
                 "--csv", str(out_csv), "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "LEARNER" in out and "chen: 0/2 PASS, 0 FAIL, 2 TODO, 0 ERROR" in out
    assert "eli/04_self_attention.ipynb: run timeout" in out and "ran past its 25 s limit in cell 4" in out
    assert "fay/04_self_attention.ipynb: run crashed" in out and "gus/04_self_attention.ipynb: run unreadable" in out
    rows = list(csv.DictReader(out_csv.read_text(encoding="utf-8-sig").splitlines()))
    assert {(r["learner"], r["exercise"], r["status"]) for r in rows} == {
        ("chen", "4.1", TODO), ("chen", "4.3", TODO), ("eli", "4.1", ERROR), ("eli", "4.3", ERROR),
        ("fay", "4.1", ERROR), ("fay", "4.3", ERROR), ("gus", "", ERROR)}
    report = json.loads(out_json.read_text())
    by = {n["learner"]: n for n in report["notebooks"]}
    assert sorted(by) == ["chen", "eli", "fay", "gus"]
    assert by["eli"]["run_status"] == "timeout" and 25 <= by["eli"]["seconds"] < 25 + 30
    assert by["eli"]["exercises"][0]["message"].startswith("not reached: the notebook timed out (ran past its 25 s")
    assert by["fay"]["run_status"] == "crashed" and "not reached" in by["fay"]["exercises"][0]["message"]


def test_grade_command_expected_failures_are_one_line(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    (tmp_path / "x.ipynb").write_text("{}")
    assert main(["grade", str(tmp_path / "x.ipynb"), "--csv", str(tmp_path / "out.txt")]) == 2
    assert "--csv must name a .csv file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["grade", str(tmp_path), "--timeout", "0"])


def test_notebooks_run_in_a_fresh_kernel_not_in_this_process(tmp_path, kernel_env):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os\nprint(os.getpid())")])
    nbformat.write(notebook, tmp_path / "pid.ipynb")
    pids = set()
    for _ in range(2):
        run = execute_notebook(tmp_path / "pid.ipynb", timeout=60)
        assert run.status == "ok"
        pids.add(int(run.notebook.cells[0].outputs[0]["text"]))
    assert len(pids) == 2 and os.getpid() not in pids
