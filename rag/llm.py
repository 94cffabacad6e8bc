"""The chat model behind the `openai` backend: OpenAI or any OpenAI-compatible server (vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

from typing import Any

from rag.config import Settings
from rag.errors import LLMError


def resolve_backend(settings: Settings) -> str:
    """'openai' when asked for or when a key/base URL is configured (auto), else the offline 'extractive'."""
    if settings.backend in ("openai", "extractive"):
        return settings.backend
    if settings.backend != "auto":
        raise ValueError(f"unknown backend {settings.backend!r}: choose auto, openai or extractive")
    return "openai" if (settings.openai_api_key or settings.openai_base_url) else "extractive"


def backend_label(settings: Settings) -> str:
    """What the UI/CLI shows as the active backend."""
    if resolve_backend(settings) == "openai":
        where = settings.openai_base_url or "api.openai.com"
        return f"openai: {settings.openai_model} @ {where}"
    return "extractive (offline, no LLM)"


def make_chat_model(settings: Settings) -> Any:
    """ChatOpenAI with the configured endpoint, timeout and retries (the client backs off exponentially)."""
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
        model=settings.openai_model,
        api_key=settings.openai_api_key or SecretStr("not-needed"),  # local OpenAI-compatible servers ignore it
        base_url=settings.openai_base_url,
        temperature=settings.temperature,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        streaming=True,
    )


def describe_llm_error(exc: BaseException) -> LLMError:
    """Map an openai/httpx exception to a user-readable bilingual error."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return LLMError("the language model timed out", "语言模型响应超时")
    if isinstance(exc, openai.RateLimitError):
        return LLMError("the language model is rate-limited (HTTP 429)", "语言模型请求过于频繁（HTTP 429）")
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"the language model returned HTTP {exc.status_code}", f"语言模型返回错误 HTTP {exc.status_code}")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError("cannot reach the language model server", "无法连接语言模型服务")
    return LLMError(f"the language model failed: {type(exc).__name__}", f"语言模型出错：{type(exc).__name__}")
