"""Reading a partner workbook: Cover, headers, row numbers, extra columns, rejections.

Every workbook here is a real file written in the test (xlsxwriter for .xlsx, pandas
with odfpy for .ods) and read back through the same path the pipeline uses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from pipelines.core.intake.guard import WorkbookRejected, column_letter
from pipelines.core.intake.issues import message_for
from pipelines.core.intake.workbook import CoverValue, read_workbook
from pipelines.core.metadata.tables import RECORD_SHEETS
from pipelines.core.reference.loader import reference

Rows = list[list[object]]

COVER: Rows = [
    ["field", "value"],
    ["partner_id", "P4"],
    ["period_id", "RP07"],
    ["template_version", 1],
    ["submitted_on", dt.date(2020, 5, 4)],
    ["contact_name", "Ana Pop"],
    ["contact_email", "ana@example.org"],
]
EVENTS: Rows = [
    ["event_ref", "title", "event_type", "start_date", "format", "country", "participants"],
    ["EV-1", "Kick-off", "project_meeting", dt.date(2019, 5, 20), "in_person", "RO", 25],
    [None, None, None, None, None, None, None],
    ["EV-2", "  padded  ", "staff_exchange", "2019-06-03", "online", "AT", 2],
]


def content(**sheets: Rows) -> dict[str, Rows]:
    """A complete workbook's sheets (header-only record sheets), with some replaced."""
    book: dict[str, Rows] = {"Cover": COVER, "Events": EVENTS}
    for sheet in RECORD_SHEETS:
        book.setdefault(sheet.name, [list(sheet.column_names)])
    book.update(sheets)
    return book


def write_xlsx(path: Path, sheets: dict[str, Rows]) -> Path:
    """A real .xlsx: dates as spreadsheet dates, empty cells left out."""
    with xlsxwriter.Workbook(str(path)) as workbook:
        date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        for name, rows in sheets.items():
            sheet = workbook.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if isinstance(value, dt.date):
                        sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
                    elif value is not None:
                        sheet.write(r, c, value)
    return path


def write_ods(path: Path, sheets: dict[str, Rows]) -> Path:
    """The same content as an .ods, written by pandas with odfpy."""
    with pd.ExcelWriter(path, engine="odf") as writer:
        for name, rows in sheets.items():
            frame = pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
            frame.to_excel(writer, sheet_name=name, index=False)
    return path


def rejection(path: Path) -> WorkbookRejected:
    with pytest.raises(WorkbookRejected) as caught:
        read_workbook(path)
    return caught.value


def test_cover_is_read_as_field_value_pairs_with_their_rows(tmp_path: Path) -> None:
    cover = [["Field ", " VALUE"], [" Partner_ID ", "P4"], ["period_id", "RP07"], [None, "x"]]
    cover += [["template_version", 1], ["submitted_on", dt.date(2020, 5, 4)]]
    book = read_workbook(write_xlsx(tmp_path / "RP07.xlsx", content(Cover=cover)))
    assert book.cover == {
        "partner_id": CoverValue("P4", 2),
        "period_id": CoverValue("RP07", 3),
        "template_version": CoverValue(1, 5),
        "submitted_on": CoverValue(dt.date(2020, 5, 4), 6),
    }


def test_headers_match_ignoring_case_and_surrounding_spaces(tmp_path: Path) -> None:
    header = [" Event_Ref", "TITLE ", "event_type", " Start_Date ", "Format", "country"]
    events = [[*header, "Participants"], ["EV-1", "A", "project_meeting", "2019-05-20", "online"]]
    events[1] += ["RO", 3]
    book = read_workbook(write_xlsx(tmp_path / "RP07.xlsx", content(Events=events)))
    frame = book.sheets["Events"]
    sheet = next(s for s in RECORD_SHEETS if s.name == "Events")
    assert list(frame.columns) == list(sheet.column_names)
    assert all(dtype == "object" for dtype in frame.dtypes)
    assert frame.loc[2, "event_ref"] == "EV-1"
    assert frame.loc[2, "participants"] == 3
    assert frame.loc[2, "city"] is None  # optional column absent from the file
    assert book.extra_columns["Events"] == []


def test_rows_keep_their_spreadsheet_numbers_across_an_empty_row(tmp_path: Path) -> None:
    events = [*EVENTS, ["   ", None, None, None, None, None, None], ["EV-3", "Last"]]
    events[-1] += ["monitoring_meeting", dt.date(2020, 1, 9), "hybrid", "DK", 7]
    book = read_workbook(write_xlsx(tmp_path / "RP07.xlsx", content(Events=events)))
    frame = book.sheets["Events"]
    assert list(frame.index) == [2, 4, 6]
    assert frame.index.name == "row"
    assert frame.loc[2, "start_date"] == dt.date(2019, 5, 20)
    assert frame.loc[4, "title"] == "  padded  "  # text is kept as written
    assert frame.loc[6, "event_ref"] == "EV-3"


def test_whitespace_only_cells_become_none(tmp_path: Path) -> None:
    events = [EVENTS[0], ["EV-1", " \t ", "project_meeting", "2019-05-20", "", "RO", 1]]
    book = read_workbook(write_xlsx(tmp_path / "RP07.xlsx", content(Events=events)))
    assert book.sheets["Events"].loc[2, "title"] is None
    assert book.sheets["Events"].loc[2, "format"] is None


def test_extra_columns_are_reported_with_their_letters(tmp_path: Path) -> None:
    header = [*EVENTS[0], "Notes"]  # an unknown column, and a value without a header
    events = [[*header, None], [*EVENTS[1], "call Ana", "stray value"]]
    book = read_workbook(write_xlsx(tmp_path / "RP07.xlsx", content(Events=events)))
    assert book.extra_columns["Events"] == [("Notes", "H"), ("", "I")]
    assert "Notes" not in book.sheets["Events"].columns
    assert book.sheets["Events"].loc[2, "title"] == "Kick-off"


def test_a_missing_sheet_rejects_the_workbook(tmp_path: Path) -> None:
    sheets = content()
    del sheets["PolicyMeasures"]
    error = rejection(write_xlsx(tmp_path / "RP07.xlsx", sheets))
    assert error.rule == "missing_sheet"
    assert error.sheet == "PolicyMeasures"
    message = message_for(error.rule, ref=reference(), sheet=error.sheet, **error.facts)
    assert message.startswith("the workbook has no sheet 'PolicyMeasures'")
    assert "sheets found: Cover, Events, GoodPractices, Collaborations" in message


def test_a_missing_required_column_rejects_the_workbook(tmp_path: Path) -> None:
    events = [[h for h in EVENTS[0] if h != "start_date"], ["EV-1", "A", "project_meeting"]]
    error = rejection(write_xlsx(tmp_path / "RP07.xlsx", content(Events=events)))
    assert (error.rule, error.sheet, error.column) == ("missing_column", "Events", "start_date")
    assert message_for(
        error.rule, ref=reference(), sheet=error.sheet, column=error.column, **error.facts
    ).startswith(
        "sheet 'Events' has no column 'start_date' in its header row (row 1), and it is required"
    )


def test_a_cover_without_its_header_is_rejected(tmp_path: Path) -> None:
    error = rejection(write_xlsx(tmp_path / "RP07.xlsx", content(Cover=COVER[1:])))
    assert (error.rule, error.sheet, error.column) == ("missing_column", "Cover", "field")


def test_the_guide_and_other_sheets_are_ignored(tmp_path: Path) -> None:
    guide = [["How to fill in this workbook"], ["=1+1", "anything", 3]]
    sheets = {"Guide": guide, **content(), "My notes": [["scratch"]]}
    book = read_workbook(write_xlsx(tmp_path / "RP07.xlsx", sheets))
    assert set(book.sheets) == {s.name for s in RECORD_SHEETS}
    assert all(extras == [] for extras in book.extra_columns.values())


def test_sheet_names_match_ignoring_case(tmp_path: Path) -> None:
    sheets = {name.lower(): rows for name, rows in content().items()}
    book = read_workbook(write_xlsx(tmp_path / "RP07.xlsx", sheets))
    assert list(book.sheets["Events"].index) == [2, 4]


def test_a_header_only_sheet_gives_an_empty_frame(tmp_path: Path) -> None:
    book = read_workbook(write_xlsx(tmp_path / "RP07.xlsx", content()))
    frame = book.sheets["Collaborations"]
    assert frame.empty
    assert list(frame.columns) == [
        "year",
        "company_research_collaborations",
        "cross_sector_cluster_partnerships",
        "source",
    ]


def test_the_same_content_as_ods_reads_the_same(tmp_path: Path) -> None:
    sheets = content()
    xlsx = read_workbook(write_xlsx(tmp_path / "RP07.xlsx", sheets))
    ods = read_workbook(write_ods(tmp_path / "RP07.ods", sheets))
    assert ods.cover == xlsx.cover
    assert ods.extra_columns == xlsx.extra_columns
    for name, frame in xlsx.sheets.items():
        pd.testing.assert_frame_equal(ods.sheets[name], frame)
    assert list(ods.sheets["Events"].index) == [2, 4]


def test_the_digest_is_that_of_the_bytes_read(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "RP07.xlsx", content())
    assert read_workbook(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (199, "GR"), (16383, "XFD")]
)
def test_column_letter(index: int, letter: str) -> None:
    assert column_letter(index) == letter
