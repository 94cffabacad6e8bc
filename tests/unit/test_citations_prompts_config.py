"""Prompt templates, context formatting and settings precedence (citation checking: test_verify.py)."""

from __future__ import annotations

import pytest

import prompts
from rag.chain import NO_ANSWER, format_context
from rag.config import load_settings
from rag.document import parse_policy_document
from tests.conftest import DATA


@pytest.fixture(scope="module")
def doc():
    return parse_policy_document(DATA)


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


def test_context_is_in_the_answer_language_only(doc) -> None:
    import dataclasses
    import re

    en, _ = format_context([doc.unit("A8"), doc.unit("S1")], "en", 3000)
    zh, _ = format_context([doc.unit("A8"), doc.unit("S1")], "zh", 3000)
    assert not re.search(r"[\u4e00-\u9fff]", en) and "[Art. 8]" in en and "Build modern industrial clusters" in en
    assert doc.unit("A8").text in zh and "Build modern" not in zh
    untranslated, _ = format_context([dataclasses.replace(doc.unit("A8"), text_en="")], "en", 3000)
    assert doc.unit("A8").text in untranslated and "no English translation" in untranslated


def test_the_other_language_on_request(doc) -> None:
    from rag.chain import count_tokens

    one, _ = format_context([doc.unit("A8")], "en", 3000)
    both, _ = format_context([doc.unit("A8")], "en", 3000, both=True)
    assert doc.unit("A8").text_en in both and doc.unit("A8").text in both and doc.unit("A8").text not in one
    assert count_tokens(both) > 1.5 * count_tokens(one)
    assert load_settings(env={"POLICYQA_CONTEXT_LANGUAGES": "both"}).context_languages == "both"


def test_context_respects_the_token_budget(doc) -> None:
    units = list(doc.units)
    context, used = format_context(units, "zh", 600)
    assert 1 <= len(used) < len(units)
    from rag.chain import count_tokens

    assert count_tokens(context) <= 600 or len(used) == 1
