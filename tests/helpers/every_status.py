"""A drop folder with a partner-period of every status, run through the pipeline twice.

- P4 RP07 accepted on time; P2 RP07 accepted 22 days late;
- P7 RP03 refused (not a workbook), nothing in use;
- P5 RP07 accepted in the first run, its replacement refused in the second: the latest
  upload is refused while the earlier version is in use;
- P1 RP01 and every other past period without a file: missing;
- RP11 ends in the future (reference data in a folder of its own, as a second instance
  would have it), so P4 RP11 and the other RP11 partner-periods are not yet due;
- P11 RP09: not expected (P11 takes no part in the extended phase).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.app.run import run_everything
from pipelines.core.reference.loader import DEFAULT_PROJECT_DIR, reference
from tests.helpers.workbooks import GOOD_EVENT, make_workbook

NOT_A_WORKBOOK = b"minutes of the meeting, not a workbook\n"
# What the sample holds, by partition key, as the status function must say it.
EXPECTED = {
    "P4|RP07": "on_time",
    "P2|RP07": "late",
    "P7|RP03": "rejected",
    "P5|RP07": "on_time",
    "P1|RP01": "missing",
    "P4|RP11": "not_yet_due",
    "P11|RP09": "not_expected",
}


def _event(ref: str) -> dict:
    return {**GOOD_EVENT, "event_ref": ref}


def reference_with_rp11_ahead(folder: Path, today: dt.date) -> Path:
    """The bundled reference data with RP11 ending 60 days after ``today``."""
    shutil.copytree(DEFAULT_PROJECT_DIR, folder)
    periods = folder / "periods.csv"
    with periods.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["period_id"] == "RP11":
            row["end_date"] = (today + dt.timedelta(days=60)).isoformat()
    with periods.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


@contextlib.contextmanager
def every_status_environment(base: Path) -> Iterator[dict[str, str]]:
    """The environment of the sample (folders and reference data), set in this process."""
    env = {
        "CLUSTERIX_RAW_DIR": str(base / "raw"),
        "CLUSTERIX_ASSETS_DIR": str(base / "assets"),
        "CLUSTERIX_STATE_DIR": str(base / "state"),
        "CLUSTERIX_PROJECT_DIR": str(
            reference_with_rp11_ahead(base / "reference", dt.datetime.now(dt.UTC).date())
        ),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        reference.cache_clear()
        try:
            yield env
        finally:
            reference.cache_clear()
    reference.cache_clear()


def run_every_status(raw: Path, instance: dg.DagsterInstance) -> None:
    """Two runs: the first with P5 RP07's good workbook, the second with its refused one."""
    make_workbook(raw, "P4", "RP07", {"Events": [_event("EV-P4")]})
    late = {"submitted_on": dt.date(2020, 7, 22)}
    make_workbook(raw, "P2", "RP07", {"Events": [_event("EV-P2")]}, cover=late)
    make_workbook(raw, "P5", "RP07", {"Events": [_event("EV-P5")]})
    (raw / "P7").mkdir(parents=True)
    (raw / "P7" / "RP03.xlsx").write_bytes(NOT_A_WORKBOOK)
    assert run_everything(instance).success
    (raw / "P5" / "RP07.xlsx").write_bytes(NOT_A_WORKBOOK)
    assert run_everything(instance).success
