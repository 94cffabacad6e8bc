"""Citations and references over several documents: labels that name the document, (document, unit) matching,
documents named in a question, and articles inserted by amendment (第十条之一 → A10-1)."""

from __future__ import annotations

from rag.citations import cite_label, marker, named_documents, units_cited
from rag.document import Unit
from rag.references import find_references


def _unit(doc_id: str, unit_id: str, title: str, title_en: str = "", number: int = 8) -> Unit:
    return Unit(doc_id=doc_id, unit_id=unit_id, kind="article", number=number, marker="第八条", section_number=1,
                section_title="", title="t", text="正文。", doc_title=title, doc_title_en=title_en)


IP = _unit("ip", "A30", "广东省知识产权保护条例", number=30)
IP8 = _unit("ip", "A8", "广东省知识产权保护条例")
GD8 = _unit("gd", "A8", "中共广东省委 广东省人民政府关于新时代广东高质量发展的若干意见",
            "Opinions on High-Quality Development of Guangdong")


def test_labels_name_the_document_only_when_asked() -> None:
    assert marker(IP, "zh") == "[第三十条]" and marker(IP, "en") == "[Art. 30]"
    assert marker(IP, "zh", named=True) == "[《广东省知识产权保护条例》第三十条]"
    assert cite_label(IP, "en", named=True) == "《广东省知识产权保护条例》, Art. 30"  # no translation: the title as is
    assert cite_label(GD8, "en", named=True) == "Opinions on High-Quality Development of Guangdong, Art. 8"
    assert cite_label(GD8, "zh", named=True) == "《新时代广东高质量发展的若干意见》第八条"  # a long title: its short form


def test_documents_named_in_a_question() -> None:
    units = [IP, GD8]
    assert named_documents("《广东省知识产权保护条例》第三十条", units) == ["ip"]
    assert named_documents("知识产权保护条例第三十条讲了什么", units) == ["ip"]
    assert named_documents("《关于新时代广东高质量发展的若干意见》第八条", units) == ["gd"]
    assert named_documents("Article 8 of the opinions on high-quality development of guangdong", units) == ["gd"]
    assert named_documents("第八条讲了什么", units) == []


def test_citations_resolve_on_document_and_unit() -> None:
    units = [IP8, GD8, IP]
    assert units_cited("[《广东省知识产权保护条例》第八条]", units) == ([IP8], [])
    assert units_cited("[Opinions on High-Quality Development of Guangdong, Art. 8]", units) == ([GD8], [])
    assert units_cited("[第八条]", units) == ([IP8, GD8], [])  # bare: each candidate (verification decides)
    assert units_cited("[《广东省知识产权保护条例》第九条]", units) == ([], ["第九条"])


def test_articles_inserted_by_amendment_are_references() -> None:
    for text in ("第十条之一讲了什么", "Art. 10-1", "[A10-1]", "Article 10-1"):
        assert [r.unit_id for r in find_references(text)] == ["A10-1"], text
    assert [r.unit_id for r in find_references("见第十条之一[第十条之一]", in_answer=True)] == ["A10-1"]
    inserted = Unit(doc_id="d", unit_id="A10-1", kind="article", number=10, marker="第十条之一", section_number=1,
                    section_title="", title="t", text="正文。")
    assert inserted.label_zh == "第十条之一" and inserted.label_en == "Art. 10-1"
    assert units_cited(f"[{inserted.label_zh}]", [inserted]) == ([inserted], [])
    assert find_references("第十条")[0].unit_id == "A10"
