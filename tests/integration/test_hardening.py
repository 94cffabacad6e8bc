"""Faults found by the hostile probe, reproduced against the real components: the Gradio app over HTTP
(history bounds, rate-limited logins), and a non-editable install of the wheel (bundled data found)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, serve_app

ROOT = Path(__file__).resolve().parents[2]


def test_api_history_is_bounded_and_validated(settings) -> None:
    from gradio_client import Client

    with serve_app(settings.with_overrides(backend="extractive")) as url:
        client = Client(url, verbose=False)
        huge = [{"role": "user", "content": "问" * 100_000}]
        out = client.predict("那深圳呢？", history=huge, api_name="/ask")
        assert "error" in out and "100,000" in out["error"]
        many = [m for i in range(500) for m in ({"role": "user", "content": f"问题{i}"},
                                               {"role": "assistant", "content": "答" * 50_000})]
        out = client.predict("第八条讲了什么？", history=many, api_name="/ask")
        assert out.get("citations") == ["A8"], out  # old turns dropped, long answers cut: it still answers


def test_failed_logins_are_rate_limited_over_http(settings) -> None:
    from ui.app import build_app, launch_options
    from ui.cli import RateLimitedAuth

    demo = build_app(settings.with_overrides(backend="extractive"), warm=False)
    auth = RateLimitedAuth("ann", "secret", max_failures=3)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                            auth=auth, **launch_options())
    try:
        def login(password: str) -> int:
            return httpx.post(f"{url.rstrip('/')}/login", data={"username": "ann", "password": password},
                              timeout=30).status_code

        assert login("secret") == 200
        assert [login(f"guess{i}") for i in range(3)] == [400, 400, 400]
        assert login("secret") == 400  # locked out after three failures
    finally:
        demo.close()


@pytest.mark.slow
def test_installed_wheel_finds_its_bundled_document(tmp_path: Path) -> None:
    """A non-editable install (built wheel, run outside the checkout) finds data/ as package data."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, timeout=600)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True,
                          text=True, check=True).stdout.strip()
    deps = subprocess.run([sys.executable, "-c", "import chromadb, os; print(os.path.dirname(os.path.dirname(chromadb.__file__)))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(deps + "\n")  # the dependencies, without this checkout's editable install
    wheel = next(wheels.glob("policyqa-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
                   check=True, timeout=600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICYQA_", "OPENAI_", "CHROMA_"))}
    env["POLICYQA_STORE"] = str(tmp_path / "store")
    out = subprocess.run([str(env_dir / "bin" / "policyqa"), "search", "--json", "-k", "1", "--doc",
                          "guangdong-high-quality-development-2023", "第八条讲了什么？"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr
    assert '"unit": "A8"' in out.stdout
    listed = subprocess.run([str(env_dir / "bin" / "policyqa"), "search", "--json", "第八条讲了什么？"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert len(json.loads(listed.stdout)["documents"]) == 7  # the bundled library: the featured document + six
    located = subprocess.run([str(py), "-c", "import rag.config as c; print(c.DEFAULT_DATA_FILE)"],
                             capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout
    assert str(env_dir) in located and str(ROOT) not in located


def test_api_documents_scope_the_answer(tmp_path: Path) -> None:
    """/ask takes `documents`: a bare 第八条 over the library names the document only when scoped to one."""
    from gradio_client import Client

    from rag import ingest, load_settings
    from tests.conftest import DATA

    regulation = next((ROOT / "data" / "library").glob("广东省知识产权保护条例*.md"))
    settings = load_settings(env={}, store_dir=tmp_path / "store", backend="extractive", data_files=(DATA, regulation))
    ingest(settings, progress=False)
    with serve_app(settings) as url:
        client = Client(url, verbose=False)
        scoped = client.predict("第八条讲了什么？", documents=["guangdong-high-quality-development-2023"], api_name="/ask")
        assert scoped["citations"] == ["A8"] and "[第八条]" in scoped["answer"], scoped
        both = client.predict("第八条讲了什么？", api_name="/ask")
        assert "《" in both["answer"], both  # two documents hold a 第八条: each citation names its document
        bad = client.predict("第八条讲了什么？", documents=["no-such-doc"], api_name="/ask")
        assert "no-such-doc" in bad["error"]
