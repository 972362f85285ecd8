"""Write the Circular Valleys example's synthetic workbooks (examples/circular-valleys/raw).

The second bundled project is a fictional Interreg Europe 2021-2027 project. Its plan is
written out below, record by record, so the figures it gives can be counted by hand:
tests/integration/test_example_project.py holds them as known answers. Every workbook
goes through the template writer, as a partner's would; run this again after a change
of the template and commit the workbooks.

    python scripts/write_example.py [RAW_DIR]
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from decimal import Decimal
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "circular-valleys"

# Partner-periods with no workbook, and the one sent after its deadline.
MISSING = {("P6", "S6"), ("P2", "S8")}
LATE = {("P4", "S3")}
# P7's S2 workbook also reports a CLUSTERIX event type this project does not have, and a
# solution with an uptake Solutions does not list: those two rows are refused, the rest
# of the workbook is used.
FLAWED = ("P7", "S2")

WORKSHOP_HOSTS = {"S1": "P1", "S2": "P2", "S3": "P3", "S4": "P4", "S5": "P5", "S6": "P6"}
WORKSHOP_PARTICIPANTS = {"S1": 30, "S2": 25, "S3": 28, "S4": 32, "S5": 27, "S6": 26}
STUDY_VISITS = [("P2", "S2"), ("P3", "S3"), ("P5", "S4"), ("P7", "S5")]
PEER_REVIEWS = [("P1", "S4"), ("P4", "S5")]
FOLLOW_UP_EVENTS = [("P1", "S7"), ("P3", "S8")]
WITH_INSTRUMENT = ("P1", "P2", "P3", "P4", "P5", "P6")
NO_MEETING = {("P3", "S4")}
EXTRA_MEETING = {("P5", "S2")}

# (partner, ref, title, organisation, identified in, analysed in or None)
PRACTICES = [
    ("P1", "GP1", "Regional repair café network", "Valley Energy Agency", "S1", "S3"),
    ("P1", "GP2", "Biogas from dairy waste", "Alpine Dairy Cooperative", "S2", None),
    ("P2", "GP1", "Construction waste exchange", "Savinja Builders Chamber", "S2", None),
    ("P3", "GP1", "Municipal compost cooperatives", "Drava Compost", "S3", "S5"),
    ("P3", "GP2", "Textile take-back scheme", "Zagreb Textile Hub", "S4", None),
    ("P4", "GP1", "Heat recovery for greenhouses", "Valley Energy Agency", "S3", None),
    ("P6", "GP1", "Irrigation water reuse", "Ebro Water Board", "S2", "S4"),
    ("P7", "GP1", "University circular procurement", "Douro University", "S4", None),
]
# (partner, ref, instrument, planned in, implemented in or None, other funds influenced)
MEASURES = [
    ("P1", "M1", "PI-P1", "S3", "S5", Decimal("250000.00")),
    ("P2", "M1", "PI-P2", "S4", "S6", Decimal("120000.00")),
    ("P3", "M1", "PI-P3a", "S3", "S4", Decimal("400000.00")),
    ("P3", "M2", "PI-P3b", "S5", None, Decimal("80000.00")),
    ("P4", "M1", "PI-P4", "S6", None, Decimal("60000.00")),
    ("P5", "M1", "PI-P5", "S5", "S7", Decimal("95000.00")),
    ("P6", "M1", "PI-P6", "S4", "S5", Decimal("310000.00")),
]

# The project's own Solutions sheet (sheets.yaml): (partner, ref, title, organisation,
# uptake, adopted in, jobs created or None). Each is restated in every later workbook.
SOLUTIONS = [
    ("P1", "SOL1", "Repair café franchise", "Valley Energy Agency", "taken_up", "S4", 3),
    ("P1", "SOL2", "Dairy biogas plant", "Alpine Dairy Cooperative", "up_scaled", "S6", 5),
    ("P3", "SOL1", "Compost cooperative model", "Drava Compost", "up_scaled", "S6", None),
    ("P6", "SOL1", "Water reuse for vineyards", "Ebro Water Board", "taken_up", "S5", 4),
    # Adopted in S8, whose workbook P2 never sent: not counted.
    ("P2", "SOL1", "Builders' waste exchange", "Savinja Builders Chamber", "taken_up", "S8", 2),
]


def _middle(ref, period: str, offset: int = 0) -> dt.date:
    row = ref.period(period)
    return row["start_date"] + dt.timedelta(days=60 + offset)


def _country(ref, partner: str) -> str:
    """The partner's country as partners.yaml gives it last."""
    return ref.partners.loc[ref.partners["partner_id"] == partner, "country"].iloc[-1]


def _event(ref, partner: str, ref_id: str, kind: str, period: str, people: int, offset=0):
    return {
        "event_ref": ref_id,
        "title": f"{kind.replace('_', ' ').capitalize()} {period}",
        "event_type": kind,
        "start_date": _middle(ref, period, offset),
        "format": "in_person",
        "country": _country(ref, partner),
        "participants": people,
    }


def _events(ref, partner: str, period: str) -> list[dict]:
    rows = []
    if WORKSHOP_HOSTS.get(period) == partner:
        rows.append(
            _event(
                ref,
                partner,
                f"WS-{period}",
                "interregional_workshop",
                period,
                WORKSHOP_PARTICIPANTS[period],
            )
        )
    for kind, plan in (
        ("study_visit", STUDY_VISITS),
        ("peer_review", PEER_REVIEWS),
        ("follow_up_event", FOLLOW_UP_EVENTS),
    ):
        if (partner, period) in plan:
            rows.append(_event(ref, partner, f"{kind[:2].upper()}-{period}", kind, period, 15, 7))
    if partner in WITH_INSTRUMENT and (partner, period) not in NO_MEETING:
        meetings = 2 if (partner, period) in EXTRA_MEETING else 1
        for n in range(meetings):
            rows.append(
                _event(
                    ref,
                    partner,
                    f"SG-{period}-{n + 1}",
                    "stakeholder_group_meeting",
                    period,
                    12,
                    14 + 21 * n,
                )
            )
    return rows


def _reached(periods: list[str], period: str, since: str | None) -> bool:
    return since is not None and periods.index(since) <= periods.index(period)


def _practices(ref, partner: str, period: str) -> list[dict]:
    periods = ref.period_ids
    return [
        {
            "practice_ref": gp,
            "title": title,
            "organisation": organisation,
            "country": _country(ref, partner),
            "identified_on": _middle(ref, found),
            "stage": "analysed" if _reached(periods, period, analysed) else "identified",
        }
        for owner, gp, title, organisation, found, analysed in PRACTICES
        if owner == partner and _reached(periods, period, found)
    ]


def _measures(ref, partner: str, period: str) -> list[dict]:
    periods = ref.period_ids
    rows = []
    for owner, m, instrument, planned, implemented, other in MEASURES:
        if owner != partner or not _reached(periods, period, planned):
            continue
        done = _reached(periods, period, implemented)
        rows.append(
            {
                "measure_ref": m,
                "policy_instrument_id": instrument,
                "description": f"Measure {m} of {partner} in {instrument}",
                "status": "implemented" if done else "in_progress",
                "implemented_on": _middle(ref, implemented) if done else None,
                "sf_influenced_eur": Decimal("0.00"),
                "other_funds_influenced_eur": other,
            }
        )
    return rows


def _solutions(ref, partner: str, period: str) -> list[dict]:
    periods = ref.period_ids
    return [
        {
            "solution_ref": sol,
            "title": title,
            "organisation": organisation,
            "uptake": uptake,
            "adopted_on": _middle(ref, adopted),
            "jobs_created": jobs,
        }
        for owner, sol, title, organisation, uptake, adopted, jobs in SOLUTIONS
        if owner == partner and _reached(periods, period, adopted)
    ]


def write_example(raw: Path) -> list[Path]:
    """Write every planned workbook of the example under ``raw`` (one folder per partner)."""
    os.environ["CLUSTERIX_PROJECT_DIR"] = str(EXAMPLE)
    from pipelines.core.outputs.template import write_template
    from pipelines.core.reference.loader import reference

    ref = reference()
    written = []
    for partner, period in ref.expected_submissions():
        if (partner, period) in MISSING:
            continue
        deadline = ref.period(period)["deadline"]
        submitted = deadline + dt.timedelta(days=9 if (partner, period) in LATE else -20)
        events = _events(ref, partner, period)
        solutions = _solutions(ref, partner, period)
        if (partner, period) == FLAWED:
            events.append(_event(ref, partner, "PM-1", "project_meeting", period, 20))
            solutions.append(
                {
                    "solution_ref": "SOL1",
                    "title": "Circular procurement rules",
                    "organisation": "Douro University",
                    "uptake": "adopted",
                    "adopted_on": _middle(ref, period),
                }
            )
        records = {
            "Events": events,
            "GoodPractices": _practices(ref, partner, period),
            "PolicyMeasures": _measures(ref, partner, period),
            "Solutions": solutions,
        }
        written.append(
            write_template(
                partner,
                period,
                raw / partner / f"{period}.xlsx",
                records=records,
                cover={
                    "submitted_on": submitted,
                    "contact_name": f"Monitoring officer {partner}",
                    "contact_email": f"monitoring@{partner.lower()}.example.org",
                },
            )
        )
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLE / "raw"
    print(f"Wrote {len(write_example(target))} workbooks under {target}")
