"""Open Chroma: an embedded `PersistentClient` or an HTTP client to a `chroma run` server, with the fixes a
user-facing tool needs (request timeouts, read-only stores, no native panic reports on the terminal)."""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from filelock import FileLock

from vectorstore.failures import StoreUnavailable, describe, native_stderr
from vectorstore.locks import LOCK_WAIT, WRITE_LOCK

log = logging.getLogger(__name__)


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
        raise StoreUnavailable(f"cannot open Chroma store at {where}: {describe(exc)}") from exc


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
