"""Cell values as partners type them: each is read exactly or refused with a message.

Workbooks are written the way partners' tools write them: the template (XlsxWriter)
for text and typed values, openpyxl for values only a spreadsheet's own arithmetic
produces (a sum of cents stored as 300.29999999999995).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipelines.core.intake.discovery import discover
from pipelines.core.intake.ingest import ingest
from pipelines.core.reference.loader import reference
from pipelines.core.state.facts import resolve_facts
from pipelines.core.state.versions import Outcome
from tests.helpers.workbooks import GOOD_ROWS, make_workbook


def _ingest(raw: Path, tmp_path: Path) -> Outcome:
    (outcome,) = ingest(discover(raw, reference()), reference(), tmp_path / "archive")
    return outcome


def _issues(outcome: Outcome) -> list[tuple[str, str, str]]:
    return [(i["rule"], i["column"], i["value"]) for i in outcome.issues]


def _set_cells(path: Path, sheet: str, values: dict[str, object]) -> None:
    """Overwrite row 2 of a sheet with openpyxl, by column header."""
    book = load_workbook(path)
    ws = book[sheet]
    header = {cell.value: cell.column for cell in ws[1]}
    for name, value in values.items():
        ws.cell(row=2, column=header[name], value=value)
    book.save(path)


@pytest.mark.parametrize("text", ["500.000", "1.500", "1,500", "2.500.000", "1 500", "1'500"])
def test_a_text_amount_whose_reading_depends_on_the_country_is_refused(tmp_path, dirs, text):
    raw, _ = dirs
    measure = {**GOOD_ROWS["PolicyMeasures"], "other_funds_influenced_eur": text}
    make_workbook(raw, "P4", "RP07", {"PolicyMeasures": [measure]})
    outcome = _ingest(raw, tmp_path)
    assert _issues(outcome) == [("ambiguous_number", "other_funds_influenced_eur", text)]
    assert "digits only, no thousands separator" in outcome.issues[0]["message"]
    assert outcome.records.get("policy_measures") is None


@pytest.mark.parametrize("text", ["1.500", "1,500", "2.500.000", "1 500"])
def test_a_text_count_whose_reading_depends_on_the_country_is_refused(tmp_path, dirs, text):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [{**GOOD_ROWS["Events"], "participants": text}]})
    outcome = _ingest(raw, tmp_path)
    assert _issues(outcome) == [("ambiguous_number", "participants", text)]


@pytest.mark.parametrize(
    ("text", "amount"),
    [("500000", "500000.00"), ("1500.50", "1500.50"), ("12.5", "12.50"), (" 7 ", "7.00")],
)
def test_an_unambiguous_text_amount_is_read_exactly(tmp_path, dirs, text, amount):
    raw, _ = dirs
    measure = {**GOOD_ROWS["PolicyMeasures"], "other_funds_influenced_eur": text}
    make_workbook(raw, "P4", "RP07", {"PolicyMeasures": [measure]})
    outcome = _ingest(raw, tmp_path)
    assert outcome.issues == []
    (read,) = outcome.records["policy_measures"]["other_funds_influenced_eur"]
    assert read == Decimal(amount)


@pytest.mark.parametrize(
    ("stored", "amount"),
    [(2023.5700000000002, "2023.57"), (300.29999999999995, "300.30"), (0.1 + 0.2, "0.30")],
)
def test_a_spreadsheet_sum_of_cents_is_accepted_to_the_cent(tmp_path, dirs, stored, amount):
    raw, _ = dirs
    path = make_workbook(raw, "P4", "RP07", {"PolicyMeasures": [GOOD_ROWS["PolicyMeasures"]]})
    _set_cells(path, "PolicyMeasures", {"sf_influenced_eur": stored})
    outcome = _ingest(raw, tmp_path)
    assert outcome.issues == []
    (read,) = outcome.records["policy_measures"]["sf_influenced_eur"]
    assert read == Decimal(amount)


@pytest.mark.parametrize("stored", [300.295, 300.2900001, 1e-7, 1e17])
def test_an_amount_further_from_a_cent_is_still_refused(tmp_path, dirs, stored):
    raw, _ = dirs
    path = make_workbook(raw, "P4", "RP07", {"PolicyMeasures": [GOOD_ROWS["PolicyMeasures"]]})
    _set_cells(path, "PolicyMeasures", {"sf_influenced_eur": stored})
    outcome = _ingest(raw, tmp_path)
    assert [i["rule"] for i in outcome.issues] == ["wrong_type"]


def test_keys_and_enumerations_are_read_without_invisible_spaces(tmp_path, dirs):
    raw, _ = dirs
    event = {
        **GOOD_ROWS["Events"],
        "event_ref": "EV-1\u00a0",  # a no-break space pasted from a web page
        "format": " online\u202f",
        "country": "\uff32\uff2f",  # full-width 'RO' from an East Asian input method
        "event_type": "regional_stakeholder_meeting\u200b",
        "title": "\u00a0Cluster  meeting ",
    }
    make_workbook(raw, "P4", "RP07", {"Events": [event]})
    outcome = _ingest(raw, tmp_path)
    assert outcome.issues == []
    (row,) = outcome.records["events"].to_dict("records")
    assert (row["event_ref"], row["format"], row["country"], row["event_type"]) == (
        "EV-1",
        "online",
        "RO",
        "regional_stakeholder_meeting",
    )
    assert row["title"] == "Cluster  meeting"


def test_a_cover_id_with_a_trailing_space_is_the_id(tmp_path, dirs):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]}, cover={"partner_id": "P4 "})
    assert _ingest(raw, tmp_path).status == "accepted"


def test_a_text_date_with_surrounding_spaces_is_the_date(tmp_path, dirs):
    raw, _ = dirs
    make_workbook(
        raw, "P4", "RP07", {"Events": [{**GOOD_ROWS["Events"], "start_date": " 2019-05-20\u00a0"}]}
    )
    outcome = _ingest(raw, tmp_path)
    assert outcome.issues == []
    assert list(outcome.records["events"]["start_date"]) == [dt.date(2019, 5, 20)]


@pytest.mark.parametrize(
    ("ref", "character", "name", "position"),
    [
        ("\u0415V-001", "\u0415", "CYRILLIC CAPITAL LETTER IE", 1),
        ("EV\u2010001", "\u2010", "HYPHEN", 3),
        ("EV-0O1", None, None, None),  # a letter O: readable as such, a key of its own
        ("EV\uff0d001", None, None, None),  # a full-width hyphen is '-' once NFKC-folded
    ],
)
def test_a_key_with_a_look_alike_character_is_refused_never_counted_twice(
    tmp_path, dirs, ref, character, name, position
):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [{**GOOD_ROWS["Events"], "event_ref": "EV-001"}]})
    restated = {**GOOD_ROWS["Events"], "event_ref": ref}
    make_workbook(raw, "P4", "RP08", {"Events": [restated]}, cover={"period_id": "RP08"})
    first, later = ingest(discover(raw, reference()), reference(), tmp_path / "archive")
    refused = [i for i in later.issues if i["rule"] == "character_outside_alphabet"]
    events = pd.concat([o.records["events"] for o in (first, later) if "events" in o.records])
    current = resolve_facts({"events": events}, reference()).tables["events"]
    if character is None:
        assert refused == []
        assert len(current) == (1 if ref == "EV\uff0d001" else 2)
        return
    (issue,) = refused
    assert (issue["column"], issue["row"], issue["value"]) == ("event_ref", 2, ref)
    assert issue["message"].startswith(
        f"event_ref '{ref}' has the character '{character}' ({name}) at position {position}"
    )
    assert list(current["event_ref"]) == ["EV-001"]
