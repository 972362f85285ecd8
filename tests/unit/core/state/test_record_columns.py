"""A state's rows kept as plain columns give back exactly the frames ingest validated."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

from pipelines.core.state.record_columns import RecordColumns, split
from pipelines.core.state.store import dumps, loads, state_document, state_of
from pipelines.core.state.submissions import current_records
from pipelines.core.state.versions import SubmissionState


def _funds(ref: str, amount: Decimal | None, on: dt.date | None, rows: int | None) -> pd.DataFrame:
    """A frame with the kinds of column ingest produces: text, money, dates, counts."""
    return pd.DataFrame(
        {
            "partner_id": pd.Series(["P4"], dtype="str"),
            "measure_ref": pd.Series([ref], dtype="str"),
            "sf_influenced_eur": pd.Series([amount], dtype=object),
            "implemented_on": pd.Series([on], dtype=object),
            "row": pd.Series([rows], dtype="Int64"),
        }
    )


def test_a_frame_survives_columns_and_the_state_document_exactly():
    frame = pd.concat(
        [
            _funds("PM-1", Decimal("1250000.10"), dt.date(2026, 3, 1), 2),
            _funds("PM-2", None, None, None),
        ],
        ignore_index=True,
    )
    frame.loc[1, "measure_ref"] = np.nan
    document = dumps(state_document(_state("P4", RecordColumns.of(frame))))
    columns = state_of(loads(document), "P4", "RP01").columns["policy_measures"]
    back = columns.frame()
    assert_frame_equal(back, frame, check_exact=True)
    assert back.loc[0, "sf_influenced_eur"] == Decimal("1250000.10")
    assert isinstance(back.loc[0, "sf_influenced_eur"], Decimal)
    assert back.loc[0, "implemented_on"] == dt.date(2026, 3, 1)
    assert len(columns) == 2


def _state(partner: str, columns: RecordColumns) -> SubmissionState:
    """A partner-period whose version in use holds these policy measures."""
    version = {
        "file": f"{partner}/RP01.xlsx",
        "sha256": "ab",
        "status": "accepted",
        "verdict": "accepted",
        "current": True,
        "in_folder": True,
    }
    return SubmissionState(
        partner,
        "RP01",
        versions=[version],
        kept={(version["file"], "ab"): {"policy_measures": columns}},
    )


def test_current_records_equal_concatenated_frames_even_when_dtypes_differ():
    first = _funds("PM-1", Decimal("10.00"), dt.date(2026, 1, 1), 2)
    second = _funds("PM-2", Decimal("0.01"), None, 3)
    odd = first.astype({"row": object})  # dtypes that differ: joined as pd.concat would
    for frames in ((first, second), (first, odd)):
        states = [_state(f"P{i}", RecordColumns.of(frame)) for i, frame in enumerate(frames)]
        got = current_records(states)["policy_measures"]
        assert_frame_equal(got, pd.concat(frames, ignore_index=True), check_exact=True)
    assert current_records([SubmissionState("P1", "RP01")])["policy_measures"].empty


def test_split_gives_what_groupby_gives_as_frames():
    frame = pd.concat(
        [
            _funds("PM-1", Decimal("1.00"), dt.date(2026, 1, 1), 2),
            _funds("PM-2", None, None, None),
            _funds("PM-3", Decimal("3.00"), dt.date(2026, 1, 3), 4),
        ],
        ignore_index=True,
    )
    frame["sha256"] = pd.Series(["b", "a", "b"], dtype="str")
    parts = split(frame, "sha256")
    assert list(parts) == ["b", "a"]  # first seen first, as groupby(sort=False)
    for key, group in frame.groupby("sha256", sort=False):
        assert_frame_equal(parts[key].frame(), group.reset_index(drop=True), check_exact=True)
