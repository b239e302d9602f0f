"""The PDF reader: attached documents, read page by page with pypdf."""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from typing import TYPE_CHECKING

from ..model import Document, ParseError, Section
from . import Reader
from .common import fold

if TYPE_CHECKING:
    from pypdf import PageObject

# pypdf reports a damaged file on its logger ("EOF marker not found") and then either recovers or
# raises; a failure reaches the user as one ParseError line, so its own messages would only be noise
# printed ahead of that line (the setting pypdf documents for silencing them).
logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)


class Pdf(Reader):
    """PDF documents (attachments are often PDFs): one section per page ("Page 1", "Page 2" ...) with its
    text, the page count, and the title from the document's metadata, else its first line of text.

    A PDF whose pages hold no text (a scan) is hashed on its bytes, so a new scan still shows as a change.
    """

    __kind__ = "pdf"
    priority = 10

    @classmethod
    def detects(cls, body: bytes, url: str, content_type: str) -> bool:
        return body[:1024].lstrip().startswith(b"%PDF-") or "application/pdf" in content_type.lower()

    def read(self, body: bytes, url: str, content_type: str, *, selector: str | None = None) -> Document:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reader = PdfReader(io.BytesIO(body))
                texts = [_page_text(page) for page in reader.pages]
                stated = reader.metadata.get("/Title") if reader.metadata else None
                metadata_title = fold(stated if isinstance(stated, str) else "")
        except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
            raise ParseError(f"not a readable PDF: {exc}") from None
        if not texts:
            raise ParseError("the PDF has no pages")
        first_line = next((line for text in texts for line in text.splitlines() if line), "")
        doc = Document(
            url=url,
            title=metadata_title or first_line or url.rsplit("/", 1)[-1],
            page_type="pdf",
            sections=[Section(f"Page {number}", 2, text) for number, text in enumerate(texts, start=1)],
            page_count=len(texts),
        )
        if not any(texts):
            doc.content_hash = hashlib.sha256(body).hexdigest()
        return doc


def _page_text(page: PageObject) -> str:
    lines = (fold(line) for line in (page.extract_text() or "").splitlines())
    return "\n".join(line for line in lines if line)
