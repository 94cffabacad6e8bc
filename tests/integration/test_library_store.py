"""`policyqa docs` lists the stored documents; `policyqa remove ID` deletes one and nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST = ROOT / "data" / "guangdong-high-quality-development-2023.zh.txt"
REGULATION = next((ROOT / "data" / "library").glob("广东省知识产权保护条例*.md"))


def policyqa(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "POLICYQA_"))}
    env["POLICYQA_STORE"] = str(store)
    return subprocess.run([sys.executable, "-m", "policyqa", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)


def _records(store: Path) -> dict[str, str]:
    from rag import load_settings
    from rag.index import open_store

    vs = open_store(load_settings(env={}, store_dir=store))
    return {r.id: r.text for p in vs.partitions() for r in vs.records(p)}


def test_docs_lists_and_remove_deletes_one_document_only(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert policyqa("ingest", "-q", str(FIRST), str(REGULATION), store=store).returncode == 0
    listed = [json.loads(line) for line in policyqa("docs", "--json", store=store).stdout.splitlines()]
    by_title = {d["title"]: d for d in listed}
    assert set(by_title) == {"广东省知识产权保护条例", "中共广东省委 广东省人民政府关于新时代广东高质量发展的若干意见"}
    regulation = by_title["广东省知识产权保护条例"]
    assert (regulation["date"], regulation["units"], regulation["languages"]) == ("2022-03-29", 58, "zh")
    assert by_title["中共广东省委 广东省人民政府关于新时代广东高质量发展的若干意见"]["languages"] == "zh,en"
    assert all(d["ingested"] for d in listed)

    before = _records(store)
    out = policyqa("remove", "no-such-doc", store=store)
    assert out.returncode == 2 and "no-such-doc" in out.stderr and _records(store) == before

    assert policyqa("remove", regulation["doc_id"], store=store).returncode == 0
    after = _records(store)
    assert after == {k: v for k, v in before.items() if not k.startswith(regulation["doc_id"] + ":")}
    assert len(after) < len(before)
    remaining = [json.loads(line)["doc_id"] for line in policyqa("docs", "--json", store=store).stdout.splitlines()]
    assert remaining == ["guangdong-high-quality-development-2023"]
