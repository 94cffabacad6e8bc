"""LLM server faults, from the local OpenAI-compatible server: each question ends within POLICYQA_LLM_TIMEOUT + 2 s
with a fallback and its reason, and the request is closed so the server stops generating."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_stub import Dynamic, FakeOpenAI, Reply, Status, Stream

from rag import Answer, Final, TextDelta, get_retriever, load_settings, stream_answer

pytestmark = pytest.mark.integration

DEADLINE = 4.0
QUESTION = "What does the plan say about EV charging?"
GOOD = "Build charging infrastructure for new energy vehicles [Art. 5]. "


@pytest.fixture()
def server(store_dir: Path) -> Iterator[FakeOpenAI]:
    get_retriever(load_settings(env={}, store_dir=store_dir))  # load the models first: the bound is for answering
    with FakeOpenAI() as srv:
        yield srv


def ask_bounded(store_dir: Path, server: FakeOpenAI, question: str = QUESTION, history=None,
                **kw) -> tuple[list[str], Answer, float]:
    """Answer in a thread; fail if it is not done within the deadline + 2 s. Returns (deltas, answer, seconds)."""
    settings = load_settings(env={}, **{"store_dir": store_dir, "backend": "openai", "openai_base_url": server.base_url,
                                        "openai_api_key": "test", "llm_max_retries": 0, "llm_timeout": DEADLINE, **kw})
    out: dict = {"deltas": []}

    def run() -> None:
        for event in stream_answer(question, history=history, settings=settings):
            if isinstance(event, TextDelta):
                out["deltas"].append(event.text)
            elif isinstance(event, Final):
                out["answer"] = event.answer

    start = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=DEADLINE + 2)
    elapsed = time.monotonic() - start
    assert not worker.is_alive(), f"still running after the deadline + 2 s ({DEADLINE + 2} s)"
    print(f"ended after {elapsed:.2f} s")
    return out["deltas"], out["answer"], elapsed


def wait_for_hangup(server: FakeOpenAI) -> None:
    """The client closed the stream, so the server stopped (bounded wait for the server thread to notice)."""
    end = time.monotonic() + 3
    while server.hangups == 0 and time.monotonic() < end:
        time.sleep(0.05)
    assert server.hangups >= 1


@pytest.mark.parametrize(("fault", "reason"), [
    (Stream(forever="ping", forever_interval=0.2), "did not finish within"),  # SSE `: ping` keep-alives
    (Stream(forever="trickle", forever_interval=0.2), "did not finish within"),  # whitespace, a space at a time
    (Stream(text=GOOD, forever="repeat", forever_interval=0.5), "did not finish within"),  # endless, slowly
])
def test_a_stream_that_never_ends_is_cut_at_the_deadline(fault: Stream, reason: str, store_dir: Path,
                                                        server: FakeOpenAI) -> None:
    server.script(fault)
    _, a, _ = ask_bounded(store_dir, server)
    assert a.fallback and a.backend == "extractive" and reason in a.fallback_reason
    wait_for_hangup(server)


def test_an_endless_stream_is_cut_at_max_tokens(store_dir: Path, server: FakeOpenAI) -> None:
    server.script(Stream(text=GOOD, forever="repeat", forever_interval=0.001))
    _, a, _ = ask_bounded(store_dir, server, llm_max_tokens=64)
    assert a.fallback and "max_tokens" in a.fallback_reason
    assert server.chat_requests()[-1]["max_tokens"] == 64
    wait_for_hangup(server)


def test_a_stream_cut_without_finish_is_a_failure(store_dir: Path, server: FakeOpenAI) -> None:
    server.script(Stream(text=GOOD + "It also", finish=False))
    deltas, a, _ = ask_bounded(store_dir, server)
    assert a.fallback and "cut off" in a.fallback_reason
    assert "It also" not in "".join(deltas) + a.text  # the unfinished sentence was never shown


def test_a_hung_condenser_leaves_time_for_the_answer(store_dir: Path, server: FakeOpenAI) -> None:
    def reply(body: dict) -> Reply | Stream:
        if len(body["messages"]) == 1:
            return Stream(forever="ping", forever_interval=0.2)
        cite = re.search(r'cite="(\[[^"]+\])"', body["messages"][0]["content"]).group(1)  # type: ignore[union-attr]
        return Reply(f"支持广州增强综合城市功能{cite}。")

    server.default = Dynamic(reply)
    history = [{"role": "user", "content": "深圳在规划中承担什么角色？"},
               {"role": "assistant", "content": "深圳要建设先进制造业中心[第四条]。"}]
    _, a, _ = ask_bounded(store_dir, server, question="那广州呢？", history=history)
    assert any(w.startswith("condense:") for w in a.warnings)
    assert a.backend == "openai" and not a.fallback


@pytest.mark.parametrize("echo", ["rules", "rules+answer"])
def test_a_prompt_echo_never_reaches_the_user(echo: str, store_dir: Path, server: FakeOpenAI) -> None:
    def reply(body: dict) -> Stream:
        system = body["messages"][0]["content"]
        text = system.split("<context>")[0] + system[system.index("<context>"):][:400]
        return Stream(text=text + ("\n" + GOOD if echo == "rules+answer" else ""), chunk_size=5)

    server.default = Dynamic(reply)
    deltas, a, _ = ask_bounded(store_dir, server)
    shown = "".join(deltas)
    for leak in ("careful assistant", "Rules:", "<context>", "<unit", "cite=", "{no_answer}", "NO_ANSWER"):
        assert leak not in shown and leak not in a.text
    if echo == "rules":
        assert a.fallback and a.fallback_reason and shown == ""
    else:
        assert (a.backend, a.fallback) == ("openai", False) and shown == a.text
        assert a.text == GOOD.strip() and a.verification["verified"] == 1 and a.verification["removed"] >= 5


def test_a_server_error_is_retried_within_the_deadline(store_dir: Path, server: FakeOpenAI) -> None:
    server.script(Status(503, retry_after=0.05), Reply(GOOD))
    _, a, _ = ask_bounded(store_dir, server, llm_max_retries=2)
    assert (a.backend, a.fallback) == ("openai", False) and len(server.chat_requests()) == 2


def test_uncited_invention_beside_a_cited_sentence_is_removed(store_dir: Path, server: FakeOpenAI) -> None:
    server.script(Reply("Every city gets free EVs. " + GOOD, chunk_size=3))
    deltas, a, _ = ask_bounded(store_dir, server)
    assert "free EVs" not in "".join(deltas) + a.text and a.text == GOOD.strip()
    assert a.verification == {"verified": 1, "attributed": 0, "removed": 1}


def test_the_terminal_says_when_a_fallback_replaced_streamed_text(store_dir: Path, server: FakeOpenAI) -> None:
    server.script(Stream(text=GOOD + "It also", finish=False))
    env = {**os.environ, "POLICYQA_STORE": str(store_dir), "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "t",
           "POLICYQA_LLM_RETRIES": "0", "POLICYQA_LLM_TIMEOUT": str(DEADLINE)}
    out = subprocess.run([sys.executable, "-m", "policyqa", "ask", "--backend", "openai", QUESTION], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    shown, note, fallback = out.stdout.partition("(the language model's reply was cut off")
    assert shown.strip() == GOOD.strip() and note and "extractive answer:)" in fallback
    assert "It also" not in out.stdout


def test_a_consumer_that_stops_listening_closes_the_request(store_dir: Path, server: FakeOpenAI) -> None:
    server.script(Stream(text=GOOD, forever="repeat", forever_interval=0.2))
    settings = load_settings(env={}, store_dir=store_dir, backend="openai", openai_base_url=server.base_url,
                             openai_api_key="test", llm_max_retries=0, llm_timeout=30.0)
    events = stream_answer(QUESTION, settings=settings)
    first = next(e for e in events if isinstance(e, TextDelta))  # e.g. a UI tab closed after the first sentence
    assert first.text == GOOD.strip()
    events.close()  # type: ignore[attr-defined]
    wait_for_hangup(server)
