"""Check the citations in an answer against the units actually retrieved for it.

Every citation form an LLM may write ([第八条], 第8条, （八）, [Art. 8], Article 8, [A8], [Part I]) is read by the
same patterns as explicit references in questions. A citation to a unit that was not retrieved, or does not
exist, is removed with its sentence unless the sentence also cites something valid; valid ones are rewritten
in the canonical form of the answer's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.document import Unit
from rag.references import find_references
from rag.text import split_sentences

_BRACKETED = re.compile(r"(\s?)[\[【]([^\]】]{1,24})[\]】]")


@dataclass
class CheckedText:
    text: str
    cited: list[Unit] = field(default_factory=list)  # valid, in order of first citation
    dropped: list[str] = field(default_factory=list)  # citation markers removed (unretrieved / nonexistent)
    uncited_sentences: list[str] = field(default_factory=list)


def marker(unit: Unit, language: str) -> str:
    return f"[{unit.label(language)}]"


def _resolve(raw: str, retrieved: dict[str, Unit]) -> tuple[list[Unit], list[str]]:
    valid, invalid = [], []
    for ref in find_references(raw):
        unit = retrieved.get(ref.unit_id)
        (valid.append(unit) if unit else invalid.append(ref.raw))
    return valid, invalid


def check_sentence(sentence: str, retrieved: dict[str, Unit], language: str) -> tuple[str, list[Unit], list[str]]:
    """(cleaned sentence or "" if it must go, valid units, dropped markers) for one answer sentence."""
    valid, invalid = _resolve(sentence, retrieved)
    if invalid and not valid:
        return "", [], invalid

    def canonical(m: re.Match[str]) -> str:
        units, bad = _resolve(m.group(0), retrieved)
        if not units and not bad:
            return m.group(0)  # a bracket that is not a citation
        return (m.group(1) if units else "") + "".join(marker(u, language) for u in units)

    cleaned = _BRACKETED.sub(canonical, sentence)
    return cleaned, valid, invalid


def check_citations(text: str, retrieved: list[Unit], language: str) -> CheckedText:
    """Check every sentence of `text`; see the module docstring for the rules."""
    by_id = {u.unit_id: u for u in retrieved}
    out = CheckedText(text="")
    kept: list[str] = []
    for paragraph in text.split("\n"):
        sentences = []
        for sentence in split_sentences(paragraph, language) if paragraph.strip() else []:
            cleaned, units, dropped = check_sentence(sentence, by_id, language)
            out.dropped.extend(dropped)
            if not cleaned:
                continue
            if not units:
                out.uncited_sentences.append(cleaned)
            for u in units:
                if u not in out.cited:
                    out.cited.append(u)
            sentences.append(cleaned)
        kept.append(("" if language == "zh" else " ").join(sentences))
    out.text = "\n".join(kept).strip()
    return out
