"""Build and check the course notebooks from their single source.

The source of every notebook is ``solutions/NN_topic.py`` (jupytext percent format).
``python tools/notebooks.py build`` writes from it:

* ``solutions/NN_topic.ipynb``: the solution notebook, outputs empty, paired with the .py;
* ``notebooks/NN_topic.py`` and ``.ipynb``: the student notebook, where every block ::

      # BEGIN SOLUTION (Exercise 4.1: stable softmax)
      ...reference code...
      # END SOLUTION

  is replaced by ``raise NotImplementedError("Exercise 4.1: stable softmax")`` at the same
  indentation (comments and hints outside the markers stay), and every markdown block
  between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` by "*Your answer here.*".

It also writes the Chinese edition (``zh/solutions``, ``zh/notebooks``) from the translation
units in ``zh/units`` (see ``tools/translations.py``).

``python tools/notebooks.py check`` changes nothing and exits 1 when a pair is out of sync,
a student notebook is stale, a committed notebook holds outputs, a notebook's first code
cell is not the course's setup cell, or the Chinese edition is incomplete or out of sync
with the English (a changed English cell, a missing unit, a code cell or formula that
differs). Editing a paired .ipynb in Jupyter with jupytext installed keeps the .py in sync;
run ``build`` after editing a solution.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
STUDENT = ROOT / "notebooks"
FORMATS = "ipynb,py:percent"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

def _configured_repo_url() -> str:
    """``COURSE_REPO_URL`` from aigc_course/config.py, the one place the course's public address is set."""
    tree = ast.parse((ROOT / "aigc_course" / "config.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "COURSE_REPO_URL" for t in node.targets):
            return ast.literal_eval(node.value)
    raise RuntimeError("aigc_course/config.py defines no COURSE_REPO_URL")


SETUP_CELL = """\
# Setup: the same first cell in every notebook of the course (safe to re-run).
import glob
import importlib.util
import os
import subprocess
import sys

COURSE_REPO_URL = "%s"  # from aigc_course/config.py; empty: not published
WHEEL_PLACES = [".", "/content", "/content/drive/MyDrive", "/content/drive/MyDrive/*"]  # beside it, uploaded, Drive
if "google.colab" in sys.modules and importlib.util.find_spec("aigc_course") is None:
    # On Colab: install the course from a wheel, else from the repository. Colab's own torch is kept.
    wheels = [w for place in WHEEL_PLACES for w in glob.glob(os.path.join(place, "aigc_course-*.whl"))]
    if wheels:
        source = max(wheels, key=os.path.getmtime)  # the newest wheel
    else:
        source = f"aigc-course @ git+{COURSE_REPO_URL}" if COURSE_REPO_URL else None
    if source:
        print(f"installing the course from {source}")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source])
        importlib.invalidate_caches()
    if importlib.util.find_spec("aigc_course") is None:
        raise ModuleNotFoundError("The course is not installed: upload aigc_course-*.whl from your instructor "
                                  "(Files panel, or Drive's MyDrive and mount Drive), then run this cell again.")

from aigc_course.course import environment_report

print(environment_report())""" % _configured_repo_url()

_CODE_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)# BEGIN SOLUTION \(Exercise (?P<id>\d+\.\d+): (?P<title>[^)\n]+)\)[ \t]*\n"
    r".*?^[ \t]*# END SOLUTION[ \t]*\n", re.S | re.M)
_MARKDOWN_BLOCK = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->", re.S)


def make_student_source(solution_py: str, answer_placeholder: str = "*Your answer here.*") -> str:
    """The student version of a solution notebook's percent-format text."""
    begins, ends = solution_py.count("# BEGIN SOLUTION ("), solution_py.count("# END SOLUTION")
    student, replaced = _CODE_BLOCK.subn(
        lambda m: f'{m["indent"]}raise NotImplementedError("Exercise {m["id"]}: {m["title"].strip()}")\n',
        solution_py)
    if not begins == ends == replaced:
        raise ValueError("unbalanced or malformed '# BEGIN SOLUTION (Exercise N.M: title)' / '# END SOLUTION' markers")
    return _MARKDOWN_BLOCK.sub(answer_placeholder, student)


def _normalise(notebook) -> None:
    # No version numbers in the files: a different jupytext must not make them "out of sync".
    notebook.metadata["jupytext"] = {"formats": FORMATS,
                                     "notebook_metadata_filter": "-jupytext.text_representation.jupytext_version"}
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    for index, cell in enumerate(notebook.cells):
        cell.id = f"c{index:03d}"  # deterministic ids keep the generated files stable
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def render(py_text: str) -> tuple[str, str]:
    """Percent text -> (normalised percent text, ipynb JSON text) of the same notebook.

    The first code cell becomes :data:`SETUP_CELL`, so that changing the setup cell (or the
    repository address in aigc_course/config.py) and running ``build`` updates every notebook.
    """
    notebook = jupytext.reads(py_text, fmt="py:percent")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if code:
        code[0].source = SETUP_CELL
    _normalise(notebook)
    return jupytext.writes(notebook, fmt="py:percent"), jupytext.writes(notebook, fmt="ipynb")


def _zh_layout():
    import translations  # here, not at the top: translations imports this module

    return translations, translations.Layout(ROOT, SOLUTIONS, STUDENT)


def expected_files() -> dict[Path, str]:
    """Every generated file (both editions) and its expected content."""
    files: dict[Path, str] = {}
    for source in sorted(SOLUTIONS.glob("[0-9][0-9]_*.py")):
        text = source.read_text(encoding="utf-8")
        for folder, variant in ((SOLUTIONS, text), (STUDENT, make_student_source(text))):
            py, ipynb = render(variant)
            files[folder / source.name] = py
            files[folder / source.with_suffix(".ipynb").name] = ipynb
    translations, zh = _zh_layout()
    files.update(translations.expected_files(zh))
    return files


def problems() -> list[str]:
    """Everything `check` complains about, as readable lines."""
    found: list[str] = []
    translations, zh = _zh_layout()
    try:
        expected = expected_files()
    except ValueError as error:  # a malformed unit file
        return [str(error)]
    if not expected:
        found.append("no solutions/NN_topic.py sources found")
    zh_files = translations.expected_files(zh)
    for path, content in expected.items():
        if path in zh_files:
            continue  # the Chinese edition's own check below says what to do
        rel = path.relative_to(ROOT)
        if not path.exists():
            found.append(f"{rel}: missing (run python tools/notebooks.py build)")
        elif path.read_text(encoding="utf-8") != content:
            found.append(f"{rel}: out of sync with solutions/{path.stem}.py (run python tools/notebooks.py build)")
    for folder in (SOLUTIONS, STUDENT, zh.zh_solutions, zh.zh_student):
        for path in sorted(folder.glob("*.ipynb")):
            rel = path.relative_to(ROOT)
            if path not in expected and folder in (SOLUTIONS, STUDENT):
                found.append(f"{rel}: has no source solutions/{path.stem}.py")
            notebook = json.loads(path.read_text(encoding="utf-8"))
            code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
            if any(c.get("outputs") or c.get("execution_count") for c in code):
                found.append(f"{rel}: holds outputs (strip them: python tools/notebooks.py build)")
            if not code or "".join(code[0]["source"]) != SETUP_CELL:
                found.append(f"{rel}: first code cell is not the course setup cell (tools/notebooks.py SETUP_CELL)")
    return found + translations.problems(zh)


def build() -> list[Path]:
    """Write every generated file whose content changed; return those paths."""
    written = []
    for path, content in expected_files().items():
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "check"])
    args = parser.parse_args(argv)
    if args.command == "build":
        for path in build():
            print(f"wrote {path.relative_to(ROOT)}")
    found = problems()
    for line in found:
        print(f"notebook check: {line}", file=sys.stderr)
    if not found:
        print(f"notebook check: {len(expected_files())} files in sync (Chinese edition included), no outputs, "
              f"setup cells in place")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
