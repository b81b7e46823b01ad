import pytest
import torch

from aigc_course.checks import Exercise, assert_close, same_output


def reference(x):
    return x * 2


EXERCISE = Exercise("0.1", "doubling", reference, [same_output(torch.arange(3.0)), same_output(torch.zeros(0))],
                    hint="multiply by two")


def test_pass_fail_and_not_attempted(capsys):
    assert EXERCISE.grade(lambda x: x + x).passed
    mine = lambda x: x + x  # noqa: E731
    assert EXERCISE(mine) is mine
    assert "PASS" in capsys.readouterr().out
    wrong = lambda x: x * 3  # noqa: E731
    result = EXERCISE.grade(wrong)
    assert result.status == "fail" and "differ" in result.message
    assert EXERCISE(wrong) is reference
    out = capsys.readouterr().out
    assert "FAIL" in out and "multiply by two" in out
    crash = lambda x: x.nope()  # noqa: E731
    assert EXERCISE.grade(crash).status == "fail"


def test_in_place_modification_cannot_corrupt_reference():
    def sneaky(x):
        x.mul_(2)
        return x
    assert EXERCISE.grade(sneaky).passed  # cloned inputs: same answer, no corruption


def test_assert_close_messages():
    assert_close("r", (torch.ones(2), 1.0), (torch.ones(2), 1.0))
    with pytest.raises(AssertionError, match="expected shape"):
        assert_close("r", torch.ones(3), torch.ones(2))
    with pytest.raises(AssertionError, match="expected a tuple"):
        assert_close("r", torch.ones(2), (torch.ones(2),))
    with pytest.raises(AssertionError, match="expected 1"):
        assert_close("r", 2.0, 1.0)
    with pytest.raises(AssertionError, match="expected a tensor"):
        assert_close("r", [1.0], torch.ones(1))
    with pytest.raises(TypeError, match="candidate must be a function"):
        EXERCISE.grade(3)
