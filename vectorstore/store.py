"""A Chroma store of records grouped by document, swapped in whole generations so a failed ingest never
leaves a half-written collection behind.

Layout in Chroma: `<name>.live` is a tiny pointer collection whose metadata names the live generation
collection (`<name>.g<n>`) and the content hash of every document in it. Writing a document builds a new
generation (copying the other documents' records, embedding the new ones), then flips the pointer in one
metadata update, then drops the old generation. Readers always follow the pointer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

BATCH = 16  # texts embedded per call (progress granularity)
COPY_BATCH = 1000
GROUP = "store_doc"  # metadata key the store groups records by (the document they are replaced with)


class StoreUnavailable(Exception):
    """The store cannot be opened: missing directory, corrupt files, or an unreachable server."""


class StoreEmpty(Exception):
    """The store opened fine but holds no ingested documents yet."""


@dataclass(frozen=True)
class Record:
    """One stored text: `text` is embedded, `metadata` holds flat scalars (Chroma's rule)."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    vector: list[float] | None = None  # precomputed embedding (bulk loads, benchmarks); else embedded on write
    partition: str = "main"  # which collection of a generation holds it (queries search one partition)


def make_chroma_client(*, path: Path | None = None, host: str | None = None, port: int = 8000,
                       create: bool = False) -> Any:
    """Embedded `PersistentClient` at `path`, or `HttpClient` to a `chroma run` server when `host` is set.

    Telemetry is off. With create=False a missing local store is an error rather than a new empty directory,
    so read-only commands never create files.
    """
    settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if host:
            client = chromadb.HttpClient(host=host, port=port, settings=settings)
            client.heartbeat()
            return client
        assert path is not None
        if not create and not (path / "chroma.sqlite3").exists():
            raise StoreUnavailable(f"no store at {path}")
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except StoreUnavailable:
        raise
    except Exception as exc:  # chromadb raises many types for bad files / refused connections
        where = f"{host}:{port}" if host else str(path)
        raise StoreUnavailable(f"cannot open Chroma store at {where}: {exc}") from exc


class VectorStore:
    """Documents' records in partitioned Chroma collections, replaced a document at a time.

    A partition is a separate collection per kind of record (e.g. one per language view): a query touches
    one small HNSW index instead of filtering a large one by metadata, which Chroma does ~10x slower at 10^4
    records.
    """

    def __init__(self, client: Any, name: str, embeddings: Embeddings) -> None:
        self.client = client
        self.name = name
        self.embeddings = embeddings
        self._cache: dict[str, Chroma] = {}

    # -- the pointer ---------------------------------------------------------------------------
    def _pointer(self) -> Any:
        return self.client.get_or_create_collection(f"{self.name}.live", embedding_function=None)

    def _state(self) -> tuple[str | None, list[str], dict[str, str]]:
        """(live generation, its partitions, {doc_id: content hash})."""
        try:
            meta = self._pointer().metadata or {}
        except Exception as exc:
            raise StoreUnavailable(f"cannot read store pointer: {exc}") from exc
        return meta.get("live"), json.loads(meta.get("partitions", "[]")), json.loads(meta.get("docs", "{}"))

    def documents(self) -> dict[str, str]:
        """{doc_id: content hash} of the documents in the live generation."""
        return self._state()[2]

    def generation(self) -> str | None:
        """Name of the live generation: changes whenever any document is written."""
        return self._state()[0]

    def partitions(self) -> list[str]:
        return self._state()[1]

    def _chroma(self, collection_name: str) -> Chroma:
        return Chroma(client=self.client, collection_name=collection_name, embedding_function=self.embeddings,
                      collection_metadata={"hnsw:space": "cosine"})

    def live(self, partition: str) -> Chroma:
        """One partition of the live generation as a LangChain Chroma vector store."""
        live, partitions, _docs = self._state()
        if not live:
            raise StoreEmpty(f"store '{self.name}' has no documents yet")
        if partition not in partitions:
            raise KeyError(f"no partition {partition!r} in store '{self.name}' (has {partitions})")
        name = f"{live}.{partition}"
        if name not in self._cache:
            self._cache = {name: self._chroma(name), **{k: v for k, v in self._cache.items() if k.startswith(live)}}
        return self._cache[name]

    # -- writing -------------------------------------------------------------------------------
    def replace_document(self, doc_id: str, content_hash: str, records: Sequence[Record],
                         progress: Callable[[int], None] | None = None) -> bool:
        """Make `records` the whole content of `doc_id`. Returns False when that exact content is already live.

        Builds a new generation (the other documents' records copied with their embeddings, the new ones
        embedded), flips the pointer in one metadata update, then drops the old generation.
        """
        live, old_partitions, docs = self._state()
        if docs.get(doc_id) == content_hash:
            return False
        generation = f"{self.name}.g{time.time_ns()}"
        partitions = sorted(set(old_partitions) | {r.partition for r in records})
        try:
            for partition in partitions:
                target = self._chroma(f"{generation}.{partition}")
                if live and partition in old_partitions:
                    self._copy_others(f"{live}.{partition}", target, doc_id)
                mine = [r for r in records if r.partition == partition]
                for start in range(0, len(mine), BATCH):
                    self._add(target, mine[start:start + BATCH], doc_id)
                    if progress:
                        progress(len(mine[start:start + BATCH]))
        except BaseException:
            self._drop(generation, partitions)
            raise
        docs = {**docs, doc_id: content_hash}
        self._pointer().modify(metadata={"live": generation, "partitions": json.dumps(partitions),
                                         "docs": json.dumps(docs, sort_keys=True)})
        if live:
            self._drop(live, old_partitions)
        return True

    def _copy_others(self, source: str, target: Chroma, doc_id: str) -> None:
        old = self.client.get_collection(source, embedding_function=None)
        kept = old.get(where={GROUP: {"$ne": doc_id}}, include=["embeddings", "documents", "metadatas"])
        for i in range(0, len(kept["ids"]), COPY_BATCH):  # Chroma caps one add at ~5,000 records
            target._collection.add(ids=kept["ids"][i:i + COPY_BATCH], embeddings=kept["embeddings"][i:i + COPY_BATCH],
                                   documents=kept["documents"][i:i + COPY_BATCH],
                                   metadatas=kept["metadatas"][i:i + COPY_BATCH])

    @staticmethod
    def _add(target: Chroma, batch: Sequence[Record], doc_id: str) -> None:
        metadatas = [{**r.metadata, GROUP: doc_id} for r in batch]
        if all(r.vector is not None for r in batch):
            target._collection.add(ids=[r.id for r in batch], embeddings=[r.vector for r in batch],  # type: ignore[arg-type]
                                   documents=[r.text for r in batch], metadatas=metadatas)  # type: ignore[arg-type]
        else:
            target.add_texts([r.text for r in batch], metadatas=metadatas, ids=[r.id for r in batch])

    def _drop(self, generation: str, partitions: list[str]) -> None:
        existing = {c.name for c in self.client.list_collections()}
        for partition in partitions:
            if f"{generation}.{partition}" in existing:
                self.client.delete_collection(f"{generation}.{partition}")

    # -- reading -------------------------------------------------------------------------------
    def records(self, partition: str, where: dict[str, Any] | None = None) -> list[Record]:
        got = self.live(partition).get(where=where, include=["documents", "metadatas"])
        return [Record(i, d, m, partition=partition)
                for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]

    def embed_query(self, text: str) -> list[float]:
        return self.embeddings.embed_query(text)

    def query(self, vector: list[float], k: int, partition: str) -> list[tuple[str, float]]:
        """(record id, cosine similarity) of the `k` records of one partition nearest to `vector`, best first.

        Ids only: returning documents and metadata for every candidate made a query ~4x slower.
        """
        got = self.live(partition)._collection.query(query_embeddings=vector, n_results=k, include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]  # type: ignore[index]

    def count(self) -> int:
        return sum(self.live(p)._collection.count() for p in self.partitions())
