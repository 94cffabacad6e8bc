"""Pure rendering helpers for the web UI: answer markdown with linked citations, source cards, the document view.

Every function takes plain data (rag's Answer / Source / Unit / PolicyDocument) and returns a string, so the
rendering is testable without Gradio. All document and answer text is HTML-escaped here; only our own markup
is emitted raw.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from rag import Answer, PolicyDocument, Source, Unit

_TRAILING = "。．.！!？?；;：:，, \n\t"

# Section titles by section number: (Chinese, English), for the "section" line of a card.
SectionTitles = Mapping[int, tuple[str, str]]


def anchor_id(unit_id: str, prefix: str = "src") -> str:
    """The HTML id of a unit's card (`src-A8`) or of its place in the full text (`doc-A8`)."""
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_-]', '_', unit_id)}"


# -- answer text ------------------------------------------------------------------------------------------

def citation_targets(answer: Answer) -> dict[str, str]:
    """Citation marker as written in the answer (`[第八条]` / `[Art. 8]`) → cited unit id."""
    targets: dict[str, str] = {}
    for source in answer.sources:
        targets[f"[{source.unit.label(answer.language)}]"] = source.unit.unit_id
    for citation in answer.citations:
        targets.setdefault(f"[{citation.label}]", citation.unit_id)
    return targets


def link_citations(text: str, targets: Mapping[str, str]) -> str:
    """Escape `text` for the chat's Markdown/HTML and turn each known citation marker into a link to its card."""
    if not targets:
        return escape(text, quote=False)
    pattern = re.compile("|".join(re.escape(m) for m in sorted(targets, key=len, reverse=True)))
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()], quote=False))
        unit_id = targets[m.group(0)]
        out.append(f'<a class="pq-cite" href="#{anchor_id(unit_id)}" title="{escape(unit_id)}">'
                   f"{escape(m.group(0), quote=False)}</a>")
        pos = m.end()
    out.append(escape(text[pos:], quote=False))
    return "".join(out)


def answer_markdown(answer: Answer) -> str:
    """The assistant message for a finished answer: linked citations, plus a note when the LLM fell back."""
    body = link_citations(answer.text, citation_targets(answer))
    if answer.fallback:
        note = "（语言模型不可用，以下为离线摘录式回答）" if answer.language == "zh" else \
            "(The language model was unavailable; this is the offline extractive answer.)"
        detail = "; ".join(w for w in answer.warnings if "fallback" in w)
        body += f"\n\n<small class=\"pq-note\">⚠ {escape(note, quote=False)}"
        body += f" {escape(detail, quote=False)}</small>" if detail else "</small>"
    return body


def error_markdown(message: str) -> str:
    """An error shown as an assistant message: readable, marked, never a traceback."""
    return f'<span class="pq-error">⚠ {escape(message, quote=False)}</span>'


# -- highlighting -----------------------------------------------------------------------------------------

def _find(text: str, quote: str) -> tuple[int, int] | None:
    """Where a quoted sentence sits in `text`: exact, else without its final punctuation."""
    quote = quote.strip()
    if not quote:
        return None
    for candidate in (quote, quote.rstrip(_TRAILING)):
        if candidate and (i := text.find(candidate)) >= 0:
            return i, i + len(candidate)
    return None


def highlight(text: str, quotes: Iterable[str]) -> str:
    """`text` HTML-escaped, with each quoted sentence wrapped in <mark> (overlaps merged)."""
    spans = sorted(s for q in quotes if (s := _find(text, q)))
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out.append(escape(text[pos:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


# -- source cards -----------------------------------------------------------------------------------------

def _section_line(unit: Unit, sections: SectionTitles | None) -> str:
    if unit.kind == "preamble" or not unit.section_number:
        return ""
    zh, en = (sections or {}).get(unit.section_number, (unit.section_title, ""))
    zh = zh or unit.section_title
    text = escape(zh) + (f' <span class="pq-en-inline">· {escape(en)}</span>' if en else "")
    return f'<div class="pq-card-section">{text}</div>'


def source_card(source: Source, language: str, sections: SectionTitles | None = None) -> str:
    """One cited unit: labels, titles, section, and the Chinese text beside the English one, quotes marked."""
    u = source.unit
    title_en = u.title_en if u.title_en and u.title_en != u.title else ""
    return (
        f'<article class="pq-card" id="{anchor_id(u.unit_id)}">'
        f'<header class="pq-card-head">'
        f'<span class="pq-badge">{escape(u.label_zh)}</span><span class="pq-badge pq-badge-en">{escape(u.label_en)}</span>'
        f'<div class="pq-card-title" lang="zh">{escape(u.title)}</div>'
        + (f'<div class="pq-card-title-en" lang="en">{escape(title_en)}</div>' if title_en else "")
        + _section_line(u, sections)
        + "</header>"
        f'<div class="pq-cols">'
        f'<div class="pq-col pq-zh" lang="zh"><div class="pq-col-head">中文原文</div>'
        f'<div class="pq-text">{highlight(u.text, source.quotes_zh)}</div></div>'
        f'<div class="pq-col pq-en" lang="en"><div class="pq-col-head">English translation</div>'
        f'<div class="pq-text">{highlight(u.text_en, source.quotes_en) if u.text_en else "—"}</div></div>'
        "</div>"
        f'<a class="pq-context" href="#{anchor_id(u.unit_id, "doc")}" data-doc-unit="{escape(u.unit_id)}">'
        f'{"在全文中查看 →" if language == "zh" else "Read in context →"}</a>'
        "</article>"
    )


def sources_html(answer: Answer | None, sections: SectionTitles | None = None) -> str:
    """The sources panel for the latest answer (or its empty state)."""
    if answer is None:
        return ('<div class="pq-sources pq-empty">'
                "<p>提问后，答案所引用的条文会显示在这里，引用句会高亮标出。</p>"
                "<p>The articles cited by the answer appear here, with the quoted sentences highlighted.</p></div>")
    zh = answer.language == "zh"
    if not answer.sources:
        msg = "本次回答没有引用任何条文。" if zh else "This answer cites no part of the document."
        if answer.refused:
            msg = "文件中没有找到与该问题相关的内容。" if zh else "The document does not cover this question."
        return f'<div class="pq-sources pq-empty"><p>{escape(msg)}</p></div>'
    head = f"引用来源 · {len(answer.sources)}" if zh else f"Sources · {len(answer.sources)}"
    meta = [f"backend: {answer.backend}"]
    if total := sum(answer.timings.values()):
        meta.append(f"{total / 1000:.2f} s")
    cards = "".join(source_card(s, answer.language, sections) for s in answer.sources)
    return (f'<div class="pq-sources"><div class="pq-sources-head"><span>{escape(head)}</span>'
            f'<span class="pq-meta">{escape(" · ".join(meta))}</span></div>{cards}</div>')


def section_titles(documents: Sequence[PolicyDocument]) -> dict[int, tuple[str, str]]:
    """Section number → (Chinese title, English title), from the section units of the first document."""
    out: dict[int, tuple[str, str]] = {}
    for doc in documents[:1]:
        for u in doc.units:
            if u.kind == "section":
                out[u.number] = (f"{u.marker}{u.title}", u.title_en)
    return out


# -- the document tab -------------------------------------------------------------------------------------

def _toc(doc: PolicyDocument) -> str:
    items: list[str] = []
    open_section = False
    for u in doc.units:
        link = (f'<a href="#{anchor_id(u.unit_id, "doc")}"><span class="pq-toc-label">{escape(u.marker or u.label_zh)}'
                f'</span> {escape(u.title if u.kind != "preamble" else "序言")}'
                f'<span class="pq-toc-en">{escape(u.title_en or u.label_en)}</span></a>')
        if u.kind == "article":
            items.append(f"<li>{link}</li>")
            continue
        if open_section:
            items.append("</ol></li>")
        items.append(f'<li class="pq-toc-section">{link}<ol class="pq-toc-articles">')
        open_section = True
    if open_section:
        items.append("</ol></li>")
    return f'<nav class="pq-toc"><div class="pq-toc-head">目录 · Contents</div><ol>{"".join(items)}</ol></nav>'


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(p.strip())}</p>" for p in re.split(r"\n+", text) if p.strip())


def document_html(doc: PolicyDocument) -> str:
    """Table of contents and the full text, Chinese beside English, each unit anchored as `doc-<unit id>`."""
    meta = " · ".join(escape(x) for x in (doc.date, doc.source) if x)
    units = []
    for u in doc.units:
        cls = f"pq-unit pq-unit-{u.kind}"
        units.append(
            f'<section class="{cls}" id="{anchor_id(u.unit_id, "doc")}">'
            f'<div class="pq-unit-label"><span class="pq-badge">{escape(u.label_zh)}</span>'
            f'<span class="pq-badge pq-badge-en">{escape(u.label_en)}</span></div>'
            f'<div class="pq-cols"><div class="pq-col pq-zh" lang="zh">{_paragraphs(u.text)}</div>'
            f'<div class="pq-col pq-en" lang="en">{_paragraphs(u.text_en) if u.text_en else "<p>—</p>"}</div></div>'
            "</section>"
        )
    return (
        f'<div class="pq-doc"><header class="pq-doc-head"><h2 lang="zh">{escape(doc.title)}</h2>'
        + (f'<div class="pq-doc-title-en" lang="en">{escape(doc.title_en)}</div>' if doc.title_en else "")
        + f'<div class="pq-meta">{meta}</div></header>'
        f'<div class="pq-doc-body">{_toc(doc)}<div class="pq-doc-text">{"".join(units)}</div></div></div>'
    )


def documents_html(documents: Sequence[PolicyDocument]) -> str:
    if not documents:
        return '<div class="pq-empty"><p>没有配置文件 / No document configured.</p></div>'
    return "".join(document_html(d) for d in documents)


# -- the API payload --------------------------------------------------------------------------------------

def answer_payload(answer: Answer) -> dict[str, Any]:
    """The JSON the `ask` endpoint returns."""
    return {
        "answer": answer.text,
        "language": answer.language,
        "citations": list(dict.fromkeys(c.unit_id for c in answer.citations)),
        "refused": answer.refused,
        "backend": answer.backend,
        "fallback": answer.fallback,
        "warnings": list(answer.warnings),
        "sources": [source_payload(s, answer.language) for s in answer.sources],
    }


def source_payload(source: Source, language: str) -> dict[str, Any]:
    u = source.unit
    return {"unit": u.unit_id, "label": u.label(language), "title": u.title, "title_en": u.title_en,
            "section": u.section_title, "text": u.text, "text_en": u.text_en,
            "quotes_zh": list(source.quotes_zh), "quotes_en": list(source.quotes_en)}
