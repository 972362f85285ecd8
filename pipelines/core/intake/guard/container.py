"""The guard's first stage: the file's bytes and its zip container.

A workbook comes from outside the project, so it is hostile until checked. The file
is read once, within a size limit (refused on its size before a byte is read); then
the zip container is checked before any spreadsheet parser sees it: number of parts,
and how far every part *really* inflates (headers can lie, so the bytes are counted
as they are decompressed). The XML scans of :mod:`.xml_parts` use the inflater and
the bounds defined here. Every refusal is a :class:`WorkbookRejected`: a rule name
and facts, never a message.
"""

from __future__ import annotations

import io
import os
import stat
import string
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

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
    """The whole workbook is refused, by the rule ``rule``, for the reasons in ``facts``.

    The guard only names the rule and hands over the facts (a part's name, a limit, a
    size); the rule registry (:mod:`pipelines.core.metadata.rules`) words the message the partner
    reads.
    """

    def __init__(
        self, rule: str, sheet: str | None = None, column: str | None = None, **facts: object
    ) -> None:
        self.rule = rule
        self.sheet = sheet
        self.column = column
        self.facts = facts
        shown = ", ".join(f"{key}={value!r}" for key, value in facts.items())
        super().__init__(f"{rule} (sheet={sheet!r}, {shown})" if sheet else f"{rule} ({shown})")


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
        raise WorkbookRejected("unreadable_file", reason=exc.strerror) from exc
    with os.fdopen(fd, "rb") as handle:
        before = os.fstat(handle.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise WorkbookRejected("not_a_regular_file", file=path.name)
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


def open_zip(data: bytes) -> zipfile.ZipFile:
    if data.startswith(_OLE_MAGIC):
        raise WorkbookRejected("legacy_excel_file")
    if not data.startswith(b"PK"):
        raise WorkbookRejected("not_a_spreadsheet")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise WorkbookRejected("damaged_file") from exc


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def ascii_lower(text: str) -> str:
    """``text`` with its ASCII letters in lower case, and only those (as Rust's)."""
    return text.translate(_ASCII_LOWER)


def part_key(name: str) -> str:
    """A part's name as python-calamine looks it up: '\\' read as '/', ASCII case ignored."""
    return ascii_lower(name.replace("\\", "/"))


def check_entries(archive: zipfile.ZipFile, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """Entry count, duplicates and declared sizes: cheap checks before inflating anything.

    Returns every part by its :func:`part_key`.
    """
    infos = archive.infolist()
    if len(infos) > limits.max_zip_entries:
        raise WorkbookRejected("too_many_parts", parts=len(infos), limit=limits.max_zip_entries)
    by_key: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        key = part_key(info.filename)
        if key in by_key:  # which of the two the parser would read is a guess
            raise WorkbookRejected("duplicate_part", part=info.filename)
        by_key[key] = info
        _check_ratio(info, info.file_size, limits)
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_uncompressed_bytes:
        raise content_too_large(declared, limits)
    return by_key


def content_too_large(size: int, limits: Limits) -> WorkbookRejected:
    return WorkbookRejected(
        "content_too_large", size=mib(size), limit=mib(limits.max_uncompressed_bytes)
    )


def _check_ratio(info: zipfile.ZipInfo, produced: int, limits: Limits) -> None:
    if (
        produced > limits.ratio_min_bytes
        and produced > limits.max_compression_ratio * info.compress_size
    ):
        raise WorkbookRejected("zip_bomb", part=info.filename, ratio=limits.max_compression_ratio)


class Budget:
    """Bytes actually inflated so far across the whole file, against the cap."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0

    def spend(self, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_uncompressed_bytes:
            raise content_too_large(self.total, self.limits)


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
        raise WorkbookRejected("password_protected")
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


def damaged(part: str, defect: str) -> WorkbookRejected:
    """A part that no spreadsheet program writes; ``defect`` is what is wrong with it."""
    return WorkbookRejected("damaged_part", part=part, defect=defect)


def drain(chunks: Iterable[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


_METADATA_MAX_BYTES = 1 * MiB


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


def check_extent(sheet: str, rows: int, columns: int, limits: Limits) -> None:
    """Refuse a sheet whose values reach beyond the row or column limit.

    The parser builds the grid from A1 to the last row and column that hold a value.
    """
    if rows <= limits.max_rows and columns <= limits.max_columns:
        return
    used = f"A1:{column_letter(max(columns, 1) - 1)}{max(rows, 1)}"
    allowed = f"A1:{column_letter(limits.max_columns - 1)}{limits.max_rows}"
    raise WorkbookRejected(
        "sheet_too_large",
        sheet=sheet,
        used=used,
        rows=limits.max_rows,
        columns=limits.max_columns,
        allowed=allowed,
    )


def too_much_text(limits: Limits) -> WorkbookRejected:
    return WorkbookRejected("too_much_text", limit=limits.max_text_chars)
