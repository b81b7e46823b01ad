"""Repository-wide pytest hooks: a per-notebook wall-time table after nbval runs."""

from __future__ import annotations

from collections import defaultdict

_notebook_seconds: dict[str, float] = defaultdict(float)
_notebook_failed: set[str] = set()


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration
        if report.failed:
            _notebook_failed.add(path)


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook wall times (sum of cell times)")
    for path, seconds in sorted(_notebook_seconds.items()):
        status = "FAILED" if path in _notebook_failed else "ok"
        terminalreporter.write_line(f"{seconds:8.1f} s  {status:6s}  {path}")
    terminalreporter.write_line(f"{sum(_notebook_seconds.values()):8.1f} s  total")
