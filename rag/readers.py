"""Read a document file of any supported format into plain text lines the parser understands.

Every reader returns text in the convention of the library's Markdown files: an optional `# 标题` line and
date line, then `<!-- INFO END -->` when the reader knows where the header ends, then one paragraph per line.
The parser then has one set of rules for every format. Libraries do the format work (python-docx, pypdf,
trafilatura); each reader only maps their output onto lines.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from rag.errors import DocumentError

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # a regulation is ~40 KB; 10 MB is far beyond any real policy text
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".docx", ".pdf", ".html", ".htm")
HEADER_END = "<!-- INFO END -->"
_CJK = r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]"  # ideographs and full-width punctuation
_CJK_SPACE = re.compile(rf"(?<={_CJK[:-1]}0-9]) +(?={_CJK[:-1]}0-9])")  # between CJK characters or digits
_PAGE_DATE = re.compile(r"(?:发布|成文|印发)(?:时间|日期)[:：]\s*(\d{4}[-年./]\d{1,2}[-月./]\d{1,2})")
_TITLE_SEPARATOR = re.compile(r"[_|｜]|\s[-—–]\s")
_PAGE_NUMBER = re.compile(r"^[-—–\s]*(?:\d+|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?)[-—–\s]*$")


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def read_document_text(path: Path, max_bytes: int = MAX_DOCUMENT_BYTES) -> str:
    """The text of a document file; DocumentError (exit 3) if missing, too big, unsupported or unreadable."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{path}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}",
            f"{path}：不支持的文件类型 {suffix or '（无扩展名）'}，支持 {'、'.join(SUPPORTED_SUFFIXES)}",
        )
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(
                f"{path} is {_mb(size)}, over the {_mb(max_bytes)} limit for one document",
                f"{path} 大小为 {_mb(size)}，超过单个文档 {_mb(max_bytes)} 的上限",
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(f"document not found: {path}", f"找不到文档：{path}") from None
    except IsADirectoryError:
        raise DocumentError(f"{path} is a directory, not a document", f"{path} 是目录，不是文档") from None
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror}", f"无法读取 {path}：{exc.strerror}") from None
    if suffix == ".docx":
        return _read_docx(raw, path)
    if suffix == ".pdf":
        return _read_pdf(raw, path)
    if suffix in (".html", ".htm"):
        return _read_html(raw, path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError(f"{path} is not UTF-8 text", f"{path} 不是 UTF-8 文本") from None


def _unreadable(path: Path, kind: str, exc: Exception) -> DocumentError:
    return DocumentError(f"{path} is not a readable {kind} file ({type(exc).__name__})",
                         f"{path} 不是可读取的 {kind} 文件（{type(exc).__name__}）")


def _read_docx(raw: bytes, path: Path) -> str:
    """Paragraphs and table cells in reading order; a paragraph styled Title becomes the `# 标题` line."""
    import docx  # python-docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises zipfile, KeyError or its own errors on a broken package
        raise _unreadable(path, ".docx", exc) from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(cell.text for row in block.rows for cell in row.cells)
            continue
        style = (block.style.name if block.style is not None else "") or ""
        text = block.text.strip()
        lines.append(f"# {text}" if style == "Title" and text else block.text)
    return "\n".join(lines)


def _read_pdf(raw: bytes, path: Path) -> str:
    """The text layer of every page (pypdf), without page-number lines; a PDF without text is an error."""
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{path} is password-protected", f"{path} 受密码保护，无法读取")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise _unreadable(path, ".pdf", exc) from None
    lines = [despace_cjk(ln) for page in pages for ln in page.split("\n") if not _PAGE_NUMBER.match(ln)]
    if not any(ln.strip() for ln in lines):
        raise DocumentError(f"{path} has no text layer (a scanned image?); OCR is not supported",
                            f"{path} 没有可提取的文字（可能是扫描件），暂不支持 OCR")
    return "\n".join(lines)


def despace_cjk(line: str) -> str:
    """Undo letter-spaced extraction (第 一 条 为 了 → 第一条为了), which some PDFs' glyph widths cause.

    Only when most CJK characters in the line are followed by a space; a normal line keeps its spaces.
    """
    cjk = len(re.findall(_CJK, line))
    spaced = len(re.findall(rf"{_CJK} ", line))
    return _CJK_SPACE.sub("", line) if cjk >= 4 and spaced * 2 >= cjk else line


def _read_html(raw: bytes, path: Path) -> str:
    """The main text of a saved web page (trafilatura drops navigation, footers and link lists)."""
    import trafilatura

    tree = trafilatura.load_html(raw)  # detects the page's encoding (GBK pages are common on government sites)
    if tree is None:
        raise DocumentError(f"{path} is not a readable HTML page", f"{path} 不是可读取的 HTML 网页")
    body = trafilatura.extract(tree, include_comments=False, include_tables=True, deduplicate=False) or ""
    if not body.strip():
        raise DocumentError(f"{path}: no main text found in the page", f"{path}：网页中找不到正文")
    # Dates only from the page's markup or a 发布时间： line: htmldate's extensive search would guess from any year.
    meta = trafilatura.extract_metadata(tree, date_config={"extensive_search": False, "original_date": True})
    # A <title> joined with the site name is kept whole (the parser picks the document's part of it); trafilatura
    # would keep whichever part comes first, often the site's name.
    page_title = " ".join((tree.findtext(".//title") or "").split())
    title = page_title if _TITLE_SEPARATOR.search(page_title) else (meta.title if meta is not None else "") or page_title
    header = [f"# {title}"] if title else []
    if meta is not None and meta.date:
        header.append(f"发布日期：{meta.date}")
    elif m := _PAGE_DATE.search(tree.text_content()):
        header.append(f"发布日期：{m.group(1)}")
    return "\n".join([*header, HEADER_END, body])
