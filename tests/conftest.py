"""Shared fixtures. Every test runs against temp stores: an autouse fixture points POLICYQA_STORE at a temp dir
and clears LLM settings, so tests never touch a user's data or a real API key."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "guangdong-high-quality-development-2023.zh.txt"
_ENV_KEYS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "POLICYQA_BACKEND", "CHROMA_HOST", "CHROMA_PORT",
             "POLICYQA_STORE", "POLICYQA_COLLECTION", "POLICYQA_LANGUAGE", "POLICYQA_DATA", "POLICYQA_CACHE_DIR")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the folder it lives in (unit / integration / e2e), so `-m unit` selects the fast ones."""
    for item in items:
        kind = Path(str(item.fspath)).parent.name
        if kind in ("unit", "integration", "e2e"):
            item.add_marker(kind)


@pytest.fixture(scope="session", autouse=True)
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One temp cache for the whole session, set before any session fixture ingests: derived files (the model's
    uncompressed weights) are written once, and never into the user's cache."""
    path = tmp_path_factory.mktemp("cache-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("POLICYQA_CACHE_DIR", raising=False)
        mp.setenv("XDG_CACHE_HOME", str(path))
        yield path


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in _ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("POLICYQA_STORE", str(tmp_path / "default-store"))


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the featured document only, ingested once per test session (read-only for tests): the
    single-document behaviour the tests pin down. Library tests build their own store."""
    from rag import ingest, load_settings

    path = tmp_path_factory.mktemp("store")
    ingest(load_settings(env={}, store_dir=path, data_files=(DATA,)), progress=False)
    return path


@pytest.fixture()
def settings(store_dir: Path):
    from rag import load_settings

    return load_settings(env={}, store_dir=store_dir, data_files=(DATA,))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_app(settings, **app_options) -> Iterator[str]:
    """Build the Gradio app for `settings` (and build_app options), serve it on a free loopback port, yield its URL."""
    from ui.app import build_app, launch_options

    demo = build_app(settings, **app_options)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                            **launch_options())
    try:
        yield url
    finally:
        demo.close()


def chroma_client(port: int):
    """An HttpClient to the `chroma run` server on this loopback port."""
    import chromadb
    from chromadb.config import Settings

    return chromadb.HttpClient(host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False))


@contextlib.contextmanager
def chroma_process(path: Path, port: int) -> Iterator[subprocess.Popen]:
    """A real `chroma run` server storing in `path` on 127.0.0.1:`port`, ready when yielded; stopped afterwards
    whatever its state (fault tests freeze it with SIGSTOP or kill it)."""
    exe = str(Path(sys.executable).parent / "chroma")  # installed with chromadb beside this interpreter
    log_path = path.parent / f"server-{port}.log"
    log = open(log_path, "ab")  # noqa: SIM115
    proc = subprocess.Popen([exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                chroma_client(port).heartbeat()
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma run did not start: {log_path.read_text()[-2000:]}") from None
                time.sleep(0.3)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server on 127.0.0.1, started for the session and stopped after it."""
    port = free_port()
    with chroma_process(tmp_path_factory.mktemp("chroma-server") / "db", port):
        yield "127.0.0.1", port
