"""The notebooks' first cell on a simulated Colab: fake file layouts, a fake pip, ``sys.modules["google.colab"]``.

The cell's code is executed as it is in every notebook, with Colab's ``/content`` folder moved into a
temporary folder. "Installed" is simulated: ``importlib.util.find_spec("aigc_course")`` answers None
until the fake pip has installed something.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks as nbtools  # noqa: E402


class FakeColab:
    """A Colab session: /content (uploads) and /content/drive/MyDrive under ``root``, a pip that records calls."""

    def __init__(self, root: Path, monkeypatch, installed: bool = False, pip_works: bool = True):
        self.root, self.installed, self.pip_works, self.pip_calls = root, installed, pip_works, []
        self.content = root / "content"
        self.drive = self.content / "drive" / "MyDrive"
        self.notebook_dir = root / "notebook_folder"
        for folder in (self.content, self.notebook_dir):
            folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(self.notebook_dir)
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
        real_find_spec = importlib.util.find_spec

        def find_spec(name, *args, **kwargs):
            if name == "aigc_course" and not self.installed:
                return None
            return real_find_spec(name, *args, **kwargs)

        def run(command, *args, **kwargs):
            self.pip_calls.append(command[command.index("install") + 2:] if "install" in command else command)
            self.installed = self.installed or self.pip_works
            return subprocess.CompletedProcess(command, 0 if self.pip_works else 1)

        monkeypatch.setattr(importlib.util, "find_spec", find_spec)
        monkeypatch.setattr(subprocess, "run", run)

    def wheel(self, folder: Path, name: str = "aigc_course-0.1.0-py3-none-any.whl", age: float = 0.0) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(b"not really a wheel")
        os.utime(path, (path.stat().st_mtime - age, path.stat().st_mtime - age))
        return path

    def run_cell(self, repo_url: str = "") -> None:
        code = nbtools.SETUP_CELL.replace("/content", str(self.content))
        code = code.replace('COURSE_REPO_URL = ""', f'COURSE_REPO_URL = "{repo_url}"')
        exec(compile(code, "<setup cell>", "exec"), {"__name__": "__main__"})


def test_cell_is_short_and_installs_in_the_documented_order():
    lines = nbtools.SETUP_CELL.splitlines()
    assert len(lines) <= 28 and max(map(len, lines)) <= 120
    assert nbtools.SETUP_CELL.count("COURSE_REPO_URL = ") == 1


def test_already_installed_installs_nothing(tmp_path, monkeypatch, capsys):
    colab = FakeColab(tmp_path, monkeypatch, installed=True)
    colab.wheel(colab.content)
    colab.run_cell(repo_url="https://example.org/fork")
    assert colab.pip_calls == []
    assert "device" in capsys.readouterr().out  # the environment report


@pytest.mark.parametrize("place", ["beside the notebook", "uploaded", "drive", "drive subfolder"])
def test_a_wheel_is_installed_from_each_place(tmp_path, monkeypatch, capsys, place):
    colab = FakeColab(tmp_path, monkeypatch)
    folder = {"beside the notebook": colab.notebook_dir, "uploaded": colab.content, "drive": colab.drive,
              "drive subfolder": colab.drive / "aigc-course"}[place]
    wheel = colab.wheel(folder)
    colab.run_cell(repo_url="https://example.org/fork")  # a wheel wins over the repository
    assert colab.pip_calls == [[os.path.join(".", wheel.name) if folder == colab.notebook_dir else str(wheel)]]
    assert "installing the course from" in capsys.readouterr().out


def test_the_newest_of_several_wheels_is_chosen(tmp_path, monkeypatch):
    colab = FakeColab(tmp_path, monkeypatch)
    colab.wheel(colab.content, "aigc_course-0.9.0-py3-none-any.whl", age=3600)
    newest = colab.wheel(colab.drive, "aigc_course-0.10.0-py3-none-any.whl")
    colab.run_cell()
    assert colab.pip_calls == [[str(newest)]]


def test_the_repository_when_no_wheel_and_an_address_is_set(tmp_path, monkeypatch):
    colab = FakeColab(tmp_path, monkeypatch)
    colab.run_cell(repo_url="https://example.org/me/aigc-course")
    assert colab.pip_calls == [["aigc-course @ git+https://example.org/me/aigc-course"]]


def test_nothing_found_gives_one_instruction_and_no_pip(tmp_path, monkeypatch):
    colab = FakeColab(tmp_path, monkeypatch)
    with pytest.raises(ModuleNotFoundError, match=r"upload aigc_course-\*\.whl .* run this cell again") as info:
        colab.run_cell()
    assert colab.pip_calls == [] and "\n" not in str(info.value)


def test_a_failing_pip_ends_in_the_instruction_not_a_pip_traceback(tmp_path, monkeypatch):
    colab = FakeColab(tmp_path, monkeypatch, pip_works=False)
    colab.wheel(colab.content)
    with pytest.raises(ModuleNotFoundError, match="run this cell again"):
        colab.run_cell()
    assert len(colab.pip_calls) == 1


def test_idempotent_second_run_installs_nothing(tmp_path, monkeypatch):
    colab = FakeColab(tmp_path, monkeypatch)
    colab.wheel(colab.content)
    colab.run_cell()
    colab.run_cell()
    assert len(colab.pip_calls) == 1


def test_off_colab_nothing_is_installed(tmp_path, monkeypatch):
    colab = FakeColab(tmp_path, monkeypatch, installed=True)
    monkeypatch.delitem(sys.modules, "google.colab")
    colab.installed = False
    colab.wheel(colab.notebook_dir)
    colab.run_cell(repo_url="https://example.org/fork")
    assert colab.pip_calls == []
