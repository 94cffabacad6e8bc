"""Only configured backends are offered; the badge says what will really answer; one language per label."""

from __future__ import annotations

import pytest

from rag import PolicyQAError, load_settings
from ui.app import available_backends, backend_markdown, effective_backend


def test_llm_not_offered_without_configuration() -> None:
    bare = load_settings(env={})
    assert available_backends(bare) == ["extractive"]
    assert effective_backend(bare, "auto") == "extractive"
    with pytest.raises(PolicyQAError) as err:
        effective_backend(bare, "openai")
    assert "OPENAI_API_KEY" in err.value.message("en") and "未配置语言模型" in err.value.message("zh")
    with pytest.raises(PolicyQAError):
        effective_backend(bare, "gpt")
    # POLICYQA_BACKEND=openai with nothing configured: the badge does not claim an LLM that would get a placeholder key
    forced = load_settings(env={"POLICYQA_BACKEND": "openai"})
    assert effective_backend(forced, None) == "extractive"
    assert backend_markdown(forced, None, "en") == "**Answered by:** extractive (offline, no LLM)"


def test_llm_offered_when_configured() -> None:
    local = load_settings(env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_MODEL": "qwen"})
    assert available_backends(local) == ["extractive", "openai"]
    assert effective_backend(local, "auto") == "openai"
    assert effective_backend(local, "extractive") == "extractive"
    assert backend_markdown(local, "openai", "zh") == "**回答方式:** 语言模型: qwen @ 127.0.0.1:9"
