"""Strict solutions: a broken solution block must fail the test command, a correct one must pass.

The test command runs ``solutions/`` with ``AIGC_COURSE_STRICT=1`` under nbval's lax mode. Here a
temporary copy of chapter 04's solution notebook, cut after the check of Exercise 4.1, is run the
same way twice: once as committed (it passes) and once with the solution replaced by the wrong
``return e / e.sum()`` (a softmax normalized over the whole tensor instead of along ``dim``), which
must fail. Without the switch the broken copy still "passes" - the gap the switch exists to close.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions" / "04_self_attention.ipynb"
BEGIN, END = "# BEGIN SOLUTION (Exercise 4.1", "# END SOLUTION"


def _cut_notebook(broken: bool) -> dict:
    notebook = json.loads(SOURCE.read_text(encoding="utf-8"))
    cells = notebook["cells"]
    check = next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and "check_softmax(softmax)" in "".join(c["source"]))
    notebook["cells"] = cells[:check + 1]
    if broken:
        solution = next(c for c in notebook["cells"] if BEGIN in "".join(c["source"]))
        lines = "".join(solution["source"]).split("\n")
        start = next(i for i, line in enumerate(lines) if BEGIN in line)
        stop = next(i for i, line in enumerate(lines) if END in line and i > start)
        indent = lines[start][:len(lines[start]) - len(lines[start].lstrip())]
        lines[start + 1:stop] = [f"{indent}e = torch.exp(x - x.max())", f"{indent}return e / e.sum()"]
        solution["source"] = "\n".join(lines)
    return notebook


def _run(tmp_path: Path, broken: bool, strict: bool) -> subprocess.CompletedProcess:
    path = tmp_path / f"{'broken' if broken else 'correct'}_04.ipynb"
    path.write_text(json.dumps(_cut_notebook(broken)), encoding="utf-8")
    env = {**os.environ, "AIGC_COURSE_FAST": "1", "MPLBACKEND": "Agg"}
    env.pop("AIGC_COURSE_STRICT", None)
    if strict:
        env["AIGC_COURSE_STRICT"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                           "--nbval-current-env", str(path)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("broken, strict, fails", [(False, True, False), (True, True, True), (True, False, False)],
                         ids=["correct-strict-passes", "broken-strict-fails", "broken-lax-passes"])
def test_strict_mode_fails_a_broken_solution(tmp_path, broken, strict, fails):
    result = _run(tmp_path, broken, strict)
    output = result.stdout + result.stderr
    if fails:
        assert result.returncode != 0, output[-2000:]
        assert "ExerciseFailed" in output and "Exercise 4.1" in output, output[-2000:]
    else:
        assert result.returncode == 0, output[-2000:]
        assert "passed" in output
