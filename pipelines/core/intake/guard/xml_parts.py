"""The guard's second stage for xlsx: what the parser would build from each sheet part.

A cell written at XFD1048576 makes the parser allocate the whole rectangle up to it,
and one long shared string is copied into every cell that uses it. These scans bound
the cell grid of every sheet and the text it expands to, mirroring how
python-calamine 0.9 lays cells out: a cell sits at its ``r`` attribute (the last one
if repeated) or after the previous cell, and copies its shared string. A fast scan
counts byte patterns when it can vouch for them; otherwise an exact scan with a real
XML parser decides. The XML helpers here serve the ods scan and the cell notes too.
"""

from __future__ import annotations

import pyexpat
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat

from pipelines.core.intake.guard.container import (
    Limits,
    MiB,
    check_dimension,
    check_extent,
    column_number,
    damaged,
)


def expat(part: str) -> pyexpat.XMLParserType:
    """A strict XML parser that refuses document type declarations (entity tricks)."""
    parser = pyexpat.ParserCreate()
    parser.buffer_text = True

    def refuse(*_: object) -> None:
        raise damaged(part, "it contains a document type declaration")

    parser.StartDoctypeDeclHandler = refuse
    return parser


def parse_xml(parser: pyexpat.XMLParserType, part: str, chunks: Iterable[bytes]) -> None:
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except pyexpat.ExpatError as exc:
        raise damaged(part, f"not valid XML: {pyexpat.ErrorString(exc.code)}") from exc


def elements(data: bytes, part: str, local_name: str) -> list[dict[str, str]]:
    """Attributes of every element with this local name in a small XML part."""
    found: list[dict[str, str]] = []
    parser = expat(part)

    def start(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == local_name:
            found.append(attrs)

    parser.StartElementHandler = start
    parse_xml(parser, part, [data])
    return found


def xlsx_sheet_names(workbook_xml: bytes | None, rels_xml: bytes | None) -> dict[str, str]:
    """Worksheet part (case-folded path) -> sheet name, resolved the way calamine does."""
    if not workbook_xml or not rels_xml:
        return {}
    rels = elements(rels_xml, "xl/_rels/workbook.xml.rels", "Relationship")
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    names: dict[str, str] = {}
    for sheet in elements(workbook_xml, "xl/workbook.xml", "sheet"):
        target = targets.get(sheet.get("r:id") or sheet.get("relationships:id"))
        if target and "name" in sheet:
            if target.startswith("/xl/"):
                target = target[1:]
            elif not target.startswith("xl/"):
                target = "xl/" + target
            names[target.casefold()] = sheet["name"]
    return names


# The fast scan of a worksheet part counts raw byte patterns; it vouches for the cell
# grid only when every '<c' that may open a cell is exactly '<c r="A1"' and no other r
# attribute exists than those and the rows' own (calamine takes the last of repeated r
# attributes, and accepts 't="s"r="B2"'). Otherwise the exact scan decides.
_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"')
_LONGER_NAME = re.compile(rb"<c[^ \t\r\n/>]")  # <col>, <cfRule>... never a cell
_TIGHT_R = (b" r=", b"\tr=", b"\nr=", b"\rr=", b'"r=', b"'r=")
_LOOSE_R = re.compile(rb"r[ \t\r\n]+=")  # r = "A1"
_PREFIXED_CELL = re.compile(rb":[cv][ \t\r\n/>]")  # <x:c>, <x:v>
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = b"0123456789"
_DIMENSION = re.compile(rb'<(?:[^\s<>/:]+:)?dimension\s[^<>]*?\bref\s*=\s*"([^"<>]*)"')
_MAX_TAIL = 1 * MiB
# Error cells, formulas, merged ranges and links (xlsx and ods): a part without any of
# them needs no second look by pipelines.core.intake.cell_notes. Plain substrings: searching
# for each is far faster than one regular expression with alternatives.
_XLSX_MARKS = (b't="e"', b"<f>", b"<f ", b":f>", b":f ", b"mergeCell", b"hyperlink")


def has_note_marks(content: bytes, marks: tuple[bytes, ...] = _XLSX_MARKS) -> bool:
    """Whether XML content may hold what a cell's value hides."""
    return any(mark in content for mark in marks)


class _Pieces:
    """A byte stream re-cut just before its last '<', so that no tag is split in two.

    Every pattern the fast scan counts has no '<' but its first byte, so none of them
    can straddle two pieces. A stretch longer than 1 MiB without any '<' never occurs
    in a genuine workbook: it is cut anywhere and ``split`` records it.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = chunks
        self.split = False

    def __iter__(self) -> Iterator[bytes]:
        tail = b""
        for chunk in self.chunks:
            buffer = tail + chunk
            cut = max(buffer.rfind(b"<"), 0)
            tail = buffer[cut:]
            if len(tail) > _MAX_TAIL:
                self.split, tail, cut = True, b"", len(buffer)
            if cut:
                yield buffer[:cut]
        if tail:
            yield tail


@dataclass
class SheetScan:
    """What one worksheet part would put in memory: its grid and its shared-string cells."""

    name: str
    rows: int = 0
    columns: int = 0
    values: int = 0  # <v> elements: each may copy one shared string
    dimension: str | None = None
    marked: bool = False  # holds what a cell's value may hide (see has_note_marks)


def fast_sheet_scan(name: str, chunks: Iterable[bytes]) -> SheetScan | None:
    """The part's grid from byte counts, or None when they cannot vouch for every cell.

    Reads the whole part either way, so that its bytes are counted exactly once.
    """
    scan = SheetScan(name)
    pieces = _Pieces(chunks)
    short_cells = refs = r_attributes = row_refs = 0
    odd = False
    for piece in pieces:
        if odd:
            continue
        found = _CELL_REF.findall(piece)
        short_cells += piece.count(b"<c") - len(_LONGER_NAME.findall(piece))
        refs += len(found)
        r_attributes += sum(map(piece.count, _TIGHT_R))
        row_refs += piece.count(b'<row r="')
        scan.values += piece.count(b"<v")
        odd = bool(_LOOSE_R.search(piece) or _PREFIXED_CELL.search(piece))
        scan.marked = scan.marked or has_note_marks(piece)
        if scan.dimension is None and (match := _DIMENSION.search(piece)):
            scan.dimension = match.group(1).decode("ascii", "replace")
        if found:
            rows = map(bytes.lstrip, found, repeat(_LETTERS))
            scan.rows = max(scan.rows, max(map(int, rows)))
            letters = set(map(bytes.rstrip, found, repeat(_DIGITS)))
            scan.columns = max(scan.columns, max(map(column_number, letters)))
    vouched = short_cells == refs and r_attributes == refs + row_refs
    return scan if vouched and not (odd or pieces.split) else None


class ExactSheetScan:
    """Cell positions exactly as calamine computes them, with a real XML parser.

    Slower than the fast scan; used when the fast scan cannot vouch for a part, and to
    add up the shared strings cell by cell when the quick bound on them is too high.
    """

    def __init__(self, name: str, part: str, limits: Limits, strings: list[int] | None) -> None:
        self.scan = SheetScan(name)
        self.part = part
        self.limits = limits
        self.strings = strings
        self.text = 0
        self.row = 0  # 0-based, as calamine's cursor
        self.column = 0
        self.cell_type: str | None = None
        self.value: list[str] | None = None
        self.parser = expat(part)
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text

    def run(self, chunks: Iterable[bytes]) -> SheetScan:
        parse_xml(self.parser, self.part, chunks)
        return self.scan

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local in ("f", "mergeCell", "hyperlink") or attrs.get("t") == "e":
            self.scan.marked = True
        if local == "c":
            self._cell(attrs)
        elif local == "row" and "r" in attrs:
            self.row = self._position(attrs["r"], need_column=False)[0]
        elif local == "v":
            self.scan.values += 1
            if self.cell_type == "s":
                self.value = []
        elif local == "dimension" and "ref" in attrs:
            self.scan.dimension = attrs["ref"]
            check_dimension(self.scan.name, attrs["ref"], self.limits)

    def _cell(self, attrs: dict[str, str]) -> None:
        row, column = self.row, self.column
        if "r" in attrs:
            row, column = self._position(attrs["r"], need_column=True)
            self.column = column
        self.scan.rows = max(self.scan.rows, row + 1)
        self.scan.columns = max(self.scan.columns, column + 1)
        check_extent(self.scan.name, self.scan.rows, self.scan.columns, self.limits)
        self.cell_type = attrs.get("t")

    def _position(self, ref: str, need_column: bool) -> tuple[int, int]:
        match = re.fullmatch(r"([A-Za-z]*)([0-9]+)", ref)
        if not match or int(match.group(2)) == 0 or (need_column and not match.group(1)):
            raise damaged(self.part, f"a cell has the invalid reference {ref!r}")
        return int(match.group(2)) - 1, column_number(match.group(1)) - 1

    def _end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "c":
            self.column += 1
            self.cell_type = None
        elif local == "row":
            self.row += 1
            self.column = 0
        elif local == "v" and self.value is not None:
            self._shared_string("".join(self.value))
            self.value = None

    def _text(self, data: str) -> None:
        if self.value is not None:
            self.value.append(data)

    def _shared_string(self, index: str) -> None:
        if self.strings is not None and re.fullmatch(r"[0-9]{1,12}", index):
            position = int(index)
            if position < len(self.strings):
                self.text += self.strings[position]


class SharedStrings:
    """Length of each shared string, in the order calamine keeps them.

    calamine keeps an <si> only when it has rich-text runs (<r>) or text (<t>) outside
    a phonetic hint (<rPh>); the length counted is all the text inside the <si>, an
    upper bound of what it stores.
    """

    def __init__(self, part: str) -> None:
        self.lengths: list[int] = []
        self.part = part
        self.length = 0
        self.kept = False
        self.phonetic = False
        self.parser = expat(part)
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text

    def run(self, chunks: Iterable[bytes]) -> list[int]:
        parse_xml(self.parser, self.part, chunks)
        return self.lengths

    def _start(self, name: str, _attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "si":
            self.length, self.kept = 0, False
        elif local == "r" or (local == "t" and not self.phonetic):
            self.kept = True
        elif local == "rPh":
            self.phonetic = True

    def _end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "rPh":
            self.phonetic = False
        elif local == "si" and self.kept:
            self.lengths.append(self.length)
            self.kept = False

    def _text(self, data: str) -> None:
        self.length += len(data)
