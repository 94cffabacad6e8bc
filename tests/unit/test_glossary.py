"""English question words → the documents' Chinese words, from the CC-CEDICT file shipped by a pinned package."""

from __future__ import annotations

from rag.glossary import build, chinese_terms, glossed_phrases
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


def test_the_glossary_is_cached_by_what_it_is_made_of(tmp_path) -> None:
    first = build(VOCABULARY, tokenize_en, cache_dir=tmp_path, tokens_version="v1")
    files = list(tmp_path.glob("glossary-*.json"))
    assert len(files) == 1
    assert build(VOCABULARY, tokenize_en, cache_dir=tmp_path, tokens_version="v1") == first
    build(VOCABULARY | {"贷款"}, tokenize_en, cache_dir=tmp_path, tokens_version="v1")  # another vocabulary
    build(VOCABULARY, tokenize_en, cache_dir=tmp_path, tokens_version="v2")  # another stemmer
    assert len(list(tmp_path.glob("glossary-*.json"))) == 3
    files[0].write_text("{not json", encoding="utf-8")  # a damaged copy is rebuilt, not trusted
    assert build(VOCABULARY, tokenize_en, cache_dir=tmp_path, tokens_version="v1") == first


def test_an_unwritable_cache_dir_still_gives_the_glossary(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert build(VOCABULARY, tokenize_en, cache_dir=blocker / "sub") == build(VOCABULARY, tokenize_en)


def test_a_word_is_also_found_by_its_pinyin_unless_that_is_english_or_too_short() -> None:
    """English writing about China spells some terms in pinyin: "laozihao" is 老字号, "Hengqin" 横琴."""
    glossary = build({"老字号", "横琴", "长江", "保护", "大米"}, tokenize_en)
    assert "老字号" in chinese_terms(tokenize_en("laozihao"), glossary)
    assert "横琴" in chinese_terms(tokenize_en("Hengqin"), glossary)
    assert "大米" not in chinese_terms(tokenize_en("dami"), glossary)  # four letters: too short to be sure
    assert "嫦娥" not in chinese_terms(tokenize_en("a change"), build({"嫦娥"}, tokenize_en))  # chang'e: English


def test_a_phrase_is_glossed_whole_before_its_words() -> None:
    glossary = build({"知识产权", "知识", "财产", "工作日", "工作"}, tokenize_en)
    assert glossed_phrases(tokenize_en("intellectual property within five working days"), glossary) == [
        ["知识产权"], ["工作日"]]
