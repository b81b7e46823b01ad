"""aigc_course: reference implementations for the AIGC core-techniques course.

Importing the package has no side effects: no downloads, no seeding, no thread changes.
Modules: ``config`` (fast mode, device, seeds, cache), ``data`` (MNIST), ``checks``
(exercise checkers), and one module per chapter topic.
"""

__version__ = "0.1.0"
