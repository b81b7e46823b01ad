"""Chapter 00: the course overview, the bilingual glossary and the checked references.

Modules: ``environment``, ``overview``, ``glossary``, ``references``.
"""

from .overview import (CHAPTERS, Chapter, chapter_table_markdown, diagram_box, diagram_arrow, diagram_panel, draw_pipelines, mean_digit_images)
from .glossary import (GLOSSARY, Term, glossary_markdown)
from .environment import (environment_report)
from .references import (DROPPED, REFERENCES, KINDS, ORIGINS, Reference, references_markdown, corrections_markdown, dropped_markdown)

__all__ = ['DROPPED', 'REFERENCES', 'CHAPTERS', 'GLOSSARY', 'environment_report', 'Chapter', 'chapter_table_markdown', 'diagram_box', 'diagram_arrow', 'diagram_panel', 'draw_pipelines', 'mean_digit_images', 'Term', 'glossary_markdown', 'KINDS', 'ORIGINS', 'Reference', 'references_markdown', 'corrections_markdown', 'dropped_markdown']
