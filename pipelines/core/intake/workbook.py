"""Reading a partner's workbook, once the guard has passed its bytes.

:func:`read_workbook` reads the file's bytes once (:mod:`pipelines.core.intake.guard`
checks them), then parses those same bytes with python-calamine (never openpyxl), in
one pass over the sheets it needs, and returns the Cover fields and one DataFrame per
record sheet, keyed by spreadsheet row number. Anything wrong with the workbook as a
whole raises :class:`WorkbookRejected`, whose ``rule`` and ``message`` go to the
partner unchanged.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from pipelines.core.intake.cell_notes import SheetNotes, read_notes
from pipelines.core.intake.guard import (
    DEFAULT_LIMITS,
    Limits,
    WorkbookRejected,
    check_bytes,
    column_letter,
    read_bytes,
)
from pipelines.core.intake.parsing import CellNote, clean_code
from pipelines.core.metadata.tables import COVER_SHEET, RECORD_SHEETS, Sheet


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


def _locate_sheets(found: list[str], hidden: set[str]) -> dict[str, str]:
    """Canonical sheet name -> the sheet's name in the workbook.

    A missing sheet rejects the workbook, and so do two sheets that read as one name
    ('Events' and a hidden 'Events '): reading either would be a guess.
    """
    by_key: dict[str, list[str]] = {}
    for name in found:
        by_key.setdefault(_key(name), []).append(name)
    wanted = [COVER_SHEET, *(sheet.name for sheet in RECORD_SHEETS)]
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


def _apply_notes(rows: list[list[Any]], notes: SheetNotes | None) -> None:
    """Put what the cached values hide into the grid: an error cell or a covered cell of
    a merged range becomes a :class:`CellNote`, and a link in a URL column its address."""
    if notes is None:
        return
    header = rows[0] if rows else []
    url_columns = {i for i, value in enumerate(header) if _key(value).endswith("url")}

    def put(row: int, column: int, value: object) -> None:
        if 0 < row < len(rows) and column < len(rows[row]):
            rows[row][column] = value

    for (row, column), text in notes.errors.items():
        put(row, column, CellNote("error_cell", text))
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


def _record_frame(
    sheet: Sheet, rows: list[list[Any]]
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The sheet's non-empty rows under its canonical columns, and its unknown columns."""
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
    inspected = check_bytes(data, limits)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # any parser failure on a hostile file means "unreadable"
        raise WorkbookRejected(
            "unreadable_file",
            f"the workbook cannot be read ({exc}); save it again and replace the file",
        ) from exc
    with book:
        hidden = {s.name for s in book.sheets_metadata if s.visible != SheetVisibleEnum.Visible}
        actual = _locate_sheets(book.sheet_names, hidden)
        noted = [name for name in actual.values() if inspected.may_hold_notes(name)]
        notes = read_notes(data, noted) if noted else {}
        rows = _sheet_rows(book, actual[COVER_SHEET], COVER_SHEET)
        _apply_notes(rows, notes.get(actual[COVER_SHEET]))
        cover = _read_cover(rows)
        sheets: dict[str, pd.DataFrame] = {}
        extra_columns: dict[str, list[tuple[str, str]]] = {}
        for sheet in RECORD_SHEETS:
            rows = _sheet_rows(book, actual[sheet.name], sheet.name)
            _apply_notes(rows, notes.get(actual[sheet.name]))
            sheets[sheet.name], extra_columns[sheet.name] = _record_frame(sheet, rows)
    return RawWorkbook(cover, sheets, extra_columns, hashlib.sha256(data).hexdigest())
