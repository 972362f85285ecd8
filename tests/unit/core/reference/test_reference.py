"""The bundled reference data matches the SPEC, and a broken file fails loudly."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.core.reference.loader import (
    DEFAULT_PROJECT_DIR,
    ReferenceDataError,
    load_reference,
    reference,
)


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
    assert ref.instruments_of("P5") == ()
    assert ref.instruments_of("P4") == ("PI-P4",)
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
    shutil.copytree(DEFAULT_PROJECT_DIR, target)
    return target


def test_a_value_outside_its_enumeration_names_file_row_and_rule(data_copy):
    path = data_copy / "periods.csv"
    path.write_text(
        path.read_text().replace("RP03,2017-04-01,2017-09-30,1", "RP03,2017-04-01,2017-09-30,3")
    )
    with pytest.raises(ReferenceDataError) as error:
        load_reference(data_copy)
    assert "periods.csv, row 4, column 'phase': phase '3' is not in project.yaml" in str(
        error.value
    )


def test_a_value_of_the_wrong_type_names_file_row_and_column(data_copy):
    path = data_copy / "indicators.csv"
    path.write_text(
        path.read_text().replace(
            "O2,Good practices identified,output,practices,20",
            "O2,Good practices identified,output,practices,twenty",
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


def test_an_indicator_naming_no_known_computation_is_refused_with_what_is_allowed(data_copy):
    _replace(
        data_copy / "indicators.csv",
        "R3,Structural Funds influenced,result,EUR,5086000,,sum,",
        "R3,Structural Funds influenced,result,EUR,5086000,,total,",
    )
    with pytest.raises(ReferenceDataError) as error:
        load_reference(data_copy)
    message = str(error.value)
    assert (
        "indicators.csv, row 16 (R3): 'computation' 'total' is not one of count_events," in message
    )
    assert "mean_change" in message


def test_an_indicator_counting_an_unknown_event_type_fails_at_load(data_copy):
    _replace(
        data_copy / "indicators.csv",
        ",O1,count_events,staff_exchange,",
        ",O1,count_events,staff_visit,",
    )
    with pytest.raises(
        ReferenceDataError,
        match=r"indicators\.csv, row 5 \(O1\.3\): event_type 'staff_visit' is not in"
        r" event_types\.csv",
    ):
        load_reference(data_copy)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "policy_measures,sf_influenced_eur,status = implemented",
            "policy_measures,,status = implemented",
            "'column' is required by sum",
        ),
        (
            "policy_measures,sf_influenced_eur,status = implemented",
            "policy_measures,sf_funds,status = implemented",
            "column 'sf_funds' is not in policy_measures",
        ),
        (
            "policy_measures,sf_influenced_eur,status = implemented",
            "policy_measures,evidence_url,status = implemented",
            "column 'evidence_url' holds no numbers to add up",
        ),
        (
            "policy_measures,sf_influenced_eur,status = implemented",
            "policy_measures,sf_influenced_eur,status = done",
            "'filter': 'done' is not one of planned, in_progress, implemented",
        ),
        (
            "policy_measures,sf_influenced_eur,status = implemented",
            "policy_measures,sf_influenced_eur,state = implemented",
            "'filter' names column 'state', which policy_measures does not have",
        ),
        (
            "policy_measures,sf_influenced_eur,status = implemented",
            "policy_measures,sf_influenced_eur,implemented",
            "'filter' is written 'column = value'",
        ),
        (
            "R3,Structural Funds influenced,result,EUR,5086000,,sum,,policy_measures",
            "R3,Structural Funds influenced,result,EUR,5086000,,sum,,measures",
            "sheet 'measures' is not one of events, good_practices",
        ),
        (
            "R3,Structural Funds influenced,result,EUR,5086000,,sum,",
            "R3,Structural Funds influenced,result,EUR,5086000,O2,sum,",
            "row 13 (O2): other indicators add up into it, so its computation is sum_of_children",
        ),
        (
            "good_practices,,,,stage,",
            "good_practices,,,,level,",
            "breakdown 'level' is not a column with listed values of good_practices (stage)",
        ),
        (
            "R3,Structural Funds influenced,result,EUR,5086000,,sum,",
            "R3,Structural Funds influenced,result,EUR,5086000,R9,sum,",
            "column 'parent_indicator_id': 'R9' is not an indicator_id",
        ),
    ],
)
def test_a_wrong_indicator_parameter_is_refused_naming_row_and_what_to_write(
    data_copy, old, new, says
):
    _replace(data_copy / "indicators.csv", old, new)
    with pytest.raises(ReferenceDataError) as error:
        load_reference(data_copy)
    assert says in str(error.value)


def test_a_parent_without_children_is_refused(data_copy):
    path = data_copy / "indicators.csv"
    kept = [line for line in path.read_text().splitlines() if not line.startswith("O1X.")]
    path.write_text("\n".join(kept) + "\n")
    with pytest.raises(
        ReferenceDataError, match=r"row 8 \(O1X\): sum_of_children needs indicators naming it"
    ):
        load_reference(data_copy)


def test_every_problem_of_every_file_is_listed_at_once(data_copy):
    _replace(data_copy / "indicators.csv", ",sum,", ",total,")
    _replace(
        data_copy / "periods.csv", "RP03,2017-04-01,2017-09-30,1", "RP03,2017-04-01,2017-09-30,3"
    )
    _replace(data_copy / "policy_instruments.csv", "PI-P9,P9,", "PI-P9,P12,")
    with pytest.raises(ReferenceDataError) as error:
        load_reference(data_copy)
    message = str(error.value)
    assert "indicators.csv, row 16 (R3): 'computation' 'total' is not one of" in message
    assert "periods.csv, row 4, column 'phase'" in message
    assert (
        "policy_instruments.csv, row 9, column 'partner_id': 'P12' is not in partners.yaml"
        in message
    )


def test_a_wrong_project_yaml_entry_says_what_to_write(data_copy):
    _replace(data_copy / "project.yaml", "currency: EUR", "currency: euro")
    _replace(data_copy / "project.yaml", "    name: Extended phase\n", "")
    with pytest.raises(ReferenceDataError) as error:
        load_reference(data_copy)
    message = str(error.value)
    assert "project.yaml, currency: write a three-letter ISO 4217 code such as EUR" in message
    assert "project.yaml, phases entry 3: 'name' is required" in message


def test_csv_as_a_spreadsheet_app_saves_it_is_read_or_refused_saying_why(data_copy):
    """Excel's "CSV UTF-8" starts with a byte-order mark: read as is. A European locale
    saves "CSV" with semicolons: refused naming the separator, not as missing columns."""
    path = data_copy / "indicators.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(load_reference(data_copy).indicators) == 17
    periods = data_copy / "periods.csv"
    periods.write_text(periods.read_text().replace(",", ";"))
    with pytest.raises(ReferenceDataError) as error:
        load_reference(data_copy)
    message = str(error.value)
    assert "periods.csv: its columns are separated by ';', not commas" in message
    assert "deadline" not in message


def test_a_project_folder_without_project_yaml_is_refused(data_copy):
    (data_copy / "project.yaml").unlink()
    with pytest.raises(ReferenceDataError, match=r"project\.yaml is missing from"):
        load_reference(data_copy)


def test_a_missing_file_and_unreadable_partners_are_listed_without_false_problems(data_copy):
    """A folder written by hand may lack a file or break YAML: each is one line, and the
    partners named elsewhere are not all reported unknown because partners.yaml failed."""
    (data_copy / "event_types.csv").unlink()
    (data_copy / "partners.yaml").write_text("- partner_id: [P1\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError) as error:
        load_reference(data_copy)
    _, *problems = str(error.value).splitlines()
    assert problems[0].startswith("partners.yaml is not valid YAML: ")
    assert problems[1:] == ["event_types.csv is missing from the project folder"]


def test_phases_say_which_partners_report_in_them(data_copy):
    _replace(
        data_copy / "project.yaml",
        "partners: [P1, P2, P3, P4, P5, P6, P7, P8, P9, P10]",
        "partners: [P1, P2]",
    )
    ref = load_reference(data_copy)
    assert ref.takes_part("P2", "RP09") and not ref.takes_part("P3", "RP09")
    assert ref.takes_part("P3", "RP08")
    assert len(ref.expected_submissions()) == 11 * 8 + 2 * 3
    _replace(data_copy / "project.yaml", "partners: [P1, P2]", "partners: [P1, P20]")
    with pytest.raises(
        ReferenceDataError,
        match=r"project\.yaml, phase 'extended': partner 'P20' is not in partners\.yaml",
    ):
        load_reference(data_copy)


def test_a_deadline_comes_from_the_rule_or_from_periods_csv(data_copy):
    _replace(data_copy / "project.yaml", "months_after_period_end: 3", "months_after_period_end: 2")
    assert load_reference(data_copy).period("RP01")["deadline"] == dt.date(2016, 11, 30)
    path = data_copy / "periods.csv"
    lines = path.read_text().splitlines()
    lines[0] += ",deadline"
    lines[1:] = [line + ("," if i else ",2016-10-15") for i, line in enumerate(lines[1:])]
    path.write_text("\n".join(lines) + "\n")
    ref = load_reference(data_copy)
    assert ref.period("RP01")["deadline"] == dt.date(2016, 10, 15)
    assert ref.period("RP02")["deadline"] == dt.date(2017, 5, 31)
    text = (data_copy / "project.yaml").read_text()
    (data_copy / "project.yaml").write_text(
        text.replace("deadline:\n  months_after_period_end: 2\n", "")
    )
    with pytest.raises(
        ReferenceDataError,
        match=r"periods\.csv, row 3, column 'deadline': empty, and project\.yaml has no"
        r" deadline rule",
    ):
        load_reference(data_copy)


def test_a_partner_may_address_several_instruments(data_copy):
    with (data_copy / "policy_instruments.csv").open("a") as f:
        f.write("PI-P4b,P4,Regional innovation strategy of P4,regional,false,false\n")
    ref = load_reference(data_copy)
    assert ref.instruments_of("P4") == ("PI-P4", "PI-P4b")
    assert ref.instrument_owners()["PI-P4b"] == "P4"


def test_an_event_type_links_to_its_indicator_in_indicators_csv_only(data_copy):
    ref = load_reference(data_copy)
    rows = ref.event_types.set_index("event_type")
    assert rows.loc["staff_exchange", "indicator_id"] == "O1.3"
    assert rows.loc["staff_exchange", "target"] == Decimal(3)
    assert "indicator_id" not in (data_copy / "event_types.csv").read_text().splitlines()[0]


def test_a_new_event_type_in_the_reference_data_is_accepted_in_workbooks(data_copy):
    """Event types are listed in the reference files only: adding one there is enough."""
    from pipelines.core.metadata.schemas import sheet_schema
    from pipelines.core.metadata.tables import EVENTS_SHEET

    with (data_copy / "event_types.csv").open("a") as f:
        f.write("study_tour,extended,false,,,,,A study tour\n")
    _replace(
        data_copy / "indicators.csv",
        "O2,Good practices",
        "O1X.5,Study tours,output,events,2,O1X,count_events,study_tour,,,,,,,,study tours\n"
        "O2,Good practices",
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
        "monitoring_meeting,2,true,,,",
        "monitoring_meeting,2,true,,extended,",
    )
    assert load_reference(data_copy).event_phases()["monitoring_meeting"] == {"2", "extended"}


def test_the_years_of_collaboration_figures_are_the_projects(data_copy):
    """A year is allowed from the earliest base_year (or the project's first year) to the
    project's last year: 2015-2023 for CLUSTERIX, another span for another project."""
    import pandas as pd

    from pipelines.core.metadata.schemas import sheet_schema
    from pipelines.core.metadata.tables import COLLABORATIONS_SHEET

    def accepted(ref, year: int) -> bool:
        checks = sheet_schema(COLLABORATIONS_SHEET, ref).columns["year"].checks
        in_range = next(c for c in checks if c.name == "out_of_range")
        return bool(in_range(pd.DataFrame({"year": [year]})["year"]).check_passed)

    bundled = reference()
    assert bundled.year_range == (2015, 2023)
    assert accepted(bundled, 2015) and accepted(bundled, 2023) and not accepted(bundled, 2024)
    year = COLLABORATIONS_SHEET.column("year")
    assert year.hint_for(bundled) == "a whole number from 2015 to 2023"

    _replace(data_copy / "indicators.csv", ",2015,2020,", ",2019,2020,")
    moved = load_reference(data_copy)
    assert moved.year_range == (2016, 2023)  # the project's first year, April 2016
    assert not accepted(moved, 2015) and accepted(moved, 2016)
