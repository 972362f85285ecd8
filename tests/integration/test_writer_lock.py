"""One writer at a time: the state directory's lock, through ``clusterix run`` processes,
a Dagster-launched run, and the lock module itself, with real files and real processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from pipelines.platform.writer_lock import LOCK_NAME, WriterBusy, read_holder, writer_lock

REPO = Path(__file__).resolve().parents[2]
CLUSTERIX = Path(sys.executable).parent / "clusterix"
# A few partners' sample workbooks: enough work for a run to be caught mid-write.
SAMPLE_PARTNERS = ("P1", "P2")


def _raw(target: Path) -> Path:
    for partner in SAMPLE_PARTNERS:
        shutil.copytree(REPO / "raw" / partner, target / partner)
    return target


def _env(base: Path, raw: Path, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CLUSTERIX_RAW_DIR": str(raw),
        "CLUSTERIX_ASSETS_DIR": str(base / "assets"),
        "CLUSTERIX_STATE_DIR": str(base / "state"),
        "DAGSTER_HOME": str(home),
    }


def _start(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(CLUSTERIX), "run", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _tables(assets: Path) -> dict[str, object]:
    """The current published tables' data (not the per-run history snapshots), less the
    columns that record when a run saw a file."""
    tables = {}
    for path in sorted(assets.glob("*.parquet")):
        table = pq.read_table(path)
        keep = [name for name in table.column_names if not name.endswith("_at")]
        tables[str(path.relative_to(assets))] = table.select(keep)
    return tables


@pytest.fixture(scope="module")
def clean_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The tables of one clean run on its own, to compare the contended runs with."""
    base = tmp_path_factory.mktemp("clean")
    raw = _raw(base / "raw")
    run = subprocess.run(
        [str(CLUSTERIX), "run"],
        env=_env(base, raw, base / "home"),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return _tables(base / "assets")


def test_two_runs_started_together_take_turns(tmp_path, clean_tables):
    raw = _raw(tmp_path / "raw")
    # One fresh DAGSTER_HOME for both: its SQLite set-up raced before the lock.
    env = _env(tmp_path, raw, tmp_path / "home")

    first, second = _start(env), _start(env)
    outcomes = [process.communicate(timeout=600) for process in (first, second)]

    for process, (stdout, stderr) in zip((first, second), outcomes, strict=True):
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr + stdout
        assert "Stakeholder-meeting floor" in stdout
    waited = [stderr for _stdout, stderr in outcomes if "Waiting up to" in stderr]
    assert len(waited) == 1
    assert "clusterix run (run " in waited[0]
    assert _tables(tmp_path / "assets") == clean_tables
    assert (tmp_path / "state" / LOCK_NAME).read_text() == ""


def test_a_second_run_that_will_not_wait_exits_with_one_clear_line(tmp_path):
    state = tmp_path / "state"
    holder = _hold_in_another_process(state)
    since = read_holder(state / LOCK_NAME).since
    try:
        env = _env(tmp_path, _raw(tmp_path / "raw"), tmp_path / "home")
        _stdout, stderr = _start(env, "--no-wait").communicate(timeout=120)
    finally:
        holder.kill()
        holder.wait()
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        f"error: {state} is being written by test holder (run test-run, pid {holder.pid}"
        f" on {os.uname()[1]}, since {since}); not waiting (set"
        " CLUSTERIX_LOCK_TIMEOUT or --wait to wait for it)."
    ]
    assert "Traceback" not in stderr
    assert not (tmp_path / "assets").exists()


def test_a_run_killed_mid_write_is_followed_by_one_that_recovers(tmp_path, clean_tables):
    raw = _raw(tmp_path / "raw")
    env = _env(tmp_path, raw, tmp_path / "home")
    state = tmp_path / "state"

    victim = _start(env)
    _wait_for(lambda: any((state / "archive").glob("*/*")), victim)
    assert victim.poll() is None, "the run ended before it could be killed mid-write"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert read_holder(state / LOCK_NAME).pid == victim.pid

    stdout, stderr = _start(env, "--no-wait").communicate(timeout=600)

    assert "Traceback" not in stderr + stdout
    assert "Cleared the writer lock left by clusterix run (run " in stderr
    assert f"pid {victim.pid} " in stderr
    assert _tables(tmp_path / "assets") == clean_tables


def test_a_dagster_launched_run_respects_the_lock(tmp_path, monkeypatch, instance):
    """A run through the job's own executor (as the daemon launches it) fails clearly."""
    raw = _raw(tmp_path / "raw")
    for name, value in _env(tmp_path, raw, tmp_path / "home").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CLUSTERIX_LOCK_TIMEOUT", "0")
    holder = _hold_in_another_process(tmp_path / "state")
    try:
        result = dg.execute_job(
            dg.reconstructable(_ingest_job), instance=instance, raise_on_error=False
        )
        with result:
            assert not result.success
            failure = result.get_run_failure_event()
    finally:
        holder.kill()
        holder.wait()
    assert "is being written by test holder" in str(failure.event_specific_data.error)
    assert not (tmp_path / "assets").exists()


def test_the_lock_is_reentrant_and_released(tmp_path):
    messages: list[str] = []
    with writer_lock(tmp_path, command="outer", say=messages.append):
        with writer_lock(tmp_path, command="inner", timeout=0):
            assert read_holder(tmp_path / LOCK_NAME).command == "outer"
        assert read_holder(tmp_path / LOCK_NAME).command == "outer"
    assert read_holder(tmp_path / LOCK_NAME) is None
    assert messages == []


def test_a_waiting_writer_names_the_holder_and_gives_up_after_its_timeout(tmp_path):
    holder = _hold_in_another_process(tmp_path)
    messages: list[str] = []
    try:
        with (
            pytest.raises(WriterBusy, match=r"still being written by test holder .* gave up"),
            writer_lock(tmp_path, command="second", timeout=1, say=messages.append),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert len(messages) == 1
    assert messages[0].startswith("Waiting up to 1 s for test holder (run test-run, pid ")


def _ingest_job() -> dg.JobDefinition:
    from pipelines.definitions import defs
    from pipelines.defs.operations.jobs import INGEST_JOB

    return defs.resolve_job_def(INGEST_JOB)


def _hold_in_another_process(state: Path) -> subprocess.Popen:
    """A process holding the lock until killed, as a long run would."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from pipelines.platform.writer_lock import writer_lock
        with writer_lock({str(state)!r}, command="test holder", run_id="test-run"):
            print("held", flush=True)
            time.sleep(600)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    return process


def _wait_for(condition, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 300
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"gave up waiting (process exit code {process.poll()})")
        time.sleep(0.02)
