"""Chapter 00: the course overview, the bilingual glossary and the checked references.

Modules: ``environment``, ``overview``, ``glossary``, ``references``.
"""

from .overview import (Chapter, chapter_table_markdown, diagram_box, diagram_arrow, diagram_panel, draw_pipelines, mean_digit_images)
from .glossary import (Term, glossary_markdown)
from .environment import (environment_report)
from .references import (KINDS, ORIGINS, Reference, references_markdown, corrections_markdown, dropped_markdown)

__all__ = ['environment_report', 'Chapter', 'chapter_table_markdown', 'diagram_box', 'diagram_arrow', 'diagram_panel', 'draw_pipelines', 'mean_digit_images', 'Term', 'glossary_markdown', 'KINDS', 'ORIGINS', 'Reference', 'references_markdown', 'corrections_markdown', 'dropped_markdown']
