"""Errors a user can read: each carries a Chinese and an English message and is shown in the question's language."""

from __future__ import annotations


class PolicyQAError(Exception):
    """Base of every error meant for the user (the CLI prints it on one line and exits non-zero)."""

    exit_code = 1

    def __init__(self, en: str, zh: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.zh = zh or en

    def message(self, language: str = "en") -> str:
        return self.zh if language == "zh" else self.en


class InputError(PolicyQAError):
    """The question itself is unusable (empty, too long, only control characters)."""

    exit_code = 2


class SettingsError(PolicyQAError):
    """A setting (environment variable, `.env` entry or flag) has an invalid value."""

    exit_code = 2


class DocumentError(PolicyQAError):
    """A document file is missing, unreadable or has no structure we can parse."""

    exit_code = 3


class StoreError(PolicyQAError):
    """The vector store is missing, empty, unreachable or corrupt."""

    exit_code = 4


class LLMError(PolicyQAError):
    """The LLM backend failed (timeout, rate limit, server error, unusable output)."""

    exit_code = 5
