"""What a cell's cached value hides: errors, unsaved formulas, merges, links, hidden
rows and columns, and percentages.

python-calamine gives each cell's cached value, which is not always what the partner
sees or means: an error cell (#DIV/0!, #N/A) reads as empty, so a required value would
be reported as missing and an optional one silently dropped; so does a formula saved
without its result (scripts, openpyxl); the covered cells of a merged range read as
empty too; a link (``=HYPERLINK(url, "evidence")`` or a cell hyperlink) reads as its
display text, not its address; a number shown as 50 % reads as 0.5; and a hidden row or
column reads like any other. These notes are read from the sheet's own XML (after the
guard has bounded it), in one pass per sheet, positioned the way calamine positions
cells, so the reader can report such a cell by what it is, or use the link.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from pipelines.core.intake.guard.container import column_number, part_key
from pipelines.core.intake.guard.package import PACKAGE_RELS, workbook_folder
from pipelines.core.intake.guard.xml_parts import (
    elements,
    expat,
    has_note_marks,
    parse_xml,
    xlsx_sheet_names,
)

Position = tuple[int, int]  # 0-based (row, column), as calamine's grid

# HYPERLINK("address", ...) with a literal address: xlsx separates arguments with ',',
# ods with ';'. Any other HYPERLINK computes its address and cannot be read safely.
_LITERAL_LINK = re.compile(r'^\s*(?:of:)?=?\s*HYPERLINK\s*\(\s*"((?:[^"]|"")*)"\s*[,;)]', re.I)
_ANY_LINK = re.compile(r"HYPERLINK\s*\(", re.I)
_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


Span = tuple[int, int]  # 0-based first and last row (or column), inclusive


@dataclass
class SheetNotes:
    """Per sheet: error values, formulas saved without a result, link addresses (None:
    computed), merged ranges, number cells shown as percentages, and the spans of hidden
    rows and columns."""

    errors: dict[Position, str] = field(default_factory=dict)
    unsaved: dict[Position, str] = field(default_factory=dict)
    links: dict[Position, str | None] = field(default_factory=dict)
    merges: list[tuple[Position, Position]] = field(default_factory=list)
    percentages: set[Position] = field(default_factory=set)
    hidden_rows: list[Span] = field(default_factory=list)
    hidden_columns: list[Span] = field(default_factory=list)

    def row_hidden(self, row: int) -> bool:
        return any(first <= row <= last for first, last in self.hidden_rows)

    def column_hidden(self, column: int) -> bool:
        return any(first <= column <= last for first, last in self.hidden_columns)


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
        parts = _parts(archive)
        folder = _workbook_folder(archive, parts)
        if folder is not None:
            return _xlsx_notes(archive, parts, sheets, folder)
        if "content.xml" in parts:
            return _OdsNotes(sheets).run(archive.read(parts["content.xml"]))
    return {}


# What a worksheet holds when it holds a value: a cell value or an inline string.
_XLSX_VALUES = (b"<v>", b"<v ", b":v>", b":v ", b"<is>", b":is>")


def sheets_with_values(data: bytes, sheets: list[str]) -> set[str]:
    """The named sheets that hold at least one value, told from their XML alone: no grid
    is built, so a sheet the reader never reads costs no more than its bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = _parts(archive)
        folder = _workbook_folder(archive, parts)
        if folder is not None:
            names = _sheet_names(archive, parts, folder)
            wanted = {part: name for part, name in names.items() if name in sheets}
            return {
                name
                for part, name in wanted.items()
                if has_note_marks(_read(archive, parts, part) or b"", _XLSX_VALUES)
            }
        if "content.xml" in parts:
            return _ods_tables_with_values(archive.read(parts["content.xml"]), set(sheets))
    return set()


def _ods_tables_with_values(content: bytes, wanted: set[str]) -> set[str]:
    """The wanted tables of an ods content.xml that hold a cell with a value."""
    found: set[str] = set()
    tables: list[str] = []  # the table being read, and any sub-table in its cells

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "table:table":
            tables.append(attrs.get("table:name", ""))
        elif tables and tables[0] in wanted and "office:value-type" in attrs:
            found.add(tables[0])

    def end(name: str) -> None:
        if name == "table:table" and tables:
            tables.pop()

    parser = expat("content.xml")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parse_xml(parser, "content.xml", [content])
    return found


def _parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each part's name by its :func:`part_key`: looked up as calamine and the guard do."""
    return {part_key(info.filename): info.filename for info in archive.infolist()}


def _read(archive: zipfile.ZipFile, parts: dict[str, str], key: str) -> bytes | None:
    name = parts.get(part_key(key))
    return archive.read(name) if name else None


def _workbook_folder(archive: zipfile.ZipFile, parts: dict[str, str]) -> str | None:
    """The folder holding an xlsx's workbook.xml (named by ``_rels/.rels``, as the guard
    finds it), or None when the container holds no xlsx workbook."""
    folder = workbook_folder(_read(archive, parts, PACKAGE_RELS))
    return folder if part_key(f"{folder}workbook.xml") in parts else None


def _sheet_names(archive: zipfile.ZipFile, parts: dict[str, str], folder: str) -> dict[str, str]:
    """Worksheet part (its :func:`part_key`) -> sheet name."""
    return xlsx_sheet_names(
        _read(archive, parts, f"{folder}workbook.xml"),
        _read(archive, parts, f"{folder}_rels/workbook.xml.rels"),
        folder,
    )


def _xlsx_notes(
    archive: zipfile.ZipFile, parts: dict[str, str], sheets: list[str], folder: str
) -> dict[str, SheetNotes]:
    names = _sheet_names(archive, parts, folder)
    styles = f"{folder}styles.xml"
    percent_styles = _percent_styles(_read(archive, parts, styles), styles)
    notes = {}
    for part, name in names.items():
        if name not in sheets:
            continue
        xml = _read(archive, parts, part) or b""
        sheet_folder, _, file = part.rpartition("/")
        rels = _read(archive, parts, f"{sheet_folder}/_rels/{file}.rels")
        notes[name] = _XlsxSheetNotes(part, percent_styles).run(xml, rels)
    return notes


# Built-in number formats that show a percentage (0%, 0.00%); others are declared in
# styles.xml with their format code.
_PERCENT_FORMAT_IDS = frozenset({"9", "10"})
# What a format code shows, once its literal text ("EUR", \x, _x, *x) and its
# [colour]/[$currency] sections are set aside.
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|_.|\*.|\[[^\]]*\]')


def _shows_percentage(code: str) -> bool:
    return "%" in _FORMAT_LITERALS.sub("", code)


def _percent_styles(styles: bytes | None, part: str) -> frozenset[str]:
    """The cell style indices (a cell's ``s``) whose number format shows a percentage,
    from the styles part ``part``."""
    if not styles or not re.search(rb'numFmtId="(?:9|10)"|%', styles):
        return frozenset()
    percent_ids = set(_PERCENT_FORMAT_IDS)
    cell_formats: list[str] = []  # numFmtId of each cellXfs entry, by index
    depth = {"cellXfs": 0}

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "numFmt" and _shows_percentage(attrs.get("formatCode", "")):
            percent_ids.add(attrs.get("numFmtId", ""))
        elif local == "cellXfs":
            depth["cellXfs"] += 1
        elif local == "xf" and depth["cellXfs"]:
            cell_formats.append(attrs.get("numFmtId", "0"))

    def end(name: str) -> None:
        if name.rpartition(":")[2] == "cellXfs":
            depth["cellXfs"] -= 1

    parser = expat(part)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parse_xml(parser, part, [styles])
    return frozenset(str(i) for i, number in enumerate(cell_formats) if number in percent_ids)


_STYLE = re.compile(rb'\ss="([0-9]+)"')
# What a worksheet holds when there is something to note (plain byte searches: fast).
_XLSX_MARKS = (
    *(b't="e"', b"<f>", b"<f ", b"<f/", b":f>", b":f ", b":f/", b"mergeCell", b"hyperlink"),
    *(b'hidden="1"', b'hidden="true"'),
)


class _XlsxSheetNotes:
    """Errors, formulas without a result, formula links, cell hyperlinks, merges,
    percentages and hidden rows and columns of one worksheet part."""

    def __init__(self, part: str, percent_styles: frozenset[str] = frozenset()) -> None:
        self.part = part
        self.percent_styles = percent_styles
        self.notes = SheetNotes()
        self.row = self.column = 0
        self.cell_type: str | None = None
        self.style = ""
        self.text: list[str] | None = None
        self.value = self.formula = ""
        self.has_value = self.has_formula = False
        self.shared: dict[str, str] = {}  # shared formula index -> its master's text
        self.shared_index: str | None = None
        self.hyperlinks: list[dict[str, str]] = []

    def _worth_parsing(self, xml: bytes) -> bool:
        if has_note_marks(xml, _XLSX_MARKS):
            return True
        return bool(self.percent_styles) and any(
            style.decode() in self.percent_styles for style in set(_STYLE.findall(xml))
        )

    def run(self, xml: bytes, rels: bytes | None) -> SheetNotes:
        if not self._worth_parsing(xml):
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
        if local == "row":
            if "r" in attrs and attrs["r"].isdigit():
                self.row, self.column = int(attrs["r"]) - 1, 0
            if attrs.get("hidden") in ("1", "true"):
                self.notes.hidden_rows.append((self.row, self.row))
        elif local == "c":
            position = _cell(attrs["r"]) if "r" in attrs else None
            if position:
                self.row, self.column = position
            self.cell_type, self.value, self.formula = attrs.get("t"), "", ""
            self.style = attrs.get("s", "")
            self.has_value = self.has_formula = False
        elif local in ("v", "f"):
            self.text = []
            if local == "f":
                self.has_formula = True
                self.shared_index = attrs.get("si") if attrs.get("t") == "shared" else None
        elif local == "col" and attrs.get("hidden") in ("1", "true"):
            first, last = attrs.get("min", ""), attrs.get("max", "")
            if first.isdigit() and last.isdigit():
                self.notes.hidden_columns.append((int(first) - 1, int(last) - 1))
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
                self.value, self.has_value = text, True
            else:
                self.formula = text
                if self.shared_index is not None:
                    self.formula = self.shared.setdefault(self.shared_index, text) or text
        elif local == "c":
            here = (self.row, self.column)
            if self.cell_type == "e":
                self.notes.errors[here] = self.value
            elif self.has_formula and not self._has_result():
                self.notes.unsaved[here] = "=" + self.formula
            elif self.style in self.percent_styles and self.cell_type in (None, "n"):
                self.notes.percentages.add(here)
            is_link, address = _formula_link(self.formula)
            if is_link:
                self.notes.links[here] = address
            self.column += 1
        elif local == "row":
            self.row, self.column = self.row + 1, 0

    def _has_result(self) -> bool:
        """Whether a formula cell holds its result: an empty one is a result only when it
        is text (a formula giving ""); openpyxl and scripts write ``<v/>`` or nothing."""
        return self.has_value and (self.value != "" or self.cell_type == "str")

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
# The attribute holding a cell's result, per value type; a string's result is its text,
# which may be empty.
_RESULT_ATTRIBUTE = {
    "float": "office:value",
    "percentage": "office:value",
    "currency": "office:value",
    "date": "office:date-value",
    "time": "office:time-value",
    "boolean": "office:boolean-value",
    "string": None,
}
_HIDDEN = ("collapse", "filter")
_ODS_MARKS = (
    *(b'calcext:value-type="error"', b"HYPERLINK", b"-spanned", b"xlink:href", b"table:formula="),
    *(b'table:visibility="collapse"', b'table:visibility="filter"', b'value-type="percentage"'),
)


def _count(attrs: dict[str, str], key: str) -> int:
    """A repeat or span count; the guard has bounded the grid, so a bad one counts once."""
    text = attrs.get(key, "1")
    return int(text) if text.isdigit() and 0 < int(text) < 10**7 else 1


def _has_result(attrs: dict[str, str]) -> bool:
    """Whether an ods formula cell holds its result (a script may write none)."""
    kind = attrs.get("office:value-type")
    if kind not in _RESULT_ATTRIBUTE:
        return False
    needed = _RESULT_ATTRIBUTE[kind]
    return needed is None or needed in attrs


class _OdsNotes:
    """Errors, formulas without a result, links, merges, percentages and hidden rows and
    columns of the named sheets of an ods content.xml."""

    def __init__(self, sheets: list[str]) -> None:
        self.wanted = set(sheets)
        self.result: dict[str, SheetNotes] = {}
        self.notes: SheetNotes | None = None
        self.row = self.column = 0
        self.row_repeats = self.cell_repeats = 1
        self.depth = 0  # cell nesting: a cell may hold a sub-table
        self.error = self.percentage = False
        self.unsaved: str | None = None
        self.text: list[str] = []
        self.link: tuple[bool, str | None] = (False, None)

    def run(self, content: bytes) -> dict[str, SheetNotes]:
        if not has_note_marks(content, _ODS_MARKS):
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
            self.row = self.column = 0
        elif self.notes is None:
            return
        elif name == "table:table-column" and self.depth == 0:
            repeats = _count(attrs, "table:number-columns-repeated")
            if attrs.get("table:visibility") in _HIDDEN:
                self.notes.hidden_columns.append((self.column, self.column + repeats - 1))
            self.column += repeats
        elif name == "table:table-row" and self.depth == 0:
            self.row_repeats = _count(attrs, "table:number-rows-repeated")
            if attrs.get("table:visibility") in _HIDDEN:
                self.notes.hidden_rows.append((self.row, self.row + self.row_repeats - 1))
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
        self.percentage = attrs.get("office:value-type") == "percentage"
        formula = attrs.get("table:formula")
        self.unsaved = formula if formula and not _has_result(attrs) else None
        self.text = []
        self.link = _formula_link(formula or "")
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
        if self.error or self.link[0] or self.unsaved or self.percentage:
            # Notes are copied into repeated cells only within the guard's column limit.
            for column in range(self.column, self.column + min(self.cell_repeats, 200)):
                here = (self.row, column)
                if self.error:
                    notes.errors[here] = "".join(self.text).strip()
                elif self.unsaved:
                    notes.unsaved[here] = _ods_formula(self.unsaved)
                elif self.percentage:
                    notes.percentages.add(here)
                if self.link[0]:
                    notes.links[here] = self.link[1]
        self.column += self.cell_repeats


def _ods_formula(formula: str) -> str:
    """An ods formula as the partner's spreadsheet shows it: ``of:=[.D3]+1`` is ``=D3+1``."""

    def reference(match: re.Match[str]) -> str:
        return ":".join(part.rpartition(".")[2] for part in match.group(1).split(":"))

    return re.sub(r"\[([^\[\]]*)\]", reference, formula.removeprefix("of:"))
