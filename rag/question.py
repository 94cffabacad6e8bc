"""Checking a user's question before any work is done: cleaned, bounded, its language known."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.errors import InputError
from rag.text import clean_question, detect_language

if TYPE_CHECKING:
    from rag.conversation import Message


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


#: An assistant message longer than this is cut: the condenser reads only its opening (what it cited first).
MAX_ASSISTANT_CHARS = 4000


def prepare_history(history: Sequence[Any] | None, *, max_chars: int, turns: int) -> list[Message]:
    """The conversation before a question, checked like a question and bounded, so a huge or malformed history
    (through the API or UI) can neither crash the chain nor make every other user wait.

    Only the last `turns` user turns (and their answers) are kept; a user message longer than a question may be
    is rejected; assistant messages are cut to MAX_ASSISTANT_CHARS; control characters are removed.
    """
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise InputError("the history must be a list of messages", "对话历史必须是消息列表")
    if len(history) > 100 * max(turns, 1) + 100:  # far beyond what any UI sends: refuse before looking inside
        raise InputError(f"the history is too long ({len(history):,} messages)", f"对话历史过长（{len(history):,} 条消息）")
    from rag.conversation import normalize_history  # jieba loads with it: not needed to reject a bad question

    messages = normalize_history(history)
    user_turns = [i for i, m in enumerate(messages) if m["role"] == "user"]
    start = user_turns[-turns] if turns and len(user_turns) > turns else (0 if turns else len(messages))
    out: list[Message] = []
    for m in messages[start:]:
        text = clean_question(m["content"])
        if m["role"] == "user" and len(text) > max_chars:
            raise InputError(
                f"a previous question in the history is too long ({len(text):,} characters; the limit is {max_chars:,})",
                f"对话历史中的问题过长（{len(text):,} 个字符，上限为 {max_chars:,}）",
            )
        if text:
            out.append({"role": m["role"], "content": text[:MAX_ASSISTANT_CHARS]})
    return out
