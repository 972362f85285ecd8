"""Partner-period states are stored as data: read back by their schema, never run."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from decimal import Decimal

import pytest

from pipelines.core.intake.discovery import discover
from pipelines.core.intake.ingest import refresh
from pipelines.core.reference.loader import reference
from pipelines.core.state.store import (
    STATE_FORMAT,
    load_record,
    load_state,
    save_record,
    save_state,
)
from pipelines.core.state.versions import SubmissionState
from tests.helpers.workbooks import GOOD_MEASURE, make_workbook


@pytest.fixture
def stored(tmp_path) -> SubmissionState:
    """P4 RP07 ingested from a real workbook (money, dates, counts) and stored."""
    raw = tmp_path / "raw"
    make_workbook(raw, "P4", "RP07", {"PolicyMeasures": [GOOD_MEASURE]})
    (state,) = refresh(
        discover(raw, reference()),
        [SubmissionState("P4", "RP07")],
        reference(),
        tmp_path / "archive",
    ).states
    save_state(tmp_path / "state", state)
    return state


def _state_file(tmp_path):
    return tmp_path / "state" / STATE_FORMAT / "P4" / "RP07.json"


def _fresh_load(tmp_path) -> SubmissionState:
    """The state as another process reads it: from its file, not a cache (a new stamp)."""
    path = _state_file(tmp_path)
    path.write_bytes(path.read_bytes() + b" ")  # same document, another size
    return load_state(tmp_path / "state", "P4", "RP07")


def test_a_state_is_a_json_document_that_reads_back_exactly(tmp_path, stored):
    document = json.loads(_state_file(tmp_path).read_text("utf-8"))
    assert document["format"] == STATE_FORMAT
    back = _fresh_load(tmp_path)
    assert back is not stored
    assert (back.versions, back.issues, back.present) == (
        stored.versions,
        stored.issues,
        stored.present,
    )
    measures = back.records["policy_measures"]
    assert measures.equals(stored.records["policy_measures"])
    assert measures.loc[0, "sf_influenced_eur"] == Decimal("1000.50")
    assert measures.loc[0, "implemented_on"] == dt.date(2019, 9, 1)
    assert isinstance(back.versions[0]["submitted_on"], dt.date)


class _Trap:
    """Would run code when unpickled."""

    def __reduce__(self):
        return (exec, ("raise SystemExit('a pickle in the state directory ran')",))


@pytest.mark.parametrize(
    "content",
    [
        pickle.dumps(_Trap()),
        b'{"format": "submissions-v3", "partner_id": "P4", "period_id": "RP07"}',
        b'{"format": "' + STATE_FORMAT.encode() + b'", "partner_id": "P4"}',
        b'{"format": "' + STATE_FORMAT.encode() + b'", "partner_id": "P4", "period_id":'
        b' "RP07", "versions": [{"file": 1}], "issues": [], "present": {}, "kept": []}',
        b'{"$decimal": 5}',
        b"\xff\xfe not even text",
    ],
    ids=["pickle", "older format", "fields missing", "wrong rows", "bad tag", "binary"],
)
def test_an_unreadable_or_older_state_is_ignored_and_its_workbook_read_again(
    tmp_path, stored, content
):
    _state_file(tmp_path).write_bytes(content)
    state = load_state(tmp_path / "state", "P4", "RP07")
    assert not state.versions and not state.present
    assert state.needs_reading("P4/RP07.xlsx", stored.current_sha256)


def test_a_run_record_is_json_and_a_malformed_one_falls_back(tmp_path):
    save_record(tmp_path, "statuses", {"P4|RP07": "approved"})
    assert load_record(tmp_path, "statuses", dict, {}) == {"P4|RP07": "approved"}
    (path,) = tmp_path.rglob("statuses.json")
    path.write_bytes(pickle.dumps(_Trap()))
    assert load_record(tmp_path, "statuses", dict, {"default": "x"}) == {"default": "x"}
    assert load_record(tmp_path, "absent", dict, {}) == {}
