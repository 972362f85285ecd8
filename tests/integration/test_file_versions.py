"""File versions as sync tools and editors produce them: replaced, renamed away,
resubmitted, huge, or left half-written by a killed run.

Each file is read once; its SHA-256, its archived copy and its parsed figures come
from those same bytes, and whatever happens to one file affects only that file.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from pathlib import Path

from pipelines.app.run import run_everything
from pipelines.core.intake.discovery import discover
from pipelines.core.intake.ingest import fingerprint, ingest
from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.enumerations import RETRY
from pipelines.core.reference.loader import reference
from pipelines.core.state.archive import archive_bytes
from pipelines.core.state.submissions import current_records
from pipelines.core.state.versions import SubmissionState
from pipelines.platform.files import remove_stale_temp_files
from tests.helpers.workbooks import GOOD_ROWS, make_workbook


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _archive_is_sound(archive: Path) -> None:
    """Every archived file holds exactly the bytes its name says."""
    for path in archive.rglob("*.*"):
        assert _sha(path.read_bytes()) == path.name.split(".")[0], path


def test_a_file_replaced_between_discovery_and_reading_is_archived_under_its_own_hash(
    tmp_path, dirs
):
    raw, _ = dirs
    path = make_workbook(raw, "P9", "RP11", {"Events": [{**GOOD_ROWS["Events"], "country": "BE"}]})
    (candidate,) = discover(raw, reference())
    old_sha = fingerprint(candidate)
    # The partner's sync tool replaces the file: write beside it, rename over it.
    replacement = {**GOOD_ROWS["Events"], "country": "BE", "participants": 999}
    newer = make_workbook(tmp_path / "sync", "P9", "RP11", {"Events": [replacement]})
    os.replace(newer, path)

    (outcome,) = ingest([candidate], reference(), tmp_path / "archive")

    assert outcome.sha256 == _sha(path.read_bytes()) != old_sha
    assert list(outcome.records["events"]["participants"]) == [999]
    assert not list((tmp_path / "archive").rglob(f"{old_sha}*"))
    _archive_is_sound(tmp_path / "archive")


def test_two_writers_archiving_one_version_at_once_leave_one_sound_copy(tmp_path):
    data = os.urandom(2_000_000)
    sha = _sha(data)
    archive = tmp_path / "archive"
    threads = [
        threading.Thread(target=archive_bytes, args=(data, sha, ".XLSX", archive)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [p.name for p in archive.rglob("*")] == [sha[:2], f"{sha}.xlsx"]
    _archive_is_sound(archive)


def test_a_file_renamed_away_while_the_batch_is_read_affects_only_itself(tmp_path, dirs):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    editor_temp = make_workbook(raw, "P9", "RP11", suffix=".ods")
    editor_temp = editor_temp.rename(raw / "P9" / "RP11.new")
    candidates = discover(raw, reference())
    editor_temp.rename(raw / "P9" / "RP11.ods")  # the editor's save completes

    outcomes = {o.file: o for o in ingest(candidates, reference(), tmp_path / "archive")}

    assert outcomes["P4/RP07.xlsx"].status == "accepted"
    gone = outcomes["P9/RP11.new"]
    assert gone.status == RETRY
    assert [i["rule"] for i in gone.issues] == ["file_changed_while_read"]
    assert "read again on the next run" in gone.issues[0]["message"]
    state = SubmissionState("P9", "RP11")
    assert state.record(gone) is state  # nothing recorded: the next run reads it afresh


def test_resubmitting_an_older_version_keeps_its_history(tmp_path, dirs):
    raw, _ = dirs
    state = SubmissionState("P4", "RP07")
    shas = []
    for version, (participants, day) in enumerate(
        [(10, "2020-01-01"), (20, "2020-01-02"), (30, "2020-01-03"), (10, "2020-01-04")]
    ):
        event = {**GOOD_ROWS["Events"], "participants": participants}
        make_workbook(raw, "P4", "RP07", {"Events": [event]})
        (outcome,) = ingest(discover(raw, reference()), reference(), tmp_path / "archive", now=day)
        state = state.record(outcome).settle({outcome.file: outcome.sha256}, {}, reference())
        shas.append(outcome.sha256)
        assert state.current_sha256 == outcome.sha256, version
    assert shas[3] == shas[0]  # the same bytes as the first version
    assert [v["sha256"] for v in state.versions] == shas[:3]
    assert [v["first_seen_at"] for v in state.versions] == [
        "2020-01-01",
        "2020-01-02",
        "2020-01-03",
    ]
    assert [v["current"] for v in state.versions] == [True, False, False]
    assert list(state.records["events"]["participants"]) == [10]


def test_current_records_follow_each_new_version(tmp_path, dirs):
    """The records of the states last asked for are reused; a new version is a new state."""
    raw, _ = dirs
    state, versions = SubmissionState("P4", "RP07"), []
    for participants in (10, 20):
        event = {**GOOD_ROWS["Events"], "participants": participants}
        make_workbook(raw, "P4", "RP07", {"Events": [event]})
        (outcome,) = ingest(discover(raw, reference()), reference(), tmp_path / "archive")
        state = state.record(outcome).settle({outcome.file: outcome.sha256}, {}, reference())
        versions.append(state)
    first, second = versions
    for asked, expected in ((first, 10), (second, 20), (first, 10)):
        assert list(current_records([asked])["events"]["participants"]) == [expected]
    assert current_records([first])["events"] is current_records([first])["events"]
    # A partner-period never ingested loads as a new empty state every time: still reused.
    again = current_records([first, SubmissionState("P1", "RP01")])["events"]
    assert again is current_records([first, SubmissionState("P1", "RP01")])["events"]


def test_a_huge_sparse_file_is_refused_on_its_size_without_being_read(tmp_path, dirs):
    raw, _ = dirs
    huge = raw / "P4" / "RP07.xlsx"
    huge.parent.mkdir()
    with huge.open("wb") as handle:
        handle.truncate(8 * 1024**3)  # 8 GiB of holes: hashing it would read them all
    (candidate,) = discover(raw, reference())
    assert fingerprint(candidate) == ""
    (outcome,) = ingest([candidate], reference(), tmp_path / "archive")
    assert (outcome.status, outcome.sha256) == ("rejected", "")
    assert [i["rule"] for i in outcome.issues] == ["file_too_large"]
    assert not (tmp_path / "archive").exists()


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_temporary_files_of_a_killed_run_are_removed_and_live_ones_kept(tmp_path):
    state = tmp_path / "state"
    killed = state / "archive" / "ab" / f".ab12.xlsx.pid{_dead_pid()}.k2j3.tmp"
    unnamed_old = state / "submissions-v2" / "P4" / ".RP07.pickle.x8y9.tmp"
    live = state / "submissions-v2" / "P4" / f".RP06.pickle.pid{os.getpid()}.a1b2.tmp"
    unnamed_fresh = state / ".assets.pickle.q1w2.tmp"
    kept_file = state / "archive" / "ab" / "ab12.xlsx"
    for path in (killed, unnamed_old, live, unnamed_fresh, kept_file):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    os.utime(unnamed_old, (0, 0))

    removed = remove_stale_temp_files(state)

    assert sorted(removed) == sorted([killed, unnamed_old])
    assert live.exists() and unnamed_fresh.exists() and kept_file.exists()


def test_the_next_run_cleans_up_after_a_killed_one(dirs, instance, tmp_path):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    left = tmp_path / "state" / "archive" / "00" / f".00ff.xlsx.pid{_dead_pid()}.abcd.tmp"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"half a workbook")
    assert run_everything(instance).success
    assert not left.exists()
    assert not list((tmp_path / "state").rglob("*.tmp"))
    _archive_is_sound(tmp_path / "state" / "archive")


def test_batches_of_workbooks_give_the_results_of_one_pass(tmp_path):
    """The bundled sample, with its deliberate flaws, read in batches of 7 and in one."""
    bundled = Path(__file__).resolve().parents[2] / "raw"
    found = discover(bundled, reference())
    now = "2026-01-01T00:00:00+00:00"
    one = ingest(found, reference(), tmp_path / "a", now=now, batch_size=len(found))
    batched = ingest(found, reference(), tmp_path / "b", now=now, batch_size=7)

    def plain(rows):  # an empty cell is None or NaN as pandas infers per batch; both mean empty
        return [{k: None if is_missing(v) else v for k, v in row.items()} for row in rows]

    def summary(outcome):
        records = {k: plain(v.to_dict("records")) for k, v in outcome.records.items()}
        return outcome.file, outcome.status, outcome.sha256, plain(outcome.issues), records

    assert len(one) == len(found) > 100
    assert [summary(o) for o in batched] == [summary(o) for o in one]
    assert any(o.issues for o in one) and any(o.status == "rejected" for o in one)
