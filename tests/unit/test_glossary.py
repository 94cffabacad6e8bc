"""English question words → the documents' Chinese words, from the CC-CEDICT file shipped by a pinned package."""

from __future__ import annotations

from rag.glossary import build, chinese_terms
from rag.retrieval import tokenize_en

VOCABULARY = {"投诉", "工作日", "企业", "受理", "知识产权", "银", "天气预报"}


def test_english_words_find_the_chinese_words_the_documents_use() -> None:
    g = build(VOCABULARY, tokenize_en)
    terms = chinese_terms(tokenize_en("How many working days does the complaint office have?"), g)
    assert "工作日" in terms and "投诉" in terms
    assert "企业" in chinese_terms(tokenize_en("companies"), g)
    assert "知识产权" in chinese_terms(tokenize_en("intellectual property"), g)


def test_only_words_of_the_vocabulary_and_never_single_characters() -> None:
    g = build(VOCABULARY, tokenize_en)
    assert all(w in VOCABULARY and len(w) >= 2 for words in g.values() for w in words)
    assert "银" not in chinese_terms(tokenize_en("silver"), g)
    assert chinese_terms(tokenize_en("pancake recipe"), g) == []
