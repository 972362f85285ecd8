"""The partner workbook (SPEC section 3), written from the sheet and field definitions.

Everything a partner reads in the workbook — the Guide, the header notes, the
drop-down lists and the number formats — is derived from :mod:`pipelines.core.metadata.tables`
and :mod:`pipelines.core.metadata.fields`, so the template cannot drift from what validation
expects. The same writer fills workbooks with records, which is how the synthetic
samples are made; a path ending in ``.ods`` gives an OpenDocument copy without
drop-downs, for partners on LibreOffice.

The bytes depend only on the inputs (fixed document dates, fixed zip timestamps),
so a regenerated sample changes only where its content changes, and the pipeline,
which addresses file versions by SHA-256, sees no spurious new versions.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from pipelines.core.metadata.fields import KINDS, Field
from pipelines.core.metadata.tables import (
    COVER_FIELDS,
    COVER_SHEET,
    GUIDE_SHEET,
    TEMPLATE_VERSION,
    Sheet,
)
from pipelines.core.outputs.template_checks import (
    PREFILLED_COVER,
    Context,
    TemplateError,
    check_for,
    context_for,
    cover_check,
)
from pipelines.core.outputs.template_ods import ods_bytes
from pipelines.platform.files import write_atomic

Records = Mapping[str, Sequence[Mapping[str, object]]]

# Drop-downs and checks cover this many spreadsheet rows (header included), or more
# when more records are written.
VALIDATED_ROWS = 1000


_WIDE_TEXT = frozenset({"title", "description", "organisation", "theme", "source"})
_LINKS = frozenset({"evidence_url", "url", "contact_email"})


# --- inputs ----------------------------------------------------------------------


def _checked_records(
    records: Records | None, ctx: Context
) -> dict[str, list[Mapping[str, object]]]:
    """Records per sheet name; unknown sheets or columns are a caller's mistake."""
    sheets = {s.name: s for s in ctx.ref.record_sheets}
    out: dict[str, list[Mapping[str, object]]] = {s.name: [] for s in ctx.ref.record_sheets}
    for name, rows in (records or {}).items():
        if name not in sheets:
            raise TemplateError(f"unknown sheet {name!r}; record sheets: {', '.join(sheets)}")
        for row in rows:
            unknown = set(row) - set(sheets[name].column_names)
            if unknown:
                raise TemplateError(f"unknown column(s) {sorted(unknown)} for sheet {name!r}")
        out[name] = list(rows)
    return out


def _cover_values(ctx: Context, cover: Mapping[str, object] | None) -> dict[str, object]:
    """The Cover pre-filled for the partner and period, with the caller's overrides."""
    names = [f.name for f in COVER_FIELDS]
    unknown = set(cover or {}) - set(names)
    if unknown:
        raise TemplateError(f"unknown Cover field(s) {sorted(unknown)}; fields: {', '.join(names)}")
    values: dict[str, object] = dict.fromkeys(names)
    values.update(
        partner_id=ctx.partner_id, period_id=ctx.period_id, template_version=TEMPLATE_VERSION
    )
    values.update(cover or {})
    return values


@dataclass(frozen=True)
class _Line:
    """One row of the Guide: its style and its cells."""

    style: str  # title, heading, text, table_header, table_row
    cells: tuple[str, ...]


def _guide_intro(ctx: Context) -> list[_Line]:
    period = ctx.period
    name = ctx.ref.partner_name(ctx.partner_id, on=period["end_date"])
    target = f"raw/{ctx.partner_id}/{ctx.period_id}.xlsx"
    phase = ctx.ref.project.phase_name(period["phase"])
    if not ctx.instruments:
        instrument = f"{ctx.partner_id} addresses no policy instrument: leave PolicyMeasures empty."
    else:
        rows = ctx.ref.policy_instruments
        names = dict(zip(rows["policy_instrument_id"], rows["name"], strict=True))
        listed = "; ".join(f"{i} ({names[i]})" for i in ctx.instruments)
        plural = "s" if len(ctx.instruments) > 1 else ""
        instrument = f"Your policy instrument{plural}: {listed}."
    return [
        _Line("title", (f"{ctx.ref.project.name} — partner report",)),
        _Line("text", (f"Partner: {ctx.partner_id} {name}",)),
        _Line(
            "text",
            (
                f"Period: {ctx.period_id}, {period['start_date']} to {period['end_date']}"
                f" ({phase}); deadline {period['deadline']}",
            ),
        ),
        _Line("text", (f"Template version {TEMPLATE_VERSION}. {instrument}",)),
        _Line("text", ()),
        _Line("heading", ("How to fill it in",)),
        _Line(
            "text",
            (
                "One record per row, from row 2. Keep the column names in row 1 as they are;"
                " leave a sheet empty when you have nothing to report.",
            ),
        ),
        _Line(
            "text",
            (
                "Required columns (dark header) must not be empty. Dates are spreadsheet dates"
                f" or ISO text such as {period['start_date']}; amounts are in"
                f" {ctx.ref.project.currency}, to the cent.",
            ),
        ),
        _Line(
            "text",
            (
                "Each period, report the events of the period and re-report all your good"
                " practices and policy measures with their current stage and status: keep each"
                " ref unchanged, the latest period's row replaces the earlier one.",
            ),
        ),
        _Line("text", ()),
        _Line("heading", ("How to submit",)),
        _Line("text", (f"Save the filled workbook as {target} (an .ods file is accepted too).",)),
        _Line(
            "text",
            (
                "To correct a submission, drop the corrected workbook at the same place:"
                " it replaces the earlier file entirely.",
            ),
        ),
        _Line("text", ()),
    ]


def _guide_sheets(ctx: Context) -> list[_Line]:
    lines = [_Line("heading", ("Sheets",))]
    lines.append(_Line("table_row", (COVER_SHEET, "Who submits which period, and when.")))
    lines += [_Line("table_row", (s.name, s.description)) for s in ctx.ref.record_sheets]
    lines.append(_Line("text", ()))
    return lines


def _guide_columns(ctx: Context) -> list[_Line]:
    header = ("sheet", "column", "required", "expected form", "meaning", "in this workbook")
    lines = [_Line("heading", ("Columns",)), _Line("table_header", header)]
    for f in COVER_FIELDS:
        required = "yes" if f.name in PREFILLED_COVER else "no"
        note = cover_check(f, ctx).note
        lines.append(
            _Line(
                "table_row",
                (COVER_SHEET, f.name, required, f.hint_for(ctx.ref), f.description, note),
            )
        )
    for sheet in ctx.ref.record_sheets:
        for f in sheet.columns:
            required = "yes" if f.name in sheet.required else "no"
            note = check_for(f, ctx).note
            lines.append(
                _Line(
                    "table_row",
                    (sheet.name, f.name, required, f.hint_for(ctx.ref), f.description, note),
                )
            )
    return lines


def _guide(ctx: Context) -> list[_Line]:
    """The Guide's rows, generated from the sheet and field definitions."""
    return _guide_intro(ctx) + _guide_sheets(ctx) + _guide_columns(ctx)


def _header_note(field: Field, required: bool, ctx: Context) -> str:
    need = "Required." if required else "Optional."
    return f"{field.description}\nExpected: {field.hint_for(ctx.ref)}.\n{need}"


def _width(field: Field) -> int:
    if field.name in _WIDE_TEXT:
        base = 40
    elif field.name in _LINKS:
        base = 34
    else:
        base = field.spec.width
    return max(base, len(field.name) + 3)


# --- xlsx --------------------------------------------------------------------------


class _Formats:
    """The workbook's cell formats, created once."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        header = {"bold": True, "bg_color": "#DDEBF7", "border": 1, "valign": "top"}
        self.header = book.add_format(header)
        self.required = book.add_format({**header, "bg_color": "#1F4E78", "font_color": "white"})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.heading = book.add_format({"bold": True, "font_size": 12})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.by_kind = {
            kind: book.add_format({"num_format": spec.number_format})
            for kind, spec in KINDS.items()
            if spec.number_format
        }

    def column(self, field: Field):
        return self.by_kind.get(field.kind)

    def number(self, field: Field):
        return self.by_kind.get(field.kind) if field.kind in ("decimal", "integer") else None


def _write_value(ws, row: int, col: int, value: object, field: Field, fmt: _Formats) -> None:
    """Write a value as exactly what it is: text stays text, dates are dates, numbers numbers."""
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, str):
        ws.write_string(row, col, value)
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, value, fmt.by_kind["date"])
    elif isinstance(value, int | float | Decimal):
        ws.write_number(row, col, float(value), fmt.number(field))
    else:
        raise TemplateError(f"cannot write {type(value).__name__} value {value!r} in {field.name}")


def _xlsx_guide(book: xlsxwriter.Workbook, lines: list[_Line], fmt: _Formats) -> None:
    ws = book.add_worksheet(GUIDE_SHEET)
    for col, width in enumerate((16, 32, 10, 36, 60, 44)):
        ws.set_column(col, col, width)
    styles = {"title": fmt.title, "heading": fmt.heading, "table_header": fmt.header}
    for row, line in enumerate(lines):
        style = styles.get(line.style, fmt.wrap if line.style == "table_row" else None)
        for col, text in enumerate(line.cells):
            ws.write_string(row, col, text, style)


def _xlsx_cover(
    book: xlsxwriter.Workbook, ctx: Context, values: dict[str, object], fmt: _Formats
) -> None:
    ws = book.add_worksheet(COVER_SHEET)
    ws.set_column(0, 0, 20)
    ws.set_column(1, 1, 36)
    ws.write_string(0, 0, "field", fmt.required)
    ws.write_string(0, 1, "value", fmt.required)
    ws.freeze_panes(1, 0)
    for row, f in enumerate(COVER_FIELDS, start=1):
        ws.write_string(row, 0, f.name)
        ws.write_comment(row, 0, f"{f.description}\nExpected: {f.hint}.")
        if values[f.name] is None and f.kind == "date":
            ws.write_blank(row, 1, None, fmt.by_kind["date"])
        _write_value(ws, row, 1, values[f.name], f, fmt)
        check = cover_check(f, ctx)
        if check.options:
            ws.data_validation(row, 1, row, 1, dict(check.options))


def _xlsx_records(
    book: xlsxwriter.Workbook,
    sheet: Sheet,
    rows: list[Mapping[str, object]],
    ctx: Context,
    fmt: _Formats,
) -> None:
    ws = book.add_worksheet(sheet.name)
    last_row = max(VALIDATED_ROWS, len(rows) + 1) - 1
    for col, f in enumerate(sheet.columns):
        required = f.name in sheet.required
        ws.set_column(col, col, _width(f), fmt.column(f))
        ws.write_string(0, col, f.name, fmt.required if required else fmt.header)
        ws.write_comment(0, col, _header_note(f, required, ctx), {"x_scale": 2, "y_scale": 1.5})
        check = check_for(f, ctx)
        if check.options:
            ws.data_validation(1, col, last_row, col, dict(check.options))
    ws.freeze_panes(1, 0)
    for r, record in enumerate(rows, start=1):
        for col, f in enumerate(sheet.columns):
            _write_value(ws, r, col, record.get(f.name), f, fmt)


def _created(ctx: Context) -> dt.datetime:
    """A fixed document date (the period's end) so the bytes depend only on the inputs."""
    end: dt.date = ctx.period["end_date"]
    return dt.datetime(end.year, end.month, end.day)


def _xlsx_bytes(
    ctx: Context, cover: dict[str, object], records: dict[str, list[Mapping[str, object]]]
) -> bytes:
    buffer = io.BytesIO()
    options = {
        "in_memory": True,  # fixed zip timestamps (1980-01-01) and no temporary files
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    book = xlsxwriter.Workbook(buffer, options)
    book.set_properties(
        {
            "title": f"{ctx.ref.project.name} report {ctx.partner_id} {ctx.period_id}",
            "author": ctx.ref.project.name,
            "comments": f"template_version {TEMPLATE_VERSION}",
            "created": _created(ctx),
        }
    )
    fmt = _Formats(book)
    _xlsx_guide(book, _guide(ctx), fmt)
    _xlsx_cover(book, ctx, cover, fmt)
    for sheet in ctx.ref.record_sheets:
        _xlsx_records(book, sheet, records[sheet.name], ctx, fmt)
    book.close()
    return buffer.getvalue()


def _ods_bytes(
    ctx: Context, cover: dict[str, object], records: dict[str, list[Mapping[str, object]]]
) -> bytes:
    """The same workbook as an .ods, without drop-downs (OpenDocument has no equivalent)."""
    sheets = [(GUIDE_SHEET, [line.cells for line in _guide(ctx)])]
    sheets.append(
        (COVER_SHEET, [("field", "value")] + [(f.name, cover[f.name]) for f in COVER_FIELDS])
    )
    for sheet in ctx.ref.record_sheets:
        rows = [sheet.column_names]
        rows += [tuple(r.get(c) for c in sheet.column_names) for r in records[sheet.name]]
        sheets.append((sheet.name, rows))
    return ods_bytes(sheets)


_WRITERS = {".xlsx": _xlsx_bytes, ".ods": _ods_bytes}


# --- entry point -------------------------------------------------------------------


def write_template(
    partner_id: str,
    period_id: str,
    path: Path,
    *,
    records: Records | None = None,
    cover: Mapping[str, object] | None = None,
) -> Path:
    """Write the partner's workbook for a period, blank or filled with ``records``.

    ``records`` maps a record sheet name to rows keyed by column name; values are
    written as they are given (a string stays a string even where a number is
    expected), which lets the sample generator make deliberately flawed workbooks.
    ``cover`` overrides Cover values. A path ending in ``.ods`` gives an
    OpenDocument spreadsheet without drop-downs; otherwise an ``.xlsx`` is written.
    """
    path = Path(path)
    writer = _WRITERS.get(path.suffix.lower())
    if writer is None:
        raise TemplateError(f"cannot write {path.name}: the file name must end in .xlsx or .ods")
    ctx = context_for(partner_id, period_id)
    data = writer(ctx, _cover_values(ctx, cover), _checked_records(records, ctx))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda tmp: tmp.write_bytes(data))
    return path
