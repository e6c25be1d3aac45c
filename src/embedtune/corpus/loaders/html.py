"""HTML files: visible text as Markdown, so headings stay cut points for the splitter.

Scripts, styles and navigation are dropped; ``<h1>``-``<h6>`` become ``#`` headings, blocks become
paragraphs and list items ``- `` lines. The title is ``<title>``, else the first ``<h1>``.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString

from embedtune.corpus.config import IngestConfig
from embedtune.corpus.decoding import read_text
from embedtune.corpus.document import Document, Loaded, SourceFile
from embedtune.corpus.skips import NO_TEXT, Skipped

_DROP = ["script", "style", "nav", "noscript", "template", "svg", "iframe", "head"]
_HEADING = re.compile(r"^h([1-6])$")
_BLOCKS = [
    "p", "div", "section", "article", "main", "aside", "header", "footer", "blockquote", "pre", "table",
    "tr", "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "address", "hr", "details", "summary",
]


def html_to_markdown(html: str) -> tuple[str, str]:
    """``(title, text)`` of an HTML page, the text in light Markdown."""
    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(_DROP):
        tag.decompose()
    # Collapse source formatting whitespace as a browser would, except inside <pre>.
    for s in soup.find_all(string=True):
        if type(s) is NavigableString and s.find_parent("pre") is None:
            s.replace_with(re.sub(r"\s+", " ", s))
    for h in soup.find_all(_HEADING):
        if not title and h.name == "h1":
            title = h.get_text(" ", strip=True)
        h.insert_before("\n\n" + "#" * int(h.name[1]) + " ")
        h.insert_after("\n\n")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for li in soup.find_all("li"):
        li.insert_before("\n- ")
    for block in soup.find_all(_BLOCKS):
        block.insert_before("\n\n")
        block.insert_after("\n\n")
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after(" ")
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", soup.get_text())
    text = re.sub(r"[ \t]{2,}", " ", text)
    return title, re.sub(r"\n{3,}", "\n\n", text).strip()


def load_html(file: SourceFile, config: IngestConfig) -> Loaded:
    html, encoding = read_text(file.path, config.encoding)
    title, text = html_to_markdown(html)
    if not text:
        raise Skipped(file.path, NO_TEXT, "nothing left after removing markup")
    doc = Document(file.doc_id, text, file.source, title=title, markdown=True)
    return Loaded([doc], encoding=None if encoding == "utf-8" else encoding)
