import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks as nbtools  # noqa: E402

from aigc_course.config import COURSE_REPO_URL  # noqa: E402


def test_committed_notebooks_are_in_sync_and_clean():
    assert nbtools.problems() == []


def test_every_chapter_has_student_and_solution_pairs():
    sources = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.py"))
    assert sources and sources[0].startswith("00_")
    for stem in sources:
        for folder in ("notebooks", "solutions"):
            for suffix in (".py", ".ipynb"):
                assert (ROOT / folder / f"{stem}{suffix}").is_file(), f"{folder}/{stem}{suffix}"


def test_setup_cell_names_the_course_repo():
    assert f'COURSE_REPO_URL = "{COURSE_REPO_URL}"' in nbtools.SETUP_CELL


SOLUTION = '''# %%
def f(x):
    """Doc."""
    # Hint: add one.
    # BEGIN SOLUTION (Exercise 9.1: add one)
    y = x + 1
    return y
    # END SOLUTION

# %% [markdown]
# Why? <!-- BEGIN SOLUTION -->
# Because.
# <!-- END SOLUTION -->
'''


def test_student_generation_replaces_solutions_and_keeps_hints():
    student = nbtools.make_student_source(SOLUTION)
    assert 'raise NotImplementedError("Exercise 9.1: add one")' in student
    assert "# Hint: add one." in student and "y = x + 1" not in student
    assert "Because" not in student and "*Your answer here.*" in student
    namespace = {}
    exec(student.split("# %% [markdown]")[0], namespace)
    with pytest.raises(NotImplementedError, match="Exercise 9.1"):
        namespace["f"](1)


def test_unbalanced_markers_are_rejected():
    with pytest.raises(ValueError, match="markers"):
        nbtools.make_student_source(SOLUTION.replace("    # END SOLUTION\n", ""))


def test_check_detects_outputs_and_stale_pairs(tmp_path, monkeypatch):
    solutions, student = tmp_path / "solutions", tmp_path / "notebooks"
    solutions.mkdir(), student.mkdir()
    monkeypatch.setattr(nbtools, "ROOT", tmp_path)
    monkeypatch.setattr(nbtools, "SOLUTIONS", solutions)
    monkeypatch.setattr(nbtools, "STUDENT", student)
    (solutions / "01_x.py").write_text("# %%\n" + nbtools.SETUP_CELL + "\n\n" + SOLUTION)
    nbtools.build()
    assert nbtools.problems() == []
    nb_path = solutions / "01_x.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi"]}]
    nb_path.write_text(json.dumps(nb))
    assert any("holds outputs" in p for p in nbtools.problems())
    nbtools.build()
    (student / "01_x.py").write_text((student / "01_x.py").read_text() + "\n# %%\nprint(1)\n")
    assert any("notebooks/01_x.py: out of sync" in p for p in nbtools.problems())


def test_code_cells_stay_short():
    """About 25 lines at most (30 is the hard limit): a figure that needs more is a package function."""
    long_cells = []
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            lines = "".join(cell["source"]).rstrip().split("\n")
            if cell["cell_type"] == "code" and len(lines) > 30:
                long_cells.append(f"{path.name} cell {index}: {len(lines)} lines")
    assert not long_cells, long_cells
