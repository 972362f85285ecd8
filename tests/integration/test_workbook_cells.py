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
from pipelines.core.intake.ingest import ingest
from pipelines.core.metadata.tables import RECORD_SHEETS
from pipelines.core.reference.loader import reference
from pipelines.core.state.versions import Outcome
from tests.helpers.workbooks import GOOD_MEASURE, GOOD_ROWS, make_workbook

Writer = Callable[[xlsxwriter.worksheet.Worksheet, int, int], None]
COVER = {
    "partner_id": "P4",
    "period_id": "RP07",
    "template_version": 1,
    "submitted_on": dt.date(2020, 4, 15),
    "contact_name": "Test",
}


def write_events(
    path: Path, events: list[dict[str, object]], hidden_rows: tuple[int, ...] = ()
) -> Path:
    """A complete workbook with these Events rows (spreadsheet rows ``hidden_rows``
    hidden); a callable value writes its own cell."""
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
            for row in hidden_rows if record.name == "Events" else ():
                sheet.set_row(row - 1, None, None, {"hidden": True})
    return path


def formula(text: str, cached: object) -> Writer:
    return lambda sheet, row, column: sheet.write_formula(row, column, text, None, cached)


def _ingest(raw: Path, tmp_path: Path) -> Outcome:
    (outcome,) = ingest(discover(raw, reference()), reference(), tmp_path / "archive")
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


# --- formulas saved without their result ------------------------------------------------


def _formulas_saved_without_results(path: Path) -> None:
    """openpyxl, like scripts and some apps, saves a formula with no cached result."""
    book = load_workbook(path)
    book["Events"]["E2"] = "=D2+1"  # end_date
    book["Events"]["I2"] = "=10*3"  # participants, a required column
    book.save(path)


UNSAVED_ISSUES = [
    ("formula_without_value", 2, "end_date", "=D2+1"),
    ("formula_without_value", 2, "participants", "=10*3"),
]


def test_a_formula_without_its_result_is_refused_as_such(tmp_path, dirs):
    raw, _ = dirs
    path = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    _formulas_saved_without_results(path)
    outcome = _ingest(raw, tmp_path)
    assert _issues(outcome) == UNSAVED_ISSUES
    message = {i["column"]: i["message"] for i in outcome.issues}["participants"]
    assert message.startswith("participants holds the formula =10*3 without its result")
    assert "Open the workbook in your spreadsheet program" in message
    assert outcome.records.get("events") is None  # end_date never became the start date


def _replace_in_content(ods: Path, edits: dict[str, str]) -> None:
    """An .ods whose content.xml a script rewrote (as odfpy-style writers do)."""
    with zipfile.ZipFile(ods) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    content = parts["content.xml"].decode()
    for old, new in edits.items():
        assert content.count(old) == 1, old
        content = content.replace(old, new)
    parts["content.xml"] = content.encode()
    with zipfile.ZipFile(ods, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            stored = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=stored)


def test_an_ods_formula_without_its_result_is_refused_as_such(tmp_path, dirs):
    raw, _ = dirs
    ods = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]}, suffix=".ods")
    date = "<text:p>2019-05-20</text:p></table:table-cell><table:table-cell/>"
    count = '<table:table-cell office:value-type="float" office:value="30"><text:p>30</text:p>'
    end = '<table:table-cell table:formula="of:=[.D2]+1"/>'
    _replace_in_content(
        ods,
        {
            date: date.replace("<table:table-cell/>", end),
            count: '<table:table-cell table:formula="of:=10*3">',
        },
    )
    assert _issues(_ingest(raw, tmp_path)) == UNSAVED_ISSUES


# --- number formats that show another number --------------------------------------------


def _formatted(path: Path, cells: dict[tuple[str, str], tuple[object, str]]) -> None:
    book = load_workbook(path)
    for (sheet, cell), (value, number_format) in cells.items():
        book[sheet][cell] = value
        book[sheet][cell].number_format = number_format
    book.save(path)


FORMATTED = {
    ("PolicyMeasures", "F2"): (0.5, "0%"),  # sf_influenced_eur: the partner sees 50%
    ("PolicyMeasures", "G2"): (12.5, '0.00" %"'),  # not a percentage: the text " %"
    ("Events", "I2"): (30, "yyyy-mm-dd"),  # participants: the partner sees a date
    ("Collaborations", "B2"): (0.5, "hh:mm"),  # company_research_collaborations: a time
}


def test_an_amount_or_count_shown_as_a_percentage_date_or_time_is_refused(tmp_path, dirs):
    raw, _ = dirs
    rows = {name: [GOOD_ROWS[name]] for name in ("Events", "PolicyMeasures", "Collaborations")}
    path = make_workbook(raw, "P4", "RP07", rows)
    _formatted(path, FORMATTED)
    outcome = _ingest(raw, tmp_path)
    assert sorted((i["rule"], i["sheet"], i["column"], i["value"]) for i in outcome.issues) == [
        ("number_format_misleads", "Collaborations", "company_research_collaborations", "12:00:00"),
        ("number_format_misleads", "Events", "participants", "1900-01-30"),
        ("number_format_misleads", "PolicyMeasures", "sf_influenced_eur", "50%"),
    ]
    messages = {i["column"]: i["message"] for i in outcome.issues}
    assert messages["sf_influenced_eur"].startswith(
        "sf_influenced_eur shows '50%' in your sheet, because the cell is formatted as a percentage"
    )
    assert "formatted as a date" in messages["participants"]
    assert "formatted as a time" in messages["company_research_collaborations"]
    assert outcome.records == {}


@needs_libreoffice
def test_a_percentage_saved_by_libreoffice_is_refused(tmp_path, dirs):
    raw, _ = dirs
    path = make_workbook(tmp_path / "excel", "P4", "RP07", {"PolicyMeasures": [GOOD_MEASURE]})
    _formatted(path, {("PolicyMeasures", "F2"): (0.5, "0%")})
    (raw / "P4").mkdir()
    shutil.copy(_to_ods(path, tmp_path / "lo"), raw / "P4" / "RP07.ods")
    assert _issues(_ingest(raw, tmp_path)) == [
        ("number_format_misleads", 2, "sf_influenced_eur", "50%")
    ]


# --- hidden rows and columns ------------------------------------------------------------


def _hidden(path: Path, rows: tuple[int, ...] = (), columns: tuple[str, ...] = ()) -> None:
    book = load_workbook(path)
    for row in rows:
        book["Events"].row_dimensions[row].hidden = True
    for column in columns:
        book["Events"].column_dimensions[column].hidden = True
    book.save(path)


EVIDENCE = "https://example.org/minutes"
THREE_EVENTS = [
    {**GOOD_ROWS["Events"], "evidence_url": EVIDENCE},
    {**GOOD_ROWS["Events"], "event_ref": "EV-2", "evidence_url": EVIDENCE},
    {**GOOD_ROWS["Events"], "event_ref": "EV-3"},
]
HIDDEN_ISSUES = [
    ("hidden_column", 2, "evidence_url", EVIDENCE),
    ("hidden_row", 3, None, None),
]


def _assert_hidden_refused(outcome: Outcome) -> None:
    assert _issues(outcome) == HIDDEN_ISSUES
    by_rule = {i["rule"]: i for i in outcome.issues}
    assert by_rule["hidden_row"]["record_ref"] == "EV-2"
    assert by_rule["hidden_row"]["message"].startswith("row 3 of sheet 'Events' is hidden")
    assert "column L, which is hidden" in by_rule["hidden_column"]["message"]
    assert list(outcome.records["events"]["event_ref"]) == ["EV-3"]


def test_hidden_rows_and_values_in_hidden_columns_are_refused(tmp_path, dirs):
    raw, _ = dirs
    path = make_workbook(raw, "P4", "RP07", {"Events": THREE_EVENTS})
    _hidden(path, rows=(3,), columns=("L",))  # EV-2's row; evidence_url, empty for EV-3
    _assert_hidden_refused(_ingest(raw, tmp_path))


@needs_libreoffice
def test_hidden_rows_and_columns_saved_by_libreoffice_are_refused(tmp_path, dirs):
    raw, _ = dirs
    path = make_workbook(tmp_path / "excel", "P4", "RP07", {"Events": THREE_EVENTS})
    _hidden(path, rows=(3,), columns=("L",))
    (raw / "P4").mkdir()
    shutil.copy(_to_ods(path, tmp_path / "lo"), raw / "P4" / "RP07.ods")
    _assert_hidden_refused(_ingest(raw, tmp_path))


def test_rows_hidden_by_xlsxwriter_are_refused_too(tmp_path, dirs):
    raw, _ = dirs
    write_events(raw / "P4" / "RP07.xlsx", THREE_EVENTS, hidden_rows=(3, 4))
    outcome = _ingest(raw, tmp_path)
    assert [(i["rule"], i["row"], i["record_ref"]) for i in outcome.issues] == [
        ("hidden_row", 3, "EV-2"),
        ("hidden_row", 4, "EV-3"),
    ]
    assert list(outcome.records["events"]["event_ref"]) == ["EV-1"]


# --- sheets that are not read -----------------------------------------------------------


def _with_unread_sheets(path: Path) -> str:
    """A copy 'Events (2)', a hidden sheet holding rows and an empty sheet added to the
    workbook, as a partner would; returns the hidden sheet's name."""
    book = load_workbook(path)
    book.copy_worksheet(book["Events"]).title = "Events (2)"
    old = book.create_sheet("EVENTS")  # a spreadsheet program makes it 'EVENTS1'
    old.append(["EV-0", "an event taken out of the report"])
    old.sheet_state = "hidden"
    book.create_sheet("Sheet1")  # empty: nothing is passed over
    book.save(path)
    return old.title


def _assert_unread_named(outcome: Outcome, hidden: str) -> None:
    assert outcome.status == "accepted"
    assert [(i["rule"], i["sheet"], i["severity"]) for i in outcome.issues] == [
        ("unread_sheet", "Events (2)", "warning"),
        ("unread_sheet", hidden, "warning"),
    ]
    assert list(outcome.records["events"]["event_ref"]) == ["EV-1"]


def test_a_sheet_holding_data_that_is_not_read_is_named(tmp_path, dirs):
    raw, _ = dirs
    path = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    hidden = _with_unread_sheets(path)
    outcome = _ingest(raw, tmp_path)
    _assert_unread_named(outcome, hidden)
    assert outcome.issues[1]["message"].startswith(
        f"sheet '{hidden}' (hidden) holds data but is not read: only the sheets 'Cover',"
        " 'Events', 'GoodPractices', 'PolicyMeasures', 'Collaborations' are."
    )


@needs_libreoffice
def test_a_sheet_not_read_in_an_ods_is_named(tmp_path, dirs):
    raw, _ = dirs
    path = make_workbook(tmp_path / "excel", "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    hidden = _with_unread_sheets(path)
    (raw / "P4").mkdir()
    shutil.copy(_to_ods(path, tmp_path / "lo"), raw / "P4" / "RP07.ods")
    _assert_unread_named(_ingest(raw, tmp_path), hidden)
