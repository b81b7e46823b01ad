"""Every exercise checker must pass its reference and fail at least two wrong implementations.

Each chapter lists its wrong implementations in ``tests/wrong/<topic>.py`` as
``WRONG = {"N.M": [wrong_fn, ...]}``. A checker that cannot fail is a defect.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from aigc_course.checks import FAIL, NOT_ATTEMPTED, PASS, all_exercises

WRONG_DIR = Path(__file__).parent / "wrong"


def _wrong_implementations() -> dict[str, list]:
    collected: dict[str, list] = {}
    for path in sorted(WRONG_DIR.glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"wrong_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for exercise_id, fns in module.WRONG.items():
            collected.setdefault(exercise_id, []).extend(fns)
    return collected


EXERCISES = all_exercises()
WRONG = _wrong_implementations()


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_reference_passes(exercise_id):
    result = EXERCISES[exercise_id].grade(EXERCISES[exercise_id].reference)
    assert result.status == PASS, result.message


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_at_least_two_wrong_implementations_fail(exercise_id):
    wrong = WRONG.get(exercise_id, [])
    assert len(wrong) >= 2, f"exercise {exercise_id} needs >= 2 wrong implementations in tests/wrong/"
    for fn in wrong:
        result = EXERCISES[exercise_id].grade(fn)
        assert result.status == FAIL, f"{fn.__name__} was graded {result.status}: {result.message}"


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_unattempted_is_reported_and_reference_used(exercise_id, capsys):
    exercise = EXERCISES[exercise_id]

    def stub(*args, **kwargs):
        raise NotImplementedError(f"Exercise {exercise_id}: todo")

    assert exercise.grade(stub).status == NOT_ATTEMPTED
    assert exercise(stub) is exercise.reference
    assert "not attempted" in capsys.readouterr().out


def test_every_wrong_entry_names_a_real_exercise():
    unknown = set(WRONG) - set(EXERCISES)
    assert not unknown, f"tests/wrong lists exercises that do not exist: {sorted(unknown)}"
