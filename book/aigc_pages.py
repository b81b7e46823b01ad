"""The book's generated pages: each edition's index, the glossary and the references.

Written into the staged sources by ``tools/book.py`` (Markdown, read by MyST); the glossary and
the references come from ``aigc_course.course`` so that the book and chapters 00 and 06 never
disagree. Chapter numbers in the glossary link to the chapter pages.
"""

from __future__ import annotations

PENDING_NOTICE = ("> **本章尚未翻译**：中文版正在翻译这一章，下面暂时是英文原文。代码与输出和中文版完全相同；"
                  "术语的中文译名见[术语表](glossary.md)。")


def _chapter_links(spec: str, stems: dict[str, str]) -> str:
    numbers = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-")
            numbers += [f"{n:02d}" for n in range(int(lo), int(hi) + 1)]
        elif part:
            numbers.append(part)
    return ", ".join(f"[{n}]({stems[n]}.ipynb)" if n in stems else n for n in numbers)


def glossary_page(edition: str, stems: dict[str, str]) -> str:
    from aigc_course.course import GLOSSARY
    from aigc_course.course.glossary_zh import definition_zh

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    if edition == "zh":
        head = ["# 术语表 · Glossary", "",
                "原文 §1.4 的术语和缩略词，加上本课程补充的术语（来自 `aigc_course/course/glossary.py`，中文释义在 "
                "`glossary_zh.py`）。“中文”一列是全课程统一使用的译名；每条释义都经过本课程核实；最后一列链接到讲授该术语的章节。",
                "",
                "| 中文 | English | 缩写 | 释义 | 章节 |", "|---|---|---|---|---|"]
        rows = [f"| {cell(t.chinese)} | {cell(t.english)} | {cell(t.acronym)} | {cell(definition_zh(t))} | "
                f"{_chapter_links(t.chapter, stems)} |" for t in GLOSSARY]
    else:
        head = ["# Glossary · 术语表", "",
                "The article's §1.4 terms and acronyms with the terms the course adds "
                "(from `aigc_course/course/glossary.py`); each definition is one the course stands behind, and the "
                "last column links to the chapters that teach it.", "",
                "| English | 中文 | Acronym | Meaning | Chapters |", "|---|---|---|---|---|"]
        rows = [f"| {cell(t.english)} | {cell(t.chinese)} | {cell(t.acronym)} | {cell(t.definition)} | "
                f"{_chapter_links(t.chapter, stems)} |" for t in GLOSSARY]
    return "\n".join(head + rows) + "\n"


def references_page(edition: str) -> str:
    from aigc_course.course import KINDS, corrections_markdown, dropped_markdown, references_markdown

    zh = edition == "zh"
    kinds = {"paper": ("Papers", "论文"), "book": ("Books", "书籍"), "course": ("Courses", "课程"),
             "site": ("Sites and demos", "网站与演示"), "tool": ("Tools", "工具")}
    parts = ["# 参考资料 · References" if zh else "# References · 参考资料", "",
             ("原文 §7 的资源和 §10 的参考文献，每一条都已对照原始出处核实并更正（来自 "
              "`aigc_course/course/references.py`，第 06 章讲解）；条目保留英文书目格式。") if zh else
             ("The article's §7 resources and §10 references, each checked against a primary source and corrected "
              "(from `aigc_course/course/references.py`; chapter 06 discusses them)."), ""]
    for kind in KINDS:
        parts += [f"## {kinds[kind][1 if zh else 0]}", "", references_markdown(kind=kind), ""]
    parts += ["## 原文的错误与更正" if zh else "## What the article got wrong", "", corrections_markdown(), "",
              "## 无法核实、未予推荐" if zh else "## Not recommended: could not be verified", "", dropped_markdown(), ""]
    return "\n".join(parts)


def index_page(edition: str, stems: list[str]) -> str:
    chapters = "\n".join(stems)
    if edition == "zh":
        intro = ("# 揭秘AIGC的核心技术 · 动手课程（中文版）\n\n"
                 "一门用 Python 和 PyTorch 讲授人工智能生成内容（AIGC）核心技术的 Jupyter 课程：数据预处理、"
                 "生成对抗网络（GAN）、变分自编码器（VAE）和自注意力机制，最后是一个完整的 MNIST GAN 项目和可运行的应用。"
                 "本书展示每章的答案版笔记本及其运行输出（图表、打印出的测量值、样本网格），无需运行任何代码即可阅读。"
                 "要亲自运行，请按仓库 README 的“快速开始”操作，中文笔记本在 `zh/notebooks/`。\n\n"
                 "每页顶部的链接切换到另一种语言的同一页面。")
        captions = ("章节", "参考")
    else:
        intro = ("# AIGC core techniques · a hands-on course\n\n"
                 "A Jupyter course, in Python and PyTorch, on the core techniques of AI-generated content: data "
                 "preprocessing, generative adversarial networks (GAN), variational autoencoders (VAE) and "
                 "self-attention, ending with a complete MNIST GAN project and runnable applications. This book shows "
                 "each chapter's solution notebook with its outputs (figures, printed measurements, sample grids) "
                 "for reading without running anything. To run them, follow the README's quick start; the "
                 "student notebooks are in `notebooks/`.\n\n"
                 "The link at the top of every page opens the same page in the other language (中文版).")
        captions = ("Chapters", "Reference")
    return (f"{intro}\n\n```{{toctree}}\n:caption: {captions[0]}\n:maxdepth: 1\n\n{chapters}\n```\n\n"
            f"```{{toctree}}\n:caption: {captions[1]}\n:maxdepth: 1\n\nglossary\nreferences\n```\n")
