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


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    metadata: dict[str, Any]
    similarity: float


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
    """Documents' records in one live Chroma collection, replaced a document at a time."""

    def __init__(self, client: Any, name: str, embeddings: Embeddings) -> None:
        self.client = client
        self.name = name
        self.embeddings = embeddings
        self._live_cache: tuple[str, Chroma] | None = None

    # -- the pointer ---------------------------------------------------------------------------
    def _pointer(self) -> Any:
        return self.client.get_or_create_collection(f"{self.name}.live", embedding_function=None)

    def _state(self) -> tuple[str | None, dict[str, str]]:
        try:
            meta = self._pointer().metadata or {}
        except Exception as exc:
            raise StoreUnavailable(f"cannot read store pointer: {exc}") from exc
        return meta.get("live"), json.loads(meta.get("docs", "{}"))

    def documents(self) -> dict[str, str]:
        """{doc_id: content hash} of the documents in the live generation."""
        return self._state()[1]

    def _chroma(self, collection_name: str) -> Chroma:
        return Chroma(client=self.client, collection_name=collection_name, embedding_function=self.embeddings,
                      collection_metadata={"hnsw:space": "cosine"})

    def live(self) -> Chroma:
        """The live generation as a LangChain Chroma vector store."""
        live, _docs = self._state()
        if not live:
            raise StoreEmpty(f"store '{self.name}' has no documents yet")
        if self._live_cache is None or self._live_cache[0] != live:
            self._live_cache = (live, self._chroma(live))
        return self._live_cache[1]

    # -- writing -------------------------------------------------------------------------------
    def replace_document(self, doc_id: str, content_hash: str, records: Sequence[Record],
                         progress: Callable[[int], None] | None = None) -> bool:
        """Make `records` the whole content of `doc_id`. Returns False when that exact content is already live."""
        live, docs = self._state()
        if docs.get(doc_id) == content_hash:
            return False
        generation = f"{self.name}.g{time.time_ns()}"
        target = self._chroma(generation)
        try:
            if live:  # carry the other documents over with their stored embeddings
                old = self.client.get_collection(live, embedding_function=None)
                kept = old.get(where={GROUP: {"$ne": doc_id}}, include=["embeddings", "documents", "metadatas"])
                for i in range(0, len(kept["ids"]), COPY_BATCH):  # Chroma caps one add at ~5,000 records
                    target._collection.add(ids=kept["ids"][i:i + COPY_BATCH],
                                           embeddings=kept["embeddings"][i:i + COPY_BATCH],
                                           documents=kept["documents"][i:i + COPY_BATCH],
                                           metadatas=kept["metadatas"][i:i + COPY_BATCH])
            for start in range(0, len(records), BATCH):
                batch = records[start:start + BATCH]
                metadatas = [{**r.metadata, GROUP: doc_id} for r in batch]
                if all(r.vector is not None for r in batch):
                    target._collection.add(ids=[r.id for r in batch], embeddings=[r.vector for r in batch],  # type: ignore[arg-type]
                                           documents=[r.text for r in batch], metadatas=metadatas)  # type: ignore[arg-type]
                else:
                    target.add_texts([r.text for r in batch], metadatas=metadatas, ids=[r.id for r in batch])
                if progress:
                    progress(len(batch))
        except BaseException:
            self.client.delete_collection(generation)
            raise
        docs = {**docs, doc_id: content_hash}
        self._pointer().modify(metadata={"live": generation, "docs": json.dumps(docs, sort_keys=True)})
        if live:
            self.client.delete_collection(live)
        return True

    # -- reading -------------------------------------------------------------------------------
    def records(self, where: dict[str, Any] | None = None) -> list[Record]:
        got = self.live().get(where=where, include=["documents", "metadatas"])
        return [Record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]

    def embed_query(self, text: str) -> list[float]:
        return self.embeddings.embed_query(text)

    def query(self, vector: list[float], k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        """Nearest records to `vector` (cosine similarity, 1 is identical)."""
        pairs = self.live().similarity_search_by_vector_with_relevance_scores(vector, k=k, filter=where)
        return [Hit(doc.id or "", doc.page_content, dict(doc.metadata), 1.0 - dist) for doc, dist in pairs]

    def count(self) -> int:
        return self.live()._collection.count()

