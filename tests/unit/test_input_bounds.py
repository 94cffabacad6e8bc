"""Bad input of every kind is rejected with a message naming what is wrong: history, eval sets, --auth."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from eval.runner import load_cases
from rag.errors import InputError, SettingsError
from rag.question import MAX_ASSISTANT_CHARS, prepare_history
from ui.cli import RateLimitedAuth, parse_auth


def _turns(n: int) -> list[dict[str, str]]:
    return [m for i in range(n) for m in ({"role": "user", "content": f"问题{i}"},
                                          {"role": "assistant", "content": f"回答{i}"})]


def test_history_keeps_only_the_last_turns() -> None:
    kept = prepare_history(_turns(30), max_chars=2000, turns=10)
    assert len(kept) == 20 and kept[0]["content"] == "问题20" and kept[-1]["content"] == "回答29"
    assert prepare_history(_turns(3), max_chars=2000, turns=0) == []


def test_history_user_message_is_checked_like_a_question() -> None:
    with pytest.raises(InputError, match="too long") as info:
        prepare_history([{"role": "user", "content": "问" * 100_000}], max_chars=2000, turns=10)
    assert "100,000" in info.value.message("en") and "过长" in info.value.message("zh")


def test_history_assistant_text_is_cut_and_control_characters_removed() -> None:
    kept = prepare_history([{"role": "user", "content": "第八条\x00讲了\x1b什么？"},
                            {"role": "assistant", "content": "答" * 300_000}], max_chars=2000, turns=10)
    assert kept[0]["content"] == "第八条讲了什么？" and len(kept[1]["content"]) == MAX_ASSISTANT_CHARS


@pytest.mark.parametrize("bad", ["a string", 42, {"role": "user"}, [{"role": "user", "content": "x"}] * 5000])
def test_history_of_the_wrong_shape_is_rejected(bad: object) -> None:
    with pytest.raises(InputError):
        prepare_history(bad, max_chars=2000, turns=10)  # type: ignore[arg-type]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("line", "says"), [
    ('{"id": "a", "question": "q", "gold_units": "A8"}', "'gold_units' must be a list"),
    ('{"id": "a", "question": ["q"]}', "'question' must be a string"),
    ('{"id": "a", "question": "q", "answerable": "yes"}', "'answerable' must be true/false"),
    ('{"id": "a", "question": "q", "history": {"role": "user"}}', "'history' must be a list"),
    ('[1, 2]', "expected a JSON object"),
    ('{"id": "a", "question": "q"', "not JSON"),
])
def test_malformed_eval_set_names_the_line(tmp_path: Path, line: str, says: str) -> None:
    good = json.dumps({"id": "ok", "question": "第八条讲了什么？"}, ensure_ascii=False)
    path = _write(tmp_path / "set.jsonl", [good, "", line])
    with pytest.raises(InputError, match=re.escape(f"set.jsonl:3: {says}")):
        load_cases(path)


def test_binary_eval_set_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_bytes(b'{"id": "ok", "question": "q"}\n\x89PNG\r\n\x1a\n\x00\xff\xfe')
    with pytest.raises(InputError, match=r"set\.jsonl:2: not UTF-8"):
        load_cases(path)


def test_auth_must_be_user_colon_password() -> None:
    for bad in ("no-colon", ":pw", "user:"):
        with pytest.raises(SettingsError):
            parse_auth(bad)
    assert parse_auth(None) is None


def test_failed_logins_lock_the_user_name_out_for_a_while() -> None:
    now = [0.0]
    auth = RateLimitedAuth("ann", "secret", max_failures=3, window=60, lockout=300, clock=lambda: now[0])
    assert auth("ann", "secret")
    assert not any(auth("ann", f"guess{i}") for i in range(3))
    assert not auth("ann", "secret")  # locked: even the right password is refused
    assert auth("bob", "x") is False  # another user name is not locked by ann's failures (and is wrong anyway)
    now[0] = 301.0
    assert auth("ann", "secret")


def test_failures_outside_the_window_do_not_add_up() -> None:
    now = [0.0]
    auth = RateLimitedAuth("ann", "secret", max_failures=3, window=60, lockout=300, clock=lambda: now[0])
    for _ in range(5):
        assert not auth("ann", "wrong")
        now[0] += 40.0  # two failures at most inside any 60 s window
    assert auth("ann", "secret")
