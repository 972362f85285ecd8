"""Scale-out: ingest split in chunk steps run by the multiprocess executor, on a Dagster
instance in a real PostgreSQL server, publishes what the single ingest step publishes,
and the UI shows the same partitions and checks. Step processes that outlive a killed
run never write beside the next one.

The runs are processes as an operator starts them: ``clusterix run`` (one ingest step,
in process) and ``dagster job execute`` with ``CLUSTERIX_INGEST_CHUNKS=2``, whose
executor then defaults to multiprocess, one process per step.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
import yaml

from pipelines.platform.settings import INGEST_CHUNKS_ENV
from pipelines.platform.writer_lock import WriterBusy, step_guard, writer_lock
from tests.helpers.pg_server import PostgresServer, postgres_server
from tests.helpers.workbooks import GOOD_EVENT, make_workbook

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SUBMISSION = dg.AssetKey("submission")
CHUNKS = ("ingest_chunk_1_of_2", "ingest_chunk_2_of_2")
JOB = ["job", "execute", "-m", "pipelines.definitions", "-j", "ingest_everything"]


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory, pg: PostgresServer) -> dict[str, str]:
    """The environment of one ``clusterix run`` (one ingest step, in process), done."""
    env = _env(tmp_path_factory.mktemp("single"), pg, chunks=1)
    _run([str(BIN / "clusterix"), "run"], env)
    return env


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


def _assets(env: dict[str, str]) -> Path:
    return Path(env["CLUSTERIX_ASSETS_DIR"])


def test_two_chunks_in_processes_publish_what_one_step_publishes(tmp_path, pg, single):
    chunked = _env(tmp_path / "chunked", pg, chunks=2)

    _run([str(BIN / "dagster"), *JOB], chunked)

    assert _tables(_assets(chunked)) == _tables(_assets(single))
    with _instance(single) as one, _instance(chunked) as split:
        assert _ui_truth(split) == _ui_truth(one)
        (run,) = split.get_runs()
        workers = split.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_WORKER_STARTED)
        assert set(CHUNKS) <= {e.step_key for e in workers}  # each in a process of its own
        engine = split.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
        assert any(e.message.startswith("Holding the writer lock on") for e in engine)


def _hold_step_guard(state: Path, run_id: str) -> subprocess.Popen:
    """A step process of run ``run_id`` at work, until killed."""
    code = textwrap.dedent(
        f"""
        import time
        from pipelines.platform.writer_lock import step_guard
        with step_guard({str(state)!r}, {run_id!r}):
            print("working", flush=True)
            time.sleep(600)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "working"
    return process


def test_a_step_left_by_an_ended_run_holds_off_the_next_writer(tmp_path):
    orphan = _hold_step_guard(tmp_path, "ended-run")
    messages: list[str] = []
    try:
        with (
            pytest.raises(WriterBusy, match="step processes of a run that ended are still"),
            writer_lock(
                tmp_path, command="next", run_id="next-run", timeout=1, say=messages.append
            ),
        ):
            pass
    finally:
        orphan.kill()
        orphan.wait()
    assert messages[0].startswith("Waiting up to 1 s for the step processes of a run that ended")

    with writer_lock(tmp_path, command="next", run_id="next-run", timeout=0):
        with (
            pytest.raises(WriterBusy, match="this step of run ended-run, which ended"),
            step_guard(tmp_path, "ended-run"),
        ):
            pass
        with step_guard(tmp_path, "next-run"):
            pass


def _started_chunks(instance: dg.DagsterInstance) -> list[int]:
    """Process ids of the chunk steps of the instance's run that have started their work."""
    runs = instance.get_runs()
    if not runs:
        return []
    logs = instance.all_logs(runs[0].run_id)
    started = {e.step_key for e in logs if e.dagster_event_type == dg.DagsterEventType.STEP_START}
    return [
        int(e.dagster_event.event_specific_data.metadata["pid"].value)
        for e in logs
        if e.dagster_event_type == dg.DagsterEventType.STEP_WORKER_STARTED
        and e.step_key in set(CHUNKS) & started
    ]


def _ended(pid: int) -> bool:
    """Whether a process has ended (orphans may linger as zombies of a non-reaping init)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".writer.")
    }


def test_chunk_processes_of_a_killed_run_never_write_beside_the_next(tmp_path, single):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump({"telemetry": {"enabled": False}}))
    state = tmp_path / "state"
    env = {**single, "DAGSTER_HOME": str(home), INGEST_CHUNKS_ENV: "2"}
    env |= {"CLUSTERIX_ASSETS_DIR": str(tmp_path / "assets"), "CLUSTERIX_STATE_DIR": str(state)}
    run = subprocess.Popen(
        [str(BIN / "dagster"), *JOB],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        deadline = time.monotonic() + 300
        while len(workers := _started_chunks(instance)) < len(CHUNKS):
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    run.send_signal(signal.SIGKILL)  # the orchestrating process: its lock goes, its steps not
    run.wait()

    with writer_lock(state, command="next run", run_id="next-run", timeout=300):
        held = _files(state)
        deadline = time.monotonic() + 300
        while not all(_ended(pid) for pid in workers):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert _files(state) == held  # nothing written while the next run held the lock

    _run([str(BIN / "clusterix"), "run"], {**env, INGEST_CHUNKS_ENV: "1"})
    assert _tables(tmp_path / "assets") == _tables(_assets(single))


def _reported() -> list[tuple[set[str], bool]]:
    """Per run of the instance under DAGSTER_HOME, oldest first: the partitions of
    ``submission`` it materialised, and whether it published."""
    with dg.DagsterInstance.get() as instance:
        runs = []
        for run in reversed(instance.get_runs()):
            materialised = instance.all_logs(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            )
            keys = {e.dagster_event.asset_key for e in materialised}
            partitions = {e.dagster_event.partition for e in materialised}
            runs.append((partitions - {None}, dg.AssetKey("publication") in keys))
        return runs


def test_chunked_runs_report_only_what_changed(tmp_path, monkeypatch):
    """Chunks in one process (``clusterix run``): the join reports each chunk's changes."""
    raw = tmp_path / "raw"
    for partner in ("P1", "P2", "P3"):
        shutil.copytree(REPO / "raw" / partner, raw / partner)
    env = {
        **os.environ,
        "CLUSTERIX_RAW_DIR": str(raw),
        "CLUSTERIX_ASSETS_DIR": str(tmp_path / "assets"),
        "CLUSTERIX_STATE_DIR": str(tmp_path / "state"),
        "DAGSTER_HOME": str(tmp_path / "home"),
        INGEST_CHUNKS_ENV: "2",
    }
    clusterix_run = [str(BIN / "clusterix"), "run"]

    _run(clusterix_run, env)
    make_workbook(raw, "P2", "RP01", {"Events": [GOOD_EVENT]})  # new, in the second chunk
    _run(clusterix_run, env)
    _run(clusterix_run, env)

    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    first, changed, unchanged = _reported()
    assert len(first[0]) == 3 * 11 and first[1]
    assert changed == ({"P2|RP01"}, True)
    assert unchanged == (set(), False)
