"""Row-level validation of the record sheets: one generated Pandera schema per sheet.

The frame a schema sees holds the sheet's columns already parsed once (see
:mod:`pipelines.core.intake.parsing`) plus context columns, prefixed with ``_``, that say
where each row comes from: its workbook, partner, period, submission date and
spreadsheet row. Many workbooks are validated in one pass; the lazy validation
collects every failure, and :func:`validate_sheet` turns them into issue rows.

The column checks (kind, nullability, enumerations, ranges, look-ups) are generated
from the field registry by :func:`pipelines.core.metadata.schemas.sheet_schema`, as the published
tables' are; only the rules across columns are written here, each named after its rule.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from pipelines.core.intake.issues import issues_frame, make_issue
from pipelines.core.intake.parsing import finalise_column, is_invalid, parse_column
from pipelines.core.metadata.fields import BACK_TO_BACK_ACTIVITIES
from pipelines.core.metadata.rules import PANDERA_CHECK_RULES, RULES
from pipelines.core.metadata.schemas import RowCheck, sheet_schema
from pipelines.core.metadata.sheets import CONTEXT, SOURCE
from pipelines.core.metadata.tables import (
    COLLABORATIONS_SHEET,
    EVENTS_SHEET,
    MEASURES_SHEET,
    PRACTICES_SHEET,
    Sheet,
)
from pipelines.core.reference.model import Reference

ProjectRowCheck = Callable[[pd.DataFrame, Reference], pd.Series]
"""A rule across columns: True for each row that passes, given the project it is about."""


def _valid(series: pd.Series) -> pd.Series:
    """Cells that hold a parsed value (neither empty nor of the wrong type)."""
    return series.map(lambda v: v is not None and not is_invalid(v))


# --- row checks shared by several sheets -----------------------------------------------


def _dates_ok(df: pd.DataFrame, *columns: str) -> pd.Series:
    return pd.concat([_valid(df[c]) for c in columns], axis=1).all(axis=1)


def _not_after_submission(df: pd.DataFrame, column: str) -> pd.Series:
    ok = _dates_ok(df, column) & df["_submitted_on"].notna()
    later = (
        df[column]
        .where(ok, None)
        .combine(df["_submitted_on"], lambda d, s: d is not None and s is not None and d > s)
    )
    return ~later.astype(bool)


def _not_in_gap(df: pd.DataFrame, column: str, ref: Reference) -> pd.Series:
    ok = _dates_ok(df, column)
    in_gap = ref.in_gap
    return ~(ok & df[column].where(ok, None).map(lambda d: d is not None and in_gap(d)))


def _unique_ref(df: pd.DataFrame, ref: str) -> pd.Series:
    valid = _valid(df[ref])
    # Per file, not per bytes: two identical files in one batch are each their own workbook.
    keys = df["_file"].astype(str) + "\x00" + df[ref].map(str)
    return ~(valid & keys.duplicated(keep=False))


# --- the rules across columns, per sheet (the column rules come from the fields) --------


def _unique(key: str) -> tuple[str, ProjectRowCheck]:
    return (f"duplicate_ref:{key}", lambda df, _ref: _unique_ref(df, key))


def _submitted_after(column: str) -> tuple[str, ProjectRowCheck]:
    return (
        f"date_after_submission:{column}",
        lambda df, _ref: _not_after_submission(df, column),
    )


def _outside_gap(column: str) -> tuple[str, ProjectRowCheck]:
    return (f"date_in_gap:{column}", lambda df, ref: _not_in_gap(df, column, ref))


def _end_after_start(df: pd.DataFrame, _ref: Reference) -> pd.Series:
    ok = _dates_ok(df, "start_date", "end_date")
    return ~ok | (df["end_date"].where(ok, dt.date.min) >= df["start_date"].where(ok, dt.date.min))


def _hosting(df: pd.DataFrame, ref: Reference) -> pd.Series:
    """Rows whose event type hosts a guest partner (event_types.csv, hosts_guest_partner)."""
    return df["event_type"].isin(ref.event_types_with("hosts_guest_partner"))


def _guest_named(df: pd.DataFrame, ref: Reference) -> pd.Series:
    return ~(_hosting(df, ref) & df["guest_partner_id"].isna())


def _guest_is_another_partner(df: pd.DataFrame, ref: Reference) -> pd.Series:
    return ~(_hosting(df, ref) & (df["guest_partner_id"] == df["_partner_id"]))


def _within_reporting_period(df: pd.DataFrame, ref: Reference) -> pd.Series:
    periods = ref.periods.set_index("period_id")
    ok = _dates_ok(df, "start_date") & df["_period_id"].isin(periods.index)
    starts = df["_period_id"].map(periods["start_date"]).where(ok, None)
    ends = df["_period_id"].map(periods["end_date"]).where(ok, None)
    inside = [
        not flag or s <= d <= e
        for flag, d, s, e in zip(ok, df["start_date"], starts, ends, strict=True)
    ]
    return pd.Series(inside, index=df.index)


def _type_in_its_phase(df: pd.DataFrame, ref: Reference) -> pd.Series:
    phases = ref.event_phases()
    ok = _dates_ok(df, "start_date") & df["event_type"].isin(phases)
    fits = []
    for flag, kind, day in zip(ok, df["event_type"], df["start_date"], strict=True):
        phase = ref.period_of(day)[1] if flag else None
        fits.append(phase is None or phase in phases[kind])
    return pd.Series(fits, index=df.index)


def _no_longer_than_its_type_allows(df: pd.DataFrame, ref: Reference) -> pd.Series:
    limits = {t: ref.max_days(t) for t in ref.event_type_ids}
    ok = _dates_ok(df, "start_date", "end_date") & df["event_type"].map(limits).notna()
    fits = [
        not flag or (end - start).days + 1 <= limits[kind]
        for flag, kind, start, end in zip(
            ok, df["event_type"], df["start_date"], df["end_date"], strict=True
        )
    ]
    return pd.Series(fits, index=df.index)


def _back_to_back_where_allowed(df: pd.DataFrame, ref: Reference) -> pd.Series:
    allowed = ref.event_types_with("back_to_back_allowed")
    return df["back_to_back"].isna() | df["event_type"].isin(allowed)


def _own_instrument(df: pd.DataFrame, ref: Reference) -> pd.Series:
    owner = df["policy_instrument_id"].map(ref.instrument_owners())
    return df["policy_instrument_id"].isna() | (owner == df["_partner_id"])


def _sf_only_on_sf_instruments(df: pd.DataFrame, ref: Reference) -> pd.Series:
    linked = df["policy_instrument_id"].map(ref.instrument_sf_linked())
    positive = _valid(df["sf_influenced_eur"]) & df["sf_influenced_eur"].map(
        lambda v: not is_invalid(v) and v is not None and v > 0
    )
    return ~(positive & linked.eq(False))


def _implemented_has_date(df: pd.DataFrame, _ref: Reference) -> pd.Series:
    return ~((df["status"] == "implemented") & df["implemented_on"].isna())


def _known_activities(series: pd.Series) -> pd.Series:
    allowed = set(BACK_TO_BACK_ACTIVITIES)
    return series.map(
        lambda v: v is None or all(t.strip() in allowed for t in str(v).split(";") if t.strip())
    )


COLUMN_CHECKS: dict[str, dict[str, list[pa.Check]]] = {
    EVENTS_SHEET.name: {
        "back_to_back": [pa.Check(_known_activities, name="unknown_back_to_back_activity")]
    },
}
ROW_CHECKS: dict[str, tuple[tuple[str, ProjectRowCheck], ...]] = {
    EVENTS_SHEET.name: (
        _unique("event_ref"),
        ("end_before_start", _end_after_start),
        _submitted_after("start_date"),
        _submitted_after("end_date"),
        ("guest_partner_missing", _guest_named),
        ("guest_partner_is_self", _guest_is_another_partner),
        ("event_outside_period", _within_reporting_period),
        ("event_type_outside_phase", _type_in_its_phase),
        _outside_gap("start_date"),
        ("event_too_long", _no_longer_than_its_type_allows),
        ("back_to_back_not_allowed", _back_to_back_where_allowed),
    ),
    PRACTICES_SHEET.name: (
        _unique("practice_ref"),
        _submitted_after("identified_on"),
        _outside_gap("identified_on"),
    ),
    MEASURES_SHEET.name: (
        _unique("measure_ref"),
        ("other_partners_instrument", _own_instrument),
        ("sf_on_non_sf_instrument", _sf_only_on_sf_instruments),
        ("implemented_without_date", _implemented_has_date),
        _submitted_after("implemented_on"),
        _outside_gap("implemented_on"),
    ),
    COLLABORATIONS_SHEET.name: (_unique("year"),),
}


def row_checks(sheet: Sheet) -> tuple[tuple[str, ProjectRowCheck], ...]:
    """The sheet's rules across columns. A project's own sheet (sheets.yaml) gets the
    rules every sheet has: a unique key, and no date after the workbook was sent."""
    if sheet.name in ROW_CHECKS:
        return ROW_CHECKS[sheet.name]
    dates = [c.name for c in sheet.columns if c.kind == "date"]
    return (_unique(sheet.ref), *(_submitted_after(c) for c in dates))


def _bound(check: ProjectRowCheck, ref: Reference) -> RowCheck:
    return lambda df: check(df, ref)


def schema_of(sheet: Sheet, ref: Reference) -> pa.DataFrameSchema:
    """The sheet's Pandera schema: generated from its fields, plus its cross-column rules."""
    return sheet_schema(
        sheet,
        ref,
        column_checks=COLUMN_CHECKS.get(sheet.name),
        row_checks=tuple((name, _bound(check, ref)) for name, check in row_checks(sheet)),
    )


# --- running a model and turning its failures into issue rows ------------------------


@dataclass(frozen=True)
class SheetResult:
    """The rows of a sheet that passed (typed, context kept) and every issue found."""

    valid: pd.DataFrame
    issues: pd.DataFrame


_CHECK_NAME = re.compile(r"^(?P<rule>[a-z_]+)(?::(?P<column>[a-z_]+))?")


def _rule_and_column(check: str, column: str | None) -> tuple[str, str | None]:
    match = _CHECK_NAME.match(str(check))
    name = match.group("rule") if match else str(check)
    name = PANDERA_CHECK_RULES.get(name, name)
    return name, (match and match.group("column")) or RULES[name].column or column


def prepare(sheet: Sheet, raw: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Parse each column of a raw sheet frame once; context columns pass through."""
    prepared = {c: raw[c] for c in CONTEXT if c in raw}
    for f in sheet.columns:
        prepared[f.name] = parse_column(f, raw[f.name])
    frame = pd.DataFrame(prepared, index=raw.index)
    if sheet is EVENTS_SHEET:
        # end_date is optional: a one-day event ends the day it starts. Only a start date
        # that parsed is copied, so an unreadable one is reported once, on start_date.
        start = frame["start_date"].where(_valid(frame["start_date"]), None)
        frame["end_date"] = frame["end_date"].where(frame["end_date"].notna(), start)
    if sheet is MEASURES_SHEET:
        instruments = {
            p: ", ".join(ref.instruments_of(p)) or "none" for p in frame["_partner_id"].unique()
        }
        frame["_own_instrument"] = frame["_partner_id"].map(instruments)
    return frame


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        return cases[cases["index"].notna()]
    return pd.DataFrame(columns=["column", "check", "index"])


def source_of(record: dict) -> dict[str, object]:
    """The file version a context-carrying record comes from, as :func:`make_issue` takes it."""
    return {name: record.get(column) for column, name in CONTEXT.items() if name in SOURCE}


def _issue_rows(
    sheet: Sheet, frame: pd.DataFrame, failures: pd.DataFrame, ref: Reference
) -> list[dict]:
    keyed = failures.assign(
        index=failures["index"].astype(int),
        key=[
            _rule_and_column(c, col)
            for c, col in zip(failures["check"], failures["column"], strict=True)
        ],
    ).drop_duplicates(["index", "key"])
    records = frame.loc[keyed["index"]].to_dict("records")
    rows = []
    for (name, column), record in zip(keyed["key"], records, strict=True):
        facts: dict[str, object] = {}
        if name == "wrong_type" and is_invalid(record.get(column)):
            name, facts = record[column].rule, dict(record[column].facts)  # the parser's reason
        if name == "event_too_long":
            facts["max_days"] = ref.max_days(record["event_type"])
        key = record.get(sheet.ref)
        rows.append(
            make_issue(
                name,
                source_of(record),
                sheet=sheet.name,
                row=int(record["_row"]),
                column=column,
                value=record.get(column) if column else None,
                ref=ref,
                record_ref=None if is_invalid(key) else key,
                **{**record, **facts},
            )
        )
    return rows


def validate_sheet(sheet: Sheet, raw: pd.DataFrame, ref: Reference) -> SheetResult:
    """Validate the raw rows of one sheet from any number of workbooks in one pass.

    ``raw`` holds the sheet's canonical columns as read plus the context columns, with a
    unique index. Rows with an error are left out of ``valid``; warnings keep the row.
    """
    frame = prepare(sheet, raw.reset_index(drop=True), ref)
    failures = _failures(schema_of(sheet, ref), frame)
    issues = issues_frame(_issue_rows(sheet, frame, failures, ref))
    bad = issues.loc[issues["severity"] == "error"]
    quarantined = set(zip(bad["file"], bad["row"].astype(int), strict=True))
    keep = [
        (file, int(row)) not in quarantined
        for file, row in zip(frame["_file"], frame["_row"], strict=True)
    ]
    valid = frame.loc[keep]
    for f in sheet.columns:
        valid[f.name] = finalise_column(f, valid[f.name])
    return SheetResult(valid=valid.reset_index(drop=True), issues=issues)
