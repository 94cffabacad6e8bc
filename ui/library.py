"""The Library tab: the stored documents, upload (parse preview, then a confirmed crash-safe ingest), delete, and
an LLM translation of a Chinese-only document.

Everything goes through rag's public API (stored_documents, parse_policy_document, ingest, remove_document,
translate_document + store_translation), so an upload is ingested exactly as `policyqa ingest` would and a
translation is written exactly as `policyqa translate` would; a bad file or a failed LLM changes nothing.
After any change the tab refreshes what depends on the store: its table, the chat's picker, the Document tab.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from rag import (
    PolicyQAError,
    Settings,
    StoredDocument,
    documents_in_store,
    ingest,
    parse_policy_document,
    remove_document,
    store_translation,
    stored_documents,
    translate_document,
)
from ui.i18n import t
from ui.render import documents_html, error_markdown

UPLOAD_TYPES = [".txt", ".md", ".docx", ".pdf", ".html"]


def ui_message(exc: PolicyQAError, L: str) -> str:
    """The error in the UI's language (both when the UI is bilingual)."""
    if L in ("zh", "en"):
        return exc.message(L)
    zh, en = exc.message("zh"), exc.message("en")
    return zh if zh == en else f"{zh} / {en}"


def upload_folder(settings: Settings) -> Path:
    """Uploads are kept beside the store (a stable path: re-ingest and `policyqa docs` can point at them)."""
    return settings.store_dir.parent / "uploads"


def library_rows(documents: list[StoredDocument], L: str) -> list[list[Any]]:
    """One table row per stored document; a Chinese-only document is marked as having no English translation."""
    def views(languages: str) -> str:
        return t("lib_zh_en", L) if "en" in languages.split(",") else t("lib_zh_only", L)
    return [[d.doc_id, d.title, d.date, d.units, views(d.languages), d.ingested.replace("T", " ")[:19]]
            for d in documents]


def picker_choices(documents: list[StoredDocument]) -> list[tuple[str, str]]:
    """(label, doc_id) for the chat's document picker."""
    return [(d.title or d.doc_id, d.doc_id) for d in documents]


def untranslated_choices(documents: list[StoredDocument]) -> list[tuple[str, str]]:
    """(label, doc_id) of the documents without an English view: what the translate button offers."""
    return picker_choices([d for d in documents if "en" not in d.languages.split(",")])


def document_view_html(settings: Settings, L: str) -> str:
    """The Document tab's content: every stored document's text as indexed (uploads and translations included)."""
    return documents_html(documents_in_store(settings), L)


def scope(settings: Settings, selection: list[str] | None) -> list[str] | None:
    """The `documents=` for rag from the picker: None (every document) when nothing or everything is selected."""
    if not selection:
        return None
    try:
        stored = {d.doc_id for d in stored_documents(settings)}
    except PolicyQAError:
        return list(selection)
    return None if stored <= set(selection) else list(selection)


def build_library_tab(settings: Settings, L: str, picker: gr.Dropdown,
                      document_view: gr.HTML) -> tuple[Callable[[], Any], list[Any]]:
    """The tab; after an add, a delete or a translation it refreshes its table, the chat's `picker` (all documents
    selected) and the Document tab's `document_view`.

    Returns a refresh function and its outputs, for the page load (the store may change outside this page)."""
    headers = [t(k, L) for k in ("lib_id", "lib_title", "lib_date", "lib_units", "lib_languages", "lib_ingested")]
    llm = settings.llm_configured

    def current() -> list[StoredDocument]:
        try:
            return stored_documents(settings)
        except PolicyQAError:
            return []

    def state_key(docs: list[StoredDocument]) -> tuple[tuple[str, str], ...]:
        return tuple((d.doc_id, d.ingested) for d in docs)

    built = current()
    built_key = state_key(built)  # the Document tab's initial HTML shows the store as it was then

    def view_update(docs: list[StoredDocument], page_load: bool) -> Any:
        """The Document tab's new HTML; none on a page load while the store is as it was when the page was built."""
        if page_load and state_key(docs) == built_key:
            return gr.skip()
        try:
            return gr.HTML(value=document_view_html(settings, L))
        except PolicyQAError:
            return gr.skip()

    def refreshed(page_load: bool = False) -> tuple[Any, ...]:
        """The table, the picker, the delete and translate choices and the Document tab after a store change."""
        docs = current()
        ids = [d.doc_id for d in docs]
        return (gr.Dataframe(value=library_rows(docs, L)), gr.Dropdown(choices=picker_choices(docs), value=ids),
                gr.Dropdown(choices=picker_choices(docs), value=None),
                gr.Dropdown(choices=untranslated_choices(docs), value=None), view_update(docs, page_load))

    def preview(path: str | None) -> tuple[Any, Any, Any]:
        """Parse the uploaded file and show what was found; only a parsable file can be added."""
        if not path:
            return "", gr.Button(visible=False), None
        try:
            doc = parse_policy_document(Path(path))
        except PolicyQAError as exc:
            return error_markdown(ui_message(exc, L)), gr.Button(visible=False), None
        lang = L if L in ("zh", "en") else "zh"
        lines = [f"**{escape(t('lib_title', L))}:** {escape(doc.title)}",
                 f"**{escape(t('lib_date', L))}:** {escape(doc.date or '—')}",
                 f"**{escape(t('lib_units_found', L))}:** {len(doc.units)} "
                 f"({doc.article_count} {escape(t('lib_articles', L))}, {doc.section_count} {escape(t('lib_sections', L))})",
                 f"**{escape(t('lib_id', L))}:** `{escape(doc.doc_id)}`"]
        if not doc.has_translation:
            lines.append(f"**{escape(t('lib_languages', L))}:** {escape(t('lib_zh_only', L))}")
        if doc.doc_id in {d.doc_id for d in current()}:
            lines.append(f"⚠ {escape(t('lib_replaces', L))}")
        lines += [f"⚠ {escape(w.message(lang))}" for w in doc.warnings]
        return "<br>".join(lines), gr.Button(visible=True), path

    skip_refresh = (gr.skip(),) * 5

    def add(path: str | None, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[Any, ...]:  # noqa: B008
        """Copy the upload beside the store (original name kept) and ingest it; on failure remove the copy."""
        if not path:
            return (gr.skip(),) * 9
        progress(0, desc=t("lib_adding", L))
        source = Path(path)
        folder = upload_folder(settings)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / source.name
        backup = target.read_bytes() if target.exists() else None
        shutil.copyfile(source, target)
        try:
            result = ingest(settings, [target], progress=True)
        except PolicyQAError as exc:
            if backup is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(backup)
            return (error_markdown(ui_message(exc, L)), *skip_refresh, gr.skip(), gr.skip(), None)
        done = f"✓ {t('lib_added', L)}: {result[0].doc_id} ({result[0].units} {t('lib_units', L)})"
        return done, *refreshed(), gr.Button(visible=False), gr.File(value=None), None

    def ask_delete(doc_id: str | None) -> tuple[Any, Any]:
        if not doc_id:
            return gr.skip(), gr.Row(visible=False)
        return f"{t('lib_delete_confirm_q', L)} `{escape(doc_id)}`", gr.Row(visible=True)

    def delete(doc_id: str | None) -> tuple[Any, ...]:
        if not doc_id:
            return (gr.skip(),) * 7
        try:
            remove_document(settings, doc_id)
        except PolicyQAError as exc:
            return error_markdown(ui_message(exc, L)), *skip_refresh, gr.Row(visible=False)
        return f"✓ {t('lib_deleted', L)}: {doc_id}", *refreshed(), gr.Row(visible=False)

    def translate(doc_id: str | None, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[Any, ...]:  # noqa: B008
        """Translate with the LLM (progress per unit), then re-index the English view, as `policyqa translate`.

        An LLM failure raises before the cache is written, so the store and the cache stay as they were."""
        if not doc_id:
            return (gr.skip(),) * 6
        progress(0, desc=t("lib_translating", L))
        try:
            result = translate_document(settings, doc_id, progress=True)
            store_translation(settings, result.doc_id)
        except PolicyQAError as exc:
            return error_markdown(ui_message(exc, L)), *skip_refresh
        done = f"✓ {t('lib_translated', L)}: {result.doc_id} ({result.units} {t('lib_units', L)})"
        if result.failed:
            done += f"  \n⚠ {t('lib_translate_failed', L)}: {', '.join(result.failed)}"
        return done, *refreshed()

    docs = built
    with gr.Tab(t("tab_library", L), id="library", elem_id="pq-tab-library"):
        table = gr.Dataframe(library_rows(docs, L), headers=headers, interactive=False, wrap=True,
                             column_widths=["24%", "30%", "10%", "7%", "14%", "15%"],  # long ids wrap, page fits
                             elem_id="pq-library-table", label=t("tab_library", L))
        status = gr.Markdown(elem_id="pq-library-status")
        with gr.Row(equal_height=False, elem_classes=["pq-wrap"]):
            with gr.Column(min_width=280):
                upload = gr.File(label=t("lib_upload", L), file_types=UPLOAD_TYPES, type="filepath",
                                 elem_id="pq-upload")
                parsed = gr.Markdown(elem_id="pq-upload-preview")
                add_button = gr.Button(t("lib_add", L), variant="primary", visible=False, elem_id="pq-add")
            with gr.Column(min_width=280):
                to_delete = gr.Dropdown(picker_choices(docs), value=None, label=t("lib_delete_choice", L),
                                        elem_id="pq-delete-doc")
                delete_button = gr.Button(t("lib_delete", L), variant="stop", elem_id="pq-delete")
                with gr.Row(visible=False, elem_id="pq-delete-confirm-row") as confirm_row:
                    confirm = gr.Button(t("lib_delete_confirm", L), variant="stop", elem_id="pq-delete-confirm")
                    cancel = gr.Button(t("lib_cancel", L), elem_id="pq-delete-cancel")
            with gr.Column(min_width=280):
                to_translate = gr.Dropdown(untranslated_choices(docs), value=None, label=t("lib_translate_choice", L),
                                           interactive=llm, elem_id="pq-translate-doc")
                translate_button = gr.Button(t("lib_translate", L), interactive=llm, elem_id="pq-translate")
                if not llm:
                    gr.Markdown(t("lib_translate_needs_llm", L), elem_id="pq-translate-note")
        pending = gr.State(None)
        stored_outputs = [table, picker, to_delete, to_translate, document_view]
        upload.change(preview, [upload], [parsed, add_button, pending], api_visibility="private")
        add_button.click(add, [pending], [status, *stored_outputs, add_button, upload, pending],
                         api_visibility="private")
        delete_button.click(ask_delete, [to_delete], [status, confirm_row], api_visibility="private")
        confirm.click(delete, [to_delete], [status, *stored_outputs, confirm_row], api_visibility="private")
        cancel.click(lambda: ("", gr.Row(visible=False)), None, [status, confirm_row], api_visibility="private")
        translate_button.click(translate, [to_translate], [status, *stored_outputs], api_visibility="private")
    return lambda: refreshed(page_load=True), stored_outputs
