"""The shipped dev Dagster instance configuration: telemetry off, nothing printed about it."""

from __future__ import annotations

import threading

import dagster as dg

from pipelines.app.cli import main
from pipelines.platform.instance import DEV_INSTANCE_CONFIG, ensure_instance_config
from tests.helpers.dagster import memory_dir
from tests.helpers.workbooks import GOOD_ROWS, make_workbook


def test_clusterix_run_gives_a_bare_dagster_home_the_dev_config(
    dirs, tmp_path, monkeypatch, capfd, caplog
):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    monkeypatch.setenv("HOME", str(tmp_path))  # Dagster keeps user-level telemetry in ~/.dagster
    monkeypatch.delenv("DAGSTER_DISABLE_TELEMETRY", raising=False)
    with memory_dir() as base:
        home = base / "dagster_home"  # does not exist yet, as on a fresh clone
        monkeypatch.setenv("DAGSTER_HOME", str(home))

        assert main(["run"]) == 0
        assert main(["run"]) == 0  # nothing changed: every step after ingest is skipped

        out, err = capfd.readouterr()
        assert out.count("O1.1") == 2  # the scorecard printed each time
        noises = ("dagster.yaml", "Telemetry", "telemetry", "Slack", "Welcome", "emitted no result")
        logged = "\n".join(r.getMessage() for r in caplog.records)  # what a terminal would show
        for noise in noises:
            assert noise not in out + err + logged
        assert (home / "dagster.yaml").read_bytes() == DEV_INSTANCE_CONFIG.read_bytes()
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert not instance.telemetry_enabled
            assert not instance.nux_enabled
            assert len(instance.get_runs()) == 2
        # no instance id, and no usage log waiting to be uploaded
        assert not (home / ".telemetry").exists() and not (tmp_path / ".dagster").exists()
        logs = home / "logs"
        assert not logs.exists() or all(p.stat().st_size == 0 for p in logs.iterdir())


def test_an_operators_dagster_yaml_is_kept(tmp_path):
    own = tmp_path / "dagster.yaml"
    own.write_text("telemetry:\n  enabled: false\nstorage:\n  sqlite:\n    base_dir: x\n")
    before = own.read_bytes()
    assert ensure_instance_config(tmp_path) == own
    assert own.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["dagster.yaml"]  # no temporary file left


def test_test_instances_use_the_shipped_config(instance):
    assert not instance.telemetry_enabled
    assert not instance.nux_enabled


@dg.asset
def counted() -> int:
    return 1


def test_dev_event_log_is_shared_with_other_processes_while_a_run_writes(tmp_path, monkeypatch):
    """The index connection stays open, yet another instance (the webserver, the daemon)
    sees each materialisation at once, and the run's own events as Dagster stores them."""
    from pipelines.platform.instance_storage import IndexedSqliteEventLogStorage

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    ensure_instance_config(tmp_path)
    job = dg.Definitions(assets=[counted]).resolve_implicit_global_asset_job_def()
    with (
        dg.DagsterInstance.from_config(str(tmp_path)) as writer,
        dg.DagsterInstance.from_config(str(tmp_path)) as reader,
    ):
        assert isinstance(writer.event_log_storage, IndexedSqliteEventLogStorage)
        for expected in (1, 2):
            result = job.execute_in_process(instance=writer)
            assert result.success
            seen = reader.fetch_materializations(dg.AssetKey("counted"), limit=10).records
            assert len(seen) == expected
            assert seen[0].run_id == result.run_id
            events = reader.all_logs(result.run_id)
            assert any(e.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for e in events)
    assert (tmp_path / "history" / "runs" / "index.db").exists()


def test_dev_event_log_wakes_the_uis_watcher_of_a_live_run(tmp_path, monkeypatch):
    """The webserver follows a live run by watching its database file. The writer keeps
    its connection open, so it touches the file after each write; every event arrives."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    ensure_instance_config(tmp_path)
    job = dg.Definitions(assets=[counted]).resolve_implicit_global_asset_job_def()
    arrived: list[str] = []
    all_arrived = threading.Event()

    def on_event(entry, _cursor) -> None:
        if entry.dagster_event_type == dg.DagsterEventType.ENGINE_EVENT:
            arrived.append(entry.message)
        if len(arrived) == 3:
            all_arrived.set()

    with (
        dg.DagsterInstance.from_config(str(tmp_path)) as writer,
        dg.DagsterInstance.from_config(str(tmp_path)) as reader,
    ):
        run = writer.create_run_for_job(job)
        writer.report_engine_event("first", run)  # the run's database exists: watch it
        reader.event_log_storage.watch(run.run_id, None, on_event)
        writer.report_engine_event("second", run)
        writer.report_engine_event("third", run)
        # A liveness bound, not a speed goal: the watcher is woken within milliseconds.
        assert all_arrived.wait(timeout=60), arrived
        reader.event_log_storage.end_watch(run.run_id, on_event)
    assert arrived == ["first", "second", "third"]
