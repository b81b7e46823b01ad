"""The course book: both editions as one static site (Sphinx + MyST-NB), outputs included.

    python tools/book.py build                       # full budget: run what the cache lacks, then build
    python tools/book.py build --outputs fast --no-execute   # CI: outputs the test run just saved
    python tools/book.py execute [NN ...] [--mode fast|full]  # fill the execution cache
    python tools/book.py import RUN.ipynb ... [--mode full]   # a copy executed elsewhere (e.g. Colab GPU)
    python tools/book.py status                      # which chapters have current executed copies
    python tools/book.py links [DIR]                 # check every internal link of a built site

The site (``build/book/html``: ``en/``, ``zh/`` and a landing page) shows each chapter's
*solution* notebook with its outputs: code from today's notebook, outputs from the execution
cache (``tools/executed.py``) of the English solution, whose code cells the Chinese notebook
shares (checked cell by cell). A chapter not translated yet appears in the Chinese edition as
its English text under a notice, so every page exists in both editions and the language
switch at the top of each page leads to the same page in the other one. The glossary and the
references are pages too, built from ``aigc_course.course`` (``book/aigc_pages.py``).

Sphinx runs with ``-W --keep-going -n`` (any warning, a broken cross-reference included,
fails the build), then every ``href``/``src`` of the site is checked (files and anchors).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book"))
import executed  # noqa: E402
from aigc_pages import PENDING_NOTICE, glossary_page, index_page, references_page  # noqa: E402

ROOT = executed.ROOT
BUILD = ROOT / "build" / "book"
EDITIONS = ("en", "zh")
NOTES = {  # the outputs note at the top of a chapter page
    "en": {"fast": "Outputs: fast mode (small budgets, as in CI), commit {commit}",
           "full": "Outputs: full budget, code of commit {commit}, run {date}"},
    "zh": {"fast": "输出：快速模式（小预算，与 CI 相同），提交 {commit}",
           "full": "输出：完整预算，代码为提交 {commit}，运行于 {date}"},
}

class BookError(Exception):
    """An expected failure of the book build: one line for the command line."""


# ---------------------------------------------------------------- outputs


def chapter_sources() -> list[Path]:
    return sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def executed_copy(source: Path, mode: str, run_missing: bool, cache: Path):
    """(executed notebook, its mode) for a solution notebook, running it if allowed and needed."""
    copy = executed.current_copy(source, mode, cache)
    if copy is not None:
        return copy, mode
    if run_missing:
        print(f"executing {source.relative_to(ROOT)} ({mode} budget)...", flush=True)
        executed.execute(source, mode, cache)
        return executed.current_copy(source, mode, cache), mode
    if mode == "full":  # --no-execute: what the test run saved stands in, and says so
        copy = executed.current_copy(source, "fast", cache)
        if copy is not None:
            return copy, "fast"
    raise BookError(f"no current {mode}-mode outputs of {source.relative_to(ROOT)} in {cache} "
                    f"(run python tools/run_tests.py, or python tools/book.py execute {source.name[:2]} --mode {mode})")


def graft(notebook, run, name: str = "notebook") -> nbformat.NotebookNode:
    """``notebook``'s cells with the outputs of ``run``, whose code cells must be the same code."""
    result = nbformat.reads(nbformat.writes(notebook), as_version=4)  # a deep copy
    ours = [c for c in result.cells if c.cell_type == "code"]
    theirs = [c for c in run.cells if c.cell_type == "code"]
    if [c.source for c in ours] != [c.source for c in theirs]:
        raise BookError(f"{name}: the executed copy's code cells differ from the notebook's (python tools/notebooks.py "
                        f"build, then run it again)")
    widgets = run.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state")
    for cell, done in zip(ours, theirs):
        cell.outputs = [out for out in done.outputs if out.output_type != "error"]
        cell.execution_count = done.execution_count
        for out in cell.outputs:
            data = out.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data and not widgets:
                del data["application/vnd.jupyter.widget-view+json"]  # no widget state: its text form
    if widgets:
        result.metadata["widgets"] = run.metadata["widgets"]
    return result



def stage(outputs: str, run_missing: bool, cache: Path, out: Path) -> dict[str, Path]:
    """Write each edition's Sphinx sources under ``out/src/<edition>``; return those folders."""
    sources = chapter_sources()
    stems = {s.name[:2]: s.stem for s in sources}
    folders = {}
    runs = {}
    for source in sources:
        run, mode = executed_copy(source, outputs, run_missing, cache)
        runs[source.stem] = (run, mode, run.metadata.get("aigc_execution", {}))
    for edition in EDITIONS:
        folder = out / "src" / edition
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        notes = {}
        for source in sources:
            run, mode, meta = runs[source.stem]
            zh_source = ROOT / "zh" / "solutions" / source.name
            notebook = nbformat.read(zh_source if edition == "zh" and zh_source.exists() else source, as_version=4)
            page = graft(notebook, run, f"{edition}: {source.name}")
            if edition == "zh":
                for cell in page.cells:
                    if cell.cell_type == "markdown":
                        cell.source = re.sub(r"\]\(\.\./\.\./(?:notebooks|solutions)/(\d\d_\w+\.ipynb)", r"](\1",
                                             cell.source)
                if not zh_source.exists():
                    page.cells.insert(1, nbformat.v4.new_markdown_cell(PENDING_NOTICE))
            nbformat.write(page, folder / source.name)
            notes[source.stem] = NOTES[edition][mode].format(commit=meta.get("commit", "?"), date=meta.get("date", "?"))
        notes["*"] = ""  # pages without outputs (index, glossary, references) get no note
        (folder / "_outputs.json").write_text(json.dumps(notes, ensure_ascii=False, indent=1), encoding="utf-8")
        (folder / "index.md").write_text(index_page(edition, list(stems.values())), encoding="utf-8")
        (folder / "glossary.md").write_text(glossary_page(edition, stems), encoding="utf-8")
        (folder / "references.md").write_text(references_page(edition), encoding="utf-8")
        folders[edition] = folder
    return folders


LANDING = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>AIGC core techniques · 揭秘AIGC的核心技术</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.6">
<h1>AIGC core techniques · 揭秘AIGC的核心技术</h1>
<p><a href="en/index.html" hreflang="en">English edition</a> · <a href="zh/index.html" hreflang="zh-CN">中文版</a></p>
</body></html>
"""


def sphinx(edition: str, source: Path, out: Path, mathjax: Path | None) -> None:
    env = {**os.environ, "AIGC_BOOK_EDITION": edition, "PYTHONPATH": os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    if mathjax:
        env["AIGC_BOOK_MATHJAX"] = str(mathjax)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "-q",
               "-c", str(ROOT / "book"), "-d", str(out / "doctrees" / edition), str(source), str(out / "html" / edition)]
    print(f"==> sphinx ({edition}): {' '.join(command)}", flush=True)
    if subprocess.call(command, env=env) != 0:
        raise BookError(f"sphinx failed for the {edition} edition (warnings are errors; see above)")


def prepare_mathjax(folder: Path, out: Path) -> Path:
    """A local MathJax 3 (the npm package's es5/ folder): tex-chtml.js and its fonts, for offline reading."""
    script = folder / "tex-chtml.js"
    if not script.is_file():
        raise BookError(f"--mathjax: {script} not found (give the es5/ folder of MathJax 3)")
    static = out / "mathjax-static"  # Sphinx copies its content into _static/: _static/mathjax/...
    if static.exists():
        shutil.rmtree(static)
    target = static / "mathjax"
    (target / "output" / "chtml").mkdir(parents=True)
    shutil.copy2(script, target / "tex-chtml.js")
    shutil.copytree(folder / "output" / "chtml" / "fonts", target / "output" / "chtml" / "fonts")
    return static


# ---------------------------------------------------------------- internal links


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(name):
                self.ids.add(attrs[name])
        for name in ("href", "src"):
            if attrs.get(name):
                self.refs.append(attrs[name])


def broken_links(site: Path) -> list[str]:
    """Every internal href/src of the site's pages whose file or #anchor does not exist."""
    parsed: dict[Path, _Links] = {}

    def page(path: Path) -> _Links:
        if path not in parsed:
            links = _Links()
            links.feed(path.read_text(encoding="utf-8", errors="replace"))
            parsed[path] = links
        return parsed[path]

    broken = []
    for path in sorted(site.rglob("*.html")):
        if "_static" in path.relative_to(site).parts:
            continue  # the theme's template fragments, not pages
        for ref in page(path).refs:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or ref.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(site)}: {ref}"
            if not target.exists():
                broken.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in page(target).ids:
                broken.append(f"{where} (no anchor #{parts.fragment})")
    return broken


# ---------------------------------------------------------------- commands


def build(outputs: str, run_missing: bool, cache: Path, out: Path, mathjax: Path | None) -> Path:
    folders = stage(outputs, run_missing, cache, out)
    local_mathjax = prepare_mathjax(mathjax, out) if mathjax else None
    site = out / "html"
    for edition, folder in folders.items():
        sphinx(edition, folder, out, local_mathjax)
        shutil.rmtree(site / "jupyter_execute", ignore_errors=True)  # MyST-NB's scratch copies, beside en/ and zh/
    (site / "index.html").write_text(LANDING, encoding="utf-8")
    broken = broken_links(site)
    if broken:
        raise BookError(f"{len(broken)} broken internal link(s):\n  " + "\n  ".join(broken[:50]))
    return site


def status(cache: Path) -> str:
    lines = []
    for source in chapter_sources():
        states = []
        for mode in executed.MODES:
            path = executed.cache_path(source, mode, cache)
            if executed.current_copy(source, mode, cache) is not None:
                meta = nbformat.read(path, as_version=4).metadata["aigc_execution"]
                states.append(f"{mode}: current ({meta['commit']}, {meta['date']})")
            else:
                states.append(f"{mode}: {'stale (code changed)' if path.exists() else 'missing'}")
        lines.append(f"{source.stem:32s} " + "; ".join(states))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=executed.CACHE, help="execution cache (default build/executed)")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the site of both editions")
    b.add_argument("--outputs", choices=executed.MODES, default="full", help="budget of the outputs shown (full)")
    b.add_argument("--no-execute", action="store_true",
                   help="never run a notebook: use the cache (fast copies stand in for missing full ones)")
    b.add_argument("--out", type=Path, default=BUILD, help="output folder (default build/book)")
    b.add_argument("--mathjax", type=Path, help="a local MathJax 3 es5/ folder (offline reading; default: its CDN)")
    e = sub.add_parser("execute", help="run solution notebooks into the execution cache")
    e.add_argument("chapters", nargs="*", help="chapter numbers (default: every chapter without a current copy)")
    e.add_argument("--mode", choices=executed.MODES, default="full")
    e.add_argument("--force", action="store_true", help="run even when the cached copy is current")
    i = sub.add_parser("import", help="store notebooks executed elsewhere as cached copies (same code only)")
    i.add_argument("files", nargs="+", type=Path)
    i.add_argument("--mode", choices=executed.MODES, default="full")
    sub.add_parser("status", help="which chapters have current executed copies")
    links = sub.add_parser("links", help="check the internal links of a built site")
    links.add_argument("site", nargs="?", type=Path, default=BUILD / "html")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            site = build(args.outputs, not args.no_execute, args.cache, args.out, args.mathjax)
            print(f"book: {site / 'index.html'} (en/, zh/); internal links checked")
        elif args.command == "execute":
            for source in chapter_sources():
                if args.chapters and source.name[:2] not in args.chapters:
                    continue
                if args.force or executed.current_copy(source, args.mode, args.cache) is None:
                    print(f"executing {source.relative_to(ROOT)} ({args.mode} budget)...", flush=True)
                    print(f"  -> {executed.execute(source, args.mode, args.cache).relative_to(ROOT)}")
        elif args.command == "import":
            by_name = {s.name: s for s in chapter_sources()}
            for path in args.files:
                if path.name not in by_name:
                    raise BookError(f"{path}: not named like a solution notebook ({sorted(by_name)})")
                print(f"{path} -> {executed.import_copy(path, by_name[path.name], args.mode, args.cache)}")
        elif args.command == "status":
            print(status(args.cache))
        else:
            broken = broken_links(args.site)
            print("\n".join(broken) if broken else f"{args.site}: every internal link resolves")
            return 1 if broken else 0
    except (BookError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
