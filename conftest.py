"""Repository-wide pytest hooks: a per-notebook wall-time table after nbval runs, and the
executed notebooks saved for the book (``AIGC_COURSE_SAVE_EXECUTED``, see tools/executed.py)."""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from pathlib import Path

_notebook_seconds: dict[str, float] = defaultdict(float)
_notebook_failed: set[str] = set()
_notebook_outputs: dict[str, dict[int, list]] = defaultdict(dict)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration
        if report.failed:
            _notebook_failed.add(path)


def pytest_runtest_teardown(item, nextitem):
    """After the last cell of a notebook nbval ran without a failure, save it with its outputs.

    Only when ``AIGC_COURSE_SAVE_EXECUTED`` names the cache folder (the test command sets it):
    the book then reuses these outputs instead of executing the notebooks a second time.
    """
    target = os.environ.get("AIGC_COURSE_SAVE_EXECUTED")
    if not target or not hasattr(item, "test_outputs") or not hasattr(item, "cell_num"):
        return
    path = item.nodeid.split("::")[0]
    _notebook_outputs[path][item.cell_num] = list(item.test_outputs or [])
    if nextitem is not None and nextitem.nodeid.split("::")[0] == path:
        return
    outputs = _notebook_outputs.pop(path)
    if path in _notebook_failed:
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
    import executed

    executed.save_nbval_run(Path(str(item.parent.fspath)), outputs, Path(target))


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook wall times (sum of cell times)")
    for path, seconds in sorted(_notebook_seconds.items()):
        status = "FAILED" if path in _notebook_failed else "ok"
        terminalreporter.write_line(f"{seconds:8.1f} s  {status:6s}  {path}")
    terminalreporter.write_line(f"{sum(_notebook_seconds.values()):8.1f} s  total")
