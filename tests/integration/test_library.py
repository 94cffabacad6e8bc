"""A library of several documents: citations name the document, (document, unit) matching, scope, per-document
lookups, English over Chinese-only documents, and `policyqa translate` against the local OpenAI-compatible server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_stub import Dynamic, FakeOpenAI, Reply

import rag
from rag import InputError, ingest, load_settings
from rag.citations import units_cited
from rag.verify import SentenceVerifier

ROOT = Path(__file__).resolve().parents[2]
FEATURED = ROOT / "data" / "guangdong-high-quality-development-2023.zh.txt"
LIB = ROOT / "data" / "library"
IP = "guang-dong-sheng-zhi-shi-chan-quan-bao-hu-tiao-li-2022-03-29"
FI = "guang-dong-sheng-wai-shang-tou-zi-quan-yi-bao-hu-tiao-li-2022-01-16"
YOUTH = "guang-zhou-shi-qing-nian-chuang-xin-chuang-ye-cu-jin-tiao-li-2023-01-19"
GD = "guangdong-high-quality-development-2023"
FILES = (FEATURED, *(p for p in sorted(LIB.glob("*.md")) if any(k in p.name for k in ("知识产权", "外商", "青年"))))


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> rag.Settings:
    """The featured document and three regulations in one store."""
    settings = load_settings(env={}, store_dir=tmp_path_factory.mktemp("library"), data_files=FILES,
                             backend="extractive")
    ingest(settings, progress=False)
    rag.reset()
    return settings


def test_a_named_article_of_one_document_is_cited_with_its_title(library: rag.Settings) -> None:
    ans = rag.answer("知识产权保护条例第三十条规定了什么？", settings=library)
    assert "[《广东省知识产权保护条例》第三十条]" in ans.text and not ans.refused
    assert {(c.doc_id, c.unit_id) for c in ans.citations} == {(IP, "A30")}
    out = ans.to_dict()
    assert out["cited"] == [{"unit": "A30", "doc_id": IP, "doc_title": "广东省知识产权保护条例"}]
    assert len(out["documents"]) == 4 and out["retrieved_docs"] == [IP]
    hit = rag.search("《广东省外商投资权益保护条例》第十二条", settings=library)
    assert [(r.unit.doc_id, r.unit.unit_id) for r in hit.results] == [(FI, "A12")]
    assert hit.results[0].to_dict("zh", hit.named)["label"] == "《广东省外商投资权益保护条例》第十二条"


def test_a_single_document_in_scope_cites_as_before(library: rag.Settings) -> None:
    ans = rag.answer("第八条讲了什么？", settings=library, documents=[GD])
    assert "[第八条]" in ans.text and "《" not in ans.text and ans.documents == [GD]
    assert {c.label for c in ans.citations} == {"第八条"}


def test_a_bare_article_over_several_documents_is_never_silently_one_of_them(library: rag.Settings) -> None:
    ans = rag.answer("第八条讲了什么？", settings=library)  # four documents have an article 8: ask which one
    assert ans.citations == [] and "4 份文件都有第八条" in ans.text
    assert all(t in ans.text for t in ("《广东省知识产权保护条例》", "《广东省外商投资权益保护条例》"))
    two = rag.answer("What does Article 8 say?", settings=library, documents=[IP, FI])  # two: answered per document
    assert {c.doc_id for c in two.citations} == {IP, FI}
    assert "[《广东省知识产权保护条例》, Art. 8]" in two.text and "[《广东省外商投资权益保护条例》, Art. 8]" in two.text


def test_english_names_an_untranslated_document_and_the_answer_says_it_quotes_chinese(library: rag.Settings) -> None:
    ans = rag.answer("What does Article 30 of the intellectual property protection regulations say?", settings=library)
    assert {(c.doc_id, c.unit_id) for c in ans.citations} == {(IP, "A30")}
    assert "no English translation" in ans.text and "电子商务平台经营者" in ans.text
    translated = rag.answer("What does Article 8 of the Opinions on High-Quality Development of Guangdong say?",
                            settings=library)
    assert {(c.doc_id, c.unit_id) for c in translated.citations} == {(GD, "A8")}
    assert "[Opinions on High-Quality Development of Guangdong, Art. 8]" in translated.text


def test_an_english_phrase_names_the_regulation_whose_chinese_title_holds_its_words(library: rag.Settings) -> None:
    """"IP protection regulation" and "foreign investment protection rules" embed alike ("…protection…"); the
    title that holds the phrase's words in Chinese (知识产权 保护 条例) tells them apart."""
    retriever = rag.get_retriever(library)
    scope = retriever.document_ids()
    assert retriever.named_documents("Under Guangdong's IP protection regulation, what must trade fair organisers do?",
                                     "en", scope) == (IP,)
    assert retriever.named_documents("Under the foreign investment protection rules, can a company complain?",
                                     "en", scope) == (FI,)
    assert retriever.named_documents("Under the protection regulations, what is required?", "en", scope) == ()


def test_a_place_spelled_in_pinyin_names_its_regulation_unless_the_question_names_the_plan(
        library: rag.Settings) -> None:
    retriever = rag.get_retriever(library)
    scope = retriever.document_ids()
    assert retriever.named_documents("How does Guangzhou support young founders?", "en", scope) == (YOUTH,)
    assert retriever.named_documents("What role does Guangzhou play in the plan?", "en", scope) == ()
    outcome = retriever.search("What role does Guangzhou play in the plan?", "en", 5)
    assert (outcome.results[0].unit.doc_id, outcome.results[0].unit.unit_id) == (GD, "A4")


def test_unknown_document_id_is_an_input_error(library: rag.Settings) -> None:
    with pytest.raises(InputError, match="no such document: nope"):
        rag.search("第八条", settings=library, documents=["nope"])


def test_citations_match_on_document_and_unit(library: rag.Settings) -> None:
    retriever = rag.get_retriever(library)
    a8 = [u for (_doc, uid), u in retriever.units.items() if uid == "A8"]
    assert len({u.doc_id for u in a8}) == 4
    got, missing = units_cited("[《广东省知识产权保护条例》第八条]", a8)
    assert [u.doc_id for u in got] == [IP] and missing == []
    got, _ = units_cited("[第八条]", a8)  # bare: every candidate; verification keeps the supporting one
    assert len(got) == 4
    ip8 = next(u for u in a8 if u.doc_id == IP)
    verifier = SentenceVerifier(a8, "zh", retriever, named=True)
    v = verifier.verify(f"对作出突出贡献的集体和个人给予表彰奖励[第八条]。{ip8.text[:0]}")
    assert v.outcome == "verified" and v.units == (ip8,) and "[《广东省知识产权保护条例》第八条]" in v.text


def test_the_llm_answer_cites_with_document_titles(library: rag.Settings) -> None:
    def reply(body: dict) -> Reply:
        system = body["messages"][0]["content"]
        cite, text = re.search(r'cite="(\[[^"]+\])"[^>]*>\n([^；。\n]+)', system).groups()  # type: ignore[union-attr]
        return Reply(f"{text}{cite}。")

    with FakeOpenAI() as server:
        server.default = Dynamic(reply)
        s = library.with_overrides(backend="openai", openai_base_url=server.base_url, openai_api_key="k",
                                   llm_max_retries=0, llm_timeout=10.0)
        ans = rag.answer("电子商务平台经营者应当建立什么知识产权投诉机制？", settings=s)
    assert ans.backend == "openai" and not ans.fallback, ans.fallback_reason
    assert "[《广东省知识产权保护条例》第三十条]" in ans.text
    assert [(c.doc_id, c.unit_id) for c in ans.citations] == [(IP, "A30")]


@pytest.fixture()
def translator() -> Iterator[FakeOpenAI]:
    """The local OpenAI-compatible server acting as a translator: one 'English' string per input sentence."""
    def reply(body: dict) -> Reply:
        items = json.loads(re.search(r"\[.*\]", body["messages"][-1]["content"], re.S).group(0))  # type: ignore[union-attr]
        return Reply(json.dumps([f"EN({len(x)}) sentence." for x in items]))

    with FakeOpenAI() as server:
        server.default = Dynamic(reply)
        yield server


def test_translate_writes_an_aligned_translation_and_reindexes_it(tmp_path: Path, translator: FakeOpenAI) -> None:
    youth = next(p for p in FILES if "青年" in p.name)
    settings = load_settings(env={}, store_dir=tmp_path / "chroma", data_files=(youth,), backend="openai",
                             openai_base_url=translator.base_url, openai_api_key="k", llm_max_retries=0)
    ingest(settings, progress=False)
    from rag.cli import cmd_translate
    from rag.document import parse_policy_document
    from rag.text import split_sentences

    class Args:
        doc_id, quiet = YOUTH, True

    assert cmd_translate(Args(), settings) == 0  # type: ignore[arg-type]
    cached = settings.translations_dir / f"{YOUTH}.en.json"
    data = json.loads(cached.read_text(encoding="utf-8"))
    doc = parse_policy_document(youth)
    assert set(data) >= {"doc_title", "short_title", "units"} and set(data["units"]) == {u.unit_id for u in doc.units}
    a20 = doc.unit("A20")
    assert a20 is not None
    assert len(split_sentences(data["units"]["A20"]["text"], "en")) == len(split_sentences(a20.text, "zh"))
    rag.reset()
    hit = rag.search("Article 20", settings=settings)
    assert hit.results[0].unit.text_en.startswith("EN(")  # the store's English view is the translation now
    again = parse_policy_document(youth, translations=settings.translations_dir)
    assert again.has_translation and again.sha256 != doc.sha256  # re-ingest sees a changed document once
    ingest(settings, progress=False)  # a later ingest reads the cached translation: the English view stays
    rag.reset()
    assert rag.search("Article 20", settings=settings).results[0].unit.text_en.startswith("EN(")
    translator.requests.clear()
    with pytest.raises(InputError, match="no such document"):
        cmd_translate(type("A", (), {"doc_id": "nope", "quiet": True})(), settings)  # type: ignore[arg-type]
    assert not translator.requests  # nothing asked of the LLM for a bad id


def test_a_follow_up_stays_in_the_document_the_last_answer_cited(library: rag.Settings) -> None:
    first = rag.answer("知识产权保护条例第三十条规定了什么？", settings=library)
    history = [{"role": "user", "content": "知识产权保护条例第三十条规定了什么？"},
               {"role": "assistant", "content": first.text}]
    follow = rag.answer("这一条还说了什么？", history=history, settings=library)
    assert "广东省知识产权保护条例" in follow.standalone_question
    assert {(c.doc_id, c.unit_id) for c in follow.citations} == {(IP, "A30")}


def test_a_follow_up_naming_a_document_by_its_kind_alone_is_asked_over_the_cited_one(library: rag.Settings) -> None:
    """Rule 5 of rag.conversation: 条例 alone, after an answer from the foreign investment regulation, is that one,
    not the IP regulation whose trade-secret articles a search of every document finds first."""
    first_q = "外商投资企业被政府部门侵犯权益，可以去哪里投诉？"
    first = rag.answer(first_q, settings=library)
    assert first.citations and first.citations[0].doc_id == FI, first.text
    history = [{"role": "user", "content": first_q}, {"role": "assistant", "content": first.text}]
    follow = rag.answer("还有个顾虑：我们报批的时候，政府部门会看到不少商业机密，条例有没有要求他们保密？",
                        history=history, settings=library)
    assert {(c.doc_id, c.unit_id) for c in follow.citations} == {(FI, "A11")}, follow.text


def test_it_in_a_follow_up_is_the_topic_when_the_cited_article_cannot_answer(library: rag.Settings) -> None:
    """"it" names the article the last answer cited — unless that article cannot answer and the conversation's
    topic can: here "it" is the complaint, and the time limits are in another article of the same regulation."""
    first_q = ("Under Guangdong's foreign investment protection rules, can a foreign-invested company complain about "
               "a government department that violated its rights?")
    first = rag.answer(first_q, settings=library)
    history = [{"role": "user", "content": first_q}, {"role": "assistant", "content": first.text}]
    follow = rag.answer("Once they've filed it, how quickly does the office have to decide whether to take it on, "
                        "and how long can handling take?", history=history, settings=library)
    assert not follow.refused, follow.text
    assert follow.citations and follow.citations[0].unit_id != first.citations[0].unit_id, follow.text
    assert all(c.doc_id == first.citations[0].doc_id for c in follow.citations), follow.text
    again = rag.answer("What else does it say?", history=history, settings=library)  # the article itself
    assert {(c.doc_id, c.unit_id) for c in again.citations} == {(first.citations[0].doc_id,
                                                                 first.citations[0].unit_id)}, again.text


def test_an_english_question_finds_a_chinese_only_regulation_over_a_weak_english_word_match(
        library: rag.Settings) -> None:
    """English BM25 sees only translated units; one shared word must not outrank the regulation that answers."""
    ans = rag.answer("How are outstanding young innovators and entrepreneurs selected and supported with funds "
                     "and space?", settings=library)
    assert (ans.citations[0].doc_id, ans.citations[0].unit_id) == (YOUTH, "A12"), ans.text


@pytest.mark.parametrize(("question", "unit"), [
    ("I'm a foreign engineer about to be hired by a foreign-invested company in Guangdong. Are the age or degree "
     "requirements relaxed for my work permit?", "A18"),
    ("We're a foreign-invested company in Guangdong. Can our Chinese employees sit on the expert panel that "
     "evaluates government procurement bids?", "A15"),
])
def test_a_place_or_name_in_an_english_question_does_not_pull_it_to_the_translated_document(
        library: rag.Settings, question: str, unit: str) -> None:
    """"Guangdong" is in every English text of the plan and in the Chinese text (广东) of the regulations; an English
    name is read in a Chinese-only unit by its Chinese name, or not judged there at all."""
    ans = rag.answer(question, settings=library)
    assert (ans.citations[0].doc_id, ans.citations[0].unit_id) == (FI, unit), ans.text


@pytest.mark.parametrize(("question", "doc", "unit"), [
    ("Under Guangdong rules, what must an online marketplace do when its sellers infringe patents or trademarks?",
     IP, "A30"),
    ("Our foreign-invested company applied for a government service and got bounced because one minor supporting "
     "document was missing. Under Guangdong's foreign investment protection regulation, shouldn't they have accepted "
     "it?", FI, "A20"),
])
def test_an_untranslated_units_chinese_view_stands_for_the_english_one_it_lacks(
        library: rag.Settings, question: str, doc: str, unit: str) -> None:
    """HybridRetriever._weight: e5's English view decides most of an English question's e5 score; a regulation
    with no translation has only its Chinese view, which then counts for both."""
    ans = rag.answer(question, settings=library)
    assert ans.citations and (ans.citations[0].doc_id, ans.citations[0].unit_id) == (doc, unit), ans.text


@pytest.mark.parametrize("question", ["知识产权保护条例里的服务与保障", "What are the legal liabilities under the IP regulation?"])
def test_a_chapter_with_no_text_of_its_own_is_never_a_search_answer(library: rag.Settings, question: str) -> None:
    """第六章 法律责任 is a heading only: a search for its title answers from its articles; a lookup still finds it."""
    ans = rag.answer(question, settings=library)
    assert ans.citations and not any(c.unit_id.startswith("S") for c in ans.citations), ans.text
    lookup = rag.answer("知识产权保护条例第六章讲了什么？", settings=library)
    assert [(c.doc_id, c.unit_id) for c in lookup.citations] == [(IP, "S6")], lookup.text


def test_an_organisation_named_by_its_usual_abbreviation_is_not_an_unknown_name(library: rag.Settings) -> None:
    ans = rag.answer("共青团在青年创新创业交流服务方面要做什么？", settings=library)  # 共产主义青年团委员会 in 第十七条
    assert not ans.refused, ans.text
    assert (YOUTH, "A17") in {(c.doc_id, c.unit_id) for c in ans.citations}, ans.text


def test_english_quantity_questions_over_an_untranslated_regulation_read_its_chinese_numbers(
        library: rag.Settings) -> None:
    """English words cannot be matched against Chinese-only text, so the quantity check reads the best unit's
    Chinese numbers: a duration (五个工作日内) counts; an amount of a thing it cannot name across languages does not."""
    from rag.extractive import check_answerable

    retriever = rag.get_retriever(library)
    for question, answerable in (
            ("How many working days does the complaint office have to decide whether to accept a foreign "
             "investor's complaint?", True),
            ("How much subsidy does the complaint office pay a foreign investor per complaint?", False)):
        outcome = retriever.search(question, "en", 5)
        verdict = check_answerable(question, outcome, retriever.for_outcome(outcome), "en")
        assert (verdict.reason != "no such quantity") is answerable, (question, verdict, outcome.results[0].unit.unit_id)


def test_translate_finds_a_stored_document_by_the_file_it_was_ingested_from(tmp_path: Path,
                                                                            translator: FakeOpenAI) -> None:
    """An upload is not configured: ingest records its file, so `policyqa translate` (and the UI) can find it."""
    upload = tmp_path / "uploads" / next(p for p in FILES if "青年" in p.name).name
    upload.parent.mkdir()
    upload.write_bytes(next(p for p in FILES if "青年" in p.name).read_bytes())
    settings = load_settings(env={}, store_dir=tmp_path / "chroma", data_files=(FEATURED,),
                             openai_base_url=translator.base_url, openai_api_key="k", llm_max_retries=0)
    ingest(settings, [upload], progress=False)
    from rag.cli import cmd_translate

    assert cmd_translate(type("A", (), {"doc_id": YOUTH, "quiet": True})(), settings) == 0  # type: ignore[arg-type]
    [row] = rag.stored_documents(settings)
    assert (row.doc_id, row.title, row.languages) == (YOUTH, "广州市青年创新创业促进条例", "zh,en")  # info kept
    upload.unlink()  # a stored document whose file is gone cannot be translated: said, not guessed
    translator.requests.clear()
    with pytest.raises(InputError, match=f"{YOUTH}: its file .* is gone"):
        cmd_translate(type("A", (), {"doc_id": YOUTH, "quiet": True})(), settings)  # type: ignore[arg-type]
    assert not translator.requests


def test_they_in_a_follow_up_are_the_actors_when_the_cited_article_is_not_about_it(library: rag.Settings) -> None:
    """"they" are the enforcement agencies and courts of the first answer, not its article: sharing case leads is in
    the next article of the same regulation (第二十三条), which the conversation's topic finds first."""
    first_q = "广东知识产权保护条例里，行政执法和司法之间怎么衔接？"
    first = rag.answer(first_q, settings=library)
    assert {(c.doc_id, c.unit_id) for c in first.citations} == {(IP, "A22")}, first.text
    history = [{"role": "user", "content": first_q}, {"role": "assistant", "content": first.text}]
    follow = rag.answer("And do they share information with each other — case leads, monitoring data, that kind of "
                        "thing?", history=history, settings=library)
    assert [(c.doc_id, c.unit_id) for c in follow.citations][:1] == [(IP, "A23")], follow.text
