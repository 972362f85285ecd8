"""Run retention on a real instance, SQLite and PostgreSQL: old runs go, and what the UI
shows stays exactly as it was.

One history per storage, built once: the pipeline on five workbooks of the bundled
sample (P7's RP03 among them, rejected); one workbook changed; a failed run; two runs with
nothing changed; a failed run last; and two runs not finished. Then a dry run, a prune
with ``now`` ten years on (so every run is old), and a second prune.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

from pipelines.app.cli import main
from pipelines.app.run import run_everything
from pipelines.definitions import check_keys, defs
from pipelines.defs.operations.run_retention import PRUNE_JOB
from pipelines.platform.retention import PruneReport, prune_runs
from tests.helpers.dagster import dagster_instance, memory_dir
from tests.helpers.pg_server import PostgresServer, postgres_server
from tests.helpers.workbooks import GOOD_ROWS, event_row, make_workbook

ROOT = Path(__file__).resolve().parents[2]
SUBMISSION = dg.AssetKey("submission")
CHECK_KEYS = defs.resolve_asset_graph().asset_check_keys
OLDER_THAN = dt.timedelta(days=90)
LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=3650)
# P7's RP03 is rejected: its partition stays Missing and its check fails.
WORKBOOKS = ("P1/RP01.xlsx", "P1/RP02.xlsx", "P1/RP07.xlsx", "P7/RP03.xlsx", "P7/RP04.xlsx")
MOST = 10_000  # Dagster's largest page of event records; these histories have far fewer

NODES = """
{
  assetNodes {
    assetKey { path }
    assetPartitionStatuses {
      ... on DefaultPartitionStatuses { materializedPartitions failedPartitions }
    }
    assetMaterializations(limit: 1) { runId partition timestamp }
    assetChecksOrError {
      ... on AssetChecks {
        checks {
          name
          executionForLatestMaterialization { runId status }
          partitionStatuses {
            ... on AssetCheckDefaultPartitionStatuses { succeededPartitions failedPartitions }
          }
        }
      }
    }
  }
}
"""
LATEST_RUNS = """
query ($keys: [AssetKeyInput!]!) {
  assetsLatestInfo(assetKeys: $keys) {
    assetKey { path }
    latestRun { id status }
    latestMaterialization { runId }
  }
}
"""


@dataclass
class Pruned:
    instance: dg.DagsterInstance
    runs: dict[str, str]
    unfinished: set[str]
    after_dry_run: set[str]
    remaining: set[str]
    ui: tuple[dict, dict]
    events: tuple[dict, dict]
    dry: PruneReport
    first: PruneReport
    second: PruneReport


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def pruned(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Pruned]:
    base = tmp_path_factory.mktemp(request.param)
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            instance = stack.enter_context(dagster_instance())
        else:
            instance = stack.enter_context(_postgres_instance(request.getfixturevalue("pg")))
        workspace = str(ROOT / "workspace.yaml")
        ui = stack.enter_context(define_out_of_process_context(workspace, None, instance))
        mp = stack.enter_context(pytest.MonkeyPatch.context())
        runs = _history(instance, base, mp)
        unfinished = {_unfinished(instance, status) for status in ("NOT_STARTED", "STARTED")}
        ui_before, events_before = _ui(instance, ui), _latest_events(instance)
        dry = prune_runs(instance, OLDER_THAN, CHECK_KEYS, now=LATER, dry_run=True)
        after_dry_run = _run_ids(instance)
        first = prune_runs(instance, OLDER_THAN, CHECK_KEYS, now=LATER)
        ui_after, events_after = _ui(instance, ui), _latest_events(instance)
        second = prune_runs(instance, OLDER_THAN, CHECK_KEYS, now=LATER)
        yield Pruned(
            instance, runs, unfinished, after_dry_run, _run_ids(instance),
            (ui_before, ui_after), (events_before, events_after), dry, first, second,
        )  # fmt: skip


@contextlib.contextmanager
def _postgres_instance(pg: PostgresServer) -> Iterator[dg.DagsterInstance]:
    """An instance whose runs and events are in a fresh database of the test server."""
    storage = {"postgres": {"postgres_url": pg.url(pg.create_database())}}
    with (
        memory_dir() as base,
        dg.instance_for_test(temp_dir=str(base), overrides={"storage": storage}) as instance,
    ):
        yield instance


def _history(instance: dg.DagsterInstance, base: Path, mp: pytest.MonkeyPatch) -> dict[str, str]:
    """The runs the module docstring tells of, by name."""
    raw, assets = base / "raw", str(base / "assets")
    for workbook in WORKBOOKS:
        (raw / workbook).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "raw" / workbook, raw / workbook)
    mp.setenv("CLUSTERIX_RAW_DIR", str(raw))
    mp.setenv("CLUSTERIX_ASSETS_DIR", assets)
    mp.setenv("CLUSTERIX_STATE_DIR", str(base / "state"))
    runs = {"first": _run(instance)}
    visit = event_row("EV-9", "study_visit", dt.date(2019, 5, 20))
    make_workbook(raw, "P1", "RP07", {"Events": [visit]})
    runs["changed"] = _run(instance)
    # An assets "directory" that is a file: the first step fails, nothing is materialised.
    (base / "a_file").touch()
    mp.setenv("CLUSTERIX_ASSETS_DIR", str(base / "a_file"))
    runs["failed"] = _run(instance, success=False)
    mp.setenv("CLUSTERIX_ASSETS_DIR", assets)
    runs["unchanged"] = _run(instance)
    runs["unchanged_again"] = _run(instance)
    mp.setenv("CLUSTERIX_ASSETS_DIR", str(base / "a_file"))
    runs["failed_last"] = _run(instance, success=False)
    mp.setenv("CLUSTERIX_ASSETS_DIR", assets)
    return runs


def _run(instance: dg.DagsterInstance, success: bool = True) -> str:
    result = run_everything(instance)
    assert result.success is success
    return result.run_id


def _unfinished(instance: dg.DagsterInstance, status: str) -> str:
    """A run created but not launched yet, or one started (its worker still working)."""
    run = dg.DagsterRun(job_name=PRUNE_JOB, status=dg.DagsterRunStatus(status))
    return instance.add_run(run).run_id


def _run_ids(instance: dg.DagsterInstance) -> set[str]:
    return {run.run_id for run in instance.get_runs()}


def _ui(instance: dg.DagsterInstance, ui) -> tuple[dict, list]:
    """What the UI's GraphQL API answers about every asset, its partitions and checks.

    The cached partition statuses are wiped first, so they are worked out again from the
    event log, as Dagster does when the cache is rebuilt.
    """
    instance.wipe_asset_cached_status(list(instance.get_asset_keys()))
    nodes = execute_dagster_graphql(ui, NODES)
    assert not nodes.errors, nodes.errors
    keys = [{"path": n["assetKey"]["path"]} for n in nodes.data["assetNodes"]]
    latest = execute_dagster_graphql(ui, LATEST_RUNS, variables={"keys": keys})
    assert not latest.errors, latest.errors
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes.data["assetNodes"]}
    return by_key, latest.data["assetsLatestInfo"]


def _latest_events(instance: dg.DagsterInstance) -> dict[tuple, int]:
    """The storage id of the latest materialisation of every asset and partition, and of
    the latest evaluation of every check and partition, read from the event log itself."""
    latest: dict[tuple, int] = {}
    for record in _all(instance, dg.DagsterEventType.ASSET_MATERIALIZATION):
        latest[(record.asset_key, record.partition_key)] = record.storage_id
    for record in _all(instance, dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        key = (evaluation.asset_key, evaluation.check_name, evaluation.partition)
        latest[key] = record.storage_id
    return latest


def _all(instance: dg.DagsterInstance, event_type: dg.DagsterEventType) -> list:
    records = instance.get_event_records(
        dg.EventRecordsFilter(event_type), limit=MOST, ascending=True
    )
    assert len(records) < MOST
    return list(records)


def test_a_dry_run_names_what_the_prune_deletes_and_deletes_nothing(pruned):
    assert pruned.dry.dry_run
    assert pruned.dry.deleted == pruned.first.deleted
    assert pruned.after_dry_run == {*pruned.runs.values(), *pruned.unfinished}


def test_runs_holding_only_superseded_events_are_deleted(pruned):
    names = {run_id: name for name, run_id in pruned.runs.items()}
    assert {names[r] for r in pruned.first.deleted} == {"failed", "unchanged"}
    kept = {"first", "changed", "unchanged_again", "failed_last"}
    assert {names.get(r, r) for r in pruned.remaining} == kept | pruned.unfinished
    assert (pruned.first.examined, pruned.first.kept, pruned.first.unfinished) == (6, 4, 2)


def test_the_first_run_is_kept_for_the_partner_periods_nobody_changed(pruned):
    unchanged = dg.AssetRecordsFilter(SUBMISSION, asset_partitions=["P1|RP01"])
    (latest,) = pruned.instance.fetch_materializations(unchanged, limit=1).records
    assert latest.run_id == pruned.runs["first"]
    assert pruned.runs["first"] in pruned.remaining


def test_what_the_ui_shows_is_identical_after_pruning(pruned):
    (nodes, latest_runs), after = pruned.ui
    assert after == (nodes, latest_runs)
    assert pruned.events[1] == pruned.events[0]
    statuses = nodes["submission"]["assetPartitionStatuses"]
    assert sorted(statuses["materializedPartitions"]) == [
        "P1|RP01",
        "P1|RP02",
        "P1|RP07",
        "P7|RP04",
    ]
    checks = {c["name"]: c for c in nodes["submission"]["assetChecksOrError"]["checks"]}
    accepted = checks["workbook_accepted"]["partitionStatuses"]
    assert accepted["failedPartitions"] == ["P7|RP03"]
    # the failed last run is still what the UI shows as each table's latest run
    shown = {info["latestRun"]["id"] for info in latest_runs if info["latestRun"]}
    assert pruned.runs["failed_last"] in shown


def test_a_second_prune_deletes_nothing_more(pruned):
    assert pruned.second.deleted == ()
    assert (pruned.second.examined, pruned.second.kept) == (4, 4)


def test_unfinished_runs_are_never_deleted(pruned):
    assert pruned.unfinished <= pruned.remaining
    statuses = {pruned.instance.get_run_by_id(r).status.value for r in pruned.unfinished}
    assert statuses == {"NOT_STARTED", "STARTED"}


def test_the_weekly_job_and_the_command_prune_the_same_way(instance, dirs, capsys):
    """Three runs on one workbook: the middle one's reference tables were superseded by the
    last run's, and it holds nothing else, so it alone goes."""
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    first, middle, last = (_run(instance) for _ in range(3))

    assert main(["prune-runs", "--older-than-days", "0", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith(f"would delete run {middle}\n")
    assert _run_ids(instance) == {first, middle, last}

    config = {"ops": {"prune_runs_op": {"config": {"older_than_days": 0}}}}
    job = defs.resolve_job_def(PRUNE_JOB).execute_in_process(instance=instance, run_config=config)

    assert job.success
    assert _run_ids(instance) == {first, last, job.run_id}
    logged = [e.message for e in instance.all_logs(job.run_id)]
    assert f"Deleted run {middle}" in logged
    # nor its event database file or step logs, which Dagster's delete_run leaves
    assert not list(Path(instance.root_directory).rglob(f"*{middle}*"))
    assert list(Path(instance.root_directory).rglob(f"*{first}*"))
    assert main(["prune-runs", "--older-than-days", "0"]) == 0
    assert capsys.readouterr().out.startswith(f"deleted run {job.run_id}\n")


def test_a_bad_retention_setting_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("CLUSTERIX_RUN_RETENTION_DAYS", "ninety")
    assert main(["prune-runs"]) == 2
    assert capsys.readouterr().err == (
        "error: CLUSTERIX_RUN_RETENTION_DAYS must be a whole number of days (0 or more),"
        " not 'ninety'\n"
    )


def test_the_daemon_prunes_every_sunday_without_anyone_turning_it_on():
    schedule = defs.resolve_schedule_def("weekly_run_retention")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == PRUNE_JOB
    sunday = dt.datetime(2026, 12, 6, 5, 0, tzinfo=dt.UTC)
    context = dg.build_schedule_context(scheduled_execution_time=sunday)
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.run_key == sunday.isoformat()
    assert schedule.cron_schedule == "0 5 * * 0"


def test_the_weekly_job_keeps_every_check_of_the_code_location():
    assert check_keys == CHECK_KEYS
