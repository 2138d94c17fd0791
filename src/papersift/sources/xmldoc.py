"""Reading arXiv's XML documents exactly as arXiv wrote them.

arXiv's RSS and API formats are fixed XML whose text is plain text, so they are read
with the standard library's parser (through defusedxml, which refuses the DTDs and
entity tricks arXiv never sends). A general feed library treats an RSS description as
HTML and "sanitises" it: it dropped ``<EOS>`` from "(e.g., <EOS>)" and showed ``Q&A`` as
``Q&amp;A``. Here the text a reader sees is arXiv's text.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from papersift.errors import SourceError
from papersift.text import clean_text

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "dc": "http://purl.org/dc/elements/1.1/",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}


def parse_xml(document: bytes | str, where: str) -> Element:
    """The document's root element; ``SourceError`` naming ``where`` if it is not XML."""
    try:
        return SafeET.fromstring(document, forbid_dtd=True)
    except ParseError as exc:
        raise SourceError(f"{where}: not a valid XML document ({exc})") from None
    except DefusedXmlException as exc:
        raise SourceError(f"{where}: refused: the document declares a DTD or entities "
                          f"({type(exc).__name__})") from None


def text_at(element: Element, path: str) -> str:
    """The cleaned text of the first ``path`` below ``element`` ('' when absent)."""
    return clean_text(element.findtext(path, "", NS) or "")


def day_of(value: str | None) -> dt.date | None:
    """The calendar day of an RFC 822 date as written (arXiv writes US Eastern time)."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value.strip()).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
