"""Taking answers out of the UI: a turn as plain data, Markdown for copy and export, and a Word (.docx) export.

Pure functions over plain dicts (what the UI keeps in its session state), so they are testable without Gradio.
Citations stay as text (`[第八条]`); each answer ends with its reference list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rag import Answer
from ui.i18n import t

Turn = Mapping[str, Any]


def turn_record(answer: Answer, *, chat_start: int = 0) -> dict[str, Any]:
    """One finished exchange as plain data: what the session keeps, exports and sends with feedback."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "language": answer.language,
        "backend": answer.backend,
        "refused": answer.refused,
        "fallback": answer.fallback,
        "citations": [{**c.to_dict(), "attributed": bool(getattr(c, "attributed", False))} for c in answer.citations],
        "chat_start": chat_start,  # index of the question in the chat's messages
    }


def references(turn: Turn) -> list[dict[str, Any]]:
    """The turn's citations, one per (unit, quoted sentence), in order of first use."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for c in turn.get("citations") or []:
        key = (str(c.get("doc_id", "")), str(c.get("unit_id", "")), str(c.get("quote", "")))
        if key not in seen:
            seen.add(key)
            out.append(dict(c))
    return out


def _lang(turn: Turn) -> str:
    return "en" if turn.get("language") == "en" else "zh"


def _reference_line(c: Mapping[str, Any], lang: str) -> str:
    quote = str(c.get("quote") or "").strip()
    quoted = (f"：“{quote}”" if lang == "zh" else f': "{quote}"') if quote else ""
    title = str(c.get("title") or "")
    mark = " †" if c.get("attributed") else ""
    return f"[{c.get('label', '')}]{mark} {title}{quoted}".strip()


def answer_markdown_text(turn: Turn) -> str:
    """What "copy" yields: the answer with its citation markers as text, then a numbered reference list."""
    lang = _lang(turn)
    lines = [str(turn.get("answer") or "").strip()]
    refs = references(turn)
    if refs:
        lines += ["", f"**{t('references', lang)}**", ""]
        lines += [f"{i}. {_reference_line(c, lang)}" for i, c in enumerate(refs, 1)]
        if any(c.get("attributed") for c in refs):
            lines += ["", "† " + t("attributed", lang)]
    return "\n".join(lines) + "\n"


def _doc_title(c: Mapping[str, Any], doc_titles: Mapping[str, str]) -> str:
    return doc_titles.get(str(c.get("doc_id", "")), str(c.get("doc_id", "")))


def conversation_markdown(turns: Sequence[Turn], doc_titles: Mapping[str, str] | None = None,
                          ui_language: str = "bi") -> str:
    """The whole conversation as Markdown: each question and answer, then its citations (document, article, text)."""
    doc_titles = doc_titles or {}
    lines = [f"# {t('export_title', ui_language)}", ""]
    for n, turn in enumerate(turns, 1):
        lang = _lang(turn)
        lines += [f"## {n}. {turn.get('question', '')}", "", str(turn.get("answer") or "").strip(), ""]
        lines += [f"*{t('backend', lang)}: {turn.get('backend', '')}*", ""]
        refs = references(turn)
        if refs:
            lines += [f"**{t('references', lang)}**", ""]
            for i, c in enumerate(refs, 1):
                doc = _doc_title(c, doc_titles)
                lines.append(f"{i}. {t('document', lang)}: {doc} — {_reference_line(c, lang)}")
            lines.append("")
    return "\n".join(lines)


def conversation_docx(turns: Sequence[Turn], path: Path, doc_titles: Mapping[str, str] | None = None,
                      ui_language: str = "bi") -> Path:
    """Write the conversation as a Word document: questions as headings, answers, a citation table per answer."""
    from docx import Document  # python-docx, imported here: only export needs it

    doc_titles = doc_titles or {}
    document = Document()
    document.add_heading(t("export_title", ui_language), level=0)
    for n, turn in enumerate(turns, 1):
        lang = _lang(turn)
        document.add_heading(f"{n}. {turn.get('question', '')}", level=1)
        for para in str(turn.get("answer") or "").strip().split("\n"):
            if para.strip():
                document.add_paragraph(para.strip())
        document.add_paragraph().add_run(f"{t('backend', lang)}: {turn.get('backend', '')}").italic = True
        refs = references(turn)
        if not refs:
            continue
        document.add_heading(t("references", lang), level=2)
        table = document.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, key in zip(table.rows[0].cells, ("document", "article", "quote"), strict=True):
            cell.text = t(key, lang)
        for c in refs:
            row = table.add_row().cells
            row[0].text = _doc_title(c, doc_titles)
            row[1].text = f"[{c.get('label', '')}] {c.get('title', '')}" + (" †" if c.get("attributed") else "")
            row[2].text = str(c.get("quote") or "")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path
