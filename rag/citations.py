"""Citation markers as the prompts ask for them ([第八条], [Art. 8], [Part I]).

Reading and checking the citations an answer contains is part of sentence verification (rag/verify.py), which
reads them with the answer-side patterns of rag/references.py: list items （一） and English prose such as
"part 2" are not citations there.
"""

from __future__ import annotations

from rag.document import Unit


def marker(unit: Unit, language: str) -> str:
    """The citation marker of a unit in an answer of `language`."""
    return f"[{unit.label(language)}]"
