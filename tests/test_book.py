"""The book's plumbing: outputs grafted only onto the same code, the language switch, the
glossary page, the internal-link checker, and the test run saving executed notebooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "book"))
import aigc_book  # noqa: E402
import aigc_pages  # noqa: E402
import book  # noqa: E402
import executed  # noqa: E402


def _notebook(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) if not c.startswith("#") else nbformat.v4.new_markdown_cell(c)
                for c in cells]
    return nb


def test_graft_takes_outputs_only_from_the_same_code():
    run = _notebook("x = 1", "print(x)")
    run.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n"),
                            nbformat.v4.new_output("display_data", data={
                                "text/plain": "bar", "application/vnd.jupyter.widget-view+json": {"model_id": "m"}})]
    page = book.graft(_notebook("# 标题", "x = 1", "# 说明", "print(x)"), run)
    assert [c.cell_type for c in page.cells] == ["markdown", "code", "markdown", "code"]
    assert page.cells[3].outputs[0].text == "1\n"
    assert page.cells[3].outputs[1].data == {"text/plain": "bar"}  # no widget state: the text form
    with pytest.raises(book.BookError, match="code cells differ"):
        book.graft(_notebook("x = 2", "print(x)"), run)


def test_language_switch_links_the_same_page_of_the_other_edition():
    assert aigc_book.switch_href("00_overview", "en") == "../zh/00_overview.html"
    assert aigc_book.switch_href("glossary", "zh") == "../en/glossary.html"
    assert aigc_book.switch_href("sub/page", "zh") == "../../en/sub/page.html"


def test_glossary_page_escapes_pipes_and_links_chapters():
    stems = {s.name[:2]: s.stem for s in book.chapter_sources()}
    for edition in book.EDITIONS:
        page = aigc_pages.glossary_page(edition, stems)
        rows = [line for line in page.splitlines() if line.startswith("| ") and "---" not in line]
        assert all(len(line.replace("\\|", "").split("|")) == 7 for line in rows), "every row has five cells"
        assert "q(z\\|x)" in page and "[02](02_gan.ipynb), [05](05_mnist_gan_project.ipynb)" in page
    assert "[02](02_gan.ipynb), [03](03_vae.ipynb), [04](04_self_attention.ipynb)" in aigc_pages._chapter_links("02-04", stems)
    assert "编码器 q(z\\|x) 与解码器 p(x\\|z)" in aigc_pages.glossary_page("zh", stems)


def test_chinese_glossary_definitions_name_existing_terms_and_keep_formulas():
    from aigc_course.course.glossary import GLOSSARY
    from aigc_course.course.glossary_zh import DEFINITIONS_ZH, definition_zh, untranslated_terms

    english = {t.english: t for t in GLOSSARY}
    assert not set(DEFINITIONS_ZH) - set(english), "an entry for a term the glossary does not have"
    formulas = {"softmax": "exp(x_i) / sum_j exp(x_j)", "scaled dot-product attention": "softmax(Q K^T / sqrt(d)) V",
                "optimal discriminator": "D*(x) = p_data(x) / (p_data(x) + p_g(x))",
                "evidence lower bound": "E_q[log p(x|z)] - KL(q(z|x) || p(z))"}
    for name, formula in formulas.items():
        assert formula in english[name].definition and formula in definition_zh(english[name]), name
    assert all(definition_zh(english[name]) == english[name].definition for name in untranslated_terms())


def test_internal_link_checker_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "a.html").write_text(
        '<a href="b.html#there">ok</a><a href="b.html#nowhere">x</a><a href="c.html">x</a>'
        '<a href="https://example.org/x">external</a><img src="../img.png"><a href="#top">self</a><h1 id="top">t</h1>')
    (tmp_path / "en" / "b.html").write_text('<section id="there"></section>')
    (tmp_path / "img.png").write_bytes(b"png")
    assert book.broken_links(tmp_path) == ["en/a.html: b.html#nowhere (no anchor #nowhere)",
                                           "en/a.html: c.html (no such file)"]


def test_the_test_run_saves_executed_notebooks_for_the_book(tmp_path):
    notebook = _notebook("print('hello')", "1 + 1;", "2 + 2")
    path = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, path)
    env = {**os.environ, "AIGC_COURSE_FAST": "1", "AIGC_COURSE_SAVE_EXECUTED": str(tmp_path / "cache"),
           "PYTHONPATH": str(ROOT)}
    # The repository's conftest.py (the hook) loaded as a plugin: the notebook lies outside the repository.
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
                             "--nbval-lax", "--nbval-current-env", str(path)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    saved = nbformat.read(tmp_path / "cache" / "fast" / "tiny.ipynb", as_version=4)
    outputs = [c.outputs for c in saved.cells]
    assert outputs[0][0].text == "hello\n"
    assert outputs[1] == []  # a trailing ';' hides the value, as in Jupyter
    assert outputs[2][0].data["text/plain"] == "4"
    assert saved.metadata.aigc_execution["mode"] == "fast"
    assert executed.current_copy(path, "fast", tmp_path / "cache") is not None
    notebook.cells[2].source = "3 + 3"
    nbformat.write(notebook, path)
    assert executed.current_copy(path, "fast", tmp_path / "cache") is None  # code changed: stale


def test_import_refuses_a_run_of_other_code(tmp_path):
    source = tmp_path / "00_x.ipynb"
    nbformat.write(_notebook("x = 1"), source)
    other = tmp_path / "run.ipynb"
    nbformat.write(_notebook("x = 2"), other)
    with pytest.raises(ValueError, match="not those of"):
        executed.import_copy(other, source, "full", tmp_path / "cache")
    run = _notebook("x = 1")
    run.cells[0].outputs = [nbformat.v4.new_output("stream", text="done\n")]
    nbformat.write(run, other)
    copy = executed.import_copy(other, source, "full", tmp_path / "cache")
    assert json.loads(copy.read_text())["metadata"]["aigc_execution"]["mode"] == "full"
