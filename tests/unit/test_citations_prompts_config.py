"""Citation checking, prompt templates, and settings precedence."""

from __future__ import annotations

import pytest

import prompts
from rag.chain import NO_ANSWER, format_context
from rag.citations import check_citations
from rag.document import parse_policy_document
from tests.conftest import DATA


@pytest.fixture(scope="module")
def doc():
    return parse_policy_document(DATA)


def test_unretrieved_and_nonexistent_citations_are_dropped(doc) -> None:
    retrieved = [doc.unit("A8"), doc.unit("A13"), doc.unit("S1")]
    text = "发展集成电路[第八条]。第四十条规定了一切[第四十条]。第九条也说了[第九条]。实施强芯工程【第13条】[A8]。没有出处的一句。"
    checked = check_citations(text, retrieved, "zh")
    assert checked.text == "发展集成电路[第八条]。实施强芯工程[第十三条][第八条]。没有出处的一句。"
    assert [u.unit_id for u in checked.cited] == ["A8", "A13"]
    assert checked.dropped == ["第四十条", "第九条"]
    assert checked.uncited_sentences == ["没有出处的一句。"]


def test_english_citation_forms_are_canonicalised(doc) -> None:
    checked = check_citations("Chips matter [A8]. See Article 40 [Art. 40]. Goals [Part I].",
                              [doc.unit("A8"), doc.unit("S1")], "en")
    assert checked.text == "Chips matter [Art. 8]. Goals [Part I]."
    assert [u.unit_id for u in checked.cited] == ["A8", "S1"]


def test_prompt_placeholders_match_what_the_code_supplies(doc) -> None:
    for lang in ("zh", "en"):
        assert prompts.placeholders(f"system_{lang}") == {"context", "no_answer"}
        context, _used = format_context([doc.unit("A8")], lang, 3000)
        rendered = prompts.render(f"system_{lang}", context=context, no_answer=NO_ANSWER)
        assert "[第八条]" in rendered if lang == "zh" else "[Art. 8]" in rendered
        assert prompts.load_prompt(f"refusal_{lang}")
    assert prompts.placeholders("condense") == {"history", "question"}
    with pytest.raises(KeyError, match="missing"):
        prompts.render("condense", history="")


def test_context_respects_the_token_budget(doc) -> None:
    units = list(doc.units)
    context, used = format_context(units, "zh", 600)
    assert 1 <= len(used) < len(units)
    from rag.chain import count_tokens

    assert count_tokens(context) <= 600 or len(used) == 1
