"""One settings object for the whole app, built from defaults, env vars and CLI flags in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_FILE = PROJECT_ROOT / "data" / "guangdong-high-quality-development-2023.zh.txt"


def _default_store_dir() -> Path:
    """Default persistent store: the user's data dir, so an installed tool never writes into site-packages."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "policyqa" / "chroma"


@dataclass(kw_only=True, frozen=True)
class Settings:
    """Everything configurable. Each field names its env var in `metadata["env"]`."""

    data_files: tuple[Path, ...] = field(
        default=(DEFAULT_DATA_FILE,),
        metadata={"env": "POLICYQA_DATA", "help": "Documents to ingest (os.pathsep-separated)."},
    )
    store_dir: Path = field(
        default_factory=_default_store_dir,
        metadata={"env": "POLICYQA_STORE", "help": "Directory of the embedded Chroma store."},
    )
    collection: str = field(
        default="policyqa", metadata={"env": "POLICYQA_COLLECTION", "help": "Chroma collection name."}
    )
    chroma_host: str | None = field(
        default=None, metadata={"env": "CHROMA_HOST", "help": "Chroma server host; set to use a `chroma run` server."}
    )
    chroma_port: int = field(default=8000, metadata={"env": "CHROMA_PORT", "help": "Chroma server port."})
    chroma_timeout: float = field(
        default=30.0, metadata={"env": "CHROMA_TIMEOUT", "help": "Seconds per Chroma server request (a frozen server fails, not hangs)."}
    )
    embeddings: str = field(
        default="use",
        metadata={"env": "POLICYQA_EMBEDDINGS", "help": "'use' (offline multilingual USE) or 'openai'."},
    )
    openai_embedding_model: str = field(
        default="text-embedding-3-small",
        metadata={"env": "OPENAI_EMBEDDING_MODEL", "help": "Embedding model when embeddings='openai'."},
    )
    top_k: int = field(default=5, metadata={"env": "POLICYQA_TOP_K", "help": "Units retrieved per question."})
    max_question_chars: int = field(
        default=2000, metadata={"env": "POLICYQA_MAX_QUESTION_CHARS", "help": "Longer questions are rejected."}
    )
    # Answering (LLM) settings.
    backend: str = field(
        default="auto",
        metadata={"env": "POLICYQA_BACKEND", "help": "'auto' (openai if a key is set, else extractive), 'openai', 'extractive'."},
    )
    openai_api_key: str | None = field(default=None, metadata={"env": "OPENAI_API_KEY", "help": "OpenAI API key."})
    openai_base_url: str | None = field(
        default=None, metadata={"env": "OPENAI_BASE_URL", "help": "Any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp)."}
    )
    openai_model: str = field(default="gpt-4o-mini", metadata={"env": "OPENAI_MODEL", "help": "Chat model name."})
    temperature: float = field(default=0.0, metadata={"env": "POLICYQA_TEMPERATURE", "help": "LLM sampling temperature."})
    llm_timeout: float = field(default=60.0, metadata={"env": "POLICYQA_LLM_TIMEOUT", "help": "Seconds per LLM request."})
    llm_max_retries: int = field(
        default=2, metadata={"env": "POLICYQA_LLM_RETRIES", "help": "Retries (with backoff) on 429/5xx/timeouts."}
    )
    context_tokens: int = field(
        default=3000, metadata={"env": "POLICYQA_CONTEXT_TOKENS", "help": "Token budget of the retrieved context."}
    )
    language: str = field(
        default="auto", metadata={"env": "POLICYQA_LANGUAGE", "help": "Answer language: auto, zh or en."}
    )

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with the non-None overrides applied (how CLI flags win over env vars)."""
        paths = {f.name for f in fields(self) if f.type in ("Path", Path)}
        values: dict[str, Any] = {k: Path(v) if k in paths else v for k, v in overrides.items() if v is not None}
        return replace(self, **values)

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)


def _coerce(raw: str, current: Any, name: str) -> Any:
    if name == "data_files":
        return tuple(Path(p) for p in raw.split(os.pathsep) if p)
    if isinstance(current, bool):
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    if isinstance(current, Path):
        return Path(raw).expanduser()
    return raw or None


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings: defaults < environment variables < explicit overrides (CLI flags)."""
    env = dict(os.environ) if env is None else env
    base = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        var = f.metadata.get("env")
        if var and env.get(var, "") != "":
            try:
                values[f.name] = _coerce(env[var], getattr(base, f.name), f.name)
            except ValueError as exc:
                raise ValueError(f"invalid value for {var}: {env[var]!r} ({exc})") from exc
    return replace(base, **values).with_overrides(**overrides)


def describe_settings() -> list[tuple[str, str, str]]:
    """(env var, default, help) rows, for README/--help tables."""
    base = Settings()
    return [
        (f.metadata["env"], str(getattr(base, f.name)), f.metadata["help"]) for f in fields(Settings) if "env" in f.metadata
    ]
