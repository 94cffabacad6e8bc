"""BM25 tokens stored at ingest (a cold query tokenises only the question) rank exactly like tokens made at query
time, tokens made by other tokeniser code are not used, and the next ingest refreshes such a store."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import ingest, load_settings, reset
from rag.index import open_store
from rag.retrieval import HybridRetriever
from tests.conftest import DATA

pytestmark = pytest.mark.integration

QUESTIONS = [("新能源汽车有什么政策？", "zh"), ("电动车充电难的问题，文件里有说法吗？", "zh"),
             ("What does the plan say about EV charging?", "en"), ("How will Guangdong attract foreign talent?", "en")]


def test_stored_tokens_rank_like_tokens_made_at_query_time(tmp_path: Path) -> None:
    reset()
    settings = load_settings(env={}, store_dir=tmp_path / "db", data_files=(DATA,))
    ingest(settings, progress=False)
    stored = HybridRetriever(open_store(settings))
    assert len(stored._stored_tokens) == len(stored.units) == 45
    fresh = HybridRetriever(open_store(settings))
    fresh._stored_tokens = {}  # as a store written before tokens were stored
    fresh._index_units()
    for question, language in QUESTIONS:
        assert stored.rank(question, language, 5) == fresh.rank(question, language, 5)
        assert stored.idf("汽车", "zh") == fresh.idf("汽车", "zh")


def test_tokens_from_other_tokeniser_code_are_not_used_and_ingest_refreshes_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reset()
    settings = load_settings(env={}, store_dir=tmp_path / "db", data_files=(DATA,))
    monkeypatch.setattr("rag.retrieval.TOKENS_VERSION", "older-code")
    ingest(settings, progress=False)
    monkeypatch.undo()
    assert HybridRetriever(open_store(settings))._stored_tokens == {}  # not trusted: tokenised at query time
    [again] = ingest(settings, progress=False)
    assert again.changed  # the same file, stored again with current tokens
    assert len(HybridRetriever(open_store(settings))._stored_tokens) == 45
    [unchanged] = ingest(settings, progress=False)
    assert not unchanged.changed
