"""Store faults, each reproduced with real files, real `chroma run` servers and the real CLI in subprocesses:
concurrent writers, corrupt or forbidden store files, frozen or killed servers, read-only stores, orphaned
generations and over-long units. Each must end in exit 4 with one line, or just work, and lose no document."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT, chroma_client, chroma_process, free_port

pytestmark = pytest.mark.integration

NOBODY = 65534  # uid/gid of `nobody`, the owner of the stores that permission tests confine the CLI from
# Root ignores file modes. Confined CLI runs stay root (the interpreter lives under /root) but drop the
# capabilities that bypass file permissions, so modes apply to them as to any user.
CONFINED = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner,-chown", "--"]


# -- helpers -----------------------------------------------------------------------------------------------
def cli(args: list[str], *, env: dict[str, str] | None = None, confined: bool = False, timeout: float = 300,
        ) -> subprocess.CompletedProcess[str]:
    """Run `python -m policyqa ARGS` from the worktree root; `confined`: subject to file permissions."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "POLICYQA_"))}
    full.update(env or {})
    prefix = CONFINED if confined and os.geteuid() == 0 else []
    return subprocess.run([*prefix, sys.executable, "-m", "policyqa", *args], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=timeout)


def read_only(store: Path, dir_mode: int = 0o555) -> None:
    """Make a store read-only for a confined CLI: owned by `nobody` (when we are root), r-x dirs, r-- files."""
    for p in [*store.rglob("*"), store]:
        if os.geteuid() == 0:
            os.chown(p, NOBODY, NOBODY)
        p.chmod(dir_mode if p.is_dir() and p == store else 0o555 if p.is_dir() else 0o444)


def writable(store: Path) -> None:
    for p in [store, *store.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)


def assert_store_error(out: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit 4, exactly one line on stderr, no traceback."""
    assert out.returncode == 4, (out.returncode, out.stderr[-3000:])
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr[-3000:]
    for needle in needles:
        assert needle in out.stderr, out.stderr


def variant(tmp: Path, name: str, title: str) -> Path:
    """A copy of the bundled document under another file name (so another doc id) with a changed title line."""
    text = DATA.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("中共广东省委"))
    path = tmp / f"{name}.zh.txt"
    path.write_text(text.replace(old, title, 1), encoding="utf-8")
    return path


def copy_store(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    writable(dst)
    return dst


def tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def store_documents(**settings) -> dict[str, str]:
    from rag import load_settings
    from rag.index import open_store

    return open_store(load_settings(env={}, **settings)).documents()


def generations(client, collection: str) -> set[str]:
    """Generation names present in a Chroma client for one collection (live or not)."""
    prefix = f"{collection}.g"
    return {c.name.rsplit(".", 1)[0] for c in client.list_collections() if c.name.startswith(prefix)}


# -- 1. concurrent writers -----------------------------------------------------------------------------------
def _parallel_ingests(tmp: Path, store_args: list[str]) -> list[subprocess.CompletedProcess[str]]:
    docs = [variant(tmp, "doc-alpha", "甲市关于高质量发展的若干意见"), variant(tmp, "doc-beta", "乙市关于高质量发展的若干意见")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "POLICYQA_"))}
    procs = [subprocess.Popen([sys.executable, "-m", "policyqa", "ingest", "-q", *store_args, str(doc)], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for doc in docs]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


@pytest.mark.parametrize("attempt", range(3))
def test_two_parallel_ingests_into_an_embedded_store_keep_both_documents(tmp_path: Path, attempt: int) -> None:
    store = tmp_path / "db"
    for out in _parallel_ingests(tmp_path, ["--store", str(store)]):
        assert out.returncode == 0, out.stderr[-3000:]
    assert set(store_documents(store_dir=store)) == {"doc-alpha", "doc-beta"}


@pytest.mark.parametrize("attempt", range(3))
def test_two_parallel_ingests_into_a_chroma_server_keep_both_documents(chroma_server, tmp_path: Path,
                                                                       attempt: int) -> None:
    host, port = chroma_server
    collection = f"parallel{attempt}"
    args = ["--chroma-host", host, "--chroma-port", str(port), "--collection", collection]
    for out in _parallel_ingests(tmp_path, args):
        assert out.returncode == 0, out.stderr[-3000:]
    assert set(store_documents(chroma_host=host, chroma_port=port, collection=collection)) == {"doc-alpha", "doc-beta"}
    assert len(generations(chroma_client(port), collection)) == 1  # the loser's and the old generations are gone


# -- 2. corrupt or forbidden store files ------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(1, 8))  # 5: a PanicException at open, 4 and 7: Rust panics on read
def test_corrupt_sqlite_is_exit_4_with_one_line(store_dir: Path, tmp_path: Path, seed: int) -> None:
    store = copy_store(store_dir, tmp_path / "db")
    db = store / "chroma.sqlite3"
    rng = random.Random(seed)
    with db.open("r+b") as f:  # random bytes inside the file, past the header, as a failing disk would leave them
        size = db.stat().st_size
        for _ in range(8):
            f.seek(rng.randrange(4096, size - 4096))
            f.write(rng.randbytes(4096))
    out = cli(["search", "--store", str(store), "第八条"])
    assert_store_error(out, str(store))


def test_store_without_permission_is_exit_4_with_one_line(store_dir: Path, tmp_path: Path) -> None:
    store = copy_store(store_dir, tmp_path / "db")
    read_only(store, dir_mode=0o000)  # nobody's directory, closed to everyone else
    try:
        out = cli(["search", "--store", str(store), "第八条"], confined=True)
        assert_store_error(out, str(store))
        out = cli(["ingest", "-q", "--store", str(store)], confined=True)
        assert_store_error(out, str(store))
    finally:
        writable(store)


# -- 3. frozen and killed servers -------------------------------------------------------------------------------
def test_frozen_server_ends_search_with_exit_4(tmp_path: Path) -> None:
    port = free_port()
    with chroma_process(tmp_path / "server", port) as server:
        from rag import ingest, load_settings

        ingest(load_settings(env={}, chroma_host="127.0.0.1", chroma_port=port, data_files=(DATA,)), progress=False)
        server.send_signal(signal.SIGSTOP)
        out = cli(["search", "--chroma-host", "127.0.0.1", "--chroma-port", str(port), "第八条"],
                  env={"POLICYQA_CHROMA_TIMEOUT": "3"}, timeout=120)
        assert_store_error(out, f"127.0.0.1:{port}")
        assert "time" in out.stderr  # says it timed out


def test_server_killed_during_ingest_keeps_the_old_generation_and_gc_removes_the_orphan(tmp_path: Path) -> None:
    from rag import load_settings, reset, search
    from rag.index import ingest

    port = free_port()
    s = load_settings(env={}, chroma_host="127.0.0.1", chroma_port=port, data_files=(DATA,))
    changed = variant(tmp_path, DATA.name.removesuffix(".zh.txt"), "中共广东省委 关于新时代广东高质量发展的意见（修订）")
    with chroma_process(tmp_path / "server", port) as server:
        ingest(s, progress=False)
        before = store_documents(chroma_host="127.0.0.1", chroma_port=port)
        live = generations(chroma_client(port), "policyqa")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "POLICYQA_"))}
        writer = subprocess.Popen([sys.executable, "-m", "policyqa", "ingest", "-q", "--chroma-host", "127.0.0.1",
                                   "--chroma-port", str(port), str(changed)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(1200):  # wait until the writer has started a new generation, then kill the server
            if generations(chroma_client(port), "policyqa") - live or writer.poll() is not None:
                break
            time.sleep(0.05)
        assert writer.poll() is None, writer.communicate()
        server.kill()
        server.wait()
        out, err = writer.communicate(timeout=120)
        assert_store_error(subprocess.CompletedProcess(writer.args, writer.returncode, out, err), f"127.0.0.1:{port}")
    with chroma_process(tmp_path / "server", port):
        reset()
        assert store_documents(chroma_host="127.0.0.1", chroma_port=port) == before
        assert search("第八条", settings=s).results[0].unit.title == "建设现代化产业集群"
        assert len(generations(chroma_client(port), "policyqa")) == 2  # the live one and the killed writer's orphan
        other = variant(tmp_path, "another-plan", "丙市关于高质量发展的若干意见")
        assert ingest(s, [other], progress=False)[0].changed
        assert len(generations(chroma_client(port), "policyqa")) == 1  # the orphan was collected


# -- 4. read commands write nothing -------------------------------------------------------------------------------
def test_a_read_only_store_can_be_queried(store_dir: Path, tmp_path: Path) -> None:
    store = copy_store(store_dir, tmp_path / "db")
    read_only(store)
    before = tree(store)
    try:
        out = cli(["search", "--json", "--store", str(store), "第八条"], confined=True)
        assert out.returncode == 0, out.stderr[-3000:]
        assert json.loads(out.stdout)["results"][0]["unit"] == "A8"
        out = cli(["ask", "--backend", "extractive", "--store", str(store), "集成电路产业怎么发展？"], confined=True)
        assert out.returncode == 0 and "第八条" in out.stdout, out.stderr[-3000:]
        assert tree(store) == before
    finally:
        writable(store)


def test_a_mistyped_collection_is_exit_4_naming_it_and_creates_nothing(store_dir: Path, tmp_path: Path) -> None:
    store = copy_store(store_dir, tmp_path / "db")  # writable: a write would succeed if attempted
    before = set(tree(store))
    out = cli(["search", "--store", str(store), "--collection", "typo", "第八条"])
    assert_store_error(out, "typo", "policyqa")
    assert set(tree(store)) == before  # no new files (Chroma itself rewrites its database header on open)
    import chromadb

    names = {c.name for c in chromadb.PersistentClient(path=str(store)).list_collections()}
    assert not [n for n in names if n.startswith("typo")]


def test_a_mistyped_collection_on_a_server_creates_nothing(chroma_server) -> None:
    host, port = chroma_server
    before = {c.name for c in chroma_client(port).list_collections()}
    out = cli(["search", "--chroma-host", host, "--chroma-port", str(port), "--collection", "typo2", "第八条"])
    assert_store_error(out, "typo2")
    assert {c.name for c in chroma_client(port).list_collections()} == before


# -- 5. orphaned generations (embedded store) -------------------------------------------------------------------
def test_an_ingest_killed_mid_way_leaves_an_orphan_that_the_next_ingest_removes(tmp_path: Path) -> None:
    from rag import load_settings
    from rag.index import ingest, open_store

    store = tmp_path / "db"
    s = load_settings(env={}, store_dir=store, data_files=(DATA,))
    ingest(s, progress=False)
    before = open_store(s).documents()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "POLICYQA_"))}
    changed = variant(tmp_path, DATA.name.removesuffix(".zh.txt"), "中共广东省委 关于新时代广东高质量发展的意见（修订）")
    writer = subprocess.Popen([sys.executable, "-m", "policyqa", "ingest", "--store", str(store), str(changed)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert writer.stderr is not None
    seen = b""  # the progress bar: once it counts stored chunks, the new generation is half written
    while not re.search(rb"\b[1-9]\d*/\d+ ", seen) and writer.poll() is None:
        seen += writer.stderr.read1(4096)  # type: ignore[attr-defined]
    writer.kill()
    writer.wait()
    store_now = open_store(s)
    assert store_now.documents() == before
    assert len(generations(store_now.client, "policyqa")) == 2
    other = variant(tmp_path, "another-plan", "丙市关于高质量发展的若干意见")
    assert ingest(s, [other], progress=False)[0].changed
    assert len(generations(open_store(s).client, "policyqa")) == 1
    assert set(open_store(s).documents()) == {*before, "another-plan"}


# -- 6. an over-long unit --------------------------------------------------------------------------------------
def _huge_article(size: int) -> str:
    rng = random.Random(7)
    words = ["数据", "共享", "开放", "平台", "安全", "监管", "服务", "标准", "应用", "治理", "交易", "流通", "市场", "主体"]
    parts, total = [], 0
    while total < size:
        s = "".join(rng.choice(words) for _ in range(rng.randint(4, 12))) + "。"
        parts.append(s)
        total += len(s.encode("utf-8"))
    return "".join(parts)


def test_an_over_long_unit_is_embedded_in_parts_and_stays_one_citable_unit(tmp_path: Path) -> None:
    body = _huge_article(2 * 1024 * 1024) + "最后规定本办法的结尾由市海洋渔业局负责解释并组织珊瑚礁保育工作。"
    doc = tmp_path / "huge-rules.zh.txt"
    doc.write_text("某市超长管理办法\n发布日期：2024年3月1日 来源：某市人民政府\n第一章 总则\n"
                   f"第一条 为了规范数据管理，制定本办法。{body}\n第二条 本办法自发布之日起施行。\n", encoding="utf-8")
    store = tmp_path / "db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "POLICYQA_"))}
    proc = subprocess.Popen([sys.executable, "-m", "policyqa", "ingest", "-q", "--store", str(store), str(doc)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read()[-3000:] if proc.stderr else ""
    # KiB. Before parts: 7.6 GiB for this 2 MB article. Usually ~0.3 GiB now, but one full-suite run peaked at
    # 2.05 GiB (cause not found yet; see the session notes), so the bound is 3 GiB: still far below the bug.
    assert usage.ru_maxrss < 3 * 1024 * 1024
    out = cli(["search", "--json", "--store", str(store), "-k", "2", "第一条"])
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout)["results"]
    assert results[0]["unit"] == "A1" and results[0]["text"].endswith(body[-40:])
    assert len(results[0]["text"]) > 2 * 1024 * 1024 // 3
    out = cli(["search", "--json", "--mode", "dense", "--store", str(store), "-k", "5", "数据共享平台的安全监管和服务标准"])
    assert out.returncode == 0, out.stderr[-3000:]
    units = [r["unit"] for r in json.loads(out.stdout)["results"]]
    # every unit once, not one hit per part; 第一章 总则, a heading only, is never a search result
    assert units[0] == "A1" and len(units) == len(set(units)) == 2
    out = cli(["search", "--json", "--store", str(store), "-k", "3", "珊瑚礁保育工作由哪个部门负责？"])
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout)["results"][0]["unit"] == "A1"  # found by words in its last part
    out = cli(["ask", "--backend", "extractive", "--store", str(store), "珊瑚礁保育工作由哪个部门负责？"])
    assert out.returncode == 0 and "第一条" in out.stdout, out.stderr[-3000:]
