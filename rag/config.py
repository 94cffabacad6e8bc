"""One settings object for the whole app: defaults < `.env` file < environment variables < CLI flags.

Built with pydantic-settings so every value is typed and checked in one place: a bad value (`POLICYQA_TOP_K=abc`,
`POLICYQA_BACKEND=foo`) becomes a `SettingsError` naming the variable (exit 2), never a traceback deep inside.
Nothing else reads the environment; the settings object is passed explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from rag.errors import SettingsError


def _data_dir() -> Path:
    """The bundled documents: `data/` shipped as the `policyqa_data` package (works from a wheel, not only a checkout)."""
    spec = find_spec("policyqa_data")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parent.parent / "data"


DATA_DIR = _data_dir()
DEFAULT_DATA_FILE = DATA_DIR / "guangdong-high-quality-development-2023.zh.txt"
LIBRARY_DIR = DATA_DIR / "library"


def default_data_files() -> tuple[Path, ...]:
    """The bundled library: the featured first document, then every document in data/library/ (sorted)."""
    return (DEFAULT_DATA_FILE, *sorted(p for p in LIBRARY_DIR.glob("*") if p.suffix in (".md", ".txt")))


def _default_cache_dir() -> Path:
    """Default cache: the user's cache dir (files there are derived, and rebuilt when deleted)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policyqa"


def _default_store_dir() -> Path:
    """Default persistent store: the user's data dir, so an installed tool never writes into site-packages."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "policyqa" / "chroma"


_EXPLICIT: ContextVar[bool] = ContextVar("policyqa_explicit_settings", default=False)


def _env(name: str, description: str, **kw: Any) -> Any:
    """A field read from environment variable `name` (also settable by its field name in code and CLI flags)."""
    return Field(validation_alias=AliasChoices(name), description=description, json_schema_extra={"env": name}, **kw)


class Settings(BaseSettings):
    """Everything configurable. Each field names its environment variable; `policyqa --help` lists them all."""

    model_config = SettingsConfigDict(frozen=True, env_file=".env", env_ignore_empty=True, extra="ignore",
                                      validate_by_name=True, validate_by_alias=True, case_sensitive=True)

    # Documents and store.
    data_files: Annotated[tuple[Path, ...], NoDecode] = _env(
        "POLICYQA_DATA", f"Documents to ingest ({os.pathsep}-separated).", default_factory=default_data_files)
    store_dir: Path = _env("POLICYQA_STORE", "Directory of the embedded Chroma store.",
                           default_factory=_default_store_dir)
    collection: str = _env("POLICYQA_COLLECTION", "Chroma collection name.", default="policyqa",
                           pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,50}[A-Za-z0-9]$")
    chroma_host: str | None = _env("CHROMA_HOST", "Chroma server host; set to use a `chroma run` server.",
                                   default=None)
    chroma_port: int = _env("CHROMA_PORT", "Chroma server port.", default=8000, ge=1, le=65535)
    chroma_timeout: float = _env("POLICYQA_CHROMA_TIMEOUT", "Seconds before a Chroma server request fails.",
                                 default=30.0, gt=0)
    embeddings: Literal["use", "openai"] = _env(
        "POLICYQA_EMBEDDINGS", "'use' (offline: multilingual USE v3, and multilingual-e5-small beside it) or 'openai'.",
        default="use")
    openai_embedding_model: str = _env("OPENAI_EMBEDDING_MODEL", "Embedding model when embeddings='openai'.",
                                       default="text-embedding-3-small")
    e5: bool = _env("POLICYQA_E5", "With embeddings='use', also embed with multilingual-e5-small: better retrieval "
                    "(tune hit@1 0.88 -> 0.92), a first ingest ~4x slower (a re-ingest reads cached embeddings).",
                    default=True)
    # Questions and retrieval.
    top_k: int = _env("POLICYQA_TOP_K", "Units retrieved per question.", default=5, ge=1, le=50)
    max_question_chars: int = _env("POLICYQA_MAX_QUESTION_CHARS", "Longer questions are rejected.",
                                   default=2000, ge=10, le=100_000)
    history_turns: int = _env("POLICYQA_HISTORY_TURNS", "Previous turns of a conversation taken into account.",
                              default=10, ge=0, le=100)
    language: Literal["auto", "zh", "en"] = _env("POLICYQA_LANGUAGE", "Answer language: auto, zh or en.",
                                                 default="auto")
    # Answering (LLM).
    backend: Literal["auto", "openai", "extractive"] = _env(
        "POLICYQA_BACKEND", "'auto' (openai if a key or base URL is set, else extractive), 'openai', 'extractive'.",
        default="auto")
    openai_api_key: SecretStr | None = _env("OPENAI_API_KEY", "OpenAI API key.", default=None)
    openai_base_url: str | None = _env("OPENAI_BASE_URL", "Any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp).",
                                       default=None, pattern=r"^https?://\S+$")
    openai_model: str = _env("OPENAI_MODEL", "Chat model name.", default="gpt-4o-mini", min_length=1)
    temperature: float = _env("POLICYQA_TEMPERATURE", "LLM sampling temperature.", default=0.0, ge=0, le=2)
    llm_timeout: float = _env(
        "POLICYQA_LLM_TIMEOUT",
        "Deadline in seconds for one question with the LLM: condense + retrieve + generate, retries included.",
        default=60.0, gt=0, le=3600)
    llm_max_retries: int = _env("POLICYQA_LLM_RETRIES", "Retries (with backoff) on 429/5xx/timeouts.",
                                default=2, ge=0, le=10)
    llm_max_tokens: int = _env("POLICYQA_LLM_MAX_TOKENS", "Most tokens the LLM may write per answer.",
                               default=1024, ge=16, le=100_000)
    context_languages: Literal["answer", "both"] = _env(
        "POLICYQA_CONTEXT_LANGUAGES", "LLM context: the answer's language only, or both languages.", default="answer")
    context_tokens: int = _env("POLICYQA_CONTEXT_TOKENS", "Token budget of the retrieved context.",
                               default=3000, ge=200, le=200_000)
    # Web UI and logging.
    feedback_file: Path | None = _env("POLICYQA_FEEDBACK", "Where answer feedback from the UI is stored (JSONL); "
                                      "default: feedback.jsonl beside the store.", default=None)
    ui_language: Literal["bi", "zh", "en"] = _env(
        "POLICYQA_UI_LANGUAGE", "Language of the web UI's labels: bi (Chinese + English), zh or en.", default="bi")
    ui_host: str = _env("POLICYQA_UI_HOST", "Address the web UI binds to.", default="127.0.0.1", min_length=1)
    ui_port: int = _env("POLICYQA_UI_PORT", "Port of the web UI.", default=7860, ge=1, le=65535)
    cache_dir: Path = _env("POLICYQA_CACHE_DIR", "Files derived to start faster (the embedding model's weights, "
                           "uncompressed: ~80 MB; the English→Chinese glossary) and the offline models' embeddings "
                           "of stored texts (~7 MB for the bundled documents: a re-ingest embeds only new text); "
                           "safe to delete.", default_factory=_default_cache_dir)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _env(
        "POLICYQA_LOG_LEVEL", "Log level on stderr (--verbose means DEBUG).", default="WARNING")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags beat env vars beat `.env`; values given explicitly (`load_settings(env=…)`) ignore both."""
        if _EXPLICIT.get():
            return (init_settings,)
        return init_settings, env_settings, dotenv_settings

    @field_validator("data_files", mode="before")
    @classmethod
    def _split_paths(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [p for p in value.split(os.pathsep) if p]
            if not value:
                raise ValueError("no file given")
        return value

    @field_validator("data_files", "store_dir", "feedback_file", "cache_dir", mode="after")
    @classmethod
    def _expand(cls, value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(p.expanduser() for p in value)
        return value.expanduser() if value is not None else None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def with_overrides(self, **overrides: Any) -> Settings:
        """A validated copy with the non-None overrides applied (how CLI flags win over env vars)."""
        return _validate({**self.model_dump(), **{k: v for k, v in overrides.items() if v is not None}})

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)

    @property
    def llm_configured(self) -> bool:
        """An LLM is configured when a key or an OpenAI-compatible base URL is set (never a placeholder key)."""
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def feedback_path(self) -> Path:
        """Where UI feedback goes: POLICYQA_FEEDBACK, else feedback.jsonl beside the store directory."""
        return self.feedback_file or self.store_dir.parent / "feedback.jsonl"

    @property
    def translations_dir(self) -> Path:
        """Where `policyqa translate` caches machine translations: beside the embedded store."""
        return self.store_dir.parent / "translations"

    @property
    def api_key(self) -> str | None:
        """The OpenAI key as text, for the clients that need it (kept a SecretStr everywhere else)."""
        return self.openai_api_key.get_secret_value() if self.openai_api_key else None


def env_name(field: str) -> str:
    extra = Settings.model_fields[field].json_schema_extra
    return str(extra["env"]) if isinstance(extra, dict) else field


def _validate(values: dict[str, Any]) -> Settings:
    """Settings from exactly these values (field or variable names) and the defaults, nothing from the environment."""
    token = _EXPLICIT.set(True)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise _settings_error(exc) from None
    finally:
        _EXPLICIT.reset(token)


def _settings_error(exc: ValidationError) -> SettingsError:
    """One readable line naming the variable (or flag) and the bad value."""
    err = exc.errors()[0]
    field = str(err["loc"][0]) if err["loc"] else "?"
    name = env_name(field) if field in Settings.model_fields else field
    value = err.get("input")
    shown = "" if isinstance(value, (dict, SecretStr)) or value is None else f" = {str(value)[:80]!r}"
    return SettingsError(f"invalid setting {name}{shown}: {err['msg']}", f"配置项 {name}{shown} 无效：{err['msg']}")


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings: defaults < `.env` < environment variables < explicit overrides (CLI flags).

    `env` replaces the process environment (and the .env file) when given: tests pass `env={}`.
    """
    flags = {k: v for k, v in overrides.items() if v is not None}
    if env is None:
        try:
            return Settings(**flags)
        except ValidationError as exc:
            raise _settings_error(exc) from None
    names = {env_name(f): f for f in Settings.model_fields}
    return _validate({**{names[k]: v for k, v in env.items() if k in names and v != ""}, **flags})


def describe_settings() -> list[tuple[str, str, str]]:
    """(env var, default, help) rows, for README/--help tables."""
    rows = []
    for name, f in Settings.model_fields.items():
        default = f.default_factory() if f.default_factory else f.default  # type: ignore[call-arg]
        if name == "data_files":
            default = "the bundled library (data/ and data/library/)"
        rows.append((env_name(name), str(default), f.description or ""))
    return rows
