"""The web UI in a real browser: Debian's chromium driven by Playwright against the app on loopback.

Writes nothing into the work tree (README screenshots are `make screenshots`). Fails (never skips) when chromium is
missing: `make test` installs it (apt-get install chromium fonts-noto-cjk).
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, serve_app

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
CASES = Path(__file__).resolve().parents[2] / "eval" / "cases.jsonl"
VIEWPORT = {"width": 1440, "height": 900}
TIMEOUT_MS = 60_000
CJK = re.compile(r"[\u3400-\u9fff\uff08\uff09\u3001\u3002\uff0c\uff1a]")

QUESTION = "#pq-question textarea"
BOT = "#pq-chat [data-testid='bot']"
USER = "#pq-chat [data-testid='user']"


class App:
    """A served app and what a test may inspect on the server side (its feedback file, its reports)."""

    def __init__(self, url: str, feedback_file: Path, reports: Path) -> None:
        self.url, self.feedback_file, self.reports = url, feedback_file, reports


@pytest.fixture(scope="module")
def app(store_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The offline app over the session's ingested temp store, with a small eval set behind its Evaluation tab."""
    from eval.api import EvalService
    from rag import load_settings

    tmp = tmp_path_factory.mktemp("ui")
    cases = tmp / "cases.jsonl"  # three real cases of the eval set: zh factual, en, unanswerable
    lines = CASES.read_text(encoding="utf-8").splitlines()
    picked = [lines[0], next(x for x in lines if '"language": "en"' in x), next(x for x in lines if '"answerable": false' in x)]
    cases.write_text("\n".join(picked) + "\n", encoding="utf-8")
    # the featured document alone, as the session store holds (the default configuration is the whole library)
    settings = load_settings(env={}, store_dir=store_dir, backend="extractive", feedback_file=tmp / "feedback.jsonl",
                             data_files=(DATA,))
    evaluator = EvalService(settings, tmp / "reports", cases)
    with serve_app(settings, evaluator=evaluator) as url:
        yield App(url, tmp / "feedback.jsonl", tmp / "reports")


@pytest.fixture(scope="module")
def app_url(app: App) -> str:
    return app.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's browser with "
                    "`apt-get install -y chromium fonts-noto-cjk` (make test does this)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Any, url: str, viewport: dict[str, int] | None = None, locale: str = "zh-CN",
              **context_options: Any) -> Any:
    context = browser.new_context(viewport=viewport or VIEWPORT, locale=locale, **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(url)
    page.locator(QUESTION).wait_for()
    return page


@pytest.fixture()
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """A fresh browser context (its own Gradio session) with the app loaded."""
    page = open_page(browser, app_url)
    try:
        yield page
    finally:
        page.context.close()


def ask(page: Any, question: str, *, expect: str, click_send: bool = False) -> Any:
    """Type a question, submit it, wait for the reply `expect`-ing some text; return the last bot message."""
    from playwright.sync_api import expect as pw_expect

    before = page.locator(BOT).count()
    box = page.locator(QUESTION)
    box.fill(question)
    if click_send:
        page.locator("#pq-send").click()
    else:
        box.press("Enter")
    pw_expect(page.locator(BOT)).to_have_count(before + 1, timeout=TIMEOUT_MS)
    reply = page.locator(BOT).last
    pw_expect(reply).to_contain_text(expect, timeout=TIMEOUT_MS)
    reply.locator(".pq-msg, .pq-error").first.wait_for()  # final, not still streaming: the app takes the next one
    return reply


def answered(page: Any, turn: int) -> Any:
    """Wait until answer `turn` is final (its message, with its copy payload, is rendered); return it."""
    msg = page.locator(f"#pq-turn-{turn}")
    msg.wait_for()
    page.mouse.move(0, 0)
    return msg


def test_chinese_exchange_with_quote_preview(page: Any) -> None:
    from playwright.sync_api import expect

    reply = ask(page, "广东在集成电路和新能源汽车产业方面有什么部署？", expect="[第")
    answered(page, 1)
    expect(reply).to_contain_text("[第八条]")
    card = page.locator("#pq-sources #src-1-A8")
    expect(card).to_be_visible()
    expect(card.locator("mark").first).to_contain_text("集成电路")
    expect(card.locator(".pq-en mark").first).to_contain_text("integrated circuits")
    link = reply.locator("a.pq-cite").first
    assert link.get_attribute("href") == "#src-1-A8"
    tip = link.locator(".pq-tip")
    expect(tip).to_be_hidden()
    link.hover()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("集成电路")  # the quoted sentence, previewed on hover


def test_english_exchange(page: Any) -> None:
    from playwright.sync_api import expect

    page.locator("#pq-language").get_by_label("English").check()
    reply = ask(page, "How will Guangdong build modern industrial clusters?", expect="[Art.", click_send=True)
    answered(page, 1)
    expect(reply).to_contain_text("[Art. 8]")
    assert "[第" not in reply.inner_text()
    expect(page.locator("#pq-sources .pq-current .pq-sources-head")).to_contain_text("Sources")
    expect(page.locator("#pq-sources #src-1-A8 .pq-en mark").first).to_be_visible()


def test_chinese_question_with_english_selected_gets_an_english_answer(page: Any) -> None:
    from playwright.sync_api import expect

    page.locator("#pq-language").get_by_label("English").check()
    reply = ask(page, "广东在集成电路和新能源汽车产业方面有什么部署？", expect="[Art.")
    answered(page, 1)
    expect(reply.locator("a.pq-cite").first).to_have_text(re.compile(r"^\[Art\. \d+\]"))
    text = reply.locator(".pq-answer").inner_text()
    latin, cjk = len(re.findall(r"[A-Za-z]", text)), len(CJK.findall(text))
    assert latin > 5 * max(cjk, 1), f"expected an English answer, got {text!r}"


def test_sources_of_an_older_answer_stay_reachable(page: Any) -> None:
    from playwright.sync_api import expect

    ask(page, "第八条讲了什么？", expect="[第八条]")
    answered(page, 1)
    ask(page, "到2027年广东高质量发展要达到哪些目标？", expect="[第")
    second = answered(page, 2)
    expect(page.locator("#pq-grp-2")).to_be_visible()
    expect(page.locator("#pq-grp-1")).to_be_hidden()
    assert "A8" not in (second.locator("a.pq-cite").first.get_attribute("href") or "")
    page.locator("#pq-turn-1 a.pq-cite").first.click()
    expect(page.locator("#pq-grp-1")).to_be_visible()
    expect(page.locator("#pq-grp-2")).to_be_hidden()
    expect(page.locator("#src-1-A8")).to_be_in_viewport()
    expect(page.locator("#pq-turn-2")).to_be_in_viewport()  # the chat did not scroll away
    page.locator("#pq-turn-2 a.pq-cite").first.click()
    expect(page.locator("#pq-grp-2")).to_be_visible()


@pytest.mark.parametrize("control", ["new", "trash"])
def test_clear_resets_history_and_sources(page: Any, control: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both controls empty the chat and the sources, and the next question is asked without the old history."""
    from playwright.sync_api import expect

    import ui.app as app_module

    real, seen = app_module.stream_answer, []

    def recording(question: str, **kwargs: Any) -> Iterator[Any]:  # the real chain; we only note the history
        seen.append(list(kwargs.get("history") or []))
        yield from real(question, **kwargs)

    monkeypatch.setattr(app_module, "stream_answer", recording)
    ask(page, "第八条讲了什么？", expect="[第八条]")
    answered(page, 1)
    ask(page, "这一条还提到了哪些传统产业？", expect="[第")
    answered(page, 2)
    assert seen[-1][0]["content"] == "第八条讲了什么？"  # a follow-up carries the history
    if control == "new":
        page.locator("#pq-new").click()
    else:
        page.locator("#pq-chat").get_by_role("button", name=re.compile("^(Clear|清空)", re.I)).click()
    expect(page.locator(BOT)).to_have_count(0)
    expect(page.locator(USER)).to_have_count(0)
    expect(page.locator("#pq-sources .pq-card")).to_have_count(0)
    ask(page, "到2027年广东高质量发展要达到哪些目标？", expect="[第")
    assert seen[-1] == []
    answered(page, 1)  # numbering restarts: nothing of the old conversation is kept


def test_copy_yields_markdown_with_references(browser: Any, app_url: str) -> None:
    page = open_page(browser, app_url, permissions=["clipboard-read", "clipboard-write"])
    try:
        ask(page, "第八条讲了什么？", expect="[第八条]")
        answered(page, 1).locator("a.pq-copy").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == page.evaluate("window.__pqCopied")
        assert "[第八条]" in copied and "<a" not in copied and "pq-cite" not in copied
        assert "**参考条文**" in copied
        assert re.search(r"^1\. \[第八条\] 建设现代化产业集群：“.+”$", copied, re.M), copied
    finally:
        page.context.close()


def test_export_downloads_markdown_and_docx(page: Any) -> None:
    from docx import Document

    ask(page, "第八条讲了什么？", expect="[第八条]")
    answered(page, 1)
    ask(page, "How will Guangdong build modern industrial clusters?", expect="[Art.")
    answered(page, 2)
    with page.expect_download() as info:
        page.locator("#pq-export-docx").click()
    path = info.value.path()
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "1. 第八条讲了什么？" in text and "2. How will Guangdong build modern industrial clusters?" in text
    assert len(doc.tables) == 2
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert rows[0] == ["文件", "条文", "引文"]
    assert any(r[1].startswith("[第八条]") and r[2] and "广东" in r[0] for r in rows[1:]), rows
    assert [c.text for c in doc.tables[1].rows[0].cells] == ["Document", "Article", "Quoted text"]
    with page.expect_download() as info:
        page.locator("#pq-export-md").click()
    md = Path(info.value.path()).read_text(encoding="utf-8")
    assert "## 1. 第八条讲了什么？" in md and "[Art. 8]" in md and "<a" not in md


def test_regenerate_and_edit_the_last_question(page: Any) -> None:
    from playwright.sync_api import expect

    ask(page, "第八条讲了什么？", expect="[第八条]")
    answered(page, 1)
    ask(page, "到2027年的目标是什么？", expect="[第")
    answered(page, 2)
    page.locator("#pq-regenerate").click()
    expect(page.locator(USER)).to_have_count(2)
    expect(page.locator(BOT)).to_have_count(2)
    answered(page, 2)
    expect(page.locator(USER).last).to_contain_text("到2027年的目标是什么？")
    page.locator("#pq-edit").click()
    expect(page.locator(USER)).to_have_count(1)
    expect(page.locator(QUESTION)).to_have_value("到2027年的目标是什么？")
    expect(page.locator("#pq-grp-2")).to_have_count(0)
    page.locator(QUESTION).fill("到2035年的目标是什么？")
    page.locator(QUESTION).press("Enter")
    expect(answered(page, 2)).to_contain_text("[第")
    expect(page.locator(USER).last).to_contain_text("到2035年")


NAMED = ["#pq-header", "#pq-backend", "#pq-tabs [role='tablist']", "#pq-chat", "#pq-question", "#pq-send",
         "#pq-regenerate", "#pq-edit", "#pq-export-md", "#pq-export-docx", "#pq-new", "#pq-language", "#pq-settings",
         "#pq-sources-box"]


def _boxes(page: Any, selectors: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    for sel in selectors:
        loc = page.locator(sel).first
        if loc.count() and loc.is_visible():
            out[sel] = loc.bounding_box()
    return out


def _overlaps(boxes: dict[str, dict[str, float]]) -> list[str]:
    bad = []
    for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2):
        dx = min(ba["x"] + ba["width"], bb["x"] + bb["width"]) - max(ba["x"], bb["x"])
        dy = min(ba["y"] + ba["height"], bb["y"] + bb["height"]) - max(ba["y"], bb["y"])
        if dx > 0.5 and dy > 0.5:
            bad.append(f"{a} overlaps {b}")
    return bad


@pytest.mark.parametrize("width,height", [(1440, 900), (1024, 768), (390, 844)])
def test_no_overlaps_and_sources_follow_the_answer(browser: Any, app_url: str, width: int, height: int,
                                                   tmp_path: Path) -> None:
    """At each width: no named element overlaps another, and a screenshot is kept in pytest's temp dir to look at."""
    from playwright.sync_api import expect

    page = open_page(browser, app_url, viewport={"width": width, "height": height})
    try:
        ask(page, "广东在集成电路和新能源汽车产业方面有什么部署？", expect="[第")
        msg = answered(page, 1)
        boxes = _boxes(page, NAMED)
        assert {"#pq-header", "#pq-chat", "#pq-question", "#pq-send", "#pq-new"} <= set(boxes)
        assert not _overlaps(boxes), _overlaps(boxes)
        # Inside the chat: the toolbar (trash) never covers a message, the copy action or a marker.
        inner = _boxes(page, ["#pq-chat button[aria-label^='Clear' i]", f"{USER} >> nth=0", "#pq-turn-1 .pq-answer",
                              "#pq-turn-1 a.pq-copy"])
        assert not _overlaps(inner), _overlaps(inner)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        if width < 900:  # phone: one column, the answer's own sources right under it, no side panel
            expect(page.locator("#pq-sources-box")).to_be_hidden()
            details = msg.locator("details.pq-msg-sources")
            expect(details).to_be_visible()
            msg.locator("a.pq-cite").first.click()
            expect(page.locator("#msrc-1-A8")).to_be_visible()
            assert page.locator("#msrc-1-A8").bounding_box()["y"] > msg.locator(".pq-answer").bounding_box()["y"]
            assert boxes["#pq-backend"]["y"] >= boxes["#pq-header"]["y"] + boxes["#pq-header"]["height"] - 0.5
        else:  # desktop: sources in the side panel, the input in view
            expect(page.locator("#pq-sources-box #src-1-A8")).to_be_visible()
            expect(page.locator("#pq-question")).to_be_in_viewport()
            expect(msg.locator("details.pq-msg-sources")).to_be_hidden()
            page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")  # sources stay put (sticky)
            page.wait_for_timeout(200)
            panel = page.locator("#pq-sources-box").bounding_box()
            assert panel["y"] >= 0 and panel["y"] + panel["height"] <= height, panel
            expect(page.locator("#pq-question")).to_be_in_viewport()
        shot = page.screenshot(path=tmp_path / f"layout-{width}x{height}.png")
        assert shot[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(shot[16:20], "big") == width
    finally:
        page.context.close()


def test_llm_option_absent_without_configuration(page: Any, app_url: str) -> None:
    from gradio_client import Client
    from playwright.sync_api import expect

    expect(page.locator("#pq-backend")).to_contain_text("extractive")
    expect(page.locator("#pq-backend")).not_to_contain_text("openai")
    expect(page.locator("#pq-backend-choice")).to_have_count(0)
    expect(page.get_by_text("OpenAI", exact=False)).to_have_count(0)
    client = Client(app_url, verbose=False)
    refused = client.predict("第八条讲了什么？", [], "auto", "openai", 3, api_name="/ask")
    assert "OPENAI_API_KEY" in refused["error"] and "answer" not in refused
    ok = client.predict("第八条讲了什么？", [], "auto", "auto", 3, api_name="/ask")
    assert ok["backend"] == "extractive" and "A8" in ok["citations"]


def test_document_tab_highlights_the_cited_sentence_search_and_back(page: Any) -> None:
    from playwright.sync_api import expect

    ask(page, "广东在集成电路和新能源汽车产业方面有什么部署？", expect="[第八条]")
    answered(page, 1)
    page.locator("#pq-sources #src-1-A8 a.pq-context").click()
    expect(page.get_by_role("tab", name="原文 · Document")).to_have_attribute("aria-selected", "true")
    target = page.locator("#pq-document #doc-A8")
    expect(target).to_be_in_viewport()
    expect(target).to_contain_text("Build modern industrial clusters")
    cited = target.locator("mark.pq-cited")
    expect(cited.first).to_contain_text("推动20个战略性产业集群发展")
    expect(target.locator(".pq-en mark.pq-cited").first).to_contain_text("integrated circuits")
    expect(page.locator("#pq-document mark.pq-cited")).to_have_count(cited.count())  # only the cited unit
    page.locator("#pq-doc-search").fill("产业集群")
    hits = page.locator("#pq-document mark.pq-hit")
    expect(hits.first).to_be_visible()
    n = hits.count()
    assert n >= 3
    expect(page.locator("#pq-doc-count")).to_have_text(re.compile(rf"^{n} "))
    expect(page.locator("#pq-document mark.pq-hit-current")).to_have_count(1)
    page.locator("#pq-doc-search").fill("")
    expect(hits).to_have_count(0)
    page.locator("#pq-back").click()
    expect(page.get_by_role("tab", name="问答 · Chat")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#pq-turn-1")).to_be_in_viewport()


def test_feedback_becomes_a_draft_eval_case(page: Any, app: App) -> None:
    from playwright.sync_api import expect

    from eval.feedback import draft_cases, read_feedback

    ask(page, "第八条讲了什么？", expect="[第八条]")
    answered(page, 1)
    bot = page.locator(BOT).last
    bot.hover()
    page.locator("#pq-chat").get_by_role("button", name=re.compile("^(Like|赞)$", re.I)).last.click()
    expect(page.locator("#pq-feedback")).to_be_visible()
    page.locator("#pq-feedback-comment textarea").fill("准确，引用正确")
    page.locator("#pq-feedback-send").click()
    expect(page.locator("#pq-feedback")).to_be_hidden()
    records = [r for r in read_feedback(app.feedback_file) if r["question"] == "第八条讲了什么？"]
    assert records and records[-1]["rating"] == "helpful" and records[-1]["comment"] == "准确，引用正确"
    assert records[-1]["backend"] == "extractive" and "[第八条]" in records[-1]["answer"]
    for line in app.feedback_file.read_text(encoding="utf-8").splitlines():  # every line one complete record
        assert {"id", "time", "rating", "comment", "question", "answer", "citations", "backend"} <= set(json.loads(line))
    case = draft_cases(records)[-1]
    assert case["question"] == "第八条讲了什么？" and case["gold_units"][0] == "A8" and case["status"] == "draft"


def test_evaluation_tab_runs_shows_the_report_and_compares(page: Any, app: App) -> None:
    import time

    from playwright.sync_api import expect

    page.get_by_role("tab", name=re.compile("评测")).click()
    report = page.locator("#pq-eval-report")
    names: list[str] = []
    for n in (1, 2):
        page.locator("#pq-eval-run").click()
        deadline = time.monotonic() + 180
        while len(names) < n and time.monotonic() < deadline:  # the run's directory, once its report is written
            names = [p.parent.name for p in sorted(app.reports.glob("*/report.md"), key=lambda p: p.stat().st_mtime)]
            page.wait_for_timeout(250)
        assert len(names) == n, names
        expect(report).to_contain_text(f"Evaluation report: {names[-1]}", timeout=TIMEOUT_MS)
        expect(report).to_contain_text("Cases: 3")
        expect(page.locator("#pq-eval-plots img")).to_have_count(3, timeout=TIMEOUT_MS)
    page.locator("#pq-eval-compare").click()
    comparison = page.locator("#pq-eval-comparison")
    expect(comparison).to_contain_text("Run comparison", timeout=TIMEOUT_MS)
    expect(comparison).to_contain_text(names[0])
    expect(comparison).to_contain_text(names[1])


# Our own chrome: header, tabs, buttons and labels of the chat column, sources, document tools, our aria-labels.
CHROME_JS = """() => {
  const out = [];
  document.querySelectorAll('#pq-header-row, [role=tab], #pq-chat-col button:not([aria-label]), #pq-chat-col label, '
    + '.pq-sources-head, .pq-actions, .pq-col-head, .pq-context, summary, .pq-doc-tools, .pq-toc-head, .pq-empty')
    .forEach(e => out.push(e.innerText.trim()));
  document.querySelectorAll('#pq-question textarea, #pq-doc-search').forEach(
    e => out.push(e.getAttribute('aria-label') || '', e.getAttribute('placeholder') || ''));
  return out.filter(x => x);
}"""


@pytest.mark.parametrize("ui_language,locale", [("en", "en-US"), ("zh", "zh-CN")])
def test_the_ui_speaks_one_language(browser: Any, store_dir: Path, ui_language: str, locale: str) -> None:
    """Labels, notices and aria-labels in the chosen language (Gradio's own strings follow the browser locale)."""
    from rag import load_settings

    settings = load_settings(env={}, store_dir=store_dir, backend="extractive", data_files=(DATA,))
    with serve_app(settings, ui_language=ui_language, warm=False) as url:
        page = open_page(browser, url, locale=locale)
        try:
            question = "How will Guangdong build modern industrial clusters?" if ui_language == "en" else "第八条讲了什么？"
            ask(page, question, expect="[Art." if ui_language == "en" else "[第八条]")
            answered(page, 1)
            name = "Question" if ui_language == "en" else "问题"
            assert page.get_by_role("textbox", name=name).count() == 1  # announced by a name, not as "Textbox"
            chrome = page.evaluate(CHROME_JS)
            page.get_by_role("tab", name="Document" if ui_language == "en" else "原文").click()
            chrome += page.evaluate(CHROME_JS)
            subtitle = page.locator(".pq-subtitle").inner_text().splitlines()[-1]
            if ui_language == "en":
                mixed = [c for c in chrome if CJK.search(c) and c != "中文"]
            else:
                allowed = {"English", "Markdown", "Word", "API", "PolicyQA"}
                mixed = [c for c in chrome if set(re.findall(r"[A-Za-z]{3,}", c)) - allowed]
                assert not re.search(r"[A-Za-z]{3,}", subtitle)
            assert not mixed, mixed
        finally:
            page.context.close()


def test_sessions_do_not_share_history(browser: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    a, b = open_page(browser, app_url), open_page(browser, app_url)
    try:
        # Submit both before waiting for either, so the two sessions are served at the same time.
        a.locator(QUESTION).fill("第八条讲了什么？")
        b.locator(QUESTION).fill("How will Guangdong build modern industrial clusters?")
        a.locator(QUESTION).press("Enter")
        b.locator(QUESTION).press("Enter")
        expect(a.locator(BOT).last).to_contain_text("[第八条]")
        expect(b.locator(BOT).last).to_contain_text("[Art. 8]")
        a.locator("#pq-turn-1").wait_for()
        ask(a, "到2027年广东高质量发展要达到哪些目标？", expect="[第")
        expect(a.locator(USER)).to_have_count(2)
        expect(b.locator(USER)).to_have_count(1)
        assert "第八条讲了什么" not in b.locator("#pq-chat").inner_text()
        assert "modern industrial clusters?" not in a.locator("#pq-chat").inner_text()
        b.reload()
        b.locator(QUESTION).wait_for()
        expect(b.locator(USER)).to_have_count(0)
    finally:
        a.context.close()
        b.context.close()


def test_errors_show_in_the_chat_and_the_app_keeps_working(page: Any) -> None:
    from playwright.sync_api import expect

    ask(page, "   ", expect="问题为空")
    error = page.locator(f"{BOT} .pq-error").last
    expect(error).to_be_visible()
    assert "Traceback" not in error.inner_text()
    ask(page, "第八条讲了什么？", expect="[第八条]")
    ask(page, "chips " * 600, expect="too long")  # an English question gets an English message
    ask(page, "这一条还提到了哪些传统产业？", expect="[第八条]")  # the follow-up still sees the history


def test_answer_streams_into_the_chat(page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deltas appear as they arrive; the final answer then replaces them with linked citations."""
    import time

    import ui.app as app_module
    from rag import TextDelta

    real = app_module.stream_answer

    def slow_stream(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for event in real(*args, **kwargs):
            if isinstance(event, TextDelta):  # the extractive backend sends one delta: split it up, slowly
                for i in range(0, len(event.text), 6):
                    time.sleep(0.12)
                    yield TextDelta(event.text[i:i + 6])
            else:
                yield event

    monkeypatch.setattr(app_module, "stream_answer", slow_stream)
    page.locator(QUESTION).fill("广东在集成电路和新能源汽车产业方面有什么部署？")
    page.locator(QUESTION).press("Enter")
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        bots = page.locator(BOT)
        text = bots.last.inner_text() if bots.count() else ""
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        if page.locator(f"{BOT} a.pq-cite").count():
            break
        page.wait_for_timeout(60)
    partial = [t for t in seen if t.strip() and "[第八条]" not in t]
    assert len(partial) >= 2, f"expected the reply to grow while streaming, saw {seen!r}"
    assert all(len(a) <= len(b) for a, b in itertools.pairwise(partial))
    page.locator(f"{BOT} a.pq-cite").last.wait_for()


def test_an_example_question_is_asked_when_clicked(page: Any) -> None:
    from playwright.sync_api import expect

    page.locator("#pq-chat").get_by_role("button", name=re.compile("第八条讲了什么")).click()
    expect(page.locator(USER)).to_have_count(1)
    expect(answered(page, 1)).to_contain_text("[第八条]")


def test_document_switcher_with_two_documents(browser: Any, tmp_path: Path) -> None:
    """With several documents one is shown at a time; search, the contents and "read in context" stay inside it."""

    from playwright.sync_api import expect

    from rag import ingest, load_settings
    from tests.conftest import DATA

    second = tmp_path / "second-copy.zh.txt"  # a second document (same text, its own id and title, no translation)
    second.write_text(DATA.read_text(encoding="utf-8").replace("关于新时代广东高质量发展的若干意见",
                                                               "关于新时代广东高质量发展的若干意见（副本）", 1),
                      encoding="utf-8")
    settings = load_settings(env={}, store_dir=tmp_path / "store", backend="extractive", data_files=(DATA, second))
    ingest(settings, progress=False)  # the Document tab shows the stored documents
    with serve_app(settings, warm=False) as url:
        page = open_page(browser, url)
        try:
            page.get_by_role("tab", name="原文 · Document").click()
            docs = page.locator("#pq-document .pq-doc")
            expect(docs).to_have_count(2)
            expect(docs.nth(0)).to_be_visible()
            expect(docs.nth(1)).to_be_hidden()
            switch = page.locator("#pq-doc-switch")
            expect(switch.locator("option")).to_have_count(2)
            switch.select_option(index=1)
            expect(docs.nth(0)).to_be_hidden()
            expect(docs.nth(1)).to_be_visible()
            page.locator("#pq-doc-search").fill("产业集群")
            expect(docs.nth(1).locator("mark.pq-hit").first).to_be_visible()
            expect(docs.nth(0).locator("mark.pq-hit")).to_have_count(0)  # only the shown document is searched
            docs.nth(1).locator(".pq-toc a[href='#doc-A20']").click()
            expect(docs.nth(1).locator("[id='doc-A20']")).to_be_in_viewport()
            page.locator("#pq-back").click()
            ask(page, "新时代广东高质量发展的若干意见第八条讲了什么？", expect="第八条]")  # names the first document
            answered(page, 1)
            page.locator("#pq-sources #src-1-A8 a.pq-context").click()
            expect(docs.nth(0)).to_be_visible()  # the cited document is shown again, the sentence marked in it
            expect(docs.nth(0).locator("[id='doc-A8'] mark.pq-cited").first).to_be_in_viewport()
            expect(switch).to_have_value(docs.nth(0).get_attribute("id").removeprefix("pq-doc-"))
        finally:
            page.context.close()


# -- the Library tab: upload, ask, bad file, delete ------------------------------------------------------

TEST_REGULATION = ["# 广东省测试条例", "（2026年11月1日广东省第十四届人民代表大会常务委员会第二十次会议通过）",
                   "第一章 总则",
                   "第一条 为了规范本省无人机物流配送活动，促进低空经济发展，制定本条例。",
                   "第二条 从事无人机物流配送的企业应当向县级以上人民政府交通运输主管部门备案，并为配送航线购买责任保险。",
                   "第三条 本条例自2027年1月1日起施行。"]


def _regulation_docx(path: Path) -> Path:
    """A small 条例 as a Word file, built at test time (python-docx, as a user's upload would be)."""
    import docx

    document = docx.Document()
    for paragraph in TEST_REGULATION:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


@pytest.fixture(scope="module")
def library_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """Its own app over its own store (the featured document), since these tests add and delete documents."""
    from rag import ingest, load_settings

    tmp = tmp_path_factory.mktemp("library")
    settings = load_settings(env={}, store_dir=tmp / "store", backend="extractive", data_files=(DATA,))
    ingest(settings, progress=False)
    with serve_app(settings, warm=False) as url:
        yield url, settings


def _open_library(browser: Any, url: str) -> Any:
    page = open_page(browser, url)
    page.get_by_role("tab", name="文件库 · Library").click()
    page.locator("#pq-library-table").wait_for()
    return page


def test_library_upload_docx_then_ask_gets_a_cited_answer_naming_it(browser: Any, library_app: tuple[str, Any],
                                                                     tmp_path: Path) -> None:
    from playwright.sync_api import expect

    url, settings = library_app
    upload = _regulation_docx(tmp_path / "广东省测试条例.docx")
    page = _open_library(browser, url)
    try:
        table = page.locator("#pq-library-table")
        expect(table).not_to_contain_text("广东省测试条例")
        page.locator("#pq-upload input[type='file']").set_input_files(str(upload))
        preview = page.locator("#pq-upload-preview")
        expect(preview).to_contain_text("广东省测试条例")
        expect(preview).to_contain_text("2026-11-01")
        expect(preview).to_contain_text("4 (3")  # 4 units: the chapter and its 3 articles
        page.locator("#pq-add").click()
        expect(page.locator("#pq-library-status")).to_contain_text("✓", timeout=TIMEOUT_MS)
        expect(table).to_contain_text("广东省测试条例")
        row = table.get_by_role("row", name=re.compile("广东省测试条例"))
        expect(row).to_contain_text("无英文译文")  # Chinese-only documents are marked
        assert (settings.store_dir.parent / "uploads" / upload.name).exists()  # kept beside the store, same name
        picker = page.locator("#pq-doc-picker")
        page.get_by_role("tab", name="问答 · Chat").click()
        page.locator("#pq-settings").get_by_text("设置 · Settings").click()
        expect(picker).to_contain_text("广东省测试条例")  # the picker offers the new document, selected
        reply = ask(page, "无人机物流配送企业应当履行哪些义务？", expect="测试条例")
        answered(page, 1)
        expect(reply.locator("a.pq-cite").first).to_contain_text("测试条例")
        expect(reply).to_contain_text("备案")
        page.get_by_role("tab", name="原文 · Document").click()  # the Document tab lists the upload too
        switch = page.locator("#pq-doc-switch")
        expect(switch.locator("option", has_text="广东省测试条例")).to_have_count(1)
        switch.select_option(label="广东省测试条例")
        expect(page.locator("#pq-document .pq-doc:not([hidden])")).to_contain_text("从事无人机物流配送的企业")
    finally:
        page.context.close()


@pytest.mark.parametrize("name,content", [("random.docx", os.urandom(2048)),
                                          ("empty.pdf", b"%PDF-1.4\n%%EOF\n")])
def test_library_bad_upload_is_refused_and_changes_nothing(browser: Any, library_app: tuple[str, Any],
                                                           tmp_path: Path, name: str, content: bytes) -> None:
    from playwright.sync_api import expect

    from rag import stored_documents

    url, settings = library_app
    before = stored_documents(settings)
    bad = tmp_path / name
    bad.write_bytes(content)
    page = _open_library(browser, url)
    try:
        table_before = page.locator("#pq-library-table").inner_text()
        page.locator("#pq-upload input[type='file']").set_input_files(str(bad))
        expect(page.locator("#pq-upload-preview .pq-error")).to_be_visible()
        expect(page.locator("#pq-add")).to_be_hidden()
        assert page.locator("#pq-library-table").inner_text() == table_before
        assert stored_documents(settings) == before
        assert not (settings.store_dir.parent / "uploads" / name).exists()
    finally:
        page.context.close()


def test_library_delete_asks_for_confirmation(browser: Any, library_app: tuple[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from rag import ingest, stored_documents

    url, settings = library_app
    doomed = tmp_path / "广东省待删除条例.md"
    doomed.write_text("# 广东省待删除条例\n\n第一条 本条例规定海上风电运维。\n\n第二条 本条例自公布之日起施行。\n",
                      encoding="utf-8")
    doc_id = ingest(settings, [doomed], progress=False)[0].doc_id
    others = [d for d in stored_documents(settings) if d.doc_id != doc_id]
    page = _open_library(browser, url)
    try:
        table = page.locator("#pq-library-table")
        expect(table).to_contain_text("广东省待删除条例")
        page.locator("#pq-delete-doc input").click()
        page.get_by_role("option", name="广东省待删除条例").click()
        page.locator("#pq-delete").click()
        expect(page.locator("#pq-delete-confirm")).to_be_visible()
        page.locator("#pq-delete-cancel").click()  # cancelling deletes nothing
        expect(page.locator("#pq-delete-confirm")).to_be_hidden()
        assert doc_id in {d.doc_id for d in stored_documents(settings)}
        page.locator("#pq-delete").click()
        page.locator("#pq-delete-confirm").click()
        expect(page.locator("#pq-library-status")).to_contain_text(doc_id)
        expect(table).not_to_contain_text("广东省待删除条例")
        assert [d for d in stored_documents(settings)] == others  # that document and nothing else
    finally:
        page.context.close()


def test_document_picker_limits_the_answer_to_the_chosen_documents(browser: Any, library_app: tuple[str, Any],
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """All documents selected → documents=None; removing one from the picker → only the others are searched."""
    from playwright.sync_api import expect

    import ui.app as app_module
    from rag import ingest

    url, settings = library_app
    ingest(settings, [_regulation_docx(tmp_path / "广东省测试条例.docx")], progress=False)
    real, seen = app_module.stream_answer, []

    def recording(question: str, **kwargs: Any) -> Iterator[Any]:  # the real chain; we only note the scope
        seen.append(kwargs.get("documents"))
        return real(question, **kwargs)

    monkeypatch.setattr(app_module, "stream_answer", recording)
    page = open_page(browser, url)
    try:
        page.locator("#pq-settings").get_by_text("设置 · Settings").click()
        picker = page.locator("#pq-doc-picker")
        expect(picker).to_contain_text("广东省测试条例")
        ask(page, "无人机物流配送企业应当履行哪些义务？", expect="测试条例")
        answered(page, 1)
        assert seen[-1] is None
        picker.locator(".token", has_text="广东省测试条例").locator(".token-remove").click()
        expect(picker).not_to_contain_text("广东省测试条例")
        reply = ask(page, "第八条讲了什么？", expect="[第八条]")
        answered(page, 2)
        assert seen[-1] == ["guangdong-high-quality-development-2023"]
        assert "测试条例" not in reply.inner_text()
    finally:
        page.context.close()
