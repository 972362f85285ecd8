"""Reading a partner's workbook, once the guard has passed its bytes.

:func:`read_workbook` reads the file's bytes once (:mod:`pipelines.core.intake.guard`
checks them), then parses those same bytes with python-calamine (never openpyxl), in
one pass over the sheets it needs, and returns the Cover fields and one DataFrame per
record sheet, keyed by spreadsheet row number. Anything wrong with the workbook as a
whole raises :class:`WorkbookRejected`: a rule and its facts, which the rule registry
words for the partner. What the cached values hide (:mod:`pipelines.core.intake.cell_notes`)
is never read as a value: a hidden row of a record sheet is left out and named, a cell
that is an error, a formula without its result, a covered cell of a merged range, a
number shown as a percentage or a value in a hidden column is refused as what it is,
and a sheet that holds data but is not read is named.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from pipelines.core.intake.cell_notes import SheetNotes, read_notes, sheets_with_values
from pipelines.core.intake.guard import (
    DEFAULT_LIMITS,
    Limits,
    WorkbookRejected,
    check_bytes,
    column_letter,
    read_bytes,
)
from pipelines.core.intake.parsing import CellNote, clean_code
from pipelines.core.intake.reader_errors import unopenable, unreadable_sheet
from pipelines.core.metadata.tables import COVER_SHEET, GUIDE_SHEET, RECORD_SHEETS, Sheet


@dataclass(frozen=True)
class CoverValue:
    """A Cover field's value as the spreadsheet gives it, and the row it is on."""

    value: Any
    row: int


@dataclass(frozen=True)
class Finding:
    """A rule the reader found broken, or warns about, beyond one cell's value: a hidden
    row left out, a sheet not read. ``facts`` are what the rule's message quotes."""

    rule: str
    sheet: str
    row: int | None = None
    record_ref: object = None
    facts: tuple[tuple[str, object], ...] = ()


@dataclass
class RawWorkbook:
    """A workbook as read, before any value is validated or typed.

    ``cover`` maps every field name found on the Cover (stripped, lower case) to its
    value and row; when a field is repeated, its first row wins. ``sheets`` maps each
    record sheet to a DataFrame of dtype object with the sheet's canonical columns in
    order, indexed by spreadsheet row number (header = row 1). ``extra_columns`` lists
    the unknown columns of each sheet as (header, letter). ``sha256`` is the digest of
    the exact bytes that were checked and parsed. ``findings`` are the hidden rows left
    out of ``sheets`` and the unread sheets that hold data.
    """

    cover: dict[str, CoverValue]
    sheets: dict[str, pd.DataFrame]
    extra_columns: dict[str, list[tuple[str, str]]]
    sha256: str
    findings: list[Finding] = field(default_factory=list)


def _key(value: object) -> str:
    """A header or name as compared: spaces around it (any Unicode space) and case ignored."""
    if value is None:
        return ""
    text = str(value)
    return (text.strip() if text.isascii() else clean_code(text)).casefold()


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


def _clean(row: list[Any]) -> list[Any]:
    """calamine's '' for an empty cell, and whitespace-only text, become None."""
    return [None if _is_blank(value) else value for value in row]


def _sheet_rows(book: CalamineWorkbook, actual: str, sheet: str, data: bytes) -> list[list[Any]]:
    """The sheet's cells from A1, one list per spreadsheet row."""
    try:
        return book.get_sheet_by_name(actual).to_python(skip_empty_area=False)
    except Exception as exc:  # any parser failure on a hostile file means "unreadable"
        raise unreadable_sheet(data, sheet, exc) from exc


def _read_names(sheets: Sequence[Sheet]) -> list[str]:
    """The names of the sheets the pipeline reads: the Cover and the record sheets."""
    return [COVER_SHEET, *(sheet.name for sheet in sheets)]


def _locate_sheets(found: list[str], hidden: set[str], wanted: list[str]) -> dict[str, str]:
    """Canonical sheet name -> the sheet's name in the workbook.

    A missing sheet rejects the workbook, and so do two sheets that read as one name
    ('Events' and a hidden 'Events '): reading either would be a guess.
    """
    by_key: dict[str, list[str]] = {}
    for name in found:
        by_key.setdefault(_key(name), []).append(name)
    for name in wanted:
        rivals = by_key.get(_key(name), [])
        if len(rivals) > 1:
            shown = [f"'{r}'" + (" (hidden)" if r in hidden else "") for r in rivals]
            raise WorkbookRejected(
                "duplicate_sheet", sheet=name, count=len(rivals), sheets=" and ".join(shown)
            )
    missing = [name for name in wanted if _key(name) not in by_key]
    if missing:
        raise WorkbookRejected(
            "missing_sheet",
            sheet=missing[0],
            missing=", ".join(map(repr, missing)),
            wanted=", ".join(wanted),
            found=", ".join(found) or "none",
        )
    return {name: by_key[_key(name)][0] for name in wanted}


def _missing_columns(sheet: str, missing: list[str], header: list[Any]) -> WorkbookRejected:
    found = ", ".join(str(value).strip() for value in header if not _is_blank(value))
    return WorkbookRejected(
        "missing_column",
        sheet=sheet,
        column=missing[0],
        missing=", ".join(map(repr, missing)),
        found=found or "none",
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


def _check_unique_columns(sheet: Sheet, header: list[Any]) -> None:
    """Two headers naming one template column: which holds the values would be a guess."""
    names = set(sheet.column_names)
    letters: dict[str, list[str]] = {}
    for index, value in enumerate(header):
        if (key := _key(value)) in names:
            letters.setdefault(key, []).append(column_letter(index))
    for column, found in letters.items():
        if len(found) > 1:
            raise WorkbookRejected(
                "duplicate_column", sheet=sheet.name, column=column, letters=" and ".join(found)
            )


def _apply_notes(rows: list[list[Any]], notes: SheetNotes | None, sheet: Sheet | None) -> None:
    """Put what the cached values hide into the grid: an error cell, a formula without
    its result or a covered cell of a merged range becomes a :class:`CellNote`, a link in
    a URL column its address. On a record sheet, a number shown as a percentage in an
    amount or count column, and a value in a hidden template column, become notes too."""
    if notes is None:
        return
    header = rows[0] if rows else []
    url_columns = {i for i, value in enumerate(header) if _key(value).endswith("url")}

    def put(row: int, column: int, value: object) -> None:
        if 0 < row < len(rows) and column < len(rows[row]):
            rows[row][column] = value

    for (row, column), text in notes.errors.items():
        put(row, column, CellNote("error_cell", text))
    for (row, column), formula in notes.unsaved.items():
        put(row, column, CellNote("formula_without_value", formula))
    for (top, left), (bottom, right) in notes.merges:
        if top >= len(rows) or left >= len(rows[top]) or _is_blank(rows[top][left]):
            continue  # an empty merged range hides nothing
        span = f"{column_letter(left)}{top + 1}:{column_letter(right)}{bottom + 1}"
        for row in range(max(top, 1), min(bottom + 1, len(rows))):
            for column in range(left, min(right + 1, len(rows[row]))):
                if (row, column) != (top, left):
                    put(row, column, CellNote("merged_cell", span))
    for (row, column), address in notes.links.items():
        if column in url_columns and (row, column) not in notes.errors and row < len(rows):
            shown = rows[row][column] if column < len(rows[row]) else ""
            put(row, column, address or CellNote("computed_hyperlink", str(shown)))
    if sheet is not None:
        _note_sheet_columns(rows, notes, sheet)


_NUMBER_KINDS = frozenset({"decimal", "integer"})


def _note_sheet_columns(rows: list[list[Any]], notes: SheetNotes, sheet: Sheet) -> None:
    """Amount and count cells shown as percentages, and values in hidden template columns,
    become :class:`CellNote`: the partner does not see the value that would be read."""
    kinds = {f.name: f.kind for f in sheet.columns}
    columns = {i: _key(value) for i, value in enumerate(rows[0] if rows else [])}
    numbers = {i for i, name in columns.items() if kinds.get(name) in _NUMBER_KINDS}
    for row, column in notes.percentages:
        value = rows[row][column] if 0 < row < len(rows) and column in numbers else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            shown = f"{value * 100:.15g}%"
            rows[row][column] = CellNote("number_format_misleads", shown, _AS_PERCENTAGE)
    hidden = [i for i, name in columns.items() if name in kinds and notes.column_hidden(i)]
    for column in hidden:
        letter = (("letter", column_letter(column)),)
        for row in rows[1:]:
            if not _is_blank(row[column]):
                row[column] = CellNote("hidden_column", str(row[column]), letter)


_AS_PERCENTAGE = (("shown_as", "a percentage"),)


def _record_frame(
    sheet: Sheet, rows: list[list[Any]], notes: SheetNotes | None
) -> tuple[pd.DataFrame, list[tuple[str, str]], list[Finding]]:
    """The sheet's non-empty visible rows under its canonical columns, its unknown
    columns, and a ``hidden_row`` finding for each hidden row that holds a record."""
    header = rows[0] if rows else []
    _check_unique_columns(sheet, header)
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
    hidden = _hidden_records(sheet, body, kept, position, notes)
    for finding in hidden:
        kept[finding.row - 2] = False
    data = np.full((int(kept.sum()), len(sheet.column_names)), None, dtype=object)
    for target, name in enumerate(sheet.column_names):
        if name in position:
            data[:, target] = body[kept, position[name]]
    index = pd.Index(np.flatnonzero(kept) + 2, dtype="int64", name="row")
    columns = pd.Index(sheet.column_names, dtype=object)
    frame = pd.DataFrame(data, index=index, columns=columns, dtype=object, copy=False)
    return frame, extra, hidden


def _hidden_records(
    sheet: Sheet,
    body: np.ndarray,
    kept: np.ndarray,
    position: dict[str, int],
    notes: SheetNotes | None,
) -> list[Finding]:
    """A ``hidden_row`` finding for each non-empty row the sheet hides (body row i is
    spreadsheet row i + 2)."""
    if notes is None or not notes.hidden_rows:
        return []
    found = []
    for index in np.flatnonzero(kept):
        if notes.row_hidden(int(index) + 1):
            ref = body[index, position[sheet.ref]] if sheet.ref in position else None
            row = int(index) + 2
            facts = (("row_number", row),)
            found.append(Finding("hidden_row", sheet.name, row, _note_free(ref), facts))
    return found


def _note_free(value: object) -> object:
    """A cell's value as a record's key, or None when the cell holds a note instead."""
    return None if isinstance(value, CellNote) else value


def _unread_sheets(
    book: CalamineWorkbook, data: bytes, read: set[str], hidden: set[str], wanted: list[str]
) -> list[Finding]:
    """An ``unread_sheet`` finding for each sheet, beyond those read and the Guide, that
    holds any value: a hidden 'EVENTS1' or an 'Events (2)' would otherwise pass unseen.
    Told from the sheets' XML, so an unread sheet is never parsed into a grid."""
    others = [n for n in book.sheet_names if n not in read and _key(n) != _key(GUIDE_SHEET)]
    holding = sheets_with_values(data, others) if others else set()
    shown = ", ".join(f"'{name}'" for name in wanted)
    return [
        Finding(
            "unread_sheet",
            name,
            facts=(("hidden", " (hidden)" if name in hidden else ""), ("read", shown)),
        )
        for name in others
        if name in holding
    ]


def read_workbook(
    path: Path, limits: Limits = DEFAULT_LIMITS, sheets: Sequence[Sheet] = RECORD_SHEETS
) -> RawWorkbook:
    """Read a workbook file once, then check and parse those bytes (:func:`parse_workbook`)."""
    return parse_workbook(read_bytes(path, limits), limits, sheets)


def parse_workbook(
    data: bytes, limits: Limits = DEFAULT_LIMITS, sheets: Sequence[Sheet] = RECORD_SHEETS
) -> RawWorkbook:
    """Check the container, then read the Cover and every record sheet in one pass
    (``sheets``: the standard four unless the project adds its own, ``ref.record_sheets``).

    Raises :class:`WorkbookRejected` for anything that refuses the whole workbook: the
    container rules of :func:`check_container`, ``missing_sheet``, ``missing_column``
    and what the reader cannot read (:mod:`pipelines.core.intake.reader_errors`). The sheet
    ``Guide`` is not read; any other sheet is bounded only by its bytes, and named in an
    ``unread_sheet`` finding when it holds data.
    """
    wanted = _read_names(sheets)
    read_keys = frozenset(_key(name) for name in wanted)
    inspected = check_bytes(data, limits, reads=lambda name: _key(name) in read_keys)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # any parser failure on a hostile file means "unreadable"
        raise unopenable(data, inspected.kind, exc) from exc
    with book:
        hidden = {s.name for s in book.sheets_metadata if s.visible != SheetVisibleEnum.Visible}
        actual = _locate_sheets(book.sheet_names, hidden, wanted)
        noted = [name for name in actual.values() if inspected.may_hold_notes(name)]
        notes = read_notes(data, noted) if noted else {}
        rows = _sheet_rows(book, actual[COVER_SHEET], COVER_SHEET, data)
        _apply_notes(rows, notes.get(actual[COVER_SHEET]), None)
        cover = _read_cover(rows)
        frames: dict[str, pd.DataFrame] = {}
        extra_columns: dict[str, list[tuple[str, str]]] = {}
        findings: list[Finding] = []
        for sheet in sheets:
            rows = _sheet_rows(book, actual[sheet.name], sheet.name, data)
            sheet_notes = notes.get(actual[sheet.name])
            _apply_notes(rows, sheet_notes, sheet)
            frame, extra_columns[sheet.name], hidden_rows = _record_frame(sheet, rows, sheet_notes)
            frames[sheet.name] = frame
            findings += hidden_rows
        findings += _unread_sheets(book, data, set(actual.values()), hidden, wanted)
    sha256 = hashlib.sha256(data).hexdigest()
    return RawWorkbook(cover, frames, extra_columns, sha256, findings)
