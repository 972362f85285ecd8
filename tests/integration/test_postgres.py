"""``clusterix run`` on a Dagster instance stored in a real PostgreSQL server, configured
with the standard ``storage: postgres:`` section of ``dagster.yaml``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from tests.helpers.pg_server import PostgresServer, postgres_server

REPO = Path(__file__).resolve().parents[2]
CLUSTERIX = Path(sys.executable).parent / "clusterix"


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


def _home(tmp_path: Path, storage: dict) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    config = {"storage": storage, "telemetry": {"enabled": False}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


def _clusterix_run(tmp_path: Path, home: Path) -> subprocess.CompletedProcess:
    raw = tmp_path / "raw"
    if not raw.exists():
        shutil.copytree(REPO / "raw" / "P1", raw / "P1")
    env = {
        **os.environ,
        "CLUSTERIX_RAW_DIR": str(raw),
        "CLUSTERIX_ASSETS_DIR": str(tmp_path / "assets"),
        "CLUSTERIX_STATE_DIR": str(tmp_path / "state"),
        "DAGSTER_HOME": str(home),
    }
    return subprocess.run(
        [str(CLUSTERIX), "run"], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )


def test_clusterix_run_records_its_run_in_postgres(tmp_path, monkeypatch, pg):
    database = pg.create_database()
    standard = {
        "postgres": {
            "postgres_db": {
                "username": pg.user,
                "hostname": pg.host,
                "port": pg.port,
                "db_name": database,
            }
        }
    }
    home = _home(tmp_path, standard)

    done = _clusterix_run(tmp_path, home)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert instance.get_latest_materialization_event(dg.AssetKey("submissions")) is not None
    assert (tmp_path / "assets" / "submissions.parquet").exists()


def test_an_unreachable_postgres_stops_clusterix_run_with_one_line(tmp_path):
    home = _home(tmp_path, {"postgres": {"postgres_url": "postgresql://x@127.0.0.1:9/none"}})

    done = _clusterix_run(tmp_path, home)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "cannot open the Dagster instance's database" in errors[0]
    assert 'to server at "127.0.0.1", port 9 failed' in errors[0]
    assert not (tmp_path / "assets").exists()
