"""Repository-level promises: the README's commands are what CI runs, ranges not pins, no MNIST committed."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quick)


def test_readme_has_exactly_two_quick_start_commands_and_ci_runs_the_test_one():
    commands = _readme_commands()
    assert len(commands) == 2, commands
    learn, test = commands
    assert "jupyter lab" in learn and "pip install" in learn
    assert "tools/run_tests.py" in test and "pip install" in test
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_chinese_quick_start_has_the_same_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    chinese = readme.split("## 快速开始（中文）", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"```bash\n(.+?)\n```", chinese) == _readme_commands()
    assert "zh/notebooks/00_overview.ipynb" in chinese


def test_readme_links_and_colab_badges_point_at_existing_files():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    local = [t for t in re.findall(r"\]\(([^)#\s]+)\)", readme) if "://" not in t]
    colab = re.findall(r"colab\.research\.google\.com/github/aigc-course/aigc-course/blob/main/([^)\s]+)", readme)
    assert any(path.startswith("zh/notebooks/") for path in colab), "the Chinese edition's badges"
    missing = [path for path in local + colab if not (ROOT / path).exists()]
    assert not missing, missing


def test_dependencies_are_ranges_not_pins():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"] == ">=3.10"
    deps = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    assert "torch>=2.2" in deps
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    requirements += (ROOT / "requirements-book.txt").read_text().splitlines()
    for line in deps + requirements:
        assert "==" not in line, f"exact pin: {line}"


def test_no_mnist_files_in_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert not [f for f in files if "ubyte" in f or f.endswith((".gz", ".npz", ".npy", ".pt"))]


def test_browser_suite_opens_every_english_notebook_and_the_chinese_sample_or_everything_when_asked():
    import importlib.util
    spec = importlib.util.spec_from_file_location("browser_conftest", ROOT / "tests" / "browser" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    committed = subprocess.run(["git", "ls-files", "--", "*.ipynb"], cwd=ROOT, capture_output=True, text=True,
                               check=True).stdout.split()
    course = sorted(p for p in committed if re.match(r"(zh/)?(notebooks|solutions)/\d\d_\w+\.ipynb$", p))
    english = [p for p in course if not p.startswith("zh/")]
    assert len(english) >= 16 and len(course) == 2 * len(english)
    assert conftest.course_notebooks(all_editions=True) == course
    default = conftest.course_notebooks(all_editions=False)
    assert default == sorted(english + list(conftest.CHINESE_SAMPLE))
    assert set(conftest.CHINESE_SAMPLE) <= set(course)
