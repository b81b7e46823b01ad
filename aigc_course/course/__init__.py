"""Chapter 00: the course overview, the bilingual glossary and the checked references.

* ``overview`` - the chapter table (:data:`CHAPTERS`), the pipeline diagrams, mean digit images;
* ``glossary`` - :data:`GLOSSARY`, the English/Chinese terms every chapter uses;
* ``references`` - :data:`REFERENCES`, every cited work, checked, and what was dropped and why;
* ``environment`` - :func:`environment_report`, what this machine runs the course with.
"""

from .overview import (CHAPTERS, Chapter, chapter_table_markdown, diagram_box, diagram_arrow, diagram_panel, draw_pipelines, mean_digit_images)
from .glossary import (GLOSSARY, Term, glossary_markdown)
from .environment import (environment_report)
from .references import (DROPPED, REFERENCES, KINDS, ORIGINS, Reference, references_markdown, corrections_markdown, dropped_markdown)

__all__ = ['DROPPED', 'REFERENCES', 'CHAPTERS', 'GLOSSARY', 'environment_report', 'Chapter', 'chapter_table_markdown', 'diagram_box', 'diagram_arrow', 'diagram_panel', 'draw_pipelines', 'mean_digit_images', 'Term', 'glossary_markdown', 'KINDS', 'ORIGINS', 'Reference', 'references_markdown', 'corrections_markdown', 'dropped_markdown']
