"""`policyqa translate ID`: an aligned English translation of a Chinese-only document, written by the LLM.

Unit by unit and sentence by sentence: the model gets a unit's Chinese sentences as a JSON list and must return a
list of the same length, so each English sentence stays aligned with its Chinese one (the UI highlights quotes in
both languages by position). A reply that is not such a list is asked for once more; a unit that still fails is
left untranslated and reported, never guessed. The result has the shape of the bundled `data/*.en.json` and is
cached beside the store (`Settings.translations_dir`), so ingest re-uses it instead of asking the LLM again.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag.config import Settings
from rag.document import PolicyDocument, doc_id_for, parse_policy_document
from rag.errors import InputError, LLMError, PolicyQAError
from rag.llm import describe_llm_error, llm_errors, stream_chat
from rag.text import split_sentences

log = logging.getLogger(__name__)

PROMPT = """Translate each Chinese sentence of this JSON list into English, for a reader of Chinese law and policy.
Keep numbers, names and the legal meaning exact; translate, do not summarise or add anything.
Reply with a JSON list of exactly {n} English strings, one per input sentence, in the same order, and nothing else.

{sentences}"""


@dataclass
class TranslationResult:
    doc_id: str
    path: Path
    units: int
    failed: list[str] = field(default_factory=list)  # unit ids left untranslated


def _ask_list(settings: Settings, sentences: list[str]) -> list[str] | None:
    """The model's translations of `sentences`, one per sentence, or None when it did not return such a list."""
    prompt = PROMPT.format(n=len(sentences), sentences=json.dumps(sentences, ensure_ascii=False))
    for _attempt in range(2):
        text = "".join(stream_chat(settings, [{"role": "user", "content": prompt}],
                                   time.monotonic() + settings.llm_timeout))
        m = re.search(r"\[.*\]", text, re.S)
        try:
            got = json.loads(m.group(0)) if m else None
        except json.JSONDecodeError:
            got = None
        if isinstance(got, list) and len(got) == len(sentences) and all(isinstance(x, str) and x.strip() for x in got):
            return [x.strip() for x in got]
        log.info("translation reply was not a list of %d sentences; asking again", len(sentences))
    return None


def find_document(settings: Settings, doc_id: str) -> PolicyDocument:
    """The document with this id: a configured one, else a stored one (an upload) by the file it was ingested from.

    InputError listing the ids otherwise."""
    configured = {doc_id_for(p): p for p in settings.data_files}  # ids come from file names: parse one file only
    if doc_id in configured:
        return parse_policy_document(configured[doc_id])
    from rag.index import stored_document_paths

    try:
        stored = stored_document_paths(settings)
    except PolicyQAError:  # no store yet, or an unusable one: only the configured documents exist
        stored = {}
    if doc_id in stored:
        if stored[doc_id].is_file():
            return parse_policy_document(stored[doc_id])
        raise InputError(f"{doc_id}: its file {stored[doc_id]} is gone; ingest the document again to translate it",
                         f"{doc_id}：其文件 {stored[doc_id]} 已不存在；请重新入库后再翻译")
    ids = ", ".join(dict.fromkeys([*configured, *stored]))
    raise InputError(f"no such document: {doc_id} (documents: {ids})", f"没有这个文件：{doc_id}（可选：{ids}）")


def translate_document(settings: Settings, doc_id: str, *, progress: bool = False) -> TranslationResult:
    """Translate one document (configured or stored) with the LLM and write `<translations_dir>/<doc_id>.en.json`.

    Needs an LLM (Settings.llm_configured), whatever the answering backend. An LLM failure raises LLMError before
    anything is written; the file is replaced in one rename, so a crash never leaves half a translation."""
    if not settings.llm_configured:
        raise LLMError("translate needs an LLM: set OPENAI_BASE_URL (any OpenAI-compatible server) or OPENAI_API_KEY",
                       "翻译需要大模型：请设置 OPENAI_BASE_URL（任何兼容 OpenAI 的服务）或 OPENAI_API_KEY")
    doc = find_document(settings, doc_id)
    units: dict[str, dict[str, str]] = {}
    failed: list[str] = []
    try:
        head = _ask_list(settings, [doc.title, doc.short_title or doc.title]) or ["", ""]
        for unit in tqdm(doc.units, desc=f"translate {doc_id}", unit="unit", file=sys.stderr, disable=not progress,
                         leave=False):
            sentences = split_sentences(unit.text, "zh") or [unit.text]
            got = _ask_list(settings, [unit.title or "-", *sentences])  # the title first, then the sentences
            if got is None:
                failed.append(unit.unit_id)
                continue
            units[unit.unit_id] = {"title": got[0].rstrip(".") if unit.title else "", "text": " ".join(got[1:])}
    except llm_errors() as exc:
        raise describe_llm_error(exc) from None
    data: dict[str, Any] = {"doc_title": head[0], "short_title": head[1],
                            "source": f"machine translation ({settings.openai_model}) of {doc.title}", "units": units}
    out = settings.translations_dir / f"{doc.doc_id}.en.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out)  # a crash never leaves half a translation behind
    return TranslationResult(doc.doc_id, out, len(units), failed)


def store_translation(settings: Settings, doc_id: str) -> bool:
    """Re-ingest one document with its cached translation (English view and text_en); True if the store changed.

    Uses rag.index's own building blocks, so the records are exactly what `policyqa ingest` writes.
    """
    from rag.errors import StoreError
    from rag.index import document_info, document_records, open_store, stored_hash
    from vectorstore import StoreUnavailable

    path = Path(find_document(settings, doc_id).path)
    doc = parse_policy_document(path, translations=settings.translations_dir)
    try:
        store = open_store(settings, create=True)
        more = list(store.more_embeddings)
        return store.replace_document(doc.doc_id, stored_hash(doc, more), document_records(doc, more),
                                      info=document_info(doc))  # the library's row: now with the English view
    except StoreUnavailable as exc:
        raise StoreError(f"cannot write to the store: {exc}", f"无法写入索引：{exc}") from None
