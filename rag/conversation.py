"""Multi-turn: turn a follow-up (那深圳呢？ / And Shenzhen? / 这一条还说了什么？) into a standalone question.

With an LLM the condense prompt rewrites it. Offline, a rule carries the previous turn over: a follow-up that
points back at "this article" inherits the article the previous answer cited; a short elliptical follow-up
("And Shenzhen?") is searched together with the previous question, so its topic carries over.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.references import find_references
from rag.text import int_to_cn

_POINTS_BACK = re.compile(r"这一?条|该条|此条|本条|这部分|该部分|上述|它|\bthis (?:article|section|part)\b|\bthat (?:article|one)\b"
                          r"|\bit\b|\bits\b|\bthey\b|\bthem\b", re.I)
_ELLIPTICAL = re.compile(r"^(?:那|那么|还有|以及)?.{0,12}(?:呢|怎么样|如何)[？?]?$|^(?:and|what about|how about)\b", re.I)
Message = dict[str, Any]


def message_text(content: Any) -> str:
    """Plain text of a message whose content may be a string or a list of Gradio content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(message_text(c) for c in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return ""


def normalize_history(history: Sequence[Any] | None) -> list[Message]:
    """Accept messages ({role, content}), (user, assistant) pairs, or bare user strings; return messages."""
    out: list[Message] = []
    for item in history or []:
        if isinstance(item, str):
            out.append({"role": "user", "content": item})
        elif isinstance(item, dict) and item.get("role") in ("user", "assistant"):
            out.append({"role": item["role"], "content": message_text(item.get("content"))})
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            out += [{"role": "user", "content": message_text(item[0])},
                    {"role": "assistant", "content": message_text(item[1] or "")}]
    return [m for m in out if m["content"].strip()]


def needs_condensing(question: str, history: list[Message]) -> bool:
    return bool(history) and not find_references(question) and bool(
        _POINTS_BACK.search(question) or _ELLIPTICAL.search(question.strip()) or len(question) <= 8)


def rule_condense(question: str, history: list[Message], language: str) -> str:
    """Offline carry-over (see module docstring). Returns the question unchanged when it stands alone."""
    if not needs_condensing(question, history):
        return question
    last_user = next((m["content"] for m in reversed(history) if m["role"] == "user"), "")
    if _POINTS_BACK.search(question):
        for m in reversed(history):  # the unit the conversation was last about
            refs = [r for r in find_references(m["content"]) if r.kind == "article"]
            if refs:
                n = refs[0].number
                ref = f"第{int_to_cn(n)}条" if language == "zh" else f"Article {n}"
                return f"{ref} {question}"
    return f"{question} {last_user}".strip()


def format_history(history: list[Message], max_turns: int = 6) -> str:
    return "\n".join(f"{m['role']}: {m['content'][:600]}" for m in history[-max_turns:])
