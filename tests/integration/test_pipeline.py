"""The whole pipeline against a real Dagster instance and real files."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.app.run import run_everything
from pipelines.core.metadata.tables import EVENTS, SUBMISSIONS, VALIDATION_ISSUES, published_tables
from pipelines.core.outputs.parquet import read_parquet
from pipelines.definitions import defs
from pipelines.defs.metadata import INLINE_MARKDOWN_LIMIT
from pipelines.defs.operations.automation import raw_files_sensor
from pipelines.defs.partitions import submission_partitions
from tests.helpers.dagster import dagster_instance
from tests.helpers.workbooks import GOOD_ROWS, make_workbook


def _look(instance: dg.DagsterInstance, cursor: str | None = None) -> dg.SensorResult:
    """One tick of the drop-folder sensor, in the code location as the daemon runs it."""
    context = dg.build_sensor_context(definitions=defs, instance=instance, cursor=cursor)
    return raw_files_sensor(context)


def _events(assets: Path) -> pd.DataFrame:
    return read_parquet(EVENTS, assets)


def _submissions(assets: Path) -> pd.DataFrame:
    return read_parquet(SUBMISSIONS, assets)


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


def test_one_run_ingests_every_partition(dirs, instance):
    raw, assets = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    event = {**GOOD_ROWS["Events"], "start_date": dt.date(2016, 6, 1), "country": "AT"}
    make_workbook(
        raw, "P1", "RP01", {"Events": [event]}, cover={"submitted_on": dt.date(2016, 10, 3)}
    )

    result = run_everything(instance)

    assert result.success
    assert len(instance.get_runs()) == 1
    materialized = instance.get_materialized_partitions(dg.AssetKey("submission"))
    assert materialized == {"P1|RP01", "P4|RP07"}, "only partner-periods with a file in use"
    submissions = _submissions(assets)
    assert sorted(submissions["file"]) == ["P1/RP01.xlsx", "P4/RP07.xlsx"]
    assert set(submissions["status"]) == {"accepted"}
    assert sorted(_events(assets)["partner_id"]) == ["P1", "P4"]
    assert (assets / "report" / "progress_report.html").exists()
    assert (assets / "README.md").exists()


def test_resubmission_replaces_and_rejection_keeps_the_last_accepted(dirs, instance):
    raw, assets = dirs
    path = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    assert run_everything(instance).success
    first_sha = _submissions(assets)["sha256"].iloc[0]

    make_workbook(raw, "P4", "RP07", {"Events": [{**GOOD_ROWS["Events"], "participants": 35}]})
    assert run_everything(instance).success
    assert list(_events(assets)["participants"]) == [35]
    versions = _submissions(assets)
    assert len(versions) == 2
    assert versions.loc[versions["current"], "sha256"].tolist() != [first_sha]

    make_workbook(
        raw,
        "P4",
        "RP07",
        {"Events": [{**GOOD_ROWS["Events"], "participants": 99}]},
        cover={"partner_id": "P3"},
    )
    assert run_everything(instance).success
    assert list(_events(assets)["participants"]) == [35], "a rejected workbook changes nothing"
    versions = _submissions(assets)
    assert list(versions["status"]) == ["accepted", "accepted", "rejected"]
    assert list(versions["current"]) == [False, True, False]
    issues = read_parquet(VALIDATION_ISSUES, assets)
    assert "partner_mismatch" in set(issues["rule"])
    archived = sorted(p.name for p in (assets.parent / "state" / "archive").rglob("*.xlsx"))
    assert not (assets / "archive").exists(), "internal state stays out of the assets folder"
    assert len(archived) == 3
    assert path.exists()


def test_unchanged_file_is_not_ingested_again(dirs, instance):
    raw, assets = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    assert run_everything(instance).success
    before = _submissions(assets)
    again = run_everything(instance)
    assert again.success
    pd.testing.assert_frame_equal(before, _submissions(assets))
    rebuilt = {e.asset_key.to_user_string() for e in again.get_asset_materialization_events()}
    assert "submissions" not in rebuilt, "nothing changed: no table is rewritten"


def test_sensor_starts_one_run_per_change_with_a_compact_cursor(dirs, instance):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    make_workbook(raw, "P1", "RP02", {})

    first = _look(instance)
    (request,) = first.run_requests
    assert len(first.cursor) < 40, "two short digests, not a list of files"
    unchanged = _look(instance, first.cursor)
    assert unchanged.run_requests == []

    make_workbook(raw, "P4", "RP07", {"Events": [{**GOOD_ROWS["Events"], "participants": 31}]})
    changed = _look(instance, first.cursor)
    (again,) = changed.run_requests
    assert again.run_key != request.run_key, "new bytes, new run key"
    lost = _look(instance)
    assert lost.run_requests[0].run_key == again.run_key, (
        "without a cursor the run key is still that of the same folder, which Dagster runs once"
    )


def test_sensor_names_a_file_it_cannot_attribute(dirs, instance, capsys):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {})
    (raw / "P4" / "notes.xlsx").write_bytes((raw / "P4" / "RP07.xlsx").read_bytes())
    result = _look(instance)
    (request,) = result.run_requests
    assert request.tags["clusterix/unattributed"] == "P4/notes.xlsx"
    assert "'notes' is not a reporting period id" in capsys.readouterr().err


def test_the_template_commands_default_name_is_accepted(dirs, instance):
    from pipelines.core.outputs.template import write_template

    raw, assets = dirs
    (raw / "P4").mkdir()
    cover = {"contact_name": "Test", "submitted_on": dt.date(2023, 4, 20)}
    write_template("P4", "RP11", raw / "P4" / "P4_RP11.xlsx", cover=cover)
    (request,) = raw_files_sensor(
        dg.build_sensor_context(definitions=defs, instance=instance)
    ).run_requests
    assert "clusterix/unattributed" not in request.tags
    assert run_everything(instance).success
    submissions = _submissions(assets)
    assert submissions[["file", "period_id", "status"]].values.tolist() == [
        ["P4/P4_RP11.xlsx", "RP11", "accepted"]
    ]
    assert instance.get_materialized_partitions(dg.AssetKey("submission")) == {"P4|RP11"}


def test_a_new_instance_is_told_the_whole_picture(dirs, instance):
    from tests.helpers.dagster import dagster_instance

    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    assert run_everything(instance).success
    with dagster_instance() as fresh:  # e.g. .dagster_home deleted, state/ kept
        assert run_everything(fresh).success
        assert fresh.get_materialized_partitions(dg.AssetKey("submission")) == {"P4|RP07"}
        assert fresh.get_latest_materialization_event(dg.AssetKey("submissions")) is not None


def _check_records(instance, check, partition):
    history = instance.event_log_storage.get_asset_check_execution_history(check, limit=100)
    return [r for r in history if r.partition == partition]


def test_partitions_tell_each_partner_periods_truth(dirs, instance):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    make_workbook(raw, "P3", "RP07", {}, cover={"partner_id": "P4"})
    rp08 = make_workbook(raw, "P11", "RP08", {})
    rp08.rename(raw / "P11" / "RP09.xlsx")  # P11 takes no part in the extended phase
    assert run_everything(instance).success

    key = dg.AssetKey("submission")
    assert len(submission_partitions.get_partition_keys()) == 118
    assert "P11|RP09" not in submission_partitions.get_partition_keys(), "not expected"
    assert instance.get_materialized_partitions(key) == {"P4|RP07"}
    check = dg.AssetCheckKey(key, "workbook_accepted")
    (failed,) = _check_records(instance, check, "P3|RP07")
    evaluation = failed.event.dagster_event.event_specific_data
    assert not evaluation.passed
    assert evaluation.metadata["reason"].value.startswith("Cover names partner P4 but the file")

    # A later run for another file leaves both partitions as they were.
    make_workbook(raw, "P1", "RP01", {}, cover={"submitted_on": dt.date(2016, 10, 3)})
    assert run_everything(instance).success
    assert instance.get_materialized_partitions(key) == {"P1|RP01", "P4|RP07"}
    only = dg.AssetRecordsFilter(asset_key=key, asset_partitions=["P4|RP07"])
    (latest,) = instance.fetch_materializations(only, limit=1, ascending=False).records
    assert latest.asset_materialization.metadata["status"].value.startswith("on time: accepted")
    assert _check_records(instance, check, "P3|RP07") == [failed], "still failed, as it was"
    grid = instance.get_latest_materialization_event(dg.AssetKey("submission_states"))
    metadata = grid.asset_materialization.metadata
    assert (metadata["on time"].value, metadata["refused"].value) == (2, 1)
    assert (metadata["missing"].value, metadata["not yet due"].value) == (115, 0)


def test_the_daily_run_ingests_the_first_and_the_last_partner_period(dirs, instance):
    from pipelines.defs.operations.automation import daily_ingest
    from pipelines.defs.operations.jobs import INGEST_JOB

    raw, assets = dirs
    first = {**GOOD_ROWS["Events"], "start_date": dt.date(2016, 6, 1)}
    make_workbook(
        raw, "P1", "RP01", {"Events": [first]}, cover={"submitted_on": dt.date(2016, 10, 3)}
    )
    last = {**GOOD_ROWS["Events"], "event_type": "regional_reflection_activity"}
    make_workbook(
        raw,
        "P9",
        "RP11",
        {"Events": [{**last, "start_date": dt.date(2023, 1, 10)}]},
        cover={"submitted_on": dt.date(2023, 4, 20)},
    )
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=dt.datetime(2026, 1, 5, 6, 0),
        repository_def=defs.get_repository_def(),
    )
    request = daily_ingest(context)
    job = defs.resolve_job_def(INGEST_JOB)
    assert job.execute_in_process(instance=instance, tags=request.tags).success
    assert sorted(_submissions(assets)["file"]) == ["P1/RP01.xlsx", "P9/RP11.xlsx"]

    # The next morning with nothing new: the tick is skipped, as the sensor skips.
    skipped = daily_ingest(context)
    assert isinstance(skipped, dg.SkipReason)
    assert "Nothing new since the published set" in skipped.skip_message
    make_workbook(raw, "P2", "RP01", {}, cover={"submitted_on": dt.date(2016, 10, 4)})
    assert isinstance(daily_ingest(context), dg.RunRequest), "a new workbook is something new"


def test_hostile_files_are_rejected_and_the_batch_goes_on(dirs, instance, tmp_path):
    raw, assets = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    (raw / "P5").mkdir()
    (raw / "P5" / "RP07.xlsx").write_bytes(b"this is not a spreadsheet")
    (raw / "P6").mkdir()
    (raw / "P6" / "RP07.csv").write_text("event_ref,title\n1,x\n")
    (raw / "P7").mkdir()
    (raw / "P7" / "RP07.xlsx").write_bytes(b"")
    outside = tmp_path / "elsewhere.xlsx"
    outside.write_bytes((raw / "P4" / "RP07.xlsx").read_bytes())
    (raw / "P8").mkdir()
    os.symlink(outside, raw / "P8" / "RP07.xlsx")
    (raw / "stray.xlsx").write_bytes((raw / "P4" / "RP07.xlsx").read_bytes())

    assert run_everything(instance).success

    submissions = _submissions(assets).set_index("file")
    assert submissions.loc["P4/RP07.xlsx", "status"] == "accepted"
    for file in ["P5/RP07.xlsx", "P6/RP07.csv", "P7/RP07.xlsx", "P8/RP07.xlsx", "stray.xlsx"]:
        assert submissions.loc[file, "status"] == "rejected", file
    issues = read_parquet(VALIDATION_ISSUES, assets).set_index("file")
    assert issues.loc["P6/RP07.csv", "rule"] == "unsupported_file_type"
    assert issues.loc["P8/RP07.xlsx", "rule"] == "symlink"
    assert issues.loc["stray.xlsx", "rule"] == "outside_partner_folder"
    assert list(_events(assets)["partner_id"]) == ["P4"]


FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(scope="module")
def quarantined_run(tmp_path_factory):
    """One run over a workbook whose only event is quarantined and has a formula-like title,
    beside a file of P4's folder that is no period's workbook."""
    base = tmp_path_factory.mktemp("quarantined")
    raw, assets = base / "raw", base / "assets"
    mp = pytest.MonkeyPatch()
    for name, path in [("RAW", raw), ("ASSETS", assets), ("STATE", base / "state")]:
        mp.setenv(f"CLUSTERIX_{name}_DIR", str(path))
    event = {**GOOD_ROWS["Events"], "title": FORMULA, "participants": "many"}
    make_workbook(raw, "P4", "RP07", {"Events": [event]})
    (raw / "P4" / "minutes.docx").write_bytes(b"minutes of the meeting")
    with dagster_instance() as instance:
        assert run_everything(instance).success
        yield instance, assets
    mp.undo()


def test_sheet_check_reports_the_quarantined_rows_by_rule(quarantined_run):
    instance, _ = quarantined_run
    check = instance.get_latest_asset_check_evaluation_record(
        dg.AssetCheckKey(dg.AssetKey("events"), "sheet_rules")
    )
    evaluation = check.event.dagster_event.event_specific_data
    assert not evaluation.passed
    assert evaluation.metadata["quarantined rows"].value == 1
    assert "wrong_type" in evaluation.metadata["by rule"].value


def test_indicator_asset_shows_target_achieved_and_chart(quarantined_run):
    instance, _ = quarantined_run
    indicator = instance.get_latest_materialization_event(dg.AssetKey("indicator_o1_5"))
    metadata = indicator.asset_materialization.metadata
    assert list(metadata)[:4] == ["achieved", "target", "% of target", "achieved, approved only"]
    assert metadata["target"].value == "60 events"
    assert metadata["achieved"].value == "0 events", "the only event was quarantined"
    assert metadata["achieved, approved only"].value == "None approved yet"
    assert "data:image/svg+xml;base64," in metadata["progress chart"].value
    overview = metadata["achieved by reporting period"].value
    assert len(overview) < INLINE_MARKDOWN_LIMIT, "short enough for the overview to show it"
    assert overview == "_no figures reported yet_", "no valid record in any period"


def test_feedback_workbook_keeps_formulas_as_text(quarantined_run):
    from openpyxl import load_workbook

    _, assets = quarantined_run
    book = load_workbook(assets / "feedback" / "P4" / "RP07.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert any(c.value == "many" for c in cells)
    assert all(c.data_type != "f" for c in cells)


def test_a_file_of_no_period_reaches_its_partners_feedback(quarantined_run):
    from openpyxl import load_workbook

    _, assets = quarantined_run
    book = load_workbook(assets / "feedback" / "P4" / "files_not_read.xlsx")
    facts = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row[0]}
    assert facts["Outcome"].startswith("Not read: 1 file(s) in your folder belong to no")
    [issue] = list(book["Issues"].iter_rows(min_row=2, values_only=True))
    assert issue[0] == "P4/minutes.docx"
    assert "save it as Excel Workbook (.xlsx)" in issue[-1]


SQL_TYPES = {"VARCHAR", "BIGINT", "DECIMAL(18,2)", "DATE", "BOOLEAN", "DOUBLE"}


def test_every_table_reads_back_in_duckdb_with_its_types(dirs, instance):
    raw, assets = dirs
    make_workbook(raw, "P4", "RP07", {s: [row] for s, row in GOOD_ROWS.items()})
    assert run_everything(instance).success
    tables = [
        published_tables()[spec.metadata["table"]]
        for spec in defs.resolve_all_asset_specs()
        if "table" in spec.metadata
    ]
    assert {t.name for t in tables} == set(published_tables()), "every table is an asset"
    connection = duckdb.connect()
    for table in tables:
        path = assets / f"{table.name}.parquet"
        described = connection.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()
        got = [(name, kind) for name, kind, *_ in described]
        assert got == [(c.name, c.sql_type) for c in table.columns], table.name
    funds = connection.execute(
        f"SELECT sum(sf_influenced_eur) FROM '{assets / 'policy_measures.parquet'}'"
    ).fetchone()[0]
    assert str(funds) == "1000.50"


def test_data_dictionary_in_the_repository_is_current():
    from pipelines.core.outputs.dictionary import data_dictionary
    from pipelines.core.reference.loader import DEFAULT_PROJECT_DIR
    from pipelines.core.reference.project import load_project

    committed = Path(__file__).parents[2] / "assets" / "README.md"
    bundled = load_project(DEFAULT_PROJECT_DIR)  # the committed dictionary is the default's
    assert committed.read_text(encoding="utf-8") == data_dictionary(bundled)


@pytest.mark.parametrize("env", [{"CLUSTERIX_RAW_DIR": "/nonexistent/raw"}])
def test_run_without_a_raw_directory_fails_cleanly(monkeypatch, env, capsys):
    from pipelines.app.cli import main

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["run"]) == 1
    assert "does not exist" in capsys.readouterr().err
