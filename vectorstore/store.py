"""A Chroma store of records grouped by document, swapped in whole generations so a failed ingest never
leaves a half-written collection behind.

Layout in Chroma: `<name>.live` is a tiny pointer collection whose metadata names the live generation
collection (`<name>.g<n>`) and the content hash of every document in it. Writing a document builds a new
generation (copying the other documents' records, embedding the new ones), then flips the pointer in one
metadata update, then drops every other generation (the old one, and orphans of killed or losing writers).
Readers always follow the pointer and never create anything.

Writers are serialised: a file lock beside an embedded store; on a server, a lock collection created
atomically (expiring when its owner dies), plus a compare-and-swap on the pointer: a writer that finds the
pointer moved while it built its generation rebuilds on the new one instead of dropping a document.

A text longer than the embedding model handles well is stored as several parts (`<id>#part<n>`) embedded
separately; reads reassemble it and queries answer with the record id, so it stays one record to callers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chromadb.errors import ChromaError
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from vectorstore.failures import CollectionMissing, StoreEmpty, StoreUnavailable, native_stderr, store_errors
from vectorstore.locks import writer_lock

log = logging.getLogger(__name__)

BATCH = 16  # texts embedded per call (progress granularity)
COPY_BATCH = 1000
GROUP = "store_doc"  # metadata key the store groups records by (the document they are replaced with)
MAX_EMBED_CHARS = 2500  # longer texts are embedded in parts (USE mean-pools a CNN: memory grows with length)
PART = "#part"  # id of part n>0 of a long record: `<id>#part<n>`; part 0 keeps the record's own id and metadata
WRITE_ATTEMPTS = 5  # generations rebuilt when the pointer moved under a writer
# A query asks for at least this many neighbours, so that a partition this small is searched exhaustively. Chroma's
# HNSW index is approximate, and below its sync threshold (1,000 entries) it is rebuilt from the log on every load,
# differently each time: the same question got different candidates in different processes (an e5 partition of
# 372 entries: the 30 nearest differed in 2 of 5 runs), and a borderline answer flipped. Asking for all 372 costs
# 1.6 ms instead of 0.9 ms.
EXACT_SEARCH_ENTRIES = 2000


@dataclass(frozen=True)
class Record:
    """One stored text: `text` is embedded, `metadata` holds flat scalars (Chroma's rule)."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    vector: list[float] | None = None  # precomputed embedding (bulk loads, benchmarks); else embedded on write
    partition: str = "main"  # which collection of a generation holds it (queries search one partition)


def split_text(text: str, limit: int = MAX_EMBED_CHARS) -> list[str]:
    """Cut `text` into parts of at most `limit` characters, at a sentence end where one is near.

    The parts join back to exactly `text`.
    """
    parts, start = [], 0
    while len(text) - start > limit:
        window = text[start:start + limit]
        cut = max(window.rfind(ch) for ch in "。！？；\n.!?;")
        end = start + (cut + 1 if cut >= limit // 2 else limit)
        parts.append(text[start:end])
        start = end
    parts.append(text[start:])
    return parts


def record_id(stored_id: str) -> str:
    """The record a stored id belongs to (a part's id names its record)."""
    return stored_id.split(PART, 1)[0]


class VectorStore:
    """Documents' records in partitioned Chroma collections, replaced a document at a time.

    A partition is a separate collection per kind of record (e.g. one per language view): a query touches
    one small HNSW index instead of filtering a large one by metadata, which Chroma does ~10x slower at 10^4
    records. `lock_path` (embedded stores) is the writers' lock file; without it writers lock on the server.

    `embeddings` embeds every partition except those named `<model>_<view>` after a key of `more_embeddings`,
    which that model embeds: the same texts seen by a second model are a second, independent dense signal.
    """

    def __init__(self, client: Any, name: str, embeddings: Embeddings, *, lock_path: Path | None = None,
                 more_embeddings: Mapping[str, Embeddings] | None = None) -> None:
        self.client = client
        self.name = name
        self.embeddings = embeddings
        self.more_embeddings = dict(more_embeddings or {})
        self.lock_path = lock_path
        self._cache: dict[str, Any] = {}
        self._generation_name = re.compile(rf"^({re.escape(name)}\.g\d+)\.[^.]+$")

    # -- the pointer ---------------------------------------------------------------------------
    def _pointer(self, *, create: bool = False) -> Any:
        """The pointer collection. Readers only get it: a missing one names the collections that exist."""
        name = f"{self.name}.live"
        if create:
            return self.client.get_or_create_collection(name, embedding_function=None)
        try:
            return self.client.get_collection(name, embedding_function=None)
        except ChromaError as exc:
            existing = sorted(c.name.removesuffix(".live") for c in self.client.list_collections()
                              if c.name.endswith(".live"))
            if name in {f"{e}.live" for e in existing}:
                raise
            if not existing:
                raise StoreEmpty(f"store '{self.name}' has no documents yet") from exc
            raise CollectionMissing(self.name, existing) from exc

    def _state(self) -> tuple[str | None, list[str], dict[str, str]]:
        """(live generation, its partitions, {doc_id: content hash})."""
        with store_errors("cannot read the store pointer"), native_stderr.to_log():
            meta = self._pointer().metadata or {}
        return meta.get("live"), json.loads(meta.get("partitions", "[]")), json.loads(meta.get("docs", "{}"))

    def documents(self) -> dict[str, str]:
        """{doc_id: content hash} of the documents in the live generation."""
        try:
            return self._state()[2]
        except StoreEmpty:
            return {}

    def generation(self) -> str | None:
        """Name of the live generation: changes whenever any document is written."""
        return self._state()[0]

    def partitions(self) -> list[str]:
        return self._state()[1]

    def embedder(self, partition: str) -> Embeddings:
        """The model that embeds `partition` (see the class docstring); KeyError when it is not configured."""
        model, named, _view = partition.partition("_")
        return self.more_embeddings[model] if named else self.embeddings

    def can_embed(self, partition: str) -> bool:
        """Whether this store was opened with the model of `partition` (a store written with e5 may be read
        without it: its e5 partitions are then left alone, never queried with another model's vectors)."""
        model, named, _view = partition.partition("_")
        return not named or model in self.more_embeddings

    def _collection(self, partition: str) -> Any:
        """One partition of the live generation as a raw Chroma collection (got, never created)."""
        live, partitions, _docs = self._state()
        if not live:
            raise StoreEmpty(f"store '{self.name}' has no documents yet")
        if partition not in partitions:
            raise KeyError(f"no partition {partition!r} in store '{self.name}' (has {partitions})")
        name = f"{live}.{partition}"
        if name not in self._cache:
            with store_errors(f"cannot open collection {name}"), native_stderr.to_log():
                self._cache = {name: self.client.get_collection(name, embedding_function=None),
                               **{k: v for k, v in self._cache.items() if k.startswith(f"{live}.")}}
        return self._cache[name]

    def live(self, partition: str) -> Chroma:
        """One partition of the live generation as a LangChain Chroma vector store (read-only use)."""
        collection = self._collection(partition)
        return Chroma(client=self.client, collection_name=collection.name, embedding_function=self.embedder(partition),
                      create_collection_if_not_exists=False)

    # -- writing -------------------------------------------------------------------------------
    def replace_document(self, doc_id: str, content_hash: str, records: Sequence[Record],
                         progress: Callable[[int], None] | None = None,
                         info: Mapping[str, str | int] | None = None) -> bool:
        """Make `records` the whole content of `doc_id`. Returns False when that exact content is already live.

        Under the writers' lock: build a new generation (the other documents' records copied with their
        embeddings, the new ones embedded), check the pointer still names the generation it was built from
        (else rebuild on the new one), flip the pointer in one metadata update, drop every other generation.
        `info` (flat, small: a title, a date) is kept in the pointer with the time of writing.
        """
        return self._write(doc_id, content_hash, records, progress, dict(info or {}))

    def remove_document(self, doc_id: str) -> bool:
        """Delete `doc_id` and nothing else, by the same generation swap. Returns False when it is not stored."""
        return self._write(doc_id, None, (), None, {})

    def _write(self, doc_id: str, content_hash: str | None, records: Sequence[Record],
               progress: Callable[[int], None] | None, info: dict[str, str | int]) -> bool:
        with store_errors("write failed"), writer_lock(self.client, self.name, self.lock_path) as refresh:
            self._pointer(create=True)
            vectors: dict[str, list[float]] = {}  # by model and text hash: an untranslated unit's views embed once
            for attempt in range(WRITE_ATTEMPTS):
                live, old_partitions, docs = self._state()
                if docs.get(doc_id) == content_hash or (content_hash is None and doc_id not in docs):
                    return False
                generation = f"{self.name}.g{time.time_ns()}"
                partitions = sorted(set(old_partitions) | {r.partition for r in records})
                self._build(generation, partitions, live, old_partitions, doc_id, records, vectors,
                            progress if attempt == 0 else None, refresh)
                if self._state()[0] != live:  # another writer flipped the pointer (its lock had expired)
                    log.warning("store pointer moved while writing %s; rebuilding on the new generation", doc_id)
                    self._drop(generation)
                    continue
                infos = self._infos()
                if content_hash is None:
                    docs = {k: v for k, v in docs.items() if k != doc_id}
                    infos.pop(doc_id, None)
                else:
                    docs = {**docs, doc_id: content_hash}
                    infos[doc_id] = {**info, "written": datetime.now(UTC).isoformat(timespec="seconds")}
                self._pointer().modify(metadata={"live": generation, "partitions": json.dumps(partitions),
                                                 "docs": json.dumps(docs, sort_keys=True),
                                                 "info": json.dumps(infos, sort_keys=True, ensure_ascii=False)})
                log.info("store %s: %s %s, live generation %s", self.name, doc_id,
                         "removed" if content_hash is None else "written", generation)
                self.collect_garbage()
                return True
        raise StoreUnavailable(f"the store kept changing while writing {doc_id}; try again")

    def _infos(self) -> dict[str, dict[str, str | int]]:
        """{doc_id: its info and when it was written (ISO time, UTC)}, kept in the pointer beside the hashes."""
        with store_errors("cannot read the store pointer"), native_stderr.to_log():
            meta = self._pointer().metadata or {}
        return dict(json.loads(meta.get("info", "{}")))

    def document_info(self) -> dict[str, dict[str, str | int]]:
        """What was recorded about each stored document when it was written ({} for an empty store)."""
        try:
            return {doc_id: self._infos().get(doc_id, {}) for doc_id in self.documents()}
        except StoreEmpty:
            return {}

    def _build(self, generation: str, partitions: list[str], live: str | None, old_partitions: list[str],
               doc_id: str, records: Sequence[Record], vectors: dict[str, list[float]],
               progress: Callable[[int], None] | None, refresh: Callable[[], None]) -> None:
        """Write a complete new generation; on any failure (or interrupt) drop what was written."""
        try:
            for partition in partitions:
                target = self.client.create_collection(f"{generation}.{partition}", embedding_function=None,
                                                       metadata={"hnsw:space": "cosine"})
                if live and partition in old_partitions:
                    self._copy_others(f"{live}.{partition}", target, doc_id)
                mine = [r for r in records if r.partition == partition]
                for start in range(0, len(mine), BATCH):
                    batch = mine[start:start + BATCH]
                    self._add(target, batch, doc_id, self.embedder(partition), vectors, refresh)
                    if progress:
                        progress(len(batch))
        except BaseException:
            log.info("dropping the unfinished generation %s", generation)
            with contextlib.suppress(Exception):
                self._drop(generation)
            raise

    def _copy_others(self, source: str, target: Any, doc_id: str) -> None:
        old = self.client.get_collection(source, embedding_function=None)
        kept = old.get(where={GROUP: {"$ne": doc_id}}, include=["embeddings", "documents", "metadatas"])
        for i in range(0, len(kept["ids"]), COPY_BATCH):  # Chroma caps one add at ~5,000 records
            target.add(ids=kept["ids"][i:i + COPY_BATCH], embeddings=kept["embeddings"][i:i + COPY_BATCH],
                       documents=kept["documents"][i:i + COPY_BATCH], metadatas=kept["metadatas"][i:i + COPY_BATCH])

    def _add(self, target: Any, batch: Sequence[Record], doc_id: str, model: Embeddings,
             vectors: dict[str, list[float]], refresh: Callable[[], None]) -> None:
        """Embed (in parts where a text is long) and add one batch of records, refreshing the lock as it goes."""
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        given: list[list[float] | None] = []
        for r in batch:
            parts = [r.text] if r.vector is not None else split_text(r.text)
            ids += [r.id] + [f"{r.id}{PART}{n}" for n in range(1, len(parts))]
            texts += parts
            metas += [{**r.metadata, GROUP: doc_id}] + [{GROUP: doc_id, "part_of": r.id, "part": n}
                                                         for n in range(1, len(parts))]
            given += [r.vector] + [None] * (len(parts) - 1)
        for start in range(0, len(texts), BATCH):
            chunk, vecs = texts[start:start + BATCH], given[start:start + BATCH]
            todo = [i for i, v in enumerate(vecs) if v is None]
            for i, v in zip(todo, self._embed(model, [chunk[i] for i in todo], vectors), strict=True):
                vecs[i] = v
            target.add(ids=ids[start:start + BATCH], embeddings=vecs, documents=chunk,
                       metadatas=metas[start:start + BATCH])
            refresh()

    def _embed(self, model: Embeddings, texts: list[str], vectors: dict[str, list[float]]) -> list[list[float]]:
        """`model`'s embeddings of `texts`, reusing those computed earlier in this write (keyed by text hash)."""
        if not texts:
            return []
        keys = [f"{id(model)}:{hashlib.sha1(t.encode('utf-8')).hexdigest()}" for t in texts]
        todo = [i for i, k in enumerate(keys) if k not in vectors]
        for i, vec in zip(todo, model.embed_documents([texts[i] for i in todo]), strict=True):
            vectors[keys[i]] = vec
        return [vectors[k] for k in keys]

    def _drop(self, generation: str) -> None:
        for c in self.client.list_collections():
            m = self._generation_name.match(c.name)
            if m and m.group(1) == generation:
                self.client.delete_collection(c.name)

    def collect_garbage(self) -> list[str]:
        """Drop every generation of this store but the live one (old ones, and orphans of killed or losing
        writers). Callers hold the writers' lock. Returns the generations dropped."""
        live = self._state()[0]
        dropped = set()
        for c in self.client.list_collections():
            m = self._generation_name.match(c.name)
            if m and m.group(1) != live:
                self.client.delete_collection(c.name)
                dropped.add(m.group(1))
        if dropped:
            log.info("store %s: dropped old or orphaned generations %s", self.name, sorted(dropped))
        return sorted(dropped)

    # -- reading -------------------------------------------------------------------------------
    def records(self, partition: str, where: dict[str, Any] | None = None) -> list[Record]:
        """The records of one partition (long texts reassembled from their parts), in stored order."""
        with store_errors(f"cannot read the store '{self.name}'"), native_stderr.to_log():
            collection = self._collection(partition)
            got = collection.get(where=where, include=["documents", "metadatas"])
            parts: dict[str, list[tuple[int, str]]] = {}
            whole = []
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                if PART in i:
                    parts.setdefault(record_id(i), []).append((int(m.get("part", 0)), d))
                else:
                    whole.append((i, d, m))
            if where is not None:  # parts carry no metadata of their own: fetch those of the matching records
                wanted = [i for i, _d, _m in whole]
                for start in range(0, len(wanted), COPY_BATCH):
                    more = collection.get(where={"part_of": {"$in": wanted[start:start + COPY_BATCH]}},
                                          include=["documents", "metadatas"])
                    for i, d, m in zip(more["ids"], more["documents"], more["metadatas"], strict=True):
                        parts.setdefault(record_id(i), []).append((int(m.get("part", 0)), d))
        out = []
        for i, d, m in whole:
            text = d + "".join(t for _n, t in sorted(parts.get(i, []))) if i in parts else d
            out.append(Record(i, text, m, partition=partition))
        return out

    def embed_query(self, text: str, partition: str = "") -> list[float]:
        """`text` embedded as a question by the model of `partition` (the main model by default)."""
        return self.embedder(partition).embed_query(text)

    def query(self, vector: list[float], k: int, partition: str) -> list[tuple[str, float]]:
        """(record id, cosine similarity) of the `k` records of one partition nearest to `vector`, best first.

        A long record answers once, with its best part. Ids only: returning documents and metadata for every
        candidate made a query ~4x slower. Exact, hence the same in every process, up to EXACT_SEARCH_ENTRIES.
        """
        with store_errors(f"cannot query the store '{self.name}'"), native_stderr.to_log():
            collection = self._collection(partition)
            n = max(k, EXACT_SEARCH_ENTRIES)
            while True:
                got = collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
                ids, distances = got["ids"][0], got["distances"][0]  # type: ignore[index]
                best: dict[str, float] = {}
                for i, d in zip(ids, distances, strict=True):
                    best.setdefault(record_id(i), 1.0 - d)
                if len(best) >= k or len(ids) < n:  # enough records, or the whole partition was returned
                    return list(best.items())[:k]
                n *= 4  # parts of one long record crowded out other records: look further

    def count(self) -> int:
        """Stored entries in the live generation (a long record's parts count separately)."""
        with store_errors(f"cannot read the store '{self.name}'"), native_stderr.to_log():
            return sum(self._collection(p).count() for p in self.partitions())
