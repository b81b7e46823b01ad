"""Translation units of the Chinese edition: the file format, alignment, what must stay identical.

A unit file ``zh/units/NN_topic.md`` holds one unit per English Markdown cell::

    <!-- unit c005 en:3f2a9c1b7e4d -->
    ````en
    The English Markdown cell c005 as it was when translated (do not edit).
    ````
    The Chinese translation (edit this).

``c005`` is the cell's id in the generated notebooks; ``en:`` the first 12 hex digits of the
SHA-256 of that English. A unit ``sync`` flagged ``stale`` also holds an ````en-previous````
block: the English its Chinese still translates. See ``tools/translations.py`` for the commands
and the check, ``zh/README.md`` for the translator's guide.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from markdown_it import MarkdownIt  # a dependency of jupytext

_HEADER = ("<!-- 中文版 translation units for solutions/{name}: one unit per English Markdown cell.\n"
           "     Edit only the Chinese under each unit (see zh/README.md); `python tools/translations.py sync {nn}`\n"
           "     refreshes keys, hashes and the English copies. -->\n")
_MARKER = re.compile(r"^<!-- unit (c\d{3}) en:([0-9a-f]{12})((?: [a-z]+)*) -->[ \t]*$")
_FENCE_OPEN = re.compile(r"^(`{4,})(en|en-previous)[ \t]*$")
FLAGS = ("stale",)



@dataclass
class Unit:
    """One English Markdown cell and its Chinese translation."""

    key: str                 # "c005": the cell's id in the generated notebooks
    sha: str                 # sha12 of the English the Chinese translates
    english: str             # that English (a copy, for diffs)
    chinese: str = ""
    flags: tuple[str, ...] = ()
    previous: str = ""       # sync's en-previous block: the English before it changed



def sha12(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# ---------------------------------------------------------------- the unit file format


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(4, longest + 1)


def format_units(units: list[Unit], source_name: str) -> str:
    """The text of a unit file (the inverse of :func:`parse_units`)."""
    parts = [_HEADER.format(name=source_name, nn=source_name[:2])]
    for unit in units:
        flags = "".join(f" {flag}" for flag in unit.flags)
        block = [f"<!-- unit {unit.key} en:{unit.sha}{flags} -->"]
        if unit.previous:
            fence = _fence(unit.previous)
            block += [f"{fence}en-previous", unit.previous, fence]
        fence = _fence(unit.english)
        block += [f"{fence}en", unit.english, fence]
        if unit.chinese:
            block.append(unit.chinese)
        parts.append("\n" + "\n".join(block) + "\n")
    return "".join(parts)


def parse_units(text: str, where: str = "units") -> list[Unit]:
    """Units of a unit file; raises ValueError naming the file and line on a malformed one."""
    lines = text.split("\n")
    units: list[Unit] = []
    i = 0
    while i < len(lines) and not _MARKER.match(lines[i]):
        i += 1
    while i < len(lines):
        marker = _MARKER.match(lines[i])
        key, sha, flags = marker[1], marker[2], tuple(marker[3].split())
        unknown = [f for f in flags if f not in FLAGS]
        if unknown:
            raise ValueError(f"{where}:{i + 1}: unknown flag(s) {unknown} on unit {key} (allowed: {FLAGS})")
        i += 1
        blocks: dict[str, str] = {}
        while True:
            while i < len(lines) and not lines[i].strip():
                i += 1
            opened = _FENCE_OPEN.match(lines[i]) if i < len(lines) else None
            if not opened:
                break
            fence, name, start = opened[1], opened[2], i
            i += 1
            body = []
            while i < len(lines) and lines[i] != fence:
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise ValueError(f"{where}:{start + 1}: the {name} block of unit {key} is not closed by {fence}")
            blocks[name] = "\n".join(body)
            i += 1
        if "en" not in blocks:
            raise ValueError(f"{where}: unit {key} has no ````en block (the English it translates)")
        chinese = []
        while i < len(lines) and not _MARKER.match(lines[i]):
            chinese.append(lines[i])
            i += 1
        units.append(Unit(key, sha, blocks["en"], "\n".join(chinese).strip("\n"), flags,
                          blocks.get("en-previous", "")))
    keys = [u.key for u in units]
    duplicated = sorted(k for k, n in Counter(keys).items() if n > 1)
    if duplicated:
        raise ValueError(f"{where}: unit(s) {duplicated} appear more than once")
    return units


# ---------------------------------------------------------------- alignment


@dataclass
class Match:
    """An English cell (key, text) and the unit that translates it (None: missing)."""

    key: str
    english: str
    unit: Unit | None

    @property
    def state(self) -> str:
        """current, stale, empty (no Chinese yet) or missing."""
        if self.unit is None:
            return "missing"
        if self.unit.sha != sha12(self.english) or self.unit.flags or self.unit.previous:
            return "stale"
        return "current" if self.unit.chinese.strip() else "empty"


def align(cells: list[tuple[str, str]], units: list[Unit]) -> tuple[list[Match], list[Unit]]:
    """Pair English cells with units by content (hashes), then by position within changed runs.

    Returns one Match per English cell, and the units that translate no cell any more.
    """
    matcher = difflib.SequenceMatcher(a=[u.sha for u in units], b=[sha12(text) for _, text in cells],
                                      autojunk=False)
    matches: list[Match] = []
    orphans: list[Unit] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        olds, news = units[a0:a1], cells[b0:b1]
        for index, (key, text) in enumerate(news):
            matches.append(Match(key, text, olds[index] if index < len(olds) else None))
        orphans += olds[len(news):]
    return matches, orphans


# ---------------------------------------------------------------- what must stay identical

_FENCED = re.compile(r"^[ \t>]*(`{3,}|~{3,})[^\n]*\n.*?^[ \t>]*\1[ \t]*$", re.S | re.M)  # also in a > quote
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?![\s$])([^$\n]*?[^\s\\$])\$(?!\d)")
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<(https?://[^>\s]+)>")
_SOLUTION_MARKERS = ("<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->")


def _without_code(markdown: str) -> str:
    return _CODE_SPAN.sub(" ", _FENCED.sub(" ", markdown))


def formulas(markdown: str) -> Counter:
    """Every $...$ and $$...$$ with its delimiters (whitespace collapsed), outside code."""
    text = _without_code(markdown)
    display = ["$$" + " ".join(m.split()) + "$$" for m in _DISPLAY_MATH.findall(text)]
    inline = ["$" + " ".join(m.split()) + "$" for m in _INLINE_MATH.findall(_DISPLAY_MATH.sub(" ", text))]
    return Counter(display + inline)


def fenced_blocks(markdown: str) -> Counter:
    return Counter(m.group(0).strip() for m in _FENCED.finditer(markdown))


def code_spans(markdown: str) -> set[str]:
    return {m[2].strip() for m in _CODE_SPAN.finditer(_FENCED.sub(" ", markdown))}


def link_targets(markdown: str) -> set[str]:
    return {a or b for a, b in _LINK.findall(_without_code(markdown))}


def unrendered_bold(markdown: str) -> list[str]:
    """Lines whose ``**`` stays literal when rendered (CommonMark), e.g. ``**均值。**生成``.

    A closing ``**`` right after punctuation (。，：）) and right before a Chinese character is not
    a closing delimiter in CommonMark (Jupyter, GitHub, the book): put the punctuation outside.
    """
    text = _INLINE_MATH.sub("x", _DISPLAY_MATH.sub("x", _without_code(markdown)))
    literal = []
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        for child in token.children or []:
            if child.type == "text" and "**" in child.content:
                literal.append(child.content.strip())
    return literal


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def cjk_line_breaks(markdown: str) -> list[str]:
    """Lines broken between two Chinese characters inside a paragraph.

    A line break inside a paragraph renders as a space, which shows between Chinese characters
    (“校验和， 再存入”): write each Chinese paragraph on one line.
    """
    found = []
    text = _INLINE_MATH.sub("x", _DISPLAY_MATH.sub("x", _CODE_SPAN.sub("c", _FENCED.sub("\n", markdown))))
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        children = token.children or []
        for before, brk, after in zip(children, children[1:], children[2:]):
            if brk.type == "softbreak" and before.content and after.content and \
                    _CJK.match(before.content[-1]) and _CJK.match(after.content[0]):
                found.append(f"{before.content[-12:]}⏎{after.content[:12]}")
    return found


def unit_differences(english: str, chinese: str) -> list[str]:
    """What a translation changed that must stay identical (empty when nothing)."""
    found = []
    en, zh = formulas(english), formulas(chinese)
    if en != zh:
        lost, added = sorted((en - zh).elements()), sorted((zh - en).elements())
        found.append(f"formulas differ from the English: missing {lost}, extra {added}")
    if fenced_blocks(english) != fenced_blocks(chinese):
        found.append("fenced code blocks differ from the English (code stays verbatim)")
    lost_code = sorted(code_spans(english) - code_spans(chinese))
    if lost_code:
        found.append(f"inline code of the English missing: {lost_code}")
    if link_targets(english) != link_targets(chinese):
        found.append(f"link targets differ: English {sorted(link_targets(english))}, "
                     f"Chinese {sorted(link_targets(chinese))}")
    for line in unrendered_bold(chinese):
        found.append(f"'**' would show literally (move punctuation outside the bold): {line[:60]!r}")
    for place in cjk_line_breaks(chinese):
        found.append(f"a line break between Chinese characters shows as a space (one line per paragraph): {place!r}")
    for marker in _SOLUTION_MARKERS:
        if english.count(marker) != chinese.count(marker):
            found.append(f"'{marker}' appears {english.count(marker)}x in the English, {chinese.count(marker)}x here")
    return found
