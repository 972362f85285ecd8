"""Partner workbooks written for real by the template code, and rows that pass every rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from pipelines.core.outputs.template import write_template

GOOD_EVENT = {
    "event_ref": "EV-1",
    "title": "Regional stakeholder meeting on cluster partnerships",
    "event_type": "regional_stakeholder_meeting",
    "start_date": dt.date(2019, 5, 20),
    "format": "in_person",
    "city": "Bucharest",
    "country": "RO",
    "participants": 30,
}
GOOD_PRACTICE = {
    "practice_ref": "GP-1",
    "title": "Cluster voucher scheme",
    "country": "RO",
    "identified_on": dt.date(2019, 6, 1),
    "stage": "identified",
}
GOOD_MEASURE = {
    "measure_ref": "M-1",
    "policy_instrument_id": "PI-P4",
    "description": "New call for cross-sector cluster projects",
    "status": "implemented",
    "implemented_on": dt.date(2019, 9, 1),
    "sf_influenced_eur": Decimal("1000.50"),
    "other_funds_influenced_eur": Decimal("0"),
}
GOOD_COLLABORATION = {"year": 2019, "company_research_collaborations": 120}
GOOD_ROWS = {
    "Events": GOOD_EVENT,
    "GoodPractices": GOOD_PRACTICE,
    "PolicyMeasures": GOOD_MEASURE,
    "Collaborations": GOOD_COLLABORATION,
}


def event_row(ref, kind, day, **more):
    """An Events row of a given type and day, for story-like tests of whole runs."""
    row = {
        "event_ref": ref,
        "title": f"{kind} {ref}",
        "event_type": kind,
        "start_date": day,
        "format": "in_person",
        "country": "AT",
        "participants": 20,
    }
    return {**row, **more}


def measure_row(ref, instrument, status, sf, other, implemented_on=None):
    return {
        "measure_ref": ref,
        "policy_instrument_id": instrument,
        "description": "measure",
        "status": status,
        "implemented_on": implemented_on,
        "sf_influenced_eur": Decimal(sf),
        "other_funds_influenced_eur": Decimal(other),
    }


def practice_row(stage):
    return {
        "practice_ref": "GP-1",
        "title": "Voucher",
        "country": "AT",
        "identified_on": dt.date(2016, 7, 1),
        "stage": stage,
    }


def make_workbook(
    raw_dir: Path,
    partner_id: str,
    period_id: str,
    records: Mapping[str, Sequence[Mapping[str, object]]] | None = None,
    *,
    cover: Mapping[str, object] | None = None,
    suffix: str = ".xlsx",
) -> Path:
    """A partner workbook in its place under ``raw_dir``, written by the template code."""
    path = raw_dir / partner_id / f"{period_id}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    cover = {"submitted_on": dt.date(2020, 4, 15), "contact_name": "Test", **(cover or {})}
    return write_template(partner_id, period_id, path, records=records or {}, cover=cover)
