"""UI strings in one place, so a screen speaks one language: Chinese, English, or both ("bi", the default)."""

from __future__ import annotations

UI_LANGUAGES = ("bi", "zh", "en")

# key → (Chinese, English)
STRINGS: dict[str, tuple[str, str]] = {
    "title": ("政策问答", "PolicyQA"),
    "subtitle": ("用中文或英文提问，每个回答都注明所依据的条文。", "Ask in Chinese or English; every answer cites its articles."),
    "tab_chat": ("问答", "Chat"),
    "tab_document": ("原文", "Document"),
    "tab_eval": ("评测", "Evaluation"),
    "tab_library": ("文件库", "Library"),
    "doc_picker": ("检索范围（文件）", "Documents to search"),
    "lib_id": ("编号", "ID"),
    "lib_title": ("标题", "Title"),
    "lib_date": ("日期", "Date"),
    "lib_units": ("条文单元", "units"),
    "lib_languages": ("语言", "Languages"),
    "lib_ingested": ("入库时间 (UTC)", "Ingested (UTC)"),
    "lib_zh_en": ("中文 + 英文", "Chinese + English"),
    "lib_zh_only": ("仅中文（无英文译文）", "Chinese only (no English translation)"),
    "lib_upload": ("上传文件（.txt .md .docx .pdf .html）", "Upload a document (.txt .md .docx .pdf .html)"),
    "lib_units_found": ("识别出的单元", "Units found"),
    "lib_articles": ("条", "articles"),
    "lib_sections": ("章节", "sections"),
    "lib_replaces": ("库中已有同编号文件，添加将替换它。", "A document with this id is in the library; adding replaces it."),
    "lib_add": ("添加到文件库", "Add to library"),
    "lib_adding": ("正在入库……", "Adding to the library…"),
    "lib_added": ("已添加", "Added"),
    "lib_delete_choice": ("要删除的文件", "Document to delete"),
    "lib_delete": ("删除……", "Delete…"),
    "lib_delete_confirm_q": ("确定删除此文件？", "Delete this document?"),
    "lib_delete_confirm": ("确认删除", "Confirm delete"),
    "lib_cancel": ("取消", "Cancel"),
    "lib_deleted": ("已删除", "Deleted"),
    "lib_translate_choice": ("要翻译的文件（仅中文）", "Document to translate (Chinese only)"),
    "lib_translate": ("用语言模型翻译成英文", "Translate into English with the LLM"),
    "lib_translating": ("正在翻译……", "Translating…"),
    "lib_translated": ("已翻译", "Translated"),
    "lib_translate_failed": ("模型未给出逐句对齐译文、仍为中文的单元", "units left untranslated (the model's reply was not aligned)"),
    "lib_translate_needs_llm": ("翻译需要语言模型：请设置 OPENAI_BASE_URL（任何兼容 OpenAI 的服务）或 OPENAI_API_KEY 后重启。",
                                "Translation needs an LLM: set OPENAI_BASE_URL (any OpenAI-compatible server) or "
                                "OPENAI_API_KEY and restart."),
    "conversation": ("对话", "Conversation"),
    "placeholder_chat": ("**你好！** 请就文件内容提问，例如下面的示例问题。", "**Hello!** Ask about the document — try one of the examples below."),
    "question": ("问题", "Question"),
    "question_placeholder": ("输入问题，按回车发送", "Type a question and press Enter"),
    "send": ("发送", "Send"),
    "examples": ("示例问题", "Example questions"),
    "answer_language": ("回答语言", "Answer language"),
    "auto": ("自动", "Auto"),
    "new_conversation": ("新对话", "New conversation"),
    "regenerate": ("重新生成", "Regenerate"),
    "edit_last": ("编辑上一问", "Edit last question"),
    "export_md": ("导出 Markdown", "Export Markdown"),
    "export_docx": ("导出 Word", "Export Word"),
    "settings": ("设置", "Settings"),
    "units_k": ("检索条文数 (k)", "Units retrieved (k)"),
    "backend_choice": ("回答后端", "Answer backend"),
    "backend_extractive": ("摘录式", "Extractive"),
    "backend_openai": ("语言模型（OpenAI 兼容）", "LLM (OpenAI-compatible)"),
    "badge_prefix": ("回答方式", "Answered by"),
    "badge_extractive": ("摘录式（离线，无语言模型）", "extractive (offline, no LLM)"),
    "badge_openai": ("语言模型", "LLM"),
    "sources": ("引用来源", "Sources"),
    "sources_empty": ("提问后，答案所引用的条文会显示在这里，引用句会高亮标出。",
                      "The articles cited by the answer appear here, with the quoted sentences highlighted."),
    "no_sources": ("本次回答没有引用任何条文。", "This answer cites no part of the document."),
    "refused": ("文件中没有找到与该问题相关的内容。", "The document does not cover this question."),
    "original": ("中文原文", "Chinese original"),
    "translation": ("英文译文", "English translation"),
    "read_in_context": ("在全文中查看 →", "Read in context →"),
    "attributed": ("系统补注的引用", "citation added by attribution"),
    "copy": ("复制", "Copy"),
    "copied": ("已复制", "Copied"),
    "fallback": ("语言模型不可用，以下为离线摘录式回答", "The language model was unavailable; this is the offline extractive answer"),
    "references": ("参考条文", "References"),
    "question_label": ("问", "Q"),
    "answer_label": ("答", "A"),
    "export_title": ("对话导出", "Conversation export"),
    "document": ("文件", "Document"),
    "article": ("条文", "Article"),
    "quote": ("引文", "Quoted text"),
    "backend": ("回答方式", "Backend"),
    "contents": ("目录", "Contents"),
    "preamble": ("序言", "Preamble"),
    "no_document": ("没有配置文件。", "No document configured."),
    "doc_search": ("在文件中搜索", "Search the document"),
    "doc_search_placeholder": ("输入关键词", "Type a word to find"),
    "doc_matches": ("处匹配", "matches"),
    "back_to_chat": ("返回对话", "Back to the conversation"),
    "feedback_thanks": ("已记录反馈，可补充说明：", "Feedback saved. Add a comment if you like:"),
    "feedback_comment": ("反馈说明（可选）", "Comment (optional)"),
    "feedback_submit": ("提交说明", "Submit comment"),
    "feedback_saved": ("说明已保存。", "Comment saved."),
    "eval_backend": ("评测后端", "Backend to evaluate"),
    "eval_run": ("运行评测", "Run the evaluation"),
    "eval_report": ("评测报告", "Report"),
    "eval_compare": ("比较两次运行", "Compare two runs"),
    "eval_run_a": ("运行 A", "Run A"),
    "eval_run_b": ("运行 B", "Run B"),
    "eval_compare_button": ("比较", "Compare"),
    "eval_running": ("正在评测……", "Evaluating…"),
    "eval_none": ("尚无评测运行。", "No evaluation runs yet."),
    "openai_not_configured": ("未配置语言模型（设置 OPENAI_API_KEY 或 OPENAI_BASE_URL）：可用后端为 extractive",
                              "no language model is configured (set OPENAI_API_KEY or OPENAI_BASE_URL): use backend extractive"),
    "unknown_backend": ("未知的后端：可选 auto、extractive、openai", "unknown backend: choose auto, extractive or openai"),
}


def t(key: str, lang: str = "bi") -> str:
    """The string for `key` in the UI language: Chinese, English, or "中文 · English"."""
    zh, en = STRINGS[key]
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    return zh if zh == en else f"{zh} · {en}"


def notice_language(ui_language: str, answer_language: str) -> str:
    """The language of a notice about one answer: the UI's when it has one, else the answer's."""
    return ui_language if ui_language in ("zh", "en") else (answer_language if answer_language in ("zh", "en") else "zh")
