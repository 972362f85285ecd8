"""From a dropped workbook to its published figures, on a real Dagster instance.

The sensor's look: each tick lists every file's size and modification time, and reads a
file's bytes only when those moved. A change that no size or time shows is therefore,
by design, unseen: that is how these tests tell a read from no read. Then the run
publishes the tables before it writes the documents that feed none of them.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.app.run import run_everything
from pipelines.definitions import defs
from pipelines.defs.operations.automation import raw_files_sensor
from tests.helpers.workbooks import GOOD_ROWS, make_workbook


def _tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    return raw_files_sensor(
        dg.build_sensor_context(definitions=defs, instance=instance, cursor=cursor)
    )


def _rewrite_unseen(path: Path) -> None:
    """Other bytes of the same length under the same modification time."""
    info = path.stat()
    path.write_bytes(bytes(reversed(path.read_bytes())))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def _touch(path: Path) -> None:
    """The same bytes, saved again a second later."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def test_an_unchanged_folder_is_skipped_without_reading_and_a_moved_time_asks_for_a_run(
    dirs, instance
):
    raw, _ = dirs
    workbook = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    make_workbook(raw, "P1", "RP02", {})
    first = _tick(instance, None)
    (request,) = first.run_requests

    _rewrite_unseen(workbook)
    unchanged = _tick(instance, first.cursor)
    assert unchanged.run_requests == []
    assert unchanged.skip_reason.skip_message == "The drop folder is unchanged."
    assert unchanged.cursor == first.cursor

    _touch(workbook)
    moved = _tick(instance, unchanged.cursor)
    (again,) = moved.run_requests
    assert again.run_key != request.run_key, "its new bytes were read once its time moved"


def test_only_a_file_whose_size_or_time_moved_is_read_again(dirs, instance):
    raw, _ = dirs
    touched = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    other = make_workbook(raw, "P1", "RP02", {})
    first = _tick(instance, None)

    _rewrite_unseen(other)
    _touch(touched)
    saved_again = _tick(instance, first.cursor)
    assert saved_again.run_requests == [], "the touched file has its old bytes; other is not read"
    assert saved_again.skip_reason.skip_message == "Files touched but their bytes are unchanged."
    assert saved_again.cursor != first.cursor

    with other.open("ab") as grown:
        grown.write(b"\0")
    resized = _tick(instance, saved_again.cursor)
    (request,) = resized.run_requests
    assert request.run_key != first.run_requests[0].run_key


def test_a_run_publishes_the_tables_before_writing_the_documents(dirs, instance):
    raw, assets = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    result = run_everything(instance)
    assert result.success
    started = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    documents = ("progress_report", "partner_feedback", "data_dictionary")
    assert all(started.index("publication") < started.index(step) for step in documents)
    assert (assets / "manifest.json").exists()
