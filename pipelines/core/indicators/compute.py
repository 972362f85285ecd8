"""Indicators against their targets, their progress, completeness and the stakeholder floor.

The indicators themselves are data (``ref.indicators``): each names one computation
of the closed set in :mod:`pipelines.core.indicators.catalogue` (count the events of a
type, count or sum records, count instruments with records, a mean change, or add up
its children) with its parameters. Every indicator also carries a breakdown whose rows, within one
dimension, add up to the indicator, so a BI tool can slice it without rules of its
own. C1 is the exception: it is a mean of regional % changes, and its breakdown
lists each region's inputs (``base_year``, ``base_value``, ``latest_year``, ``latest_value``) and
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

import pandas as pd

from pipelines.core.indicators.catalogue import condition_value, parse_condition
from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.enumerations import LATE, ON_TIME
from pipelines.core.metadata.table_model import Table
from pipelines.core.metadata.tables import (
    C1_REGIONS,
    INDICATOR_BREAKDOWN,
    INDICATOR_PROGRESS,
    INDICATOR_SCORECARD,
    POLICY_INSTRUMENTS,
    REPORTING_RATES,
    STAKEHOLDER_MEETING_FLOOR,
    SUBMISSION_COMPLETENESS,
    SUBMISSIONS,
)
from pipelines.core.reference.model import Reference
from pipelines.core.state.completeness import submission_statuses
from pipelines.core.state.facts import (
    CENT,
    conform,
    latest_reported_period,
    resolve_facts_up_to,
)

ZERO = Decimal(0)
ONE = Decimal(1)
TENTH = Decimal("0.1")
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
# One function per computation of pipelines.core.indicators.catalogue, each given the
# indicator's row of indicators.csv (checked against the catalogue when loaded).


def _param(definition: Mapping[str, object], name: str) -> str | None:
    value = definition.get(name)
    return None if is_missing(value) else str(value)


def _matching(frame: pd.DataFrame, table: Table, text: str | None) -> pd.DataFrame:
    """The rows of ``frame`` meeting a ``column = value`` filter (all rows without one)."""
    condition = None if text is None else parse_condition(text)
    if condition is None:
        return frame
    value = condition_value(condition, table.column(condition.column))
    return frame[frame[condition.column] == value]


def _records(facts: FactTables, ref: Reference, definition: Mapping[str, object]) -> pd.DataFrame:
    """The records an indicator counts or sums: those meeting its filter, and of a
    consortium-level event reported by several partners only the row that counts, so no
    computation counts one event (or its participants) twice."""
    sheet = str(definition["sheet"])
    rows = facts[sheet]
    if "counted" in rows:
        rows = rows[_flag(rows["counted"])]
    return _matching(rows, ref.fact_table(sheet), _param(definition, "filter"))


def _count_events(facts: FactTables, ref: Reference, definition: Mapping[str, object]) -> Computed:
    events = facts["events"]
    rows = events[(events["event_type"] == definition["event_type"]) & _flag(events["counted"])]
    breakdown = _tally("partner", rows["partner_id"], ref.partner_ids) + _tally(
        "event_period", rows["event_period_id"], ref.period_ids
    )
    return Decimal(len(rows)), breakdown


def _count_records(facts: FactTables, ref: Reference, definition: Mapping[str, object]) -> Computed:
    rows = _records(facts, ref, definition)
    breakdown = _tally("partner", rows["partner_id"], ref.partner_ids)
    column = _param(definition, "breakdown")
    if column is not None:
        listed = ref.fact_table(str(definition["sheet"])).column(column).allowed(ref) or ()
        breakdown += _tally(column, rows[column], tuple(listed))
    return Decimal(len(rows)), breakdown


def _count_distinct(
    facts: FactTables, ref: Reference, definition: Mapping[str, object]
) -> Computed:
    """Distinct values; each is counted for the first partner (in partner order) reporting
    it, so the partner rows add up to the indicator."""
    rows = _records(facts, ref, definition)
    column = str(definition["column"])
    first: dict[object, str] = {}
    order = {p: i for i, p in enumerate(ref.partner_ids)}
    for partner, value in sorted(
        zip(rows["partner_id"], rows[column], strict=True), key=lambda pv: order.get(pv[0], 0)
    ):
        if not is_missing(value):
            first.setdefault(value, partner)
    return Decimal(len(first)), _tally("partner", first.values(), ref.partner_ids)


def _count_instruments_with_records(
    facts: FactTables, ref: Reference, definition: Mapping[str, object]
) -> Computed:
    """Instruments (those meeting instrument_filter) with at least one matching record."""
    instruments = _matching(
        ref.policy_instruments, POLICY_INSTRUMENTS, _param(definition, "instrument_filter")
    )
    improved = set(_records(facts, ref, definition)["policy_instrument_id"])
    hits = [Decimal(i in improved) for i in instruments["policy_instrument_id"]]
    breakdown = _tally("policy_instrument", instruments["policy_instrument_id"], (), hits) + _tally(
        "partner", instruments["partner_id"], (), hits
    )
    return sum(hits, ZERO), breakdown


def _sum(facts: FactTables, ref: Reference, definition: Mapping[str, object]) -> Computed:
    """Sum of one column over the matching records, exact (money to the cent)."""
    rows = _records(facts, ref, definition)
    column = str(definition["column"])
    amounts = [ZERO if is_missing(v) else Decimal(v) for v in rows[column].tolist()]
    instruments = ref.policy_instruments
    if "policy_instrument_id" in rows:
        breakdown = _tally(
            "policy_instrument",
            rows["policy_instrument_id"],
            list(instruments["policy_instrument_id"]),
            amounts,
        ) + _tally("partner", rows["partner_id"], list(instruments["partner_id"]), amounts)
    else:
        breakdown = _tally("partner", rows["partner_id"], ref.partner_ids, amounts)
    total = sum(amounts, ZERO)
    kind = ref.fact_table(str(definition["sheet"])).column(column).kind
    return (total.quantize(CENT) if kind == "decimal" else total), breakdown


def _region_growth(
    by_year: Mapping[int, int], years: tuple[int, int]
) -> tuple[int | None, Decimal | None]:
    """The latest year after the base year, up to the last, a region reported, and its %
    change from the base year.

    The change is None without a base-year figure, without a later year, or when the
    base is 0 (growth from nothing has no percentage).
    """
    base_year, last_year = years
    later = [y for y in by_year if base_year < y <= last_year]
    latest = max(later, default=None)
    base = by_year.get(base_year)
    if latest is None or not base:
        return latest, None
    return latest, Decimal(by_year[latest] - base) * 100 / Decimal(base)


def _mean_change_definition(ref: Reference) -> Mapping[str, object] | None:
    """The project's mean_change indicator (C1 in CLUSTERIX), if it declares one."""
    rows = ref.indicators[ref.indicators["computation"] == "mean_change"]
    return None if rows.empty else rows.iloc[0].to_dict()


def region_change_rows(
    records: pd.DataFrame, ref: Reference, definition: Mapping[str, object]
) -> list[dict[str, object]]:
    """A mean_change's inputs for every partner's region: base-year value, latest year and
    value, % change."""
    column = str(definition["column"])
    years = (int(definition["base_year"]), int(definition["last_year"]))
    rows = []
    # One pass over the rows, not one filter per partner: C1 is computed for every
    # period's progress, and a filter per partner grew with partners x rows.
    by_partner = dict(list(records.groupby("partner_id", sort=False)))
    nothing = records.iloc[0:0]
    for partner in ref.partner_ids:
        mine = by_partner.get(partner, nothing)
        by_year = dict(
            zip([int(y) for y in mine["year"]], [int(v) for v in mine[column]], strict=True)
        )
        latest, change = _region_growth(by_year, years)
        rows.append(
            {
                "partner_id": partner,
                "base_year": years[0],
                "base_value": by_year.get(years[0]),
                "latest_year": latest,
                "latest_value": None if latest is None else by_year[latest],
                "pct_change": None if change is None else change.quantize(CENT, ROUND_HALF_UP),
                "in_c1": change is not None,
                "_change": change,
            }
        )
    return rows


def c1_regions(collaborations: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """One row per region (partner) with the mean_change indicator's inputs (C1_REGIONS);
    no rows when the project declares no such indicator."""
    definition = _mean_change_definition(ref)
    rows = [] if definition is None else region_change_rows(collaborations, ref, definition)
    return conform(pd.DataFrame(rows), C1_REGIONS)


def _mean_change(facts: FactTables, ref: Reference, definition: Mapping[str, object]) -> Computed:
    """Mean over regions of the % change from base_year to their latest year <= last_year.

    The breakdown lists each counted region's % change (dimension ``partner``); the
    inputs, with their own types, are in the ``c1_regions`` table.
    """
    rows = region_change_rows(facts[str(definition["sheet"])], ref, definition)
    counted = [r for r in rows if r["in_c1"]]
    changes = [r["_change"] for r in counted]
    mean = (sum(changes, ZERO) / len(changes)).quantize(CENT, ROUND_HALF_UP) if changes else None
    return mean, [("partner", r["partner_id"], r["pct_change"]) for r in counted]


_COMPUTATIONS: dict[str, Callable[[FactTables, Reference, Mapping[str, object]], Computed]] = {
    "count_events": _count_events,
    "count_records": _count_records,
    "count_distinct": _count_distinct,
    "count_instruments_with_records": _count_instruments_with_records,
    "sum": _sum,
    "mean_change": _mean_change,
}


def _compute_leaf(definition: pd.Series, facts: FactTables, ref: Reference) -> Computed:
    """A leaf indicator's value: its declared computation (the loader checked it is known)."""
    return _COMPUTATIONS[definition["computation"]](facts, ref, definition.to_dict())


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
    (:func:`pipelines.core.indicators.approved.approved_indicators`), shown beside ``achieved``.
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


Achieved = dict[str, Decimal | None]
"""Each indicator's achieved value, by indicator id."""


def achieved_up_to(records: FactTables, ref: Reference, period_id: str) -> Achieved:
    """Every indicator as it stood after ``period_id``'s submissions: facts resolved again
    from the records of the periods up to it, so a figure restated later does not
    rewrite the past."""
    facts = resolve_facts_up_to(records, ref, period_id, with_issues=False)
    return {i: r.achieved for i, r in compute_indicators(facts.tables, ref).items()}


def indicator_progress(
    records: FactTables,
    ref: Reference,
    up_to: str | None = None,
    achieved_of: Callable[[str], Achieved] | None = None,
) -> pd.DataFrame:
    """Each indicator as it stood after each period's submissions (INDICATOR_PROGRESS).

    Periods run from the first to ``up_to`` (default: the latest period any record comes
    from); later periods are left out rather than shown as a flat line nobody reported.
    ``achieved_of`` gives a period's figures (:func:`achieved_up_to` by default; a run
    passes one that reuses the periods whose inputs did not change).
    """
    last = up_to or latest_reported_period(records, ref)
    periods = [] if last is None else ref.period_ids[: ref.period_ids.index(last) + 1]
    figures = achieved_of or (lambda period: achieved_up_to(records, ref, period))
    achieved = {period: figures(period) for period in periods}
    rows = [
        {
            "indicator_id": indicator_id,
            "name": name,
            "unit": unit,
            "period_id": period,
            "achieved": results[indicator_id],
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

    Received means a version is in use. On time means an accepted version
    was submitted by the deadline: a correction sent after the deadline does not make
    a report that arrived in time late. The status comes from
    :func:`pipelines.core.state.completeness.submission_statuses`, the one place that
    decides it (``not_yet_due`` relative to ``as_of``, the run's date, default today).
    """
    seen = conform(submissions, SUBMISSIONS)
    statuses = submission_statuses(seen, ref, as_of or dt.datetime.now(dt.UTC).date())
    current = seen[_flag(seen["current"])]
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


def stakeholder_meeting_floor(
    events: pd.DataFrame, ref: Reference, completeness: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The project's declared meeting floor: events of its type per partner with an
    instrument and period of its phase (no rows when project.yaml declares no floor).

    A meeting counts in the period its start date falls in, whichever period's
    workbook reported it, since the floor is about when partners met stakeholders.
    ``floor_met`` is decided here once for every surface: true when the minimum is
    reached, false when it is not though the partner's workbook for the period is in
    use (per ``completeness``), and empty (unknown) when no workbook of the partner is
    in use for it: a refused or missing workbook may hold the meetings. Without
    ``completeness`` every workbook counts as in use.
    """
    floor = ref.project.floor
    if floor is None:
        return conform(pd.DataFrame(), STAKEHOLDER_MEETING_FLOOR)
    owners = set(ref.policy_instruments["partner_id"])
    partners = [p for p in ref.partner_ids if p in owners]
    periods = ref.periods.loc[ref.periods["phase"] == floor.phase, "period_id"]
    meetings = events[(events["event_type"] == floor.event_type) & _flag(events["counted"])]
    held = Counter(zip(meetings["partner_id"], meetings["event_period_id"], strict=True))
    in_use = None
    if completeness is not None:
        used = completeness[completeness["status"].isin((ON_TIME, LATE))]
        in_use = set(zip(used["partner_id"], used["period_id"], strict=True))

    def met(partner: str, period: str) -> bool | None:
        if held[partner, period] >= floor.minimum:
            return True
        return False if in_use is None or (partner, period) in in_use else None

    rows = [
        {
            "partner_id": partner,
            "period_id": period,
            "meetings": held[partner, period],
            "floor_met": met(partner, period),
        }
        for partner in partners
        for period in periods
    ]
    return conform(pd.DataFrame(rows), STAKEHOLDER_MEETING_FLOOR)


def floor_gaps(floor: pd.DataFrame) -> pd.DataFrame:
    """The partner-periods where the floor is known not to be met (unknown ones aside)."""
    return floor[floor["floor_met"].astype("boolean").eq(False).fillna(False)].reset_index(
        drop=True
    )
