"""Retrieval-only evaluation: hit@1, hit@3 and MRR per question language for the hybrid, dense and BM25 retrievers.

The set (default ``eval/retrieval.jsonl``) holds one JSON object per line: ``{"id", "language", "question",
"gold"}`` where ``gold`` lists the unit ids that answer the question. Each question is searched exactly as a user's
would be (``rag.search(question, k=5, mode=...)``, language detected from the question); metric definitions are
those of :mod:`eval.metrics` (a case hits when *any* gold unit is in the first k). The targets below gate the
hybrid retriever only — dense and BM25 are shown for comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.jsonl import read_jsonl
from eval.metrics import hit_at_k, mean, reciprocal_rank
from eval.report import md_table
from rag import InputError, Settings, list_documents, search

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_RETRIEVAL_SET = EVAL_DIR / "retrieval.jsonl"
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")
LANGUAGES: tuple[str, ...] = ("zh", "en")
K = 5
#: Minimum hit@k per language; gated for the hybrid retriever (`policyqa eval --retrieval --check`).
TARGETS: dict[str, dict[str, float]] = {
    "hit@1": {"zh": 0.95, "en": 0.90},
    "hit@3": {"zh": 0.97, "en": 0.97},
}
GATED_MODE = "hybrid"
_PASS, _FAIL = "✓", "✗"


def load_retrieval_set(path: str | Path) -> list[dict[str, Any]]:
    """The questions of a retrieval set; InputError (one readable line) for a missing file or a bad line."""
    out: list[dict[str, Any]] = []
    for n, item in read_jsonl(path, "retrieval set", "检索评测集", {"question": str, "gold": (str, list)}):
        if not str(item.get("question") or "").strip() or not item.get("gold"):
            raise InputError(f"{path}:{n}: needs a non-empty 'question' and 'gold'",
                             f"{path} 第 {n} 行缺少非空的 question 或 gold")
        item.setdefault("id", f"line-{n}")
        out.append(item)
    return out


def evaluate_retrieval(settings: Settings, path: str | Path | None = None, *,
                       modes: Sequence[str] = MODES, k: int = K,
                       documents: Sequence[str] | None = None) -> dict[str, Any]:
    """Search every question of the set with each retriever mode and aggregate per language.

    The set's questions are about the featured (first configured) document and are searched over it alone,
    unless `documents` (`--doc`) says otherwise.

    Returns ``{"set", "k", "n", "modes": {mode: {lang: {"hit@1", "hit@3", "mrr", "n"}}}, "misses": {mode: [...]},
    "failures": [...]}`` — ``misses`` lists the questions whose top result is not gold (id, language, gold,
    retrieved); ``failures`` are the target checks of :data:`GATED_MODE` (empty = pass).
    """
    path = Path(path) if path else DEFAULT_RETRIEVAL_SET
    questions = load_retrieval_set(path)
    langs = [lang for lang in LANGUAGES if any(q.get("language") == lang for q in questions)]
    langs += sorted({str(q.get("language") or "unknown") for q in questions} - set(langs))
    result: dict[str, Any] = {"set": str(path), "k": k, "n": len(questions), "modes": {}, "misses": {}}
    scope = list(documents) if documents else [list_documents(settings.with_overrides(
        data_files=settings.data_files[:1]))[0].doc_id]
    for mode in modes:
        per_lang: dict[str, dict[str, list[float | None]]] = {lang: {"hit@1": [], "hit@3": [], "mrr": []}
                                                             for lang in langs}
        misses = []
        for q in questions:
            gold = [str(g) for g in q["gold"]]
            retrieved = [r.unit.unit_id for r in search(str(q["question"]), settings=settings, k=k, mode=mode,
                                                        documents=scope).results]
            bucket = per_lang[str(q.get("language") or "unknown")]
            bucket["hit@1"].append(hit_at_k(retrieved, gold, 1))
            bucket["hit@3"].append(hit_at_k(retrieved, gold, 3))
            bucket["mrr"].append(reciprocal_rank(retrieved, gold))
            if not bucket["hit@1"][-1]:
                misses.append({"id": q["id"], "language": q.get("language"), "gold": gold, "retrieved": retrieved})
        result["modes"][mode] = {lang: {**{m: mean(v) for m, v in vals.items()}, "n": len(vals["mrr"])}
                                 for lang, vals in per_lang.items()}
        result["misses"][mode] = misses
    result["failures"] = retrieval_failures(result)
    return result


def _target_failures(stats: Mapping[str, Any], lang: str) -> list[str]:
    out = []
    for metric, per_lang in TARGETS.items():
        target = per_lang.get(lang)
        value = stats.get(metric)
        if target is not None and (value is None or value < target - 1e-9):
            shown = "undefined" if value is None else f"{value:.3f}"
            out.append(f"{metric} {shown} < {target:.2f}")
    return out


def retrieval_failures(result: Mapping[str, Any], mode: str = GATED_MODE) -> list[str]:
    """Target misses of one mode (default hybrid), e.g. ``"hybrid en: hit@1 0.885 < 0.90"``; empty = pass.
    A language with targets but no questions fails too (a gate cannot pass on missing data)."""
    stats = result.get("modes", {}).get(mode)
    if stats is None:
        return [f"{mode}: not evaluated"]
    failures = []
    for lang in LANGUAGES:
        lang_stats = stats.get(lang)
        if not lang_stats or not lang_stats.get("n"):
            failures.append(f"{mode} {lang}: no questions")
            continue
        failures += [f"{mode} {lang}: {f}" for f in _target_failures(lang_stats, lang)]
    return failures


def _cell(value: float | None, metric: str, lang: str) -> str:
    if value is None:
        return "—"
    target = TARGETS.get(metric, {}).get(lang)
    if target is None:
        return f"{value:.3f}"
    return f"{value:.3f} {_PASS if value >= target - 1e-9 else _FAIL}"


def format_table(result: Mapping[str, Any], show_misses: int = 10) -> str:
    """One Markdown table (rows: mode × language; columns hit@1, hit@3, MRR, n), each hit cell marked ✓/✗ against
    its target, then the targets, the gate verdict for the hybrid retriever and its first misses at rank 1."""
    rows = []
    for mode, per_lang in result["modes"].items():
        for lang, s in per_lang.items():
            rows.append([mode, lang, _cell(s.get("hit@1"), "hit@1", lang), _cell(s.get("hit@3"), "hit@3", lang),
                         "—" if s.get("mrr") is None else f"{s['mrr']:.3f}", s.get("n", 0)])
    lines = [f"Retrieval evaluation — {result.get('n', 0)} questions ({result.get('set', '')}), top {result.get('k', K)}",
             "", md_table(["mode", "lang", "hit@1", "hit@3", "MRR", "n"], rows, ["l", "l", "r", "r", "r", "r"]), ""]
    targets = "; ".join(
        f"{metric} ≥ " + ", ".join(f"{v:.2f} {lang}" for lang, v in per_lang.items())
        if len(set(per_lang.values())) > 1 else f"{metric} ≥ {next(iter(per_lang.values())):.2f}"
        for metric, per_lang in TARGETS.items()
    )
    lines.append(f"Targets ({GATED_MODE} is gated; {_PASS} met, {_FAIL} missed): {targets}")
    failures = result.get("failures")
    if failures is None:
        failures = retrieval_failures(result)
    lines.append(f"{GATED_MODE}: " + ("PASS" if not failures else "FAIL — " + "; ".join(failures)))
    misses = result.get("misses", {}).get(GATED_MODE) or []
    if misses and show_misses:
        lines += ["", f"{GATED_MODE} misses at rank 1 ({len(misses)}):"]
        for m in misses[:show_misses]:
            lines.append(f"  {m['id']} ({m['language']}): gold {', '.join(m['gold'])} · got "
                         f"{', '.join(m['retrieved'][:3]) or 'nothing'}")
        if len(misses) > show_misses:
            lines.append(f"  … and {len(misses) - show_misses} more")
    return "\n".join(lines)
