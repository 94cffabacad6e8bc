"""Citation markers as the prompts ask for them ([第八条], [Art. 8], [Part I]) and, when several documents are in
scope, markers that name the document ([《广东省知识产权保护条例》第三十条] / [<English title>, Art. 30]).

Everything that maps a citation or a reference back to units goes through `units_cited`, which matches on
(document, unit), never on a bare unit id when units of several documents are in play. Reading the citations an
answer contains is part of sentence verification (rag/verify.py), with the answer-side patterns of
rag/references.py: list items （一） and English prose such as "part 2" are not citations there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rag.document import Unit
from rag.references import find_references
from rag.structure import short_title_for

_BOOK = re.compile(r"《([^》]{2,80})》")


def cite_label(unit: Unit, language: str, named: bool = False) -> str:
    """The unit's citation label; `named` (several documents in scope) puts the document's title in front."""
    return unit.document_label(language) if named else unit.label(language)


def marker(unit: Unit, language: str, named: bool = False) -> str:
    """The citation marker of a unit in an answer of `language`."""
    return f"[{cite_label(unit, language, named)}]"


def document_names(unit: Unit) -> list[str]:
    """The names a text may use for the unit's document: full and short Chinese title, English title."""
    names = [unit.doc_title, short_title_for(unit.doc_title) if unit.doc_title else "", unit.doc_title_en]
    return [n for n in dict.fromkeys(names) if n and len(n) >= 4]


def named_documents(text: str, units: Iterable[Unit]) -> list[str]:
    """Ids of the documents (among those of `units`) that `text` names, in order of first mention.

    A document is named by its full or short title (知识产权保护条例, with or without 《》), by a 《…》 that is
    part of its title (《关于新时代广东高质量发展的若干意见》), or by its English title (any case).
    """
    titles: dict[str, list[str]] = {}
    for u in units:
        titles.setdefault(u.doc_id, document_names(u))
    books = [b for b in _BOOK.findall(text) if len(b) >= 4]
    lowered = text.lower()
    hits: list[tuple[int, str]] = []
    for doc_id, names in titles.items():
        positions = [lowered.find(n.lower()) for n in names if n.lower() in lowered]
        positions += [text.find(b) for b in books for n in names if b in n]
        if positions:
            hits.append((min(positions), doc_id))
    return [doc_id for _pos, doc_id in sorted(hits)]


def units_cited(text: str, units: Sequence[Unit]) -> tuple[list[Unit], list[str]]:
    """The units among `units` that a citation or reference text names, matched on (document, unit).

    A text naming a document ([《广东省知识产权保护条例》第三十条]) matches that document's unit only; a bare one
    ([第八条]) matches the unit of every document in `units` that has it (verification then keeps the ones that
    support the sentence). Returns (units, the raw references that name none of them).
    """
    docs = named_documents(text, units)
    found: list[Unit] = []
    missing: list[str] = []
    for ref in find_references(text, in_answer=True):
        hits = [u for u in units if u.unit_id == ref.unit_id and (not docs or u.doc_id in docs)]
        if not hits:
            missing.append(ref.raw)
        found += [u for u in hits if u not in found]
    return found, missing
