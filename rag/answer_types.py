"""Typed results of answering: the Answer with its Citations and Sources, and the events a stream yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rag.document import Unit


@dataclass(frozen=True)
class Citation:
    """A checked citation: a retrieved unit, with the sentence of it that the answer relies on."""

    unit_id: str
    doc_id: str
    label: str  # as shown in the answer: 第八条 / Art. 8
    title: str
    quote: str  # the unit's sentence that best supports the citing statement ("" if none stands out)
    attributed: bool = False  # True when the model did not cite it: verification found the unit supports the text
    doc_title: str = ""

    def to_dict(self) -> dict[str, str | bool]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Source:
    """A cited unit shown beside the answer, with the sentences to highlight in each language."""

    unit: Unit
    quotes_zh: tuple[str, ...] = ()
    quotes_en: tuple[str, ...] = ()

    def to_dict(self, language: str = "zh", named: bool = False) -> dict[str, Any]:
        """`named`: several documents were in scope (Answer.documents), so the label names the document."""
        u = self.unit
        return {"unit": u.unit_id, "doc_id": u.doc_id, "doc_title": u.doc_title,
                "label": u.document_label(language) if named else u.label(language),
                "title": u.title,
                "title_en": u.title_en, "section": u.section_title, "text": u.text, "text_en": u.text_en,
                "quotes_zh": list(self.quotes_zh), "quotes_en": list(self.quotes_en)}


@dataclass
class Answer:
    """What the user gets: text with checked citation markers, and everything needed to show and audit it."""

    question: str
    text: str
    language: str
    backend: str
    citations: list[Citation] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)  # unit ids, rank order
    retrieved_docs: list[str] = field(default_factory=list)  # the document of each retrieved unit
    documents: list[str] = field(default_factory=list)  # the documents the question was asked over
    refused: bool = False
    fallback: bool = False  # True when the LLM failed and the extractive answer stands in
    fallback_reason: str = ""  # why the LLM's answer was not used ("" when it was, or no LLM was asked)
    standalone_question: str = ""
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per stage
    tokens: dict[str, int] = field(default_factory=dict)  # LLM answers: context, prompt and completion tokens
    verification: dict[str, int] = field(default_factory=dict)  # LLM answers: sentences verified/attributed/removed

    def to_dict(self) -> dict[str, Any]:
        """The `policyqa ask --json` line."""
        return {
            "question": self.question,
            "answer": self.text,
            "language": self.language,
            "citations": list(dict.fromkeys(c.unit_id for c in self.citations)),
            "cited": list({(c.doc_id, c.unit_id): {"unit": c.unit_id, "doc_id": c.doc_id, "doc_title": c.doc_title}
                           for c in self.citations}.values()),
            "documents": self.documents,
            "refused": self.refused,
            "backend": self.backend,
            "fallback": self.fallback,
            "fallback_reason": self.fallback_reason,
            "standalone_question": self.standalone_question,
            "retrieved": self.retrieved,
            "retrieved_docs": self.retrieved_docs,
            "quotes": [c.to_dict() for c in self.citations],
            "warnings": self.warnings,
            "timings_ms": {k: round(v, 1) for k, v in self.timings.items()},
            "tokens": self.tokens,
            "verification": self.verification,
        }


@dataclass(frozen=True)
class TextDelta:
    """A checked piece of answer text, ready to show."""

    text: str


@dataclass(frozen=True)
class Final:
    """The end of a stream: the complete answer (its text is authoritative; replace what was streamed)."""

    answer: Answer


AnswerEvent = TextDelta | Final
