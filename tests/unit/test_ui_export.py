"""Pure UI rendering and export: Markdown copy, conversation Markdown/.docx, per-answer message HTML, one language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag import Answer, Citation, Source, parse_policy_document
from ui.export import answer_markdown_text, conversation_docx, conversation_markdown, references, turn_record
from ui.render import message_html, sources_group, sources_html

DATA = Path(__file__).resolve().parents[2] / "data" / "guangdong-high-quality-development-2023.zh.txt"
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class AttributedCitation(Citation):
    """A citation as the attribution step marks it (the field rag.Citation is gaining)."""

    attributed: bool = True


@pytest.fixture(scope="module")
def doc():
    return parse_policy_document(DATA)


def _answer(doc, *, attributed: bool = False, language: str = "zh") -> Answer:
    a8 = next(u for u in doc.units if u.unit_id == "A8")
    quote = "推动20个战略性产业集群发展，重点加快发展集成电路、新能源汽车、新型储能、海洋牧场等产业，新增若干个万亿元级产业集群。"
    kind = AttributedCitation if attributed else Citation
    label = a8.label(language)
    citation = kind(unit_id="A8", doc_id=a8.doc_id, label=label, title=a8.title, quote=quote)
    text = f"根据文件：\n重点加快发展集成电路、新能源汽车<产业>[{label}]。"
    return Answer(question="集成电路怎么发展？", text=text, language=language, backend="extractive",
                  citations=[citation, citation], sources=[Source(a8, quotes_zh=(quote,))])


def test_copy_markdown_has_text_citations_and_a_reference_list(doc) -> None:
    md = answer_markdown_text(turn_record(_answer(doc)))
    assert md.startswith("根据文件：\n重点加快发展集成电路、新能源汽车<产业>[第八条]。")
    assert "<a" not in md and "pq-cite" not in md
    assert "**参考条文**" in md
    assert "1. [第八条] 建设现代化产业集群：“推动20个战略性产业集群发展" in md
    assert md.count("[第八条] 建设") == 1  # the same citation twice is listed once
    assert "†" not in md


def test_attributed_citations_are_marked_in_copy_and_html(doc) -> None:
    answer = _answer(doc, attributed=True)
    record = turn_record(answer)
    assert record["citations"][0]["attributed"] is True
    assert "[第八条] † 建设现代化产业集群" in answer_markdown_text(record)
    html = message_html(answer, 2, answer_markdown_text(record), "zh")
    assert 'class="pq-cite pq-attributed" href="#src-2-A8"' in html
    plain = message_html(_answer(doc), 2, "", "zh")
    assert 'class="pq-cite" href="#src-2-A8"' in plain


def test_message_html_keeps_its_own_sources_and_no_raw_newline(doc) -> None:
    answer = _answer(doc)
    html = message_html(answer, 3, answer_markdown_text(turn_record(answer)), "bi")
    assert "\n" not in html  # a blank line would end the chat's HTML block
    assert 'id="pq-turn-3"' in html and 'id="pq-msrc-3"' in html and 'id="msrc-3-A8"' in html
    assert "&lt;产业&gt;" in html and "<产业>" not in html  # answer text is escaped
    assert '<span class="pq-tip" role="tooltip">推动20个战略性产业集群发展' in html  # hover preview of the quote
    assert '<pre class="pq-md">根据文件：&#10;' in html  # the copy payload, newlines encoded


def test_sources_panel_shows_the_latest_group_and_keeps_older_ones(doc) -> None:
    groups = [sources_group(_answer(doc), n) for n in (1, 2)]
    html = sources_html(groups)
    assert 'class="pq-src-group" id="pq-grp-1"' in html
    assert 'class="pq-src-group pq-current" id="pq-grp-2"' in html
    assert 'id="src-1-A8"' in html and 'id="src-2-A8"' in html


def test_english_ui_has_no_chinese_chrome(doc) -> None:
    answer = _answer(doc, language="en")
    html = message_html(answer, 1, "", "en")
    chrome = re.sub(r'<(div|span) class="pq-(text|tip|card-title|card-section|badge)"[^>]*>.*?</\1>', "", html)
    chrome = re.sub(r"<[^>]+>", " ", re.sub(r'<div class="pq-answer">.*?</div>', "", chrome))
    assert "Sources" in chrome and "Copy" in chrome and "Read in context" in chrome
    assert not CJK.search(sources_html((), "en"))
    assert "Chinese original" in html and "中文原文" not in html


def test_conversation_markdown_lists_document_article_and_text(doc) -> None:
    turns = [turn_record(_answer(doc)), turn_record(_answer(doc, language="en"))]
    md = conversation_markdown(turns, {doc.doc_id: doc.title}, "en")
    assert md.startswith("# Conversation export")
    assert "## 1. 集成电路怎么发展？" in md and "## 2. " in md
    assert f"1. 文件: {doc.title} — [第八条] 建设现代化产业集群" in md
    assert f"1. Document: {doc.title} — [Art. 8] 建设现代化产业集群" in md
    assert len(references(turns[0])) == 1


def test_docx_export_reads_back_with_its_citations(doc, tmp_path: Path) -> None:
    from docx import Document

    turns = [turn_record(_answer(doc)), turn_record(_answer(doc, attributed=True, language="en"))]
    path = conversation_docx(turns, tmp_path / "out" / "conv.docx", {doc.doc_id: doc.title}, "zh")
    read = Document(str(path))
    text = "\n".join(p.text for p in read.paragraphs)
    assert "对话导出" in text and "1. 集成电路怎么发展？" in text and "重点加快发展集成电路" in text
    assert len(read.tables) == 2
    rows = [[c.text for c in row.cells] for row in read.tables[0].rows]
    assert rows[0] == ["文件", "条文", "引文"]
    assert rows[1][0] == doc.title
    assert rows[1][1] == "[第八条] 建设现代化产业集群"
    assert rows[1][2].startswith("推动20个战略性产业集群发展")
    assert [c.text for c in read.tables[1].rows[1].cells][1] == "[Art. 8] 建设现代化产业集群 †"


def test_document_switcher_only_with_several_documents(doc) -> None:
    from rag.document import parse_policy_text
    from ui.render import doc_key, documents_html

    other = parse_policy_text(DATA.read_text(encoding="utf-8"), "other-doc")
    assert "pq-doc-switch" not in documents_html([doc])
    html = documents_html([doc, other], "en")
    assert html.count("<option ") == 2 and 'aria-label="Document"' in html
    assert f'id="pq-doc-{doc_key(doc.doc_id)}">' in html and f'id="pq-doc-{doc_key("other-doc")}" hidden>' in html
