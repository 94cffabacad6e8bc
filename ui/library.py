"""The Library tab: the stored documents, upload (parse preview, then a confirmed crash-safe ingest), and delete.

Everything goes through rag's public API (stored_documents, parse_policy_document, ingest, remove_document), so
an upload is ingested exactly as `policyqa ingest` would; a bad file is refused at the preview and changes nothing.
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
    ingest,
    parse_policy_document,
    remove_document,
    stored_documents,
)
from ui.i18n import t
from ui.render import error_markdown

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


def scope(settings: Settings, selection: list[str] | None) -> list[str] | None:
    """The `documents=` for rag from the picker: None (every document) when nothing or everything is selected."""
    if not selection:
        return None
    try:
        stored = {d.doc_id for d in stored_documents(settings)}
    except PolicyQAError:
        return list(selection)
    return None if stored <= set(selection) else list(selection)


def build_library_tab(settings: Settings, L: str, picker: gr.Dropdown) -> tuple[Callable[[], Any], list[Any]]:
    """The tab; after an add or a delete it refreshes its table and the chat's `picker` (all documents selected).

    Returns a refresh function and its outputs, for the page load (the store may change outside this page)."""
    headers = [t(k, L) for k in ("lib_id", "lib_title", "lib_date", "lib_units", "lib_languages", "lib_ingested")]

    def current() -> list[StoredDocument]:
        try:
            return stored_documents(settings)
        except PolicyQAError:
            return []

    def refreshed() -> tuple[Any, Any, Any]:
        """The table, the picker and the delete choice after a store change."""
        docs = current()
        ids = [d.doc_id for d in docs]
        return (gr.Dataframe(value=library_rows(docs, L)), gr.Dropdown(choices=picker_choices(docs), value=ids),
                gr.Dropdown(choices=picker_choices(docs), value=None))

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

    def add(path: str | None, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[Any, ...]:  # noqa: B008
        """Copy the upload beside the store (original name kept) and ingest it; on failure remove the copy."""
        if not path:
            return (gr.skip(),) * 7
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
            return (error_markdown(ui_message(exc, L)), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), None)
        table, chosen, delete_choice = refreshed()
        done = f"✓ {t('lib_added', L)}: {result[0].doc_id} ({result[0].units} {t('lib_units', L)})"
        return done, table, chosen, delete_choice, gr.Button(visible=False), gr.File(value=None), None

    def ask_delete(doc_id: str | None) -> tuple[Any, Any]:
        if not doc_id:
            return gr.skip(), gr.Row(visible=False)
        return f"{t('lib_delete_confirm_q', L)} `{escape(doc_id)}`", gr.Row(visible=True)

    def delete(doc_id: str | None) -> tuple[Any, ...]:
        if not doc_id:
            return (gr.skip(),) * 5
        try:
            remove_document(settings, doc_id)
        except PolicyQAError as exc:
            return error_markdown(ui_message(exc, L)), gr.skip(), gr.skip(), gr.skip(), gr.Row(visible=False)
        table, chosen, delete_choice = refreshed()
        return f"✓ {t('lib_deleted', L)}: {doc_id}", table, chosen, delete_choice, gr.Row(visible=False)

    docs = current()
    with gr.Tab(t("tab_library", L), id="library", elem_id="pq-tab-library"):
        table = gr.Dataframe(library_rows(docs, L), headers=headers, interactive=False, wrap=True,
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
        pending = gr.State(None)
        upload.change(preview, [upload], [parsed, add_button, pending], api_visibility="private")
        add_button.click(add, [pending], [status, table, picker, to_delete, add_button, upload, pending],
                         api_visibility="private")
        delete_button.click(ask_delete, [to_delete], [status, confirm_row], api_visibility="private")
        confirm.click(delete, [to_delete], [status, table, picker, to_delete, confirm_row], api_visibility="private")
        cancel.click(lambda: ("", gr.Row(visible=False)), None, [status, confirm_row], api_visibility="private")
    return refreshed, [table, picker, to_delete]
