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

import atexit
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from filelock import FileLock
from filelock import Timeout as FileLockTimeout
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)

BATCH = 16  # texts embedded per call (progress granularity)
COPY_BATCH = 1000
GROUP = "store_doc"  # metadata key the store groups records by (the document they are replaced with)
MAX_EMBED_CHARS = 2500  # longer texts are embedded in parts (USE mean-pools a CNN: memory grows with length)
PART = "#part"  # id of part n>0 of a long record: `<id>#part<n>`; part 0 keeps the record's own id and metadata
LOCK_WAIT = 900.0  # seconds a writer waits for another writer before giving up
LOCK_TTL = 30.0  # seconds a server lock lives without being refreshed (a killed writer's lock expires)
WRITE_LOCK = "policyqa-write.lock"  # file in an embedded store's directory that serialises its writers
WRITE_ATTEMPTS = 5  # generations rebuilt when the pointer moved under a writer


class StoreUnavailable(Exception):
    """The store cannot be opened: missing directory, corrupt files, or an unreachable server."""


class StoreEmpty(Exception):
    """The store opened fine but holds no ingested documents yet."""


class CollectionMissing(StoreUnavailable):
    """The named collection does not exist (a typo?): `existing` lists the ones that do."""

    def __init__(self, name: str, existing: list[str]) -> None:
        super().__init__(f"no collection '{name}' (existing: {', '.join(existing) or 'none'})")
        self.name = name
        self.existing = existing


@dataclass(frozen=True)
class Record:
    """One stored text: `text` is embedded, `metadata` holds flat scalars (Chroma's rule)."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    vector: list[float] | None = None  # precomputed embedding (bulk loads, benchmarks); else embedded on write
    partition: str = "main"  # which collection of a generation holds it (queries search one partition)


def _is_store_failure(exc: BaseException) -> bool:
    """Errors that mean the store (files, server, network) failed, as opposed to a bug of ours.

    The Rust core of chromadb panics on some corrupt files with pyo3's PanicException, a BaseException.
    """
    return (isinstance(exc, ChromaError | httpx.HTTPError | OSError)
            or type(exc).__name__ == "PanicException")


def _describe(exc: BaseException) -> str:
    """One short line for a store failure (panics and HTTP errors carry multi-line or empty messages)."""
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.TransportError):
        return f"connection failed ({type(exc).__name__}: {exc})"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


@contextlib.contextmanager
def store_errors(what: str) -> Iterator[None]:
    """Turn a store failure raised inside the block into StoreUnavailable("<what>: <reason>")."""
    try:
        yield
    except (StoreUnavailable, StoreEmpty):
        raise
    except BaseException as exc:
        if not _is_store_failure(exc):
            raise
        log.info("%s failed", what, exc_info=True)  # expected (files, network): the caller tells the user
        raise StoreUnavailable(f"{what}: {_describe(exc)}") from exc


class _NativeStderr:
    """Sends what native code writes to file descriptor 2 during store reads to the log (debug) instead.

    chromadb's Rust core prints a panic report straight to fd 2 before raising PanicException (e.g. on a
    corrupt database), which would put a multi-line report above our one-line error. fd 2 is process-wide,
    so nested or concurrent blocks share one redirection (counted); Python's own stderr output during a
    block goes to the log too, so blocks are kept to short reads (never around a progress bar).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: int | None = None
        self._sink: Any = None

    @contextlib.contextmanager
    def to_log(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._redirect()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    self._restore()

    def _redirect(self) -> None:
        try:
            if self._sink is None:
                self._sink = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process)
            sys.stderr.flush()
            self._saved = os.dup(2)
            os.dup2(self._sink.fileno(), 2)
        except (OSError, ValueError):
            log.debug("cannot redirect native stderr", exc_info=True)
            self._saved = None

    def _restore(self) -> None:
        if self._saved is None:
            return
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._saved = None
        self._sink.seek(0)
        text = self._sink.read().decode("utf-8", "replace").strip()
        self._sink.seek(0)
        self._sink.truncate()
        if text:
            log.debug("chromadb wrote to stderr: %s", text)


native_stderr = _NativeStderr()


def _http_client(host: str, port: int, timeout: float) -> Any:
    """`chromadb.HttpClient` whose requests time out after `timeout` seconds.

    chromadb 1.5.9 builds its session with `httpx.Client(timeout=None)` and offers no setting for it, so a
    frozen server hangs every call forever (and already the constructor, which makes a request): probe the
    server with a bounded request first, then set the timeout on the client's session.
    """
    with httpx.Client(timeout=timeout) as probe:
        probe.get(f"http://{host}:{port}/api/v2/heartbeat")
    client = chromadb.HttpClient(host=host, port=port, settings=ChromaSettings(anonymized_telemetry=False))
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout)
    else:
        log.warning("cannot set a timeout on chromadb's HTTP session (chromadb changed?): a frozen server may hang")
    return client


def make_chroma_client(*, path: Path | None = None, host: str | None = None, port: int = 8000,
                       create: bool = False, timeout: float = 30.0) -> Any:
    """Embedded `PersistentClient` at `path`, or `HttpClient` to a `chroma run` server when `host` is set.

    Telemetry is off. With create=False a missing local store is an error rather than a new empty directory,
    so read-only commands never create files. Server requests time out after `timeout` seconds.
    """
    where = f"{host}:{port}" if host else str(path)
    try:
        if host:
            client = _http_client(host, port, timeout)
            client.heartbeat()
            return client
        assert path is not None
        if not create and not (path / "chroma.sqlite3").exists():  # raises PermissionError if it may not look
            raise StoreUnavailable(f"no store at {path}")
        if create:  # writers open under the writers' lock: two first ingests would both create the tables
            path.mkdir(parents=True, exist_ok=True)
            with FileLock(str(path / WRITE_LOCK), timeout=LOCK_WAIT), native_stderr.to_log():
                return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
        try:
            with native_stderr.to_log():
                return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
        except ChromaError as exc:
            if "readonly database" not in str(exc):
                raise
        log.info("the store at %s is read-only: reading a private copy of it", path)
        with native_stderr.to_log():
            return chromadb.PersistentClient(path=str(_private_copy(path)),
                                             settings=ChromaSettings(anonymized_telemetry=False))
    except StoreUnavailable:
        raise
    except BaseException as exc:  # chromadb raises many types (ValueError for a refused connection, panics)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        log.info("opening the Chroma store at %s failed", where, exc_info=True)
        raise StoreUnavailable(f"cannot open Chroma store at {where}: {_describe(exc)}") from exc


def _private_copy(path: Path) -> Path:
    """A temporary writable copy of a read-only store, removed at exit.

    chromadb 1.5.9 writes to its database whenever it opens it, so a store the user may only read (a shared
    or mounted index) cannot be opened in place; readers never write back, so a copy answers the same.
    """
    tmp = Path(tempfile.mkdtemp(prefix="policyqa-readonly-"))
    atexit.register(shutil.rmtree, tmp, True)
    copy = tmp / "store"
    shutil.copytree(path, copy, copy_function=shutil.copyfile, ignore=shutil.ignore_patterns("*.lock"))
    for p in [copy, *copy.rglob("*")]:
        p.chmod(0o700 if p.is_dir() else 0o600)
    return copy


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


class _CollectionLock:
    """Mutual exclusion between writers of one store on a Chroma server: a lock collection created atomically
    (Chroma refuses a second collection of the same name), carrying its owner and an expiry on the server's
    clock so a killed writer's lock is taken over after LOCK_TTL."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = f"{name}.lock"
        self.owner = uuid.uuid4().hex
        self._refreshed = time.monotonic()

    def _now(self) -> float:
        return self.client.heartbeat() / 1e9

    def acquire(self, wait: float = LOCK_WAIT) -> None:
        deadline = time.monotonic() + wait
        while True:
            try:
                self.client.create_collection(self.name, metadata={"owner": self.owner,
                                                                   "expires": self._now() + LOCK_TTL})
                log.debug("acquired %s", self.name)
                return
            except ChromaError:
                held = self._held_by_other()
            if time.monotonic() > deadline:
                raise StoreUnavailable("another ingest has been writing to this store for too long; try again later")
            time.sleep((0.2 + (uuid.uuid4().int % 300) / 1000) if held else 0.05)

    def _held_by_other(self) -> bool:
        """True while another live writer holds the lock; removes the lock when it has expired."""
        try:
            meta = self.client.get_collection(self.name).metadata or {}
        except ChromaError:
            return False  # released meanwhile: try again at once
        if float(meta.get("expires", 0)) < self._now():
            log.warning("taking over an expired store lock %s (owner %s)", self.name, meta.get("owner"))
            with contextlib.suppress(ChromaError):
                self.client.delete_collection(self.name)
            return False
        return True

    def refresh(self) -> None:
        """Push the expiry forward (called as the writer makes progress).

        A writer that stalled past LOCK_TTL has lost its lock to another; it goes on, and the compare-and-swap
        on the pointer (or its vanished generation) makes it rebuild or fail rather than drop a document.
        """
        if time.monotonic() - self._refreshed < LOCK_TTL / 3:
            return
        self._refreshed = time.monotonic()
        try:
            lock = self.client.get_collection(self.name)
        except ChromaError:
            lock = None
        if lock is None or (lock.metadata or {}).get("owner") != self.owner:
            log.warning("lost the store lock %s to another writer", self.name)
            return
        lock.modify(metadata={"owner": self.owner, "expires": self._now() + LOCK_TTL})

    def release(self) -> None:
        with contextlib.suppress(ChromaError):
            if (self.client.get_collection(self.name).metadata or {}).get("owner") == self.owner:
                self.client.delete_collection(self.name)


class VectorStore:
    """Documents' records in partitioned Chroma collections, replaced a document at a time.

    A partition is a separate collection per kind of record (e.g. one per language view): a query touches
    one small HNSW index instead of filtering a large one by metadata, which Chroma does ~10x slower at 10^4
    records. `lock_path` (embedded stores) is the writers' lock file; without it writers lock on the server.
    """

    def __init__(self, client: Any, name: str, embeddings: Embeddings, *, lock_path: Path | None = None) -> None:
        self.client = client
        self.name = name
        self.embeddings = embeddings
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
        return Chroma(client=self.client, collection_name=collection.name, embedding_function=self.embeddings,
                      create_collection_if_not_exists=False)

    # -- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _writer(self) -> Iterator[Callable[[], None]]:
        """Hold the writers' lock; yields a refresh callback for long builds."""
        if self.lock_path is not None:
            lock = FileLock(str(self.lock_path))
            try:
                lock.acquire(timeout=LOCK_WAIT)
            except FileLockTimeout:
                raise StoreUnavailable("another ingest has been writing to this store for too long; "
                                       "try again later") from None
            try:
                yield lambda: None
            finally:
                lock.release()
            return
        server_lock = _CollectionLock(self.client, self.name)
        with store_errors("cannot lock the store for writing"):
            server_lock.acquire()
        try:
            yield server_lock.refresh
        except BaseException:
            try:  # the write's own error is the one to report; an unreleased lock expires after LOCK_TTL
                server_lock.release()
            except Exception:
                log.info("cannot release the store lock after a failed write", exc_info=True)
            raise
        with store_errors("cannot unlock the store"):
            server_lock.release()

    def replace_document(self, doc_id: str, content_hash: str, records: Sequence[Record],
                         progress: Callable[[int], None] | None = None) -> bool:
        """Make `records` the whole content of `doc_id`. Returns False when that exact content is already live.

        Under the writers' lock: build a new generation (the other documents' records copied with their
        embeddings, the new ones embedded), check the pointer still names the generation it was built from
        (else rebuild on the new one), flip the pointer in one metadata update, drop every other generation.
        """
        with store_errors("write failed"), self._writer() as refresh:
            self._pointer(create=True)
            vectors: dict[str, list[float]] = {}  # by text hash: an untranslated unit's two views embed once
            for attempt in range(WRITE_ATTEMPTS):
                live, old_partitions, docs = self._state()
                if docs.get(doc_id) == content_hash:
                    return False
                generation = f"{self.name}.g{time.time_ns()}"
                partitions = sorted(set(old_partitions) | {r.partition for r in records})
                self._build(generation, partitions, live, old_partitions, doc_id, records, vectors,
                            progress if attempt == 0 else None, refresh)
                if self._state()[0] != live:  # another writer flipped the pointer (its lock had expired)
                    log.warning("store pointer moved while writing %s; rebuilding on the new generation", doc_id)
                    self._drop(generation)
                    continue
                self._pointer().modify(metadata={"live": generation, "partitions": json.dumps(partitions),
                                                 "docs": json.dumps({**docs, doc_id: content_hash}, sort_keys=True)})
                log.info("store %s: %s written, live generation %s", self.name, doc_id, generation)
                self.collect_garbage()
                return True
        raise StoreUnavailable(f"the store kept changing while writing {doc_id}; try again")

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
                    self._add(target, batch, doc_id, vectors, refresh)
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

    def _add(self, target: Any, batch: Sequence[Record], doc_id: str, vectors: dict[str, list[float]],
             refresh: Callable[[], None]) -> None:
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
            for i, v in zip(todo, self._embed([chunk[i] for i in todo], vectors), strict=True):
                vecs[i] = v
            target.add(ids=ids[start:start + BATCH], embeddings=vecs, documents=chunk,
                       metadatas=metas[start:start + BATCH])
            refresh()

    def _embed(self, texts: list[str], vectors: dict[str, list[float]]) -> list[list[float]]:
        """Embeddings of `texts`, reusing those computed earlier in this write (keyed by text hash)."""
        if not texts:
            return []
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        todo = [i for i, k in enumerate(keys) if k not in vectors]
        for i, vec in zip(todo, self.embeddings.embed_documents([texts[i] for i in todo]), strict=True):
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

    def embed_query(self, text: str) -> list[float]:
        return self.embeddings.embed_query(text)

    def query(self, vector: list[float], k: int, partition: str) -> list[tuple[str, float]]:
        """(record id, cosine similarity) of the `k` records of one partition nearest to `vector`, best first.

        A long record answers once, with its best part. Ids only: returning documents and metadata for every
        candidate made a query ~4x slower.
        """
        with store_errors(f"cannot query the store '{self.name}'"), native_stderr.to_log():
            collection = self._collection(partition)
            n = k
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
