"""The Chinese edition's sync check: it fails when English prose changed since its translation,
when a unit is missing, when a code cell or a formula differs from the English; and the
translator's commands (stale, sync) say what to do.

Most tests work on a temporary copy of chapter 00 (English source, units, generated notebooks).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks as nbtools  # noqa: E402
import translations as tr  # noqa: E402
import zh_units  # noqa: E402

STEM = "00_overview"


@pytest.fixture
def repo(tmp_path, monkeypatch) -> tr.Layout:
    """A copy of chapter 00 in both editions, built and passing the check."""
    (tmp_path / "solutions").mkdir()
    shutil.copy(ROOT / "solutions" / f"{STEM}.py", tmp_path / "solutions")
    (tmp_path / "zh" / "units").mkdir(parents=True)
    shutil.copy(ROOT / "zh" / "units" / f"{STEM}.md", tmp_path / "zh" / "units")
    shutil.copy(ROOT / "zh" / "pending.txt", tmp_path / "zh")
    monkeypatch.setattr(nbtools, "ROOT", tmp_path)
    monkeypatch.setattr(nbtools, "SOLUTIONS", tmp_path / "solutions")
    monkeypatch.setattr(nbtools, "STUDENT", tmp_path / "notebooks")
    nbtools.build()
    assert nbtools.problems() == []
    return tr.layout()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_committed_chinese_edition_is_complete_and_in_sync():
    assert tr.problems() == []
    where = tr.layout()
    assert [s.stem for s in tr.translated(where)][:1] == [STEM]
    for folder in ("solutions", "notebooks"):
        zh = json.loads((ROOT / "zh" / folder / f"{STEM}.ipynb").read_text(encoding="utf-8"))
        en = json.loads((ROOT / folder / f"{STEM}.ipynb").read_text(encoding="utf-8"))
        assert [(c["cell_type"], c["id"]) for c in zh["cells"]] == [(c["cell_type"], c["id"]) for c in en["cells"]]
        assert [c["source"] for c in zh["cells"] if c["cell_type"] == "code"] == \
               [c["source"] for c in en["cells"] if c["cell_type"] == "code"]
        prose = "".join("".join(c["source"]) for c in zh["cells"] if c["cell_type"] == "markdown")
        assert "欢迎与概览" in prose and "勘误" in prose and "Each chapter is a notebook" not in prose


def test_an_edited_english_cell_fails_the_check_until_retranslated(repo, capsys):
    source = repo.solutions / f"{STEM}.py"
    _edit(source, "checks each one's MD5 checksum", "checks each one's SHA-256 checksum")
    nbtools.build()
    found = nbtools.problems()
    assert any("unit c005: the English cell c005 changed since it was translated" in p for p in found), found
    assert nbtools.main(["check"]) == 1
    assert "changed since it was translated" in capsys.readouterr().err

    report, count = tr.stale_report(repo, ["00"])
    assert count == 1 and "cell c005 · stale" in report
    assert "\n-files from public mirrors, checks each one's MD5 checksum," in report
    assert "\n+files from public mirrors, checks each one's SHA-256 checksum," in report
    assert "Chinese now:" in report and "MD5 校验和" in report

    assert "1 stale" in tr.sync(repo, source)
    unit = {u.key: u for u in tr.load_units(repo, source)}["c005"]
    assert unit.flags == ("stale",) and "MD5" in unit.previous and "SHA-256" in unit.english
    nbtools.build()
    assert any("c005" in p for p in nbtools.problems())  # still stale: the Chinese was not updated

    # The translator updates the Chinese, deletes the en-previous block and the word "stale".
    unit_path = tr.unit_file(repo, source)
    text = unit_path.read_text(encoding="utf-8").replace("MD5 校验和", "SHA-256 校验和")
    text = text.replace(f"<!-- unit c005 en:{unit.sha} stale -->", f"<!-- unit c005 en:{unit.sha} -->")
    start = text.index("````en-previous")
    text = text[:start] + text[text.index("````\n", start + 5) + 5:]
    unit_path.write_text(text, encoding="utf-8")
    nbtools.build()
    assert nbtools.problems() == []


def test_a_code_cell_that_differs_from_the_english_fails(repo):
    zh_notebook = repo.zh_solutions / f"{STEM}.ipynb"
    _edit(zh_notebook, "nrow=16", "nrow=8")
    found = nbtools.problems()
    assert any(f"zh/solutions/{STEM}.ipynb: code cells differ from the English" in p for p in found), found
    nbtools.build()
    assert nbtools.problems() == []
    # A code change in the English source reaches the Chinese notebooks with the next build.
    _edit(repo.solutions / f"{STEM}.py", "nrow=16", "nrow=8")
    assert any(f"zh/solutions/{STEM}.py: out of sync" in p for p in nbtools.problems())
    nbtools.build()
    assert nbtools.problems() == []
    assert "nrow=8" in zh_notebook.read_text(encoding="utf-8")


def test_a_formula_that_differs_from_the_english_fails(repo):
    units = tr.unit_file(repo, repo.solutions / f"{STEM}.py")
    _edit(units, "取值在 $[0, 1]$ 内", "取值在 $[0, 255]$ 内")
    nbtools.build()
    found = nbtools.problems()
    assert any("unit c011: formulas differ from the English: missing ['$[0, 1]$'], extra ['$[0, 255]$']" in p
               for p in found), found
    _edit(units, "取值在 $[0, 255]$ 内", "取值在 [0, 1] 内")
    nbtools.build()
    assert any("unit c011: formulas differ from the English: missing ['$[0, 1]$'], extra []" in p
               for p in nbtools.problems())


def test_a_missing_unit_and_a_new_english_cell_are_reported_and_synced(repo):
    source = repo.solutions / f"{STEM}.py"
    units = tr.load_units(repo, source)
    path = tr.unit_file(repo, source)
    path.write_text(tr.format_units([u for u in units if u.key != "c009"], source.name), encoding="utf-8")
    assert any("no unit for English cell c009" in p for p in tr.problems(repo))
    path.write_text(tr.format_units(units, source.name), encoding="utf-8")

    _edit(source, "# %% [markdown]\n# ## 2. The path", "# %% [markdown]\n# A new paragraph.\n\n# %% [markdown]\n# ## 2. The path")
    found = tr.problems(repo)
    assert any("no unit for English cell c003" in p for p in found), found
    assert any("unit c003 translates cell c004 now" in p for p in found), found
    assert "1 missing" in tr.sync(repo, source)
    synced = tr.load_units(repo, source)
    assert [u.key for u in synced] == ["c000", "c002", "c003", "c004", "c006", "c008", "c010", "c012", "c015"]
    assert synced[2].english == "A new paragraph." and synced[2].chinese == ""
    assert synced[3].chinese == units[2].chinese  # translations move with their cells
    assert [p for p in tr.problems(repo) if "units/" in p] == [
        f"zh/units/{STEM}.md: unit c003 has no Chinese text yet (python tools/translations.py stale 00)"]


def test_unit_file_round_trip_and_malformed_files():
    text = (ROOT / "zh" / "units" / f"{STEM}.md").read_text(encoding="utf-8")
    units = tr.parse_units(text)
    assert tr.format_units(units, f"{STEM}.py") == text
    tricky = tr.Unit("c001", tr.sha12("a\n````\nb"), "a\n````\nb", "中文 `x`", ("stale",), "old ```` text")
    assert tr.parse_units(tr.format_units([tricky], "01_x.py")) == [tricky]
    with pytest.raises(ValueError, match="not closed"):
        tr.parse_units("<!-- unit c001 en:0123456789ab -->\n````en\nEnglish\n")
    with pytest.raises(ValueError, match="unknown flag"):
        tr.parse_units("<!-- unit c001 en:0123456789ab fuzzy -->\n````en\nEnglish\n````\n中文\n")
    with pytest.raises(ValueError, match="more than once"):
        one = "<!-- unit c001 en:0123456789ab -->\n````en\nEnglish\n````\n中文\n"
        tr.parse_units(one + one)


def test_what_must_stay_identical():
    english = "Mean $\\mu$ and $$x^2$$ of `f(x)`, see [next](01_x.ipynb).\n\n```bash\npip install x\n```"
    assert zh_units.unit_differences(english, "均值 $\\mu$ 与 $$x^2$$，即 `f(x)`，见[下一章](01_x.ipynb)。\n\n```bash\npip install x\n```") == []
    found = zh_units.unit_differences(english, "均值 $\\mu$ 与 $x^2$，见[下一章](02_y.ipynb)。\n\n```bash\npip install y\n```")
    assert any("formulas differ" in p for p in found)
    assert any("fenced code" in p for p in found)
    assert any("inline code" in p and "f(x)" in p for p in found)
    assert any("link targets differ" in p for p in found)
    assert zh_units.unit_differences("<!-- BEGIN SOLUTION -->a<!-- END SOLUTION -->", "答") != []
    assert zh_units.formulas("costs $5 and $6, `$x$` and $a_1$") == zh_units.formulas("$a_1$")
    quoted = "> reads\n> ```\n> A[数据输入] --> B{数据预处理}\n> ```"  # a fence inside an errata box
    assert zh_units.unit_differences(quoted, quoted.replace("reads", "原文")) == []
    assert any("fenced code" in p for p in zh_units.unit_differences(quoted, quoted.replace("B{", "C{")))


def test_bold_that_would_show_literally_in_chinese_is_reported():
    assert zh_units.unrendered_bold("第一课：**生成均值。**生成模型") != []
    assert zh_units.unrendered_bold("第一课：**生成均值**。生成模型") == []
    assert zh_units.unrendered_bold("| a | **联合**训练 |\n|---|---|\n| $x*y$ | `**` |") == []


def test_a_line_break_between_chinese_characters_is_reported():
    assert zh_units.cjk_line_breaks("核对 MD5 校验和，\n再存入缓存。") == ["核对 MD5 校验和，⏎再存入缓存。"]
    assert zh_units.cjk_line_breaks("核对校验和，再存入缓存。\n\n下一段。") == []
    assert zh_units.cjk_line_breaks("中文版在\n`zh/notebooks/`。| a |\n|---|\n| 表格 |") == []
    assert any("line break between Chinese" in p for p in zh_units.unit_differences("Two\nlines.", "两行\n文字。"))


def test_pending_list_and_unit_files_must_agree(repo):
    repo.pending_file.write_text("01\n", encoding="utf-8")
    shutil.copy(ROOT / "solutions" / "01_data_preprocessing.py", repo.solutions)
    assert tr.problems(repo) == [] or all("01" not in p for p in tr.problems(repo) if "pending" in p)
    repo.pending_file.write_text("# nothing pending\n", encoding="utf-8")
    assert any("chapter 01 has no Chinese translation" in p for p in tr.problems(repo))
    repo.pending_file.write_text("00\n01\n", encoding="utf-8")
    assert any("zh/pending.txt lists 00" in p for p in tr.problems(repo))


def test_links_to_untranslated_chapters_go_to_the_english_notebooks(repo):
    student = (repo.zh_student / f"{STEM}.py").read_text(encoding="utf-8")
    solution = (repo.zh_solutions / f"{STEM}.py").read_text(encoding="utf-8")
    assert "](../../notebooks/01_data_preprocessing.ipynb)" in student
    assert "](../../solutions/01_data_preprocessing.ipynb)" in solution
    assert tr._rewrite_links("[x](01_a.ipynb)", {"01"}, "notebooks") == "[x](01_a.ipynb)"


def test_student_notebook_gets_the_chinese_answer_placeholder():
    solution = "# %% [markdown]\n# 为什么？<!-- BEGIN SOLUTION -->\n# 因为。\n# <!-- END SOLUTION -->\n"
    assert tr.ANSWER_PLACEHOLDER in nbtools.make_student_source(solution, tr.ANSWER_PLACEHOLDER)
