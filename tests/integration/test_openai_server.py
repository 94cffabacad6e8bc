"""The local OpenAI-compatible server, exercised through the real ``openai`` and ``langchain_openai`` clients.

The server lives in ``tests/openai_stub.py`` so that ``policyqa bench`` can use it too.
"""

from __future__ import annotations

import json
import math
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import openai
import pytest
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from openai.types.chat import ChatCompletionMessageParam
from openai_stub import (
    EMBEDDING_DIM,
    MODEL_NAME,
    Dynamic,
    FakeOpenAI,
    Garbage,
    Reply,
    Status,
    fake_embedding,
    serve,
)
from pydantic import SecretStr

pytestmark = pytest.mark.integration

TEXT = "依据《办法》第三条，申请人应当提交材料。 (Article 3 requires the applicant to submit documents.)"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with serve() as server:
        yield server


def _client(fake: FakeOpenAI, *, max_retries: int = 0, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="test", max_retries=max_retries, timeout=timeout)


def _chat(fake: FakeOpenAI, *, max_retries: int = 0, stream_usage: bool | None = None) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=fake.base_url,
        api_key=SecretStr("test"),
        model=MODEL_NAME,
        max_retries=max_retries,
        timeout=5,
        stream_usage=stream_usage,
    )


MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "第三条说了什么？"}]


# -- openai client ---------------------------------------------------------------------------------------------
def test_openai_non_streaming(fake: FakeOpenAI) -> None:
    fake.script(Reply(TEXT))
    completion = _client(fake).chat.completions.create(model="my-model", messages=MESSAGES)

    assert completion.choices[0].message.content == TEXT
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "my-model"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens

    [request] = fake.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer test"
    assert request["messages"] == MESSAGES
    assert request["model"] == "my-model"


def test_openai_streaming_deltas_reassemble_text(fake: FakeOpenAI) -> None:
    fake.script(Reply(TEXT, chunk_size=3))
    stream = _client(fake).chat.completions.create(
        model=MODEL_NAME,
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    content_chunks = [c for c in chunks if c.choices]
    assert content_chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in content_chunks) == TEXT
    assert len(content_chunks) >= math.ceil(len(TEXT) / 3)  # really streamed, not one blob
    assert content_chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert fake.requests[0]["stream"] is True


def test_default_reply_when_script_is_empty(fake: FakeOpenAI) -> None:
    client = _client(fake)
    fake.script(Reply("first"))
    contents = [
        client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES).choices[0].message.content for _ in range(3)
    ]
    assert contents == ["first", "OK", "OK"]
    fake.default = Reply("changed")
    assert client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES).choices[0].message.content == "changed"


def test_dynamic_builds_reply_from_prompt(fake: FakeOpenAI) -> None:
    fake.default = Dynamic(lambda body: Reply("echo: " + body["messages"][-1]["content"]))
    completion = _client(fake).chat.completions.create(model=MODEL_NAME, messages=MESSAGES)
    assert completion.choices[0].message.content == "echo: 第三条说了什么？"


def test_empty_reply_is_valid_but_empty(fake: FakeOpenAI) -> None:
    client = _client(fake)
    fake.script(Reply(""), Reply(""))
    completion = client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES)
    assert completion.choices[0].message.content == ""
    assert completion.choices[0].finish_reason == "stop"

    stream = client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, stream=True)
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ""
    assert chunks[-1].choices[0].finish_reason == "stop"


# -- errors ----------------------------------------------------------------------------------------------------
def test_429_then_reply_is_retried(fake: FakeOpenAI) -> None:
    fake.script(Status(429, "slow down", retry_after=0.01), Reply("after retry"))
    completion = _client(fake, max_retries=1).chat.completions.create(model=MODEL_NAME, messages=MESSAGES)
    assert completion.choices[0].message.content == "after retry"
    assert len(fake.requests) == 2
    assert fake.requests[1]["headers"]["x-stainless-retry-count"] == "1"


def test_429_without_retries_raises_rate_limit_error(fake: FakeOpenAI) -> None:
    fake.script(Status(429, "slow down"))
    with pytest.raises(openai.RateLimitError) as info:
        _client(fake).chat.completions.create(model=MODEL_NAME, messages=MESSAGES)
    assert info.value.status_code == 429
    assert "slow down" in str(info.value)
    assert info.value.code == "rate_limit_exceeded"


def test_500_raises_internal_server_error(fake: FakeOpenAI) -> None:
    fake.script(Status(500, "boom"))
    with pytest.raises(openai.InternalServerError) as info:
        _client(fake).chat.completions.create(model=MODEL_NAME, messages=MESSAGES)
    assert info.value.status_code == 500
    assert len(fake.requests) == 1


def test_delay_longer_than_timeout_raises_timeout(fake: FakeOpenAI) -> None:
    fake.script(Reply("too late", delay=2))
    with pytest.raises(openai.APITimeoutError):  # the reply would have come after 2 s: the timeout fired first
        _client(fake, timeout=0.5).chat.completions.create(model=MODEL_NAME, messages=MESSAGES)
    # the server is still healthy for the next request
    assert _client(fake).chat.completions.create(model=MODEL_NAME, messages=MESSAGES).choices[0].message.content == "OK"


def test_garbage_body_makes_client_raise(fake: FakeOpenAI) -> None:
    client = _client(fake)
    fake.script(Garbage(), Garbage(b"{truncated", sse=True), Garbage())
    with pytest.raises((openai.APIError, ValueError)):
        client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES)
    with pytest.raises((openai.APIError, ValueError)):
        list(client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, stream=True))
    # plain garbage on a stream is silently skipped by the SSE decoder: the client sees no chunks at all
    assert list(client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, stream=True)) == []


def test_client_disconnect_mid_stream_is_tolerated(fake: FakeOpenAI) -> None:
    client = _client(fake)
    fake.script(Reply("x" * 20_000, chunk_size=1))
    stream = client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, stream=True)
    next(iter(stream))
    stream.close()
    assert client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES).choices[0].message.content == "OK"


# -- langchain -------------------------------------------------------------------------------------------------
def test_langchain_invoke(fake: FakeOpenAI) -> None:
    fake.script(Reply(TEXT))
    message = _chat(fake).invoke("第三条说了什么？")
    assert message.content == TEXT
    assert fake.requests[0]["model"] == MODEL_NAME
    assert fake.requests[0]["messages"][-1]["content"] == "第三条说了什么？"


def test_langchain_stream(fake: FakeOpenAI) -> None:
    fake.script(Reply(TEXT, chunk_size=5))
    chunks = list(_chat(fake, stream_usage=True).stream("第三条说了什么？"))
    assert "".join(str(c.content) for c in chunks) == TEXT
    assert len(chunks) > 2
    assert fake.requests[0]["stream"] is True
    assert any(c.usage_metadata for c in chunks)


def test_langchain_retry_and_error(fake: FakeOpenAI) -> None:
    fake.script(Status(429, retry_after=0.01), Reply("ok now"), Status(500))
    assert _chat(fake, max_retries=1).invoke("hi").content == "ok now"
    assert len(fake.requests) == 2
    with pytest.raises(openai.InternalServerError):
        _chat(fake).invoke("hi")


# -- embeddings, models, 404 -----------------------------------------------------------------------------------
def test_embeddings_count_dimension_and_determinism(fake: FakeOpenAI) -> None:
    client = _client(fake)
    texts = ["第一条", "第二条", "Article 3"]
    result = client.embeddings.create(model=MODEL_NAME, input=texts)  # base64 on the wire by default
    assert len(result.data) == 3
    assert [d.index for d in result.data] == [0, 1, 2]
    for datum, text in zip(result.data, texts, strict=True):
        assert len(datum.embedding) == EMBEDDING_DIM
        assert math.isclose(sum(v * v for v in datum.embedding), 1.0, rel_tol=1e-5)
        assert datum.embedding == pytest.approx(fake_embedding(text), abs=1e-6)

    as_floats = client.embeddings.create(model=MODEL_NAME, input="第一条", encoding_format="float")
    assert len(as_floats.data) == 1
    assert as_floats.data[0].embedding == pytest.approx(result.data[0].embedding, abs=1e-6)
    assert result.data[0].embedding != result.data[1].embedding

    sized = client.embeddings.create(model=MODEL_NAME, input=["a"], dimensions=16)
    assert len(sized.data[0].embedding) == 16


def test_langchain_embeddings(fake: FakeOpenAI) -> None:
    embeddings = OpenAIEmbeddings(
        base_url=fake.base_url,
        api_key=SecretStr("test"),
        model=MODEL_NAME,
        max_retries=0,
        check_embedding_ctx_length=False,
    )
    vectors = embeddings.embed_documents(["第一条", "第二条"])
    assert len(vectors) == 2 and all(len(v) == EMBEDDING_DIM for v in vectors)
    assert embeddings.embed_query("第一条") == pytest.approx(vectors[0], abs=1e-6)


def test_scripted_chat_replies_are_not_consumed_by_embeddings(fake: FakeOpenAI) -> None:
    client = _client(fake)
    fake.script(Reply("answer"))
    fake.script_embeddings(Status(503, "embedder down"))
    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model=MODEL_NAME, input="q")
    assert len(client.embeddings.create(model=MODEL_NAME, input="q").data) == 1
    assert client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES).choices[0].message.content == "answer"


def test_models_and_unknown_routes(fake: FakeOpenAI) -> None:
    client = _client(fake)
    assert [m.id for m in client.models.list()] == [MODEL_NAME]

    with pytest.raises(openai.NotFoundError):
        client.completions.create(model=MODEL_NAME, prompt="legacy")

    request = urllib.request.Request(fake.base_url + "/nope", method="GET")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 404
    assert json.loads(info.value.read())["error"]["type"] == "not_found_error"


# -- lifecycle -------------------------------------------------------------------------------------------------
def test_stop_closes_socket_and_joins_thread() -> None:
    fake = FakeOpenAI()
    with fake:
        port = fake.port
        thread = fake._thread
        fake.script(Reply("slow", delay=5))
        with pytest.raises(openai.APITimeoutError):
            _client(fake, timeout=0.3).chat.completions.create(model=MODEL_NAME, messages=MESSAGES)
        # keep an idle keep-alive connection open while stopping
        _client(fake).models.list()
        handler_threads = list(fake._connections.values())
        assert handler_threads  # the keep-alive connection is still being served
    fake.stop()  # idempotent; returns with every thread stopped (no wall-clock bound asserted)
    assert thread is not None and not thread.is_alive()
    assert not any(t.is_alive() for t in handler_threads)
    with socket.socket() as sock, pytest.raises(OSError):
        sock.settimeout(1)
        sock.connect(("127.0.0.1", port))
