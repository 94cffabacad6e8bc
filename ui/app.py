"""The Gradio web UI: a streamed, cited chat beside the cited articles, the full document, and an `ask` API.

The UI only routes rag's typed events (TextDelta → chat text, Final → linked answer + its sources) and renders
with the pure helpers in ui.render and ui.export. Conversation state lives in the browser session (the Chatbot's
value and a gr.State of finished turns), so two browsers never share a history. Every answer keeps its own
sources; the page script (ui.assets) shows the ones of the answer whose citation was clicked.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gradio as gr

from rag import (
    Answer,
    Final,
    PolicyQAError,
    Settings,
    TextDelta,
    available_backends,
    detect_language,
    documents_in_store,
    get_retriever,
    list_documents,
    resolve_backend,
    search,
    stored_documents,
    stream_answer,
)
from ui.assets import CSS, HEAD
from ui.evaluation import EvalRun, Evaluator
from ui.export import answer_markdown_text, conversation_docx, conversation_markdown, turn_record
from ui.feedback import append_feedback, feedback_record
from ui.i18n import UI_LANGUAGES, t
from ui.library import build_library_tab, picker_choices, scope
from ui.render import (
    SectionTitles,
    answer_payload,
    documents_html,
    error_markdown,
    message_html,
    section_titles,
    sources_group,
    sources_html,
)

log = logging.getLogger("policyqa.ui")

BACKENDS = ("auto", "extractive", "openai")
EXAMPLES = [
    "广东在集成电路和新能源汽车产业方面有什么部署？",
    "到2027年广东高质量发展要达到哪些目标？",
    "第八条讲了什么？",
    "How will Guangdong build modern industrial clusters?",
    "What are the goals for 2035?",
    "What does Article 20 say about rural revitalization?",
]


def make_theme() -> gr.themes.Base:
    """A calm theme with local fonts only (the default Google fonts cannot load offline); CJK via Noto."""
    fonts = ["Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "ui-sans-serif", "system-ui",
             "sans-serif"]
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate", font=fonts,
                          font_mono=["ui-monospace", "Consolas", "monospace"])


def launch_options() -> dict[str, Any]:
    """Keyword arguments for `launch()` that the app needs (Gradio 6: theme, css and head go there)."""
    return {"theme": make_theme(), "css": CSS, "head": HEAD, "ssr_mode": False, "footer_links": ["api"]}


# -- backends: only what is configured is offered --------------------------------------------------------

def effective_backend(settings: Settings, choice: str | None) -> str:
    """The backend that will really answer for a UI/API choice; PolicyQAError for an unknown or unconfigured one."""
    choice = choice or "auto"
    if choice not in BACKENDS:
        raise PolicyQAError(t("unknown_backend", "en") + f" (got {choice!r})", t("unknown_backend", "zh") + f"（收到 {choice!r}）")
    if choice == "auto":
        resolved = resolve_backend(settings)
        return resolved if resolved in available_backends(settings) else "extractive"
    if choice not in available_backends(settings):
        raise PolicyQAError(t("openai_not_configured", "en"), t("openai_not_configured", "zh"))
    return choice


def backend_markdown(settings: Settings, backend: str | None = None, ui_language: str = "bi") -> str:
    """The badge: which backend will really answer, in the UI's language."""
    name = effective_backend(settings, backend if backend in BACKENDS else None)
    if name == "openai":
        where = urlsplit(settings.openai_base_url).netloc if settings.openai_base_url else "api.openai.com"
        what = f"{t('badge_openai', ui_language)}: {settings.openai_model} @ {where}"
    else:
        what = t("badge_extractive", ui_language)
    return f"**{escape(t('badge_prefix', ui_language))}:** {escape(what, quote=False)}"


def warm_up(settings: Settings) -> None:
    """Load the retriever and the embedding model now, so the first question is answered as fast as the rest."""
    get_retriever(settings)
    for probe, lang in (("产业集群", "zh"), ("industrial clusters", "en")):
        search(probe, settings=settings, language=lang, k=1)

    def other_backends() -> None:  # each backend override is its own settings (and retriever) in rag's cache
        for name in available_backends(settings):
            try:
                get_retriever(settings.with_overrides(backend=name))
            except Exception:  # best effort: the first question on that backend just builds it
                log.debug("warming backend %s failed", name, exc_info=True)

    threading.Thread(target=other_backends, name="policyqa-warm", daemon=True).start()


def _language_arg(language: str | None) -> str:
    return language if language in ("zh", "en") else "auto"


def _error_text(exc: BaseException, question: str, language: str, history: list[Any] | None = None,
                ui_language: str = "bi") -> str:
    """A user-readable error in one language: the UI's, else the question's, else the conversation's, else both."""
    lang = ui_language if ui_language in ("zh", "en") else language
    if isinstance(exc, PolicyQAError):
        if lang in ("zh", "en"):
            return exc.message(lang)
        if question.strip():
            return exc.message(detect_language(question))
        previous = next((m.get("content") for m in reversed(history or [])
                         if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str)), "")
        if previous:
            return exc.message(detect_language(previous))
        zh, en = exc.message("zh"), exc.message("en")
        return zh if zh == en else f"{zh}\n{en}"
    log.exception("unexpected error while answering %r", question)
    lang = lang if lang in ("zh", "en") else detect_language(question)
    return (f"内部错误（{type(exc).__name__}），请重试。" if lang == "zh"
            else f"Internal error ({type(exc).__name__}); please try again.")


def history_messages(turns: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The conversation so far as clean messages (what rag sees as history; never our HTML)."""
    out: list[dict[str, str]] = []
    for turn in turns:
        out += [{"role": "user", "content": str(turn["question"])}, {"role": "assistant", "content": str(turn["answer"])}]
    return out


def _export_files(turns: Sequence[Mapping[str, Any]], doc_titles: Mapping[str, str], ui_language: str,
                  folder: Path | None = None) -> tuple[Any, Any]:
    """Fresh Markdown and .docx exports of the conversation for the two download buttons (disabled when empty).

    `folder` is the session's own export folder (rewritten each time; Gradio serves a copy from its cache)."""
    if not turns or folder is None:
        return gr.DownloadButton(value=None, interactive=False), gr.DownloadButton(value=None, interactive=False)
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / "policyqa-conversation.md"
    md.write_text(conversation_markdown(turns, doc_titles, ui_language), encoding="utf-8")
    docx = conversation_docx(turns, folder / "policyqa-conversation.docx", doc_titles, ui_language)
    return gr.DownloadButton(value=str(md), interactive=True), gr.DownloadButton(value=str(docx), interactive=True)


def _example_text(data: gr.SelectData) -> str:
    """The question of the example the user clicked."""
    return str(data.value.get("text", "")) if isinstance(data.value, dict) else str(data.value)


def _report_without_images(markdown: str) -> str:
    """report.md links its plots by relative path; the tab shows them in a gallery instead."""
    return "\n".join(line for line in markdown.splitlines() if not line.startswith("!["))


def build_app(settings: Settings, *, warm: bool = True, ui_language: str = "bi",
              evaluator: Evaluator | None = None) -> gr.Blocks:
    """The whole UI for one settings object (the store must have been ingested).

    ui_language: "bi" (Chinese · English, the default), "zh" or "en" — every label, notice and aria-label.
    evaluator: what the Evaluation tab runs (injected by the composition root); without one the tab is hidden.
    """
    if ui_language not in UI_LANGUAGES:
        raise ValueError(f"ui_language must be one of {', '.join(UI_LANGUAGES)}, not {ui_language!r}")
    L = ui_language
    if warm:
        warm_up(settings)
    try:  # what the store holds (uploads included), configured documents first
        documents = documents_in_store(settings)
    except PolicyQAError:
        documents = list_documents(settings)
    sections: SectionTitles = section_titles(documents)
    doc_titles = {d.doc_id: d.title for d in documents}
    default_k = max(1, min(10, settings.top_k))
    feedback_file = settings.feedback_path
    export_root = Path(tempfile.mkdtemp(prefix="policyqa-export-"))

    def export_folder(request: gr.Request | None) -> Path:
        """One export folder per browser session."""
        session = getattr(request, "session_hash", None) or "api"
        return export_root / "".join(ch for ch in str(session) if ch.isalnum())[:64]
    backends = available_backends(settings)

    def respond(message: str, chat: list[Any] | None, turns: list[dict[str, Any]] | None,
                groups: list[str] | None, language: str, backend: str, k: float, selection: list[str] | None = None,
                request: gr.Request = None) -> Iterator[tuple[Any, ...]]:  # type: ignore[assignment]
        """Stream one answer into the chat; errors become an assistant message; the answer keeps its own sources."""
        question = message or ""
        chat, turns, groups = list(chat or []), list(turns or []), list(groups or [])
        history = history_messages(turns)
        skip = gr.skip()
        start = len(chat)
        if question.strip():
            chat.append({"role": "user", "content": escape(question, quote=False)})
            yield chat, skip, skip, skip, "", skip, skip
        final: Answer | None = None
        streamed = ""
        try:
            chosen = effective_backend(settings, backend)
            for event in stream_answer(question, history=history, settings=settings, backend=chosen,
                                       language=_language_arg(language), k=int(k or default_k),
                                       documents=scope(settings, selection)):
                if isinstance(event, TextDelta):
                    if not streamed:
                        chat.append({"role": "assistant", "content": ""})
                    streamed += event.text
                    chat[-1] = {"role": "assistant", "content": escape(streamed, quote=False)}
                    yield chat, skip, skip, skip, skip, skip, skip
                elif isinstance(event, Final):
                    final = event.answer
        except Exception as exc:  # PolicyQAError and anything unexpected: a readable message, never a traceback
            if streamed:
                chat.pop()
            chat.append({"role": "assistant",
                         "content": error_markdown(_error_text(exc, question, language, history, L))})
            yield chat, skip, skip, skip, "", skip, skip
            return
        if final is None:
            return
        turn_no = len(turns) + 1
        record = turn_record(final, chat_start=start)
        if not streamed:
            chat.append({"role": "assistant", "content": ""})
        chat[-1] = {"role": "assistant",
                    "content": message_html(final, turn_no, answer_markdown_text(record), L, sections)}
        turns.append(record)
        groups.append(sources_group(final, turn_no, sections, L))
        yield (chat, turns, groups, sources_html(groups, L), skip,
               *_export_files(turns, doc_titles, L, export_folder(request)))

    def new_conversation() -> tuple[Any, ...]:
        return [], [], [], sources_html((), L), "", *_export_files([], doc_titles, L), gr.Column(visible=False)

    def _drop_last(chat: list[Any], turns: list[dict[str, Any]], groups: list[str]) -> tuple[list[Any], list[Any], list[str], str]:
        """The conversation without its last exchange (and any error after it), and that exchange's question."""
        if not turns:
            return chat, turns, groups, ""
        last = turns[-1]
        return chat[: int(last.get("chat_start", 0))], turns[:-1], groups[:-1], str(last["question"])

    def regenerate(chat: list[Any] | None, turns: list[dict[str, Any]] | None, groups: list[str] | None,
                   language: str, backend: str, k: float, selection: list[str] | None = None,
                   request: gr.Request = None) -> Iterator[tuple[Any, ...]]:  # type: ignore[assignment]
        """Answer the last question again (e.g. after changing the backend or k)."""
        chat, turns, groups, question = _drop_last(list(chat or []), list(turns or []), list(groups or []))
        if not question:
            return
        yield (chat, turns, groups, sources_html(groups, L), gr.skip(),
               *_export_files(turns, doc_titles, L, export_folder(request)))
        yield from respond(question, chat, turns, groups, language, backend, k, selection, request)

    def edit_last(chat: list[Any] | None, turns: list[dict[str, Any]] | None, groups: list[str] | None,
                  request: gr.Request = None) -> tuple[Any, ...]:  # type: ignore[assignment]
        """Take the last exchange back and put its question in the box to edit and resend."""
        chat, turns, groups, question = _drop_last(list(chat or []), list(turns or []), list(groups or []))
        if not question:
            return (gr.skip(),) * 7
        return (chat, turns, groups, sources_html(groups, L), question,
                *_export_files(turns, doc_titles, L, export_folder(request)))

    def on_feedback(turns: list[dict[str, Any]] | None, data: gr.LikeData) -> tuple[Any, Any, Any]:
        """Store a thumbs up/down on an answer; offer a comment box for the same record."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        turn = next((tr for tr in turns or [] if int(tr.get("chat_start", -9)) + 1 == index), None)
        if turn is None or data.liked not in (True, False):  # an error message or an unknown option: nothing to store
            return gr.skip(), gr.skip(), gr.skip()
        record = feedback_record(turn, "helpful" if data.liked else "wrong")
        append_feedback(feedback_file, record)
        return record, gr.Column(visible=True), gr.Textbox(value="")

    def on_comment(record: dict[str, Any] | None, comment: str) -> tuple[Any, Any]:
        if not record or not (comment or "").strip():
            return gr.skip(), gr.skip()
        updated = {**record, "comment": comment.strip()}
        append_feedback(feedback_file, updated)
        return gr.Column(visible=False), updated

    def ask(question: str, history: list[dict[str, Any]] | None = None, language: str = "auto",
            backend: str = "auto", k: int | None = None, documents: list[str] | None = None) -> dict[str, Any]:
        """Answer `question` (with an optional messages `history`); returns the answer, citations and sources.

        language: auto | zh | en. backend: auto | extractive | openai (only when an LLM is configured).
        documents: document ids to answer from (default: every stored document). On failure: {"error": message}.
        """
        question = question if isinstance(question, str) else ""
        try:
            chosen = effective_backend(settings, backend)
            final = None
            for event in stream_answer(question, history=history, settings=settings, backend=chosen,
                                       language=_language_arg(language), k=int(k) if k else None,
                                       documents=list(documents) if documents else None):
                if isinstance(event, Final):
                    final = event.answer
            if final is None:
                raise RuntimeError("the answer stream ended without an answer")
            return answer_payload(final)
        except Exception as exc:
            return {"error": _error_text(exc, question, language, history)}

    chat_tab, doc_tab = t("tab_chat", L), t("tab_document", L)
    with gr.Blocks(title=f"{t('title', 'zh')} · PolicyQA", analytics_enabled=False, fill_width=True) as demo:
        turns_state = gr.State([])
        groups_state = gr.State([])
        feedback_state = gr.State(None)
        with gr.Row(elem_id="pq-header-row", equal_height=False):
            doc_title = (documents[0].title_en if L == "en" and documents[0].title_en else documents[0].title) \
                if documents else ""
            title = t("title", L) if L != "bi" else "政策问答 · PolicyQA"
            gr.HTML(
                f'<div id="pq-header"><h1>{escape(title)}</h1><div class="pq-subtitle">{escape(doc_title)}<br>'
                f'{escape(t("subtitle", L))}</div></div>'
                f'<div id="pq-config" hidden data-chat-tab="{escape(chat_tab)}" data-doc-tab="{escape(doc_tab)}"></div>',
                scale=4, min_width=240,
            )
            indicator = gr.Markdown(backend_markdown(settings, None, L), elem_id="pq-backend")
        with gr.Tabs(elem_id="pq-tabs"):
            with gr.Tab(chat_tab, id="chat", elem_id="pq-tab-chat"), gr.Row(equal_height=False, elem_id="pq-chat-row"):
                with gr.Column(scale=9, min_width=320, elem_id="pq-chat-col"):
                    chatbot = gr.Chatbot(
                        label=t("conversation", L), show_label=False, elem_id="pq-chat", buttons=[],
                        latex_delimiters=[], feedback_options=("Like", "Dislike"), sanitize_html=True,
                        group_consecutive_messages=False, placeholder=t("placeholder_chat", L) if L != "bi" else
                        f"{t('placeholder_chat', 'zh')}<br>{t('placeholder_chat', 'en')}",
                        examples=[{"text": q} for q in EXAMPLES],
                    )
                    with gr.Row(equal_height=True, elem_id="pq-input-row"):
                        textbox = gr.Textbox(
                            label=t("question", L), placeholder=t("question_placeholder", L), show_label=False,
                            lines=1, max_lines=5, scale=8, autofocus=True, elem_id="pq-question", container=False,
                        )
                        send = gr.Button(t("send", L), variant="primary", scale=1, min_width=90, elem_id="pq-send")
                    with gr.Row(elem_id="pq-actions-row"):
                        regen = gr.Button(t("regenerate", L), size="sm", min_width=80, elem_id="pq-regenerate")
                        edit = gr.Button(t("edit_last", L), size="sm", min_width=80, elem_id="pq-edit")
                        export_md = gr.DownloadButton(t("export_md", L), size="sm", min_width=80, interactive=False,
                                                      elem_id="pq-export-md")
                        export_docx = gr.DownloadButton(t("export_docx", L), size="sm", min_width=80,
                                                        interactive=False, elem_id="pq-export-docx")
                        clear = gr.Button(t("new_conversation", L), size="sm", min_width=80, elem_id="pq-new")
                    with gr.Column(visible=False, elem_id="pq-feedback") as feedback_box:
                        comment = gr.Textbox(label=t("feedback_comment", L), info=t("feedback_thanks", L), lines=1,
                                             elem_id="pq-feedback-comment")
                        comment_send = gr.Button(t("feedback_submit", L), size="sm", elem_id="pq-feedback-send")
                    with gr.Row(equal_height=True, elem_id="pq-options-row"):
                        language = gr.Radio(
                            [(t("auto", L), "auto"), ("中文", "zh"), ("English", "en")], value="auto",
                            label=t("answer_language", L), elem_id="pq-language", scale=3,
                        )
                        backend = gr.Radio(
                            [(t("auto", L), "auto")] + [(t(f"backend_{b}", L), b) for b in backends], value="auto",
                            label=t("backend_choice", L), elem_id="pq-backend-choice", visible=len(backends) > 1, scale=3,
                        )
                    with gr.Accordion(t("settings", L), open=False, elem_id="pq-settings"):
                        k = gr.Slider(1, 10, value=default_k, step=1, label=t("units_k", L))
                        stored = stored_documents(settings)
                        picker = gr.Dropdown(picker_choices(stored), value=[d.doc_id for d in stored], multiselect=True,
                                             label=t("doc_picker", L), elem_id="pq-doc-picker")
                with gr.Column(scale=11, min_width=320, elem_id="pq-sources-box"):
                    sources = gr.HTML(sources_html((), L), elem_id="pq-sources")
            with gr.Tab(doc_tab, id="document", render_children=True, elem_id="pq-tab-document"):
                document_view = gr.HTML(documents_html(documents, L), elem_id="pq-document")
            refresh_library, library_outputs = build_library_tab(settings, L, picker, document_view)
            if evaluator is not None:
                _evaluation_tab(evaluator, L)

        inputs = [textbox, chatbot, turns_state, groups_state, language, backend, k, picker]
        outputs = [chatbot, turns_state, groups_state, sources, textbox, export_md, export_docx]
        # While an answer streams, send / regenerate / edit are disabled: a second click would race the stream
        # for the same history (the stream's later updates would undo an edit made meanwhile).
        controls = [send, regen, edit]

        def answering(event: Any, fn: Any, fn_inputs: list[Any]) -> None:
            event(lambda: [gr.update(interactive=False)] * len(controls), None, controls, queue=False,
                  api_visibility="private").then(fn, fn_inputs, outputs, api_visibility="private").then(
                lambda: [gr.update(interactive=True)] * len(controls), None, controls, api_visibility="private")

        answering(textbox.submit, respond, inputs)
        answering(send.click, respond, inputs)
        answering(chatbot.example_select(_example_text, None, textbox, api_visibility="private").then,
                  respond, inputs)
        answering(regen.click, regenerate, inputs[1:])
        edit.click(edit_last, [chatbot, turns_state, groups_state], outputs, api_visibility="private")
        for control in (clear.click, chatbot.clear):  # both reset the history and the sources
            control(new_conversation, None, [*outputs, feedback_box], api_visibility="private")
        chatbot.like(on_feedback, [turns_state], [feedback_state, feedback_box, comment], api_visibility="private")
        comment.submit(on_comment, [feedback_state, comment], [feedback_box, feedback_state], api_visibility="private")
        comment_send.click(on_comment, [feedback_state, comment], [feedback_box, feedback_state],
                           api_visibility="private")
        backend.change(lambda b: backend_markdown(settings, b, L), backend, indicator, api_visibility="private")
        gr.api(ask, api_name="ask")
        demo.load(refresh_library, None, library_outputs, api_visibility="private")
    demo.queue(default_concurrency_limit=4)
    return demo


def _evaluation_tab(evaluator: Evaluator, L: str) -> None:
    """Run the eval set on a backend (progress bar), show the report and plots, compare two stored runs."""

    def show(run: EvalRun) -> tuple[str, list[str]]:
        return _report_without_images(run.report_markdown), [str(p) for p in run.plots if p.exists()]

    def run_eval(backend: str, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[Any, Any, Any, Any]:  # noqa: B008
        progress(0, desc=t("eval_running", L))
        try:
            run = evaluator.run(backend)
        except PolicyQAError as exc:  # a bad eval set, an unusable store: say so in the report area
            return error_markdown(exc.message(L if L in ("zh", "en") else "en")), [], gr.skip(), gr.skip()
        report, plots = show(run)
        names = evaluator.runs()
        previous = names[1] if len(names) > 1 else None  # compare the new run (B) with the one before (A)
        return report, plots, gr.Dropdown(choices=names, value=previous), gr.Dropdown(choices=names, value=run.name)

    def load(name: str | None) -> tuple[Any, Any]:
        if not name:
            return gr.skip(), gr.skip()
        return show(evaluator.load(name))

    def compare(a: str | None, b: str | None) -> str:
        return evaluator.compare(a, b) if a and b else ""

    runs = evaluator.runs()
    with gr.Tab(t("tab_eval", L), id="evaluation", elem_id="pq-tab-eval"):
        with gr.Row(equal_height=True, elem_classes=["pq-wrap"]):
            eval_backend = gr.Dropdown(evaluator.backends(), value=evaluator.backends()[0], label=t("eval_backend", L),
                                       elem_id="pq-eval-backend", scale=2, min_width=140)
            run_button = gr.Button(t("eval_run", L), variant="primary", elem_id="pq-eval-run", scale=1, min_width=100)
        with gr.Row(equal_height=True, elem_classes=["pq-wrap"]):
            run_a = gr.Dropdown(runs, value=runs[1] if len(runs) > 1 else None, label=t("eval_run_a", L),
                                elem_id="pq-eval-a", min_width=140)
            run_b = gr.Dropdown(runs, value=runs[0] if runs else None, label=t("eval_run_b", L), elem_id="pq-eval-b",
                                min_width=140)
            compare_button = gr.Button(t("eval_compare_button", L), elem_id="pq-eval-compare", min_width=100)
        report = gr.Markdown(t("eval_none", L) if not runs else "", elem_id="pq-eval-report")
        plots = gr.Gallery(label=t("eval_report", L), columns=3, height="auto", elem_id="pq-eval-plots")
        comparison = gr.Markdown(elem_id="pq-eval-comparison")
        run_button.click(run_eval, [eval_backend], [report, plots, run_a, run_b], api_visibility="private")
        run_b.change(load, [run_b], [report, plots], api_visibility="private")
        compare_button.click(compare, [run_a, run_b], [comparison], api_visibility="private")

