"""Pure rendering helpers for the web UI: answer markdown with linked citations, source cards, the document view.

Every function takes plain data (rag's Answer / Source / Unit / PolicyDocument) and returns a string, so the
rendering is testable without Gradio. All document and answer text is HTML-escaped here; only our own markup
is emitted raw.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any, NamedTuple

from rag import Answer, Citation, PolicyDocument, Source, Unit, detect_language
from ui.i18n import notice_language, t

_TRAILING = "。．.！!？?；;：:，, \n\t"

# Section titles by section number: (Chinese, English), for the "section" line of a card.
SectionTitles = Mapping[int, tuple[str, str]]


class CitationTarget(NamedTuple):
    """Where a citation marker leads: the cited unit, the sentence to preview, and how the citation was made."""

    unit_id: str
    quote: str
    attributed: bool


def anchor_id(unit_id: str, prefix: str = "src") -> str:
    """The HTML id of a unit's card (`src-A8`) or of its place in the full text (`doc-A8`)."""
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_-]', '_', unit_id)}"


def doc_key(doc_id: str) -> str:
    """A short HTML-safe key for a document id (ids may be Chinese): names its panel in the Document tab."""
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:10]


# -- answer text ------------------------------------------------------------------------------------------

def card_id(turn: int, unit_id: str, *, inline: bool = False) -> str:
    """The HTML id of a unit's card for answer `turn`: `src-3-A8` in the sources panel, `msrc-3-A8` under the message."""
    return anchor_id(unit_id, f"{'msrc' if inline else 'src'}-{turn}")


def _is_attributed(citation: Citation) -> bool:
    return bool(getattr(citation, "attributed", False))  # set when the citation was added after the fact


def citation_targets(answer: Answer) -> dict[str, CitationTarget]:
    """Citation marker as written in the answer (`[第八条]` / `[Art. 8]`) → its unit, quoted sentence, and whether
    it was attributed after the fact (only when every citation with that marker was)."""
    by_marker: dict[str, list[Citation]] = {}
    for citation in answer.citations:
        by_marker.setdefault(f"[{citation.label}]", []).append(citation)
    targets: dict[str, CitationTarget] = {}
    for marker, cites in by_marker.items():
        quote = next((c.quote for c in cites if c.quote), "")
        targets[marker] = CitationTarget(cites[0].unit_id, quote, all(_is_attributed(c) for c in cites))
    for source in answer.sources:
        marker = f"[{source.unit.label(answer.language)}]"
        if marker not in targets:
            quotes = source.quotes_en if answer.language == "en" else source.quotes_zh
            targets[marker] = CitationTarget(source.unit.unit_id, quotes[0] if quotes else "", False)
    return targets


def link_citations(text: str, targets: Mapping[str, CitationTarget], turn: int = 0, lang: str = "bi") -> str:
    """Escape `text` and turn each known citation marker into a link to its card, with a preview of the quote."""
    if not targets:
        return escape(text, quote=False)
    pattern = re.compile("|".join(re.escape(m) for m in sorted(targets, key=len, reverse=True)))
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()], quote=False))
        target = targets[m.group(0)]
        cls = "pq-cite pq-attributed" if target.attributed else "pq-cite"
        note = f'<span class="pq-tip-note">{escape(t("attributed", lang))}</span>' if target.attributed else ""
        tip = (f'<span class="pq-tip" role="tooltip">{escape(target.quote, quote=False)}{note}</span>'
               if target.quote or note else "")
        out.append(f'<a class="{cls}" href="#{card_id(turn, target.unit_id)}">{escape(m.group(0), quote=False)}{tip}</a>')
        pos = m.end()
    out.append(escape(text[pos:], quote=False))
    return "".join(out)


def fallback_note(answer: Answer, ui_language: str = "bi") -> str:
    """The notice under an answer whose LLM failed: one language (the UI's, else the answer's)."""
    lang = notice_language(ui_language, answer.language)
    reason = next((w.split(";")[0].strip() for w in answer.warnings if "fallback" in w), "")
    if reason.startswith("LLM: "):
        reason = reason[5:]
    # The reason comes from rag in the answer's language; show it only when that is the notice's language.
    detail = f"（{reason}）" if lang == "zh" else f" ({reason})"
    keep = reason and detect_language(reason) == lang
    return f'<small class="pq-note">⚠ {escape(t("fallback", lang), quote=False)}{escape(detail, quote=False) if keep else ""}</small>'


def answer_markdown(answer: Answer, turn: int = 0, ui_language: str = "bi") -> str:
    """The answer text with linked citations, plus a note when the LLM fell back (no sources, no actions)."""
    body = link_citations(answer.text, citation_targets(answer), turn, notice_language(ui_language, answer.language))
    if answer.fallback:
        body += "\n\n" + fallback_note(answer, ui_language)
    return body


def message_html(answer: Answer, turn: int, markdown: str, ui_language: str = "bi",
                 sections: SectionTitles | None = None) -> str:
    """One finished assistant message: the linked answer, its own sources (collapsible; shown inline on narrow
    screens), a copy action whose payload is `markdown`, kept in a hidden element (the chat strips data-*)."""
    lang = notice_language(ui_language, answer.language)
    sources = ""
    if answer.sources:
        cards = "".join(source_card(s, answer.language, sections, turn=turn, inline=True, ui_language=ui_language)
                        for s in answer.sources)
        sources = (f'<details class="pq-msg-sources" id="pq-msrc-{turn}"><summary>{escape(t("sources", lang))} · '
                   f"{len(answer.sources)}</summary>{cards}</details>")
    body = answer_markdown(answer, turn, ui_language).replace("\n", "<br>")
    html = (f'<div class="pq-msg" id="pq-turn-{turn}"><div class="pq-answer">{body}</div>{sources}'
            f'<div class="pq-actions"><a class="pq-copy" href="#pq-turn-{turn}" role="button">{escape(t("copy", lang))}</a></div>'
            f'<pre class="pq-md">{escape(markdown, quote=False)}</pre></div>')
    # The chat renders Markdown: a blank line would end the HTML block, so no raw newline may remain.
    return html.replace("\n", "&#10;")


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


def source_card(source: Source, language: str, sections: SectionTitles | None = None, *, turn: int = 0,
                inline: bool = False, ui_language: str = "bi") -> str:
    """One cited unit: labels, titles, section, and the Chinese text beside the English one, quotes marked."""
    u = source.unit
    lang = notice_language(ui_language, language)
    title_en = u.title_en if u.title_en and u.title_en != u.title else ""
    return (
        f'<article class="pq-card pq-in-{doc_key(u.doc_id)}" id="{card_id(turn, u.unit_id, inline=inline)}">'
        f'<header class="pq-card-head">'
        f'<span class="pq-badge">{escape(u.label_zh)}</span><span class="pq-badge pq-badge-en">{escape(u.label_en)}</span>'
        f'<div class="pq-card-title" lang="zh">{escape(u.title)}</div>'
        + (f'<div class="pq-card-title-en" lang="en">{escape(title_en)}</div>' if title_en else "")
        + _section_line(u, sections)
        + "</header>"
        f'<div class="pq-cols">'
        f'<div class="pq-col pq-zh" lang="zh"><div class="pq-col-head">{escape(t("original", lang))}</div>'
        f'<div class="pq-text">{highlight(u.text, source.quotes_zh)}</div></div>'
        f'<div class="pq-col pq-en" lang="en"><div class="pq-col-head">{escape(t("translation", lang))}</div>'
        f'<div class="pq-text">{highlight(u.text_en, source.quotes_en) if u.text_en else "—"}</div></div>'
        "</div>"
        f'<a class="pq-context" href="#{anchor_id(u.unit_id, "doc")}">'
        f'{escape(t("read_in_context", lang))}</a>'
        "</article>"
    )


def sources_group(answer: Answer, turn: int, sections: SectionTitles | None = None, ui_language: str = "bi") -> str:
    """The sources of one answer in the side panel (the panel shows one group at a time)."""
    lang = notice_language(ui_language, answer.language)
    if not answer.sources:
        msg = t("refused" if answer.refused else "no_sources", lang)
        return f'<section class="pq-src-group" id="pq-grp-{turn}"><div class="pq-empty"><p>{escape(msg)}</p></div></section>'
    meta = [escape(t(f"backend_{answer.backend}", lang) if answer.backend in ("extractive", "openai") else answer.backend)]
    if total := sum(answer.timings.values()):
        meta.append(f"{total / 1000:.2f} s")
    question = answer.question if len(answer.question) <= 60 else answer.question[:59] + "…"
    cards = "".join(source_card(s, answer.language, sections, turn=turn, ui_language=ui_language) for s in answer.sources)
    return (f'<section class="pq-src-group" id="pq-grp-{turn}"><div class="pq-sources-head">'
            f"<span>{escape(t('sources', lang))} · {len(answer.sources)}</span>"
            f'<span class="pq-meta">{" · ".join(meta)}</span></div>'
            f'<div class="pq-src-question">{escape(question)}</div>{cards}</section>')


def sources_html(groups: Sequence[str] = (), ui_language: str = "bi") -> str:
    """The sources panel: every answer's group (the latest shown; a citation click shows its own), or the empty state."""
    if not groups:
        if ui_language in ("zh", "en"):
            text = f"<p>{escape(t('sources_empty', ui_language))}</p>"
        else:
            text = "".join(f"<p>{escape(t('sources_empty', lang))}</p>" for lang in ("zh", "en"))
        return f'<div class="pq-sources pq-empty">{text}</div>'
    *older, latest = groups
    latest = latest.replace('class="pq-src-group"', 'class="pq-src-group pq-current"', 1)
    return f'<div class="pq-sources">{"".join(older)}{latest}</div>'


def section_titles(documents: Sequence[PolicyDocument]) -> dict[int, tuple[str, str]]:
    """Section number → (Chinese title, English title), from the section units of the first document."""
    out: dict[int, tuple[str, str]] = {}
    for doc in documents[:1]:
        for u in doc.units:
            if u.kind == "section":
                out[u.number] = (f"{u.marker}{u.title}", u.title_en)
    return out


# -- the document tab -------------------------------------------------------------------------------------

def _toc(doc: PolicyDocument, ui_language: str = "bi") -> str:
    items: list[str] = []
    open_section = False
    for u in doc.units:
        link = (f'<a href="#{anchor_id(u.unit_id, "doc")}"><span class="pq-toc-label">{escape(u.marker or u.label_zh)}'
                f'</span> {escape(u.title if u.kind != "preamble" else t("preamble", "zh"))}'
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
    return f'<nav class="pq-toc"><div class="pq-toc-head">{escape(t("contents", ui_language))}</div><ol>{"".join(items)}</ol></nav>'


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(p.strip())}</p>" for p in re.split(r"\n+", text) if p.strip())


def document_html(doc: PolicyDocument, ui_language: str = "bi", *, hidden: bool = False) -> str:
    """Table of contents and the full text, Chinese beside English, each unit anchored as `doc-<unit id>`
    (unit ids repeat across documents: the page script looks them up inside the document's own panel)."""
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
        f'<div class="pq-doc" id="pq-doc-{doc_key(doc.doc_id)}"{" hidden" if hidden else ""}><header class="pq-doc-head"><h2 lang="zh">{escape(doc.title)}</h2>'
        + (f'<div class="pq-doc-title-en" lang="en">{escape(doc.title_en)}</div>' if doc.title_en else "")
        + f'<div class="pq-meta">{meta}</div></header>'
        f'<div class="pq-doc-body">{_toc(doc, ui_language)}<div class="pq-doc-text">{"".join(units)}</div></div></div>'
    )


def document_switcher(documents: Sequence[PolicyDocument], ui_language: str = "bi") -> str:
    """A select of the documents (only with more than one); the page script shows the chosen one."""
    if len(documents) < 2:
        return ""
    options = "".join(f'<option value="{doc_key(d.doc_id)}">{escape(d.title)}</option>' for d in documents)
    return f'<select id="pq-doc-switch" aria-label="{escape(t("document", ui_language))}">{options}</select>'


def document_toolbar(ui_language: str = "bi", documents: Sequence[PolicyDocument] = ()) -> str:
    """Back to the conversation, the document switcher, and a search box over the shown document's text."""
    return (f'<div class="pq-doc-tools" id="pq-doc-tools"><a class="pq-back" id="pq-back" href="#pq-chat">'
            f'← {escape(t("back_to_chat", ui_language))}</a>{document_switcher(documents, ui_language)}'
            f'<input type="search" id="pq-doc-search" aria-label="{escape(t("doc_search", ui_language))}" '
            f'placeholder="{escape(t("doc_search_placeholder", ui_language))}">'
            f'<span class="pq-doc-count" id="pq-doc-count" aria-live="polite"></span>'
            f'<span class="pq-doc-count-label" hidden>{escape(t("doc_matches", ui_language))}</span></div>')


def documents_html(documents: Sequence[PolicyDocument], ui_language: str = "bi") -> str:
    """The Document tab: toolbar, then each document with its table of contents."""
    if not documents:
        return f'<div class="pq-empty"><p>{escape(t("no_document", ui_language))}</p></div>'
    return document_toolbar(ui_language, documents) + "".join(
        document_html(d, ui_language, hidden=n > 0) for n, d in enumerate(documents))


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
