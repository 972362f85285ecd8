"""The synthetic submissions: complete, deterministic, and flawed only where announced."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from pipelines.core.reference.loader import reference
from pipelines.demo.plan import (
    FLAWS,
    FORMULA_LIKE_FILE,
    FORMULA_LIKE_TITLE,
    LATE_SUBMISSIONS,
    NOT_A_SPREADSHEET,
    ODS_SUBMISSIONS,
)
from pipelines.demo.sample import write_samples


def _sample_files(raw: Path) -> dict[str, bytes]:
    return {
        p.relative_to(raw).as_posix(): p.read_bytes()
        for p in sorted(raw.glob("P*/RP*.*"))
        if p.suffix in (".xlsx", ".ods")
    }


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> tuple[Path, list[Path]]:
    raw = tmp_path_factory.mktemp("first")
    return raw, write_samples(raw)


@pytest.fixture(scope="module")
def second(tmp_path_factory) -> Path:
    """A second run over a directory holding a stale sample and files that are not samples."""
    raw = tmp_path_factory.mktemp("second")
    (raw / "P5").mkdir()
    (raw / "P5" / "RP04.xlsx").write_bytes(b"stale sample, now written as .ods")
    (raw / "P5" / "notes.txt").write_text("kept")
    (raw / "README.md").write_text("kept")
    write_samples(raw)
    return raw


def _readable(raw: Path) -> dict[str, dict[str, pd.DataFrame]]:
    return {
        name: pd.read_excel(raw / name, sheet_name=None, engine="calamine")
        for name in _sample_files(raw)
        if name != NOT_A_SPREADSHEET
    }


@pytest.fixture(scope="module")
def books(first) -> dict[str, dict[str, pd.DataFrame]]:
    return _readable(first[0])


def test_one_file_per_expected_submission(first):
    raw, written = first
    pairs = [(p.parent.name, p.stem) for p in written]
    assert len(pairs) == len(set(pairs)) == 118
    assert set(pairs) == set(reference().expected_submissions())
    assert sorted(written) == sorted(raw.glob("P*/RP*.*"))


def test_same_bytes_every_run(first, second):
    assert _sample_files(first[0]) == _sample_files(second)


def test_only_owned_files_are_replaced(second):
    assert not (second / "P5" / "RP04.xlsx").exists()
    assert (second / "P5" / "RP04.ods").exists()
    assert (second / "P5" / "notes.txt").read_text() == "kept"
    assert (second / "README.md").read_text() == "kept"


def test_flaws_name_existing_files(first):
    raw, _ = first
    assert len(FLAWS) >= 5
    for flaw in FLAWS:
        assert (raw / flaw.file).is_file(), flaw
        assert str(flaw).startswith(flaw.file)


def test_unreadable_file_is_not_a_spreadsheet(first):
    assert not zipfile.is_zipfile(first[0] / NOT_A_SPREADSHEET)


def test_ods_submissions(first):
    for partner, period in ODS_SUBMISSIONS:
        with zipfile.ZipFile(first[0] / partner / f"{period}.ods") as ods:
            assert ods.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"


def test_cover_names_another_partner_only_where_announced(books):
    for name, sheets in books.items():
        cover = dict(zip(sheets["Cover"]["field"], sheets["Cover"]["value"], strict=True))
        expected = "P3" if name == "P8/RP07.xlsx" else name.split("/")[0]
        assert cover["partner_id"] == expected, name


def test_submission_dates_against_deadlines(books):
    ref = reference()
    for name, sheets in books.items():
        cover = dict(zip(sheets["Cover"]["field"], sheets["Cover"]["value"], strict=True))
        partner, period = name.split("/")[0], Path(name).stem
        late = cover["submitted_on"].date() > ref.period(period)["deadline"]
        assert late == ((partner, period) in LATE_SUBMISSIONS), name


def test_formula_like_title_is_text(books):
    titles = books[FORMULA_LIKE_FILE]["Events"]["title"].tolist()
    assert FORMULA_LIKE_TITLE in titles


def test_planned_events_match_the_seed(books):
    """Distinct (type, start date) per event type: the seed's targets, duplicates counted once."""
    events = pd.concat([sheets["Events"] for sheets in books.values()])
    distinct = events.drop_duplicates(["event_type", "start_date"])
    counts = distinct["event_type"].value_counts().to_dict()
    targets = reference().event_types.set_index("event_type")["target"]
    for event_type, target in targets.items():
        if event_type != "regional_stakeholder_meeting":
            assert counts.get(event_type) == int(target), event_type


def test_practices_move_through_the_stages(books):
    practices = pd.concat([sheets["GoodPractices"] for sheets in books.values()])
    assert set(practices["stage"]) == {"identified", "analysed", "structured"}
    assert practices["title"].nunique() >= 20  # the seed's minimum of good practices


@pytest.mark.parametrize(
    ("sheet", "ref_column", "ref"),
    [("Events", "event_ref", "EV-901"), ("PolicyMeasures", "measure_ref", "M-09")],
)
def test_flawed_rows_are_where_the_list_says(books, sheet, ref_column, ref):
    listed = {flaw.file for flaw in FLAWS if f"{sheet}:" in flaw.problem and ref in flaw.problem}
    found = {name for name, sheets in books.items() if ref in sheets[sheet][ref_column].tolist()}
    assert found == listed
    assert len(listed) == 3


def test_raw_readme_lists_the_flaws():
    readme = (Path(__file__).parents[3] / "raw" / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme
    for flaw in FLAWS:
        assert f"`{flaw.file}`" in readme, flaw


def test_the_plan_fits_the_bundled_project_only_while_it_has_what_the_plan_names():
    """Event types are listed in event_types.csv alone: the generator refuses a plan
    that names one the reference data no longer has, or lasts longer than it allows,
    before anything is written."""
    from dataclasses import replace

    from pipelines.demo.fit import SamplePlanError, check_plan, plan_gaps

    ref = reference()
    assert plan_gaps(ref) == []
    without = replace(
        ref, event_types=ref.event_types[ref.event_types["event_type"] != "staff_exchange"]
    )
    with pytest.raises(SamplePlanError, match=r"event types staff_exchange not in event_types"):
        check_plan(without)
    shorter = ref.event_types.assign(
        max_days=[
            3 if t == "staff_exchange" else d
            for t, d in zip(ref.event_types["event_type"], ref.event_types["max_days"], strict=True)
        ]
    )
    with pytest.raises(SamplePlanError, match="more than the 3 a staff_exchange may last"):
        check_plan(replace(ref, event_types=shorter))


def test_a_project_the_plan_does_not_fit_is_refused_before_old_samples_go(tmp_path, monkeypatch):
    """Partners that report in fewer periods, and an instrument given to another partner:
    the refusal names both, and the earlier sample stays."""
    from dataclasses import replace

    from pipelines.demo import sample
    from pipelines.demo.fit import SamplePlanError, plan_gaps

    ref = reference()
    phases = tuple(
        replace(p, partners=frozenset({"P1"})) if p.phase == "2" else p for p in ref.project.phases
    )
    owners = ref.policy_instruments["partner_id"].where(
        ref.policy_instruments["policy_instrument_id"] != "PI-P1", "P2"
    )
    narrower = replace(
        ref,
        project=replace(ref.project, phases=phases),
        policy_instruments=ref.policy_instruments.assign(partner_id=owners),
    )
    gaps = "; ".join(plan_gaps(narrower))
    assert "no workbook expected for P2 RP07, P2 RP08, P3 RP07" in gaps
    assert "policy instruments PI-P1 not in policy_instruments.csv" in gaps
    raw = tmp_path / "raw"
    (raw / "P2").mkdir(parents=True)
    (raw / "P2" / "RP07.xlsx").write_bytes(b"earlier sample")
    monkeypatch.setattr(sample, "reference", lambda: narrower)
    with pytest.raises(SamplePlanError):
        write_samples(raw)
    assert (raw / "P2" / "RP07.xlsx").read_bytes() == b"earlier sample"
