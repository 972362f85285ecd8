"""The partner workbook: what a partner sees and what the pipeline reads back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.app.cli import main
from pipelines.core.metadata.fields import FORMATS, MEASURE_STATUSES, PRACTICE_STAGES
from pipelines.core.metadata.tables import COVER_FIELDS, RECORD_SHEETS
from pipelines.core.outputs.template import TemplateError, write_template
from pipelines.core.reference.loader import reference

FORMULA_LIKE = '=HYPERLINK("http://evil.example","click")'

FILLED = {
    "Events": [
        {
            "event_ref": "EV-001",
            "title": FORMULA_LIKE,
            "event_type": "regional_stakeholder_meeting",
            "start_date": dt.date(2019, 5, 20),
            "end_date": dt.date(2019, 5, 21),
            "format": "in_person",
            "city": "Bucharest",
            "country": "RO",
            "participants": 42,
            "evidence_url": "https://example.org/ev-001",
        },
        {
            "event_ref": "EV-002",
            "title": "Stakeholder meeting",
            "event_type": "regional_stakeholder_meeting",
            "start_date": dt.date(2019, 9, 3),
            "format": "online",
            "country": "RO",
            "participants": "many",
        },
    ],
    "PolicyMeasures": [
        {
            "measure_ref": "M-01",
            "policy_instrument_id": "PI-P4",
            "description": "Cluster call",
            "status": "implemented",
            "implemented_on": dt.date(2019, 11, 4),
            "sf_influenced_eur": Decimal("612345.67"),
            "other_funds_influenced_eur": Decimal("0"),
        }
    ],
    "Collaborations": [{"year": 2015, "company_research_collaborations": 120, "source": "stats"}],
}


def _validations(ws) -> dict[str, tuple[str, str | None, str | None]]:
    """Data-validation rules by the column letter they start in: (type, formula1, formula2)."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        first = str(dv.sqref).split(":")[0]
        out["".join(ch for ch in first if ch.isalpha())] = (dv.type, dv.formula1, dv.formula2)
    return out


def _letter(sheet_name: str, column: str) -> str:
    sheet = next(s for s in RECORD_SHEETS if s.name == sheet_name)
    return openpyxl.utils.get_column_letter(sheet.column_names.index(column) + 1)


def _listed(values) -> str:
    return '"' + ",".join(values) + '"'


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    return write_template("P4", "RP07", tmp_path_factory.mktemp("blank") / "P4_RP07.xlsx")


@pytest.fixture(scope="module")
def blank_book(blank: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(blank)


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("filled") / "RP07.xlsx"
    return write_template(
        "P4", "RP07", path, records=FILLED, cover={"submitted_on": dt.date(2020, 5, 4)}
    )


def test_sheets_in_order(blank_book):
    assert blank_book.sheetnames == ["Guide", "Cover", *(s.name for s in RECORD_SHEETS)]


@pytest.mark.parametrize("sheet", RECORD_SHEETS, ids=lambda s: s.name)
def test_headers_frozen_and_bold(blank_book, sheet):
    ws = blank_book[sheet.name]
    assert tuple(c.value for c in ws[1]) == sheet.column_names
    assert ws.freeze_panes == "A2"
    assert all(c.font.b for c in ws[1])


def test_enumerations_are_drop_downs(blank_book):
    events = _validations(blank_book["Events"])
    assert events[_letter("Events", "event_type")] == (
        "list",
        _listed(reference().event_type_ids),
        None,
    )
    assert events[_letter("Events", "format")] == ("list", _listed(FORMATS), None)
    practices = _validations(blank_book["GoodPractices"])
    assert practices[_letter("GoodPractices", "stage")] == ("list", _listed(PRACTICE_STAGES), None)
    measures = _validations(blank_book["PolicyMeasures"])
    status = _letter("PolicyMeasures", "status")
    assert measures[status] == ("list", _listed(MEASURE_STATUSES), None)


def test_instrument_list_is_the_partners_own(blank_book):
    measures = _validations(blank_book["PolicyMeasures"])
    assert measures[_letter("PolicyMeasures", "policy_instrument_id")][1] == '"PI-P4"'


def test_guest_partner_list_excludes_the_partner(blank_book):
    events = _validations(blank_book["Events"])
    guests = events[_letter("Events", "guest_partner_id")][1].strip('"').split(",")
    assert guests == [p for p in reference().partner_ids if p != "P4"]


def test_no_drop_down_for_multi_valued_back_to_back(blank_book):
    assert _letter("Events", "back_to_back") not in _validations(blank_book["Events"])


def test_dates_and_numbers_are_checked(blank_book):
    events = _validations(blank_book["Events"])
    start = events[_letter("Events", "start_date")]
    first, last = dt.date(2016, 4, 1), dt.date(2023, 3, 31)
    excel_epoch = dt.date(1899, 12, 30)
    assert start == ("date", str((first - excel_epoch).days), str((last - excel_epoch).days))
    assert events[_letter("Events", "participants")] == ("whole", "0", None)
    measures = _validations(blank_book["PolicyMeasures"])
    assert measures[_letter("PolicyMeasures", "sf_influenced_eur")] == ("decimal", "0", None)
    years = _validations(blank_book["Collaborations"])
    assert years[_letter("Collaborations", "year")] == ("whole", "2015", "2023")


def test_checks_cover_a_generous_row_range(blank_book):
    dv = blank_book["Events"].data_validations.dataValidation[0]
    assert str(dv.sqref).endswith("1000")


def test_blank_columns_carry_formats_and_widths(blank_book):
    ws = blank_book["PolicyMeasures"]
    money = ws.column_dimensions[_letter("PolicyMeasures", "sf_influenced_eur")]
    dates = ws.column_dimensions[_letter("PolicyMeasures", "implemented_on")]
    assert money.number_format == "#,##0.00"
    assert dates.number_format == "yyyy-mm-dd"
    assert money.width > 10 and dates.width > 10


def test_cover_prefilled(blank_book):
    rows = list(blank_book["Cover"].iter_rows(values_only=True))
    assert rows[0] == ("field", "value")
    values = dict(rows[1:])
    assert list(values) == [f.name for f in COVER_FIELDS]
    assert values["partner_id"] == "P4"
    assert values["period_id"] == "RP07"
    assert values["template_version"] == 1
    assert values["submitted_on"] is None


def test_guide_lists_every_column(blank_book):
    rows = {r[:3] for r in blank_book["Guide"].iter_rows(values_only=True)}
    for sheet in RECORD_SHEETS:
        for column in sheet.column_names:
            required = "yes" if column in sheet.required else "no"
            assert (sheet.name, column, required) in rows
    for f in COVER_FIELDS:
        assert any(r[:2] == ("Cover", f.name) for r in rows)


def test_guide_states_the_alphabet_of_ids_and_refs(blank_book):
    rows = {r[1]: " ".join(map(str, r)) for r in blank_book["Guide"].iter_rows(values_only=True)}
    for column in ("event_ref", "practice_ref", "measure_ref", "guest_partner_id"):
        assert "plain keyboard characters (the letters A-Z and a-z, the digits" in rows[column]


def test_guide_says_how_to_submit(blank_book):
    text = " ".join(str(c) for r in blank_book["Guide"].iter_rows(values_only=True) for c in r)
    assert "raw/P4/RP07.xlsx" in text
    assert "replaces" in text


def test_partner_without_instrument(tmp_path):
    book = openpyxl.load_workbook(write_template("P5", "RP01", tmp_path / "P5.xlsx"))
    assert _letter("PolicyMeasures", "policy_instrument_id") not in _validations(
        book["PolicyMeasures"]
    )
    text = " ".join(str(c) for r in book["Guide"].iter_rows(values_only=True) for c in r)
    assert "P5 addresses no policy instrument" in text


@pytest.mark.parametrize(
    ("partner", "period", "words"),
    [("P99", "RP01", "P1, P2"), ("P4", "RP12", "RP01, RP02"), ("P11", "RP09", "RP08")],
)
def test_unknown_or_absent_is_refused(tmp_path, partner, period, words):
    with pytest.raises(TemplateError, match=words):
        write_template(partner, period, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_cli_refuses_unknown_partner(tmp_path, capsys):
    assert main(["template", "P99", "RP01", "-o", str(tmp_path / "x.xlsx")]) != 0
    assert "P99" in capsys.readouterr().err


def test_cli_writes_template(tmp_path):
    out = tmp_path / "P4_RP07.xlsx"
    assert main(["template", "P4", "RP07", "-o", str(out)]) == 0
    assert openpyxl.load_workbook(out).sheetnames[0] == "Guide"


def test_unknown_column_is_refused(tmp_path):
    with pytest.raises(TemplateError, match="colour"):
        write_template("P4", "RP07", tmp_path / "x.xlsx", records={"Events": [{"colour": 1}]})


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_filled_workbook_reads_back_typed(tmp_path, suffix):
    path = write_template(
        "P4",
        "RP07",
        tmp_path / f"RP07{suffix}",
        records=FILLED,
        cover={"submitted_on": dt.date(2020, 5, 4)},
    )
    events = pd.read_excel(path, sheet_name="Events", engine="calamine")
    assert tuple(events.columns) == RECORD_SHEETS[0].column_names
    assert events.loc[0, "title"] == FORMULA_LIKE
    assert events.loc[0, "start_date"] == pd.Timestamp("2019-05-20")
    assert pd.api.types.is_datetime64_any_dtype(events["start_date"])
    assert events["participants"].tolist() == [42, "many"]
    measures = pd.read_excel(path, sheet_name="PolicyMeasures", engine="calamine")
    assert measures.loc[0, "sf_influenced_eur"] == pytest.approx(612345.67)
    assert measures.loc[0, "implemented_on"] == pd.Timestamp("2019-11-04")
    cover = pd.read_excel(path, sheet_name="Cover", engine="calamine")
    assert dict(zip(cover["field"], cover["value"], strict=True))["submitted_on"] == (
        pd.Timestamp("2020-05-04")
    )


def test_formula_like_text_is_stored_as_text(filled):
    cell = openpyxl.load_workbook(filled)["Events"]["B2"]
    assert cell.value == FORMULA_LIKE
    assert cell.data_type == "s"


def test_dates_and_money_carry_their_formats(filled):
    book = openpyxl.load_workbook(filled)
    assert book["Events"]["D2"].number_format == "yyyy-mm-dd"
    measures = book["PolicyMeasures"]
    assert measures[_letter("PolicyMeasures", "sf_influenced_eur") + "2"].number_format == (
        "#,##0.00"
    )
    assert book["Cover"]["B5"].number_format == "yyyy-mm-dd"


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_same_inputs_same_bytes(tmp_path, suffix):
    first = write_template("P4", "RP07", tmp_path / f"a{suffix}", records=FILLED)
    second = write_template("P4", "RP07", tmp_path / f"b{suffix}", records=FILLED)
    assert first.read_bytes() == second.read_bytes()
