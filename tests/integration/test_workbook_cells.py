"""Cells whose cached value hides what the partner sees, and sheets or columns that
could be read two ways, in workbooks written as partners' tools write them
(XlsxWriter stores formulas with their cached results, as Excel does; openpyxl for
hidden sheets and merges; LibreOffice, where installed, for its own .ods).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import load_workbook

from pipelines.core.intake.discovery import discover
from pipelines.core.intake.ingest import Outcome, ingest
from pipelines.core.metadata.tables import RECORD_SHEETS
from pipelines.core.reference.loader import reference
from tests.helpers.workbooks import GOOD_ROWS, make_workbook

Writer = Callable[[xlsxwriter.worksheet.Worksheet, int, int], None]
COVER = {
    "partner_id": "P4",
    "period_id": "RP07",
    "template_version": 1,
    "submitted_on": dt.date(2020, 4, 15),
    "contact_name": "Test",
}


def write_events(path: Path, events: list[dict[str, object]]) -> Path:
    """A complete workbook with these Events rows; a callable value writes its own cell."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path)) as book:
        date = book.add_format({"num_format": "yyyy-mm-dd"})

        def put(sheet, row: int, column: int, value: object) -> None:
            if callable(value):
                value(sheet, row, column)
            elif isinstance(value, dt.date):
                sheet.write_datetime(row, column, dt.datetime.combine(value, dt.time()), date)
            elif value is not None:
                sheet.write(row, column, value)

        cover = book.add_worksheet("Cover")
        cover.write_row(0, 0, ["field", "value"])
        for row, (name, value) in enumerate(COVER.items(), start=1):
            cover.write(row, 0, name)
            put(cover, row, 1, value)
        for record in RECORD_SHEETS:
            sheet = book.add_worksheet(record.name)
            sheet.write_row(0, 0, record.column_names)
            for row, values in enumerate(events if record.name == "Events" else [], start=1):
                for column, name in enumerate(record.column_names):
                    put(sheet, row, column, values.get(name))
    return path


def formula(text: str, cached: object) -> Writer:
    return lambda sheet, row, column: sheet.write_formula(row, column, text, None, cached)


def _ingest(raw: Path, tmp_path: Path) -> Outcome:
    (outcome,) = ingest(discover(raw), reference(), tmp_path / "archive")
    return outcome


def _issues(outcome: Outcome) -> list[tuple[str, int | None, str | None, str | None]]:
    return sorted((i["rule"], i["row"], i["column"], i["value"]) for i in outcome.issues)


def _to_ods(xlsx: Path, folder: Path) -> Path:
    """The workbook opened and saved as .ods by LibreOffice, the way a partner would."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{folder}/profile",
         "--convert-to", "ods", "--outdir", str(folder), str(xlsx)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return folder / f"{xlsx.stem}.ods"


needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui",
)

ERROR_EVENTS = [
    {**GOOD_ROWS["Events"], "participants": formula("=1/0", "#DIV/0!")},
    {**GOOD_ROWS["Events"], "event_ref": "EV-2", "city": formula("=NA()", "#N/A")},
]
ERROR_ISSUES = [
    ("error_cell", 2, "participants", "#DIV/0!"),
    ("error_cell", 3, "city", "#N/A"),
]


def test_error_cells_are_named_in_required_and_optional_columns(tmp_path, dirs):
    raw, _ = dirs
    write_events(raw / "P4" / "RP07.xlsx", ERROR_EVENTS)
    outcome = _ingest(raw, tmp_path)
    assert _issues(outcome) == ERROR_ISSUES
    messages = {i["column"]: i["message"] for i in outcome.issues}
    assert "holds the spreadsheet error #DIV/0!" in messages["participants"]
    assert outcome.records.get("events") is None


@needs_libreoffice
def test_error_cells_saved_by_libreoffice_are_named_too(tmp_path, dirs):
    raw, _ = dirs
    xlsx = write_events(tmp_path / "excel" / "RP07.xlsx", ERROR_EVENTS)
    (raw / "P4").mkdir()
    shutil.copy(_to_ods(xlsx, tmp_path / "lo"), raw / "P4" / "RP07.ods")
    assert _issues(_ingest(raw, tmp_path)) == ERROR_ISSUES


def _merged_countries(path: Path) -> None:
    book = load_workbook(path)
    book["Events"].merge_cells("H2:H3")  # one country typed for two events
    book.save(path)


def test_a_merged_cell_is_reported_as_merged_not_as_missing(tmp_path, dirs):
    raw, _ = dirs
    second = {**GOOD_ROWS["Events"], "event_ref": "EV-2"}
    path = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"], second]})
    _merged_countries(path)
    outcome = _ingest(raw, tmp_path)
    assert _issues(outcome) == [("merged_cell", 3, "country", "H2:H3")]
    assert list(outcome.records["events"]["event_ref"]) == ["EV-1"]


@needs_libreoffice
def test_a_merged_cell_saved_by_libreoffice_is_reported_as_merged(tmp_path, dirs):
    raw, _ = dirs
    second = {**GOOD_ROWS["Events"], "event_ref": "EV-2"}
    path = make_workbook(
        tmp_path / "excel", "P4", "RP07", {"Events": [GOOD_ROWS["Events"], second]}
    )
    _merged_countries(path)
    (raw / "P4").mkdir()
    shutil.copy(_to_ods(path, tmp_path / "lo"), raw / "P4" / "RP07.ods")
    assert _issues(_ingest(raw, tmp_path)) == [("merged_cell", 3, "country", "H2:H3")]


URL = "https://example.org/agenda?id=1"


def _cell_link(sheet, row: int, column: int) -> None:
    sheet.write_url(row, column, URL + "&by=menu", string="minutes")


LINK_EVENTS = [
    {**GOOD_ROWS["Events"], "evidence_url": formula(f'=HYPERLINK("{URL}","evidence")', "evidence")},
    {**GOOD_ROWS["Events"], "event_ref": "EV-2", "evidence_url": _cell_link},
    {**GOOD_ROWS["Events"], "event_ref": "EV-3", "title": formula(f'=HYPERLINK("{URL}","T")', "T")},
]  # fmt: skip


def _assert_links_stored(outcome: Outcome) -> None:
    assert outcome.issues == []
    frame = outcome.records["events"]
    assert list(frame["evidence_url"].fillna("")) == [URL, URL + "&by=menu", ""]
    assert list(frame["title"])[2] == "T"  # only link columns take the address


def test_a_hyperlink_stores_its_address_not_its_text(tmp_path, dirs):
    raw, _ = dirs
    write_events(raw / "P4" / "RP07.xlsx", LINK_EVENTS)
    _assert_links_stored(_ingest(raw, tmp_path))


@needs_libreoffice
def test_a_hyperlink_saved_by_libreoffice_stores_its_address(tmp_path, dirs):
    raw, _ = dirs
    xlsx = write_events(tmp_path / "excel" / "RP07.xlsx", LINK_EVENTS)
    (raw / "P4").mkdir()
    shutil.copy(_to_ods(xlsx, tmp_path / "lo"), raw / "P4" / "RP07.ods")
    _assert_links_stored(_ingest(raw, tmp_path))


def test_a_hyperlink_with_a_computed_address_is_refused(tmp_path, dirs):
    raw, _ = dirs
    link = formula('=HYPERLINK("https://example.org/"&B2,"evidence")', "evidence")
    write_events(raw / "P4" / "RP07.xlsx", [{**GOOD_ROWS["Events"], "evidence_url": link}])
    outcome = _ingest(raw, tmp_path)
    assert _issues(outcome) == [("computed_hyperlink", 2, "evidence_url", "evidence")]


def test_a_duplicate_header_is_named_a_duplicate_column(tmp_path, dirs):
    raw, _ = dirs
    path = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    book = load_workbook(path)
    book["Events"]["M1"] = "Participants "
    book["Events"]["M2"] = 999
    book.save(path)
    outcome = _ingest(raw, tmp_path)
    assert outcome.status == "rejected"
    (issue,) = outcome.issues
    assert (issue["rule"], issue["sheet"], issue["column"]) == (
        "duplicate_column",
        "Events",
        "participants",
    )
    assert "columns I and M" in issue["message"]


@pytest.mark.parametrize("name", ["Events ", " events", "Events\u00a0"])
def test_two_sheets_that_read_as_one_record_sheet_reject_the_workbook(tmp_path, dirs, name):
    raw, _ = dirs
    path = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    book = load_workbook(path)
    decoy = book.create_sheet(name, index=0)
    decoy.append(list(RECORD_SHEETS[0].column_names))
    decoy.append(["EV-1", "decoy", "regional_stakeholder_meeting", dt.date(2019, 5, 20)])
    decoy.sheet_state = "hidden"
    book.save(path)
    outcome = _ingest(raw, tmp_path)
    assert outcome.status == "rejected"
    (issue,) = outcome.issues
    assert (issue["rule"], issue["sheet"]) == ("duplicate_sheet", "Events")
    assert f"'{name}' (hidden) and 'Events'" in issue["message"]


def _date_cells_without_a_date_style(ods: Path) -> list[str]:
    """The date cells of an .ods whose style does not show them as dates."""
    with zipfile.ZipFile(ods) as archive:
        root = ET.fromstring(archive.read("content.xml"))
    ns = {
        "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
        "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
        "number": "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0",
    }
    date_styles = {
        e.get(f"{{{ns['style']}}}name") for e in root.iter(f"{{{ns['number']}}}date-style")
    }
    shows_dates = {
        e.get(f"{{{ns['style']}}}name")
        for e in root.iter(f"{{{ns['style']}}}style")
        if e.get(f"{{{ns['style']}}}data-style-name") in date_styles
    }
    return [
        cell.get(f"{{{ns['office']}}}date-value")
        for cell in root.iter(f"{{{ns['table']}}}table-cell")
        if cell.get(f"{{{ns['office']}}}value-type") == "date"
        and cell.get(f"{{{ns['table']}}}style-name") not in shows_dates
    ]


def test_ods_date_cells_carry_a_date_style(tmp_path):
    ods = make_workbook(tmp_path, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]}, suffix=".ods")
    assert _date_cells_without_a_date_style(ods) == []


@needs_libreoffice
def test_an_ods_opened_and_saved_by_libreoffice_keeps_its_dates(tmp_path, dirs):
    raw, _ = dirs
    event = {**GOOD_ROWS["Events"], "end_date": dt.date(2019, 5, 21)}
    ods = make_workbook(tmp_path / "sent", "P4", "RP07", {"Events": [event]}, suffix=".ods")
    saved = tmp_path / "lo" / "RP07.xlsx"
    saved.parent.mkdir()
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "xlsx", "--outdir", str(saved.parent), str(ods)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    (raw / "P4").mkdir()
    shutil.copy(saved, raw / "P4" / "RP07.xlsx")
    outcome = _ingest(raw, tmp_path)
    assert outcome.issues == []
    (row,) = outcome.records["events"].to_dict("records")
    assert (row["start_date"], row["end_date"]) == (dt.date(2019, 5, 20), dt.date(2019, 5, 21))
