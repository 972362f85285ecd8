"""``make serve`` the production way, on a real PostgreSQL server: the daemon runs the
sensor and the schedule, the queue launches their runs, the pipeline publishes."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.platform.instance import POSTGRES_URL_ENV, install_instance, production_config
from tests.helpers.pg_server import PostgresServer, postgres_server

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(condition, what: str, process: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"make serve ended (exit {process.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(1)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _finished(instance: dg.DagsterInstance, count: int) -> bool:
    return len(instance.get_runs(filters=dg.RunsFilter(statuses=_DONE))) >= count


_DONE = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def test_the_shipped_instance_is_valid_and_uses_postgres_from_the_environment(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(POSTGRES_URL_ENV, "postgresql://u:secret@db.example:5432/dagster")
    written = install_instance(tmp_path, production_config())
    config = yaml.safe_load(written.read_text())

    assert config["storage"] == {"postgres": {"postgres_url": {"env": POSTGRES_URL_ENV}}}
    assert "secret" not in written.read_text()
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["run_coordinator"]["config"]["max_concurrent_runs"] == 1
    assert config["run_monitoring"]["enabled"] is True
    assert config["telemetry"]["enabled"] is False
    assert config["retention"]["sensor"]["purge_after_days"]["skipped"] == 1

    monkeypatch.delenv(POSTGRES_URL_ENV)
    assert "storage" not in yaml.safe_load(
        install_instance(tmp_path, production_config()).read_text()
    )
    own = "storage:\n  postgres:\n    postgres_db: {username: a, password: b, hostname: h,"
    written.write_text(own + " db_name: d}\n")
    install_instance(tmp_path, production_config())
    assert written.read_text().startswith(own)


def test_an_unreachable_postgres_is_one_line_and_nothing_starts(tmp_path):
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "home"),
        POSTGRES_URL_ENV: f"postgresql://nobody@127.0.0.1:{_free_port()}/none",
        "PORT": str(_free_port()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.app.serve"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: cannot open the Dagster instance's database:")
    assert "127.0.0.1" in errors[0]


def test_serve_runs_sensor_schedule_and_pipeline_under_the_daemon_on_postgres(
    tmp_path, monkeypatch, pg
):
    raw, assets, home = tmp_path / "raw", tmp_path / "assets", tmp_path / "home"
    shutil.copytree(REPO / "raw" / "P1", raw / "P1")
    port = _free_port()
    env = {
        "CLUSTERIX_RAW_DIR": str(raw),
        "CLUSTERIX_ASSETS_DIR": str(assets),
        "CLUSTERIX_STATE_DIR": str(tmp_path / "state"),
        "DAGSTER_HOME": str(home),
        POSTGRES_URL_ENV: pg.url(pg.create_database()),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # The daemon and webserver log a lot: to a file, since a pipe nobody drains would
    # fill up and block them.
    log = tmp_path / "serve.log"
    with open(log, "w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "pipelines.app.serve", "--port", str(port)],
            env={**os.environ, **env},
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait(lambda: "Serving on" in log.read_text(), "the start-up line", server)
        assert "storage: Postgres" in log.read_text()
        _wait(lambda: _answers(f"http://127.0.0.1:{port}/server_info"), "the webserver", server)
        with dg.DagsterInstance.get() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            # The sensor's first tick sees the new workbooks: one run, queued, launched.
            _wait(lambda: _finished(instance, 1), "the sensor's run", server)
            (sensor_run,) = instance.get_runs()
            assert sensor_run.tags["dagster/sensor_name"] == "raw_files_sensor"
            assert sensor_run.status == dg.DagsterRunStatus.SUCCESS
            assert (assets / "submissions.parquet").exists()
            _wait(lambda: _schedule_state(instance), "the scheduler daemon", server)

            # Something new for tomorrow's 06:00 (the schedule skips an unchanged folder).
            shutil.copytree(REPO / "raw" / "P2", raw / "P2")
            _tick_the_schedule_at_six_tomorrow(instance)
            # On a Saturday the weekly run retention is due before tomorrow's 06:00 too.
            daily = dg.RunsFilter(tags={"dagster/schedule_name": "daily_ingest"}, statuses=_DONE)
            _wait(lambda: instance.get_runs(filters=daily), "the schedule's run", server)
            (schedule_run,) = instance.get_runs(filters=daily)
            assert schedule_run.status == dg.DagsterRunStatus.SUCCESS
            heartbeats = instance.get_daemon_heartbeats()
            assert {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR", "MONITORING"} <= set(
                heartbeats
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=120)
    assert server.returncode == 0


def _schedule_state(instance: dg.DagsterInstance) -> bool:
    from dagster._core.definitions.run_request import InstigatorType

    return bool(instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE))


def _tick_the_schedule_at_six_tomorrow(instance: dg.DagsterInstance) -> None:
    """What the scheduler daemon does at 06:00 UTC, run now with tomorrow's 06:00 as "now".

    The daemon itself only ticks at real time; this is its own iteration function,
    against the same Postgres instance and workspace, so the run goes through the same
    queue and launcher as a real 06:00 run.
    """
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster._scheduler.scheduler import launch_scheduled_runs

    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    six = dt.datetime.combine(tomorrow, dt.time(6, 0, 30), tzinfo=dt.UTC)
    target = WorkspaceFileTarget(paths=[str(REPO / "workspace.yaml")])
    with WorkspaceProcessContext(instance, target) as context:
        list(launch_scheduled_runs(context, logging.getLogger("test"), six, {}))
