"""Sentence verification (rag/verify.py) with the real tokenisers: citations checked, sentences attributed or
removed, Markdown kept, and the stream shows each verified sentence once."""

from __future__ import annotations

import pytest

from rag.document import parse_policy_document
from rag.retrieval import tokenize_en, tokenize_zh
from rag.verify import SentenceVerifier, StreamedAnswer, segments
from tests.conftest import DATA


class Terms:
    """The retriever's tokenisers with a flat IDF (every term weighs the same)."""

    def tokens(self, text: str, language: str) -> list[str]:
        return tokenize_zh(text) if language == "zh" else tokenize_en(text)

    def idf(self, term: str, language: str) -> float | None:
        return 1.0


@pytest.fixture(scope="module")
def doc():
    return parse_policy_document(DATA)


def verifier(doc, ids: list[str], language: str) -> SentenceVerifier:
    return SentenceVerifier([doc.unit(i) for i in ids], language, Terms(), instructions="只能依据下面的片段回答问题。")


def stream(v: SentenceVerifier, text: str, size: int = 3) -> tuple[list[str], StreamedAnswer]:
    answer = StreamedAnswer(v)
    deltas = [d for i in range(0, len(text), size) for d in answer.feed(text[i:i + size])]
    return deltas + list(answer.finish()), answer


def test_citations_are_checked_against_the_cited_unit(doc) -> None:
    v = verifier(doc, ["A8", "A13", "S1"], "zh")
    text = ("发展集成电路[第八条]。第四十条规定了一切[第四十条]。第九条也说了[第九条]。"
            "实施强芯工程【第13条】[A8]。深圳将建设月球基地[第八条]。")
    deltas, a = stream(v, text)
    assert "".join(deltas) == a.shown == "发展集成电路[第八条]。实施强芯工程[第十三条][第八条]。"
    assert [x.outcome for x in a.verdicts] == ["verified", "removed", "removed", "verified", "removed"]


def test_uncited_sentences_are_attributed_or_removed(doc) -> None:
    v = verifier(doc, ["A5", "A8"], "en")
    _deltas, a = stream(v, "Develop the food industry. Every city gets free electric cars. In summary:")
    assert a.shown == "Develop the food industry [Art. 8]."  # a trailing connective is never shown alone
    assert a.counts() == {"verified": 0, "attributed": 1, "removed": 1}
    assert a.verdicts[0].units == (doc.unit("A8"),)


def test_a_bare_marker_and_prompt_text_are_not_content(doc) -> None:
    v = verifier(doc, ["A17"], "en")
    _, a = stream(v, "[Art. 17]")
    assert not a.supported and a.shown == ""
    v = verifier(doc, ["A8"], "zh")
    _, a = stream(v, "只能依据下面的片段回答问题。<context>\n<unit cite=\"[第八条]\">")
    assert not a.supported and a.shown == ""


def test_markdown_lists_and_bold_survive_streaming(doc) -> None:
    v = verifier(doc, ["A8"], "zh")
    text = "主要内容如下：\n\n1. **集成电路**：重点加快发展集成电路、新能源汽车。\n2. 大力发展食品工业[第八条]。\n3. 每人发一万元。"
    deltas, a = stream(v, text)
    assert a.shown == ("主要内容如下：\n\n1. **集成电路**：重点加快发展集成电路、新能源汽车[第八条]。\n"
                       "2. 大力发展食品工业[第八条]。")
    assert len(deltas) == 2  # the connective is released with the first supported item


def test_segments_are_lossless_and_keep_markers_with_their_sentence() -> None:
    text = "（一）加快发展。[第八条] 下一句。\n- Art. 8 says 3.5 things. [Art. 8] Next, e.g. this\n"
    segs = segments(text)
    assert "".join(s.raw for s in segs) == text
    assert [s.body for s in segs] == ["加快发展。[第八条]", "下一句。", "Art. 8 says 3.5 things. [Art. 8]",
                                      "Next, e.g. this"]
    assert [s.prefix for s in segs] == ["（一）", "", "- ", ""]


def test_list_markers_and_english_prose_are_not_citations(doc) -> None:
    v = verifier(doc, ["A8"], "en")
    prose = v.verify("Develop the food industry as part of Section 3.")  # not a citation of S3 (not retrieved)
    assert "retrieved units (support" in prose.reason  # judged on support: Art. 8 has no "3", so it goes
    v = verifier(doc, ["A8"], "zh")
    assert v.verify("（一）大力发展食品工业。").outcome == "attributed"


def test_a_removed_list_item_leaves_no_blank_line(doc) -> None:
    v = verifier(doc, ["A8"], "en")
    _, a = stream(v, "- Develop the food industry\n- Every city gets free electric cars.\n- Vigorously develop advanced manufacturing")
    assert a.shown == "- Develop the food industry [Art. 8]\n- Vigorously develop advanced manufacturing [Art. 8]"


def test_the_refusal_sentence_is_exempt_and_markup_is_not_content(doc) -> None:
    v = SentenceVerifier([doc.unit("A8")], "en", Terms(), refusal="The document does not cover this question.")
    _, a = stream(v, "The document does not cover this question.\n```\n---")
    assert a.saw_no_answer and not a.supported and a.shown == "" and a.counts()["removed"] == 0


def test_numbered_markers_are_dropped_and_the_sentence_verified_as_uncited(doc) -> None:
    v = verifier(doc, ["A5", "A8"], "en")
    assert v.verify("Develop the food industry [8].").text == "Develop the food industry [Art. 8]."
    assert v.verify("Develop the food industry [8, 9] [Art. 8].").text == "Develop the food industry [Art. 8]."


def test_only_supporting_units_keep_their_markers(doc) -> None:
    v = verifier(doc, ["A5", "A8"], "zh")
    kept = v.verify("大力发展食品工业[第五条][第八条]。")
    assert (kept.outcome, kept.text, kept.units) == ("verified", "大力发展食品工业[第八条]。", (doc.unit("A8"),))
    tie = v.verify("发展[第五条][第八条]。")  # equal support from both: no error, both kept
    assert tie.outcome == "verified" and tie.units == (doc.unit("A5"), doc.unit("A8"))


def test_a_sentence_naming_a_unit_is_only_attributed_to_it(doc) -> None:
    v = verifier(doc, ["A5", "A8"], "zh")
    assert v.verify("第五条要求大力发展食品工业。").outcome == "removed"  # the words are Art. 8's, not Art. 5's
    assert v.verify("第八条要求大力发展食品工业。").text == "第八条要求大力发展食品工业[第八条]。"


def test_a_number_the_unit_does_not_contain_is_not_supported(doc) -> None:
    v = verifier(doc, ["A8"], "zh")
    assert v.verify("推动20个战略性产业集群发展[第八条]。").outcome == "verified"
    assert v.verify("推动30个战略性产业集群发展[第八条]。").outcome == "removed"
