"""The web UI in a real browser: Debian's chromium driven by Playwright against the app on loopback.

Writes the screenshots docs/ui-zh.png and docs/ui-en.png. Fails (never skips) when chromium is missing:
`make test` installs it (apt-get install chromium fonts-noto-cjk).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, serve_app

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEWPORT = {"width": 1400, "height": 1000}
TIMEOUT_MS = 60_000

QUESTION = "#pq-question textarea"
BOT = "#pq-chat [data-testid='bot']"
USER = "#pq-chat [data-testid='user']"


@pytest.fixture(scope="module")
def app_url(store_dir: Path) -> Iterator[str]:
    """The offline app over the session's ingested temp store, on a free loopback port."""
    from rag import load_settings

    # the featured document alone, as the session store holds (the default configuration is the whole library)
    with serve_app(load_settings(env={}, store_dir=store_dir, backend="extractive", data_files=(DATA,))) as url:
        yield url


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


@pytest.fixture()
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """A fresh browser context (its own Gradio session) with the app loaded."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(app_url)
    page.locator(QUESTION).wait_for()
    try:
        yield page
    finally:
        context.close()


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
    return reply


def wait_idle(page: Any) -> None:
    """Wait until the streamed answer is final: its citation links and source cards are rendered."""
    page.locator("#pq-chat .pq-cite").last.wait_for()
    page.locator("#pq-sources .pq-card mark").first.wait_for()
    page.mouse.move(0, 0)  # no hover highlight in screenshots
    page.wait_for_timeout(400)  # let the layout settle before a screenshot


def test_chinese_exchange(page: Any) -> None:
    from playwright.sync_api import expect

    reply = ask(page, "广东在集成电路和新能源汽车产业方面有什么部署？", expect="[第")
    wait_idle(page)
    expect(reply).to_contain_text("[第八条]")
    card = page.locator("#pq-sources #src-A8")
    expect(card).to_be_visible()
    expect(card.locator("mark").first).to_contain_text("集成电路")
    expect(card.locator(".pq-en mark").first).to_contain_text("integrated circuits")
    # The citation marker links to its card.
    link = reply.locator("a.pq-cite").first
    assert link.get_attribute("href") == "#src-A8"
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "ui-zh.png"), full_page=True)


def test_english_exchange(page: Any) -> None:
    from playwright.sync_api import expect

    page.locator("#pq-language").get_by_label("English").check()
    reply = ask(page, "How will Guangdong build modern industrial clusters?", expect="[Art.", click_send=True)
    wait_idle(page)
    expect(reply).to_contain_text("[Art. 8]")
    assert "[第" not in reply.inner_text()
    expect(page.locator("#pq-sources .pq-sources-head")).to_contain_text("Sources")
    expect(page.locator("#pq-sources #src-A8 .pq-en mark").first).to_be_visible()
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "ui-en.png"), full_page=True)


def test_citation_leads_to_the_document(page: Any) -> None:
    from playwright.sync_api import expect

    ask(page, "第八条讲了什么？", expect="[第八条]")
    wait_idle(page)
    page.locator("#pq-sources #src-A8 a[data-doc-unit]").click()
    expect(page.get_by_role("tab", name="原文 · Document")).to_have_attribute("aria-selected", "true")
    target = page.locator("#pq-document #doc-A8")
    expect(target).to_be_in_viewport()
    expect(target).to_contain_text("建设现代化产业集群")
    expect(target).to_contain_text("Build modern industrial clusters")
    expect(page.locator("#pq-document .pq-toc a[href='#doc-A33']")).to_have_count(1)


def test_errors_show_in_the_chat_and_the_app_keeps_working(page: Any) -> None:
    from playwright.sync_api import expect

    ask(page, "   ", expect="问题为空")
    error = page.locator(f"{BOT} .pq-error").last
    expect(error).to_be_visible()
    assert "Traceback" not in error.inner_text()
    ask(page, "第八条讲了什么？", expect="[第八条]")
    ask(page, "chips " * 600, expect="too long")  # an English question gets an English message
    ask(page, "这一条还提到了哪些传统产业？", expect="[第八条]")  # the follow-up still sees the history


def test_new_conversation_clears_everything(page: Any) -> None:
    from playwright.sync_api import expect

    ask(page, "第八条讲了什么？", expect="[第八条]")
    wait_idle(page)
    page.locator("#pq-new").click()
    expect(page.locator(BOT)).to_have_count(0)
    expect(page.locator(USER)).to_have_count(0)
    expect(page.locator("#pq-sources .pq-card")).to_have_count(0)


def test_sessions_do_not_share_history(browser: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    try:
        pages = []
        for context in contexts:
            context.set_default_timeout(TIMEOUT_MS)
            p = context.new_page()
            p.goto(app_url)
            p.locator(QUESTION).wait_for()
            pages.append(p)
        a, b = pages
        # Submit both before waiting for either, so the two sessions are served at the same time.
        a.locator(QUESTION).fill("第八条讲了什么？")
        b.locator(QUESTION).fill("How will Guangdong build modern industrial clusters?")
        a.locator(QUESTION).press("Enter")
        b.locator(QUESTION).press("Enter")
        expect(a.locator(BOT).last).to_contain_text("[第八条]")
        expect(b.locator(BOT).last).to_contain_text("[Art. 8]")
        ask(a, "到2027年广东高质量发展要达到哪些目标？", expect="[第")
        expect(a.locator(USER)).to_have_count(2)
        expect(b.locator(USER)).to_have_count(1)
        assert "第八条讲了什么" not in b.locator("#pq-chat").inner_text()
        assert "modern industrial clusters?" not in a.locator("#pq-chat").inner_text()
        # A reload starts a new session: nothing carried over.
        b.reload()
        b.locator(QUESTION).wait_for()
        expect(b.locator(USER)).to_have_count(0)
    finally:
        for context in contexts:
            context.close()


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
