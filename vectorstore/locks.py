"""Mutual exclusion between writers of one store: a file lock beside an embedded store, a lock collection on
a Chroma server."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from chromadb.errors import ChromaError
from filelock import FileLock
from filelock import Timeout as FileLockTimeout

from vectorstore.failures import StoreUnavailable, store_errors

log = logging.getLogger(__name__)

LOCK_WAIT = 900.0  # seconds a writer waits for another writer before giving up
LOCK_TTL = 30.0  # seconds a server lock lives without being refreshed (a killed writer's lock expires)
WRITE_LOCK = "policyqa-write.lock"  # file in an embedded store's directory that serialises its writers
BUSY = "another ingest has been writing to this store for too long; try again later"


class CollectionLock:
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
                raise StoreUnavailable(BUSY)
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


@contextlib.contextmanager
def writer_lock(client: Any, name: str, lock_path: Path | None) -> Iterator[Callable[[], None]]:
    """Hold the writers' lock of store `name`: the file `lock_path` (embedded) or a lock collection on the
    server; yields a refresh callback that long builds call as they make progress."""
    if lock_path is not None:
        lock = FileLock(str(lock_path))
        try:
            lock.acquire(timeout=LOCK_WAIT)
        except FileLockTimeout:
            raise StoreUnavailable(BUSY) from None
        try:
            yield lambda: None
        finally:
            lock.release()
        return
    server_lock = CollectionLock(client, name)
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
