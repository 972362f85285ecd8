"""OpenDocument (.ods) copies of the partner workbook, for partners on LibreOffice.

Kept apart from :mod:`pipelines.core.outputs.template` because odfpy needs its own care: date
cells need a date data style, and odfpy's output depends on process-wide namespace
state and on the clock unless both are pinned, which the pipeline (addressing file
versions by SHA-256) must not see as new versions.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from decimal import Decimal

from odf.element import Element
from odf.namespaces import nsdict
from odf.number import DateStyle, Day, Month, Text, Year
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style
from odf.table import Table, TableCell, TableRow
from odf.text import P

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

Sheets = Sequence[tuple[str, Sequence[Sequence[object]]]]


def _ods_date_style(doc: OpenDocumentSpreadsheet) -> Style:
    """A cell style showing dates as 2019-05-20.

    A date cell needs a date data style: without one LibreOffice shows the day number
    (43605), and a copy saved from it stores numbers where dates were.
    """
    data_style = DateStyle(name="iso-date")
    for part in (Year(style="long"), Text(text="-"), Month(style="long"), Text(text="-")):
        data_style.addElement(part)
    data_style.addElement(Day(style="long"))
    doc.automaticstyles.addElement(data_style)
    cell_style = Style(name="date-cell", family="table-cell", datastylename="iso-date")
    doc.automaticstyles.addElement(cell_style)
    return cell_style


def _ods_cell(value: object, date_style: Style) -> TableCell:
    """A typed OpenDocument cell; text is always a string cell, never a formula."""
    if value is None:
        return TableCell()
    if isinstance(value, bool):
        cell = TableCell(valuetype="boolean", booleanvalue=str(value).lower())
    elif isinstance(value, str):
        cell = TableCell(valuetype="string")
    elif isinstance(value, dt.date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat(), stylename=date_style)
    elif isinstance(value, int | float | Decimal):
        cell = TableCell(valuetype="float", value=str(value))
    else:
        raise TypeError(f"cannot write {type(value).__name__} value {value!r}")
    cell.addElement(P(text=value.isoformat() if isinstance(value, dt.date) else str(value)))
    return cell


def _ods_table(name: str, rows: list[Sequence[object]], date_style: Style) -> Table:
    table = Table(name=name)
    for values in rows:
        row = TableRow()
        for value in values:
            row.addElement(_ods_cell(value, date_style))
        table.addElement(row)
    return table


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps: odfpy stamps every entry with the current time."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def _fix_odf_namespaces() -> None:
    """Declare every known namespace, in one fixed order, on each document odfpy writes.

    odfpy keeps the declarations in a process-wide dict that grows in the order
    namespaces are first used, so without this the bytes of a document would depend
    on what the process wrote before it.
    """
    Element.namespaces.clear()
    Element.namespaces.update(sorted(nsdict.items(), key=lambda item: item[1]))


def ods_bytes(sheets: Sheets) -> bytes:
    """The bytes of an .ods with one table per ``(name, rows)``, the same for the same input."""
    _fix_odf_namespaces()
    doc = OpenDocumentSpreadsheet()
    dates = _ods_date_style(doc)
    for name, rows in sheets:
        doc.spreadsheet.addElement(_ods_table(name, rows, dates))
    buffer = io.BytesIO()
    doc.write(buffer)
    return _fixed_zip(buffer.getvalue())
