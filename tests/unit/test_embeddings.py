"""The second offline model (multilingual-e5-small) and the on-disk cache of stored texts' embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from rag.retrieval import _spread, dense_query
from vectorstore.embeddings import CachedEmbeddings, E5Embeddings, make_embeddings

CHARGING = "加快充电基础设施建设，推进新能源汽车充电桩进小区。"
FISHING = "加强近海渔业资源养护，推进海洋牧场建设。"


@pytest.fixture(scope="module")
def e5() -> E5Embeddings:
    return E5Embeddings()


def test_e5_ranks_the_passage_that_answers_first_in_both_languages(e5: E5Embeddings) -> None:
    passages = np.asarray(e5.embed_documents([FISHING, CHARGING]))
    for question in ("电动车充电难的问题，文件里有说法吗？", "What does the plan say about EV charging?"):
        scores = passages @ np.asarray(e5.embed_query(question))
        assert scores.argmax() == 1, (question, scores)


def test_e5_embeds_a_question_and_a_passage_differently(e5: E5Embeddings) -> None:
    """e5 was trained with "query: " and "passage: " prefixes; the same text gets a different vector in each role."""
    as_query, as_passage = np.asarray(e5.embed_query(CHARGING)), np.asarray(e5.embed_documents([CHARGING])[0])
    assert as_query.shape == as_passage.shape == (384,)
    assert np.isclose(np.linalg.norm(as_query), 1.0, atol=1e-3)
    assert not np.allclose(as_query, as_passage)
    assert e5.embed_documents([]) == []


class Counting(Embeddings):
    """Counts the texts it is asked to embed (what the cache must spare), with distinct vectors per text."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += texts
        return [[float(len(t)), float(sum(map(ord, t)) % 97), 0.5] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.embedded.append(text)
        return [0.0, 0.0, 1.0]


def test_cached_embeddings_embed_each_text_once_across_instances(tmp_path: Path) -> None:
    first = Counting()
    vectors = CachedEmbeddings(first, tmp_path).embed_documents([CHARGING, FISHING])
    assert first.embedded == [CHARGING, FISHING]
    again = Counting()  # a later process: a new model object, the same cache directory
    new = Counting().embed_documents(["新文本"])[0]
    assert CachedEmbeddings(again, tmp_path).embed_documents([FISHING, "新文本", CHARGING]) == [
        vectors[1], new, vectors[0]]
    assert again.embedded == ["新文本"]  # only the text never embedded before


def test_cached_embeddings_never_cache_questions(tmp_path: Path) -> None:
    model = Counting()
    cached = CachedEmbeddings(model, tmp_path)
    cached.embed_query("q")
    cached.embed_query("q")
    assert model.embedded == ["q", "q"] and not any(tmp_path.iterdir())


def test_a_damaged_cache_file_is_embedded_again_and_mended(tmp_path: Path) -> None:
    model = Counting()
    good = CachedEmbeddings(model, tmp_path).embed_documents([CHARGING])
    (path,) = tmp_path.rglob("*.npy")
    path.write_bytes(b"not a numpy file")
    assert CachedEmbeddings(model, tmp_path).embed_documents([CHARGING]) == good
    assert np.load(path).tolist() == good[0]
    assert model.embedded == [CHARGING, CHARGING]


def test_an_unwritable_cache_costs_time_not_an_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory", encoding="utf-8")
    model = Counting()
    assert CachedEmbeddings(model, blocked).embed_documents([CHARGING]) == model.embed_documents([CHARGING])


def test_offline_models_are_cached_per_model_and_version(tmp_path: Path) -> None:
    use, e5 = make_embeddings("use", cache_dir=tmp_path), make_embeddings("e5", cache_dir=tmp_path)
    assert isinstance(use, CachedEmbeddings) and isinstance(e5, CachedEmbeddings)
    assert use.directory.name.startswith("vectors-use-") and e5.directory.name.startswith("vectors-e5-")
    assert not isinstance(make_embeddings("e5"), CachedEmbeddings)  # no cache dir: nothing kept
    with pytest.raises(ValueError, match="unknown embeddings"):
        make_embeddings("glove")


def test_spread_scales_cosines_over_the_candidates() -> None:
    a, b, c = ("d", "A1"), ("d", "A2"), ("d", "A3")
    assert _spread([(a, 0.86), (b, 0.81), (c, 0.76)]) == [(a, 1.0), (b, pytest.approx(0.5)), (c, 0.0)]
    assert _spread([(a, 0.8)]) == [(a, 1.0)]
    assert _spread([]) == []


@pytest.mark.parametrize(("question", "embedded"), [
    ("广州在文件里的定位是什么？", "广州的定位是什么？"),
    ("电动车充电难的问题，文件里有说法吗？", "电动车充电难的问题，？"),
    ("条例里真有这个规定吗？", "真有这个规定吗？"),
    ("What does the plan say about EV charging?", "What EV charging?"),
    ("According to the plan, when is the bridge due?", ", when is the bridge due?"),
    ("城市规划有什么要求？", "城市规划有什么要求？"),  # only words that point at the document itself go
    ("文件", "文件"),  # never an empty text
])
def test_the_dense_models_embed_the_question_without_words_about_the_document(question: str, embedded: str) -> None:
    assert dense_query(question) == embedded


def test_the_second_model_embeds_a_long_units_opening_as_one_record() -> None:
    from rag.document import parse_policy_text
    from rag.index import SECOND_MODEL_CHARS, unit_records

    long_text = "第一条 为了规范数据管理，制定本办法。" + "数据共享应当安全可控。" * 1000
    doc = parse_policy_text(f"某市数据管理办法\n第一章 总则\n{long_text}\n第二条 本办法自发布之日起施行。\n", "data-rules")
    records = {r.partition: r for r in unit_records(doc.units[1], ["e5"])}
    assert set(records) == {"zh", "en", "e5_zh"}  # no translation: no e5 English view
    assert records["zh"].text == doc.units[1].text and len(records["zh"].text) > 10_000
    assert records["e5_zh"].text == records["zh"].text[:SECOND_MODEL_CHARS] and records["e5_zh"].id == records["zh"].id
