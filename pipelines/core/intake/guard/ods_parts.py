"""The guard's bounds on an ods content.xml: the grid and text of every sheet.

calamine copies a row or cell repeated N times N times unless it is empty, so a few
bytes of XML can stand for an enormous grid. A plain content.xml (as odfpy and pandas
write it) is checked from byte patterns; any other is parsed element by element.
"""

from __future__ import annotations

import html
import re
import zipfile
from bisect import bisect_right
from collections.abc import Iterable

import numpy as np

from pipelines.core.intake.guard.container import (
    Budget,
    Limits,
    MiB,
    check_extent,
    damaged,
    inflate,
    too_much_text,
)
from pipelines.core.intake.guard.xml_parts import SheetScan, expat, has_note_marks, parse_xml

# What an ods cell may hide beyond its value (see pipelines.core.intake.cell_notes).
_ODS_MARKS = (b'value-type="error"', b"HYPERLINK", b"-spanned", b"xlink:href")

_ODS_VALUE_ATTRIBUTES = frozenset(
    {
        "office:value-type",
        "office:value",
        "office:string-value",
        "office:date-value",
        "office:time-value",
        "office:boolean-value",
        "table:formula",
    }
)
_ODS_CELLS = frozenset({"table:table-cell", "table:covered-table-cell"})


class _OdsScan:
    """Grid and text of every sheet of an ods content.xml, as calamine would expand it.

    calamine copies a cell or row repeated N times N times, except empty ones, and
    skips whatever is inside a cell (even a sub-table). The text of a cell (its
    attributes and everything inside it) is counted once per copy.
    """

    def __init__(self, part: str, limits: Limits) -> None:
        self.part = part
        self.limits = limits
        self.text = 0
        self.sheet: SheetScan | None = None
        self.next_row = 0  # rows of the current sheet so far, repeats included
        self.row_repeats = 1
        self.row_end = 0  # columns up to the last non-empty cell of the current row
        self.row_text = 0
        self.column = 0
        self.cell_depth = 0  # nesting of cells: a cell may hold a sub-table
        self.cell_repeats = 1
        self.cell_filled = False
        self.cell_start = 0
        self.cell_text = 0
        self.parser = expat(part)
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end

    def run(self, chunks: Iterable[bytes]) -> None:
        parse_xml(self.parser, self.part, chunks)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if self.cell_depth:
            if name in _ODS_CELLS:
                self.cell_depth += 1
            elif name == "text:s":
                self.cell_text += self._count(attrs, "text:c")
        elif name in _ODS_CELLS:
            self.cell_depth = 1
            self.cell_repeats = self._count(attrs, "table:number-columns-repeated")
            self.cell_filled = not _ODS_VALUE_ATTRIBUTES.isdisjoint(attrs)
            self.cell_start = self.parser.CurrentByteIndex
            self.cell_text = sum(map(len, attrs.values()))
        elif name == "table:table-row":
            self.row_repeats = self._count(attrs, "table:number-rows-repeated")
            self.row_end = self.row_text = self.column = 0
        elif name == "table:table":
            self.sheet = SheetScan(attrs.get("table:name", "?"))
            self.next_row = 0

    def _count(self, attrs: dict[str, str], key: str) -> int:
        try:
            count = int(attrs.get(key, "1"))
        except ValueError:
            count = -1
        if count < 0:
            raise damaged(self.part, f"{key} is not a number of times")
        return count

    def _end(self, name: str) -> None:
        if self.cell_depth:
            if name in _ODS_CELLS:
                self.cell_depth -= 1
                if not self.cell_depth:
                    self._end_cell()
        elif name == "table:table-row" and self.sheet is not None:
            self._end_row(self.sheet)
        elif name == "table:table":
            self.sheet = None

    def _end_cell(self) -> None:
        self.column += self.cell_repeats
        if self.cell_filled:
            self.row_end = self.column
            span = self.parser.CurrentByteIndex - self.cell_start
            self.row_text += (span + self.cell_text) * self.cell_repeats

    def _end_row(self, sheet: SheetScan) -> None:
        self.next_row += self.row_repeats
        if not self.row_end:
            return
        sheet.rows = self.next_row
        sheet.columns = max(sheet.columns, self.row_end)
        check_extent(sheet.name, sheet.rows, sheet.columns, self.limits)
        self.text += self.row_text * self.row_repeats
        if self.text > self.limits.max_text_chars:
            raise too_much_text(self.limits)


# A plain content.xml (as odfpy and pandas write it) is checked from byte patterns
# instead of element by element, which is several times faster.
_ODS_FAST_MAX_BYTES = 32 * MiB
_TABLE_START = re.compile(rb"<table:table[ \t\r\n/>]")
_ROW_START = re.compile(rb"<table:table-row[ \t\r\n/>]")
_TABLE_NAME = re.compile(rb"""\stable:name\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _plain_markup(content: bytes) -> bool:
    """Whether every '<' opens a tag that ends at the next '>'.

    True when no comment, CDATA or processing instruction (but the XML declaration)
    is present, no tag holds a '<', and each tag's quotes are of one kind and balanced:
    then a parser sees exactly the tags the bytes show, and patterns can be counted.
    """
    declaration = 1 if content.startswith(b"<?xml") else 0
    if b"<!" in content or content.count(b"<?") > declaration:
        return False
    codes = np.frombuffer(content, dtype=np.uint8)
    opens = np.flatnonzero(codes == ord("<"))
    closes = np.flatnonzero(codes == ord(">"))
    if len(opens) == len(closes) and np.all(opens < closes):
        ends = closes  # '<' and '>' alternate, as most writers leave them
    else:
        following = np.searchsorted(closes, opens)
        if len(opens) and following[-1] == len(closes):
            return False
        ends = closes[following]
    if np.any(ends[:-1] > opens[1:]):
        return False
    double = _inside(codes, opens, ends, ord('"'))
    single = _inside(codes, opens, ends, ord("'"))
    one_kind = ((double % 2 == 0) & (single == 0)) | ((single % 2 == 0) & (double == 0))
    return bool(one_kind.all())


def _inside(codes: np.ndarray, opens: np.ndarray, ends: np.ndarray, char: int) -> np.ndarray:
    """How many ``char`` each tag [open, end] holds."""
    marks = np.flatnonzero(codes == char)
    return np.searchsorted(marks, ends) - np.searchsorted(marks, opens)


def _fast_ods_scan(content: bytes, limits: Limits) -> bool:
    """Check each sheet's grid from byte patterns; False when the content is not plain.

    Plain: no repeated rows or cells, no repeated spaces (text:c), no row inside a row,
    and plain markup. Then calamine copies nothing and a sheet's grid is at most its
    number of rows by its widest row.
    """
    if b"-repeated" in content or b"text:c" in content or not _plain_markup(content):
        return False
    starts = [match.start() for match in _TABLE_START.finditer(content)]
    rows = [0] * len(starts)
    columns = [0] * len(starts)
    previous_end = -1
    for match in _ROW_START.finditer(content):
        start = match.start()
        if start < previous_end:
            return False
        tag_end = content.index(b">", start)
        end = tag_end
        if content[tag_end - 1] != ord("/"):
            end = content.find(b"</table:table-row", tag_end)
            if end == -1:
                return False
        table = bisect_right(starts, start) - 1
        if table >= 0:
            cells = content.count(b"<table:table-cell", tag_end, end)
            cells += content.count(b"<table:covered-table-cell", tag_end, end)
            rows[table] += 1
            columns[table] = max(columns[table], cells)
        previous_end = end
    for table, start in enumerate(starts):
        check_extent(_table_name(content, start), rows[table], columns[table], limits)
    return True


def _table_name(content: bytes, start: int) -> str:
    tag = content[start : content.index(b">", start)]
    match = _TABLE_NAME.search(tag)
    raw = (match.group(1) or match.group(2)) if match else b"?"
    return html.unescape(raw.decode("utf-8", "replace"))


def scan_ods(data: bytes, info: zipfile.ZipInfo, limits: Limits, budget: Budget) -> bool:
    """Bound what an ods content.xml expands to: from byte patterns if plain, else exactly.

    Returns whether the content may hold what a cell's value hides.
    """
    chunks: list[bytes] = []
    size = 0
    for chunk in inflate(data, info, limits, budget):
        size += len(chunk)
        if size <= _ODS_FAST_MAX_BYTES:
            chunks.append(chunk)
    content = b"".join(chunks) if size <= _ODS_FAST_MAX_BYTES else None
    marked = content is None or has_note_marks(content, _ODS_MARKS)
    if content is not None and _fast_ods_scan(content, limits):
        return marked
    whole = chunks if content is not None else inflate(data, info, limits, None)
    _OdsScan(info.filename, limits).run(whole)
    return marked
