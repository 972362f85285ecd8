"""The bundled reference data matches the SPEC, and a broken file fails loudly."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.core.reference.loader import DATA_DIR, ReferenceDataError, load_reference, reference


def test_partners_periods_and_instruments_match_the_spec():
    ref = reference()
    assert ref.partner_ids == [f"P{i}" for i in range(1, 12)]
    assert ref.partner_name("P2", dt.date(2018, 12, 31)) == "IDM Suedtirol – Alto Adige"
    assert ref.partner_name("P2", dt.date(2019, 1, 1)) == "NOI Techpark"
    assert len(ref.expected_submissions()) == 118
    assert not ref.takes_part("P11", "RP09")

    periods = ref.periods.set_index("period_id")
    assert list(periods.index) == [f"RP{i:02d}" for i in range(1, 12)]
    assert list(periods["phase"]) == ["1"] * 6 + ["2"] * 2 + ["extended"] * 3
    assert periods.loc["RP01", "deadline"] == dt.date(2016, 12, 31)
    assert periods.loc["RP07", "start_date"] == dt.date(2019, 4, 1)
    assert periods.loc["RP08", "deadline"] == dt.date(2021, 6, 30)
    assert periods.loc["RP09", "start_date"] == dt.date(2021, 10, 1)

    instruments = ref.policy_instruments
    assert len(instruments) == 10
    assert int(instruments["sf_linked"].sum()) == 9
    assert ref.instrument_of("P5") is None
    assert not ref.instrument_sf_linked()["PI-P9"]
    national = set(instruments.loc[instruments["level"] == "national", "policy_instrument_id"])
    assert national == {"PI-P4", "PI-P6"}


def test_indicator_targets_match_the_application_form():
    indicators = reference().indicators
    targets = dict(zip(indicators["indicator_id"], indicators["target"], strict=True))
    expected = {
        "O1": "81",
        "O1X": "16",
        "O2": "20",
        "R1": "8",
        "R2": "1",
        "R3": "5086000",
        "R4": "5000000",
        "C1": "5.0",
    }
    assert {k: targets[k] for k in expected} == {k: Decimal(v) for k, v in expected.items()}
    event_targets = dict(
        zip(reference().event_types["event_type"], reference().event_types["target"], strict=True)
    )
    assert sum(event_targets.values()) == 81 + 16


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "reference_data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_a_value_outside_its_enumeration_names_file_row_and_rule(data_copy):
    path = data_copy / "periods.csv"
    path.write_text(
        path.read_text().replace("RP03,2017-04-01,2017-09-30,1", "RP03,2017-04-01,2017-09-30,3")
    )
    with pytest.raises(ReferenceDataError) as error:
        load_reference(data_copy)
    assert "periods.csv, row 4, column 'phase'" in str(error.value)
    assert "not_in_enumeration" in str(error.value)


def test_a_value_of_the_wrong_type_names_file_row_and_column(data_copy):
    path = data_copy / "indicators.csv"
    path.write_text(
        path.read_text().replace(
            "O2,Good practices identified,practices,20",
            "O2,Good practices identified,practices,twenty",
        )
    )
    with pytest.raises(ReferenceDataError, match=r"indicators.csv, row 13, column 'target'"):
        load_reference(data_copy)


def test_a_repeated_key_fails(data_copy):
    path = data_copy / "policy_instruments.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(ReferenceDataError, match=r"policy_instruments\.csv"):
        load_reference(data_copy)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_an_event_type_without_its_indicator_fails_at_load(data_copy):
    _replace(data_copy / "event_types.csv", "staff_exchange,1,3,O1.3,", "staff_exchange,1,3,O1.9,")
    with pytest.raises(ReferenceDataError, match=r"event_types\.csv, row 4, column 'indicator_id'"):
        load_reference(data_copy)


def test_an_indicator_counting_an_unknown_event_type_fails_at_load(data_copy):
    _replace(data_copy / "indicators.csv", ",O1,staff_exchange,", ",O1,staff_visit,")
    with pytest.raises(ReferenceDataError, match=r"indicators\.csv, row 5, column 'event_type'"):
        load_reference(data_copy)


def test_event_type_and_indicator_targets_must_agree(data_copy):
    _replace(
        data_copy / "indicators.csv",
        "O1.3,Staff exchanges,events,3,",
        "O1.3,Staff exchanges,events,4,",
    )
    with pytest.raises(ReferenceDataError, match=r"indicators\.csv, row 5, column 'target'"):
        load_reference(data_copy)


def test_a_new_event_type_in_the_reference_data_is_accepted_in_workbooks(data_copy):
    """Event types are listed in the reference files only: adding one there is enough."""
    from pipelines.core.metadata.schemas import sheet_schema
    from pipelines.core.metadata.tables import EVENTS_SHEET

    with (data_copy / "event_types.csv").open("a") as f:
        f.write("study_tour,extended,2,O1X.5,false,A study tour,\n")
    _replace(
        data_copy / "indicators.csv",
        "O2,Good practices",
        "O1X.5,Study tours,events,2,O1X,study_tour,distinct study_tour events\nO2,Good practices",
    )
    ref = load_reference(data_copy)
    assert "study_tour" in ref.event_type_ids
    checks = sheet_schema(EVENTS_SHEET, ref).columns["event_type"].checks
    enumeration = next(c for c in checks if c.name == "not_in_enumeration")
    import pandas as pd

    assert enumeration(pd.DataFrame({"event_type": ["study_tour"]})["event_type"]).check_passed


def test_the_phases_an_event_type_may_continue_in_are_reference_data(data_copy):
    assert reference().event_phases()["regional_stakeholder_meeting"] == {"1", "2"}
    _replace(
        data_copy / "event_types.csv",
        "Consortium meeting of phase 2 to monitor the action plans,,",
        "Consortium meeting of phase 2 to monitor the action plans,,extended",
    )
    assert load_reference(data_copy).event_phases()["monitoring_meeting"] == {"2", "extended"}
