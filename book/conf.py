"""Sphinx configuration of the course book, shared by both editions.

Built by ``python tools/book.py build``, never directly: it stages each edition's pages
(executed notebooks, the glossary, the references) under ``build/book/src/<edition>`` and runs
Sphinx there with this folder as the configuration (``-c book``) and ``AIGC_BOOK_EDITION``
set to ``en`` or ``zh``.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

EDITION = os.environ.get("AIGC_BOOK_EDITION", "en")
if EDITION not in ("en", "zh"):
    raise ValueError(f"AIGC_BOOK_EDITION must be 'en' or 'zh', got {EDITION!r}")
ZH = EDITION == "zh"

project = "揭秘AIGC的核心技术 · 动手课程（中文版）" if ZH else "AIGC core techniques · a hands-on course"
author = "aigc-course"
copyright = "aigc-course contributors; course code MIT"
language = "zh_CN" if ZH else "en"

extensions = ["myst_nb", "aigc_book"]
aigc_edition = EDITION

# The notebooks arrive executed (tools/book.py grafts the outputs of the execution cache).
nb_execution_mode = "off"
nb_merge_streams = True
nb_render_markdown_format = "myst"  # display(Markdown(...)) tables and math render like the page
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
nitpicky = True  # with -W: a broken cross-reference fails the build

exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["aigc.css"]
html_last_updated_fmt = None
html_theme_options = {
    "repository_url": "https://github.com/aigc-course/aigc-course",
    "use_repository_button": True,
    "show_toc_level": 2,
}
# MathJax: from its CDN by default; with `tools/book.py build --mathjax DIR` (a local MathJax 3) the
# book reads offline: AIGC_BOOK_MATHJAX is then a folder whose mathjax/ lands in _static/.
if os.environ.get("AIGC_BOOK_MATHJAX"):
    html_static_path.append(os.environ["AIGC_BOOK_MATHJAX"])
    mathjax_path = "mathjax/tex-chtml.js"
