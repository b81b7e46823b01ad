"""Tools for instructors: grade a class's notebooks, bundle the course for a room without network.

=================  ==============================================================================
module             what
=================  ==============================================================================
``execute``        run one notebook in a fresh kernel with a deadline (:func:`execute_notebook`)
``grading``        ``python -m aigc_course grade``: every exercise of every learner, PASS/FAIL/TODO/ERROR
``bundle``         ``python -m aigc_course bundle`` / ``install-bundle``: MNIST, checkpoints, the wheel
=================  ==============================================================================
"""

from .execute import Execution, execute_notebook
from .grading import (ERROR, FAIL, PASS, TODO, ExerciseGrade, NotebookGrade, expected_exercises, find_notebooks,
                      format_table, grade_all, grade_notebook, write_csv, write_json)

__all__ = ["Execution", "execute_notebook", "PASS", "FAIL", "TODO", "ERROR", "ExerciseGrade", "NotebookGrade",
           "expected_exercises", "find_notebooks", "format_table", "grade_all", "grade_notebook", "write_csv",
           "write_json"]
