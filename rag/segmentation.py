"""jieba, set up once for the core: quiet, its dictionary loaded in a third of the time, and the place and
organisation names jieba.posseg would tag, found without posseg's own start-up.

jieba keeps its prefix dictionary in a marshal cache file (in the temp dir unless `jieba.dt.tmp_dir` /
`cache_file` say otherwise) and reads it with `marshal.load` on a buffered file, which takes ~0.6 s on these
machines; `marshal.loads` on the file's bytes gives the same dictionary in ~0.2 s. Every jieba user in the
process (cut, cut_for_search, posseg) goes through `jieba.dt.initialize`, so that is the one place changed.
"""

from __future__ import annotations

import importlib.util
import logging
import marshal
import os
import re
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jieba

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)


def _cache_path(tokenizer: jieba.Tokenizer) -> str:
    """Where jieba itself keeps the cache of its default dictionary (same rule as `Tokenizer.initialize`)."""
    return os.path.join(tokenizer.tmp_dir or tempfile.gettempdir(), tokenizer.cache_file or "jieba.cache")


def _initialize(dictionary: str | None = None) -> None:
    """`jieba.dt.initialize`, reading the default dictionary's cache in one go; anything else (a custom
    dictionary, no cache yet, an unreadable one) is left to jieba, which builds and writes the cache."""
    dt = jieba.dt
    if dictionary is None and dt.dictionary == jieba.DEFAULT_DICT and not dt.initialized:
        try:
            with open(_cache_path(dt), "rb") as f:
                freq, total = marshal.loads(f.read())
            if isinstance(freq, dict) and isinstance(total, int | float) and freq:
                with dt.lock:
                    dt.FREQ, dt.total, dt.initialized = freq, total, True
                return
        except (OSError, ValueError, EOFError, TypeError):
            log.debug("jieba cache unreadable: jieba rebuilds it", exc_info=True)
    jieba.Tokenizer.initialize(dt, dictionary)


jieba.dt.initialize = _initialize  # type: ignore[method-assign]

# jieba.posseg tags words by its dictionary and, for runs of characters the dictionary does not know, by an HMM.
# Importing it reads the whole dictionary again for the tags (~0.4 s of a cold question). Only names (ns place,
# nt organisation) are asked for here, so `tagged_names` does what posseg does with the ~22,000 name entries of
# the same dictionary and the HMM files of jieba.posseg itself, loaded on their own (tests compare it with posseg).
NAME_TAGS = frozenset({"ns", "nt"})
_BLOCK = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._]+)")  # posseg's re_han_internal: what it segments
_HAN_RUN = re.compile("([\u4E00-\u9FD5]+)")  # posseg's re_han_detail: what its HMM tags (the rest: eng, m, x)


@cache
def _name_words() -> dict[str, str]:
    """{word: tag} of the dictionary's entries tagged ns or nt (`word freq tag` lines, as posseg reads them)."""
    with jieba.dt.get_dict_file() as f:
        text = f.read().decode("utf-8")
    return dict(re.findall(r"^(\S+) \d+ (ns|nt)\s*$", text, re.M))


@cache
def _hmm() -> tuple[Any, ...]:
    """jieba.posseg's viterbi function and its tables, loaded from their own files without jieba.posseg's
    __init__ (whose dictionary read is the slow part)."""
    folder = Path(jieba.__file__).parent / "posseg"
    modules = []
    for name in ("viterbi", "char_state_tab", "prob_start", "prob_trans", "prob_emit"):
        spec = importlib.util.spec_from_file_location(f"rag._jieba_posseg_{name}", folder / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    viterbi, *tables = modules
    return (viterbi.viterbi, *(t.P for t in tables))


def _hmm_words(run: str) -> Iterator[tuple[str, str]]:
    """posseg's HMM tagging of a run of Han characters the dictionary does not know (POSTokenizer.__cut)."""
    viterbi, *tables = _hmm()
    _prob, states = viterbi(run, *tables)
    begin, rest = 0, 0
    for i, char in enumerate(run):
        position, tag = states[i]
        if position == "B":
            begin = i
        elif position == "E":
            yield run[begin:i + 1], tag
            rest = i + 1
        elif position == "S":
            yield char, tag
            rest = i + 1
    if rest < len(run):
        yield run[rest:], states[rest][1]


def _unknown_run_words(chars: str) -> Iterator[tuple[str, str]]:
    """Tagged words of characters that jieba cut one by one (POSTokenizer.__cut_DAG's buffer)."""
    if len(chars) > 1 and not jieba.dt.FREQ.get(chars):
        for run in _HAN_RUN.findall(chars):
            yield from _hmm_words(run)
    # otherwise single characters: never a name of two or more


def _block_words(block: str) -> Iterator[tuple[str, str]]:
    """Tagged words of one block, as posseg's POSTokenizer.__cut_DAG makes them (only words that can be names)."""
    route: dict[int, tuple[float, int]] = {}
    jieba.dt.calc(block, jieba.dt.get_DAG(block), route)
    names = _name_words()
    x, chars = 0, ""
    while x < len(block):
        y = route[x][1] + 1
        if y - x == 1:
            chars += block[x]
        else:
            yield from _unknown_run_words(chars)
            chars = ""
            yield block[x:y], names.get(block[x:y], "x")
        x = y
    yield from _unknown_run_words(chars)


def tagged_names(text: str, tags: tuple[str, ...] = ("ns", "nt")) -> list[str]:
    """Words of two or more characters that jieba.posseg tags with one of `tags` (ns place, nt organisation), in
    order — the same words posseg finds, without importing it (see NAME_TAGS above)."""
    if not set(tags) <= NAME_TAGS:
        raise ValueError(f"only {sorted(NAME_TAGS)} are supported")
    return [word for block in _BLOCK.findall(text) for word, tag in _block_words(block)
            if tag in tags and len(word) >= 2]


__all__ = ["jieba", "tagged_names"]
