"""README screenshots (`make screenshots`): the offline app in Debian's chromium, written to docs/*.png.

Not a test (pytest never runs it), so `make test` leaves the committed screenshots alone.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.conftest import DATA, serve_app
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, QUESTION, answered, ask

ZH = ["广东在集成电路和新能源汽车产业方面有什么部署？", "这一条还提到了哪些传统产业？"]
EN = ["How will Guangdong build modern industrial clusters?", "Which traditional industries does it mention?"]


def _page(browser: Any, url: str, width: int, height: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", device_scale_factor=1)
    context.set_default_timeout(90_000)
    page = context.new_page()
    page.goto(url)
    page.locator(QUESTION).wait_for()
    return page


def _conversation(page: Any, questions: list[str], expect: str) -> None:
    for n, question in enumerate(questions, 1):
        ask(page, question, expect=expect)
        answered(page, n)
    page.wait_for_timeout(500)


def _shot(page: Any, path: Path, *, top: bool = True) -> Path:
    if top:
        page.evaluate("window.scrollTo(0, 0)")  # the header in view; inner panels keep their own scroll
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    return path


def take(out: Path) -> list[Path]:
    """Write ui-zh.png, ui-en.png, ui-document.png, ui-phone.png and ui-library.png into `out`; return their
    paths."""
    from playwright.sync_api import sync_playwright

    from rag import ingest, load_settings

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="policyqa-shots-") as tmp:
        # The featured document alone: the pictures show the chat (with the library, citations also name documents).
        settings = load_settings(env={}, store_dir=Path(tmp) / "store", backend="extractive",
                                 feedback_file=Path(tmp) / "feedback.jsonl", data_files=(DATA,))
        ingest(settings, progress=False)
        with serve_app(settings) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = _page(browser, url, 1440, 900)
                _conversation(page, ZH, "[第")
                written.append(_shot(page, out / "ui-zh.png"))

                page.locator("#pq-turn-1 a.pq-cite").first.click()  # the first answer's sources, then its article
                page.locator("#pq-grp-1 a.pq-context").first.click()
                page.locator("#pq-document mark.pq-cited").first.wait_for()
                page.wait_for_timeout(600)
                written.append(_shot(page, out / "ui-document.png"))
                page.context.close()

                page = _page(browser, url, 1440, 900)
                page.locator("#pq-language").get_by_label("English").check()
                _conversation(page, EN, "[Art.")
                written.append(_shot(page, out / "ui-en.png"))
                page.context.close()

                page = _page(browser, url, 390, 844)
                _conversation(page, ZH[:1], "[第")
                page.locator("#pq-turn-1 a.pq-cite").first.click()
                page.locator("#msrc-1-A8").wait_for()
                page.wait_for_timeout(600)
                page.locator("#pq-turn-1").scroll_into_view_if_needed()
                written.append(_shot(page, out / "ui-phone.png", top=False))
                page.context.close()
            finally:
                browser.close()
        # The Library tab over the bundled library: the featured document and the six regulations.
        library = settings.with_overrides(store_dir=Path(tmp) / "library",
                                          data_files=(DATA, *sorted((DATA.parent / "library").glob("*.md"))))
        ingest(library, progress=False)
        with serve_app(library) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = _page(browser, url, 1440, 900)
                page.get_by_role("tab", name="文件库 · Library").click()
                page.locator("#pq-library-table").wait_for()
                page.wait_for_timeout(600)
                written.append(_shot(page, out / "ui-library.png"))
                page.context.close()
            finally:
                browser.close()
    return written


if __name__ == "__main__":
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(path)
