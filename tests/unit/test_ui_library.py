"""The Library tab's pure helpers: table rows in the UI language, and the picker's scope."""

from __future__ import annotations

from pathlib import Path

from rag import InputError, StoredDocument, ingest, load_settings
from tests.conftest import DATA
from ui.library import library_rows, scope, ui_message, untranslated_choices, upload_folder

ZH_EN = StoredDocument("a", "甲条例", "2023-05-29", 45, "zh,en", "2026-11-29T11:14:14+00:00")
ZH = StoredDocument("b", "乙条例", "2024-01-01", 12, "zh", "2026-11-29T11:15:00+00:00")


def test_rows_mark_chinese_only_documents_in_the_ui_language() -> None:
    assert library_rows([ZH_EN, ZH], "en") == [
        ["a", "甲条例", "2023-05-29", 45, "Chinese + English", "2026-11-29 11:14:14"],
        ["b", "乙条例", "2024-01-01", 12, "Chinese only (no English translation)", "2026-11-29 11:15:00"],
    ]
    assert library_rows([ZH], "zh")[0][4] == "仅中文（无英文译文）"


def test_only_chinese_only_documents_are_offered_for_translation() -> None:
    assert untranslated_choices([ZH_EN, ZH]) == [("乙条例", "b")]


def test_errors_speak_the_ui_language_or_both() -> None:
    exc = InputError("no such document", "没有这个文件")
    assert ui_message(exc, "en") == "no such document"
    assert ui_message(exc, "zh") == "没有这个文件"
    assert ui_message(exc, "bi") == "没有这个文件 / no such document"


def test_scope_is_none_when_everything_or_nothing_is_selected(tmp_path: Path) -> None:
    second = tmp_path / "second-copy.zh.txt"
    second.write_bytes(DATA.read_bytes())
    settings = load_settings(env={}, store_dir=tmp_path / "store", data_files=(DATA, second))
    ids = [r.doc_id for r in ingest(settings, progress=False)]
    assert scope(settings, None) is None
    assert scope(settings, []) is None
    assert scope(settings, ids) is None
    assert scope(settings, ids[:1]) == ids[:1]
    assert upload_folder(settings) == tmp_path / "uploads"
