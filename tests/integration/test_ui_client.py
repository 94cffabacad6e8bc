"""The web UI's `ask` endpoint through gradio_client against a real server on loopback (a temp store)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, serve_app

pytestmark = pytest.mark.integration

ZH_CITATION = re.compile(r"\[第[一二三四五六七八九十百零〇]+(?:条|部分)\]")
EN_CITATION = re.compile(r"\[(?:Art\. \d+|Part [IVXLC]+)\]")


@pytest.fixture(scope="module")
def store(store_dir: Path) -> Path:
    return store_dir


@pytest.fixture(scope="module")
def app_url(store: Path) -> Iterator[str]:
    """The offline (extractive) app over the temp store."""
    from rag import load_settings

    with serve_app(load_settings(env={}, store_dir=store, backend="extractive", data_files=(DATA,))) as url:
        yield url


@pytest.fixture(scope="module")
def client(app_url: str) -> Any:
    from gradio_client import Client

    return Client(app_url, verbose=False)


def ask(client: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    result = client.predict(*args, api_name="/ask", **kwargs)
    assert isinstance(result, dict), result
    return result


def test_only_ask_is_public(client: Any) -> None:
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert set(endpoints) == {"/ask"}
    params = [p["parameter_name"] for p in endpoints["/ask"]["parameters"]]
    assert params[:4] == ["question", "history", "language", "backend"]


def test_chinese_question_is_cited(client: Any) -> None:
    result = ask(client, "广东在集成电路和新能源汽车产业方面有什么部署？")
    assert "error" not in result, result
    assert result["language"] == "zh"
    assert not result["refused"]
    assert ZH_CITATION.search(result["answer"]), result["answer"]
    assert "A8" in result["citations"]
    assert result["sources"], "a cited answer must come with its sources"
    by_unit = {s["unit"]: s for s in result["sources"]}
    assert set(result["citations"]) <= set(by_unit)
    a8 = by_unit["A8"]
    assert a8["label"] == "第八条" and a8["title"] and a8["text_en"]
    assert "集成电路" in a8["text"]
    assert a8["quotes_zh"] and all(q.rstrip("。") in a8["text"] for q in a8["quotes_zh"])


def test_english_question_gets_english_answer(client: Any) -> None:
    result = ask(client, "How will Guangdong build modern industrial clusters?")
    assert "error" not in result, result
    assert result["language"] == "en"
    assert EN_CITATION.search(result["answer"]), result["answer"]
    assert "[第" not in result["answer"]
    assert "A8" in result["citations"]
    a8 = next(s for s in result["sources"] if s["unit"] == "A8")
    assert a8["label"] == "Art. 8"
    assert a8["quotes_en"] and all(q.rstrip(".") in a8["text_en"] for q in a8["quotes_en"])


def test_language_parameter_overrides_detection(client: Any) -> None:
    result = ask(client, "第八条讲了什么？", language="en")
    assert result["language"] == "en"
    assert "[Art. 8]" in result["answer"], result["answer"]


def test_follow_up_uses_history(client: Any) -> None:
    first = ask(client, "第八条讲了什么？")
    assert "A8" in first["citations"]
    history = [{"role": "user", "content": "第八条讲了什么？"}, {"role": "assistant", "content": first["answer"]}]
    result = ask(client, "这一条还提到了哪些传统产业？", history)
    assert "error" not in result, result
    assert "A8" in result["citations"], result
    assert "[第八条]" in result["answer"]


def test_history_accepts_content_blocks(client: Any) -> None:
    history = [{"role": "user", "content": [{"type": "text", "text": "第八条讲了什么？"}]},
               {"role": "assistant", "content": [{"type": "text", "text": "建设现代化产业集群[第八条]。"}]}]
    result = ask(client, "这一条还提到了哪些传统产业？", history=history)
    assert "A8" in result["citations"], result


def test_errors_are_readable_and_the_app_keeps_working(client: Any) -> None:
    empty = ask(client, "")
    assert set(empty) == {"error"}
    assert "empty" in empty["error"] or "为空" in empty["error"]
    assert "Traceback" not in empty["error"]

    too_long = ask(client, "集成电路" * 1000)
    assert set(too_long) == {"error"}
    assert "过长" in too_long["error"], too_long  # a Chinese question gets a Chinese message

    too_long_en = ask(client, "chips " * 1000)
    assert "too long" in too_long_en["error"], too_long_en

    bad_backend = ask(client, "第八条讲了什么？", backend="gpt-9")
    assert "error" in bad_backend and "gpt-9" in bad_backend["error"]

    after = ask(client, "广东在集成电路和新能源汽车产业方面有什么部署？")
    assert "error" not in after and after["citations"], after


def test_off_topic_question_is_refused(client: Any) -> None:
    result = ask(client, "What does the document say about the weather on Mars?")
    assert result["refused"] is True
    assert result["citations"] == [] and result["sources"] == []


# -- the OpenAI-compatible backend, against the local fake server (tests/openai_stub.py) -------------------

@pytest.fixture(scope="module")
def fake_llm() -> Iterator[Any]:
    from openai_stub import FakeOpenAI

    with FakeOpenAI() as server:
        yield server


@pytest.fixture()
def llm(fake_llm: Any) -> Iterator[Any]:
    """The fake LLM, reset to cite the first unit it was given (what a well-behaved model does)."""
    from openai_stub import Dynamic, Reply

    fake_llm.reset()
    fake_llm.default = Dynamic(lambda body: Reply(
        f"广东要推动集成电路等战略性产业集群发展{first_cite(body)}。还要发展新能源汽车{first_cite(body)}。", chunk_size=3))
    yield fake_llm
    fake_llm.reset()


def first_cite(body: dict[str, Any]) -> str:
    return re.search(r'cite="(\[[^"]+\])"', body["messages"][0]["content"]).group(1)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def llm_client(store: Path, fake_llm: Any) -> Iterator[Any]:
    from gradio_client import Client

    from rag import load_settings

    settings = load_settings(env={}, store_dir=store, backend="openai", openai_base_url=fake_llm.base_url,
                             openai_api_key="test-key", openai_model="fake-model", llm_max_retries=0, llm_timeout=10.0)
    with serve_app(settings) as url:
        yield Client(url, verbose=False)


def test_llm_answer_is_checked_and_cited(llm_client: Any, llm: Any) -> None:
    result = ask(llm_client, "广东在集成电路和新能源汽车产业方面有什么部署？")
    assert (result["backend"], result["fallback"]) == ("openai", False), result
    assert result["citations"] == ["A8"] and result["answer"].count("[第八条]") == 2
    assert llm.chat_requests(), "the question must have reached the LLM"


def test_llm_down_falls_back_readably(llm_client: Any, llm: Any) -> None:
    from openai_stub import Status

    llm.script(Status(500))
    result = ask(llm_client, "How will Guangdong build modern industrial clusters?")
    assert result["fallback"] is True and result["backend"] == "extractive"
    assert "[Art. 8]" in result["answer"]
    assert any("HTTP 500" in w for w in result["warnings"]), result["warnings"]
    assert ask(llm_client, "第八条讲了什么？")["backend"] == "openai"  # the next question uses the LLM again


def test_a_slow_llm_does_not_block_other_sessions(llm_client: Any, llm: Any) -> None:
    """The LLM holds its reply until the other session has been answered: no clock, only the order of events."""
    from openai_stub import Dynamic, Reply

    release, arrived = threading.Event(), threading.Event()

    def held(_body: dict[str, Any]) -> Reply:
        arrived.set()
        release.wait(60)
        return Reply("建设现代化产业集群[第八条]。")

    llm.script(Dynamic(held))
    slow = llm_client.submit("第八条讲了什么？", api_name="/ask")
    try:
        assert arrived.wait(60), "the slow request never reached the LLM"
        quick = ask(llm_client, "第八条讲了什么？", backend="extractive")
        assert quick["backend"] == "extractive" and quick["citations"] == ["A8"]
        assert not slow.done(), "the quick answer waited for the slow LLM"
    finally:
        release.set()
    assert slow.result(timeout=60)["backend"] == "openai"
