"""Hostile and broken files are refused with the rule of their true cause; odd but
valid files, as other spreadsheet programs write them, are read.

The files are built for real in each test (xlsxwriter, openpyxl, zipfile, hand-written
XML), including ones that would make the spreadsheet parser allocate gigabytes if they
got through. No file here ever reaches that point.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from pipelines.app.run import rejected_summary
from pipelines.core.intake.discovery import Rejection, discover
from pipelines.core.intake.guard import Limits, WorkbookRejected, check_bytes, check_container
from pipelines.core.intake.issues import message_for
from pipelines.core.intake.parsing import CellNote
from pipelines.core.intake.workbook import read_workbook
from pipelines.core.metadata.tables import RECORD_SHEETS
from pipelines.core.reference.loader import reference

EVENTS_PART = "xl/worksheets/sheet2.xml"  # the second sheet written below
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def valid_xlsx(path: Path) -> Path:
    """A small, complete and valid partner workbook."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path)) as workbook:
        cover = workbook.add_worksheet("Cover")
        for row, pair in enumerate(
            [("field", "value"), ("partner_id", "P4"), ("period_id", "RP07")]
        ):
            cover.write_row(row, 0, pair)
        for sheet in RECORD_SHEETS:
            workbook.add_worksheet(sheet.name).write_row(0, 0, sheet.column_names)
    return path


def rewrite(path: Path, parts: dict[str, bytes | Callable[[bytes], bytes]]) -> Path:
    """Replace (or add) parts of a workbook's zip container, keeping the others."""
    with zipfile.ZipFile(path) as source:
        kept = {info.filename: source.read(info) for info in source.infolist()}
    for name, new in parts.items():
        kept[name] = new(kept[name]) if callable(new) else new
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in kept.items():
            target.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


def sheet_xml(rows: str, dimension: str = "A1") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    ).encode()


def said(error: WorkbookRejected) -> str:
    """The message the partner reads for a refusal."""
    return message_for(
        error.rule, ref=reference(), sheet=error.sheet, column=error.column, **error.facts
    )


def refusal(rejection: Rejection) -> str:
    """The message the partner reads for a file discovery refused."""
    return message_for(rejection.rule, ref=reference(), **rejection.details)


def rejected(path: Path, limits: Limits | None = None) -> WorkbookRejected:
    with pytest.raises(WorkbookRejected) as caught:
        read_workbook(path, limits or Limits())
    return caught.value


# --- not a workbook at all ---------------------------------------------------------------


def test_an_empty_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "RP07.xlsx"
    path.write_bytes(b"")
    error = rejected(path)
    assert error.rule == "empty_file"
    assert said(error) == (
        "the file is empty (0 bytes); save your workbook again and replace the file"
    )


def test_a_file_too_large_is_rejected_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "RP07.xlsx"
    with path.open("wb") as handle:  # sparse: nothing is really written
        handle.truncate(21 * 1024 * 1024)
    error = rejected(path)
    assert error.rule == "file_too_large"
    assert said(error).startswith(
        "the file is larger than the 20.0 MiB a report workbook may be; remove pictures"
    )


def test_a_text_file_named_xlsx_is_not_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "RP07.xlsx"
    path.write_text("event_ref,title\nEV-1,Kick-off\n")
    error = rejected(path)
    assert error.rule == "not_a_spreadsheet"
    assert said(error).startswith("this file is not an .xlsx or .ods workbook; save it")


def test_an_old_xls_renamed_is_not_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "RP07.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048))
    error = rejected(path)
    assert error.rule == "legacy_excel_file"
    assert "old Excel 97-2003 (.xls) file or a password-protected workbook" in said(error)


def test_a_zip_without_a_workbook_is_not_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "RP07.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    error = rejected(path)
    assert error.rule == "no_workbook_inside"
    assert "it is a zip archive with no spreadsheet inside" in said(error)


def test_a_text_document_renamed_ods_is_not_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "RP07.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    error = rejected(path)
    assert error.rule == "not_a_spreadsheet_document"
    assert "it is an OpenDocument file but not a spreadsheet" in said(error)


def test_a_truncated_workbook_is_unreadable(tmp_path: Path) -> None:
    path = valid_xlsx(tmp_path / "RP07.xlsx")
    path.write_bytes(path.read_bytes()[:3000])
    error = rejected(path)
    assert error.rule == "damaged_file"
    assert said(error).startswith(
        "the file is damaged and cannot be opened (it may have been cut short"
    )


def test_a_password_protected_part_is_unreadable(tmp_path: Path) -> None:
    path = valid_xlsx(tmp_path / "RP07.xlsx")
    data = bytearray(path.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        data[start + flag_offset] |= 0x1
    path.write_bytes(bytes(data))
    error = rejected(path)
    assert error.rule == "password_protected"
    assert said(error).startswith(
        "the workbook is protected with a password, so it cannot be read; remove the password"
    )


def test_a_part_present_twice_is_unreadable(tmp_path: Path) -> None:
    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {"XL/Worksheets/Sheet2.xml": b"<x/>"})
    error = rejected(path)
    assert error.rule == "duplicate_part"
    assert "it holds the part 'XL/Worksheets/Sheet2.xml' twice" in said(error)


def test_a_symbolic_link_is_never_followed(tmp_path: Path) -> None:
    target = valid_xlsx(tmp_path / "elsewhere.xlsx")
    link = tmp_path / "RP07.xlsx"
    link.symlink_to(target)
    error = rejected(link)
    assert error.rule == "unreadable_file"
    assert said(error).startswith("the file cannot be opened")


# --- decompression bombs -----------------------------------------------------------------


def _lie_about_size(path: Path, part: str, declared: int) -> Path:
    """Make the local and central headers declare ``declared`` bytes for ``part``."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(part).header_offset
    struct.pack_into("<I", data, local + 22, declared)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_length] == part.encode():
            struct.pack_into("<I", data, central + 24, declared)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path


def test_a_part_that_inflates_hugely_is_a_zip_bomb(tmp_path: Path) -> None:
    blob = bytes(64 * 1024 * 1024)  # 64 MiB of zeros deflate to about 64 KiB
    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {"xl/media/image1.png": blob})
    error = rejected(path)
    assert error.rule == "zip_bomb"
    assert said(error).startswith(
        "the part 'xl/media/image1.png' expands more than 200 times its compressed size, which"
        " a workbook never does; this is not a normal workbook (a 'decompression bomb')"
    )


def test_a_part_whose_header_lies_about_its_size_is_a_zip_bomb(tmp_path: Path) -> None:
    blob = bytes(64 * 1024 * 1024)
    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {"xl/media/image1.png": blob})
    _lie_about_size(path, "xl/media/image1.png", 100)  # declares 100 bytes
    assert zipfile.ZipFile(path).getinfo("xl/media/image1.png").file_size == 100
    error = rejected(path)
    assert error.rule == "zip_bomb"
    assert "expands more than 200 times its compressed size" in said(error)
    # Even with no ratio limit, the bytes really inflated are capped.
    lenient = Limits(max_compression_ratio=10**9, max_uncompressed_bytes=16 * 1024 * 1024)
    error = rejected(path, lenient)
    assert error.rule == "content_too_large"
    assert said(error).startswith(
        "the file expands to 16.0 MiB or more once opened, beyond the 16.0 MiB allowed; this is"
        " not a normal workbook"
    )


def test_a_file_declaring_too_much_content_is_a_zip_bomb(tmp_path: Path) -> None:
    blob = bytes(20 * 1024 * 1024)
    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {"xl/media/image1.png": blob})
    limits = Limits(max_compression_ratio=10**9, max_uncompressed_bytes=16 * 1024 * 1024)
    error = rejected(path, limits)
    assert error.rule == "content_too_large"
    assert said(error).startswith("the file expands to 20.0 MiB or more once opened, beyond the")


def test_a_file_with_too_many_parts_says_so(tmp_path: Path) -> None:
    """A 1,024-sheet workbook is refused for its number of parts, not called a bomb."""
    path = tmp_path / "RP07.xlsx"
    with xlsxwriter.Workbook(str(path)) as workbook:
        for name in ["Cover", *(sheet.name for sheet in RECORD_SHEETS)]:
            workbook.add_worksheet(name)
        for n in range(1024 - 1 - len(RECORD_SHEETS)):
            workbook.add_worksheet(f"Sheet{n}")
    error = rejected(path)
    assert error.rule == "too_many_parts"
    assert said(error) == (
        "the file holds 1032 parts (sheets, pictures, styles and the like), more than the 1000"
        " a report workbook may have; delete the sheets, pictures and embedded files the"
        " report does not need, then save it again"
    )


def long_text_workbook(path: Path, sheet: str) -> Path:
    """5000 copies of one shared string of 30 000 characters (150 M) in ``sheet``."""
    with xlsxwriter.Workbook(str(path)) as workbook:
        for name in ["Cover", *(s.name for s in RECORD_SHEETS), "Notes"]:
            filler = workbook.add_worksheet(name)
            if name == sheet:
                for row in range(5000):
                    filler.write_string(row, 0, "x" * 30_000)
    assert path.stat().st_size < 200_000
    return path


def test_one_long_shared_string_in_many_cells_is_a_zip_bomb(tmp_path: Path) -> None:
    error = rejected(long_text_workbook(tmp_path / "RP07.xlsx", "Events"))
    assert error.rule == "too_much_text"
    assert said(error).startswith(
        "the cells of the workbook expand to more than 100000000 characters of text once"
        " opened (the same long text copied into very many cells)"
    )


def test_a_sheet_the_pipeline_does_not_read_is_bounded_by_its_bytes_only(
    tmp_path: Path,
) -> None:
    """The long text and a wide reference table sit in sheets that are never read."""
    path = long_text_workbook(tmp_path / "RP07.xlsx", "Notes")
    wide = sheet_xml('<row r="1"><c r="ZZ1"><v>1</v></c></row>', dimension="A1:ZZ1")
    rewrite(path, {"xl/worksheets/sheet6.xml": wide})  # the Notes sheet
    error = rejected(path)  # read further: the header-only Events sheet misses columns
    assert error.rule == "missing_column"
    with pytest.raises(WorkbookRejected, match=r"sheet_too_large.*'Notes'"):
        check_container(path)  # a caller reading every sheet bounds them all


def test_many_short_shared_strings_are_fine(tmp_path: Path) -> None:
    """The quick bound on shared strings fails here; their real lengths let the file in."""
    path = tmp_path / "RP07.xlsx"
    with xlsxwriter.Workbook(str(path)) as workbook:
        for name in ["Cover", *(sheet.name for sheet in RECORD_SHEETS)]:
            workbook.add_worksheet(name)
        notes = workbook.add_worksheet("Notes")
        for row in range(20_000):
            notes.write_string(row, 0, f"note number {row}")
    check_container(path)


# --- enormous used ranges ----------------------------------------------------------------

HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>event_ref</t></is></c></row>'
TOO_LARGE_END = (
    " a sheet may have; delete what is after your data (select those rows and columns,"
    " Delete) and save the workbook again"
)


def test_a_value_far_beyond_the_limits_is_rejected(tmp_path: Path) -> None:
    far = '<row r="9"><c r="A9" s="0"/><c r="XFD9" s="0" t="n"><v>1</v></c></row>'
    part = sheet_xml(HEADER_ROW + far, dimension="A1:A1")
    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {EVENTS_PART: part})
    error = rejected(path)
    assert (error.rule, error.sheet) == ("sheet_too_large", "Events")
    assert said(error) == (
        "sheet 'Events' holds values in the range A1:XFD9, beyond the 50000 rows and 200"
        " columns (A1:GR50000)" + TOO_LARGE_END
    )


@pytest.mark.parametrize(
    ("cell", "used"),
    [
        ('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', "A1:XFD1048576"),
        ('<row r="7"><c r="A7" s="0"/><c r="IV7"><v>1</v></c></row>', "A1:IV7"),
        ('<row r="60000"><c><v>1</v></c></row>', "A1:A60000"),  # no r: placed by its row
        ('<row r="3"><c r="zz3"><v>1</v></c></row>', "A1:ZZ3"),  # lower case, still read
    ],
)
def test_a_cell_written_far_away_is_rejected(tmp_path: Path, cell: str, used: str) -> None:
    part = sheet_xml(HEADER_ROW + cell, dimension="A1")  # the dimension understates it
    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {EVENTS_PART: part})
    error = rejected(path)
    assert (error.rule, error.sheet) == ("sheet_too_large", "Events")
    assert said(error).startswith(f"sheet 'Events' holds values in the range {used}, beyond the")


def test_a_sheet_stored_under_an_unusual_name_is_still_checked(tmp_path: Path) -> None:
    """calamine follows the workbook's relationships wherever they point."""
    far = sheet_xml(HEADER_ROW + '<row r="9"><c r="XFD9"><v>1</v></c></row>')
    path = rewrite(
        valid_xlsx(tmp_path / "RP07.xlsx"),
        {
            "xl/_rels/workbook.xml.rels": lambda rels: rels.replace(
                b'Target="worksheets/sheet2.xml"', b'Target="/xl/dialogsheets/data.bin"'
            ),
            "xl/dialogsheets/data.bin": far,
        },
    )
    error = rejected(path)
    assert (error.rule, error.sheet) == ("sheet_too_large", "Events")
    assert said(error).startswith("sheet 'Events' holds values in the range A1:XFD9, beyond the")


def test_a_sheet_whose_target_is_the_workbook_part_is_still_checked(tmp_path: Path) -> None:
    """workbook.xml read as the Events sheet too: calamine ignores what it does not need."""
    far = b'<sheetData><row r="2"><c r="XFD2"><v>1</v></c></row></sheetData></workbook>'
    path = rewrite(
        valid_xlsx(tmp_path / "RP07.xlsx"),
        {
            "xl/_rels/workbook.xml.rels": lambda rels: rels.replace(
                b'Target="worksheets/sheet2.xml"', b'Target="/xl/workbook.xml"'
            ),
            "xl/workbook.xml": lambda xml: xml.replace(b"</workbook>", far),
        },
    )
    error = rejected(path)
    assert (error.rule, error.sheet, error.facts["used"]) == (
        "sheet_too_large",
        "Events",
        "A1:XFD2",
    )


def test_an_ods_part_hidden_in_an_xlsx_is_checked_too(tmp_path: Path) -> None:
    """calamine may fall back to reading content.xml: it is bounded whatever the kind."""
    rows = ods_row(["x"], repeat=1_000_000, tail=1)
    content = write_ods(tmp_path / "inner.ods", ods_tables(rows=rows)).read_bytes()
    with zipfile.ZipFile(io.BytesIO(content)) as inner:
        part = inner.read("content.xml")
    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {"content.xml": part})
    error = rejected(path)
    assert (error.rule, error.sheet) == ("sheet_too_large", "Events")


@pytest.mark.parametrize(
    "cell",
    [
        '<row r="2"><c r="A2" r="XFD1048576"><v>1</v></c></row>',  # calamine takes the last r
        '<row r="2"><c r="A2" t="n"r="XFD1048576"><v>1</v></c></row>',  # and this one too
    ],
)
def test_a_second_hidden_cell_reference_is_rejected(tmp_path: Path, cell: str) -> None:
    part = sheet_xml(HEADER_ROW + cell)
    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {EVENTS_PART: part})
    error = rejected(path)
    assert error.rule == "damaged_part"
    assert said(error).startswith(
        f"the file is damaged: its part '{EVENTS_PART}' is unreadable (not valid XML"
    )


def test_cells_without_references_are_placed_and_read(tmp_path: Path) -> None:
    """Valid but unusual spelling: the exact scan places each cell like calamine does."""
    header = "".join(
        f'<c t="inlineStr"><is><t>{name}</t></is></c>' for name in RECORD_SHEETS[0].column_names
    )
    values = ["EV-1", "Kick-off", "project_meeting", "2019-05-20", None, "online", None, "RO"]
    row = "".join(f'<c t="inlineStr"><is><t>{v or ""}</t></is></c>' for v in values)
    part = sheet_xml(f"<row>{header}</row><row/><row>{row}<c><v>12</v></c></row>")
    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {EVENTS_PART: part})
    frame = read_workbook(path).sheets["Events"]
    assert list(frame.index) == [3]
    assert frame.loc[3, "country"] == "RO"
    assert frame.loc[3, "participants"] == 12


# --- files as other programs write them: read, not refused ---------------------------------

EVENTS_HEADER = list(RECORD_SHEETS[0].column_names)
EVENT = ["EV-1", "Kick-off", "project_meeting", "2019-05-20", None, "online", None, "RO"]


def events_rows(*rows: str, dimension: str) -> bytes:
    """The Events sheet with its header, one event and ``rows``, as inline strings."""

    def row(number: int, values: list[object]) -> str:
        cells = "".join(
            f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
            for i, v in enumerate(values)
            if v is not None
        )
        return f'<row r="{number}">{cells}</row>'

    return sheet_xml(row(1, EVENTS_HEADER) + row(2, EVENT) + "".join(rows), dimension)


def read_event(path: Path) -> None:
    frame = read_workbook(path).sheets["Events"]
    assert list(frame.index[:1]) == [2]
    assert frame.loc[2, "country"] == "RO"


@pytest.mark.parametrize(
    ("dimension", "tail"),
    [
        # Gnumeric, Excel 16 and Excel for Mac: the whole sheet declared, 2 rows used.
        ("A1:XFD1048576", ""),
        ("A1:A65536", ""),
        # LibreOffice 7.x: formatted empty cells down to the last row of the sheet.
        (
            "A1:D1048576",
            '<row r="3" s="1" customFormat="true"><c r="A3" s="1"/><c r="D3" s="1"/></row>'
            '<row r="1048576" s="1" customFormat="true"><c r="A1048576" s="1" t="n"/>'
            '<c r="D1048576" s="1" t="n"></c></row>',
        ),
        # A formula with no cached value builds no cell either.
        ("A1:XFD9", '<row r="9"><c r="XFD9"><f>1+1</f></c></row>'),
    ],
)
def test_a_used_range_declared_far_beyond_the_values_is_read(
    tmp_path: Path, dimension: str, tail: str
) -> None:
    part = events_rows(tail, dimension=dimension)
    read_event(rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {EVENTS_PART: part}))


def test_formatted_empty_cells_and_whole_columns_are_read(tmp_path: Path) -> None:
    """openpyxl writes a styled empty cell as <c r="XFD60000" s="1"/> and declares
    A1:XFD60000; XlsxWriter's set_column('A:XFD') formats every column."""
    import openpyxl
    from openpyxl.styles import Font

    path = tmp_path / "RP07.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book["Cover"].append(["field", "value"])
    for sheet in RECORD_SHEETS:
        book.create_sheet(sheet.name).append(list(sheet.column_names))
    book["Events"].append(EVENT)
    book["Events"].cell(60_000, 16_384).font = Font(bold=True)
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        assert b'<dimension ref="A1:XFD60000"' in archive.read(EVENTS_PART)
    read_event(path)

    path = tmp_path / "RP08.xlsx"
    with xlsxwriter.Workbook(str(path)) as workbook:
        bold = workbook.add_format({"bold": True})
        workbook.add_worksheet("Cover").write_row(0, 0, ["field", "value"])
        for sheet in RECORD_SHEETS:
            written = workbook.add_worksheet(sheet.name)
            written.set_column("A:XFD", 14, bold)
            written.write_row(0, 0, sheet.column_names)
            if sheet.name == "Events":
                written.write_row(1, 0, EVENT)
    read_event(path)


def repack(path: Path, rename: Callable[[str], str], parts: dict[str, bytes]) -> Path:
    """The workbook's parts under new names (``rename``), with ``parts`` replaced or added."""
    with zipfile.ZipFile(path) as source:
        kept = {rename(info.filename): source.read(info) for info in source.infolist()}
    kept.update(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in kept.items():
            target.writestr(name, data)
    return path


def test_backslash_part_names_are_read_and_checked(tmp_path: Path) -> None:
    """Excel 12 and 16 and .NET tools have written part names with Windows separators."""
    path = valid_xlsx(tmp_path / "RP07.xlsx")
    error_cell = '<row r="3"><c r="I3" t="e"><v>#DIV/0!</v></c></row>'
    rewrite(path, {EVENTS_PART: events_rows(error_cell, dimension="A1:H2")})
    repack(path, lambda name: name.replace("/", "\\"), {})
    assert "xl\\worksheets\\sheet2.xml" in zipfile.ZipFile(path).namelist()
    read_event(path)
    frame = read_workbook(path).sheets["Events"]  # what cached values hide is found too
    assert frame.loc[3, "participants"] == CellNote("error_cell", "#DIV/0!")

    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(3, 50_003))
    big = {EVENTS_PART.replace("/", "\\"): events_rows(rows, dimension="A1:H2")}
    error = rejected(repack(path, lambda name: name, big))
    assert (error.rule, error.sheet, error.facts["used"]) == (
        "sheet_too_large",
        "Events",
        "A1:L50002",
    )


def outside_xl(path: Path, folder: str, events: bytes) -> Path:
    """The workbook moved from xl/ to ``folder``, as _rels/.rels says, Events replaced."""
    with zipfile.ZipFile(path) as source:
        rels = source.read("_rels/.rels").replace(b'Target="xl/', f'Target="/{folder}'.encode())
        types = source.read("[Content_Types].xml").replace(b'"/xl/', f'"/{folder}'.encode())
    moved = {"_rels/.rels": rels, "[Content_Types].xml": types, folder + EVENTS_PART[3:]: events}
    return repack(path, lambda name: folder + name[3:] if name.startswith("xl/") else name, moved)


def test_a_workbook_stored_outside_xl_is_read(tmp_path: Path) -> None:
    path = outside_xl(valid_xlsx(tmp_path / "RP07.xlsx"), "book/", events_rows(dimension="A1"))
    assert not any(name.startswith("xl/") for name in zipfile.ZipFile(path).namelist())
    read_event(path)


def noted_xlsx(path: Path) -> Path:
    """A valid workbook whose Events hide what the reader notes (a count shown as a
    percentage, a formula saved without its result, a hidden row holding a record, a
    value in a hidden column), with an unread sheet holding data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path)) as workbook:
        cover = workbook.add_worksheet("Cover")
        for row, pair in enumerate([("field", "value"), ("partner_id", "P4")]):
            cover.write_row(row, 0, pair)
        percent = workbook.add_format({"num_format": "0%"})
        for sheet in RECORD_SHEETS:
            written = workbook.add_worksheet(sheet.name)
            written.write_row(0, 0, sheet.column_names)
            if sheet.name != "Events":
                continue
            for row in (1, 2, 3):
                written.write_row(row, 0, [f"EV-{row}", *EVENT[1:]])
            written.write_number(1, 8, 0.5, percent)  # participants, shown as 50%
            written.write_formula(2, 8, "=1000*5", None, "")  # saved without its result
            written.set_row(3, None, None, {"hidden": True})
            written.set_column(11, 11, None, None, {"hidden": True})
            written.write_string(1, 11, "https://example.org")
        workbook.add_worksheet("Events (2)").write_row(0, 0, ["EV-9"])
    return path


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param(lambda path: path, id="as written"),
        pytest.param(lambda path: repack(path, lambda n: n.replace("/", "\\"), {}), id="backslash"),
        pytest.param(
            lambda path: outside_xl(path, "book/", zipfile.ZipFile(path).read(EVENTS_PART)),
            id="outside xl",
        ),
    ],
)
def test_what_cells_hide_is_noted_wherever_the_parts_are(
    tmp_path: Path, layout: Callable[[Path], Path]
) -> None:
    """Part names with '\\' or a workbook outside xl/ (found as calamine finds them) give
    the reader's notes too: the styles part beside the workbook, the sheets it names."""
    path = layout(noted_xlsx(tmp_path / "RP07.xlsx"))
    assert check_bytes(path.read_bytes()).percent_formats  # the guard finds the styles
    workbook = read_workbook(path)
    frame = workbook.sheets["Events"]
    shown = (("shown_as", "a percentage"),)
    assert frame.loc[2, "participants"] == CellNote("number_format_misleads", "50%", shown)
    assert frame.loc[3, "participants"] == CellNote("formula_without_value", "=1000*5")
    assert frame.loc[2, "evidence_url"] == CellNote(
        "hidden_column", "https://example.org", (("letter", "L"),)
    )
    assert 4 not in frame.index
    found = {(f.rule, f.sheet, f.row, f.record_ref) for f in workbook.findings}
    assert found == {
        ("hidden_row", "Events", 4, "EV-3"),
        ("unread_sheet", "Events (2)", None, None),
    }


def test_a_sheet_at_an_absolute_target_is_checked(tmp_path: Path) -> None:
    """The relationship's target /data/sheet1.xml is a part outside the workbook's folder:
    calamine reads it, so its 60,001 rows are over the limit wherever the part is."""
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(3, 60_003))
    path = rewrite(
        valid_xlsx(tmp_path / "RP07.xlsx"),
        {
            "xl/_rels/workbook.xml.rels": lambda rels: rels.replace(
                b'Target="worksheets/sheet2.xml"', b'Target="/data/sheet1.xml"'
            ),
            "data/sheet1.xml": events_rows(rows, dimension="A1:H2"),
        },
    )
    error = rejected(path)
    assert (error.rule, error.sheet) == ("sheet_too_large", "Events")
    assert said(error).startswith("sheet 'Events' holds values in the range A1:L60002, beyond")


def test_a_wide_sheet_the_pipeline_does_not_read_is_fine(tmp_path: Path) -> None:
    """A reference table 300 columns wide beside the record sheets."""
    path = tmp_path / "RP07.xlsx"
    with xlsxwriter.Workbook(str(path)) as workbook:
        workbook.add_worksheet("Cover").write_row(0, 0, ["field", "value"])
        for sheet in RECORD_SHEETS:
            written = workbook.add_worksheet(sheet.name)
            written.write_row(0, 0, sheet.column_names)
            if sheet.name == "Events":
                written.write_row(1, 0, EVENT)
        workbook.add_worksheet("Lists").write_row(0, 0, [f"code {n}" for n in range(300)])
    read_event(path)
    with pytest.raises(WorkbookRejected, match=r"sheet_too_large \(sheet='Lists'"):
        check_container(path)  # a caller that reads every sheet bounds them all


# --- .ods ----------------------------------------------------------------------------------

ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)
MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
    ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
    '<manifest:file-entry manifest:full-path="/"'
    ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    "</manifest:manifest>"
)
# What LibreOffice writes after the data: huge runs of empty rows and cells.
EMPTY_TAIL = (
    '<table:table-row table:number-rows-repeated="1048570">'
    '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
)


def ods_cell(value: object, repeat: int = 1) -> str:
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    if value is None:
        return f"<table:table-cell{repeated}/>"
    return (
        f'<table:table-cell office:value-type="string"{repeated}>'
        f"<text:p>{value}</text:p></table:table-cell>"
    )


def ods_row(values: list[object], repeat: int = 1, tail: int = 1000) -> str:
    repeated = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    cells = "".join(ods_cell(value) for value in values) + ods_cell(None, tail)
    return f"<table:table-row{repeated}>{cells}</table:table-row>"


def write_ods(path: Path, tables: dict[str, str], tail: str = EMPTY_TAIL) -> Path:
    """An .ods with the given table bodies, written the way LibreOffice would."""
    body = "".join(
        f'<table:table table:name="{name}">{rows}{tail}</table:table>'
        for name, rows in tables.items()
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS}>'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", MANIFEST)
    return path


def ods_tables(**events: str) -> dict[str, str]:
    tables = {"Cover": ods_row(["field", "value"]) + ods_row(["partner_id", "P4"])}
    for sheet in RECORD_SHEETS:
        tables[sheet.name] = ods_row(list(sheet.column_names))
    tables["Events"] += events.get("rows", "")
    return tables


def test_a_legit_ods_with_huge_empty_repeats_passes(tmp_path: Path) -> None:
    event = ["EV-1", "Kick-off", "project_meeting", "2019-05-20", None, "online", None, "RO"]
    rows = ods_row([], repeat=3) + ods_row(event) + ods_row(["EV-2"], repeat=2)
    book = read_workbook(write_ods(tmp_path / "RP07.ods", ods_tables(rows=rows)))
    frame = book.sheets["Events"]
    assert list(frame.index) == [5, 6, 7]
    assert frame.loc[5, "country"] == "RO"
    assert book.cover["partner_id"].value == "P4"


@pytest.mark.parametrize(
    ("rows", "used"),
    [
        (f"<table:table-row>{ods_cell('x', 1_000_000)}</table:table-row>", "A1:BDWGN2"),
        (ods_row(["x"], repeat=1_000_000, tail=1), "A1:L1000001"),
    ],
)
def test_a_repeated_cell_or_row_too_large_is_rejected(tmp_path: Path, rows: str, used: str) -> None:
    error = rejected(write_ods(tmp_path / "RP07.ods", ods_tables(rows=rows)))
    assert (error.rule, error.sheet) == ("sheet_too_large", "Events")
    assert said(error).startswith(f"sheet 'Events' holds values in the range {used}, beyond")


@pytest.mark.parametrize(
    "rows",
    [
        ods_row(["y" * 60_000] * 10, repeat=1_000, tail=1),  # 600 M characters of copies
        '<table:table-row><table:table-cell office:value-type="string">'
        '<text:p><text:s text:c="1000000000"/></text:p></table:table-cell></table:table-row>',
    ],
)
def test_repeated_text_in_ods_is_a_zip_bomb(tmp_path: Path, rows: str) -> None:
    error = rejected(write_ods(tmp_path / "RP07.ods", ods_tables(rows=rows)))
    assert error.rule == "too_much_text"
    assert "characters of text once opened (the same long text copied" in said(error)


def plain_row(values: list[str]) -> str:
    """A row as odfpy writes it: no repeats, one element per cell."""
    return f"<table:table-row>{''.join(ods_cell(value) for value in values)}</table:table-row>"


def plain_tables(events: str) -> dict[str, str]:
    tables = {"Cover": plain_row(["field", "value"])}
    for sheet in RECORD_SHEETS:
        tables[sheet.name] = plain_row(list(sheet.column_names))
    tables["Events"] += events
    return tables


def test_a_plain_ods_row_too_wide_is_rejected(tmp_path: Path) -> None:
    path = write_ods(tmp_path / "RP07.ods", plain_tables(plain_row(["x"] * 300)), tail="")
    error = rejected(path)
    assert (error.rule, error.sheet) == ("sheet_too_large", "Events")
    assert said(error).startswith("sheet 'Events' holds values in the range A1:KN2, beyond")


def test_a_tag_hidden_in_an_attribute_cannot_split_a_row(tmp_path: Path) -> None:
    """quick-xml accepts '<' in an attribute value: a fake row end there must not make a
    300-cell row look like two rows of 150."""
    fake = "</table:table-row><table:table-row>"
    sneaky = f'<table:table-cell office:value-type="string" x="{fake}"></table:table-cell>'
    half = "".join(ods_cell("x") for _ in range(150))
    row = f"<table:table-row>{half}{sneaky}{half}</table:table-row>"
    error = rejected(write_ods(tmp_path / "RP07.ods", plain_tables(row), tail=""))
    assert error.rule == "damaged_part"
    assert said(error).startswith("the file is damaged: its part 'content.xml' is unreadable")


def test_prefixed_elements_are_read_exactly(tmp_path: Path) -> None:
    """Valid with a namespace prefix (some generators do this): read like any workbook."""
    part = (
        f'<?xml version="1.0"?><x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData>'
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>event_ref</x:t></x:is></x:c></x:row>'
        '<x:row r="2"><x:c r="IV2"><x:v>1</x:v></x:c></x:row>'
        "</x:sheetData></x:worksheet>"
    ).encode()
    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {EVENTS_PART: part})
    error = rejected(path)
    assert error.rule == "sheet_too_large"
    assert said(error).startswith("sheet 'Events' holds values in the range A1:IV2, beyond the")


def test_check_container_alone_refuses_a_bomb(tmp_path: Path) -> None:
    part = sheet_xml(HEADER_ROW + '<row r="2"><c r="XFD2"><v>1</v></c></row>')
    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {EVENTS_PART: part})
    with pytest.raises(WorkbookRejected, match=r"sheet_too_large.*A1:XFD2"):
        check_container(path)
    check_container(valid_xlsx(tmp_path / "good.xlsx"))


def test_a_password_protected_ods_is_told_so(tmp_path: Path) -> None:
    """LibreOffice encrypts content.xml and describes the encryption in the manifest."""
    path = write_ods(tmp_path / "RP07.ods", ods_tables())
    encryption = (
        '<manifest:encryption-data manifest:checksum-type="urn:oasis:names:tc:opendocument:'
        'xmlns:manifest:1.0#sha256-1k" manifest:checksum="bXlzdW0=">'
        '<manifest:algorithm manifest:algorithm-name="http://www.w3.org/2001/04/xmlenc#aes256-cbc"'
        ' manifest:initialisation-vector="aXZpdml2aXZpdml2aXY="/>'
        '<manifest:key-derivation manifest:key-derivation-name="PBKDF2" manifest:key-size="32"'
        ' manifest:iteration-count="100000" manifest:salt="c2FsdHNhbHRzYWx0c2E="/>'
        "</manifest:encryption-data>"
    )
    manifest = MANIFEST.replace(
        "</manifest:manifest>",
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"'
        f' manifest:size="4242">{encryption}</manifest:file-entry></manifest:manifest>',
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", os.urandom(4096))  # ciphertext, stored as is
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    error = rejected(path)
    assert error.rule == "password_protected"
    assert said(error).startswith(
        "the workbook is protected with a password, so it cannot be read; remove the password"
    )


# --- what the reader cannot read, in its own words ---------------------------------------


def test_a_macro_sheet_is_named_as_the_cause(tmp_path: Path) -> None:
    """Excel stores an Excel 4.0 macro sheet as xl/macrosheets/sheet1.xml."""
    macro_type = "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet"
    path = rewrite(
        valid_xlsx(tmp_path / "RP07.xlsx"),
        {
            "xl/workbook.xml": lambda xml: xml.replace(
                b"</sheets>", b'<sheet name="Macro1" sheetId="99" r:id="rId99"/></sheets>'
            ),
            "xl/_rels/workbook.xml.rels": lambda xml: xml.replace(
                b"</Relationships>",
                f'<Relationship Id="rId99" Type="{macro_type}"'
                ' Target="macrosheets/sheet1.xml"/></Relationships>'.encode(),
            ),
            "xl/macrosheets/sheet1.xml": sheet_xml("").replace(b"worksheet", b"xm:macrosheet"),
        },
    )
    error = rejected(path)
    assert (error.rule, error.facts) == (
        "unknown_sheet_kind",
        {"part": "xl/macrosheets/sheet1.xml"},
    )
    assert said(error).startswith(
        "the workbook holds a sheet of a kind that cannot be read (an Excel 4.0 macro sheet or"
        " similar, stored as 'xl/macrosheets/sheet1.xml'); delete that sheet"
    )


def _replace_ods_part(path: Path, name: str, new: Callable[[bytes], bytes] | None) -> Path:
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for part, data in parts.items():
            if part != name or new is not None:
                target.writestr(part, new(data) if part == name and new else data)
    return path


def test_an_ods_without_mimetype_is_told_so(tmp_path: Path) -> None:
    path = _replace_ods_part(write_ods(tmp_path / "RP07.ods", ods_tables()), "mimetype", None)
    error = rejected(path)
    assert error.rule == "ods_without_mimetype"
    assert said(error).startswith("the .ods file lacks its 'mimetype' part")


def test_a_pretty_printed_ods_is_told_so(tmp_path: Path) -> None:
    from xml.dom import minidom

    def pretty(xml: bytes) -> bytes:
        return minidom.parseString(xml).toprettyxml(indent="  ").encode()

    path = write_ods(tmp_path / "RP07.ods", ods_tables())
    error = rejected(_replace_ods_part(path, "content.xml", pretty))
    assert error.rule == "reformatted_ods"
    assert "it has text between its cells, as when the XML inside is pretty-printed" in said(error)


def test_utf16_xml_is_told_so(tmp_path: Path) -> None:
    def utf16(xml: bytes) -> bytes:
        return xml.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")

    path = rewrite(valid_xlsx(tmp_path / "RP07.xlsx"), {"xl/workbook.xml": utf16})
    # Excel may write a customXml item in UTF-16; calamine never reads it, so it is not
    # the cause, even when it comes first.
    item = '<?xml version="1.0" encoding="UTF-16"?><ds:datastoreItem/>'.encode("utf-16")
    with zipfile.ZipFile(path) as source:
        parts = {"customXml/item1.xml": item} | {
            i.filename: source.read(i) for i in source.infolist()
        }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    error = rejected(path)
    assert (error.rule, error.facts) == ("unsupported_encoding", {"part": "xl/workbook.xml"})
    assert said(error).startswith(
        "the part 'xl/workbook.xml' of the workbook is not in UTF-8, the only text encoding"
    )


# --- the drop folder ----------------------------------------------------------------------


def _drop(raw: Path, name: str, data: bytes = b"data") -> Path:
    path = raw / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["P4/RP07.xlsm", "P4/RP07.xls", "P4/RP07.csv"])
def test_other_file_types_are_refused_but_attributed(tmp_path: Path, name: str) -> None:
    _drop(tmp_path, name)
    [candidate] = discover(tmp_path, reference())
    assert (candidate.file, candidate.partner_id, candidate.period_id) == (name, "P4", "RP07")
    assert candidate.rejection is not None
    assert candidate.rejection.rule == "unsupported_file_type"
    suffix = name.rpartition(".")[2]
    assert refusal(candidate.rejection) == (
        f"{name}: .{suffix} files are not accepted (.xlsm, .xls, .csv and other formats are"
        " refused); only .xlsx and .ods workbooks are read. Open the file in your spreadsheet"
        " program and save it as Excel Workbook (.xlsx)"
    )


def test_a_symbolic_link_in_the_drop_folder_is_refused(tmp_path: Path) -> None:
    target = valid_xlsx(tmp_path / "outside" / "book.xlsx")
    raw = tmp_path / "raw"
    (raw / "P4").mkdir(parents=True)
    (raw / "P4" / "RP07.xlsx").symlink_to(target)
    (raw / "P5").symlink_to(tmp_path / "outside", target_is_directory=True)
    candidates = discover(raw, reference())
    assert [(c.file, c.partner_id, c.period_id) for c in candidates] == [
        ("P4/RP07.xlsx", "P4", "RP07"),
        ("P5", None, None),
    ]
    for candidate in candidates:
        assert candidate.rejection is not None
        assert candidate.rejection.rule == "symlink"
        assert "is a symbolic link; links are never followed" in refusal(candidate.rejection)


@pytest.mark.parametrize(
    ("name", "partner", "period", "message"),
    [
        (
            "RP07.xlsx",
            None,
            "RP07",
            "RP07.xlsx is not in a partner folder; put each workbook in the folder of its"
            " partner, e.g. P1/RP01.xlsx",
        ),
        (
            "P4/2019/RP07.xlsx",
            "P4",
            "RP07",
            "P4/2019/RP07.xlsx is in a sub-folder, and files in sub-folders are not read; put"
            " the workbook directly in the partner folder, e.g. P1/RP01.xlsx",
        ),
    ],
)
def test_a_file_outside_a_partner_folder_is_refused(
    tmp_path: Path, name: str, partner: str | None, period: str, message: str
) -> None:
    _drop(tmp_path, name)
    [candidate] = discover(tmp_path, reference())
    assert (candidate.partner_id, candidate.period_id) == (partner, period)
    assert candidate.rejection is not None
    rule = "outside_partner_folder" if partner is None else "in_sub_folder"
    assert (candidate.rejection.rule, refusal(candidate.rejection)) == (rule, message)


def test_unknown_partners_and_periods_are_refused_with_a_hint(tmp_path: Path) -> None:
    for name in ("p4/RP07.xlsx", "P12/RP07.ods", "P4/rp07.xlsx", "P4/RP07 (1).xlsx"):
        _drop(tmp_path, name)
    found = {c.file: c for c in discover(tmp_path, reference())}
    rules = {file: c.rejection.rule for file, c in found.items() if c.rejection}
    assert rules == {
        "P12/RP07.ods": "unknown_partner_folder",
        "P4/RP07 (1).xlsx": "copy_of_workbook",
        "P4/rp07.xlsx": "unknown_period_file",
        "p4/RP07.xlsx": "unknown_partner_folder",
    }
    hint = found["p4/RP07.xlsx"].rejection
    assert hint is not None
    assert refusal(hint) == (
        "the folder 'p4' is not a partner id (P1..P11) (did you mean 'P4'? ids must be written"
        " exactly); put the workbook in your own partner folder, e.g. P1/RP01.xlsx"
    )
    assert found["P4/rp07.xlsx"].partner_id == "P4"
    assert found["P12/RP07.ods"].period_id == "RP07"


@pytest.mark.parametrize(
    "name",
    [
        "RP07 (conflicted copy 2026-12-01).xlsx",
        "RP07 (Maria's conflicted copy 2026-12-01).xlsx",
        "RP07-DESKTOP-AB12.xlsx",
        "Copy of RP07.xlsx",
        "RP07 - Copy.xlsx",
        "RP07 (1).xlsx",
        "P4_RP07 (2).xlsx",
        "copy of rp07.xlsx",
    ],
)
def test_a_copy_of_a_workbook_is_named_a_copy(tmp_path: Path, name: str) -> None:
    _drop(tmp_path, f"P4/{name}")
    [candidate] = discover(tmp_path, reference())
    assert candidate.rejection is not None
    assert candidate.rejection.rule == "copy_of_workbook"
    message = refusal(candidate.rejection)
    assert message.startswith(f"'{name}' is named like a copy of your RP07 workbook")
    assert "rename it to RP07.xlsx, replacing the file there; otherwise delete it" in message
    assert "name the workbook after the period" not in message
    # Not counted against the partner-period: the copy is no submission of RP07.
    assert (candidate.partner_id, candidate.period_id) == ("P4", None)


@pytest.mark.parametrize(
    "name",
    ["Thumbs.db", "desktop.ini", "Desktop.ini", ".DS_Store", "~$RP07.xlsx", ".~lock.RP07.xlsx#"],
)
def test_operating_system_files_are_ignored_quietly(tmp_path: Path, name: str) -> None:
    valid_xlsx(tmp_path / "P4" / "RP07.xlsx")
    _drop(tmp_path, f"P4/{name}")
    _drop(tmp_path, name)
    assert [(c.file, c.rejection) for c in discover(tmp_path, reference())] == [
        ("P4/RP07.xlsx", None)
    ]


def test_the_run_names_a_rejected_file_once() -> None:
    refused = message_for(
        "unsupported_file_type", ref=reference(), file="P4/RP07.xls", kind=".xls files are"
    )
    submissions = pd.DataFrame(
        {
            "file": ["P4/RP07.xls", "P8/RP07.xlsx"],
            "sha256": ["a", "b"],
            "status": ["rejected"] * 2,
            "in_folder": [True, True],
        }
    )
    issues = pd.DataFrame(
        {
            "file": ["P4/RP07.xls", "P8/RP07.xlsx"],
            "sha256": ["a", "b"],
            "severity": ["error", "error"],
            "message": [refused, "Cover names partner P3"],
            "is_open": [True, True],
        }
    )
    assert rejected_summary(submissions, issues).splitlines()[1:] == [
        f"  {refused}",
        "  P8/RP07.xlsx: Cover names partner P3",
    ]


def test_a_mixed_drop_folder_yields_every_file_and_the_batch_goes_on(tmp_path: Path) -> None:
    valid_xlsx(tmp_path / "P4" / "RP07.xlsx")
    valid_xlsx(tmp_path / "P3" / "RP02.XLSX")  # extension case does not matter
    _drop(tmp_path, "P1/RP01.xlsx", b"")  # empty
    _drop(tmp_path, "P2/RP03.xlsx", b"not a workbook")
    _drop(tmp_path, "P2/RP04.csv", b"a,b")
    _drop(tmp_path, "stray.xlsx")
    _drop(tmp_path, "README.md", b"# how to drop files")
    _drop(tmp_path, "P4/.~lock.RP07.xlsx#")
    _drop(tmp_path, "P4/~$RP07.xlsx")
    _drop(tmp_path, ".hidden/P4/RP01.xlsx")
    os.symlink(tmp_path / "P4" / "RP07.xlsx", tmp_path / "P4" / "RP08.xlsx")

    outcomes: dict[str, str] = {}
    for candidate in discover(tmp_path, reference()):
        if candidate.rejection is not None:
            outcomes[candidate.file] = candidate.rejection.rule
            continue
        try:
            book = read_workbook(candidate.path)
            outcomes[candidate.file] = f"read {len(book.sheets)} sheets"
        except WorkbookRejected as error:
            outcomes[candidate.file] = error.rule
    assert outcomes == {
        "P1/RP01.xlsx": "empty_file",
        "P2/RP03.xlsx": "not_a_spreadsheet",
        "P2/RP04.csv": "unsupported_file_type",
        "P3/RP02.XLSX": "read 4 sheets",
        "P4/RP07.xlsx": "read 4 sheets",
        "P4/RP08.xlsx": "symlink",
        "stray.xlsx": "outside_partner_folder",
    }
