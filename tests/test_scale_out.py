"""Scale-out: ingest split in chunk steps run by the multiprocess executor, on a Dagster
instance in a real PostgreSQL server, publishes what the single ingest step publishes,
and the UI shows the same partitions and checks.

Both runs are processes as an operator starts them: ``clusterix run`` (one ingest step,
in process) and ``dagster job execute`` with ``CLUSTERIX_INGEST_CHUNKS=2``, whose
executor then defaults to multiprocess, one process per step.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
import yaml
from pg_server import PostgresServer, postgres_server

from pipelines.core.config import INGEST_CHUNKS_ENV

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SUBMISSION = dg.AssetKey("submission")
CHUNKS = ("ingest_chunk_1_of_2", "ingest_chunk_2_of_2")


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


def _env(base: Path, pg: PostgresServer, chunks: int) -> dict[str, str]:
    """A fresh Dagster home on its own Postgres database, and fresh output folders."""
    home = base / "home"
    home.mkdir(parents=True)
    storage = {"postgres": {"postgres_url": pg.url(pg.create_database())}}
    config = {"storage": storage, "telemetry": {"enabled": False}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return {
        **os.environ,
        "CLUSTERIX_RAW_DIR": str(REPO / "raw"),
        "CLUSTERIX_ASSETS_DIR": str(base / "assets"),
        "CLUSTERIX_STATE_DIR": str(base / "state"),
        "DAGSTER_HOME": str(home),
        INGEST_CHUNKS_ENV: str(chunks),
    }


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr


def _tables(assets: Path) -> dict[str, object]:
    """The published tables, less the columns that record when a run saw a file."""
    tables = {}
    for path in sorted(assets.glob("*.parquet")):
        table = pq.read_table(path)
        tables[path.name] = table.select([c for c in table.column_names if not c.endswith("_at")])
    return tables


def _ui_truth(instance: dg.DagsterInstance) -> tuple[set[str], set[tuple[str, bool]]]:
    """The partitions shown materialised, and each partition check's outcome."""
    (run,) = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.SUCCESS
    checks = {
        (e.dagster_event.event_specific_data.partition, e.dagster_event.event_specific_data.passed)
        for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        if e.dagster_event.event_specific_data.asset_key == SUBMISSION
    }
    return set(instance.get_materialized_partitions(SUBMISSION)), checks


def _instance(env: dict[str, str]) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(env["DAGSTER_HOME"])


def test_two_chunks_in_processes_publish_what_one_step_publishes(tmp_path, pg):
    single = _env(tmp_path / "single", pg, chunks=1)
    chunked = _env(tmp_path / "chunked", pg, chunks=2)

    _run([str(BIN / "clusterix"), "run"], single)
    job = ["job", "execute", "-m", "pipelines.definitions", "-j", "ingest_everything"]
    _run([str(BIN / "dagster"), *job], chunked)

    assert _tables(tmp_path / "chunked" / "assets") == _tables(tmp_path / "single" / "assets")
    with _instance(single) as one, _instance(chunked) as split:
        assert _ui_truth(split) == _ui_truth(one)
        (run,) = split.get_runs()
        workers = split.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_WORKER_STARTED)
        assert set(CHUNKS) <= {e.step_key for e in workers}  # each in a process of its own
        engine = split.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
        assert any(e.message.startswith("Holding the writer lock on") for e in engine)
