"""Settings: one validated object; a bad value names its variable (exit 2), secrets never print."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.config import Settings, describe_settings, load_settings
from rag.errors import SettingsError


def test_precedence_defaults_env_flags(tmp_path: Path) -> None:
    env = {"POLICYQA_STORE": str(tmp_path / "a"), "POLICYQA_TOP_K": "7", "CHROMA_HOST": "127.0.0.1"}
    s = load_settings(env=env)
    assert (s.store_dir, s.top_k, s.uses_chroma_server) == (tmp_path / "a", 7, True)
    assert load_settings(env=env, top_k=3, store_dir=tmp_path / "b").top_k == 3
    assert load_settings(env={}).top_k == 5


@pytest.mark.parametrize(("env", "named"), [
    ({"POLICYQA_TOP_K": "abc"}, "POLICYQA_TOP_K"),
    ({"POLICYQA_TOP_K": "0"}, "POLICYQA_TOP_K"),
    ({"CHROMA_PORT": "abc"}, "CHROMA_PORT"),
    ({"CHROMA_PORT": "70000"}, "CHROMA_PORT"),
    ({"POLICYQA_BACKEND": "foo"}, "POLICYQA_BACKEND"),
    ({"POLICYQA_EMBEDDINGS": "foo"}, "POLICYQA_EMBEDDINGS"),
    ({"POLICYQA_LANGUAGE": "fr"}, "POLICYQA_LANGUAGE"),
    ({"POLICYQA_LLM_TIMEOUT": "-1"}, "POLICYQA_LLM_TIMEOUT"),
    ({"POLICYQA_COLLECTION": "has space"}, "POLICYQA_COLLECTION"),
    ({"OPENAI_BASE_URL": "localhost:8000"}, "OPENAI_BASE_URL"),
    ({"POLICYQA_UI_PORT": "http"}, "POLICYQA_UI_PORT"),
    ({"POLICYQA_LOG_LEVEL": "loud"}, "POLICYQA_LOG_LEVEL"),
])
def test_bad_values_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named) as info:
        load_settings(env=env)
    assert info.value.exit_code == 2


def test_bad_flag_value_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="POLICYQA_TOP_K"):
        load_settings(env={}, top_k="many")
    with pytest.raises(SettingsError, match="POLICYQA_BACKEND"):
        load_settings(env={}).with_overrides(backend="gpt")


def test_process_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("POLICYQA_TOP_K=9\nOPENAI_MODEL=from-dotenv\n", encoding="utf-8")
    monkeypatch.setenv("OPENAI_MODEL", "from-env")
    monkeypatch.setenv("LANGUAGE", "en_US:en")  # a common unrelated variable must not leak into `language`
    s = load_settings()
    assert (s.top_k, s.openai_model, s.language) == (9, "from-env", "auto")


def test_secret_key_never_printed() -> None:
    s = load_settings(env={"OPENAI_API_KEY": "sk-very-secret"})
    assert "sk-very-secret" not in repr(s) and "sk-very-secret" not in str(s)
    assert s.api_key == "sk-very-secret"


def test_data_files_are_split_on_pathsep(tmp_path: Path) -> None:
    s = load_settings(env={"POLICYQA_DATA": os.pathsep.join(["a.txt", "~/b.md"])})
    assert s.data_files == (Path("a.txt"), Path.home() / "b.md")


def test_every_field_has_a_variable_and_help() -> None:
    rows = describe_settings()
    assert len(rows) == len(Settings.model_fields)
    assert all(env.isupper() and help_ for env, _default, help_ in rows)


def test_readme_and_env_example_list_every_variable() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    example = (root / ".env.example").read_text(encoding="utf-8")
    for env, _default, _help in describe_settings():
        assert f"`{env}`" in readme, f"README's configuration table misses {env}"
        assert f"# {env}=" in example, f".env.example misses {env}"
