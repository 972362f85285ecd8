"""Current facts: the latest reported row per natural key, events flagged for counting.

A period's workbook may restate events, practices, measures and figures reported
before (a corrected figure, a practice moved to a later stage). SPEC section 5
therefore makes the row of the *latest* reporting period win for every natural key,
and never sums a key's rows across periods; a key a later workbook leaves out keeps
its last reported row. Consortium-level events (one meeting of the whole project) are often
reported by several partners; they stay in the table but only the first report is
``counted``, and every other one gets a warning so the partner can check it. Refs of
one partner that differ only in case, spaces or punctuation ('EV-001', 'ev 001') are
kept as the distinct keys they are, with a warning, since they usually are one record.

The input is the validated ``records`` of the current accepted workbook version of
every partner-period, one frame per fact table, with the fact table's columns except
the derived ones (:func:`record_columns`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from pipelines.core.intake.issues import issues_frame, make_issue
from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.fields import Field
from pipelines.core.metadata.tables import (
    EVENTS,
    EVENTS_SHEET,
    POLICY_MEASURES,
    Table,
)
from pipelines.core.reference.model import Reference

CENT = Decimal("0.01")
DUPLICATE_RULE = "probable_duplicate"
DERIVED_EVENT_COLUMNS = ("event_period_id", "event_phase", "counted")
# Derived here for every fact table, from all the records of a key or from a date.
DERIVED_COLUMNS = ("first_reported_period_id", "implemented_period_id", *DERIVED_EVENT_COLUMNS)


@dataclass(frozen=True)
class Facts:
    """The current fact tables (keyed by table name) and the warnings resolving raised."""

    tables: dict[str, pd.DataFrame]
    issues: pd.DataFrame


def record_columns(table: Table) -> list[str]:
    """Columns the ingest provides for a fact table: all but the ones derived here."""
    return [name for name in table.column_names if name not in DERIVED_COLUMNS]


def _utc(value: object) -> dt.datetime:
    """A moment as a timezone-aware UTC datetime (ISO text without a zone is UTC)."""
    moment = pd.Timestamp(value)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return moment.to_pydatetime()


def _typed_values(values: Iterable[object], field: Field) -> pd.Series:
    """Values in the pipeline's in-memory form of the field's kind (None when empty)."""
    cleaned = [None if is_missing(v) else v for v in values]
    if field.kind == "decimal":
        cleaned = [None if v is None else Decimal(v).quantize(CENT, ROUND_HALF_UP) for v in cleaned]
    if field.kind == "timestamp":
        cleaned = [None if v is None else _utc(v) for v in cleaned]
    if field.kind in ("string", "decimal", "date", "timestamp"):
        return pd.Series(cleaned, dtype=object, name=field.name)
    return pd.Series(cleaned, dtype=field.pandas_dtype, name=field.name)


def conform(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Exactly ``table``'s columns, in order, typed as its fields say, on a fresh index.

    Strings and dates become plain objects with None for empty cells (not pandas'
    string dtype with NaN) and money becomes Decimal quantized to the cent, so the
    frame passes the generated Pandera schema and writes to Parquet unchanged.
    """
    size = len(frame)
    return pd.DataFrame(
        {
            f.name: _typed_values(frame[f.name].tolist() if f.name in frame else [None] * size, f)
            for f in table.columns
        },
        columns=table.column_names,
    )


def _period_rank(periods: pd.Series, ref: Reference) -> pd.Series:
    rank = {period: i for i, period in enumerate(ref.period_ids)}
    ranks = periods.map(rank)
    unknown = sorted(set(periods[ranks.isna()].astype(str)))
    if unknown:
        raise ValueError(f"records from unknown reporting periods: {', '.join(unknown)}")
    return ranks.astype(int)


def _latest_per_key(frame: pd.DataFrame, table: Table, ref: Reference) -> pd.DataFrame:
    """Keep, for every natural key, the row from the latest reporting period.

    The row also records the earliest period that reported the key
    (``first_reported_period_id``), which the winning row alone would lose.
    """
    key = list(table.primary_key)
    ranked = frame.assign(_rank=_period_rank(frame["period_id"], ref))
    ranked = ranked.sort_values("_rank", kind="stable")
    first = ranked.drop_duplicates(key, keep="first")[[*key, "period_id"]]
    latest = ranked.drop_duplicates(key, keep="last").drop(columns="_rank")
    if "first_reported_period_id" in latest:
        latest = latest.drop(columns="first_reported_period_id")
    first = first.rename(columns={"period_id": "first_reported_period_id"})
    return latest.merge(first, on=key, how="left", validate="one_to_one")


def _with_implemented_periods(measures: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Add the period each implemented measure's ``implemented_on`` falls in."""
    return measures.assign(
        implemented_period_id=[
            None if is_missing(day) else ref.period_of(day)[0] for day in measures["implemented_on"]
        ]
    )


def _in_partner_order(frame: pd.DataFrame, table: Table, ref: Reference) -> pd.DataFrame:
    """Rows ordered by partner (as in the reference data), then by the natural key."""
    rank = {partner: i for i, partner in enumerate(ref.partner_ids)}
    ordered = frame.assign(_partner=frame["partner_id"].map(rank).fillna(len(rank)))
    keys = ["_partner", *table.primary_key[1:]]
    return ordered.sort_values(keys, kind="stable").drop(columns="_partner")


def _with_event_periods(events: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Add the period and phase each event's start date falls in."""
    located = {day: ref.period_of(day) for day in set(events["start_date"].dropna())}
    periods = [located.get(day, (None, None)) for day in events["start_date"]]
    return events.assign(
        event_period_id=[period for period, _ in periods],
        event_phase=[phase for _, phase in periods],
    )


def _duplicate_issue(
    row: Mapping[str, Any], keeper: Mapping[str, Any], ref: Reference
) -> dict[str, Any]:
    if keeper["partner_id"] == row["partner_id"]:
        reported = f"is also in your report as event_ref {keeper['event_ref']}"
    else:
        reported = f"is also reported by {keeper['partner_id']} (event_ref {keeper['event_ref']})"
    return make_issue(
        DUPLICATE_RULE,
        row,
        sheet=EVENTS_SHEET.name,
        row=row["row"],
        record_ref=row["event_ref"],
        value=row["start_date"],
        ref=ref,
        event_type=row["event_type"],
        reported=reported,
    )


def _count_consortium_events_once(
    events: pd.DataFrame, ref: Reference
) -> tuple[pd.DataFrame, list[dict]]:
    """Flag ``counted`` and warn about repeated consortium-level events.

    ``events`` must already be in partner order, then event_ref order: the first row
    of each (event_type, start_date) group keeps counting, which makes the choice
    stable from one run to the next. The same partner reporting one consortium
    meeting under two refs is treated like two partners reporting it.
    """
    rows = events.to_dict("records")
    consortium = ref.consortium_event_types()
    keepers: dict[tuple[str, dt.date], Mapping[str, Any]] = {}
    counted, issues = [], []
    for row in rows:
        key = (row["event_type"], row["start_date"])
        keeper = keepers.setdefault(key, row) if row["event_type"] in consortium else row
        counted.append(keeper is row)
        if keeper is not row:
            issues.append(_duplicate_issue(row, keeper, ref))
    return events.assign(counted=counted), issues


def _loose(ref: object) -> str:
    """A ref with case, spaces and punctuation dropped: 'EV-001', 'ev 001', 'EV_001' agree."""
    return "".join(ch for ch in str(ref).casefold() if ch.isalnum())


def _near_duplicate_refs(current: pd.DataFrame, table: Table, ref: Reference) -> list[dict]:
    """Warn about a partner's refs that differ only in case, spaces or punctuation.

    Such refs are different natural keys, so both rows are counted; most often they are
    one record spelt two ways in two periods. The earliest reported row is taken as the
    spelling to keep and every other spelling is flagged, on its own row and file.
    """
    key = table.primary_key[-1]
    if table.column(key).kind != "string" or current.empty:
        return []
    ranked = current.assign(
        _rank=_period_rank(current["period_id"], ref), _loose=current[key].map(_loose)
    ).sort_values(["_rank", "row"], kind="stable")
    issues = []
    for _, group in ranked.groupby(["partner_id", "_loose"], sort=False):
        if len(group) < 2:
            continue
        first, *others = group.to_dict("records")
        for row in others:
            issues.append(
                make_issue(
                    "near_duplicate_ref",
                    row,
                    sheet=_sheet_of(table, ref),
                    row=row["row"],
                    column=key,
                    value=row[key],
                    ref=ref,
                    record_ref=row[key],
                    other_ref=first[key],
                    other_period=first["period_id"],
                )
            )
    return issues


def _sheet_of(table: Table, ref: Reference) -> str:
    """The workbook sheet a fact table's rows come from."""
    return next(sheet.name for sheet in ref.record_sheets if sheet.table == table.name)


def _records_frame(records: Mapping[str, pd.DataFrame], table: Table) -> pd.DataFrame:
    """The table's records; an absent or empty frame stands for no rows at all."""
    frame = records.get(table.name)
    if frame is None or frame.empty:
        return pd.DataFrame(columns=record_columns(table))
    return frame


def resolve_facts(
    records: Mapping[str, pd.DataFrame], ref: Reference, *, with_issues: bool = True
) -> Facts:
    """The current fact tables after SPEC section 5, each conforming to its Table.

    ``with_issues=False`` leaves the issues out, for callers that want the figures
    only (the progress of each period): finding near-duplicate refs is half the work.
    """
    tables = {}
    issues: list[dict] = []
    for table in ref.fact_tables:
        latest = _latest_per_key(_records_frame(records, table), table, ref)
        current = _in_partner_order(latest, table, ref)
        if with_issues:
            issues += _near_duplicate_refs(current, table, ref)
        if table is EVENTS:
            current, duplicates = _count_consortium_events_once(
                _with_event_periods(current, ref), ref
            )
            issues += duplicates if with_issues else []
        if table is POLICY_MEASURES:
            current = _with_implemented_periods(current, ref)
        tables[table.name] = conform(current, table)
    return Facts(tables=tables, issues=issues_frame(issues))


def records_up_to(
    records: Mapping[str, pd.DataFrame], ref: Reference, period_id: str
) -> dict[str, pd.DataFrame]:
    """Only the records reported in ``period_id`` or an earlier period."""
    if period_id not in ref.period_ids:
        raise ValueError(f"unknown reporting period: {period_id}")
    last = ref.period_ids.index(period_id)
    frames = {table.name: _records_frame(records, table) for table in ref.fact_tables}
    return {
        name: frame[_period_rank(frame["period_id"], ref) <= last] for name, frame in frames.items()
    }


def resolve_facts_up_to(
    records: Mapping[str, pd.DataFrame], ref: Reference, period_id: str, *, with_issues: bool = True
) -> Facts:
    """The facts as they stood once the workbooks of ``period_id`` were in."""
    return resolve_facts(records_up_to(records, ref, period_id), ref, with_issues=with_issues)


def latest_reported_period(records: Mapping[str, pd.DataFrame], ref: Reference) -> str | None:
    """The latest reporting period any record comes from (None when there is none)."""
    reported = {p for frame in records.values() for p in frame.get("period_id", [])}
    return next((p for p in reversed(ref.period_ids) if p in reported), None)
