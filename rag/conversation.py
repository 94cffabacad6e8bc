"""Multi-turn: turn a follow-up (那深圳呢？ / And Shenzhen? / 这一条还说了什么？) into a standalone question.

With an LLM the condense prompt rewrites it. Offline, rules carry the previous turn over:
- a follow-up that points back at "this article" / "it" inherits the unit the conversation was last about
  (named in a question, or cited first by the previous answer);
- a short elliptical follow-up ("And Shenzhen?", "And for 2035?", "What about quantum technology?") takes the
  previous question and swaps the new topic into the slot of the same kind: a place name for a place name, a
  year for a year, the object of "about …" for the new object; when no such slot is found it is searched
  together with the previous question, so the topic carries over.
The previous question is itself made standalone first, so "What about Qianhai?" → "And Nansha?" chains.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import jieba.posseg

from rag.references import find_references
from rag.text import int_to_cn

_POINTS_BACK = re.compile(r"这一?条|该条|此条|本条|这部分|该部分|上述|它|\bthis (?:article|section|part)\b|\bthat (?:article|one)\b"
                          r"|\bit\b|\bits\b|\bthey\b|\bthem\b", re.I)
_ELLIPTICAL = re.compile(r"^(?:那|那么|还有|以及)?.{0,12}(?:呢|怎么样|如何)[？?]?$|^(?:and|what about|how about)\b", re.I)
# The frame of an elliptical follow-up, around its new topic: 那 … 呢？ / And (what about) (for) … ?
_FRAME_ZH = re.compile(r"^(?:那么|那|还有|以及)?(.*?)(?:方面)?(?:呢|怎么样|如何)?[？?。.!！]*$")
_FRAME_EN = re.compile(r"^(?:and\s+)?(?:(?:what|how)\s+about\s+)?(?:(?:for|in|on|regarding)\s+)?(?:the\s+)?(.*?)[?.!\s]*$",
                       re.I)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_EN_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_EN_NOT_NAMES = {"What", "Which", "How", "Who", "Why", "When", "Where", "Does", "Do", "Is", "Are", "And", "The",
                 "Tell", "Article", "Art", "Part", "Section", "Chapter", "Preamble", "Plan", "Document"}
_EN_ABOUT = re.compile(r"\b(about|regarding|concerning|on)\s+(?:the\s+)?([^?]+?)\s*\?*$", re.I)
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


def _names(text: str, language: str) -> list[str]:
    """Place and organisation names in `text` (jieba's ns/nt tags; capitalised words in English)."""
    if language == "zh":
        return [w for w, flag in jieba.posseg.lcut(text) if flag in ("ns", "nt") and len(w) >= 2]
    return [m.group(0) for m in _EN_NAME.finditer(text) if m.group(0).split()[0] not in _EN_NOT_NAMES]


def _new_topic(question: str, language: str) -> str:
    frame = _FRAME_ZH if language == "zh" else _FRAME_EN
    m = frame.match(question.strip())
    return (m.group(1) if m else question).strip(" ，,")


def _swap_topic(question: str, previous: str, language: str) -> str | None:
    """`previous` with the follow-up's new topic in the slot of the same kind, or None if there is none."""
    topic = _new_topic(question, language)
    if not topic:
        return None
    years, prev_years = _YEAR.findall(topic), _YEAR.findall(previous)
    if years and prev_years:
        return previous.replace(prev_years[0], years[0])
    names, prev_names = _names(topic, language), _names(previous, language)
    if names and len(prev_names) == 1:
        return previous.replace(prev_names[0], names[0], 1)
    if language == "en":
        m = _EN_ABOUT.search(previous)
        if m and m.group(2).lower() not in ("plan", "document", "policy"):
            return previous[:m.start(2)] + topic + previous[m.end(2):]
    return None


def _last_unit_reference(history: list[Message], language: str) -> str:
    """'第八条' / 'Article 8' for the article the conversation was last about ('' if none)."""
    for m in reversed(history):
        refs = [r for r in find_references(m["content"]) if r.kind == "article"]
        if refs:
            n = refs[0].number
            return f"第{int_to_cn(n)}条" if language == "zh" else f"Article {n}"
    return ""


def _previous_question(history: list[Message], language: str) -> str:
    """The last user question of `history`, itself made standalone against the turns before it."""
    for i in range(len(history) - 1, -1, -1):
        if history[i]["role"] == "user":
            earlier = history[:i]
            question = history[i]["content"]
            return rule_condense(question, earlier, language) if needs_condensing(question, earlier) else question
    return ""


def rule_condense(question: str, history: list[Message], language: str) -> str:
    """Offline carry-over (see module docstring). Returns the question unchanged when it stands alone."""
    if not needs_condensing(question, history):
        return question
    if _POINTS_BACK.search(question):
        ref = _last_unit_reference(history, language)
        if ref:
            return f"{ref} {question}"
    previous = _previous_question(history, language)
    if _ELLIPTICAL.search(question.strip()) or len(question) <= 8:
        swapped = _swap_topic(question, previous, language)
        if swapped:
            return swapped
    return f"{question} {previous}".strip()


def format_history(history: list[Message], max_turns: int = 6) -> str:
    return "\n".join(f"{m['role']}: {m['content'][:600]}" for m in history[-max_turns:])
