"""The Library tab over HTTP, as the page drives it (tests/gradio_http.py), against a real app on loopback:
translating a document with the local OpenAI-compatible server, the messages without an LLM or when it fails,
and the Document tab following uploads and deletes."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_http import GradioPage
from openai_stub import Dynamic, FakeOpenAI, Reply, Status

import rag
from rag import ingest, load_settings
from tests.conftest import serve_app
from ui.render import doc_key

pytestmark = pytest.mark.integration

LIB = Path(__file__).resolve().parents[2] / "data" / "library"
YOUTH_FILE = next(LIB.glob("广州市青年创新创业促进条例*.md"))
FI_FILE = next(LIB.glob("广东省外商投资权益保护条例*.md"))
YOUTH = "guang-zhou-shi-qing-nian-chuang-xin-chuang-ye-cu-jin-tiao-li-2023-01-19"
FI = "guang-dong-sheng-wai-shang-tou-zi-quan-yi-bao-hu-tiao-li-2022-01-16"


def translation_reply(body: dict[str, Any]) -> Reply:
    """The translator: one 'English' string per sentence of the JSON list in the prompt."""
    items = json.loads(re.search(r"\[.*\]", body["messages"][-1]["content"], re.S).group(0))  # type: ignore[union-attr]
    return Reply(json.dumps([f"EN({len(x)}) sentence." for x in items]))


@pytest.fixture()
def translator() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        server.default = Dynamic(translation_reply)
        yield server


def library_settings(tmp_path: Path, **llm: Any) -> rag.Settings:
    """A fresh store holding the youth regulation (Chinese only), as configured."""
    settings = load_settings(env={}, store_dir=tmp_path / "store", data_files=(YOUTH_FILE,), llm_max_retries=0, **llm)
    ingest(settings, progress=False)
    rag.reset()
    return settings


@pytest.fixture()
def open_page() -> Iterator[Any]:
    """Serve the app for some settings and open a page session on it (closed after the test)."""
    with contextlib.ExitStack() as stack:
        def opener(settings: rag.Settings) -> GradioPage:
            url = stack.enter_context(serve_app(settings, warm=False))
            p = GradioPage(url)
            stack.callback(p.close)
            return p
        yield opener


def row_of(table: Any, doc_id: str) -> list[Any]:
    rows = table["value"]["data"] if "value" in table else table["data"]
    return next(r for r in rows if r[0] == doc_id)


def choice_ids(dropdown: dict[str, Any]) -> list[str]:
    return [c[1] for c in dropdown["choices"]]


def test_translate_button_translates_reindexes_and_marks_the_document(tmp_path: Path, translator: FakeOpenAI,
                                                                     open_page: Any) -> None:
    settings = library_settings(tmp_path, openai_base_url=translator.base_url, openai_api_key="k")
    page = open_page(settings)
    button, chooser = page.component("pq-translate")["props"], page.component("pq-translate-doc")["props"]
    assert button["interactive"] is not False and YOUTH in choice_ids(chooser)
    assert "Chinese only" in row_of(page.component("pq-library-table")["props"], YOUTH)[4]

    result = page.fire("pq-translate", "click", [YOUTH])

    status = page.output(result, "pq-library-status")
    units = len(rag.parse_policy_document(YOUTH_FILE).units)
    assert status.startswith("✓") and YOUTH in status and f"{units} " in status, status
    cached = settings.translations_dir / f"{YOUTH}.en.json"
    data = json.loads(cached.read_text(encoding="utf-8"))
    assert len(data["units"]) == units and data["units"]["A20"]["text"].startswith("EN(")
    assert row_of(page.output(result, "pq-library-table")["value"], YOUTH)[4] == "中文 + 英文 · Chinese + English"
    assert YOUTH not in choice_ids(page.output(result, "pq-translate-doc"))  # nothing left to translate
    assert "EN(" in page.output(result, "pq-document")["value"]  # the Document tab shows the English column now
    # progress per unit: the tracked bar counts the document's units
    bars = [p for msg in page.progress for p in msg.get("progress_data") or [] if p.get("length") == units]
    assert bars and max(p["index"] for p in bars) >= units - 1, page.progress

    # the library row as `policyqa docs` sees it, and English questions now use the translation
    assert [d.languages for d in rag.stored_documents(settings) if d.doc_id == YOUTH] == ["zh,en"]
    from gradio_client import Client

    client = Client(page.url, verbose=False)
    answer = client.predict("What does Article 20 say?", api_name="/ask", language="en", backend="extractive")
    assert "error" not in answer, answer
    assert answer["sources"] and answer["sources"][0]["text_en"].startswith("EN("), answer
    assert "no English translation" not in answer["answer"]


def test_an_llm_failure_midway_says_so_and_writes_nothing(tmp_path: Path, translator: FakeOpenAI,
                                                         open_page: Any) -> None:
    settings = library_settings(tmp_path, openai_base_url=translator.base_url, openai_api_key="k")
    calls = {"n": 0}

    def failing(body: dict[str, Any]) -> Reply | Status:
        calls["n"] += 1
        return Status(500, "boom") if calls["n"] > 5 else translation_reply(body)  # fails after 5 units' requests

    translator.default = Dynamic(failing)
    before = rag.stored_documents(settings)
    page = open_page(settings)
    result = page.fire("pq-translate", "click", [YOUTH])
    status = page.output(result, "pq-library-status")
    assert "pq-error" in status and "HTTP 500" in status and "语言模型" in status, status
    assert calls["n"] > 5
    assert not settings.translations_dir.exists() or not any(settings.translations_dir.iterdir())  # no half file
    assert rag.stored_documents(settings) == before  # the store is as it was


def test_without_an_llm_the_button_is_disabled_and_says_why(tmp_path: Path, open_page: Any) -> None:
    settings = library_settings(tmp_path)
    page = open_page(settings)
    assert page.component("pq-translate")["props"]["interactive"] is False
    note = page.component("pq-translate-note")["props"]["value"]
    assert "OPENAI_BASE_URL" in note and "翻译需要语言模型" in note and "Translation needs an LLM" in note
    result = page.fire("pq-translate", "click", [YOUTH])  # a crafted request still changes nothing
    status = page.output(result, "pq-library-status")
    assert "pq-error" in status and "翻译需要大模型" in status and "translate needs an LLM" in status, status
    assert not settings.translations_dir.exists()


def test_the_document_tab_follows_uploads_and_deletes(tmp_path: Path, open_page: Any) -> None:
    settings = library_settings(tmp_path)
    page = open_page(settings)
    fi_key, youth_key = doc_key(FI), doc_key(YOUTH)
    initial = page.component("pq-document")["props"]["value"]
    assert f'id="pq-doc-{youth_key}"' in initial and fi_key not in initial

    upload = tmp_path / FI_FILE.name
    shutil.copyfile(FI_FILE, upload)
    previewed = page.fire("pq-upload", "change", [page.upload(upload)])
    assert FI in page.output(previewed, "pq-upload-preview")
    added = page.fire("pq-add", "click", [None])  # the pending upload is the session's state
    assert page.output(added, "pq-library-status").startswith("✓")
    view = page.output(added, "pq-document")["value"]
    assert f'<option value="{fi_key}">广东省外商投资权益保护条例</option>' in view  # the switcher lists the upload
    assert f'id="pq-doc-{fi_key}"' in view and "第十二条" in view
    assert f'<option value="{youth_key}">' in view  # the configured document is still first
    assert view.index(youth_key) < view.index(fi_key)

    fresh = GradioPage(page.url)  # a page opened later gets the upload at load (its built HTML predates it)
    try:
        loaded = fresh.fire_load()
        assert f'<option value="{fi_key}">' in fresh.output(loaded, "pq-document")["value"]
    finally:
        fresh.close()

    deleted = page.fire("pq-delete-confirm", "click", [FI])
    assert page.output(deleted, "pq-library-status").startswith("✓")
    after = page.output(deleted, "pq-document")["value"]
    assert fi_key not in after and f'id="pq-doc-{youth_key}"' in after and "pq-doc-switch" not in after
