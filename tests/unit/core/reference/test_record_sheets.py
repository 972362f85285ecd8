"""A project's own record sheets, declared in sheets.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.core.metadata.schemas import sheet_schema
from pipelines.core.reference.loader import DEFAULT_PROJECT_DIR, ReferenceDataError, load_reference

VALID = """
sheets:
  - sheet: Solutions
    table: solutions
    key: solution_ref
    description: Solutions taken up, one per row.
    columns:
      - column: solution_ref
        kind: text
        required: true
        description: Your id of the solution.
      - column: title
        required: true
      - column: uptake
        kind: text
        allowed: [taken_up, up_scaled]
        description: Taken up or up-scaled.
      - column: adopted_on
        kind: date
        description: Day it was adopted.
      - column: jobs
        kind: integer
        min: 0
        max: 500
        description: Jobs created.
      - column: budget_eur
        kind: amount
        description: Budget of the solution.
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(DEFAULT_PROJECT_DIR, target)
    return target


def test_a_declared_sheet_gets_a_typed_table_and_checks(folder: Path) -> None:
    (folder / "sheets.yaml").write_text(VALID, encoding="utf-8")
    ref = load_reference(folder)
    assert [s.name for s in ref.record_sheets][-1] == "Solutions"
    table = ref.fact_table("solutions")
    schema = table.arrow_schema()
    assert schema.field("adopted_on").type == pa.date32()
    assert schema.field("jobs").type == pa.int64()
    assert schema.field("budget_eur").type == pa.decimal128(18, 2)
    assert table.primary_key == ("partner_id", "solution_ref")
    assert {"solution_ref", "title"} <= table.required
    sheet = ref.record_sheets[-1]
    assert sheet.column("uptake").hint_for(ref) == "one of: taken_up, up_scaled"
    assert sheet.column("jobs").hint_for(ref) == "a whole number from 0 to 500"
    assert sheet.column("title").description == "Title."  # the product's field, as it is
    checks = {c.name for c in sheet_schema(sheet, ref).columns["uptake"].checks}
    assert "not_in_enumeration" in checks


def test_without_sheets_yaml_the_workbook_has_the_standard_four(folder: Path) -> None:
    ref = load_reference(folder)
    assert [s.name for s in ref.record_sheets] == [
        "Events",
        "GoodPractices",
        "PolicyMeasures",
        "Collaborations",
    ]


def test_every_problem_of_sheets_yaml_is_named_with_what_to_write(folder: Path) -> None:
    (folder / "sheets.yaml").write_text(
        """
sheets:
  - sheet: Events
    table: events
    key: ref
    description: ""
    columns:
      - column: ref
        kind: number
      - column: country
        kind: text
      - column: file
        kind: text
        description: x
      - column: grade
        kind: integer
        allowed: [a, b]
        description: x
      - colour: red
""",
        encoding="utf-8",
    )
    with pytest.raises(ReferenceDataError) as caught:
        load_reference(folder)
    message = str(caught.value)
    for expected in (
        "sheets.yaml, sheet 1: 'sheet' is the workbook sheet's name",
        "not Cover, Guide or a standard sheet",
        "'table' is the published table's name",
        "'description' says what a row of the sheet is",
        "column 1 ('ref'): 'ref' is not a column the product knows, so give its kind: one of"
        " text, integer, amount, date",
        "column 2: 'country' is a column the product knows",
        "column 3: column 'file' must be lower case letters",
        "column 4 ('grade'): 'allowed' is a list of values, for a text column only",
        "column 5: write each column as 'column: <name>'",
        "'key' must name one of the sheet's columns (ref)",
    ):
        assert expected in message, expected


def test_sheets_yaml_must_hold_a_list_of_sheets(folder: Path) -> None:
    (folder / "sheets.yaml").write_text("solutions: {}\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="write one list, 'sheets:'"):
        load_reference(folder)
