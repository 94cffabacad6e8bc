"""The chat model behind the `openai` backend: OpenAI or any OpenAI-compatible server (vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from rag.config import Settings
from rag.errors import LLMError

log = logging.getLogger(__name__)


def resolve_backend(settings: Settings) -> str:
    """'openai' when asked for or when a key/base URL is configured (auto), else the offline 'extractive'."""
    if settings.backend != "auto":
        return settings.backend
    return "openai" if settings.llm_configured else "extractive"


def available_backends(settings: Settings) -> list[str]:
    """The backends that may answer: the offline extractive one, and the LLM only when one is configured."""
    return ["extractive", "openai"] if settings.llm_configured else ["extractive"]


def backend_label(settings: Settings) -> str:
    """What the UI/CLI shows as the active backend."""
    if resolve_backend(settings) == "openai":
        where = settings.openai_base_url or "api.openai.com"
        return f"openai: {settings.openai_model} @ {where}"
    return "extractive (offline, no LLM)"


class LLMStreamFailed(Exception):
    """The reply did not arrive complete before the deadline: stalled, trickling, endless or cut off."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.error = LLMError(en, zh)


def llm_errors() -> tuple[type[BaseException], ...]:
    """The exceptions the LLM client can raise (openai, httpx, our stream checks) — and nothing of ours else."""
    import httpx
    import openai

    return (openai.OpenAIError, httpx.HTTPError, LLMStreamFailed)


@dataclass
class ChatReply:
    """What is known about a streamed reply besides its text."""

    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    attempts: int = 0
    text: list[str] = field(default_factory=list)


def _retryable(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError))


def _retry_after(exc: BaseException, attempt: int) -> float:
    """Seconds to wait before the next attempt: the server's Retry-After if given, else exponential backoff."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers[name]) * scale
        except (KeyError, ValueError):
            continue
    return min(0.5 * 2**attempt, 8.0)


def stream_chat(settings: Settings, messages: list[dict[str, str]], deadline: float,
                reply: ChatReply | None = None) -> Generator[str, None, None]:
    """Stream a chat completion's text, ending by `deadline` (time.monotonic()) whatever the server does.

    The request runs in a worker thread; this generator waits on it with the time left, so SSE keep-alive
    comments (`: ping`) and whitespace trickles cannot extend it. Timeouts, 429 and 5xx are retried while time
    is left and nothing has been received. A stream that ends without a finish_reason, outlives the deadline or
    exceeds the size `max_tokens` allows raises LLMStreamFailed. On any exit the request's socket is shut down,
    so the server stops generating.
    """
    import openai

    reply = reply if reply is not None else ChatReply()
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    cancelled = threading.Event()
    live: dict[str, Any] = {}
    client = openai.OpenAI(api_key=settings.api_key or "not-needed", base_url=settings.openai_base_url,
                           max_retries=0)

    def work() -> None:
        attempt, received = 0, False
        while not cancelled.is_set():
            try:
                stream = client.chat.completions.create(
                    model=settings.openai_model, messages=messages, temperature=settings.temperature,  # type: ignore[call-overload]
                    max_tokens=settings.llm_max_tokens, stream=True, stream_options={"include_usage": True},
                    timeout=max(0.05, deadline - time.monotonic()))
                live["stream"] = stream
                with stream:
                    for chunk in stream:
                        if cancelled.is_set():
                            return
                        if chunk.usage:
                            events.put(("usage", chunk.usage))
                        for choice in chunk.choices:
                            if choice.delta and choice.delta.content:
                                received = True
                                events.put(("text", choice.delta.content))
                            if choice.finish_reason:
                                events.put(("finish", choice.finish_reason))
                events.put(("end", None))
                return
            except Exception as exc:  # handed to the consumer, which re-raises it in its own thread
                wait = _retry_after(exc, attempt)
                if (not cancelled.is_set() and not received and _retryable(exc)
                        and attempt < settings.llm_max_retries and time.monotonic() + wait < deadline):
                    log.info("LLM request failed (%s); retry %d in %.2f s", type(exc).__name__, attempt + 1, wait)
                    attempt += 1
                    events.put(("attempt", attempt))
                    cancelled.wait(wait)
                    continue
                events.put(("error", exc))
                return

    def cancel() -> None:
        cancelled.set()
        stream = live.get("stream")
        network = stream.response.extensions.get("network_stream") if stream is not None else None
        sock = network.get_extra_info("socket") if network is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the worker's blocked read; the server sees the hang-up

    worker = threading.Thread(target=work, name="policyqa-llm", daemon=True)
    worker.start()
    reply.attempts = 1
    size_cap = settings.llm_max_tokens * 16  # characters: no tokenizer yields more per token
    size = 0
    finished = False
    try:
        while True:
            left = deadline - time.monotonic()
            try:
                kind, value = events.get(timeout=max(0.0, left)) if left > 0 else events.get_nowait()
            except queue.Empty:
                raise LLMStreamFailed(
                    f"the language model did not finish within {settings.llm_timeout:g} s (POLICYQA_LLM_TIMEOUT)",
                    f"语言模型未在 {settings.llm_timeout:g} 秒内完成回答（POLICYQA_LLM_TIMEOUT）") from None
            if kind == "text":
                size += len(value)
                if size > size_cap:
                    raise LLMStreamFailed("the language model's reply exceeded max_tokens",
                                          "语言模型的回答超过了 max_tokens 上限")
                reply.text.append(value)
                yield value
            elif kind == "finish":
                reply.finish_reason = value
            elif kind == "usage":
                reply.prompt_tokens, reply.completion_tokens = value.prompt_tokens, value.completion_tokens
            elif kind == "attempt":
                reply.attempts = value + 1
            elif kind == "error":
                raise value
            elif kind == "end":
                if reply.finish_reason is None:
                    raise LLMStreamFailed("the language model's reply was cut off (the stream ended unfinished)",
                                          "语言模型的回答被中断（数据流未正常结束）")
                finished = True
                return
    finally:
        if not finished:
            cancel()


def describe_llm_error(exc: BaseException) -> LLMError:
    """Map an openai/httpx exception to a user-readable bilingual error."""
    import openai

    if isinstance(exc, LLMStreamFailed):
        return exc.error
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("the language model timed out", "语言模型响应超时")
    if isinstance(exc, openai.RateLimitError):
        return LLMError("the language model is rate-limited (HTTP 429)", "语言模型请求过于频繁（HTTP 429）")
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"the language model returned HTTP {exc.status_code}", f"语言模型返回错误 HTTP {exc.status_code}")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError("cannot reach the language model server", "无法连接语言模型服务")
    return LLMError(f"the language model failed: {type(exc).__name__}", f"语言模型出错：{type(exc).__name__}")
