"""Raw, assets and state directories on S3, against a real S3-protocol server (moto's
server mode on 127.0.0.1): a whole ``clusterix run``, a Dagster-launched run, the
sensor, the writer lock, and the errors an operator meets (missing bucket, refused
credentials), with the published Parquet read straight from the bucket by pyarrow."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from pipelines.definitions import defs
from pipelines.defs.operations.automation import raw_files_sensor
from pipelines.defs.review.decisions import review_decisions_sensor
from pipelines.platform.s3_lock import read_lock, remote_writer_lock
from pipelines.platform.storage import S3Url, publication_rank, pull, push, working_copy
from pipelines.platform.writer_lock import LOCK_NAME, WriterBusy
from tests.helpers.s3_server import S3Server, running_s3_server
from tests.helpers.workbooks import GOOD_ROWS, make_workbook

REPO = Path(__file__).resolve().parents[2]
CLUSTERIX = Path(sys.executable).parent / "clusterix"
SAMPLE_PARTNERS = ("P1", "P2")


def _look(instance: dg.DagsterInstance, cursor: str | None = None) -> dg.SensorResult:
    """One tick of the drop-folder sensor, in the code location as the daemon runs it."""
    context = dg.build_sensor_context(definitions=defs, instance=instance, cursor=cursor)
    return raw_files_sensor(context)


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with running_s3_server() as server:
        yield server


@pytest.fixture
def bucket(s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket holding the three directories, configured through the environment
    as an operator would; working copies in this test's own cache folder."""
    name = s3_server.new_bucket()
    for variable, value in _env(s3_server, name, tmp_path).items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return name


def _env(server: S3Server, bucket: str, base: Path) -> dict[str, str]:
    return {
        **server.environment(),
        "CLUSTERIX_RAW_DIR": f"s3://{bucket}/raw",
        "CLUSTERIX_ASSETS_DIR": f"s3://{bucket}/assets",
        "CLUSTERIX_STATE_DIR": f"s3://{bucket}/state",
        "CLUSTERIX_CACHE_DIR": str(base / "cache"),
    }


def _clusterix(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    full = {**os.environ, **env}
    full.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [str(CLUSTERIX), *args], env=full, cwd=REPO, capture_output=True, text=True, check=False
    )


def _upload(server: S3Server, folder: Path, bucket: str, prefix: str) -> None:
    client = server.client()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            key = f"{prefix}/{path.relative_to(folder).as_posix()}"
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def _keys(server: S3Server, bucket: str, prefix: str) -> dict[str, str]:
    """Every object under the prefix with its ETag."""
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {item["Key"]: item["ETag"] for page in pages for item in page.get("Contents", [])}


def _s3fs(server: S3Server) -> pafs.S3FileSystem:
    """pyarrow's own S3 client: a BI reader that knows nothing of the pipeline."""
    return pafs.S3FileSystem(
        access_key=server.access_key,
        secret_key=server.secret_key,
        endpoint_override=server.endpoint,
        region="eu-central-1",
    )


def _comparable(table) -> object:
    """A table less the columns that record when a run saw a file."""
    return table.select([name for name in table.column_names if not name.endswith("_at")])


def _sample_raw(target: Path) -> Path:
    for partner in SAMPLE_PARTNERS:
        shutil.copytree(REPO / "raw" / partner, target / partner)
    return target


@pytest.fixture(scope="module")
def local_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The tables of a run over local folders, to compare the S3 run with."""
    base = tmp_path_factory.mktemp("local")
    raw = _sample_raw(base / "raw")
    env = {
        "CLUSTERIX_RAW_DIR": str(raw),
        "CLUSTERIX_ASSETS_DIR": str(base / "assets"),
        "CLUSTERIX_STATE_DIR": str(base / "state"),
    }
    run = _clusterix(env, "run")
    assert run.returncode == 0, run.stderr
    return {
        path.name: _comparable(pq.read_table(path))
        for path in sorted((base / "assets").glob("*.parquet"))
    }


def test_a_run_on_s3_publishes_what_a_local_run_publishes(
    s3_server, bucket, tmp_path, local_tables
):
    _upload(s3_server, _sample_raw(tmp_path / "raw"), bucket, "raw")
    env = _env(s3_server, bucket, tmp_path)

    run = _clusterix(env, "run")

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert f"Tables:    s3://{bucket}/assets" in run.stdout
    objects = _keys(s3_server, bucket, "")
    manifest = json.loads(
        s3_server.client().get_object(Bucket=bucket, Key="assets/manifest.json")["Body"].read()
    )
    run_id = manifest["run_id"]
    for name, entry in manifest["tables"].items():
        assert f"assets/{entry['path']}" in objects, name
        assert f"assets/history/{run_id}/{name}.parquet" in objects
    assert f"assets/history/{run_id}/manifest.json" in objects
    assert "assets/clusterix.duckdb" in objects
    assert "assets/report/progress_report.html" in objects
    assert any(key.startswith("assets/feedback/") for key in objects), "feedback workbooks"
    assert any(key.startswith("state/archive/") for key in objects), "every version archived"
    assert f"state/{LOCK_NAME}" not in objects, "the lock is released"
    # A BI reader opens the published Parquet straight from the bucket.
    s3 = _s3fs(s3_server)
    published = {
        name: _comparable(pq.read_table(f"{bucket}/assets/{name}", filesystem=s3))
        for name in local_tables
    }
    assert published == local_tables
    events = pq.read_table(f"{bucket}/assets/events.parquet", filesystem=s3)
    assert events.schema.metadata[b"run_id"].decode() == run_id
    # SQL over the bucket: DuckDB scans pyarrow's S3 dataset (its own httpfs extension
    # would be downloaded at first use, which tests cannot do).
    sql = duckdb.connect()
    sql.register(
        "issues", pads.dataset(f"{bucket}/assets/validation_issues.parquet", filesystem=s3)
    )
    counted = sql.execute("SELECT count(*) FROM issues").fetchone()[0]
    assert counted == local_tables["validation_issues.parquet"].num_rows


def test_two_runs_on_s3_started_together_take_turns(s3_server, bucket, tmp_path, local_tables):
    """Same bucket, same machine (so the same working copies): the S3 lock serialises
    them, and the second pulls what the first pushed."""
    _upload(s3_server, _sample_raw(tmp_path / "raw"), bucket, "raw")
    env = {**os.environ, **_env(s3_server, bucket, tmp_path)}
    env.pop("DAGSTER_HOME", None)
    runs = [
        subprocess.Popen(
            [str(CLUSTERIX), "run"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [run.communicate(timeout=600) for run in runs]

    for run, (stdout, stderr) in zip(runs, outcomes, strict=True):
        assert run.returncode == 0, stderr
        assert "Traceback" not in stdout + stderr
    assert sum("Waiting up to" in stderr for _, stderr in outcomes) == 1
    s3 = _s3fs(s3_server)
    published = {
        name: _comparable(pq.read_table(f"{bucket}/assets/{name}", filesystem=s3))
        for name in local_tables
    }
    assert published == local_tables


def test_a_run_killed_mid_write_on_s3_is_followed_by_one_that_recovers(
    s3_server, bucket, tmp_path, local_tables
):
    _upload(s3_server, _sample_raw(tmp_path / "raw"), bucket, "raw")
    env = {**os.environ, **_env(s3_server, bucket, tmp_path), "CLUSTERIX_LOCK_TTL": "2"}
    env.pop("DAGSTER_HOME", None)
    victim = subprocess.Popen(
        [str(CLUSTERIX), "run"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    archived = tmp_path / "cache"
    deadline = time.monotonic() + 300
    while not any(archived.glob("*/run/archive/*/*")):
        assert victim.poll() is None and time.monotonic() < deadline, "ended before the kill"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert f"state/{LOCK_NAME}" in _keys(s3_server, bucket, "state/")

    after = subprocess.run(
        [str(CLUSTERIX), "run"], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )

    assert after.returncode == 0, after.stderr
    assert "Traceback" not in after.stdout + after.stderr
    assert "Cleared the writer lock left by clusterix run (run " in after.stderr
    assert f"pid {victim.pid} " in after.stderr
    s3 = _s3fs(s3_server)
    published = {
        name: _comparable(pq.read_table(f"{bucket}/assets/{name}", filesystem=s3))
        for name in local_tables
    }
    assert published == local_tables


def test_state_on_s3_carries_over_to_a_machine_with_an_empty_cache(s3_server, bucket, tmp_path):
    raw = tmp_path / "raw"
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    _upload(s3_server, raw, bucket, "raw")
    first = _clusterix(_env(s3_server, bucket, tmp_path / "one"), "run")
    assert first.returncode == 0, first.stderr
    s3 = _s3fs(s3_server)
    seen = pq.read_table(f"{bucket}/assets/submissions.parquet", filesystem=s3)

    # Another machine (no working copies) finds the state in S3: the version it knows.
    again = _clusterix(_env(s3_server, bucket, tmp_path / "two"), "run")
    assert again.returncode == 0, again.stderr
    still = pq.read_table(f"{bucket}/assets/submissions.parquet", filesystem=s3)
    assert still.column("first_seen_at") == seen.column("first_seen_at")

    event = {**GOOD_ROWS["Events"], "event_ref": "EV-2", "participants": 12}
    make_workbook(
        raw, "P4", "RP08", {"Events": [event]}, cover={"submitted_on": dt.date(2020, 10, 1)}
    )
    _upload(s3_server, raw, bucket, "raw")
    third = _clusterix(_env(s3_server, bucket, tmp_path / "one"), "run")
    assert third.returncode == 0, third.stderr
    events = pq.read_table(f"{bucket}/assets/events.parquet", filesystem=s3)
    assert sorted(events.column("event_ref").to_pylist()) == ["EV-1", "EV-2"]


def test_the_sample_command_fills_an_s3_drop_folder(s3_server, bucket, tmp_path):
    made = _clusterix(_env(s3_server, bucket, tmp_path), "sample")

    assert made.returncode == 0, made.stderr
    assert f"under s3://{bucket}/raw" in made.stdout
    written = int(made.stdout.split()[1])
    assert len(_keys(s3_server, bucket, "raw/")) == written > 0


def test_the_sensor_sees_new_and_changed_objects(s3_server, bucket, tmp_path, instance):
    raw = tmp_path / "raw"
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    _upload(s3_server, raw, bucket, "raw")

    first = _look(instance)
    (request,) = first.run_requests
    unchanged = _look(instance, first.cursor)
    assert unchanged.run_requests == []

    make_workbook(raw, "P4", "RP07", {"Events": [{**GOOD_ROWS["Events"], "participants": 31}]})
    _upload(s3_server, raw, bucket, "raw")
    changed = _look(instance, first.cursor)
    (again,) = changed.run_requests
    assert again.run_key != request.run_key

    # The run the sensor asks for, through the job's own executor as the daemon runs it.
    result = dg.execute_job(dg.reconstructable(_ingest_job), instance=instance)
    with result:
        assert result.success
    events = pq.read_table(f"{bucket}/assets/events.parquet", filesystem=_s3fs(s3_server))
    assert events.column("participants").to_pylist() == [31]


def _ingest_job() -> dg.JobDefinition:
    from pipelines.definitions import defs
    from pipelines.defs.operations.jobs import INGEST_JOB

    return defs.resolve_job_def(INGEST_JOB)


def test_a_missing_bucket_is_one_clear_line(s3_server, tmp_path):
    env = _env(s3_server, "no-such-bucket-here", tmp_path)

    run = _clusterix(env, "run")

    assert run.returncode == 1
    assert "Traceback" not in run.stdout + run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("error: the bucket 'no-such-bucket-here' of s3://no-such-bucket-here")
    assert "does not exist" in line


def test_an_unreachable_endpoint_is_one_clear_line(s3_server, tmp_path):
    closed = f"http://127.0.0.1:{_closed_port()}"
    env = {**_env(s3_server, "clusterix-any", tmp_path), "AWS_ENDPOINT_URL": closed}

    run = _clusterix(env, "run")

    assert run.returncode == 1
    assert "Traceback" not in run.stdout + run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot reach object storage ({closed}) for s3://clusterix-any")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_wrong_credentials_are_one_clear_line_and_lose_nothing(s3_server, bucket, tmp_path):
    raw = tmp_path / "raw"
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    _upload(s3_server, raw, bucket, "raw")
    env = _env(s3_server, bucket, tmp_path)
    assert _clusterix(env, "run").returncode == 0
    before = _keys(s3_server, bucket, "")

    for wrong in ({"AWS_SECRET_ACCESS_KEY": "not-the-secret"}, {"AWS_ACCESS_KEY_ID": "AKIANOBODY"}):
        run = _clusterix({**env, **wrong}, "run")
        assert run.returncode == 1
        assert "Traceback" not in run.stdout + run.stderr
        (line,) = run.stderr.strip().splitlines()
        assert line.startswith(f"error: object storage refused access to s3://{bucket}/state")
        assert "check AWS_ACCESS_KEY_ID" in line

    assert _keys(s3_server, bucket, "") == before


def test_a_review_decision_on_s3_state_is_recorded_there(s3_server, bucket, tmp_path, instance):
    raw = tmp_path / "raw"
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    _upload(s3_server, raw, bucket, "raw")
    env = _env(s3_server, bucket, tmp_path)
    assert _clusterix(env, "run").returncode == 0

    review = _clusterix(env, "review", "approve", "P4", "RP07", "--by", "Test")

    assert review.returncode == 0, review.stderr
    ledger = s3_server.client().get_object(Bucket=bucket, Key="state/reviews/ledger.jsonl")
    assert json.loads(ledger["Body"].read())["decision"] == "approve"
    # The sensor that republishes after a decision reads the ledger object itself.
    (request,) = review_decisions_sensor(dg.build_sensor_context(instance=instance)).run_requests
    assert request.run_key.startswith("reviews:")


def test_pull_transfers_only_what_changed_and_push_puts_the_manifest_last(
    s3_server, bucket, tmp_path
):
    location = f"s3://{bucket}/assets"
    copy = working_copy(location)
    (copy / "history" / "r1").mkdir(parents=True)
    for name in ("a.parquet", "history/r1/a.parquet", "history/r1/manifest.json", "manifest.json"):
        (copy / name).write_text(name)
    assert push(location) == 4
    assert push(location) == 0, "nothing changed, nothing sent"

    elsewhere = tmp_path / "elsewhere"
    assert pull(location, elsewhere) == 4
    assert pull(location, elsewhere) == 0
    s3_server.client().put_object(Bucket=bucket, Key="assets/a.parquet", Body=b"new")
    s3_server.client().delete_object(Bucket=bucket, Key="assets/history/r1/a.parquet")
    assert pull(location, elsewhere) == 1
    assert (elsewhere / "a.parquet").read_bytes() == b"new"
    assert not (elsewhere / "history" / "r1" / "a.parquet").exists()

    order = sorted(
        ["manifest.json", "a.parquet", "history/r1/manifest.json", "history/r1/a.parquet"],
        key=publication_rank,
    )
    assert order == [
        "history/r1/a.parquet",
        "history/r1/manifest.json",
        "a.parquet",
        "manifest.json",
    ]


def _hold(env: dict[str, str], location: str) -> subprocess.Popen:
    """Another process holding the S3 lock until killed, as a long run would."""
    code = textwrap.dedent(
        f"""
        import time
        from pipelines.platform.s3_lock import remote_writer_lock
        with remote_writer_lock({location!r}, command="test holder", run_id="test-run"):
            print("held", flush=True)
            time.sleep(600)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_the_s3_lock_admits_one_writer_and_clears_a_killed_ones(
    s3_server, bucket, tmp_path, monkeypatch
):
    location = f"s3://{bucket}/state"
    monkeypatch.setenv("CLUSTERIX_LOCK_TTL", "2")
    holder = _hold({**os.environ, "CLUSTERIX_LOCK_TTL": "2"}, location)
    messages: list[str] = []
    try:
        # Alive for longer than its ttl: the heartbeat keeps it held.
        with (
            pytest.raises(WriterBusy, match=r"still being written by test holder .* gave up"),
            remote_writer_lock(location, command="second", timeout=3, say=messages.append),
        ):
            pass
        assert messages[0].startswith("Waiting up to 3 s for test holder (run test-run, pid ")
        with (
            pytest.raises(WriterBusy, match="not waiting"),
            remote_writer_lock(location, command="second", timeout=0),
        ):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()

    messages.clear()
    with remote_writer_lock(location, command="after", timeout=30, say=messages.append) as lock:
        with remote_writer_lock(location, command="inner", timeout=0):
            pass  # re-entrant within one process
        found = read_lock(S3Url.parse(location))
        assert found is not None and found[0].command == "after"
        lock.check()
    assert any(
        m.startswith("Cleared the writer lock left by test holder") and f"pid {holder.pid} " in m
        for m in messages
    )
    assert read_lock(S3Url.parse(location)) is None, "released: the object is gone"
