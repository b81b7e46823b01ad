"""Exercise checkers: run a learner's function against the reference and say pass or fail.

Each chapter has a module here (``checks.attention``, ``checks.vae``, ...) defining
:class:`Exercise` objects. In a notebook::

    from aigc_course.checks.attention import check_softmax
    softmax = check_softmax(softmax)   # prints PASS / FAIL / not attempted

Calling an exercise prints a report and returns the function the rest of the notebook
should use: the learner's when it passes, otherwise the reference, so a student notebook
always runs top to bottom. With ``AIGC_COURSE_STRICT=1`` (the test command sets it for the
solution notebooks) a check that does not PASS raises :class:`ExerciseFailed` instead, so a
broken solution cannot stay green. Tests call :meth:`Exercise.grade`, which prints nothing.

With ``AIGC_COURSE_RESULTS=FILE`` every call also appends its :class:`CheckResult` to FILE as
one JSON line (:meth:`CheckResult.to_record`); the grader (``python -m aigc_course grade``)
sets it for each notebook it executes and reads the records back instead of scraping text.

A *case* is a callable ``case(candidate, reference)`` that raises ``AssertionError`` with a
readable message when the candidate is wrong. :func:`same_output` builds the common case
"same result as the reference on these inputs".
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from ..config import RESULTS_ENV, STRICT_ENV, is_strict

Case = Callable[[Callable[..., Any], Callable[..., Any]], None]

PASS, FAIL, NOT_ATTEMPTED = "pass", "fail", "not attempted"


class ExerciseFailed(AssertionError):
    """Raised in strict mode (``AIGC_COURSE_STRICT=1``) when a check does not PASS."""


@dataclass
class CheckResult:
    """Outcome of grading one function: ``status`` is "pass", "fail" or "not attempted"."""

    exercise: str
    status: str
    message: str = ""

    title: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def to_record(self) -> dict[str, str]:
        """The result as a plain dict (one JSON line of the ``AIGC_COURSE_RESULTS`` file)."""
        return {"exercise": self.exercise, "title": self.title, "status": self.status, "message": self.message}


def record_result(result: CheckResult) -> None:
    """Append ``result`` as one JSON line to the file named by ``AIGC_COURSE_RESULTS`` (if set)."""
    path = os.environ.get(RESULTS_ENV, "").strip()
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(result.to_record(), ensure_ascii=False) + "\n")


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        text = f"tensor of shape {list(value.shape)}, dtype {value.dtype}"
        if value.numel() <= 8:
            text += f": {[round(v, 4) for v in value.detach().flatten().tolist()]}"
        return text
    return repr(value)


def assert_close(name: str, got: Any, expected: Any, *, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Assert two results (tensors, numbers, or tuples/lists of them) agree, with a readable message."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            raise AssertionError(f"{name}: expected a {type(expected).__name__} of {len(expected)} items, got {_describe(got)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_close(f"{name}[{i}]", g, e, atol=atol, rtol=rtol)
        return
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            raise AssertionError(f"{name}: expected a tensor, got {type(got).__name__}")
        if got.shape != expected.shape:
            raise AssertionError(f"{name}: expected shape {list(expected.shape)}, got {list(got.shape)}")
        if got.is_floating_point() != expected.is_floating_point():
            raise AssertionError(f"{name}: expected dtype {expected.dtype}, got {got.dtype}")
        g, e = got.detach().double(), expected.detach().double()
        if not torch.allclose(g, e, atol=atol, rtol=rtol, equal_nan=True):
            worst = (g - e).abs().nan_to_num(float("inf")).max().item()
            raise AssertionError(f"{name}: values differ from the reference (largest difference {worst:.3g}); "
                                 f"expected {_describe(expected)}, got {_describe(got)}")
        return
    if isinstance(expected, float):
        if not isinstance(got, (int, float)) and not (isinstance(got, torch.Tensor) and got.numel() == 1):
            raise AssertionError(f"{name}: expected a number, got {_describe(got)}")
        if abs(float(got) - expected) > atol + rtol * abs(expected):
            raise AssertionError(f"{name}: expected {expected:.6g}, got {float(got):.6g}")
        return
    if got != expected:
        raise AssertionError(f"{name}: expected {_describe(expected)}, got {_describe(got)}")


def same_output(*args: Any, label: str | None = None, atol: float = 1e-5, rtol: float = 1e-4,
                **kwargs: Any) -> Case:
    """A case: ``candidate(*args, **kwargs)`` must match ``reference(*args, **kwargs)``.

    Tensor arguments are cloned for each call so a function that modifies its input in
    place cannot corrupt the comparison.
    """

    def clone(value: Any) -> Any:
        return value.clone() if isinstance(value, torch.Tensor) else value

    def case(candidate: Callable[..., Any], reference: Callable[..., Any]) -> None:
        expected = reference(*map(clone, args), **{k: clone(v) for k, v in kwargs.items()})
        got = candidate(*map(clone, args), **{k: clone(v) for k, v in kwargs.items()})
        assert_close(label or "result", got, expected, atol=atol, rtol=rtol)

    return case


@dataclass
class Exercise:
    """One exercise: an id such as "4.1", a title, the reference function, cases, a hint."""

    exercise_id: str
    title: str
    reference: Callable[..., Any]
    cases: Sequence[Case] = field(default_factory=list)
    hint: str = ""

    @property
    def label(self) -> str:
        return f"Exercise {self.exercise_id} ({self.title})"

    def grade(self, candidate: Callable[..., Any]) -> CheckResult:
        """Run every case against ``candidate``; no printing."""
        if not callable(candidate):
            raise TypeError(f"candidate must be a function, got {type(candidate).__name__}")
        for number, case in enumerate(self.cases, start=1):
            try:
                case(candidate, self.reference)
            except NotImplementedError:
                return CheckResult(self.exercise_id, NOT_ATTEMPTED, "the function still raises NotImplementedError",
                                   self.title)
            except AssertionError as err:
                return CheckResult(self.exercise_id, FAIL, f"check {number}/{len(self.cases)}: {err}", self.title)
            except Exception as err:  # a crash in learner code is a failure, reported plainly
                return CheckResult(self.exercise_id, FAIL,
                                   f"check {number}/{len(self.cases)} raised {type(err).__name__}: {err}", self.title)
        return CheckResult(self.exercise_id, PASS, f"all {len(self.cases)} checks passed", self.title)

    def __call__(self, candidate: Callable[..., Any]) -> Callable[..., Any]:
        """Grade, record (``AIGC_COURSE_RESULTS``), print a short report, return the function to use from here on."""
        result = self.grade(candidate)
        record_result(result)
        if not result.passed and is_strict():
            raise ExerciseFailed(f"{self.label}: {result.status}: {result.message} "
                                 f"({STRICT_ENV} is set, so a check that does not pass stops the notebook)")
        if result.passed:
            print(f"PASS  {self.label}: {result.message}.")
            return candidate
        if result.status == NOT_ATTEMPTED:
            print(f"TODO  {self.label} is not attempted yet; the notebook continues with the "
                  f"reference implementation.")
        else:
            print(f"FAIL  {self.label}: {result.message}")
            if self.hint:
                print(f"      hint: {self.hint}")
            print("      The notebook continues with the reference implementation; fix yours and re-run this cell.")
        return self.reference


def all_exercises() -> dict[str, Exercise]:
    """Every Exercise defined in the chapter modules of this package, by id."""
    found: dict[str, Exercise] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Exercise):
                if value.exercise_id in found and found[value.exercise_id] is not value:
                    raise RuntimeError(f"exercise id {value.exercise_id} is defined twice")
                found[value.exercise_id] = value
    return dict(sorted(found.items(), key=lambda kv: [int(p) for p in kv[0].split(".")]))
