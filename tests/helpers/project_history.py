"""One small hand-made project history that exercises every indicator.

Its known answers are worked out in the comments next to the rows and checked in
``tests/unit/core/indicators``; the report tests draw it too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from pipelines.core.metadata.table_model import Table
from pipelines.core.metadata.tables import COLLABORATIONS, EVENTS, GOOD_PRACTICES, POLICY_MEASURES
from pipelines.core.reference.loader import reference
from pipelines.core.state.facts import record_columns

REF = reference()


def records_frame(table: Table, rows: list[dict]) -> pd.DataFrame:
    """A records frame as the ingest hands it over, with lineage filled in."""
    full = [
        {
            "file": f"{r['partner_id']}/{r['period_id']}.xlsx",
            "sha256": f"sha-{r['partner_id']}-{r['period_id']}",
            "row": i + 2,
            **r,
        }
        for i, r in enumerate(rows)
    ]
    columns = record_columns(table)
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in full], columns=columns)


def event(partner: str, period: str, ref: str, event_type: str, start: str, **extra) -> dict:
    return {
        "partner_id": partner,
        "period_id": period,
        "event_ref": ref,
        "title": f"{event_type} {ref}",
        "event_type": event_type,
        "start_date": dt.date.fromisoformat(start),
        "format": "in_person",
        "country": "AT",
        "participants": 12,
        **extra,
    }


SM = "regional_stakeholder_meeting"

EVENT_ROWS = [
    # O1.1 = 2: P2's report of P1's meeting of 2017-05-10 is not counted.
    event("P1", "RP01", "PM-1", "project_meeting", "2016-06-15"),
    event("P1", "RP03", "PM-3", "project_meeting", "2017-05-10"),
    event("P2", "RP03", "PM-A", "project_meeting", "2017-05-10"),
    event("P3", "RP04", "IDE-1", "in_depth_exploration_meeting", "2017-12-01"),  # O1.2 = 1
    event("P4", "RP02", "SE-1", "staff_exchange", "2017-01-10", guest_partner_id="P1"),  # O1.3
    event("P6", "RP07", "MM-1", "monitoring_meeting", "2019-10-03"),  # O1.4 = 1
    # O1.5 = 4: SM-1 restated in RP02 counts once; SM-2 of P2 is dated in RP02 but
    # reported in RP03. O1 = 2 + 1 + 1 + 1 + 4 = 9.
    event("P1", "RP01", "SM-1", SM, "2016-05-01"),
    event("P1", "RP02", "SM-1", SM, "2016-05-01", participants=30),
    event("P1", "RP02", "SM-2", SM, "2016-11-01"),
    event("P2", "RP01", "SM-1", SM, "2016-07-01"),
    event("P2", "RP03", "SM-2", SM, "2017-02-01"),
    # O1X = 3: the online consortium meeting is reported by P1 and P9.
    event("P9", "RP09", "OCM-1", "online_consortium_meeting", "2022-01-20", format="online"),
    event("P1", "RP09", "OCM-1", "online_consortium_meeting", "2022-01-20", format="online"),
    event("P5", "RP10", "WG-1", "online_working_group_meeting", "2022-05-05", format="online"),
    event("P7", "RP11", "RRA-1", "regional_reflection_activity", "2022-11-11"),
]


def practice(partner: str, period: str, ref: str, stage: str) -> dict:
    return {
        "partner_id": partner,
        "period_id": period,
        "practice_ref": ref,
        "title": f"Practice {ref}",
        "country": "IT",
        "identified_on": dt.date(2016, 6, 1),
        "stage": stage,
    }


PRACTICE_ROWS = [  # O2 = 2: GP-1 moves from identified to structured.
    practice("P2", "RP01", "GP-1", "identified"),
    practice("P2", "RP04", "GP-1", "structured"),
    practice("P3", "RP05", "GP-7", "analysed"),
]


def measure(partner: str, period: str, ref: str, status: str, sf: str, other: str) -> dict:
    return {
        "partner_id": partner,
        "period_id": period,
        "measure_ref": ref,
        "policy_instrument_id": f"PI-{partner}",
        "description": f"Measure {ref}",
        "status": status,
        "implemented_on": dt.date(2019, 12, 1) if status == "implemented" else None,
        "sf_influenced_eur": Decimal(sf),
        "other_funds_influenced_eur": Decimal(other),
    }


MEASURE_ROWS = [
    # R1 = 2 (PI-P1 from RP07, PI-P4 from RP08), R2 = 1 (PI-P9 from RP06).
    # R3 = 250000.50 + 1000.10 = 251000.60; R4 = 10000.00 + 350000.75 = 360000.75.
    measure("P1", "RP05", "M-1", "planned", "100000", "0"),
    measure("P1", "RP07", "M-1", "implemented", "250000.50", "10000"),
    measure("P9", "RP06", "M-9", "implemented", "0", "300000.25"),
    measure("P9", "RP08", "M-9", "implemented", "0", "350000.75"),
    measure("P3", "RP07", "M-2", "in_progress", "999999", "0"),
    measure("P4", "RP08", "M-4", "implemented", "1000.10", "0"),
]


def collab(partner: str, period: str, year: int, value: int) -> dict:
    return {
        "partner_id": partner,
        "period_id": period,
        "year": year,
        "company_research_collaborations": value,
    }


COLLABORATION_ROWS = [
    # P1: 100 in 2015, 2018 restated from 110 to 120, 130 in 2019 (2021 is beyond 2020): +30 %.
    collab("P1", "RP05", 2015, 100),
    collab("P1", "RP05", 2018, 110),
    collab("P1", "RP07", 2018, 120),
    collab("P1", "RP07", 2019, 130),
    collab("P1", "RP09", 2021, 500),
    # P2: 50 -> 40: -20 %. C1 = mean(30, -20) = 5.00.
    collab("P2", "RP08", 2015, 50),
    collab("P2", "RP08", 2020, 40),
    # Left out: P3 has no 2015, P4 starts from 0, P6 has nothing after 2015.
    collab("P3", "RP07", 2017, 10),
    collab("P3", "RP07", 2019, 20),
    collab("P4", "RP07", 2015, 0),
    collab("P4", "RP07", 2018, 5),
    collab("P6", "RP07", 2015, 30),
]

RECORDS = {
    "events": records_frame(EVENTS, EVENT_ROWS),
    "good_practices": records_frame(GOOD_PRACTICES, PRACTICE_ROWS),
    "policy_measures": records_frame(POLICY_MEASURES, MEASURE_ROWS),
    "collaborations": records_frame(COLLABORATIONS, COLLABORATION_ROWS),
}

SUBMISSION_ROWS = [
    # partner, period, version, status, current, on_time
    ("P1", "RP01", "a", "accepted", True, True),
    ("P1", "RP02", "a", "accepted", True, False),
    ("P1", "RP03", "a", "rejected", False, True),
    ("P2", "RP01", "a", "accepted", False, True),
    ("P2", "RP01", "b", "accepted", True, False),  # a late correction of an on-time report
]


def submissions() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "partner_id": partner,
                "period_id": period,
                "file": f"{partner}/{period}.xlsx",
                "sha256": f"{partner}{period}{version}",
                "status": status,
                "current": current,
                "in_folder": version == "b" or (partner, period) != ("P2", "RP01"),
                "submitted_on": dt.date(2017, 1, 1),
                "on_time": on_time,
                "n_errors": 0,
                "n_warnings": 0,
                "n_rows": 3,
                "first_seen_at": "2017-01-01T00:00:00Z",
            }
            for partner, period, version, status, current, on_time in SUBMISSION_ROWS
        ]
    )
