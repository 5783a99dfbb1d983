"""Text out of a person's files, page by page, with limits on size and work.

Originals are only read. Nothing extracted is written anywhere but the encrypted store (the
PDF and Word readers work in memory; no temp files). Every way a file can be unreadable
becomes a ``DocumentProblem`` that names what is wrong with that file, never its content.
"""

from __future__ import annotations

import codecs
import io
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from engine.errors import HearthError

# Bounds on untrusted input: a larger file is refused, not read.
MAX_TEXT_BYTES = 32 * 1024 * 1024
MAX_BINARY_BYTES = 256 * 1024 * 1024  # PDF and Word files
MAX_PAGES = 10_000
MAX_TEXT_CHARS = 20_000_000  # extracted from one file
MAX_DOCX_XML_BYTES = 200 * 1024 * 1024  # uncompressed; a zip bomb stops here

TEXT_SUFFIXES = frozenset(
    [
        ".txt",
        ".text",
        ".rst",
        ".org",
        ".tex",
        ".csv",
        ".tsv",
        ".json",
        ".yaml",
        ".yml",
        ".toml",
        ".ini",
        ".cfg",
        ".conf",
        ".log",
        ".srt",
    ]
)
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown"})
CODE_SUFFIXES = frozenset(
    [
        ".py",
        ".pyi",
        ".js",
        ".mjs",
        ".ts",
        ".tsx",
        ".jsx",
        ".c",
        ".h",
        ".cc",
        ".cpp",
        ".cxx",
        ".hpp",
        ".hh",
        ".rs",
        ".go",
        ".java",
        ".kt",
        ".kts",
        ".swift",
        ".rb",
        ".php",
        ".sh",
        ".bash",
        ".zsh",
        ".fish",
        ".ps1",
        ".sql",
        ".css",
        ".scss",
        ".less",
        ".lua",
        ".r",
        ".m",
        ".mm",
        ".cs",
        ".fs",
        ".scala",
        ".pl",
        ".pm",
        ".hs",
        ".ex",
        ".exs",
        ".erl",
        ".clj",
        ".dart",
        ".vue",
        ".svelte",
        ".xml",
        ".gradle",
        ".cmake",
        ".mk",
        ".zig",
        ".nim",
        ".jl",
    ]
)
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
KINDS = ("text", "markdown", "code", "html", "pdf", "docx", "unsupported")
# Document formats people keep that Hearth does not read yet: named in a folder's results
# (with what to do) rather than skipped silently like images and programs.
_OFFICE_UNREAD = {
    ".doc": "an old-format Word file",
    ".rtf": "a Rich Text file",
    ".odt": "an OpenDocument text file",
    ".pages": "a Pages document",
    ".epub": "an EPUB book",
}

log = logging.getLogger(__name__)
# pypdf reports damaged objects as warnings on its own logger; they say nothing the person
# can act on beyond our one message, and must not flood stderr.
logging.getLogger("pypdf").setLevel(logging.ERROR)


class DocumentProblem(HearthError):
    """One file could not be read; the others are indexed."""

    default_next_step = ""


@dataclass(frozen=True)
class Page:
    number: int  # 1-based for formats with pages; 0 for the others
    text: str


def kind_of(path: Path) -> str:
    """The reader for a file, from its name: one of ``KINDS``, or "" (decided by content)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return "pdf"
    if suffix == ".docx":
        return "docx"
    if suffix in _OFFICE_UNREAD:
        return "unsupported"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix in CODE_SUFFIXES:
        return "code"
    if suffix in TEXT_SUFFIXES:
        return "text"
    return ""


def readable(path: Path) -> bool:
    """Whether a folder walk should offer this file (known kind, or no suffix at all)."""
    return bool(kind_of(path)) or not path.suffix


def read_pages(path: Path, data: bytes) -> tuple[str, int, Iterator[Page]]:
    """(kind, page count, pages) of a file whose bytes are ``data``. Pages are produced one
    at a time so a long PDF can report progress and be cancelled between pages.

    Raises: DocumentProblem (and so may the iterator, part-way).
    """
    kind = kind_of(path) or "text"
    if kind == "unsupported":
        raise DocumentProblem(
            f"“{path.name}” is {_OFFICE_UNREAD[path.suffix.lower()]}, which Hearth does not "
            "read yet.",
            "Save it as .docx, PDF or plain text and add that.",
        )
    if kind == "pdf":
        return _pdf(path, data)
    if kind == "docx":
        return "docx", 0, iter([Page(0, _docx(path, data))])
    text = decode_text(path, data)
    if kind == "html":
        text = html_text(text)
    return kind, 0, iter([Page(0, text)])


def limit_for(path: Path) -> int:
    return MAX_BINARY_BYTES if kind_of(path) in ("pdf", "docx") else MAX_TEXT_BYTES


# -- plain text ---------------------------------------------------------------------------


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 (with or without a BOM), UTF-16 with a BOM, else Windows-1252. A file with NUL
    bytes and no UTF-16 mark is binary. Raises: DocumentProblem."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _checked(path, data.decode("utf-16"))
        except UnicodeDecodeError:
            raise _binary(path) from None
    if b"\x00" in data[:65536]:
        raise _binary(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return _checked(path, text)


def _checked(path: Path, text: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise DocumentProblem(
            f"“{path.name}” holds more than {MAX_TEXT_CHARS:,} characters of text.",
            "Split it into smaller files.",
        )
    return text


def _binary(path: Path) -> DocumentProblem:
    return DocumentProblem(
        f"“{path.name}” is not a text document (it looks like a program, an image or "
        "another binary file).",
        "Hearth reads text, Markdown, code, HTML, PDF and Word (.docx) files.",
    )


# -- HTML ---------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "pre",
        "blockquote",
        "dt",
        "dd",
        "hr",
        "title",
    ]
)
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.title: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        elif tag in _SKIPPED_TAGS:
            self.skipping += 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in _SKIPPED_TAGS and self.skipping:
            self.skipping -= 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.skipping:
            self.parts.append(data)


def html_text(markup: str) -> str:
    """The readable text of an HTML page: title first, scripts and styles left out."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    title = " ".join("".join(collector.title).split())
    paragraphs = [" ".join(p.split()) for p in "".join(collector.parts).split("\n\n")]
    body = "\n\n".join(p for p in paragraphs if p)
    return f"{title}\n\n{body}" if title else body


# -- PDF ----------------------------------------------------------------------------------


def _pdf(path: Path, data: bytes) -> tuple[str, int, Iterator[Page]]:
    import pypdf  # noqa: PLC0415 - only when a PDF is indexed
    from pypdf.errors import PdfReadError  # noqa: PLC0415

    damaged = DocumentProblem(
        f"“{path.name}” is not a readable PDF (the file is damaged or not really a PDF).",
        "Open it in a PDF viewer and save a new copy, then add that.",
    )
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentProblem(
                f"“{path.name}” is protected with a password.",
                "Save a copy without the password (in a PDF viewer) and add that.",
            )
        count = len(reader.pages)
    except DocumentProblem:
        raise
    except Exception as exc:  # pypdf raises many types on damaged input
        if "cryptography" in str(exc).lower() or "AES" in str(exc):
            raise DocumentProblem(
                f"“{path.name}” is encrypted in a way Hearth cannot open.",
                "Save a copy without protection (in a PDF viewer) and add that.",
            ) from None
        raise damaged from None
    if count > MAX_PAGES:
        raise DocumentProblem(
            f"“{path.name}” has {count:,} pages; Hearth reads at most {MAX_PAGES:,}.",
            "Split it into smaller files.",
        )

    def pages() -> Iterator[Page]:
        total = 0
        found_text = False
        for number in range(1, count + 1):
            try:
                text = reader.pages[number - 1].extract_text() or ""
            except (PdfReadError, ValueError, KeyError, TypeError, AttributeError):
                log.info("a PDF page could not be read: skipped")
                text = ""
            except RecursionError:
                raise damaged from None
            total += len(text)
            if total > MAX_TEXT_CHARS:
                raise _checked_error(path)
            found_text = found_text or bool(text.strip())
            yield Page(number, text)
        if not found_text:
            raise DocumentProblem(
                f"“{path.name}” has no text layer: it looks like a scanned document.",
                "Hearth does not read text from images. Run it through OCR first "
                "(many scanners and PDF tools can), then add the result.",
            )

    return "pdf", count, pages()


def _checked_error(path: Path) -> DocumentProblem:
    return DocumentProblem(
        f"“{path.name}” holds more than {MAX_TEXT_CHARS:,} characters of text.",
        "Split it into smaller files.",
    )


# -- Word ---------------------------------------------------------------------------------


def _docx(path: Path, data: bytes) -> str:
    damaged = DocumentProblem(
        f"“{path.name}” is not a readable Word document (damaged, or an older .doc file renamed).",
        "Open it in a word processor and save it again as .docx, then add that.",
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_DOCX_XML_BYTES:
                raise _checked_error(path)
    except zipfile.BadZipFile:
        if data.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE container: encrypted, or real .doc
            raise DocumentProblem(
                f"“{path.name}” is password-protected or an old-format Word file.",
                "Save a copy as an unprotected .docx and add that.",
            ) from None
        raise damaged from None
    import docx  # noqa: PLC0415 - only when a Word file is indexed

    try:
        document = docx.Document(io.BytesIO(data))
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                parts.append(" | ".join(cell.text for cell in row.cells))
    except Exception:  # python-docx and lxml raise many types on damaged input
        raise damaged from None
    return _checked(path, "\n\n".join(p for p in parts if p.strip()))
