"""Run the answer eval set through the public `rag` API and build one result row per case.

A case (``eval/cases.jsonl``) is ``{id, split, type, language, question, history, gold_units, answerable,
key_points, reference_answer}`` plus an optional ``answer_language``: the answer language the user fixed ("zh" /
"en"; by default each turn is answered in its question's ``language``). ``split`` is ``tune`` (every calibration
constant is chosen on it) or ``test`` (held out; the CI gate scores it). Multi-turn history is replayed as a real conversation: each earlier user question is
answered by the same backend and both messages are appended before the next turn, so the case's question sees
exactly what a chat user would have seen. Only the final answer call is timed (``latency_ms``).

The row keys are the ones :func:`eval.metrics.score_row` and :mod:`eval.report` read (documented there), plus
``standalone_question`` and ``warnings`` for debugging. A case that raises a user-facing error (PolicyQAError)
becomes a row with ``"error"`` and ``refused=True`` instead of aborting the run.

``judge="openai"`` adds an LLM judgement of faithfulness in the style of RAGAS: the configured OpenAI-compatible
model splits the answer into claims and marks each one supported or not by the cited texts;
``row["judge"] = {"faithfulness": supported / claims}`` (``None`` when the reply is unusable or has no claims).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tqdm import tqdm

from eval.jsonl import read_jsonl
from rag import Answer, InputError, PolicyQAError, Settings, Unit, answer, list_documents, search

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_CASES = EVAL_DIR / "cases.jsonl"
REQUIRED_CASE_KEYS = ("id", "question")
#: JSON types of a case's fields (checked per line, so a malformed set fails naming the line, not deep in a run).
CASE_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": (str, int), "question": str, "type": str, "language": str, "history": list, "gold_units": list,
    "answerable": bool, "key_points": list, "reference_answer": str, "gold_doc": str, "documents": (str, list)}


# --------------------------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------------------------


def load_cases(path: str | Path) -> list[dict[str, Any]]:
    """The cases of an eval set (JSONL), with defaults for optional keys; InputError for a missing file, a bad
    line or a duplicate id."""
    cases: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, case in read_jsonl(path, "eval set", "评测集", CASE_TYPES):
        if any(not str(case.get(k) or "").strip() for k in REQUIRED_CASE_KEYS):
            raise InputError(f"{path}:{n}: a case needs a non-empty 'id' and 'question'",
                             f"{path} 第 {n} 行缺少非空的 id 或 question")
        if str(case["id"]) in seen:
            raise InputError(f"{path}:{n}: duplicate case id {case['id']!r}", f"{path} 第 {n} 行：重复的 id {case['id']!r}")
        seen.add(str(case["id"]))
        case.setdefault("type", "unknown")
        case.setdefault("language", "")
        case.setdefault("history", [])
        case.setdefault("gold_units", [])
        case.setdefault("answerable", True)
        case.setdefault("key_points", [])
        case.setdefault("reference_answer", "")
        case.setdefault("split", "")
        if case.get("answer_language") not in (None, "", "zh", "en"):
            raise InputError(f"{path}:{n}: answer_language must be zh or en", f"{path} 第 {n} 行：answer_language 只能是 zh 或 en")
        cases.append(case)
    return cases


# --------------------------------------------------------------------------------------------------------------
# Unit texts
# --------------------------------------------------------------------------------------------------------------


def unit_text(unit: Unit, language: str) -> str:
    """The unit's text in `language`: its English translation for "en" (Chinese original if it has none)."""
    return (unit.text_en or unit.text) if language == "en" else unit.text


class _UnitTexts:
    """Texts of retrieved units, by (document, unit): the answer's own sources first, then the configured
    documents, then (for units of documents ingested from elsewhere) one search of the standalone question in the
    answer's scope, which returns the same units the answer retrieved."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        try:
            docs = list_documents(settings)
        except PolicyQAError:
            docs = []  # the store may hold documents that are not configured; fall back to search below
        self.featured = docs[0].doc_id if docs else None  # the first configured document
        self.units: dict[tuple[str, str], Unit] = {(u.doc_id, u.unit_id): u for doc in docs for u in doc.units}

    def contexts(self, ans: Answer, k: int) -> list[str]:
        keys = list(zip(ans.retrieved_docs, ans.retrieved, strict=True))
        known = {(s.unit.doc_id, s.unit.unit_id): s.unit for s in ans.sources}
        missing = [key for key in keys if key not in known and key not in self.units]
        if missing:
            try:
                outcome = search(ans.standalone_question or ans.question, settings=self.settings,
                                 k=max(k, len(keys)), language=ans.language, documents=ans.documents or None)
                known.update({(r.unit.doc_id, r.unit.unit_id): r.unit for r in outcome.results})
            except PolicyQAError:
                pass
        out = []
        for key in keys:
            unit = known.get(key) or self.units.get(key)
            out.append(unit_text(unit, ans.language) if unit else "")
        return out


# --------------------------------------------------------------------------------------------------------------
# LLM judge (faithfulness, RAGAS-style)
# --------------------------------------------------------------------------------------------------------------

JUDGE_PROMPT = """You check whether an answer is faithful to its sources.

1. Split the ANSWER into short, self-contained factual claims. Ignore citation markers such as [第八条] or
   [Art. 8], and sentences that only say the document does not cover something.
2. For each claim decide whether the SOURCES support it: stated or clearly implied there. A claim the sources do
   not support is unsupported, even if it is true.

Reply with JSON only, no other text:
{{"claims": [{{"claim": "<claim>", "supported": true}}, {{"claim": "<claim>", "supported": false}}]}}

SOURCES:
{sources}

QUESTION: {question}

ANSWER:
{answer}
"""

_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


def parse_judge_reply(text: str) -> dict[str, Any] | None:
    """``{"faithfulness", "n_claims", "n_supported"}`` from a judge reply, ``None`` when it is not the JSON asked
    for (code fences and prose around the object are tolerated). No claims → faithfulness ``None``."""
    match = _JSON_OBJECT.search(text or "")
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except ValueError:
        return None
    claims = data.get("claims") if isinstance(data, dict) else None
    if not isinstance(claims, list):
        return None
    verdicts = []
    for c in claims:
        value = c.get("supported") if isinstance(c, dict) else None
        if isinstance(value, str):
            value = value.strip().lower() in ("true", "yes", "supported", "1")
        if isinstance(value, bool | int):
            verdicts.append(bool(value))
    if claims and not verdicts:
        return None
    supported = sum(verdicts)
    return {"faithfulness": supported / len(verdicts) if verdicts else None, "n_claims": len(verdicts),
            "n_supported": supported}


class OpenAIJudge:
    """Faithfulness judge on the configured OpenAI-compatible model (``settings.openai_*``)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_configured:
            raise InputError("the openai judge needs OPENAI_API_KEY or OPENAI_BASE_URL (or --base-url)",
                             "openai 评审需要设置 OPENAI_API_KEY 或 OPENAI_BASE_URL（或 --base-url）")
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        self.model = ChatOpenAI(
            model=settings.openai_model,
            api_key=settings.openai_api_key or SecretStr("not-needed"),  # local servers ignore it
            base_url=settings.openai_base_url,
            temperature=0.0,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )

    def __call__(self, row: Mapping[str, Any]) -> dict[str, Any]:
        if row.get("error") or row.get("refused") or not str(row.get("answer") or "").strip():
            return {"faithfulness": None, "skipped": "refused or no answer"}
        cited = row.get("cited_texts") or {}
        sources = "\n\n".join(f"[{uid}] {text}" for uid, text in cited.items()) or "(the answer cites no source)"
        prompt = JUDGE_PROMPT.format(sources=sources, question=row.get("question", ""), answer=row["answer"])
        try:
            reply = self.model.invoke(prompt)
        except Exception as exc:  # a judge failure must not sink the run
            return {"faithfulness": None, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        parsed = parse_judge_reply(str(reply.content))
        if parsed is None:
            return {"faithfulness": None, "error": "unparseable judge reply", "raw": str(reply.content)[:300]}
        return parsed


# --------------------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------------------


def _history_messages(history: Sequence[Any], settings: Settings, backend: str,
                      language: str = "auto", documents: Sequence[str] | None = None) -> list[dict[str, str]]:
    """Replay earlier turns: every user question is answered for real (in `language` if the user fixed one, else
    in its own); given assistant messages are kept."""
    msgs: list[dict[str, str]] = []
    for turn in history:
        if isinstance(turn, Mapping) and turn.get("role") == "assistant":
            msgs.append({"role": "assistant", "content": str(turn.get("content") or "")})
            continue
        question = str(turn.get("content") or "") if isinstance(turn, Mapping) else str(turn)
        if not question.strip():
            continue
        reply = answer(question, history=list(msgs), settings=settings, backend=backend, language=language,
                       documents=documents)
        msgs += [{"role": "user", "content": question}, {"role": "assistant", "content": reply.text}]
    return msgs


def _base_row(case: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(case["id"]),
        "split": str(case.get("split") or ""),
        "requested_language": case.get("answer_language") or None,
        "type": case.get("type", "unknown"),
        "language": case.get("language", ""),
        "question": case["question"],
        "history": list(case.get("history") or []),
        "gold_units": [_qualified(case.get("gold_doc"), str(u)) for u in case.get("gold_units") or []],
        "gold_doc": case.get("gold_doc") or None,
        "answerable": bool(case.get("answerable", True)),
        "key_points": list(case.get("key_points") or []),
        "reference_answer": case.get("reference_answer") or "",
    }


def _qualified(doc_id: str | None, unit_id: str) -> str:
    """A case with a gold document is scored on (document, unit): `doc:unit`; others on the bare unit id."""
    return f"{doc_id}:{unit_id}" if doc_id else unit_id


def case_scope(case: Mapping[str, Any], featured: str | None, override: Sequence[str] | None = None) -> list[str] | None:
    """The documents a case is asked over: `--doc` if given; "all" → every stored document; a list → those; no
    `documents` key → the featured (first configured) document, which the original cases are about."""
    if override:
        return list(override)
    scope = case.get("documents")
    if scope == "all":
        return None
    if isinstance(scope, list):
        return [str(d) for d in scope]
    return [featured] if featured else None


def run_case(case: Mapping[str, Any], settings: Settings, backend: str, texts: _UnitTexts,
             documents: Sequence[str] | None = None) -> dict[str, Any]:
    """One result row (see the module docstring); `documents` is the case's scope (see case_scope)."""
    row = _base_row(case)
    language = row["requested_language"] or "auto"
    gold_doc = row["gold_doc"]
    try:
        msgs = _history_messages(row["history"], settings, backend, language, documents)
        start = time.perf_counter()
        ans = answer(str(case["question"]), history=msgs, settings=settings, backend=backend, language=language,
                     documents=documents)
        latency = (time.perf_counter() - start) * 1000
    except PolicyQAError as exc:
        lang = row["requested_language"] or (row["language"] if row["language"] in ("zh", "en") else "en")
        return {**row, "retrieved": [], "contexts": [], "answer": "", "answer_language": None, "citations": [],
                "cited_texts": {}, "refused": True, "backend": backend, "fallback": False, "latency_ms": None,
                "error": f"{type(exc).__name__}: {exc.message(lang)}"}
    return {
        **row,
        "retrieved": [_qualified(gold_doc and d, u) for d, u in zip(ans.retrieved_docs, ans.retrieved, strict=True)],
        "retrieved_docs": list(ans.retrieved_docs),
        "documents": documents,
        "contexts": texts.contexts(ans, settings.top_k),
        "answer": ans.text,
        "answer_language": ans.language,
        "citations": list(dict.fromkeys(_qualified(gold_doc and c.doc_id, c.unit_id) for c in ans.citations)),
        "cited_texts": {_qualified(gold_doc and s.unit.doc_id, s.unit.unit_id): unit_text(s.unit, ans.language)
                        for s in ans.sources},
        "refused": ans.refused,
        "backend": ans.backend,
        "fallback": ans.fallback,
        "verification": dict(ans.verification),  # LLM answers: sentences verified / attributed / removed
        "latency_ms": round(latency, 2),
        "standalone_question": ans.standalone_question,
        "warnings": list(ans.warnings),
    }


def sentence_shares(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Share of the LLM's sentences verified, attributed and removed over the run (empty without an LLM)."""
    totals: Counter[str] = Counter()
    for r in rows:
        totals.update(r.get("verification") or {})
    n = sum(totals.values())
    return {"n": n, **{k: round(totals[k] / n, 3) for k in ("verified", "attributed", "removed")}} if n else {}


def _safe_url(url: str | None) -> str | None:
    """`url` without user:password@ and query string (never put credentials into a report)."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def settings_summary(settings: Settings, backend: str) -> dict[str, Any]:
    """The settings that shape the answers — no API key, no credentials in URLs."""
    out: dict[str, Any] = {
        "backend": backend,
        "top_k": settings.top_k,
        "context_tokens": settings.context_tokens,
        "language": settings.language,
        "embeddings": settings.embeddings,
        "collection": settings.collection,
        "store": f"{settings.chroma_host}:{settings.chroma_port}" if settings.uses_chroma_server
        else str(settings.store_dir),
        "data_files": [Path(p).name for p in settings.data_files],
    }
    if backend == "openai":
        out.update(model=settings.openai_model, base_url=_safe_url(settings.openai_base_url) or "api.openai.com",
                   temperature=settings.temperature)
    return out


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=EVAL_DIR, capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def run_eval(settings: Settings, cases_path: str | Path, backend: str, judge: str = "none",
             progress: bool = True, split: str | None = None,
             documents: Sequence[str] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Answer every case of `cases_path` (only those of `split` if given) with `backend` ("extractive" or
    "openai"); return (rows, meta).

    `judge` is "none" or "openai" (LLM faithfulness, see :class:`OpenAIJudge`). A tqdm bar goes to stderr unless
    `progress` is False. `meta` holds the run name (``YYYYMMDD-HHMM-<backend>``), backend, settings summary,
    case file, counts, date and duration.
    """
    if judge not in ("none", "openai"):
        raise InputError(f"unknown judge {judge!r}: choose none or openai", f"未知的评审 {judge!r}：可选 none 或 openai")
    cases = [c for c in load_cases(cases_path) if not split or c["split"] == split]
    settings = settings.with_overrides(backend=backend)
    judge_fn = OpenAIJudge(settings) if judge == "openai" else None
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    # Warm up (load the embedding model, build BM25) so the first case's latency is not the cold start.
    search("warm-up", settings=settings, k=1)
    warmup_ms = (time.perf_counter() - t0) * 1000
    texts = _UnitTexts(settings)
    if documents:  # --doc: the cases about other documents cannot be answered in that scope
        cases = [c for c in cases if not c.get("gold_doc") or c["gold_doc"] in documents]

    rows: list[dict[str, Any]] = []
    bar = tqdm(cases, desc=f"eval ({backend})", unit="case", file=sys.stderr, disable=not progress, leave=False)
    for case in bar:
        row = run_case(case, settings, backend, texts, case_scope(case, texts.featured, documents))
        if judge_fn is not None:
            row["judge"] = judge_fn(row)
        rows.append(row)
    bar.close()

    local = datetime.now().astimezone()
    meta: dict[str, Any] = {
        "run_name": f"{local:%Y%m%d-%H%M}-{backend}",
        "backend": backend,
        "judge": judge,
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 1),
        "warmup_ms": round(warmup_ms),
        "cases_file": str(Path(cases_path).resolve()),
        "n_cases": len(rows),
        "n_errors": sum(1 for r in rows if r.get("error")),
        "n_fallback": sum(1 for r in rows if r.get("fallback")),
        "split": split or "all",
        "sentences": sentence_shares(rows),
        "counts": {"by_split": dict(Counter(str(r["split"]) for r in rows)),
                   "by_type": dict(Counter(str(r["type"]) for r in rows)),
                   "by_language": dict(Counter(str(r["language"]) for r in rows))},
        "settings": settings_summary(settings, backend),
    }
    if judge_fn is not None:
        meta["n_judge_errors"] = sum(1 for r in rows if (r.get("judge") or {}).get("error"))
    commit = _git_commit()
    if commit:
        meta["git_commit"] = commit
    return rows, meta
