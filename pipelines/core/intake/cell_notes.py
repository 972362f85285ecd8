"""What a cell's cached value hides: spreadsheet errors, merged cells and hyperlinks.

python-calamine gives each cell's cached value, which is not always what the partner
sees or means: an error cell (#DIV/0!, #N/A) reads as empty, so a required value would
be reported as missing and an optional one silently dropped; the covered cells of a
merged range read as empty too; and a link (``=HYPERLINK(url, "evidence")`` or a cell
hyperlink) reads as its display text, not its address. These notes are read from the
sheet's own XML (after the guard has bounded it), positioned the way calamine
positions cells, so the reader can report such a cell by what it is, or use the link.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from pipelines.core.intake.guard.container import column_number
from pipelines.core.intake.guard.xml_parts import elements, expat, parse_xml, xlsx_sheet_names

Position = tuple[int, int]  # 0-based (row, column), as calamine's grid

# HYPERLINK("address", ...) with a literal address: xlsx separates arguments with ',',
# ods with ';'. Any other HYPERLINK computes its address and cannot be read safely.
_LITERAL_LINK = re.compile(r'^\s*(?:of:)?=?\s*HYPERLINK\s*\(\s*"((?:[^"]|"")*)"\s*[,;)]', re.I)
_ANY_LINK = re.compile(r"HYPERLINK\s*\(", re.I)
_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


@dataclass
class SheetNotes:
    """Per sheet: error values, link addresses (None: computed) and merged ranges."""

    errors: dict[Position, str] = field(default_factory=dict)
    links: dict[Position, str | None] = field(default_factory=dict)
    merges: list[tuple[Position, Position]] = field(default_factory=list)


def _cell(ref: str) -> Position | None:
    match = _CELL.fullmatch(ref.strip())
    if not match:
        return None
    return int(match.group(2)) - 1, column_number(match.group(1)) - 1


def _range(ref: str) -> tuple[Position, Position] | None:
    first, _, last = ref.partition(":")
    start, end = _cell(first), _cell(last or first)
    return (start, end) if start and end else None


def _formula_link(formula: str) -> tuple[bool, str | None]:
    """Whether the formula is a link, and its literal address if it has one."""
    match = _LITERAL_LINK.match(formula)
    if match:
        return True, match.group(1).replace('""', '"')
    return bool(_ANY_LINK.search(formula)), None


def read_notes(data: bytes, sheets: list[str]) -> dict[str, SheetNotes]:
    """The notes of the named sheets of a workbook whose container the guard passed."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {info.filename.casefold(): info.filename for info in archive.infolist()}
        if "xl/workbook.xml" in parts:
            return _xlsx_notes(archive, parts, sheets)
        if "content.xml" in parts:
            return _OdsNotes(sheets).run(archive.read(parts["content.xml"]))
    return {}


def _read(archive: zipfile.ZipFile, parts: dict[str, str], key: str) -> bytes | None:
    name = parts.get(key.casefold())
    return archive.read(name) if name else None


def _xlsx_notes(
    archive: zipfile.ZipFile, parts: dict[str, str], sheets: list[str]
) -> dict[str, SheetNotes]:
    names = xlsx_sheet_names(
        _read(archive, parts, "xl/workbook.xml"),
        _read(archive, parts, "xl/_rels/workbook.xml.rels"),
    )
    notes = {}
    for part, name in names.items():
        if name not in sheets:
            continue
        xml = _read(archive, parts, part) or b""
        folder, _, file = part.rpartition("/")
        rels = _read(archive, parts, f"{folder}/_rels/{file}.rels")
        notes[name] = _XlsxSheetNotes(part).run(xml, rels)
    return notes


class _XlsxSheetNotes:
    """Errors, formula links, cell hyperlinks and merges of one worksheet part."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.notes = SheetNotes()
        self.row = self.column = 0
        self.cell_type: str | None = None
        self.text: list[str] | None = None
        self.value = self.formula = ""
        self.shared: dict[str, str] = {}  # shared formula index -> its master's text
        self.shared_index: str | None = None
        self.hyperlinks: list[dict[str, str]] = []

    def run(self, xml: bytes, rels: bytes | None) -> SheetNotes:
        if not re.search(rb"t=\"e\"|<(?:\w+:)?f[ >]|mergeCell|hyperlink", xml, re.I):
            return self.notes  # nothing to note: skip the XML parse
        parser = expat(self.part)
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._chars
        parse_xml(parser, self.part, [xml])
        self._cell_hyperlinks(rels)
        return self.notes

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "row" and "r" in attrs and attrs["r"].isdigit():
            self.row, self.column = int(attrs["r"]) - 1, 0
        elif local == "c":
            position = _cell(attrs["r"]) if "r" in attrs else None
            if position:
                self.row, self.column = position
            self.cell_type, self.value, self.formula = attrs.get("t"), "", ""
        elif local in ("v", "f"):
            self.text = []
            if local == "f":
                self.shared_index = attrs.get("si") if attrs.get("t") == "shared" else None
        elif local == "mergeCell" and (merge := _range(attrs.get("ref", ""))):
            self.notes.merges.append(merge)
        elif local == "hyperlink":
            self.hyperlinks.append(attrs)

    def _chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def _end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if local in ("v", "f") and self.text is not None:
            text, self.text = "".join(self.text), None
            if local == "v":
                self.value = text
            else:
                self.formula = text
                if self.shared_index is not None:
                    self.formula = self.shared.setdefault(self.shared_index, text) or text
        elif local == "c":
            here = (self.row, self.column)
            if self.cell_type == "e":
                self.notes.errors[here] = self.value
            is_link, address = _formula_link(self.formula)
            if is_link:
                self.notes.links[here] = address
            self.column += 1
        elif local == "row":
            self.row, self.column = self.row + 1, 0

    def _cell_hyperlinks(self, rels: bytes | None) -> None:
        """Cell hyperlinks (Insert > Link): the address is a relationship of the sheet."""
        targets = {}
        if rels:
            for rel in elements(rels, self.part + ".rels", "Relationship"):
                targets[rel.get("Id")] = rel.get("Target")
        for link in self.hyperlinks:
            span = _range(link.get("ref", ""))
            address = targets.get(link.get("r:id") or link.get("relationships:id"))
            if span is None or not address:
                continue
            (top, left), (bottom, right) = span
            for row in range(top, min(bottom, top + 1000) + 1):
                for column in range(left, min(right, left + 200) + 1):
                    self.notes.links.setdefault((row, column), address)


_TABLE_CELLS = ("table:table-cell", "table:covered-table-cell")


def _count(attrs: dict[str, str], key: str) -> int:
    """A repeat or span count; the guard has bounded the grid, so a bad one counts once."""
    text = attrs.get(key, "1")
    return int(text) if text.isdigit() and 0 < int(text) < 10**7 else 1


class _OdsNotes:
    """Errors, links and merges of the named sheets of an ods content.xml."""

    def __init__(self, sheets: list[str]) -> None:
        self.wanted = set(sheets)
        self.result: dict[str, SheetNotes] = {}
        self.notes: SheetNotes | None = None
        self.row = self.column = 0
        self.row_repeats = self.cell_repeats = 1
        self.depth = 0  # cell nesting: a cell may hold a sub-table
        self.error = False
        self.text: list[str] = []
        self.link: tuple[bool, str | None] = (False, None)

    def run(self, content: bytes) -> dict[str, SheetNotes]:
        if not re.search(rb"calcext:value-type=\"error\"|HYPERLINK|-spanned|xlink:href", content):
            return {}
        parser = expat("content.xml")
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._chars
        parse_xml(parser, "content.xml", [content])
        return self.result

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "table:table" and self.depth == 0:
            sheet = attrs.get("table:name", "")
            self.notes = (
                self.result.setdefault(sheet, SheetNotes()) if sheet in self.wanted else None
            )
            self.row = 0
        elif self.notes is None:
            return
        elif name == "table:table-row" and self.depth == 0:
            self.row_repeats = _count(attrs, "table:number-rows-repeated")
            self.column = 0
        elif name in _TABLE_CELLS:
            self.depth += 1
            if self.depth == 1:
                self._open_cell(attrs)
        elif self.depth == 1 and name == "text:a" and not self.link[0]:
            self.link = (bool(attrs.get("xlink:href")), attrs.get("xlink:href"))

    def _open_cell(self, attrs: dict[str, str]) -> None:
        self.cell_repeats = _count(attrs, "table:number-columns-repeated")
        self.error = attrs.get("calcext:value-type") == "error"
        self.text = []
        self.link = _formula_link(attrs.get("table:formula", ""))
        across = _count(attrs, "table:number-columns-spanned")
        down = _count(attrs, "table:number-rows-spanned")
        if self.notes is not None and (across > 1 or down > 1):
            start = (self.row, self.column)
            self.notes.merges.append((start, (self.row + down - 1, self.column + across - 1)))

    def _chars(self, data: str) -> None:
        if self.depth == 1:
            self.text.append(data)

    def _end(self, name: str) -> None:
        if self.notes is None:
            return
        if name in _TABLE_CELLS:
            self.depth -= 1
            if self.depth == 0:
                self._close_cell(self.notes)
        elif name == "table:table-row" and self.depth == 0:
            self.row += self.row_repeats
        elif name == "table:table" and self.depth == 0:
            self.notes = None

    def _close_cell(self, notes: SheetNotes) -> None:
        if self.error or self.link[0]:
            # Notes are copied into repeated cells only within the guard's column limit.
            for column in range(self.column, self.column + min(self.cell_repeats, 200)):
                if self.error:
                    notes.errors[(self.row, column)] = "".join(self.text).strip()
                if self.link[0]:
                    notes.links[(self.row, column)] = self.link[1]
        self.column += self.cell_repeats
