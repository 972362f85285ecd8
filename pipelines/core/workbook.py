"""Reading a partner's workbook without trusting it.

A workbook comes from outside the project, so it is hostile until checked. Reading
happens in two stages, on the same bytes (the file is read once, so a file replaced
half-way through cannot slip past the checks):

1. :func:`check_container` looks at the zip container before any spreadsheet parser
   sees it: size, kind, number of parts, and how far every part *really* inflates
   (headers can lie, so the bytes are counted as they are decompressed). It also
   bounds what the parser would build in memory: the cell grid of every sheet (a cell
   written at XFD1048576 makes the parser allocate the whole rectangle up to it) and
   the text that shared strings (xlsx) or repeated cells (ods) expand to.
2. :func:`read_workbook` then parses the workbook with python-calamine (never
   openpyxl), in one pass over the sheets it needs, and returns the Cover fields and
   one DataFrame per record sheet, keyed by spreadsheet row number.

Anything wrong with the workbook as a whole raises :class:`WorkbookRejected`, whose
``rule`` and ``message`` go to the partner unchanged.

The bounds mirror how python-calamine 0.9 lays cells out: an xlsx cell sits at its
``r`` attribute (the last one if repeated) or after the previous cell, and copies its
shared string; an ods row or cell repeated N times is copied N times unless empty.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import pyexpat
import re
import stat
import struct
import zipfile
import zlib
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from pipelines.core.tables import COVER_SHEET, RECORD_SHEETS, Sheet

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How large a workbook may be, on disk and once opened.

    A partner's report has a few hundred rows; these bounds leave a wide margin for
    that while keeping one hostile file from exhausting the memory of a pipeline run.
    """

    max_file_bytes: int = 20 * MiB
    max_zip_entries: int = 1_000
    max_uncompressed_bytes: int = 200 * MiB
    max_compression_ratio: int = 200
    # Below this size a part may compress as well as it likes: it cannot hurt.
    ratio_min_bytes: int = 1 * MiB
    max_rows: int = 50_000
    max_columns: int = 200
    # Characters of text the cells may expand to once shared strings (xlsx) and
    # repeated cells (ods) are copied into every cell that uses them.
    max_text_chars: int = 100_000_000


DEFAULT_LIMITS = Limits()


class WorkbookRejected(Exception):
    """The whole workbook is refused; ``message`` tells the partner what to do."""

    def __init__(
        self, rule: str, message: str, sheet: str | None = None, column: str | None = None
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.sheet = sheet
        self.column = column


@dataclass(frozen=True)
class CoverValue:
    """A Cover field's value as the spreadsheet gives it, and the row it is on."""

    value: Any
    row: int


@dataclass
class RawWorkbook:
    """A workbook as read, before any value is validated or typed.

    ``cover`` maps every field name found on the Cover (stripped, lower case) to its
    value and row; when a field is repeated, its first row wins. ``sheets`` maps each
    record sheet to a DataFrame of dtype object with the sheet's canonical columns in
    order, indexed by spreadsheet row number (header = row 1). ``extra_columns`` lists
    the unknown columns of each sheet as (header, letter). ``sha256`` is the digest of
    the exact bytes that were checked and parsed.
    """

    cover: dict[str, CoverValue]
    sheets: dict[str, pd.DataFrame]
    extra_columns: dict[str, list[tuple[str, str]]]
    sha256: str


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index: 0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    letters = ""
    number = index + 1
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: str | bytes) -> int:
    """1-based column number of spreadsheet letters ('A' -> 1), any case, no upper bound."""
    text = letters.decode("ascii") if isinstance(letters, bytes) else letters
    number = 0
    for char in text.upper():
        number = number * 26 + ord(char) - 64
    return number


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


# --- the bytes ------------------------------------------------------------------------

# No symlink is followed, and a FIFO cannot block the open.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class FileGone(Exception):
    """The file vanished, or changed, while it was being read: read it again next run."""


def read_bytes(path: Path, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The file's bytes, read once; its size is refused before a byte is read.

    Raises :class:`FileGone` when the file disappears before it is opened or its size
    or modification time changes while it is read (a sync tool rewriting it in place):
    the bytes would be a mix of two versions.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError as exc:
        raise FileGone(f"{path} disappeared before it could be read") from exc
    except OSError as exc:
        raise WorkbookRejected(
            "unreadable_file", f"the file cannot be opened ({exc.strerror})"
        ) from exc
    with os.fdopen(fd, "rb") as handle:
        before = os.fstat(handle.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise WorkbookRejected(
                "not_a_spreadsheet",
                "this is not a regular file, so it is not an .xlsx or .ods workbook",
            )
        if before.st_size > limits.max_file_bytes:
            _check_size(before.st_size, limits)
        data = handle.read(limits.max_file_bytes + 1)
        after = os.fstat(handle.fileno())
    unchanged = (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    if not unchanged or len(data) != before.st_size:
        raise FileGone(f"{path} changed while it was being read")
    return data


def _check_size(size: int, limits: Limits) -> None:
    if size == 0:
        raise WorkbookRejected(
            "empty_file",
            "the file is empty (0 bytes); save your workbook again and replace the file",
        )
    if size > limits.max_file_bytes:
        raise WorkbookRejected(
            "file_too_large",
            f"the file is larger than the {_size(limits.max_file_bytes)} a report workbook may"
            " be; remove pictures, embedded files and unused sheets, then save it again",
        )


# --- the container --------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NOT_A_WORKBOOK = "this file is not an .xlsx or .ods workbook"
_SAVE_AS = "save it from your spreadsheet program as Excel Workbook (.xlsx)"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Parts read whole (they are small) to learn the sheet names and the kind of file.
_METADATA_PARTS = ("mimetype", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")
_METADATA_MAX_BYTES = 1 * MiB


def _open_zip(data: bytes) -> zipfile.ZipFile:
    if data.startswith(_OLE_MAGIC):
        raise WorkbookRejected(
            "not_a_spreadsheet",
            f"{_NOT_A_WORKBOOK}: it looks like an old Excel 97-2003 (.xls) file or a"
            f" password-protected workbook; remove any password and {_SAVE_AS}",
        )
    if not data.startswith(b"PK"):
        raise WorkbookRejected("not_a_spreadsheet", f"{_NOT_A_WORKBOOK}; {_SAVE_AS}")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise WorkbookRejected(
            "unreadable_file",
            "the file is damaged and cannot be opened (it may have been cut short while"
            " copying or uploading); save your workbook again and replace the file",
        ) from exc


def _check_entries(archive: zipfile.ZipFile, limits: Limits) -> list[zipfile.ZipInfo]:
    """Entry count, duplicates and declared sizes: cheap checks before inflating anything."""
    infos = archive.infolist()
    if len(infos) > limits.max_zip_entries:
        raise _bomb(
            f"the file holds {len(infos)} parts, more than the {limits.max_zip_entries} a"
            " workbook may have"
        )
    seen: set[str] = set()
    for info in infos:
        # calamine finds parts ignoring case: two spellings of one name are ambiguous.
        key = info.filename.casefold()
        if key in seen:
            raise WorkbookRejected(
                "unreadable_file",
                f"the file is damaged: it holds the part {info.filename!r} twice; save your"
                " workbook again and replace the file",
            )
        seen.add(key)
        _check_ratio(info, info.file_size, limits)
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_uncompressed_bytes:
        raise _bomb(f"the file declares {_size(declared)} of content, more than the {_cap(limits)}")
    return infos


def _cap(limits: Limits) -> str:
    return f"{_size(limits.max_uncompressed_bytes)} allowed once opened"


def _bomb(what: str) -> WorkbookRejected:
    return WorkbookRejected(
        "zip_bomb",
        f"{what}; this is not a normal workbook (a 'decompression bomb'). Save your workbook"
        " again from your spreadsheet program, or contact the coordinator if it really is"
        " this large",
    )


def _check_ratio(info: zipfile.ZipInfo, produced: int, limits: Limits) -> None:
    if (
        produced > limits.ratio_min_bytes
        and produced > limits.max_compression_ratio * info.compress_size
    ):
        raise _bomb(
            f"the part {info.filename!r} expands more than {limits.max_compression_ratio} times"
            " its compressed size, which a workbook never does"
        )


def _workbook_kind(names: set[str]) -> str:
    """'xlsx' or 'ods' from the part names alone; anything else is refused."""
    if "xl/workbook.bin" in names:
        raise WorkbookRejected(
            "not_a_spreadsheet",
            f"{_NOT_A_WORKBOOK}: it is an Excel binary workbook (.xlsb); {_SAVE_AS}",
        )
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "content.xml" in names:
        return "ods"
    raise WorkbookRejected(
        "not_a_spreadsheet",
        f"{_NOT_A_WORKBOOK}: it is a zip archive with no spreadsheet inside (perhaps another"
        f" kind of document renamed); {_SAVE_AS}",
    )


class _Budget:
    """Bytes actually inflated so far across the whole file, against the cap."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0

    def spend(self, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_uncompressed_bytes:
            raise _bomb(f"the file expands to more than the {_cap(self.limits)}")


_CHUNK = 64 * 1024
_LOCAL_HEADER_SIZE = 30


def _inflate(
    data: bytes, info: zipfile.ZipInfo, limits: Limits, budget: _Budget | None
) -> Iterator[bytes]:
    """The part's bytes as they really inflate, stopped as soon as a limit is passed.

    The raw deflate stream is inflated here, chunk by chunk, so the sizes the headers
    declare (which may lie) play no part: every byte produced is counted.
    """
    if info.flag_bits & 0x1:
        raise WorkbookRejected(
            "unreadable_file",
            f"the workbook is password-protected; remove the password and {_SAVE_AS}",
        )
    raw = _raw_stream(data, info)
    if info.compress_type == zipfile.ZIP_STORED:
        chunks: Iterator[bytes] = (bytes(raw[i : i + _CHUNK]) for i in range(0, len(raw), _CHUNK))
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        chunks = _deflated(raw, info.filename)
    else:
        raise _damaged(info.filename, "it uses a compression method workbooks never use")
    produced = 0
    for chunk in chunks:
        produced += len(chunk)
        _check_ratio(info, produced, limits)
        if budget is not None:
            budget.spend(len(chunk))
        yield chunk


def _raw_stream(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """The compressed bytes of a part, located through its local header."""
    start = info.header_offset
    header = data[start : start + _LOCAL_HEADER_SIZE]
    if len(header) < _LOCAL_HEADER_SIZE or not header.startswith(b"PK\x03\x04"):
        raise _damaged(info.filename, "its header is missing")
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    begin = start + _LOCAL_HEADER_SIZE + name_length + extra_length
    if begin + info.compress_size > len(data):
        raise _damaged(info.filename, "it is cut short")
    return memoryview(data)[begin : begin + info.compress_size]


def _deflated(raw: memoryview, part: str) -> Iterator[bytes]:
    """Inflate a raw deflate stream, never more than one chunk of output at a time."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending: bytes | memoryview = b""
    offset = 0
    try:
        while not inflater.eof:
            if not pending and offset < len(raw):
                pending, offset = raw[offset : offset + _CHUNK], offset + _CHUNK
            before = len(pending)
            out = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            if out:
                yield out
            elif not pending and offset >= len(raw):
                return
            elif pending and len(pending) == before:
                raise _damaged(part, "its data do not decompress")
    except zlib.error as exc:
        raise _damaged(part, "its data do not decompress") from exc


def _damaged(part: str, why: str) -> WorkbookRejected:
    return WorkbookRejected(
        "unreadable_file",
        f"the file is damaged: its part {part!r} is unreadable ({why}); save your workbook"
        " again and replace the file",
    )


def _drain(chunks: Iterable[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


def _read_small(data: bytes, info: zipfile.ZipInfo, limits: Limits, budget: _Budget) -> bytes:
    """A metadata part's bytes; one too large to read whole is never genuine."""
    kept: list[bytes] = []
    size = 0
    for chunk in _inflate(data, info, limits, budget):
        size += len(chunk)
        if size > _METADATA_MAX_BYTES:
            raise _damaged(info.filename, "it is far larger than a workbook ever needs")
        kept.append(chunk)
    return b"".join(kept)


# --- bounds on what the parser would build ----------------------------------------------


def _check_extent(sheet: str, rows: int, columns: int, limits: Limits, used: str = "") -> None:
    """Refuse a sheet whose cell grid reaches beyond the row or column limit."""
    if rows <= limits.max_rows and columns <= limits.max_columns:
        return
    used = used or f"A1:{column_letter(max(columns, 1) - 1)}{max(rows, 1)}"
    allowed = f"A1:{column_letter(limits.max_columns - 1)}{limits.max_rows}"
    raise WorkbookRejected(
        "sheet_too_large",
        f"sheet {sheet!r} uses the range {used}, beyond the {limits.max_rows} rows and"
        f" {limits.max_columns} columns ({allowed}) a sheet may have; delete the rows and"
        " columns after your data (select them, Delete, then save) and save the workbook again",
        sheet=sheet,
    )


def _check_dimension(sheet: str, ref: str, limits: Limits) -> None:
    """Refuse a sheet that declares an enormous used range (<dimension ref="A1:XFD1048576"/>)."""
    match = re.fullmatch(r"\$?([A-Za-z]+)\$?([0-9]+)", ref.rpartition(":")[2].strip())
    if match:
        rows, columns = int(match.group(2)), _column_number(match.group(1))
        _check_extent(sheet, rows, columns, limits, used=ref.strip())


def _too_much_text(limits: Limits) -> WorkbookRejected:
    return _bomb(
        f"the cells of the workbook expand to more than {limits.max_text_chars:,} characters of"
        " text once opened (the same long text copied into very many cells)"
    )


def _expat(part: str) -> pyexpat.XMLParserType:
    """A strict XML parser that refuses document type declarations (entity tricks)."""
    parser = pyexpat.ParserCreate()
    parser.buffer_text = True

    def refuse(*_: object) -> None:
        raise _damaged(part, "it contains a document type declaration")

    parser.StartDoctypeDeclHandler = refuse
    return parser


def _parse(parser: pyexpat.XMLParserType, part: str, chunks: Iterable[bytes]) -> None:
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except pyexpat.ExpatError as exc:
        raise _damaged(part, f"not valid XML: {pyexpat.ErrorString(exc.code)}") from exc


def _elements(data: bytes, part: str, local_name: str) -> list[dict[str, str]]:
    """Attributes of every element with this local name in a small XML part."""
    found: list[dict[str, str]] = []
    parser = _expat(part)

    def start(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == local_name:
            found.append(attrs)

    parser.StartElementHandler = start
    _parse(parser, part, [data])
    return found


def _xlsx_sheet_names(workbook_xml: bytes | None, rels_xml: bytes | None) -> dict[str, str]:
    """Worksheet part (case-folded path) -> sheet name, resolved the way calamine does."""
    if not workbook_xml or not rels_xml:
        return {}
    rels = _elements(rels_xml, "xl/_rels/workbook.xml.rels", "Relationship")
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    names: dict[str, str] = {}
    for sheet in _elements(workbook_xml, "xl/workbook.xml", "sheet"):
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
class _SheetScan:
    """What one worksheet part would put in memory: its grid and its shared-string cells."""

    name: str
    rows: int = 0
    columns: int = 0
    values: int = 0  # <v> elements: each may copy one shared string
    dimension: str | None = None


def _fast_sheet_scan(name: str, chunks: Iterable[bytes]) -> _SheetScan | None:
    """The part's grid from byte counts, or None when they cannot vouch for every cell.

    Reads the whole part either way, so that its bytes are counted exactly once.
    """
    scan = _SheetScan(name)
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
        if scan.dimension is None and (match := _DIMENSION.search(piece)):
            scan.dimension = match.group(1).decode("ascii", "replace")
        if found:
            rows = map(bytes.lstrip, found, repeat(_LETTERS))
            scan.rows = max(scan.rows, max(map(int, rows)))
            letters = set(map(bytes.rstrip, found, repeat(_DIGITS)))
            scan.columns = max(scan.columns, max(map(_column_number, letters)))
    vouched = short_cells == refs and r_attributes == refs + row_refs
    return scan if vouched and not (odd or pieces.split) else None


class _ExactSheetScan:
    """Cell positions exactly as calamine computes them, with a real XML parser.

    Slower than the fast scan; used when the fast scan cannot vouch for a part, and to
    add up the shared strings cell by cell when the quick bound on them is too high.
    """

    def __init__(self, name: str, part: str, limits: Limits, strings: list[int] | None) -> None:
        self.scan = _SheetScan(name)
        self.part = part
        self.limits = limits
        self.strings = strings
        self.text = 0
        self.row = 0  # 0-based, as calamine's cursor
        self.column = 0
        self.cell_type: str | None = None
        self.value: list[str] | None = None
        self.parser = _expat(part)
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text

    def run(self, chunks: Iterable[bytes]) -> _SheetScan:
        _parse(self.parser, self.part, chunks)
        return self.scan

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
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
            _check_dimension(self.scan.name, attrs["ref"], self.limits)

    def _cell(self, attrs: dict[str, str]) -> None:
        row, column = self.row, self.column
        if "r" in attrs:
            row, column = self._position(attrs["r"], need_column=True)
            self.column = column
        self.scan.rows = max(self.scan.rows, row + 1)
        self.scan.columns = max(self.scan.columns, column + 1)
        _check_extent(self.scan.name, self.scan.rows, self.scan.columns, self.limits)
        self.cell_type = attrs.get("t")

    def _position(self, ref: str, need_column: bool) -> tuple[int, int]:
        match = re.fullmatch(r"([A-Za-z]*)([0-9]+)", ref)
        if not match or int(match.group(2)) == 0 or (need_column and not match.group(1)):
            raise _damaged(self.part, f"a cell has the invalid reference {ref!r}")
        return int(match.group(2)) - 1, _column_number(match.group(1)) - 1

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


class _SharedStrings:
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
        self.parser = _expat(part)
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text

    def run(self, chunks: Iterable[bytes]) -> list[int]:
        _parse(self.parser, self.part, chunks)
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
        self.sheet: _SheetScan | None = None
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
        self.parser = _expat(part)
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end

    def run(self, chunks: Iterable[bytes]) -> None:
        _parse(self.parser, self.part, chunks)

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
            self.sheet = _SheetScan(attrs.get("table:name", "?"))
            self.next_row = 0

    def _count(self, attrs: dict[str, str], key: str) -> int:
        try:
            count = int(attrs.get(key, "1"))
        except ValueError:
            count = -1
        if count < 0:
            raise _damaged(self.part, f"{key} is not a number of times")
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

    def _end_row(self, sheet: _SheetScan) -> None:
        self.next_row += self.row_repeats
        if not self.row_end:
            return
        sheet.rows = self.next_row
        sheet.columns = max(sheet.columns, self.row_end)
        _check_extent(sheet.name, sheet.rows, sheet.columns, self.limits)
        self.text += self.row_text * self.row_repeats
        if self.text > self.limits.max_text_chars:
            raise _too_much_text(self.limits)


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
        _check_extent(_table_name(content, start), rows[table], columns[table], limits)
    return True


def _table_name(content: bytes, start: int) -> str:
    tag = content[start : content.index(b">", start)]
    match = _TABLE_NAME.search(tag)
    raw = (match.group(1) or match.group(2)) if match else b"?"
    return html.unescape(raw.decode("utf-8", "replace"))


def _scan_ods(data: bytes, info: zipfile.ZipInfo, limits: Limits, budget: _Budget) -> None:
    """Bound what an ods content.xml expands to: from byte patterns if plain, else exactly."""
    chunks: list[bytes] = []
    size = 0
    for chunk in _inflate(data, info, limits, budget):
        size += len(chunk)
        if size <= _ODS_FAST_MAX_BYTES:
            chunks.append(chunk)
    if size <= _ODS_FAST_MAX_BYTES and _fast_ods_scan(b"".join(chunks), limits):
        return
    whole = chunks if size <= _ODS_FAST_MAX_BYTES else _inflate(data, info, limits, None)
    _OdsScan(info.filename, limits).run(whole)


@dataclass
class _Inspection:
    """The state of one pass over a container's parts."""

    data: bytes
    limits: Limits
    budget: _Budget
    sheet_names: dict[str, str]
    sheets: list[tuple[zipfile.ZipInfo, _SheetScan]]
    shared_strings: tuple[zipfile.ZipInfo, int] | None = None

    def is_worksheet(self, key: str) -> bool:
        in_folder = key.startswith("xl/worksheets/") and key.endswith(".xml")
        return in_folder or key in self.sheet_names

    def scan_sheet(self, info: zipfile.ZipInfo) -> None:
        name = self.sheet_names.get(info.filename.casefold(), info.filename)
        scan = _fast_sheet_scan(name, _inflate(self.data, info, self.limits, self.budget))
        if scan is None:
            chunks = _inflate(self.data, info, self.limits, None)
            scan = _ExactSheetScan(name, info.filename, self.limits, None).run(chunks)
        if scan.dimension:
            _check_dimension(name, scan.dimension, self.limits)
        _check_extent(name, scan.rows, scan.columns, self.limits)
        self.sheets.append((info, scan))

    def check_shared_text(self) -> None:
        """Bound the text shared strings expand to: quickly if possible, else cell by cell."""
        if self.shared_strings is None:
            return
        info, size = self.shared_strings
        values = sum(scan.values for _, scan in self.sheets)
        # No shared string is longer than the part that holds them all.
        if values * size <= self.limits.max_text_chars:
            return
        chunks = _inflate(self.data, info, self.limits, None)
        lengths = _SharedStrings(info.filename).run(chunks)
        if values * max(lengths, default=0) <= self.limits.max_text_chars:
            return
        total = 0
        for sheet_info, scan in self.sheets:
            exact = _ExactSheetScan(scan.name, sheet_info.filename, self.limits, lengths)
            exact.run(_inflate(self.data, sheet_info, self.limits, None))
            total += exact.text
            if total > self.limits.max_text_chars:
                raise _too_much_text(self.limits)


def _inspect(data: bytes, limits: Limits) -> None:
    """Every check on the container, part by part, before calamine may open it."""
    archive = _open_zip(data)
    infos = _check_entries(archive, limits)
    by_name = {info.filename.casefold(): info for info in infos}
    kind = _workbook_kind(set(by_name))
    budget = _Budget(limits)
    small = {
        key: _read_small(data, by_name[key], limits, budget)
        for key in _METADATA_PARTS
        if key in by_name
    }
    mimetype = small.get("mimetype")
    if kind == "ods" and mimetype is not None and not mimetype.startswith(_ODS_MIMETYPE):
        raise WorkbookRejected(
            "not_a_spreadsheet",
            f"{_NOT_A_WORKBOOK}: it is an OpenDocument file but not a spreadsheet; {_SAVE_AS}",
        )
    inspection = _Inspection(
        data,
        limits,
        budget,
        _xlsx_sheet_names(small.get("xl/workbook.xml"), small.get("xl/_rels/workbook.xml.rels")),
        [],
    )
    for info in infos:
        key = info.filename.casefold()
        if key in small:
            continue
        if key == "content.xml":  # whatever the kind: calamine may fall back to ods
            _scan_ods(data, info, limits, budget)
        elif inspection.is_worksheet(key):
            inspection.scan_sheet(info)
        elif key == "xl/sharedstrings.xml":
            inspection.shared_strings = (info, _drain(_inflate(data, info, limits, budget)))
        else:
            _drain(_inflate(data, info, limits, budget))
    inspection.check_shared_text()


def check_container(path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a file that is not a sane .xlsx/.ods container, before any parsing.

    Raises :class:`WorkbookRejected` with one of the rules ``empty_file``,
    ``file_too_large``, ``not_a_spreadsheet``, ``unreadable_file``, ``zip_bomb`` or
    ``sheet_too_large``.
    """
    check_bytes(read_bytes(path, limits), limits)


def check_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """The checks of :func:`check_container` on bytes already read."""
    _check_size(len(data), limits)
    _inspect(data, limits)


# --- reading the cells ----------------------------------------------------------------


def _key(value: object) -> str:
    """A header or name as compared: surrounding spaces and case ignored."""
    return "" if value is None else str(value).strip().casefold()


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


def _clean(row: list[Any]) -> list[Any]:
    """calamine's '' for an empty cell, and whitespace-only text, become None."""
    return [None if _is_blank(value) else value for value in row]


def _sheet_rows(book: CalamineWorkbook, actual: str, sheet: str) -> list[list[Any]]:
    """The sheet's cells from A1, one list per spreadsheet row."""
    try:
        return book.get_sheet_by_name(actual).to_python(skip_empty_area=False)
    except Exception as exc:  # any parser failure on a hostile file means "unreadable"
        raise WorkbookRejected(
            "unreadable_file",
            f"sheet {sheet!r} cannot be read ({exc}); save your workbook again and replace"
            " the file",
            sheet=sheet,
        ) from exc


def _locate_sheets(found: list[str]) -> dict[str, str]:
    """Canonical sheet name -> the sheet's name in the workbook; a missing one rejects it."""
    by_key: dict[str, str] = {}
    for name in found:
        by_key.setdefault(_key(name), name)
    wanted = [COVER_SHEET, *(sheet.name for sheet in RECORD_SHEETS)]
    missing = [name for name in wanted if _key(name) not in by_key]
    if missing:
        raise WorkbookRejected(
            "missing_sheet",
            f"the workbook has no sheet {', '.join(map(repr, missing))}; it needs the sheets"
            f" {', '.join(wanted)} (sheets found: {', '.join(found) or 'none'})",
            sheet=missing[0],
        )
    return {name: by_key[_key(name)] for name in wanted}


def _missing_columns(sheet: str, missing: list[str], header: list[Any]) -> WorkbookRejected:
    found = ", ".join(str(value).strip() for value in header if not _is_blank(value))
    return WorkbookRejected(
        "missing_column",
        f"sheet {sheet!r} has no column {', '.join(map(repr, missing))} in its header row"
        f" (row 1), and it is required (columns found: {found or 'none'})",
        sheet=sheet,
        column=missing[0],
    )


def _read_cover(rows: list[list[Any]]) -> dict[str, CoverValue]:
    """Cover field -> value and row; field names compared ignoring case and spaces."""
    header = rows[0] if rows else []
    keys = [_key(value) for value in header]
    missing = [name for name in ("field", "value") if name not in keys]
    if missing:
        raise _missing_columns(COVER_SHEET, missing, header)
    field_at, value_at = keys.index("field"), keys.index("value")
    cover: dict[str, CoverValue] = {}
    for number, row in enumerate(rows[1:], start=2):
        name = _key(row[field_at])
        if name and name not in cover:
            value = row[value_at]
            cover[name] = CoverValue(None if _is_blank(value) else value, number)
    return cover


def _record_frame(
    sheet: Sheet, rows: list[list[Any]]
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The sheet's non-empty rows under its canonical columns, and its unknown columns."""
    header = rows[0] if rows else []
    # calamine's grid is rectangular: one 2-D object array, no per-column inference.
    body = np.array([_clean(row) for row in rows[1:]], dtype=object)
    body = body.reshape(max(len(rows) - 1, 0), len(header))
    filled = np.not_equal(body, None)
    position: dict[str, int] = {}
    extra: list[tuple[str, str]] = []
    for index, value in enumerate(header):
        key = _key(value)
        if key in sheet.column_names and key not in position:
            position[key] = index
        elif key or filled[:, index].any():
            extra.append(("" if value is None else str(value), column_letter(index)))
    missing = [name for name in sheet.column_names if name in sheet.required - position.keys()]
    if missing:
        raise _missing_columns(sheet.name, missing, header)
    kept = filled.any(axis=1)
    data = np.full((int(kept.sum()), len(sheet.column_names)), None, dtype=object)
    for target, name in enumerate(sheet.column_names):
        if name in position:
            data[:, target] = body[kept, position[name]]
    index = pd.Index(np.flatnonzero(kept) + 2, dtype="int64", name="row")
    columns = pd.Index(sheet.column_names, dtype=object)
    return pd.DataFrame(data, index=index, columns=columns, dtype=object, copy=False), extra


def read_workbook(path: Path, limits: Limits = DEFAULT_LIMITS) -> RawWorkbook:
    """Read a workbook file once, then check and parse those bytes (:func:`parse_workbook`)."""
    return parse_workbook(read_bytes(path, limits), limits)


def parse_workbook(data: bytes, limits: Limits = DEFAULT_LIMITS) -> RawWorkbook:
    """Check the container, then read the Cover and every record sheet in one pass.

    Raises :class:`WorkbookRejected` for anything that refuses the whole workbook: the
    container rules of :func:`check_container`, ``missing_sheet``, ``missing_column``
    and ``unreadable_file``. The sheet ``Guide`` and any other sheet are ignored.
    """
    check_bytes(data, limits)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # any parser failure on a hostile file means "unreadable"
        raise WorkbookRejected(
            "unreadable_file",
            f"the workbook cannot be read ({exc}); save it again and replace the file",
        ) from exc
    with book:
        actual = _locate_sheets(book.sheet_names)
        cover = _read_cover(_sheet_rows(book, actual[COVER_SHEET], COVER_SHEET))
        sheets: dict[str, pd.DataFrame] = {}
        extra_columns: dict[str, list[tuple[str, str]]] = {}
        for sheet in RECORD_SHEETS:
            rows = _sheet_rows(book, actual[sheet.name], sheet.name)
            sheets[sheet.name], extra_columns[sheet.name] = _record_frame(sheet, rows)
    return RawWorkbook(cover, sheets, extra_columns, hashlib.sha256(data).hexdigest())
