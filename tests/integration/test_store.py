"""Ingest into a real embedded Chroma store: idempotence, replacement, crash safety, several documents,
missing and corrupt stores, and the same against a real `chroma run` server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import StoreError, get_retriever, ingest, load_settings, reset, search
from rag.index import open_store
from tests.conftest import DATA

pytestmark = pytest.mark.integration

SMALL = """某市公共数据管理办法
发布日期：2024年3月1日 来源：某市人民政府
第一章 总则
第一条 为了规范公共数据管理，促进数据开放共享，制定本办法。
第二条 本办法适用于本市行政区域内的公共数据收集、存储和共享活动。
第三条 公共数据以共享为原则，不共享为例外，由市数据局统一管理。
"""


@pytest.fixture(autouse=True)
def _fresh_retrievers():
    reset()
    yield
    reset()


def _settings(path: Path):
    """The featured document alone (the default is now the whole library): these tests count its units."""
    return load_settings(env={}, store_dir=path, data_files=(DATA,))


def test_reingest_is_idempotent(tmp_path: Path) -> None:
    s = _settings(tmp_path / "db")
    first = ingest(s, progress=False)
    store = open_store(s)
    count = store.count()
    assert first[0].changed and first[0].units == 45 and count == 180  # zh + en view per unit, by USE and e5
    again = ingest(s, progress=False)
    assert not again[0].changed and open_store(s).count() == count


def test_the_second_model_embeds_both_views_and_an_older_store_is_refreshed(tmp_path: Path) -> None:
    """e5 embeds the Chinese view of every unit and the English view of translated units only. A store written
    without it (by an older version) still answers from USE alone, and the next ingest adds e5."""
    from rag.document import parse_policy_document, parse_policy_text
    from rag.index import stored_hash, unit_records

    small = parse_policy_text(SMALL, "city-data-rules")
    featured = parse_policy_document(DATA)
    s = _settings(tmp_path / "db")
    old = open_store(s, create=True)
    for doc in (featured, small):  # as an older version wrote them: USE's two views, the hash without "+e5"
        assert old.replace_document(doc.doc_id, stored_hash(doc), [r for u in doc.units for r in unit_records(u)])
    assert set(open_store(s).partitions()) == {"zh", "en"}
    assert search("公共数据共享由哪个部门统一管理？", settings=s).results[0].unit.unit_id == "A3"
    reset()

    small_file = tmp_path / "city-data-rules.zh.txt"
    small_file.write_text(SMALL, encoding="utf-8")
    assert all(r.changed for r in ingest(s, [DATA, small_file], progress=False))
    store = open_store(s)
    assert set(store.partitions()) == {"zh", "en", "e5_zh", "e5_en"}
    assert {r.id for r in store.records("e5_zh")} == {r.id for r in store.records("zh")}
    translated = {r.id for r in store.records("en") if r.metadata["doc_id"] == featured.doc_id}
    assert {r.id for r in store.records("e5_en")} == translated and len(translated) == 45
    assert search("公共数据共享由哪个部门统一管理？", settings=s).results[0].unit.unit_id == "A3"
    assert "e5_zh" in search("集成电路和新能源汽车产业怎么发展？", settings=s).results[0].signals


def test_a_store_written_with_e5_is_read_and_rewritten_without_it(tmp_path: Path) -> None:
    """POLICYQA_E5=false on a store that has e5 partitions: they are never queried with USE's vectors (another
    size), answers come from USE alone, and the next ingest rewrites the document without e5 records."""
    s = _settings(tmp_path / "db")
    ingest(s, progress=False)
    without = s.with_overrides(e5=False)
    assert open_store(without).more_embeddings == {}
    top = search("集成电路和新能源汽车产业怎么发展？", settings=without).results[0]
    assert top.unit.unit_id == "A8" and not any(name.startswith("e5") for name in top.signals)
    reset()
    assert ingest(without, progress=False)[0].changed  # its stored hash named e5
    store = open_store(without)
    assert store.records("e5_zh") == [] and len(store.records("zh")) == 45
    assert not ingest(without, progress=False)[0].changed


def test_changed_file_replaces_its_units_without_stale_ones(tmp_path: Path) -> None:
    doc = tmp_path / "city-data-rules.zh.txt"
    doc.write_text(SMALL, encoding="utf-8")
    s = _settings(tmp_path / "db")
    ingest(s, [doc], progress=False)
    assert {r.metadata["unit_id"] for r in open_store(s).records("zh")} == {"S1", "A1", "A2", "A3"}
    doc.write_text(SMALL.replace("第三条 公共数据以共享为原则，不共享为例外，由市数据局统一管理。\n", ""), encoding="utf-8")
    assert ingest(s, [doc], progress=False)[0].changed
    assert {r.metadata["unit_id"] for r in open_store(s).records("zh")} == {"S1", "A1", "A2"}
    assert {r.metadata["unit_id"] for r in open_store(s).records("en")} == {"S1", "A1", "A2"}


def test_crash_mid_ingest_leaves_the_previous_index_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = _settings(tmp_path / "db")
    ingest(s, progress=False)
    before = open_store(s).documents()
    changed = tmp_path / "guangdong-high-quality-development-2023.zh.txt"
    changed.write_text(DATA.read_text(encoding="utf-8").replace("建设现代化产业集群", "建设现代产业集群"), encoding="utf-8")

    from vectorstore.embeddings import CachedEmbeddings

    calls = {"n": 0}
    real = CachedEmbeddings.embed_documents

    def crash_after_two_batches(self, texts):
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt("simulated crash")
        return real(self, texts)

    monkeypatch.setattr(CachedEmbeddings, "embed_documents", crash_after_two_batches)
    with pytest.raises(KeyboardInterrupt):
        ingest(s, [changed], progress=False)
    monkeypatch.undo()
    store = open_store(s)
    assert store.documents() == before and store.count() == 4 * 45  # 45 units, each in 2 views x 2 models
    assert search("第八条", settings=s).results[0].unit.title == "建设现代化产业集群"
    generations = {c.name.rsplit(".", 1)[0] for c in store.client.list_collections() if ".g" in c.name}
    assert len(generations) == 1  # the half-built generation was dropped


def test_several_documents_live_in_one_store(tmp_path: Path) -> None:
    small = tmp_path / "city-data-rules.zh.txt"
    small.write_text(SMALL, encoding="utf-8")
    s = _settings(tmp_path / "db")
    ingest(s, [DATA, small], progress=False)
    assert set(open_store(s).documents()) == {"guangdong-high-quality-development-2023", "city-data-rules"}
    top = search("公共数据共享由哪个部门统一管理？", settings=s).results[0].unit
    assert (top.doc_id, top.unit_id) == ("city-data-rules", "A3")
    top = search("集成电路和新能源汽车产业怎么发展？", settings=s).results[0].unit
    assert (top.doc_id, top.unit_id) == ("guangdong-high-quality-development-2023", "A8")


def test_missing_store_is_built_from_the_configured_documents(tmp_path: Path) -> None:
    """No store yet: the first search ingests the configured documents (the embedded default just works)."""
    s = _settings(tmp_path / "nothing-here")
    assert search("第八条讲了什么？", settings=s).results[0].unit.unit_id == "A8"
    assert (tmp_path / "nothing-here" / "chroma.sqlite3").exists()


def test_corrupt_store_is_reported_and_left_untouched(tmp_path: Path) -> None:
    s = _settings(tmp_path / "db")
    (tmp_path / "db").mkdir()
    garbage = b"this is not a sqlite database" * 100
    (tmp_path / "db" / "chroma.sqlite3").write_bytes(garbage)
    with pytest.raises(StoreError, match="unusable"):
        get_retriever(s)
    assert (tmp_path / "db" / "chroma.sqlite3").read_bytes() == garbage


def test_server_mode_against_a_real_chroma_server(chroma_server, tmp_path: Path) -> None:
    host, port = chroma_server
    s = load_settings(env={}, chroma_host=host, chroma_port=port, collection="servertest", data_files=(DATA,))
    assert ingest(s, progress=False)[0].changed
    assert not ingest(s, progress=False)[0].changed
    outcome = search("What does the plan say about EV charging?", settings=s)
    assert outcome.results[0].unit.unit_id == "A5"
    assert search("第十二条", settings=s).results[0].unit.unit_id == "A12"


def test_unreachable_server_is_a_clear_error() -> None:
    from tests.conftest import free_port

    s = load_settings(env={}, chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(StoreError, match="unusable"):
        search("test", settings=s)


def test_copying_a_store_directory_keeps_it_usable(tmp_path: Path, store_dir: Path) -> None:
    shutil.copytree(store_dir, tmp_path / "copy")
    assert search("第一部分", settings=_settings(tmp_path / "copy")).results[0].unit.unit_id == "S1"


def test_a_running_process_picks_up_a_new_ingest(tmp_path: Path) -> None:
    """The retriever cache follows the store's live generation (e.g. the UI while `policyqa ingest` runs)."""
    doc = tmp_path / "city-data-rules.zh.txt"
    doc.write_text(SMALL, encoding="utf-8")
    s = _settings(tmp_path / "db")
    ingest(s, [doc], progress=False)
    first = get_retriever(s)
    assert get_retriever(s) is first
    doc.write_text(SMALL.replace("由市数据局统一管理", "由市政务服务数据管理局统一管理"), encoding="utf-8")
    ingest(s, [doc], progress=False)
    assert get_retriever(s) is not first
    assert "政务服务数据管理局" in search("第三条", settings=s).results[0].unit.text


def test_a_writer_whose_server_lock_expired_rebuilds_instead_of_dropping_the_other_document(
        chroma_server, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writer A stalls past the lock's lifetime; B takes the lock over and flips the pointer while A is still
    building. A's compare-and-swap sees the pointer moved and rebuilds on B's generation: both documents stay."""
    import vectorstore.locks as locks
    from rag.document import parse_policy_text
    from rag.index import unit_records

    host, port = chroma_server
    s = load_settings(env={}, chroma_host=host, chroma_port=port, collection="caswriters")
    a, b = open_store(s, create=True), open_store(s, create=True)
    doc_a = parse_policy_text(SMALL, "doc-a")
    doc_b = parse_policy_text(SMALL.replace("市数据局", "市政务服务数据管理局"), "doc-b")
    records_a = [r for u in doc_a.units for r in unit_records(u)]
    records_b = [r for u in doc_b.units for r in unit_records(u)]
    monkeypatch.setattr(locks, "LOCK_TTL", 0.0)  # every lock is already expired: A "stalled"
    done = {"a": 0, "b_ran": False}

    def a_progress(n: int) -> None:
        done["a"] += n
        if done["a"] == len(records_a) and not done["b_ran"]:  # A has built its whole generation
            done["b_ran"] = True
            assert b.replace_document("doc-b", doc_b.sha256, records_b)

    assert a.replace_document("doc-a", doc_a.sha256, records_a, progress=a_progress)
    assert done["b_ran"]
    assert set(open_store(s).documents()) == {"doc-a", "doc-b"}
    assert {r.metadata["doc_id"] for r in open_store(s).records("zh")} == {"doc-a", "doc-b"}
    live = open_store(s).generation()
    names = {c.name for c in open_store(s).client.list_collections() if c.name.startswith("caswriters.g")}
    assert names == {f"{live}.zh", f"{live}.en"}
