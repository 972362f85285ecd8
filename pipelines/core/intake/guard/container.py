"""The guard's first stage: the file's bytes and its zip container.

A workbook comes from outside the project, so it is hostile until checked. The file
is read once, within a size limit (refused on its size before a byte is read); then
the zip container is checked before any spreadsheet parser sees it: kind, number of
parts, and how far every part *really* inflates (headers can lie, so the bytes are
counted as they are decompressed). The XML scans of :mod:`.xml_parts` use the
inflater and the bounds defined here.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.metadata.rules import message_for

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
    """The whole workbook is refused; ``message`` tells the partner what to do.

    The rule registry words the message from ``facts``; a ``problem`` the reader
    describes in its own words (which part, which limit) is one of them.
    """

    def __init__(
        self,
        rule: str,
        problem: str | None = None,
        sheet: str | None = None,
        column: str | None = None,
        **facts: object,
    ) -> None:
        self.rule = rule
        self.sheet = sheet
        self.column = column
        self.facts = facts if problem is None else {"problem": problem, **facts}
        self.message = message_for(rule, column=column, sheet=sheet, **self.facts)
        super().__init__(self.message)


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index: 0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    letters = ""
    number = index + 1
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str | bytes) -> int:
    """1-based column number of spreadsheet letters ('A' -> 1), any case, no upper bound."""
    text = letters.decode("ascii") if isinstance(letters, bytes) else letters
    number = 0
    for char in text.upper():
        number = number * 26 + ord(char) - 64
    return number


def mib(n: int) -> str:
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
            check_size(before.st_size, limits)
        data = handle.read(limits.max_file_bytes + 1)
        after = os.fstat(handle.fileno())
    unchanged = (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    if not unchanged or len(data) != before.st_size:
        raise FileGone(f"{path} changed while it was being read")
    return data


def check_size(size: int, limits: Limits) -> None:
    if size == 0:
        raise WorkbookRejected("empty_file")
    if size > limits.max_file_bytes:
        raise WorkbookRejected("file_too_large", limit=mib(limits.max_file_bytes))


# --- the container --------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
NOT_A_WORKBOOK = "this file is not an .xlsx or .ods workbook"
SAVE_AS = "save it from your spreadsheet program as Excel Workbook (.xlsx)"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Parts read whole (they are small) to learn the sheet names and the kind of file.
METADATA_PARTS = ("mimetype", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")
_METADATA_MAX_BYTES = 1 * MiB


def open_zip(data: bytes) -> zipfile.ZipFile:
    if data.startswith(_OLE_MAGIC):
        raise WorkbookRejected(
            "not_a_spreadsheet",
            f"{NOT_A_WORKBOOK}: it looks like an old Excel 97-2003 (.xls) file or a"
            f" password-protected workbook; remove any password and {SAVE_AS}",
        )
    if not data.startswith(b"PK"):
        raise WorkbookRejected("not_a_spreadsheet", f"{NOT_A_WORKBOOK}; {SAVE_AS}")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise WorkbookRejected(
            "unreadable_file",
            "the file is damaged and cannot be opened (it may have been cut short while"
            " copying or uploading); save your workbook again and replace the file",
        ) from exc


def check_entries(archive: zipfile.ZipFile, limits: Limits) -> list[zipfile.ZipInfo]:
    """Entry count, duplicates and declared sizes: cheap checks before inflating anything."""
    infos = archive.infolist()
    if len(infos) > limits.max_zip_entries:
        raise bomb(
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
        raise bomb(f"the file declares {mib(declared)} of content, more than the {cap(limits)}")
    return infos


def cap(limits: Limits) -> str:
    return f"{mib(limits.max_uncompressed_bytes)} allowed once opened"


def bomb(what: str) -> WorkbookRejected:
    return WorkbookRejected("zip_bomb", what=what)


def _check_ratio(info: zipfile.ZipInfo, produced: int, limits: Limits) -> None:
    if (
        produced > limits.ratio_min_bytes
        and produced > limits.max_compression_ratio * info.compress_size
    ):
        raise bomb(
            f"the part {info.filename!r} expands more than {limits.max_compression_ratio} times"
            " its compressed size, which a workbook never does"
        )


def workbook_kind(names: set[str]) -> str:
    """'xlsx' or 'ods' from the part names alone; anything else is refused."""
    if "xl/workbook.bin" in names:
        raise WorkbookRejected(
            "not_a_spreadsheet",
            f"{NOT_A_WORKBOOK}: it is an Excel binary workbook (.xlsb); {SAVE_AS}",
        )
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "content.xml" in names:
        return "ods"
    raise WorkbookRejected(
        "not_a_spreadsheet",
        f"{NOT_A_WORKBOOK}: it is a zip archive with no spreadsheet inside (perhaps another"
        f" kind of document renamed); {SAVE_AS}",
    )


class Budget:
    """Bytes actually inflated so far across the whole file, against the cap."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0

    def spend(self, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_uncompressed_bytes:
            raise bomb(f"the file expands to more than the {cap(self.limits)}")


_CHUNK = 64 * 1024
_LOCAL_HEADER_SIZE = 30


def inflate(
    data: bytes, info: zipfile.ZipInfo, limits: Limits, budget: Budget | None
) -> Iterator[bytes]:
    """The part's bytes as they really inflate, stopped as soon as a limit is passed.

    The raw deflate stream is inflated here, chunk by chunk, so the sizes the headers
    declare (which may lie) play no part: every byte produced is counted.
    """
    if info.flag_bits & 0x1:
        raise WorkbookRejected(
            "unreadable_file",
            f"the workbook is password-protected; remove the password and {SAVE_AS}",
        )
    raw = _raw_stream(data, info)
    if info.compress_type == zipfile.ZIP_STORED:
        chunks: Iterator[bytes] = (bytes(raw[i : i + _CHUNK]) for i in range(0, len(raw), _CHUNK))
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        chunks = _deflated(raw, info.filename)
    else:
        raise damaged(info.filename, "it uses a compression method workbooks never use")
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
        raise damaged(info.filename, "its header is missing")
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    begin = start + _LOCAL_HEADER_SIZE + name_length + extra_length
    if begin + info.compress_size > len(data):
        raise damaged(info.filename, "it is cut short")
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
                raise damaged(part, "its data do not decompress")
    except zlib.error as exc:
        raise damaged(part, "its data do not decompress") from exc


def damaged(part: str, why: str) -> WorkbookRejected:
    return WorkbookRejected(
        "unreadable_file",
        f"the file is damaged: its part {part!r} is unreadable ({why}); save your workbook"
        " again and replace the file",
    )


def drain(chunks: Iterable[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


def read_small(data: bytes, info: zipfile.ZipInfo, limits: Limits, budget: Budget) -> bytes:
    """A metadata part's bytes; one too large to read whole is never genuine."""
    kept: list[bytes] = []
    size = 0
    for chunk in inflate(data, info, limits, budget):
        size += len(chunk)
        if size > _METADATA_MAX_BYTES:
            raise damaged(info.filename, "it is far larger than a workbook ever needs")
        kept.append(chunk)
    return b"".join(kept)


# --- bounds on what the parser would build ----------------------------------------------


def check_extent(sheet: str, rows: int, columns: int, limits: Limits, used: str = "") -> None:
    """Refuse a sheet whose cell grid reaches beyond the row or column limit."""
    if rows <= limits.max_rows and columns <= limits.max_columns:
        return
    used = used or f"A1:{column_letter(max(columns, 1) - 1)}{max(rows, 1)}"
    allowed = f"A1:{column_letter(limits.max_columns - 1)}{limits.max_rows}"
    raise WorkbookRejected(
        "sheet_too_large",
        sheet=sheet,
        used=used,
        rows=limits.max_rows,
        columns=limits.max_columns,
        allowed=allowed,
    )


def check_dimension(sheet: str, ref: str, limits: Limits) -> None:
    """Refuse a sheet that declares an enormous used range (<dimension ref="A1:XFD1048576"/>)."""
    match = re.fullmatch(r"\$?([A-Za-z]+)\$?([0-9]+)", ref.rpartition(":")[2].strip())
    if match:
        rows, columns = int(match.group(2)), column_number(match.group(1))
        check_extent(sheet, rows, columns, limits, used=ref.strip())


def too_much_text(limits: Limits) -> WorkbookRejected:
    return bomb(
        f"the cells of the workbook expand to more than {limits.max_text_chars:,} characters of"
        " text once opened (the same long text copied into very many cells)"
    )
