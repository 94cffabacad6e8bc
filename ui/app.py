"""The Gradio web UI: a streamed, cited chat beside the cited articles, the full document, and an `ask` API.

The UI only routes rag's typed events (TextDelta → chat text, Final → linked answer + source cards) and
renders with the pure helpers in ui.render. Conversation state lives in the browser session (the Chatbot's
value and a gr.State of clean messages), so two browsers never share a history.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from html import escape
from typing import Any

import gradio as gr

from rag import (
    Answer,
    Final,
    PolicyQAError,
    Settings,
    TextDelta,
    backend_label,
    detect_language,
    get_retriever,
    list_documents,
    search,
    stream_answer,
)
from ui.render import (
    SectionTitles,
    answer_markdown,
    answer_payload,
    documents_html,
    error_markdown,
    section_titles,
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

CSS = """
.gradio-container { max-width: 1480px !important; margin: 0 auto !important; }
#pq-header { display: flex; align-items: baseline; justify-content: space-between; gap: 16px; flex-wrap: wrap;
  padding: 4px 2px 0; }
#pq-header h1 { margin: 0; font-size: 1.55rem; }
#pq-header .pq-subtitle { color: var(--body-text-color-subdued); font-size: .92rem; margin-top: 2px; }
#pq-backend { font-size: .85rem; padding: 6px 14px; border-radius: 999px; background: var(--background-fill-secondary);
  border: 1px solid var(--border-color-primary); white-space: nowrap; flex: 0 0 auto !important; width: auto !important;
  align-self: center; }
#pq-backend p { margin: 0; }
.pq-cite { text-decoration: none !important; font-weight: 600; color: var(--color-accent) !important;
  background: var(--color-accent-soft); border-radius: 4px; padding: 0 2px; white-space: nowrap; }
.pq-note { color: var(--body-text-color-subdued); }
.pq-error { color: #b42318; }
#pq-send { white-space: nowrap; }
#pq-chat-col { position: sticky; top: 8px; align-self: flex-start; }
.pq-sources-head { display: flex; justify-content: space-between; align-items: baseline; font-weight: 600;
  margin: 2px 0 10px; font-size: 1rem; }
.pq-meta { font-weight: 400; font-size: .8rem; color: var(--body-text-color-subdued); }
.pq-empty { color: var(--body-text-color-subdued); text-align: center; padding: 48px 24px; line-height: 1.7;
  border: 1px dashed var(--border-color-primary); border-radius: 12px; }
.pq-card { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 12px 14px; margin-bottom: 14px;
  background: var(--background-fill-primary); box-shadow: 0 1px 2px rgba(0,0,0,.04); scroll-margin-top: 12px; }
.pq-card:target, .pq-flash { outline: 2px solid var(--color-accent); outline-offset: 1px; }
.pq-card-head { margin-bottom: 8px; }
.pq-badge { display: inline-block; font-size: .78rem; font-weight: 600; padding: 1px 8px; border-radius: 999px;
  background: var(--color-accent-soft); color: var(--color-accent); margin-right: 6px; }
.pq-badge-en { background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
.pq-card-title { font-weight: 600; font-size: 1.02rem; margin-top: 6px; }
.pq-card-title-en { color: var(--body-text-color-subdued); font-size: .88rem; font-style: italic; }
.pq-card-section { font-size: .8rem; color: var(--body-text-color-subdued); margin-top: 4px; }
.pq-en-inline { font-style: italic; }
.pq-cols { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.pq-col-head { font-size: .72rem; text-transform: uppercase; letter-spacing: .04em; color: var(--body-text-color-subdued);
  margin-bottom: 4px; }
.pq-text { white-space: pre-line; }
.pq-zh { font-size: .93rem; line-height: 1.75; }
.pq-en { font-size: .86rem; line-height: 1.55; color: var(--body-text-color); border-left: 1px solid var(--border-color-primary);
  padding-left: 12px; }
.pq-card mark, .pq-doc mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.pq-context { display: inline-block; margin-top: 8px; font-size: .82rem; }
.pq-doc, .pq-sources { text-align: left; }
.pq-doc-head h2 { margin: 4px 0; font-size: 1.35rem; }
.pq-doc-title-en { color: var(--body-text-color-subdued); font-style: italic; }
.pq-doc-body { display: grid; grid-template-columns: minmax(240px, 330px) 1fr; gap: 24px; margin-top: 14px; }
.pq-toc { position: sticky; top: 8px; align-self: start; max-height: 88vh; overflow-y: auto; font-size: .86rem;
  border-right: 1px solid var(--border-color-primary); padding-right: 10px; }
.pq-toc-head { font-weight: 600; margin-bottom: 6px; }
.pq-toc ol { list-style: none; padding-left: 0; margin: 0; }
.pq-toc ol.pq-toc-articles { padding-left: 14px; margin-bottom: 6px; }
.pq-toc a { display: block; padding: 3px 4px; border-radius: 6px; text-decoration: none; color: inherit; }
.pq-toc a:hover { background: var(--background-fill-secondary); }
.pq-toc-section > a { font-weight: 600; margin-top: 6px; }
.pq-toc-label { color: var(--color-accent); }
.pq-toc-en { display: block; font-size: .76rem; color: var(--body-text-color-subdued); font-weight: 400; }
.pq-unit { padding: 12px 0; border-bottom: 1px solid var(--border-color-primary); scroll-margin-top: 12px; }
.pq-unit-section { background: var(--background-fill-secondary); padding: 12px; border-radius: 10px; margin-top: 10px; }
.pq-unit-section .pq-zh p:first-child { font-weight: 700; }
.pq-unit p { margin: 0 0 6px; }
.pq-unit:target, .pq-unit.pq-flash { outline: 2px solid var(--color-accent); border-radius: 8px; }
@media (max-width: 900px) { .pq-cols, .pq-doc-body { grid-template-columns: 1fr; } .pq-en { border-left: 0; padding-left: 0; } }
"""

# Citation links scroll the sources panel (never open a tab); "read in context" jumps to the document tab.
HEAD = """
<script>
document.addEventListener('click', function (e) {
  var a = e.target.closest && e.target.closest('a.pq-cite, a[data-doc-unit]');
  if (!a) return;
  e.preventDefault();
  e.stopPropagation();
  var id = a.classList.contains('pq-cite') ? a.getAttribute('href').slice(1) : 'doc-' + a.dataset.docUnit;
  if (!a.classList.contains('pq-cite')) {
    var tabs = document.querySelectorAll('button[role="tab"]');
    for (var i = 0; i < tabs.length; i++) { if (tabs[i].textContent.indexOf('原文') >= 0) { tabs[i].click(); } }
  }
  var tries = 30;
  (function go() {
    var el = document.getElementById(id);
    if (el && el.offsetParent !== null) {
      el.scrollIntoView({behavior: 'smooth', block: 'start'});
      el.classList.add('pq-flash');
      setTimeout(function () { el.classList.remove('pq-flash'); }, 1800);
    } else if (tries-- > 0) { setTimeout(go, 80); }
  })();
}, true);
</script>
"""


def make_theme() -> gr.themes.Base:
    """A calm theme with local fonts only (the default Google fonts cannot load offline); CJK via Noto."""
    fonts = ["Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "ui-sans-serif", "system-ui",
             "sans-serif"]
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate", font=fonts,
                          font_mono=["ui-monospace", "Consolas", "monospace"])


def launch_options() -> dict[str, Any]:
    """Keyword arguments for `launch()` that the app needs (Gradio 6: theme, css and head go there)."""
    return {"theme": make_theme(), "css": CSS, "head": HEAD, "ssr_mode": False, "footer_links": ["api"]}


def warm_up(settings: Settings) -> None:
    """Load the retriever and the embedding model now, so the first question is answered as fast as the rest."""
    get_retriever(settings)
    for probe, lang in (("产业集群", "zh"), ("industrial clusters", "en")):
        search(probe, settings=settings, language=lang, k=1)

    def other_backends() -> None:  # each backend override is its own settings (and retriever) in rag's cache
        for name in ("extractive", "openai"):
            try:
                get_retriever(settings.with_overrides(backend=name))
            except Exception:  # best effort: the first question on that backend just builds it
                log.debug("warming backend %s failed", name, exc_info=True)

    threading.Thread(target=other_backends, name="policyqa-warm", daemon=True).start()


def _backend_arg(backend: str | None) -> str | None:
    return backend if backend in ("extractive", "openai") else None


def _language_arg(language: str | None) -> str:
    return language if language in ("zh", "en") else "auto"


def _error_text(exc: BaseException, question: str, language: str, history: list[Any] | None = None) -> str:
    """A user-readable error in the question's language (else the conversation's; else both languages)."""
    if isinstance(exc, PolicyQAError):
        if language in ("zh", "en"):
            return exc.message(language)
        if question.strip():
            return exc.message(detect_language(question))
        previous = next((m.get("content") for m in reversed(history or [])
                         if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str)), "")
        if previous:
            return exc.message(detect_language(previous))
        zh, en = exc.message("zh"), exc.message("en")
        return zh if zh == en else f"{zh}\n{en}"
    log.exception("unexpected error while answering %r", question)
    lang = language if language in ("zh", "en") else detect_language(question)
    return (f"内部错误（{type(exc).__name__}），请重试。" if lang == "zh"
            else f"Internal error ({type(exc).__name__}); please try again.")


def backend_markdown(settings: Settings, backend: str | None = None) -> str:
    chosen = settings.with_overrides(backend=_backend_arg(backend))
    try:
        label = backend_label(chosen)
    except ValueError as exc:  # an unknown backend in the environment
        label = str(exc)
    return f"**Backend:** {escape(label, quote=False)}"


def build_app(settings: Settings, *, warm: bool = True) -> gr.Blocks:
    """The whole UI for one settings object (the store must have been ingested)."""
    if warm:
        warm_up(settings)
    documents = list_documents(settings)
    sections: SectionTitles = section_titles(documents)
    default_k = max(1, min(10, settings.top_k))

    def respond(message: str, chat: list[Any] | None, history: list[dict[str, str]] | None, language: str,
                backend: str, k: float) -> Iterator[tuple[Any, Any, Any, Any]]:
        """Stream one answer into the chat; errors become an assistant message; the sources panel follows."""
        question = message or ""
        chat = list(chat or [])
        history = list(history or [])
        if question.strip():
            chat.append({"role": "user", "content": escape(question, quote=False)})
            yield chat, gr.skip(), gr.skip(), ""
        final: Answer | None = None
        streamed = ""
        try:
            for event in stream_answer(question, history=history, settings=settings, backend=_backend_arg(backend),
                                       language=_language_arg(language), k=int(k or default_k)):
                if isinstance(event, TextDelta):
                    if not streamed:
                        chat.append({"role": "assistant", "content": ""})
                    streamed += event.text
                    chat[-1] = {"role": "assistant", "content": escape(streamed, quote=False)}
                    yield chat, gr.skip(), gr.skip(), gr.skip()
                elif isinstance(event, Final):
                    final = event.answer
        except Exception as exc:  # PolicyQAError and anything unexpected: a readable message, never a traceback
            if streamed:
                chat.pop()
            chat.append({"role": "assistant", "content": error_markdown(_error_text(exc, question, language, history))})
            yield chat, history, gr.skip(), ""
            return
        if final is None:
            return
        if not streamed:
            chat.append({"role": "assistant", "content": ""})
        chat[-1] = {"role": "assistant", "content": answer_markdown(final)}
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": final.text}]
        yield chat, history, sources_html(final, sections), gr.skip()

    def new_conversation() -> tuple[list[Any], list[Any], str, str]:
        return [], [], sources_html(None), ""

    def ask(question: str, history: list[dict[str, Any]] | None = None, language: str = "auto",
            backend: str = "auto", k: int | None = None) -> dict[str, Any]:
        """Answer `question` (with an optional messages `history`); returns the answer, citations and sources.

        language: auto | zh | en. backend: auto | extractive | openai. On failure: {"error": message}.
        """
        question = question if isinstance(question, str) else ""
        try:
            if backend not in BACKENDS:
                raise PolicyQAError(f"unknown backend {backend!r}: choose auto, extractive or openai",
                                    f"未知的后端 {backend!r}：可选 auto、extractive、openai")
            final = None
            for event in stream_answer(question, history=list(history or []), settings=settings,
                                       backend=_backend_arg(backend), language=_language_arg(language),
                                       k=int(k) if k else None):
                if isinstance(event, Final):
                    final = event.answer
            if final is None:
                raise RuntimeError("the answer stream ended without an answer")
            return answer_payload(final)
        except Exception as exc:
            return {"error": _error_text(exc, question, language, history)}

    with gr.Blocks(title="PolicyQA · 政策问答", analytics_enabled=False, fill_width=True) as demo:
        history_state = gr.State([])
        with gr.Row(elem_id="pq-header-row", equal_height=True):
            doc_title = documents[0].title if documents else ""
            gr.HTML(
                f'<div id="pq-header"><div><h1>政策问答 · PolicyQA</h1><div class="pq-subtitle">'
                f"{escape(doc_title)}<br>用中文或英文提问，每个回答都注明所依据的条文 · "
                "Ask in Chinese or English; every answer cites its articles.</div></div></div>", scale=4,
            )
            indicator = gr.Markdown(backend_markdown(settings), elem_id="pq-backend")
        with gr.Tabs():
            with gr.Tab("问答 · Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=9, min_width=420, elem_id="pq-chat-col"):
                    chatbot = gr.Chatbot(
                        label="对话 · Conversation", elem_id="pq-chat", height=560, buttons=["copy"],
                        latex_delimiters=[], feedback_options=None, sanitize_html=True,
                        group_consecutive_messages=False,
                        placeholder="**你好！** 请就文件内容提问，例如下面的示例问题。<br>"
                                    "**Hello!** Ask about the document — try one of the examples below.",
                    )
                    with gr.Row(equal_height=True):
                        textbox = gr.Textbox(
                            placeholder="输入问题，按回车发送 · Type a question and press Enter", show_label=False,
                            lines=1, max_lines=5, scale=8, autofocus=True, elem_id="pq-question", container=False,
                        )
                        send = gr.Button("发送 · Send", variant="primary", scale=1, min_width=130, elem_id="pq-send")
                    gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[textbox],
                                label="示例问题 · Example questions", examples_per_page=len(EXAMPLES))
                    with gr.Row(equal_height=True):
                        language = gr.Radio(
                            [("自动 · Auto", "auto"), ("中文", "zh"), ("English", "en")], value="auto",
                            label="回答语言 · Answer language", scale=3, elem_id="pq-language",
                        )
                        clear = gr.Button("新对话 · New conversation", variant="secondary", scale=1, min_width=160,
                                          elem_id="pq-new")
                    with gr.Accordion("设置 · Settings", open=False, elem_id="pq-settings"), gr.Row():
                        k = gr.Slider(1, 10, value=default_k, step=1, label="检索条文数 · Units retrieved (k)")
                        backend = gr.Radio(
                            [("自动 · Auto", "auto"), ("摘录 · Extractive", "extractive"),
                             ("LLM · OpenAI-compatible", "openai")],
                            value="auto", label="回答后端 · Answer backend",
                        )
                with gr.Column(scale=11, min_width=380, elem_id="pq-sources-box"):
                    sources = gr.HTML(sources_html(None), elem_id="pq-sources", js_on_load=None)
            with gr.Tab("原文 · Document", id="document", render_children=True):
                gr.HTML(documents_html(documents), elem_id="pq-document", js_on_load=None)

        inputs = [textbox, chatbot, history_state, language, backend, k]
        outputs = [chatbot, history_state, sources, textbox]
        textbox.submit(respond, inputs, outputs, api_visibility="private")
        send.click(respond, inputs, outputs, api_visibility="private")
        clear.click(new_conversation, None, [chatbot, history_state, sources, textbox], api_visibility="private")
        backend.change(lambda b: backend_markdown(settings, b), backend, indicator, api_visibility="private")
        gr.api(ask, api_name="ask")
    demo.queue(default_concurrency_limit=4)
    return demo
