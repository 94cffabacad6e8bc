"""Drive the vector store for this app: open it per the settings, and ingest parsed documents into it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from rag.config import Settings
from rag.document import PolicyDocument, Unit, parse_policy_document
from rag.errors import InputError, StoreError
from vectorstore import (
    WRITE_LOCK,
    CollectionMissing,
    Record,
    StoreEmpty,
    StoreUnavailable,
    VectorStore,
    make_chroma_client,
    make_embeddings,
)

log = logging.getLogger(__name__)

VIEWS = ("zh", "en")  # store partitions: every unit is embedded twice, its Chinese text and its English translation
# The offline stack embeds both views a second time with multilingual-e5-small, in partitions e5_zh and e5_en:
# it ranks Chinese questions better than USE (tune hit@1, fused: zh 0.93 -> 0.96, en 0.84 -> 0.88; 2026-11-29).
SECOND_MODEL = "e5"
# e5 reads its first 512 tokens (~1,500 Chinese characters) of a text, so it embeds a unit's opening only, as one
# record: a 2 MB article costs one embedding, not one per 2,500-character part (~0.5 s each).
SECOND_MODEL_CHARS = 2000


def _where(settings: Settings) -> str:
    return f"{settings.chroma_host}:{settings.chroma_port}" if settings.uses_chroma_server else str(settings.store_dir)


def _has_store_file(settings: Settings) -> bool | None:
    """Whether the embedded store's database exists (None when the directory may not be looked into)."""
    try:
        return (settings.store_dir / "chroma.sqlite3").exists()
    except OSError:
        return None


def store_error(settings: Settings, exc: StoreUnavailable | StoreEmpty) -> StoreError:
    """The user's one-line message for a store failure, naming where the store is."""
    where = _where(settings)
    if isinstance(exc, StoreEmpty):
        return StoreError(f"the index at {where} (collection '{settings.collection}') is empty: run `policyqa ingest` first",
                          f"位于 {where} 的索引（集合 '{settings.collection}'）为空：请先运行 `policyqa ingest`")
    if isinstance(exc, CollectionMissing):
        names = ", ".join(exc.existing)
        return StoreError(f"the store at {where} has no collection '{exc.name}' (it has: {names})",
                          f"位于 {where} 的索引中没有集合 '{exc.name}'（现有：{names}）")
    return StoreError(f"the store at {where} is unusable ({exc})", f"位于 {where} 的索引无法使用（{exc}）")


def open_store(settings: Settings, *, create: bool = False) -> VectorStore:
    """Open the configured Chroma store (embedded or server). Read-only callers never create an empty store."""
    try:
        client = make_chroma_client(path=settings.store_dir, host=settings.chroma_host, port=settings.chroma_port,
                                    create=create, timeout=settings.chroma_timeout)
    except StoreUnavailable as exc:
        if not settings.uses_chroma_server and _has_store_file(settings) is False and not create:
            raise StoreError(
                f"no index at {settings.store_dir}: run `policyqa ingest` first",
                f"在 {settings.store_dir} 没有索引：请先运行 `policyqa ingest`",
            ) from None
        raise store_error(settings, exc) from None
    embeddings = make_embeddings(settings.embeddings, openai_model=settings.openai_embedding_model,
                                 api_key=settings.api_key, base_url=settings.openai_base_url,
                                 cache_dir=settings.cache_dir)
    more = {}
    if settings.embeddings == "use" and settings.e5:  # the offline stack
        more[SECOND_MODEL] = make_embeddings(SECOND_MODEL, cache_dir=settings.cache_dir)
    lock = None if settings.uses_chroma_server else settings.store_dir / WRITE_LOCK
    return VectorStore(client, settings.collection, embeddings, lock_path=lock, more_embeddings=more)


def unit_records(unit: Unit, more_models: Sequence[str] = ()) -> list[Record]:
    """The stored records of one unit: a Chinese view (the chunk) and an English view, and the same views for
    each model of `more_models` (partitions `<model>_zh`, `<model>_en`, with the same record ids).

    An untranslated unit's English view embeds its Chinese text (USE is multilingual), so documents without a
    translation still compete fairly in USE's fusion. A second model's English view holds translations only:
    its Chinese view already ranks the other units, and on tune a second copy of them there cost hit@1.
    """
    from rag.retrieval import unit_tokens  # jieba and the stemmer load only for a write

    meta = unit.metadata()
    zh_id, en_id = f"{unit.doc_id}:{unit.unit_id}", f"{unit.doc_id}:{unit.unit_id}:en"
    records = [Record(zh_id, unit.text, {**meta, **unit_tokens(unit)}, partition="zh"),
               Record(en_id, unit.text_en or unit.text, meta, partition="en")]
    keys = {"doc_id": unit.doc_id, "unit_id": unit.unit_id}  # the text and metadata are read from "zh" and "en"
    for model in more_models:
        records.append(Record(zh_id, unit.text[:SECOND_MODEL_CHARS], keys, partition=f"{model}_zh"))
        if unit.text_en:
            records.append(Record(en_id, unit.text_en[:SECOND_MODEL_CHARS], keys, partition=f"{model}_en"))
    return records


def document_records(doc: PolicyDocument, more_models: Sequence[str] = ()) -> list[Record]:
    """Every stored record of a document."""
    return [r for u in doc.units for r in unit_records(u, more_models)]


def record_count(doc: PolicyDocument, more_models: Sequence[str] = ()) -> int:
    """How many records `document_records` makes, without tokenising anything (a progress bar's total)."""
    return sum(len(VIEWS) + len(more_models) * (1 + bool(u.text_en)) for u in doc.units)


def stored_hash(doc: PolicyDocument, more_models: Sequence[str] = ()) -> str:
    """What the store compares to skip an unchanged document: its content, how its BM25 tokens were made and
    which models embedded it, so the next ingest refreshes a document stored by code that did either differently."""
    from rag.retrieval import TOKENS_VERSION

    return f"{doc.sha256}+bm25:{TOKENS_VERSION}" + "".join(f"+{m}:{SECOND_MODEL_CHARS}" for m in sorted(more_models))


@dataclass(frozen=True)
class IngestResult:
    doc_id: str
    path: str
    units: int
    changed: bool


def ingest(settings: Settings, files: Iterable[Path] | None = None, *, progress: bool = True) -> list[IngestResult]:
    """Parse and store each file. Idempotent per file content; a failure leaves the previous index live."""
    docs: list[PolicyDocument] = [parse_policy_document(p, translations=settings.translations_dir)
                                  for p in (files or settings.data_files)]
    store = open_store(settings, create=True)
    results = []
    try:
        try:
            stored = store.documents()
        except CollectionMissing:  # a new collection in a store that has others: the writer creates it
            stored = {}
        # One bar over every document's records; an unchanged document is skipped, and its share with it.
        more = list(store.more_embeddings)
        with tqdm(total=sum(record_count(doc, more) for doc in docs), desc=f"ingest {len(docs)} document(s)",
                  unit="chunk", file=sys.stderr, disable=not progress, leave=False) as bar:
            for doc in docs:
                # The store re-checks under its lock; looking first only spares building an unchanged one's records.
                content = stored_hash(doc, more)
                records = None if stored.get(doc.doc_id) == content else document_records(doc, more)
                changed = records is not None and store.replace_document(
                    doc.doc_id, content, records, progress=bar.update, info=document_info(doc))
                if not changed:
                    bar.update(record_count(doc, more))
                log.info("ingest %s: %d units, %s", doc.doc_id, len(doc.units), "updated" if changed else "unchanged")
                results.append(IngestResult(doc.doc_id, doc.path, len(doc.units), changed))
    except StoreUnavailable as exc:
        raise StoreError(f"cannot write to the store at {_where(settings)}: {exc}",
                         f"无法写入 {_where(settings)} 的索引：{exc}") from None
    return results


def document_info(doc: PolicyDocument) -> dict[str, str | int]:
    """What `policyqa docs` shows of a stored document, recorded when it is written, and where its file is (so
    `policyqa translate` and the UI find an uploaded document as well as a configured one)."""
    path = str(Path(doc.path).resolve()) if doc.path else ""
    return {"title": doc.title, "date": doc.date, "units": len(doc.units), "languages": ",".join(doc.languages),
            "title_en": doc.title_en, "source": doc.source, "path": path}


@dataclass(frozen=True)
class StoredDocument:
    """A document in the store, as `policyqa docs` lists it."""

    doc_id: str
    title: str
    date: str
    units: int
    languages: str  # "zh" or "zh,en": the views with their own text
    ingested: str  # when it was written (ISO time, UTC)

    def to_dict(self) -> dict[str, str | int]:
        return dict(self.__dict__)


def stored_document_info(settings: Settings) -> dict[str, dict[str, str | int]]:
    """{doc_id: what was recorded when it was written (see document_info) and when}, {} for an empty store."""
    try:
        return open_store(settings).document_info()
    except StoreUnavailable as exc:
        raise store_error(settings, exc) from None


def stored_documents(settings: Settings) -> list[StoredDocument]:
    """The documents in the store with their title, date, units, language views and when they were ingested."""
    return [StoredDocument(doc_id, str(i.get("title", "")), str(i.get("date", "")), int(i.get("units", 0)),
                           str(i.get("languages", "")), str(i.get("written", "")))
            for doc_id, i in sorted(stored_document_info(settings).items())]


def stored_document_paths(settings: Settings) -> dict[str, Path]:
    """{doc_id: the file it was ingested from}, for the stored documents whose info records one."""
    return {doc_id: Path(str(i["path"])) for doc_id, i in stored_document_info(settings).items() if i.get("path")}


def remove_document(settings: Settings, doc_id: str) -> None:
    """Delete one document from the store and nothing else (the same crash-safe generation swap as ingest)."""
    store = open_store(settings)
    known = store.documents()
    if doc_id not in known:
        raise InputError(f"no document {doc_id!r} in the store (it has: {', '.join(sorted(known)) or 'nothing'})",
                         f"索引中没有文档 {doc_id!r}（现有：{'、'.join(sorted(known)) or '无'}）")
    try:
        store.remove_document(doc_id)
    except StoreUnavailable as exc:
        raise StoreError(f"cannot write to the store at {_where(settings)}: {exc}",
                         f"无法写入 {_where(settings)} 的索引：{exc}") from None


def build_synthetic_store(settings: Settings, copies: int, *, seed: int = 0) -> int:
    """Fill the store with `copies` synthetic documents derived from the configured one (for `policyqa bench`).

    Each copy reuses the stored units with shuffled sentences and slightly perturbed embeddings, so the store
    grows without paying the embedding cost again. Returns the number of units stored.
    """
    import random

    import numpy as np

    rng = random.Random(seed)
    store = open_store(settings, create=True)
    doc = parse_policy_document(settings.data_files[0])
    ingest(settings, [Path(doc.path)], progress=False)
    noise = np.random.default_rng(seed)
    records = []  # all copies as one synthetic document: a single generation swap, not one per copy
    for view in [p for p in store.partitions() if store.can_embed(p)]:
        base = store.live(view).get(where={"doc_id": doc.doc_id}, include=["embeddings", "documents", "metadatas"])
        for i in range(1, copies):
            for rid, text, vec, meta in zip(base["ids"], base["documents"], base["embeddings"], base["metadatas"],
                                            strict=True):
                parts = text.split("，")
                rng.shuffle(parts)
                v = np.asarray(vec) + noise.normal(0, 0.02, len(vec))
                # Without the stored BM25 tokens: they are those of the unshuffled text (the retriever makes its own).
                kept = {k: val for k, val in meta.items() if not k.startswith("bm25_")}
                records.append(Record(f"synthetic:{i}:{rid}", "，".join(parts), {**kept, "doc_id": f"synthetic-{i:04d}"},
                                      (v / np.linalg.norm(v)).tolist(), partition=view))
    if records:
        store.replace_document("synthetic", f"synthetic-{seed}-{copies}", records)
    return len(doc.units) * copies
