"""Indicators against their targets, their progress, completeness and the stakeholder floor.

The indicators themselves are data (``ref.indicators``): an indicator with an
``event_type`` counts the counted events of that type, one with children adds them
up (O1, O1X), and the few others (O2, R1..R4, C1) have a computation registered in
``_COMPUTATIONS``. Every indicator also carries a breakdown whose rows, within one
dimension, add up to the indicator, so a BI tool can slice it without rules of its
own. C1 is the exception: it is a mean of regional % changes, and its breakdown
lists each region's inputs (``base_2015``, ``latest_year``, ``latest_value``) and
its % change (dimension ``partner``).

All values are Decimal: counts are whole numbers, money is exact to the cent, C1
and the percentages are rounded half up (C1 and its regional changes to 0.01,
percentages of target and reporting rates to 0.1).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

import pandas as pd

from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.fields import PRACTICE_STAGES
from pipelines.core.metadata.tables import (
    C1_REGIONS,
    INDICATOR_BREAKDOWN,
    INDICATOR_PROGRESS,
    INDICATOR_SCORECARD,
    REPORTING_RATES,
    STAKEHOLDER_MEETING_FLOOR,
    SUBMISSION_COMPLETENESS,
    SUBMISSIONS,
)
from pipelines.core.reference.loader import Reference
from pipelines.core.state.completeness import ON_TIME, submission_statuses
from pipelines.core.state.facts import (
    CENT,
    conform,
    latest_reported_period,
    resolve_facts_up_to,
)

ZERO = Decimal(0)
ONE = Decimal(1)
TENTH = Decimal("0.1")
C1_BASE_YEAR = 2015
C1_LAST_YEAR = 2020
STAKEHOLDER_MEETING = "regional_stakeholder_meeting"
FLOOR_PHASE = "1"
NO_CATEGORY = "none"


BreakdownRows = list[tuple[str, str, Decimal]]
Computed = tuple[Decimal | None, BreakdownRows]
FactTables = Mapping[str, pd.DataFrame]


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator's value against its target, with its breakdown.

    ``achieved`` is None only for C1 while no region has both 2015 and a later year:
    a growth of 0 % would be a claim the data does not make.
    ``breakdown`` has the columns dimension, category, achieved.
    """

    indicator_id: str
    name: str
    unit: str
    target: Decimal
    achieved: Decimal | None
    pct_of_target: Decimal | None
    breakdown: pd.DataFrame


def percentage(part: Decimal | None, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal; None when it has no meaning."""
    if part is None or whole == 0:
        return None
    return (part * 100 / whole).quantize(TENTH, ROUND_HALF_UP)


def _tally(
    dimension: str,
    keys: Iterable[object],
    categories: Sequence[str] = (),
    weights: Iterable[Decimal] | None = None,
) -> BreakdownRows:
    """Sum ``weights`` (1 each by default) per key; every listed category appears, 0 if none."""
    keys = list(keys)
    totals = dict.fromkeys(categories, ZERO)
    for key, weight in zip(keys, [ONE] * len(keys) if weights is None else weights, strict=True):
        label = NO_CATEGORY if is_missing(key) else str(key)
        totals[label] = totals.get(label, ZERO) + weight
    return [(dimension, category, value) for category, value in totals.items()]


def _flag(series: pd.Series) -> pd.Series:
    """A boolean column as plain bools, empty values being False."""
    return series.astype("boolean").fillna(False).astype(bool)


# --- leaf computations -------------------------------------------------------------


def _events_of_type(facts: FactTables, ref: Reference, event_type: str) -> Computed:
    events = facts["events"]
    rows = events[(events["event_type"] == event_type) & _flag(events["counted"])]
    breakdown = _tally("partner", rows["partner_id"], ref.partner_ids) + _tally(
        "event_period", rows["event_period_id"], ref.period_ids
    )
    return Decimal(len(rows)), breakdown


def _good_practices(facts: FactTables, ref: Reference) -> Computed:
    practices = facts["good_practices"]
    breakdown = _tally("partner", practices["partner_id"], ref.partner_ids) + _tally(
        "stage", practices["stage"], PRACTICE_STAGES
    )
    return Decimal(len(practices)), breakdown


def _implemented(facts: FactTables) -> pd.DataFrame:
    measures = facts["policy_measures"]
    return measures[measures["status"] == "implemented"]


def _instruments_improved(facts: FactTables, ref: Reference, sf_linked: bool) -> Computed:
    """Instruments of one kind (SF-linked or not) with at least one implemented measure."""
    instruments = ref.policy_instruments[_flag(ref.policy_instruments["sf_linked"]) == sf_linked]
    improved = set(_implemented(facts)["policy_instrument_id"])
    hits = [Decimal(i in improved) for i in instruments["policy_instrument_id"]]
    breakdown = _tally("policy_instrument", instruments["policy_instrument_id"], (), hits) + _tally(
        "partner", instruments["partner_id"], (), hits
    )
    return sum(hits, ZERO), breakdown


def _funds_influenced(facts: FactTables, ref: Reference, column: str) -> Computed:
    """Sum of one amount column over implemented measures, exact to the cent."""
    implemented = _implemented(facts)
    amounts = implemented[column].tolist()
    instruments = ref.policy_instruments
    breakdown = _tally(
        "policy_instrument",
        implemented["policy_instrument_id"],
        list(instruments["policy_instrument_id"]),
        amounts,
    ) + _tally("partner", implemented["partner_id"], list(instruments["partner_id"]), amounts)
    return sum(amounts, ZERO).quantize(CENT), breakdown


def _region_growth(by_year: Mapping[int, int]) -> tuple[int | None, Decimal | None]:
    """The latest year in 2016..2020 a region reported and its % change from 2015.

    The change is None without a 2015 figure, without a later year, or when 2015 is 0
    (growth from nothing has no percentage).
    """
    later = [y for y in by_year if C1_BASE_YEAR < y <= C1_LAST_YEAR]
    latest = max(later, default=None)
    base = by_year.get(C1_BASE_YEAR)
    if latest is None or not base:
        return latest, None
    return latest, Decimal(by_year[latest] - base) * 100 / Decimal(base)


def c1_region_rows(collaborations: pd.DataFrame, ref: Reference) -> list[dict[str, object]]:
    """C1's inputs for every partner's region: 2015 base, latest year and value, % change."""
    rows = []
    # One pass over the rows, not one filter per partner: C1 is computed for every
    # period's progress, and a filter per partner grew with partners x rows.
    by_partner = dict(list(collaborations.groupby("partner_id", sort=False)))
    nothing = collaborations.iloc[0:0]
    for partner in ref.partner_ids:
        mine = by_partner.get(partner, nothing)
        by_year = dict(
            zip(
                [int(y) for y in mine["year"]],
                [int(v) for v in mine["company_research_collaborations"]],
                strict=True,
            )
        )
        latest, change = _region_growth(by_year)
        rows.append(
            {
                "partner_id": partner,
                "base_2015": by_year.get(C1_BASE_YEAR),
                "latest_year": latest,
                "latest_value": None if latest is None else by_year[latest],
                "pct_change": None if change is None else change.quantize(CENT, ROUND_HALF_UP),
                "in_c1": change is not None,
                "_change": change,
            }
        )
    return rows


def c1_regions(collaborations: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """One row per region (partner) with C1's inputs (C1_REGIONS)."""
    return conform(pd.DataFrame(c1_region_rows(collaborations, ref)), C1_REGIONS)


def _collaboration_growth(facts: FactTables, ref: Reference) -> Computed:
    """C1: mean over regions of the % change from 2015 to their latest year <= 2020.

    The breakdown lists each counted region's % change (dimension ``partner``); the
    inputs, with their own types, are in the ``c1_regions`` table.
    """
    counted = [r for r in c1_region_rows(facts["collaborations"], ref) if r["in_c1"]]
    changes = [r["_change"] for r in counted]
    mean = (sum(changes, ZERO) / len(changes)).quantize(CENT, ROUND_HALF_UP) if changes else None
    return mean, [("partner", r["partner_id"], r["pct_change"]) for r in counted]


_COMPUTATIONS: dict[str, Callable[[FactTables, Reference], Computed]] = {
    "O2": _good_practices,
    "R1": partial(_instruments_improved, sf_linked=True),
    "R2": partial(_instruments_improved, sf_linked=False),
    "R3": partial(_funds_influenced, column="sf_influenced_eur"),
    "R4": partial(_funds_influenced, column="other_funds_influenced_eur"),
    "C1": _collaboration_growth,
}


def _compute_leaf(definition: pd.Series, facts: FactTables, ref: Reference) -> Computed:
    indicator_id = definition["indicator_id"]
    if not is_missing(definition["event_type"]):
        return _events_of_type(facts, ref, definition["event_type"])
    if indicator_id in _COMPUTATIONS:
        return _COMPUTATIONS[indicator_id](facts, ref)
    raise ValueError(
        f"indicator {indicator_id} has no event_type, no children and no computation"
        " in pipelines.core.indicators.compute"
    )


def _sum_of_children(children: Sequence[IndicatorResult]) -> Computed:
    """A parent indicator: its children added up, overall and per breakdown category."""
    totals: dict[tuple[str, str], Decimal] = {}
    for child in children:
        for dimension, category, achieved in child.breakdown.itertuples(index=False):
            totals[dimension, category] = totals.get((dimension, category), ZERO) + achieved
    by_child = [("indicator", c.indicator_id, c.achieved or ZERO) for c in children]
    breakdown = by_child + [(d, c, v) for (d, c), v in totals.items()]
    return sum((value for _, _, value in by_child), ZERO), breakdown


def _result(definition: pd.Series, computed: Computed) -> IndicatorResult:
    achieved, breakdown = computed
    return IndicatorResult(
        indicator_id=definition["indicator_id"],
        name=definition["name"],
        unit=definition["unit"],
        target=definition["target"],
        achieved=achieved,
        pct_of_target=percentage(achieved, definition["target"]),
        breakdown=pd.DataFrame(breakdown, columns=["dimension", "category", "achieved"]),
    )


def compute_indicators(facts: FactTables, ref: Reference) -> dict[str, IndicatorResult]:
    """Every indicator of ``ref.indicators`` from the current facts, in reference order."""
    definitions = [row for _, row in ref.indicators.iterrows()]
    parents = {
        d["parent_indicator_id"] for d in definitions if not is_missing(d["parent_indicator_id"])
    }
    results = {
        d["indicator_id"]: _result(d, _compute_leaf(d, facts, ref))
        for d in definitions
        if d["indicator_id"] not in parents
    }
    for d in definitions:
        if d["indicator_id"] in parents:
            children = [
                results[c["indicator_id"]]
                for c in definitions
                if c["parent_indicator_id"] == d["indicator_id"]
            ]
            results[d["indicator_id"]] = _result(d, _sum_of_children(children))
    return {d["indicator_id"]: results[d["indicator_id"]] for d in definitions}


# --- indicator tables --------------------------------------------------------------


def indicator_scorecard(
    results: Mapping[str, IndicatorResult],
    approved: Mapping[str, IndicatorResult] | None = None,
) -> pd.DataFrame:
    """One row per indicator: target, achieved and % of target (INDICATOR_SCORECARD).

    ``approved`` are the same indicators computed from approved partner-periods only
    (:func:`pipelines.core.state.review.approved_indicators`), shown beside ``achieved``.
    """
    rows = [
        {
            "indicator_id": r.indicator_id,
            "name": r.name,
            "unit": r.unit,
            "target": r.target,
            "achieved": r.achieved,
            "pct_of_target": r.pct_of_target,
            "achieved_approved": approved[r.indicator_id].achieved if approved else None,
        }
        for r in results.values()
    ]
    return conform(pd.DataFrame(rows), INDICATOR_SCORECARD)


def indicator_breakdown(results: Mapping[str, IndicatorResult]) -> pd.DataFrame:
    """Every indicator's breakdown in one long table (INDICATOR_BREAKDOWN)."""
    frames = [
        r.breakdown.assign(indicator_id=r.indicator_id, name=r.name, unit=r.unit)
        for r in results.values()
    ]
    return conform(
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(), INDICATOR_BREAKDOWN
    )


def indicator_progress(
    records: FactTables, ref: Reference, up_to: str | None = None
) -> pd.DataFrame:
    """Each indicator as it stood after each period's submissions (INDICATOR_PROGRESS).

    Facts are resolved again from the records of the periods up to each one, so a
    figure restated later does not rewrite the past. Periods run from the first to
    ``up_to`` (default: the latest period any record comes from); later periods are
    left out rather than shown as a flat line nobody reported.
    """
    last = up_to or latest_reported_period(records, ref)
    periods = [] if last is None else ref.period_ids[: ref.period_ids.index(last) + 1]
    achieved = {
        period: compute_indicators(
            resolve_facts_up_to(records, ref, period, with_issues=False).tables, ref
        )
        for period in periods
    }
    rows = [
        {
            "indicator_id": indicator_id,
            "name": name,
            "unit": unit,
            "period_id": period,
            "achieved": results[indicator_id].achieved,
        }
        for indicator_id, name, unit in ref.indicators[["indicator_id", "name", "unit"]].itertuples(
            index=False
        )
        for period, results in achieved.items()
    ]
    return conform(pd.DataFrame(rows), INDICATOR_PROGRESS)


# --- submissions -------------------------------------------------------------------


def submission_completeness(
    submissions: pd.DataFrame, ref: Reference, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Every partner x period: expected, received, on time and one status.

    Received means an accepted version is current. On time means an accepted version
    was submitted by the deadline: a correction sent after the deadline does not make
    a report that arrived in time late. The status comes from
    :func:`pipelines.core.state.completeness.submission_statuses`, the one place that
    decides it (``not_yet_due`` relative to ``as_of``, the run's date, default today).
    """
    seen = conform(submissions, SUBMISSIONS)
    statuses = submission_statuses(seen, ref, as_of or dt.datetime.now(dt.UTC).date())
    accepted = seen[seen["status"] == "accepted"]
    current = accepted[_flag(accepted["current"])]
    received = set(zip(current["partner_id"], current["period_id"], strict=True))
    pairs = zip(seen["partner_id"], seen["period_id"], strict=True)
    reviewed = dict(zip(pairs, seen["review_status"], strict=True))
    status = dict(
        zip(
            zip(statuses["partner_id"], statuses["period_id"], strict=True),
            statuses["status"],
            strict=True,
        )
    )
    rows = []
    for partner in ref.partner_ids:
        for period in ref.period_ids:
            state = status[partner, period]
            rows.append(
                {
                    "partner_id": partner,
                    "period_id": period,
                    "expected": int(ref.takes_part(partner, period)),
                    "received": int((partner, period) in received),
                    "on_time": state == ON_TIME,
                    "status": state,
                    "review_status": reviewed.get((partner, period)),
                }
            )
    return conform(pd.DataFrame(rows), SUBMISSION_COMPLETENESS)


def _rates_row(dimension: str, category: str, rows: pd.DataFrame) -> dict[str, object]:
    expected = int(rows["expected"].sum())
    return {
        "dimension": dimension,
        "category": category,
        "expected": expected,
        "received": int(rows["received"].sum()),
        "reporting_rate": percentage(Decimal(int(rows["received"].sum())), Decimal(expected)),
        "on_time_rate": percentage(Decimal(int(_flag(rows["on_time"]).sum())), Decimal(expected)),
    }


def reporting_rates(completeness: pd.DataFrame) -> pd.DataFrame:
    """Reporting and on-time rates for the project, per partner and per period."""
    if completeness.empty:
        return conform(pd.DataFrame(), REPORTING_RATES)
    rows = [_rates_row("project", "all", completeness)]
    for dimension, column in (("partner", "partner_id"), ("period", "period_id")):
        for category, group in completeness.groupby(column, sort=False):
            rows.append(_rates_row(dimension, category, group))
    return conform(pd.DataFrame(rows), REPORTING_RATES)


def overall_reporting_rate(completeness: pd.DataFrame) -> Decimal | None:
    """Workbooks received as a percentage of those expected (None if none expected)."""
    return percentage(
        Decimal(int(completeness["received"].sum())), Decimal(int(completeness["expected"].sum()))
    )


# --- stakeholder floor -------------------------------------------------------------


def stakeholder_meeting_floor(events: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Regional stakeholder meetings per partner with an instrument and phase-1 semester.

    A meeting counts in the semester its start date falls in, whichever period's
    workbook reported it, since the floor is about when partners met stakeholders.
    """
    owners = set(ref.policy_instruments["partner_id"])
    partners = [p for p in ref.partner_ids if p in owners]
    semesters = ref.periods.loc[ref.periods["phase"] == FLOOR_PHASE, "period_id"]
    meetings = events[(events["event_type"] == STAKEHOLDER_MEETING) & _flag(events["counted"])]
    held = Counter(zip(meetings["partner_id"], meetings["event_period_id"], strict=True))
    rows = [
        {
            "partner_id": partner,
            "period_id": period,
            "meetings": held[partner, period],
            "floor_met": held[partner, period] >= 1,
        }
        for partner in partners
        for period in semesters
    ]
    return conform(pd.DataFrame(rows), STAKEHOLDER_MEETING_FLOOR)


def floor_gaps(floor: pd.DataFrame) -> pd.DataFrame:
    """The partner-semesters where the stakeholder-meeting floor is not met."""
    return floor[~_flag(floor["floor_met"])].reset_index(drop=True)
