"""How store failures surface: one exception type for callers (with a one-line reason), and native
chromadb output kept off the user's terminal."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import httpx
from chromadb.errors import ChromaError

log = logging.getLogger(__name__)


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


def is_store_failure(exc: BaseException) -> bool:
    """Errors that mean the store (files, server, network) failed, as opposed to a bug of ours.

    The Rust core of chromadb panics on some corrupt files with pyo3's PanicException, a BaseException.
    """
    return (isinstance(exc, ChromaError | httpx.HTTPError | OSError)
            or type(exc).__name__ == "PanicException")


def describe(exc: BaseException) -> str:
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
        if not is_store_failure(exc):
            raise
        log.info("%s failed", what, exc_info=True)  # expected (files, network): the caller tells the user
        raise StoreUnavailable(f"{what}: {describe(exc)}") from exc


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
