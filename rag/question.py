"""Checking a user's question before any work is done: cleaned, bounded, its language known."""

from __future__ import annotations

from dataclasses import dataclass

from rag.errors import InputError
from rag.text import clean_question, detect_language


@dataclass(frozen=True)
class Question:
    text: str
    language: str  # "zh" | "en": the language the answer is written in


def prepare_question(raw: str, *, max_chars: int, language: str = "auto") -> Question:
    """Clean control characters and whitespace; reject empty or over-long input with a message in its language."""
    if not isinstance(raw, str):
        raise InputError("the question must be text", "问题必须是文本")
    guess = detect_language(raw[:2000])
    text = clean_question(raw)
    if not text:
        raise InputError("the question is empty: please type a question about the document",
                         "问题为空：请输入一个关于文件内容的问题")
    if len(text) > max_chars:
        raise InputError(
            f"the question is too long ({len(text):,} characters; the limit is {max_chars:,}): please shorten it",
            f"问题过长（{len(text):,} 个字符，上限为 {max_chars:,}），请精简后再问",
        )
    lang = language if language in ("zh", "en") else detect_language(text) if text else guess
    return Question(text, lang)
