"""jieba, set up once for the core: quiet, its dictionary loaded in a third of the time, and part-of-speech
tagging (jieba.posseg) imported only for text it can find names in.

jieba keeps its prefix dictionary in a marshal cache file (in the temp dir unless `jieba.dt.tmp_dir` /
`cache_file` say otherwise) and reads it with `marshal.load` on a buffered file, which takes ~0.6 s on these
machines; `marshal.loads` on the file's bytes gives the same dictionary in ~0.2 s. Every jieba user in the
process (cut, cut_for_search, posseg) goes through `jieba.dt.initialize`, so that is the one place changed.
"""

from __future__ import annotations

import logging
import marshal
import os
import re
import tempfile

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

# The Han range jieba segments (posseg's re_han_internal). Outside it posseg tags only eng / m / x, and no word of
# its dictionary without a Han character is a name, so a text with none of these names nothing.
_JIEBA_HAN = re.compile("[\u4E00-\u9FD5]")


def tagged_names(text: str, tags: tuple[str, ...] = ("ns", "nt")) -> list[str]:
    """Words of two or more characters that jieba.posseg tags with one of `tags` (ns place, nt organisation), in
    order. posseg is imported on first use: importing it reads jieba's whole dictionary again for the tags
    (~0.4 s), which an English question never needs."""
    if not _JIEBA_HAN.search(text):
        return []
    import jieba.posseg

    return [word for word, flag in jieba.posseg.lcut(text) if flag in tags and len(word) >= 2]


__all__ = ["jieba", "tagged_names"]
