"""The `policyqa` command as a user runs it: JSON batch mode, and bad input → one clear line, non-zero exit,
nothing stored changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], store: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_"))}
    env["POLICYQA_STORE"] = str(store)
    return subprocess.run([sys.executable, "-m", "policyqa", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=300)


def _snapshot(store: Path) -> tuple[dict[str, str], dict[str, str]]:
    """What the store holds: its documents and every record's text (Chroma rewrites files even on reads)."""
    from rag import load_settings
    from rag.index import open_store

    vs = open_store(load_settings(env={}, store_dir=store))
    return vs.documents(), {r.id: r.text for p in vs.partitions() for r in vs.records(p)}


def _bytes(store: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in store.rglob("*") if p.is_file()}


def test_search_json_batch_from_stdin(store_dir: Path) -> None:
    before = _snapshot(store_dir)
    out = run(["search", "--json", "-k", "3"], store_dir, "芯片产业打算怎么搞？\nWhat does Article 12 say?\n第四十条\n")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [x["question"] for x in lines] == ["芯片产业打算怎么搞？", "What does Article 12 say?", "第四十条"]
    first = lines[0]["results"][0]
    assert set(first) >= {"unit", "score", "label", "title", "text", "text_en"} and len(lines[0]["results"]) == 3
    assert lines[1]["results"][0]["unit"] == "A12" and lines[1]["results"][0]["label"] == "Art. 12"
    assert lines[2]["results"] == [] and "33" in lines[2]["notice"]
    assert _snapshot(store_dir) == before


@pytest.mark.parametrize(("question", "needle"), [
    ("", "empty"), ("   \t ", "empty"), ("\x01\x1b\x7f", "empty"), ("x " * 50_000, "too long"),
])
def test_bad_questions_get_one_line_and_non_zero_exit(store_dir: Path, question: str, needle: str) -> None:
    before = _snapshot(store_dir)
    for command in (["search"], ["ask", "--backend", "extractive"]):
        out = run([*command, question], store_dir)
        assert out.returncode == 2, out.stderr
        assert out.stderr.count("\n") == 1 and needle in out.stderr and "Traceback" not in out.stderr
    assert _snapshot(store_dir) == before


def test_bad_questions_in_a_json_batch_are_reported_per_line(store_dir: Path) -> None:
    """100,000 characters (too big for argv) and NUL bytes arrive through stdin; the batch goes on."""
    before = _snapshot(store_dir)
    stdin = "问" * 100_000 + "\n\x00\x00\n第八条讲了什么？\n"
    out = run(["ask", "--json", "--backend", "extractive"], store_dir, stdin)
    assert out.returncode == 1
    long, nul, good = (json.loads(line) for line in out.stdout.splitlines())
    assert "过长" in long["error"] and "100,000" in long["error"]
    assert "empty" in nul["error"] and good["citations"] == ["A8"]
    assert _snapshot(store_dir) == before


def test_control_characters_inside_a_question_are_cleaned(store_dir: Path) -> None:
    out = run(["ask", "--json", "--backend", "extractive", "第八条\x07讲了\x1b什么？"], store_dir)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["citations"] == ["A8"]


def test_missing_data_file(tmp_path: Path) -> None:
    out = run(["ingest", str(tmp_path / "nope.zh.txt")], tmp_path / "db")
    assert out.returncode == 3 and "document not found" in out.stderr
    assert not (tmp_path / "db").exists()


def test_first_question_without_a_store_ingests_the_bundled_library(tmp_path: Path) -> None:
    """The embedded default just works: no `policyqa ingest` needed before the first question; the default is the
    library (the featured document and the six regulations), and --doc scopes a question to one of them."""
    out = run(["search", "--json", "--doc", "guangdong-high-quality-development-2023", "第八条讲了什么？"], tmp_path / "db")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["results"][0]["unit"] == "A8" and got["results"][0]["label"] == "第八条"
    assert got["documents"] == ["guangdong-high-quality-development-2023"]
    assert "first use" in out.stderr and (tmp_path / "db" / "chroma.sqlite3").exists()
    out = run(["search", "--json", "《广东省知识产权保护条例》第三十条"], tmp_path / "db")
    got = json.loads(out.stdout)
    assert len(got["documents"]) == 7 and [(r["doc_id"], r["unit"]) for r in got["results"]] == [
        ("guang-dong-sheng-zhi-shi-chan-quan-bao-hu-tiao-li-2022-03-29", "A30")]
    assert got["results"][0]["label"] == "《广东省知识产权保护条例》第三十条"
    assert got["results"][0]["doc_title"] == "广东省知识产权保护条例"


def test_corrupt_store(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "chroma.sqlite3").write_bytes(b"\x00garbage" * 64)
    before = _bytes(tmp_path / "db")
    out = run(["search", "What about EV charging?"], tmp_path / "db")
    assert out.returncode == 4 and "unusable" in out.stderr and out.stderr.count("\n") == 1
    assert _bytes(tmp_path / "db") == before


def test_ask_json_batch_line_format(store_dir: Path) -> None:
    out = run(["ask", "--json", "--backend", "extractive"], store_dir, "第八条讲了什么？\n\nWhat does Article 40 say?\n")
    assert out.returncode == 1, out.stderr  # the blank line is reported, not skipped: one output line per input line
    a, blank, b = (json.loads(line) for line in out.stdout.splitlines())
    assert blank == {"question": "", "error": "the question is empty: please type a question about the document"}
    assert {"question", "answer", "language", "citations", "refused", "backend"} <= set(a)
    assert (a["language"], a["citations"], a["refused"], a["backend"]) == ("zh", ["A8"], False, "extractive")
    assert (b["language"], b["citations"], b["refused"]) == ("en", [], True) and "33 articles" in b["answer"]


def test_invalid_utf8_lines_in_a_batch_are_reported_and_the_batch_goes_on(store_dir: Path) -> None:
    stdin = "第八条讲了什么？\n".encode() + b"\xff\xfe bad \xc3\n\nWhat about EV charging?\n"
    base = {k: v for k, v in os.environ.items() if k != "PYTHONIOENCODING"} | {"POLICYQA_STORE": str(store_dir)}
    for env in ({**base, "PYTHONIOENCODING": "utf-8"}, {**base, "LC_ALL": "C.UTF-8"}):
        out = subprocess.run([sys.executable, "-m", "policyqa", "search", "--json", "-k", "1"], input=stdin,
                             capture_output=True, env=env, cwd=ROOT, timeout=120)
        lines = [json.loads(line) for line in out.stdout.decode("utf-8").splitlines()]
        assert out.returncode == 1 and len(lines) == 4, out.stderr
        assert lines[0]["results"][0]["unit"] == "A8" and lines[3]["results"][0]["unit"] == "A5"
        assert "UTF-8" in lines[1]["error"] and "empty" in lines[2]["error"]


@pytest.mark.parametrize(("env", "named"), [
    ({"POLICYQA_TOP_K": "abc"}, "POLICYQA_TOP_K"), ({"CHROMA_PORT": "abc"}, "CHROMA_PORT"),
    ({"POLICYQA_BACKEND": "foo"}, "POLICYQA_BACKEND"), ({"POLICYQA_EMBEDDINGS": "foo"}, "POLICYQA_EMBEDDINGS"),
])
def test_bad_settings_exit_2_naming_the_variable(tmp_path: Path, env: dict[str, str], named: str) -> None:
    out = subprocess.run([sys.executable, "-m", "policyqa", "search", "第八条讲了什么？"], capture_output=True, text=True,
                         env={**os.environ, "POLICYQA_STORE": str(tmp_path / "db"), **env}, cwd=ROOT, timeout=120)
    assert out.returncode == 2 and named in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert not (tmp_path / "db").exists()


def test_malformed_auth_exits_2(tmp_path: Path) -> None:
    out = run(["ui", "--auth", "no-colon"], tmp_path / "db")
    assert out.returncode == 2 and "USER:PASSWORD" in out.stderr


def test_help_explains_commands_and_environment(tmp_path: Path) -> None:
    out = run(["--help"], tmp_path)
    assert out.returncode == 0
    for word in ("ingest", "search", "ask", "chat", "ui", "eval", "bench", "OPENAI_BASE_URL", "CHROMA_HOST"):
        assert word in out.stdout
