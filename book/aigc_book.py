"""Sphinx extension of the course book: a language switch and an outputs note on every page.

Both editions are built with the same page names (``tools/book.py`` stages a chapter that is
not translated yet as its English text with a notice), so the switch of page ``NAME`` in
``<edition>/NAME.html`` links to ``<other edition>/NAME.html``. The note says where the page's
outputs come from (fast mode in CI, the full budget from the execution cache).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

LABELS = {"en": ("English", "en"), "zh": ("中文版", "zh-CN")}


def other_edition(edition: str) -> str:
    return "zh" if edition == "en" else "en"


def switch_href(pagename: str, edition: str) -> str:
    """The same page in the other edition, relative to this page."""
    return "../" * (pagename.count("/") + 1) + f"{other_edition(edition)}/{pagename}.html"


def _page_note(app, pagename: str) -> str:
    """The outputs note tools/book.py wrote for this page (``_outputs.json``: page -> note, "*" default)."""
    path = Path(app.srcdir) / "_outputs.json"
    notes = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return notes.get(pagename, notes.get("*", ""))


def add_banner(app, pagename, templatename, context, doctree):
    edition = app.config.aigc_edition
    label, hreflang = LABELS[other_edition(edition)]
    href = switch_href(pagename, edition)
    note = html.escape(_page_note(app, pagename))
    banner = (f'<div class="aigc-banner"><span class="aigc-outputs">{note}</span>'
              f'<a class="aigc-lang" href="{href}" hreflang="{hreflang}" lang="{hreflang}">{label}</a></div>')
    if "body" in context:
        context["body"] = banner + context["body"]
    context["metatags"] = context.get("metatags", "") + f'\n<link rel="alternate" hreflang="{hreflang}" href="{href}">'


def setup(app):
    app.add_config_value("aigc_edition", "en", "html")
    app.connect("html-page-context", add_banner)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
