"""``sheets.yaml``: the record sheets a project asks for beyond the standard four.

Events, GoodPractices, PolicyMeasures and Collaborations are every project's sheets; a
project adds its own (organisations with increased capacity, solutions taken up) by
declaring each sheet's name, published table, key column and columns. A column is a
field the product already knows (``title``, ``country``...), named alone, or one of the
project's own with its kind, whether it is required, its allowed values and range. The
sheet then gets everything the standard sheets get from their declaration: the
template's sheet and Guide, the reader, the Pandera checks, a published table, its
dictionary entry, and indicators that count or sum its records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from pipelines.core.metadata.fields import FIELDS, KEY_ALPHABET, Field
from pipelines.core.metadata.sheets import COVER_SHEET, GUIDE_SHEET, RECORD_SHEETS
from pipelines.core.metadata.table_model import Sheet
from pipelines.core.metadata.tables import published_tables
from pipelines.core.reference.project import SAFE_LOADER

SHEETS_FILE = "sheets.yaml"
KINDS = {"text": "string", "integer": "integer", "amount": "decimal", "date": "date"}
"""The kinds a project's own column may take, in the words of ``sheets.yaml``."""
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SHEET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,30}$")
_SHEET_KEYS = {"sheet", "table", "key", "description", "columns"}
_COLUMN_KEYS = {"column", "kind", "required", "description", "allowed", "min", "max"}
# Columns every fact table has already (its lineage and trace).
_RESERVED = {"partner_id", "period_id", "first_reported_period_id", "file", "sha256", "row"}
_TAKEN_TABLES = set(published_tables())
_STANDARD_SHEETS = {s.name.casefold() for s in RECORD_SHEETS} | {
    COVER_SHEET.casefold(),
    GUIDE_SHEET.casefold(),
}


class SheetsFileError(ValueError):
    """``sheets.yaml`` declares something the pipeline cannot read; one line per problem."""


def _unknown_settings(
    entry: Mapping, known: set[str], what: str, where: str, problems: list[str]
) -> None:
    """Name the settings of an entry that ``what`` does not take, with those it does."""
    unknown = set(entry) - known
    if unknown:
        problems.append(
            f"{where}: unknown setting {', '.join(sorted(map(str, unknown)))};"
            f" {what} takes {', '.join(sorted(known))}"
        )


def _number(value: object, what: str, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{what} must be a whole number, got {value!r}")
        return None
    return value


def _own_column(entry: Mapping, name: str, where: str, problems: list[str]) -> Field | None:
    """A column of the project's own: its kind, meaning, allowed values and range."""
    kind = KINDS.get(str(entry.get("kind", "")).strip())
    if kind is None:
        problems.append(
            f"{where}: '{name}' is not a column the product knows, so give its kind:"
            f" one of {', '.join(KINDS)}"
        )
        return None
    description = str(entry.get("description") or "").strip()
    if not description:
        problems.append(f"{where}: '{name}' needs a description (what a partner writes there)")
    allowed = entry.get("allowed")
    if allowed is not None and (
        kind != "string" or not isinstance(allowed, list) or not all(allowed)
    ):
        problems.append(f"{where}: 'allowed' is a list of values, for a text column only")
        allowed = None
    low = _number(entry.get("min"), f"{where}: 'min'", problems)
    high = _number(entry.get("max"), f"{where}: 'max'", problems)
    if (low is not None or high is not None) and kind != "integer":
        problems.append(f"{where}: 'min' and 'max' are for an integer column only")
        low = high = None
    return Field(
        name,
        kind,
        description or name,
        enum=tuple(str(v) for v in allowed) if allowed else None,
        min_value=low,
        max_value=high,
    )


def _column(entry: object, where: str, problems: list[str]) -> tuple[Field, bool] | None:
    """The field a column entry declares, and whether it is required."""
    if not isinstance(entry, Mapping) or "column" not in entry:
        problems.append(f"{where}: write each column as 'column: <name>' with its settings")
        return None
    _unknown_settings(entry, _COLUMN_KEYS, "a column", where, problems)
    name = str(entry["column"]).strip()
    if not _NAME.match(name) or name in _RESERVED:
        problems.append(
            f"{where}: column '{name}' must be lower case letters, digits and '_', and not"
            f" one of {', '.join(sorted(_RESERVED))} (every table has those)"
        )
        return None
    required = entry.get("required", False)
    if not isinstance(required, bool):
        problems.append(f"{where}: 'required' is true or false")
        required = False
    known = FIELDS.get(name)
    if known is None:
        field = _own_column(entry, name, f"{where} ('{name}')", problems)
    elif {"kind", "allowed", "min", "max"} & set(entry):
        problems.append(
            f"{where}: '{name}' is a column the product knows ({known.description});"
            " name it alone (a description may be given), or give your column another name"
        )
        return None
    else:
        text = entry.get("description")
        field = known.with_description(str(text).strip()) if text else known
    return None if field is None else (field, required)


def _sheet(entry: object, where: str, problems: list[str]) -> Sheet | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: write each sheet as 'sheet: <name>' with its settings")
        return None
    _unknown_settings(entry, _SHEET_KEYS, "a sheet", where, problems)
    name = str(entry.get("sheet") or "").strip()
    table = str(entry.get("table") or "").strip()
    key = str(entry.get("key") or "").strip()
    description = str(entry.get("description") or "").strip()
    before = len(problems)
    if not _SHEET_NAME.match(name) or name.casefold() in _STANDARD_SHEETS:
        problems.append(
            f"{where}: 'sheet' is the workbook sheet's name: a letter, then letters and digits"
            " (at most 31), and not Cover, Guide or a standard sheet"
        )
    if not _NAME.match(table) or table in _TAKEN_TABLES:
        problems.append(
            f"{where}: 'table' is the published table's name: lower case letters, digits"
            f" and '_', and not one the pipeline publishes already ({table or 'none'})"
        )
    if not description:
        problems.append(f"{where}: 'description' says what a row of the sheet is")
    raw_columns = entry.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        problems.append(f"{where}: 'columns' lists the sheet's columns, the key first")
        raw_columns = []
    columns: list[Field] = []
    required = set()
    for number, raw in enumerate(raw_columns, start=1):
        declared = _column(raw, f"{where}, column {number}", problems)
        if declared is None:
            continue
        field, needed = declared
        if field.name in {c.name for c in columns}:
            problems.append(f"{where}: column '{field.name}' is declared twice")
            continue
        columns.append(field)
        if needed:
            required.add(field.name)
    names = [c.name for c in columns]
    if key not in names:
        problems.append(f"{where}: 'key' must name one of the sheet's columns ({key or 'none'})")
    elif next(c for c in columns if c.name == key).kind != "string":
        problems.append(f"{where}: the key column '{key}' must be a text column")
    if len(problems) > before:
        return None
    columns = [c if c.name != key or c.alphabet else _as_key(c) for c in columns]
    return Sheet(
        name=name,
        table=table,
        ref=key,
        columns=tuple(columns),
        required=frozenset(required | {key}),
        description=description,
    )


def _as_key(field: Field) -> Field:
    """A key column is compared exactly, so it takes the characters of every key."""
    return Field(field.name, field.kind, field.description, alphabet=KEY_ALPHABET)


def load_record_sheets(folder: Path) -> tuple[Sheet, ...]:
    """The record sheets ``sheets.yaml`` adds (none without the file); raises
    :class:`SheetsFileError` with every problem found."""
    path = folder / SHEETS_FILE
    if not path.exists():
        return ()
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SheetsFileError(f"{SHEETS_FILE}: cannot be read ({exc})") from exc
    if not isinstance(document, Mapping) or set(document) != {"sheets"}:
        raise SheetsFileError(f"{SHEETS_FILE}: write one list, 'sheets:', of the sheets to add")
    entries = document["sheets"] or []
    if not isinstance(entries, list):
        raise SheetsFileError(f"{SHEETS_FILE}: 'sheets' is a list (each entry starts with '- ')")
    problems: list[str] = []
    sheets = [_sheet(e, f"{SHEETS_FILE}, sheet {n}", problems) for n, e in enumerate(entries, 1)]
    found = [s for s in sheets if s is not None]
    for attribute in ("name", "table"):
        values = [getattr(s, attribute).casefold() for s in found]
        for value in sorted({v for v in values if values.count(v) > 1}):
            problems.append(f"{SHEETS_FILE}: two sheets have the {attribute} '{value}'")
    if problems:
        raise SheetsFileError("\n".join(problems))
    return tuple(found)
