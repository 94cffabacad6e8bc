"""Sentence-level verification of an LLM answer against the units retrieved for it: nothing unsupported is shown.

The rule, applied to every sentence (a Markdown list item or line counts as a sentence too):
- **verified**: it cites ([第八条], [Art. 8], [Part I]) a retrieved unit and that unit supports it;
- **attributed**: it cites nothing (or cites a unit that does not support it) but a retrieved unit of the
  context supports it: the supporting unit's marker is added and its Citation is marked `attributed`;
- **removed**: no retrieved unit supports it, it cites only units that were not retrieved (or do not exist),
  it is a bare citation marker with no content, or it repeats the prompt's instructions / context markup;
- **exempt**: connectives ("以下是主要措施：", "Here are the key points:") and the refusal sentence are kept or
  dropped without counting as content (a connective is shown only when a supported sentence follows it).
An answer left with no verified or attributed sentence is not shown: the caller falls back (with the reason).

Support of a sentence by a unit is lexical: the IDF-weighted share of the sentence's terms found in the unit
(Chinese runs tokenised with jieba, Latin runs stemmed, each checked against the unit's text in both
languages, so a sentence that switches language mid-way is still checked). Terms the corpus never uses weigh
1.5× the rarest term, so an invented name or number pulls a sentence below the threshold however many generic
words it shares. A number the unit does not contain (30 for its 20) means no support at all. Prose references
(第八条讲了…, "Article 12 states") are not terms. Only when the sentence is
English and the unit has no English translation is support dense: the best cosine similarity (multilingual
embeddings) between the sentence and the unit's sentences, rescaled so DENSE_THRESHOLD maps to SUPPORT_THRESHOLD.

Calibration (tests/integration/test_verify_calibration.py, `python tests/integration/test_verify_calibration.py`
prints the sweep): labelled sentences built from the corpus, not from the eval set — supported: every sentence
of every unit in both languages, and paraphrases of it (a leading or trailing half of its clauses, wrapped in
"文件提出，…" / "The plan says that …"); unsupported: the same sentences checked against another unit, and
sentences with invented names/numbers. SUPPORT_THRESHOLD is the value maximising balanced accuracy on them;
it was then checked, without change, on the 22 real model transcripts (tests/integration/test_llm_transcripts.py).
DENSE_THRESHOLD is calibrated the same way on English sentences checked against units stripped of their
translation (supported: the unit's own translated sentences; unsupported: other units', invented claims).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from rag.citations import marker, units_cited
from rag.document import Unit
from rag.references import find_references
from rag.text import CJK_CHARS, has_cjk, split_sentences

SUPPORT_THRESHOLD = 0.5
DENSE_THRESHOLD = 0.45
NO_ANSWER = "[NO_ANSWER]"

_CJK_RUN = re.compile(f"[{CJK_CHARS}]+")
_LATIN_RUN = re.compile(f"[^{CJK_CHARS}]+")
_BRACKET = re.compile(r"\s?[\[【]([^\]】\n]{1,120})[\]】]")  # long enough for a document title
# [8] / [8, 9]: numbered-context markers. The context is labelled by unit, not numbered, so these name nothing
# for sure (not Art. 8): they are dropped and the sentence is verified as uncited.
_NUMBERED = re.compile(r"^\s*\d+(?:\s*[,，、]\s*\d+)*\s*$")
_MARKUP = re.compile(r"\*\*|__|`|^#+\s*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_PROMPT_MARKUP = re.compile(r"</?\s*(?:unit|context)\b|\bcite\s*=|NO_ANSWER", re.I)
_LINE_PREFIX = re.compile(r"[ \t]*(?:#{1,6}[ \t]+|[-*+•][ \t]+|\d{1,3}[.)](?!\d)[ \t]*|\d{1,3}、|"
                          r"[（(][一二三四五六七八九十\d]{1,3}[)）][ \t]*|>[ \t]*)?")
# The end of a sentence: terminal punctuation (ASCII only before a space/closer/end, so 3.5 and Art. 8 stay
# whole), closing quotes/brackets/bold, then any citation markers written after the punctuation.
_END = re.compile(r"(?:[。！？；]|[.!?;](?=[\s\"'”’)\]*]|$))[”’\"'」』)）*]*(?:[ \t]*[\[【][^\]】\n]{1,120}[\]】])*")
_TRAILING_PUNCT = re.compile(r"[。！？；：.!?;:]+$")
# Words that only connect or announce (stemmed English / jieba Chinese): a sentence made of nothing else is exempt.
_CONNECTIVE = frozenset({
    "summari", "follow", "key", "main", "point", "includ", "addit", "conclus", "overal", "general", "below",
    "here", "measur", "content", "provis", "aspect", "regard", "follows", "list", "answer", "question", "base",
    "以下", "如下", "主要", "包括", "总之", "综上", "此外", "另外", "具体", "内容", "措施", "方面", "要点", "概括",
    "总的来说", "来说", "总的", "下面", "几点", "规定", "提出", "要求", "根据", "文件", "回答", "问题",
})


class TermSource(Protocol):
    """What verification needs from the retriever: its tokenisers and corpus IDF."""

    def tokens(self, text: str, language: str) -> list[str]: ...

    def idf(self, term: str, language: str) -> float | None: ...


@dataclass(frozen=True)
class Segment:
    """One sentence of a reply, losslessly: prefix (list marker) + body + sep (the whitespace after it)."""

    prefix: str
    body: str
    sep: str

    @property
    def raw(self) -> str:
        return self.prefix + self.body + self.sep


@dataclass(frozen=True)
class Verdict:
    """What verification decided for one sentence."""

    outcome: str  # verified | attributed | removed | exempt
    text: str  # the sentence as shown (canonical markers), "" when nothing is shown
    units: tuple[Unit, ...] = ()
    reason: str = ""
    score: float = 0.0


def segments(text: str, *, line_start: bool = True) -> list[Segment]:
    """Split a reply into sentences and list items without losing a character (Markdown survives)."""
    out: list[Segment] = []
    for line in re.finditer(r"[^\n]*(?:\n+|$)", text):
        chunk = line.group(0)
        if not chunk:
            continue
        content = chunk.rstrip("\n")
        newlines = chunk[len(content):]
        prefix = ""
        if line_start:
            prefix = _LINE_PREFIX.match(content).group(0)  # type: ignore[union-attr]
        line_start = bool(newlines)
        pos = len(prefix)
        pieces: list[tuple[str, str]] = []
        for m in _END.finditer(content, pos):
            rest = content[m.end():]
            following = rest.lstrip(" \t")
            if not following:
                continue
            if m.group(0)[0] in ".!?;" and (following[0].islower() or following[0].isdigit()):
                continue
            sep = rest[: len(rest) - len(following)]
            pieces.append((content[pos:m.end()], sep))
            pos = m.end() + len(sep)
        tail = content[pos:]
        body = tail.rstrip(" \t")
        pieces.append((body, tail[len(body):]))
        for i, (body, sep) in enumerate(pieces):
            last = i == len(pieces) - 1
            out.append(Segment(prefix if i == 0 else "", body, sep + (newlines if last else "")))
    return out


def _ngrams(text: str, n: int = 4) -> set[str]:
    text = re.sub(r"\s+", " ", text.lower())
    return {text[i:i + n] for i in range(max(0, len(text) - n + 1))}


class SentenceVerifier:
    """Checks sentences against the context units (see the module docstring for the rule)."""

    def __init__(self, units: list[Unit], language: str, terms: TermSource, *, instructions: str = "",
                 threshold: float = SUPPORT_THRESHOLD,
                 embed: Callable[[str], Sequence[float]] | None = None, refusal: str = "",
                 named: bool = False) -> None:
        self.units = list(units)
        self.named = named  # several documents in scope: markers name the document
        self.language = language
        self.terms = terms
        self.threshold = threshold
        self._instructions = _ngrams(instructions) if instructions else set()
        self._unit_terms = {_key(u): self.term_set(u.text + "\n" + u.text_en) for u in self.units}
        self._unseen: float | None = None
        self._embed = embed
        self._refusals = {_normal(x) for x in split_sentences(refusal, language)} if refusal else set()
        self._sentence_vectors: dict[tuple[str, str], np.ndarray] = {}

    # -- support ---------------------------------------------------------------------------------
    def term_set(self, text: str) -> set[tuple[str, str]]:
        """(language, term) pairs: Chinese runs through jieba, the rest through the English stemmer."""
        out = {("zh", t) for run in _CJK_RUN.findall(text) for t in self.terms.tokens(run, "zh")}
        out |= {("en", t) for run in _LATIN_RUN.findall(text) for t in self.terms.tokens(run, "en")}
        return out

    def _weight(self, term: tuple[str, str]) -> float:
        idf = self.terms.idf(term[1], term[0])
        if idf is not None:
            return idf
        if self._unseen is None:
            seen = [w for u in self._unit_terms.values() for t in u if (w := self.terms.idf(t[1], t[0]))]
            self._unseen = 1.5 * max(seen, default=1.0)
        return self._unseen

    def support(self, sentence: str, unit: Unit) -> float:
        """IDF-weighted share of the sentence's terms that the unit contains (0..1)."""
        content = content_of(sentence)
        terms = self.term_set(content)
        if not terms or not set(_NUMBER.findall(content)) <= self._numbers(unit):
            return 0.0  # a number the unit does not contain is a claim it does not make (30 个 for its 20 个)
        english = sum(t[0] == "en" for t in terms) > len(terms) / 2
        if english and not unit.text_en and self._embed is not None:
            return self.dense_support(content_of(sentence), unit)
        present = self._unit_terms.get(_key(unit))
        if present is None:
            present = self.term_set(unit.text + "\n" + unit.text_en)
        total = math.fsum(self._weight(t) for t in terms)  # order-free, as retriever.coverage
        return math.fsum(self._weight(t) for t in terms if t in present) / total

    def _numbers(self, unit: Unit) -> set[str]:
        return set(_NUMBER.findall(unit.text + "\n" + unit.text_en))

    def _vector(self, text: str) -> np.ndarray:
        v = np.asarray(self._embed(text) if self._embed else [], dtype=float)
        return v / (np.linalg.norm(v) or 1.0)

    def dense_support(self, sentence: str, unit: Unit) -> float:
        """Best cosine between the sentence and the unit's sentences, rescaled so DENSE_THRESHOLD → threshold."""
        if _key(unit) not in self._sentence_vectors:
            sentences = split_sentences(unit.text, "zh") or [unit.text]
            self._sentence_vectors[_key(unit)] = np.array([self._vector(x) for x in sentences])
        cosine = float((self._sentence_vectors[_key(unit)] @ self._vector(sentence)).max())
        return max(0.0, min(1.0, cosine * self.threshold / DENSE_THRESHOLD))

    # -- one sentence ------------------------------------------------------------------------------
    def verify(self, body: str) -> Verdict:
        """Decide one sentence: verified, attributed, removed or exempt (with the text to show)."""
        if not body.strip():
            return Verdict("exempt", "")
        if _PROMPT_MARKUP.search(body):
            return Verdict("exempt" if body.strip() == NO_ANSWER else "removed", "", reason="prompt markup")
        if self._from_instructions(body):
            return Verdict("removed", "", reason="repeats the prompt's instructions")
        cited, bad = self._citations(body)
        content = content_of(body)
        terms = self.term_set(content)
        if _normal(body) in self._refusals:
            return Verdict("exempt", "", reason="refusal")
        if not terms or all(t[1] in _CONNECTIVE for t in terms):
            if cited or bad:
                return Verdict("removed", "", reason="a citation marker with no content")
            if not re.search(r"\w", content):
                return Verdict("exempt", "")  # punctuation or Markdown only (a rule, a code fence)
            return Verdict("exempt", body)  # a connective: only stop words and connecting words
        named, prose_missing = units_cited(_strip_markers(body), self.units)
        if (bad and not cited) or prose_missing:
            return Verdict("removed", "", reason=f"names {', '.join(bad + prose_missing)}, not among the retrieved units")
        if cited:
            scores = {_key(u): self.support(body, u) for u in cited}
            supporting = tuple(u for u in cited if scores[_key(u)] >= self.threshold)
            if supporting:  # markers of cited units that do not support the sentence are dropped
                return Verdict("verified", self._canonical(body, supporting), supporting,
                               score=max(scores.values()))
        # A sentence naming a unit in prose (第八条讲了…) may only be attributed to that unit.
        candidates = named or self.units
        scored = sorted(((self.support(body, u), u) for u in candidates), key=lambda x: x[0], reverse=True)
        if scored and scored[0][0] >= self.threshold:
            score, unit = scored[0]
            return Verdict("attributed", self._attach(_strip_markers(body), unit), (unit,), score=score)
        best = scored[0][0] if scored else 0.0
        return Verdict("removed", "", reason=f"not supported by the retrieved units (support {best:.2f})", score=best)

    def _from_instructions(self, body: str) -> bool:
        grams = _ngrams(content_of(body))
        return bool(self._instructions) and len(grams) >= 8 and len(grams & self._instructions) / len(grams) >= 0.6

    def _citations(self, body: str) -> tuple[list[Unit], list[str]]:
        """Units cited by bracketed markers (retrieved ones) and the markers naming nothing retrieved."""
        cited: list[Unit] = []
        bad: list[str] = []
        for m in _BRACKET.finditer(body):
            units, missing = units_cited(f"[{m.group(1)}]", self.units)
            if missing and f"[{m.group(1)}]" not in bad:
                bad.append(f"[{m.group(1)}]")
            cited += [u for u in units if u not in cited]
        return cited, bad

    def _marker(self, unit: Unit) -> str:
        return marker(unit, self.language, self.named)

    def _canonical(self, body: str, keep: tuple[Unit, ...]) -> str:
        """Rewrite the markers of `keep` in the answer language's form; drop every other marker."""
        def repl(m: re.Match[str]) -> str:
            refs = find_references(f"[{m.group(1)}]", in_answer=True)
            if not refs:
                return "" if _NUMBERED.match(m.group(1)) else m.group(0)  # [8]: the context is not numbered
            units = [u for u in units_cited(f"[{m.group(1)}]", self.units)[0] if u in keep]
            lead = m.group(0)[0] if m.group(0)[0].isspace() else ""
            return (lead if units else "") + "".join(self._marker(u) for u in units)
        return _BRACKET.sub(repl, body)

    def _attach(self, body: str, unit: Unit) -> str:
        """Put the unit's marker at the end of the sentence, before its final punctuation."""
        body = body.rstrip()
        m = _TRAILING_PUNCT.search(body)
        head, tail = (body[: m.start()], m.group(0)) if m else (body, "")
        space = "" if self.language == "zh" or has_cjk(head[-1:]) else " "
        return f"{head.rstrip()}{space}{self._marker(unit)}{tail}"


def _key(unit: Unit) -> tuple[str, str]:
    return unit.doc_id, unit.unit_id


def _normal(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def _strip_markers(body: str) -> str:
    """The sentence without its bracketed citation markers (other brackets stay)."""
    def repl(m: re.Match[str]) -> str:
        return "" if _NUMBERED.match(m.group(1)) or find_references(f"[{m.group(1)}]", in_answer=True) else m.group(0)
    return _BRACKET.sub(repl, body).strip()


def content_of(body: str) -> str:
    """What a sentence claims: no citation markers, no prose references, no Markdown decoration."""
    text = _strip_markers(body)
    for ref in sorted(find_references(text, in_answer=True), key=lambda r: -r.start):
        text = text[: ref.start] + " " + text[ref.start + len(ref.raw):]
    return _MARKUP.sub(" ", text)


@dataclass
class StreamedAnswer:
    """A reply verified as it streams: `feed` pieces, `finish` at the end; the deltas are what the user sees."""

    verifier: SentenceVerifier
    shown: str = ""
    verdicts: list[Verdict] = field(default_factory=list)
    saw_no_answer: bool = False
    _buffer: str = ""
    _line_start: bool = True
    _owed_sep: str = ""
    _carried_prefix: str = ""
    _held: list[str] = field(default_factory=list)  # connectives waiting for a supported sentence

    def feed(self, piece: str) -> Iterator[str]:
        """Verified text released by this piece (complete sentences only)."""
        self._buffer += piece
        segs = segments(self._buffer, line_start=self._line_start)
        if len(segs) > 1:
            done = segs[:-1]
            self._buffer = self._buffer[sum(len(s.raw) for s in done):]
            yield from self._release(done)

    def finish(self, *, truncated: bool = False) -> Iterator[str]:
        """Release the last sentence (dropped when the reply was cut at max_tokens: it is unfinished)."""
        segs = segments(self._buffer, line_start=self._line_start)
        self._buffer = ""
        if truncated and segs:
            segs = segs[:-1]
        yield from self._release(segs)

    def counts(self) -> dict[str, int]:
        out = {"verified": 0, "attributed": 0, "removed": 0}
        for v in self.verdicts:
            if v.outcome in out:
                out[v.outcome] += 1
        return out

    @property
    def supported(self) -> bool:
        return any(v.outcome in ("verified", "attributed") for v in self.verdicts)

    def _release(self, segs: Iterable[Segment]) -> Iterator[str]:
        for seg in segs:
            verdict = self.verifier.verify(seg.body)
            if NO_ANSWER in seg.body or verdict.reason == "refusal":
                self.saw_no_answer = True
            self.verdicts.append(verdict)
            ends_line = "\n" in seg.sep
            prefix = self._carried_prefix or seg.prefix
            if not verdict.text:
                self._carried_prefix = "" if ends_line else prefix
                if ends_line and self._owed_sep:  # the line break stays; a removed line adds no blank line
                    owed, breaks = self._owed_sep.rstrip(" \t"), seg.sep[seg.sep.index("\n"):]
                    self._owed_sep = owed if owed.count("\n") >= breaks.count("\n") else breaks
                self._line_start = ends_line or (self._line_start and not seg.body)
                continue
            self._carried_prefix = ""
            piece = self._owed_sep + prefix + verdict.text
            self._owed_sep = seg.sep
            self._line_start = ends_line
            if verdict.outcome == "exempt":
                self._held.append(piece)  # a connective: shown only when a supported sentence follows it
                continue
            out = "".join(self._held) + piece
            self._held.clear()
            if not self.shown:
                out = out.lstrip()
            self.shown += out
            yield out
