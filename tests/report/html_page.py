"""A small reader of the report's HTML (stdlib html.parser): images, sections, tables, text."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path


@dataclass
class Table:
    """One <table>: its id, classes, header rows and body rows (cell text and attributes)."""

    id: str | None
    classes: str
    header: list[list[str]] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    row_attrs: list[list[dict[str, str]]] = field(default_factory=list)


_BLOCKS = {"p", "div", "dt", "dd", "td", "th", "tr", "h1", "h2", "h3", "section", "br", "li"}
"""Elements whose boundaries separate words in :attr:`ReportParser.text`."""


class ReportParser(HTMLParser):
    """Collects what the tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str]] = []
        self.section_ids: list[str] = []
        self.tables: list[Table] = []
        self.script_count = 0
        self.text_parts: list[str] = []
        self.h1 = ""
        self._stack: list[str] = []
        self._cell: list[str] | None = None
        self._cell_attrs: dict[str, str] = {}
        self._row: list[str] | None = None
        self._row_attrs: list[dict[str, str]] = []
        self._in_head = False
        self._skip = 0
        self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        if tag in _BLOCKS:
            self.text_parts.append(" ")
        if tag == "img":
            self.images.append(attributes)
        elif tag == "section" and "id" in attributes:
            self.section_ids.append(attributes["id"])
        elif tag == "table":
            self.tables.append(Table(attributes.get("id"), attributes.get("class", "")))
        elif tag == "thead":
            self._in_head = True
        elif tag == "tbody":
            self._in_head = False
        elif tag == "tr":
            self._row, self._row_attrs = [], []
        elif tag in ("td", "th"):
            self._cell, self._cell_attrs = [], attributes
        elif tag in ("script", "style", "title"):
            self._skip += 1
            self.script_count += tag == "script"
        elif tag == "h1":
            self._in_h1 = True
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in _BLOCKS:
            self.text_parts.append(" ")
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._row_attrs.append(self._cell_attrs)
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            table = self.tables[-1]
            if self._in_head:
                table.header.append(self._row)
            else:
                table.rows.append(self._row)
                table.row_attrs.append(self._row_attrs)
            self._row = None
        elif tag in ("script", "style", "title"):
            self._skip -= 1
        elif tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._skip:
            return
        self.text_parts.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._in_h1:
            self.h1 += data

    @property
    def text(self) -> str:
        """All visible text (scripts and styles left out)."""
        return " ".join("".join(self.text_parts).split())

    def table(self, table_id: str) -> Table:
        """The table with this id."""
        (found,) = [t for t in self.tables if t.id == table_id]
        return found


def parse_report(index: Path) -> ReportParser:
    """Parse a written index.html."""
    parser = ReportParser()
    parser.feed(index.read_text(encoding="utf-8"))
    parser.close()
    return parser


def png_size(path: Path) -> tuple[int, int]:
    """Width and height in pixels from a PNG's IHDR chunk (raises if not a PNG)."""
    data = path.read_bytes()[:24]
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    return struct.unpack(">II", data[16:24])
