"""Each partner-period's status: on time, late, rejected, missing, not yet due, not expected."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.core.metadata.enumerations import COMPLETENESS_STATUSES
from pipelines.core.reference.loader import reference
from pipelines.core.state.completeness import submission_statuses

REF = reference()
AS_OF = dt.date(2023, 2, 1)  # RP10's deadline (2022-12-31) has passed, RP11's not


def version(
    partner: str,
    period: str,
    n: int,
    status: str,
    current: bool,
    submitted_on: dt.date | None,
    on_time: bool | None,
    seen: str,
    in_folder: bool = True,
) -> dict:
    return {
        "partner_id": partner,
        "period_id": period,
        "file": f"{partner}/{period}.xlsx",
        "sha256": f"{partner}{period}v{n}",
        "status": status,
        "current": current,
        "in_folder": in_folder,
        "submitted_on": submitted_on,
        "on_time": on_time,
        "n_errors": 0 if status == "accepted" else 1,
        "n_warnings": 0,
        "n_rows": 3,
        "first_seen_at": seen,
    }


SUBMISSIONS = pd.DataFrame(
    [
        version("P1", "RP01", 1, "accepted", True, dt.date(2016, 12, 1), True, "2016-12-01T09:00Z"),
        # late: first accepted 10 days after the 2017-06-30 deadline
        version(
            "P1", "RP02", 1, "accepted", True, dt.date(2017, 7, 10), False, "2017-07-10T09:00Z"
        ),
        # on time, then a late correction: still on time
        version(
            "P1",
            "RP03",
            1,
            "accepted",
            False,
            dt.date(2017, 12, 1),
            True,
            "2017-12-01T09:00Z",
            in_folder=False,
        ),
        version("P1", "RP03", 2, "accepted", True, dt.date(2018, 2, 1), False, "2018-02-01T09:00Z"),
        # only a refused file
        version("P2", "RP01", 1, "rejected", False, None, None, "2016-12-01T09:00Z"),
        # accepted on time, then a refused upload (listed first: order comes from the time)
        version("P3", "RP01", 2, "rejected", False, None, None, "2017-01-20T09:00Z"),
        version(
            "P3",
            "RP01",
            1,
            "accepted",
            True,
            dt.date(2016, 12, 1),
            True,
            "2016-12-01T09:00Z",
            in_folder=False,
        ),
        # a refused file, then removed from the folder: it counts for nothing
        version("P5", "RP01", 1, "rejected", False, None, None, "2016-12-01T09:00Z", False),
        # in use, its file still there, and a refused copy beside it
        version("P6", "RP01", 1, "accepted", True, dt.date(2016, 12, 1), True, "2016-12-01T09:00Z"),
        version("P6", "RP01", 1, "rejected", False, dt.date(2016, 12, 1), True, "2017-01-01T09:00Z")
        | {"file": "P6/P6_RP01.xlsx"},
        # in use, then its file removed: the last accepted data stays in use
        version(
            "P7",
            "RP01",
            1,
            "accepted",
            True,
            dt.date(2016, 12, 1),
            True,
            "2016-12-01T09:00Z",
            in_folder=False,
        ),
        # P11 takes no part in the extended phase: its file is refused
        version("P11", "RP09", 1, "rejected", False, None, None, "2022-05-01T09:00Z"),
        # a file nobody can attribute
        version("P4", "RP01", 9, "rejected", False, None, None, "2016-12-01T09:00Z")
        | {"partner_id": None, "period_id": None, "file": "P4/notes.xlsx"},
    ]
)
ISSUES = pd.DataFrame(
    [
        {"sha256": "P2RP01v1", "severity": "error", "message": "this file is not a workbook"},
        {"sha256": "P3RP01v2", "severity": "error", "message": "the sheet Events is missing"},
        {"sha256": "P3RP01v2", "severity": "warning", "message": "an extra column"},
        {"sha256": "P11RP09v1", "severity": "error", "message": "P11 takes no part"},
        {"sha256": "P5RP01v1", "severity": "error", "message": "not a workbook"},
        {"sha256": "P6RP01v1", "file": "P6/P6_RP01.xlsx", "severity": "error", "message": "two"},
    ]
)
ISSUES["file"] = ISSUES["file"].fillna(
    ISSUES["sha256"].str.replace(r"(P\d+)(RP\d+)v\d", r"\1/\2.xlsx", regex=True)
)


@pytest.fixture(scope="module")
def statuses() -> pd.DataFrame:
    return submission_statuses(SUBMISSIONS, REF, AS_OF, ISSUES).set_index(
        ["partner_id", "period_id"]
    )


def test_every_partner_and_period_has_one_known_status(statuses) -> None:
    assert len(statuses) == 11 * 11
    assert statuses.index.is_unique
    assert set(statuses["status"]) <= set(COMPLETENESS_STATUSES)
    expected = statuses[statuses["status"] != "not_expected"]
    assert sorted(expected.index) == sorted(REF.expected_submissions())


def test_received_on_time_or_late(statuses) -> None:
    assert statuses.loc[("P1", "RP01"), "status"] == "on_time"
    late = statuses.loc[("P1", "RP02")]
    assert (late["status"], late["days_late"], late["deadline"]) == (
        "late",
        10,
        dt.date(2017, 6, 30),
    )
    corrected = statuses.loc[("P1", "RP03")]
    assert corrected["status"] == "on_time" and corrected["sha256"] == "P1RP03v2"
    assert pd.isna(corrected["days_late"])


def test_rejected_is_not_missing_and_says_why(statuses) -> None:
    row = statuses.loc[("P2", "RP01")]
    assert row["status"] == "rejected"
    assert row["rejected_file"] == "P2/RP01.xlsx"
    assert row["reason"] == "this file is not a workbook"


def test_a_refused_latest_upload_is_flagged_while_the_earlier_version_is_in_use(statuses):
    row = statuses.loc[("P3", "RP01")]
    assert row["status"] == "on_time" and row["sha256"] == "P3RP01v1"
    assert row["latest_rejected"]
    assert row["reason"] == "the sheet Events is missing"
    assert not statuses.loc[("P1", "RP03"), "latest_rejected"]


def test_only_what_the_folder_holds_now_counts(statuses) -> None:
    assert statuses.loc[("P5", "RP01"), "status"] == "missing"  # its refused file left
    copy = statuses.loc[("P6", "RP01")]
    assert (copy["status"], copy["file"], copy["latest_rejected"]) == (
        "on_time",
        "P6/RP01.xlsx",
        True,
    )
    # The copy has the same bytes as the version in use: its own verdict, its own reason.
    assert (copy["rejected_file"], copy["reason"]) == ("P6/P6_RP01.xlsx", "two")
    removed = statuses.loc[("P7", "RP01")]
    assert (removed["status"], removed["file"], removed["latest_rejected"]) == (
        "on_time",
        "P7/RP01.xlsx",
        False,
    )


def test_missing_only_once_the_deadline_has_passed(statuses) -> None:
    assert statuses.loc[("P4", "RP10"), "status"] == "missing"
    assert statuses.loc[("P4", "RP11"), "status"] == "not_yet_due"
    earlier = submission_statuses(SUBMISSIONS, REF, dt.date(2016, 11, 1)).set_index(
        ["partner_id", "period_id"]
    )
    assert set(earlier.loc["P5", "status"]) == {"not_yet_due"}


def test_not_expected_even_when_a_file_came(statuses) -> None:
    row = statuses.loc[("P11", "RP09")]
    assert row["status"] == "not_expected"
    assert row["reason"] == "P11 takes no part"
    assert statuses.loc[("P11", "RP10"), "status"] == "not_expected"


def test_without_submissions_everything_expected_is_missing_or_not_yet_due() -> None:
    frame = submission_statuses(pd.DataFrame(), REF, AS_OF)
    counts = frame["status"].value_counts().to_dict()
    assert counts == {"missing": 108, "not_yet_due": 10, "not_expected": 3}
