"""Row-level validation of the record sheets: one Pandera ``DataFrameModel`` per sheet.

The frame a model sees holds the sheet's columns already parsed once (see
:mod:`pipelines.core.parsing`) plus context columns, prefixed with ``_``, that say
where each row comes from: its workbook, partner, period, submission date and
spreadsheet row. Many workbooks are validated in one pass; the lazy validation
collects every failure, and :func:`validate_sheet` turns them into issue rows.

Column facts (description, nullability, enumerations, ranges) come from the field
registry through :func:`sheet_field`; cross-field and cross-reference rules are the
``dataframe_check`` methods of each model.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd
import pandera.extensions as extensions
import pandera.pandas as pa
from pandera.typing import Series

from pipelines.core.fields import BACK_TO_BACK_ACTIVITIES
from pipelines.core.parsing import as_text, finalise_column, is_invalid, parse_column
from pipelines.core.reference import (
    GAP_END,
    GAP_START,
    PROJECT_END,
    PROJECT_START,
    reference,
)
from pipelines.core.rules import PANDERA_CHECK_RULES, RULES
from pipelines.core.tables import (
    COLLABORATIONS_SHEET,
    EVENTS_SHEET,
    MEASURES_SHEET,
    PRACTICES_SHEET,
    RECORD_SHEETS,
    VALIDATION_ISSUES,
    Sheet,
)

CONTEXT = ("_file", "_sha256", "_partner_id", "_period_id", "_submitted_on", "_row")
MAX_STAFF_EXCHANGE_DAYS = 14


# --- column checks, registered so a model's Field can name them -----------------------


def _valid(series: pd.Series) -> pd.Series:
    """Cells that hold a parsed value (neither empty nor of the wrong type)."""
    return series.map(lambda v: v is not None and not is_invalid(v))


@extensions.register_check_method(statistics=["kind"])
def wrong_type(series: pd.Series, *, kind: str) -> pd.Series:
    return ~series.map(is_invalid)


@extensions.register_check_method(statistics=["minimum"])
def negative_value(series: pd.Series, *, minimum: int) -> pd.Series:
    valid = _valid(series)
    return ~valid | series.where(valid, minimum).map(lambda v: v >= minimum)


@extensions.register_check_method(statistics=["minimum", "maximum"])
def out_of_range(series: pd.Series, *, minimum: int, maximum: int) -> pd.Series:
    valid = _valid(series)
    return ~valid | series.where(valid, minimum).map(lambda v: minimum <= v <= maximum)


@extensions.register_check_method(statistics=["values"])
def unknown_partner(series: pd.Series, *, values: tuple[str, ...]) -> pd.Series:
    return series.isna() | series.isin(values)


@extensions.register_check_method(statistics=["values"])
def unknown_back_to_back_activity(series: pd.Series, *, values: tuple[str, ...]) -> pd.Series:
    allowed = set(values)
    return series.map(
        lambda v: v is None or all(t.strip() in allowed for t in str(v).split(";") if t.strip())
    )


@extensions.register_check_method(statistics=["start", "end"])
def date_outside_project(series: pd.Series, *, start: str, end: str) -> pd.Series:
    low, high = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    valid = _valid(series)
    return ~valid | series.where(valid, low).map(lambda d: low <= d <= high)


def sheet_field(sheet: Sheet, name: str, **checks: object) -> object:
    """A model column generated from the field registry: description, nullability, checks."""
    f = sheet.column(name)
    kwargs: dict[str, object] = dict(checks)
    # Every kind: a text cell too may hold what is no value (an error, a merged cell).
    kwargs["wrong_type"] = {"kind": f.kind}
    if f.enum:
        kwargs["isin"] = list(f.enum)
    if f.min_value is not None and f.max_value is not None:
        kwargs["out_of_range"] = {"minimum": f.min_value, "maximum": f.max_value}
    elif f.min_value is not None:
        kwargs["negative_value"] = {"minimum": f.min_value}
    if f.kind == "date":
        kwargs["date_outside_project"] = {
            "start": PROJECT_START.isoformat(),
            "end": PROJECT_END.isoformat(),
        }
    return pa.Field(
        nullable=name not in sheet.required,
        description=f.description,
        title=name,
        **kwargs,
    )


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


def _not_in_gap(df: pd.DataFrame, column: str) -> pd.Series:
    ok = _dates_ok(df, column)
    return ~(
        ok & df[column].where(ok, None).map(lambda d: d is not None and GAP_START <= d <= GAP_END)
    )


def _unique_ref(df: pd.DataFrame, ref: str) -> pd.Series:
    valid = _valid(df[ref])
    keys = df["_sha256"].astype(str) + "\x00" + df[ref].map(str)
    return ~(valid & keys.duplicated(keep=False))


# --- one model per sheet ------------------------------------------------------------------


class _SheetModel(pa.DataFrameModel):
    class Config:
        strict = False
        coerce = False


class EventsModel(_SheetModel):
    """Policy learning events organised by the partner (sheet Events)."""

    event_ref: Series[object] = sheet_field(EVENTS_SHEET, "event_ref")
    title: Series[object] = sheet_field(EVENTS_SHEET, "title")
    event_type: Series[object] = sheet_field(EVENTS_SHEET, "event_type")
    start_date: Series[object] = sheet_field(EVENTS_SHEET, "start_date")
    end_date: Series[object] = sheet_field(EVENTS_SHEET, "end_date")
    format: Series[object] = sheet_field(EVENTS_SHEET, "format")
    city: Series[object] = sheet_field(EVENTS_SHEET, "city")
    country: Series[object] = sheet_field(EVENTS_SHEET, "country")
    participants: Series[object] = sheet_field(EVENTS_SHEET, "participants")
    guest_partner_id: Series[object] = sheet_field(
        EVENTS_SHEET, "guest_partner_id", unknown_partner={"values": tuple(reference().partner_ids)}
    )
    back_to_back: Series[object] = sheet_field(
        EVENTS_SHEET,
        "back_to_back",
        unknown_back_to_back_activity={"values": BACK_TO_BACK_ACTIVITIES},
    )
    evidence_url: Series[object] = sheet_field(EVENTS_SHEET, "evidence_url")

    @pa.dataframe_check(name="duplicate_ref:event_ref")
    def unique_event_ref(cls, df: pd.DataFrame) -> pd.Series:
        return _unique_ref(df, "event_ref")

    @pa.dataframe_check(name="end_before_start")
    def end_after_start(cls, df: pd.DataFrame) -> pd.Series:
        ok = _dates_ok(df, "start_date", "end_date")
        return ~ok | (
            df["end_date"].where(ok, dt.date.min) >= df["start_date"].where(ok, dt.date.min)
        )

    @pa.dataframe_check(name="date_after_submission:start_date")
    def start_not_after_submission(cls, df: pd.DataFrame) -> pd.Series:
        return _not_after_submission(df, "start_date")

    @pa.dataframe_check(name="date_after_submission:end_date")
    def end_not_after_submission(cls, df: pd.DataFrame) -> pd.Series:
        return _not_after_submission(df, "end_date")

    @pa.dataframe_check(name="staff_exchange_without_guest")
    def staff_exchange_has_guest(cls, df: pd.DataFrame) -> pd.Series:
        return ~((df["event_type"] == "staff_exchange") & df["guest_partner_id"].isna())

    @pa.dataframe_check(name="staff_exchange_self_guest")
    def staff_exchange_other_guest(cls, df: pd.DataFrame) -> pd.Series:
        return ~(
            (df["event_type"] == "staff_exchange") & (df["guest_partner_id"] == df["_partner_id"])
        )

    @pa.dataframe_check(name="event_outside_period")
    def within_reporting_period(cls, df: pd.DataFrame) -> pd.Series:
        periods = reference().periods.set_index("period_id")
        ok = _dates_ok(df, "start_date") & df["_period_id"].isin(periods.index)
        starts = df["_period_id"].map(periods["start_date"]).where(ok, None)
        ends = df["_period_id"].map(periods["end_date"]).where(ok, None)
        inside = [
            not flag or s <= d <= e
            for flag, d, s, e in zip(ok, df["start_date"], starts, ends, strict=True)
        ]
        return pd.Series(inside, index=df.index)

    @pa.dataframe_check(name="event_type_outside_phase")
    def type_in_its_phase(cls, df: pd.DataFrame) -> pd.Series:
        ref = reference()
        type_phase = ref.event_phase()
        ok = _dates_ok(df, "start_date") & df["event_type"].isin(type_phase)
        fits = []
        for flag, kind, day in zip(ok, df["event_type"], df["start_date"], strict=True):
            if not flag:
                fits.append(True)
                continue
            _, phase = ref.period_of(day)
            allowed = {type_phase[kind]}
            if kind == "regional_stakeholder_meeting":
                allowed.add("2")
            fits.append(phase is None or phase in allowed)
        return pd.Series(fits, index=df.index)

    @pa.dataframe_check(name="date_in_gap:start_date")
    def start_not_in_gap(cls, df: pd.DataFrame) -> pd.Series:
        return _not_in_gap(df, "start_date")

    @pa.dataframe_check(name="staff_exchange_too_long")
    def staff_exchange_short(cls, df: pd.DataFrame) -> pd.Series:
        ok = _dates_ok(df, "start_date", "end_date") & (df["event_type"] == "staff_exchange")
        days = [
            (end - start).days + 1 if flag else 0
            for flag, start, end in zip(ok, df["start_date"], df["end_date"], strict=True)
        ]
        return pd.Series(days, index=df.index) <= MAX_STAFF_EXCHANGE_DAYS

    @pa.dataframe_check(name="back_to_back_not_project_meeting")
    def back_to_back_only_for_project_meetings(cls, df: pd.DataFrame) -> pd.Series:
        return df["back_to_back"].isna() | (df["event_type"] == "project_meeting")


class GoodPracticesModel(_SheetModel):
    """Good practices identified by the partner (sheet GoodPractices)."""

    practice_ref: Series[object] = sheet_field(PRACTICES_SHEET, "practice_ref")
    title: Series[object] = sheet_field(PRACTICES_SHEET, "title")
    theme: Series[object] = sheet_field(PRACTICES_SHEET, "theme")
    organisation: Series[object] = sheet_field(PRACTICES_SHEET, "organisation")
    country: Series[object] = sheet_field(PRACTICES_SHEET, "country")
    identified_on: Series[object] = sheet_field(PRACTICES_SHEET, "identified_on")
    stage: Series[object] = sheet_field(PRACTICES_SHEET, "stage")
    url: Series[object] = sheet_field(PRACTICES_SHEET, "url")

    @pa.dataframe_check(name="duplicate_ref:practice_ref")
    def unique_practice_ref(cls, df: pd.DataFrame) -> pd.Series:
        return _unique_ref(df, "practice_ref")

    @pa.dataframe_check(name="date_after_submission:identified_on")
    def identified_not_after_submission(cls, df: pd.DataFrame) -> pd.Series:
        return _not_after_submission(df, "identified_on")

    @pa.dataframe_check(name="date_in_gap:identified_on")
    def identified_not_in_gap(cls, df: pd.DataFrame) -> pd.Series:
        return _not_in_gap(df, "identified_on")


class PolicyMeasuresModel(_SheetModel):
    """Measures in the partner's policy instrument (sheet PolicyMeasures)."""

    measure_ref: Series[object] = sheet_field(MEASURES_SHEET, "measure_ref")
    policy_instrument_id: Series[object] = sheet_field(MEASURES_SHEET, "policy_instrument_id")
    description: Series[object] = sheet_field(MEASURES_SHEET, "description")
    status: Series[object] = sheet_field(MEASURES_SHEET, "status")
    implemented_on: Series[object] = sheet_field(MEASURES_SHEET, "implemented_on")
    sf_influenced_eur: Series[object] = sheet_field(MEASURES_SHEET, "sf_influenced_eur")
    other_funds_influenced_eur: Series[object] = sheet_field(
        MEASURES_SHEET, "other_funds_influenced_eur"
    )
    evidence_url: Series[object] = sheet_field(MEASURES_SHEET, "evidence_url")

    @pa.dataframe_check(name="duplicate_ref:measure_ref")
    def unique_measure_ref(cls, df: pd.DataFrame) -> pd.Series:
        return _unique_ref(df, "measure_ref")

    @pa.dataframe_check(name="other_partners_instrument")
    def own_instrument(cls, df: pd.DataFrame) -> pd.Series:
        return df["policy_instrument_id"].isna() | (
            df["policy_instrument_id"] == df["_own_instrument"]
        )

    @pa.dataframe_check(name="sf_on_non_sf_instrument")
    def sf_only_on_sf_instruments(cls, df: pd.DataFrame) -> pd.Series:
        linked = df["policy_instrument_id"].map(reference().instrument_sf_linked())
        positive = _valid(df["sf_influenced_eur"]) & df["sf_influenced_eur"].map(
            lambda v: not is_invalid(v) and v is not None and v > 0
        )
        return ~(positive & linked.eq(False))

    @pa.dataframe_check(name="implemented_without_date")
    def implemented_has_date(cls, df: pd.DataFrame) -> pd.Series:
        return ~((df["status"] == "implemented") & df["implemented_on"].isna())

    @pa.dataframe_check(name="date_after_submission:implemented_on")
    def implemented_not_after_submission(cls, df: pd.DataFrame) -> pd.Series:
        return _not_after_submission(df, "implemented_on")

    @pa.dataframe_check(name="date_in_gap:implemented_on")
    def implemented_not_in_gap(cls, df: pd.DataFrame) -> pd.Series:
        return _not_in_gap(df, "implemented_on")


class CollaborationsModel(_SheetModel):
    """Regional collaboration figures (sheet Collaborations)."""

    year: Series[object] = sheet_field(COLLABORATIONS_SHEET, "year")
    company_research_collaborations: Series[object] = sheet_field(
        COLLABORATIONS_SHEET, "company_research_collaborations"
    )
    cross_sector_cluster_partnerships: Series[object] = sheet_field(
        COLLABORATIONS_SHEET, "cross_sector_cluster_partnerships"
    )
    source: Series[object] = sheet_field(COLLABORATIONS_SHEET, "source")

    @pa.dataframe_check(name="duplicate_ref:year")
    def unique_year(cls, df: pd.DataFrame) -> pd.Series:
        return _unique_ref(df, "year")


MODELS: dict[str, type[_SheetModel]] = {
    EVENTS_SHEET.name: EventsModel,
    PRACTICES_SHEET.name: GoodPracticesModel,
    MEASURES_SHEET.name: PolicyMeasuresModel,
    COLLABORATIONS_SHEET.name: CollaborationsModel,
}
SHEETS: dict[str, Sheet] = {s.name: s for s in RECORD_SHEETS}


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
    rule = RULES[name]
    return name, (match and match.group("column")) or rule.column or column


def prepare(sheet: Sheet, raw: pd.DataFrame) -> pd.DataFrame:
    """Parse each column of a raw sheet frame once; context columns pass through."""
    prepared = {c: raw[c] for c in CONTEXT if c in raw}
    for f in sheet.columns:
        prepared[f.name] = parse_column(f, raw[f.name])
    frame = pd.DataFrame(prepared, index=raw.index)
    if sheet is EVENTS_SHEET:
        # end_date is optional: a one-day event ends the day it starts.
        frame["end_date"] = frame["end_date"].where(frame["end_date"].notna(), frame["start_date"])
    if sheet is MEASURES_SHEET:
        instruments = {p: reference().instrument_of(p) for p in frame["_partner_id"].unique()}
        frame["_own_instrument"] = frame["_partner_id"].map(instruments)
    return frame


def _failures(model: type[_SheetModel], frame: pd.DataFrame) -> pd.DataFrame:
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        return cases[cases["index"].notna()]
    return pd.DataFrame(columns=["column", "check", "index"])


def _issue_rows(sheet: Sheet, frame: pd.DataFrame, failures: pd.DataFrame) -> list[dict]:
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
        context = {k: as_text(v) for k, v in record.items()}
        value = context.get(column) if column else None
        if name == "wrong_type" and is_invalid(record.get(column)):
            name = record[column].rule  # the precise reason the parser gave
        rule = RULES[name]
        rows.append(
            {
                "partner_id": record["_partner_id"],
                "period_id": record["_period_id"],
                "file": record["_file"],
                "sha256": record["_sha256"],
                "sheet": sheet.name,
                "row": int(record["_row"]),
                "column": column,
                "value": value,
                "severity": rule.severity,
                "rule": name,
                "message": rule.message(column or "", value, context),
            }
        )
    return rows


def issues_frame(rows: list[dict]) -> pd.DataFrame:
    """Issue rows as a frame with exactly the ``validation_issues`` columns."""
    frame = pd.DataFrame(rows, columns=VALIDATION_ISSUES.column_names)
    frame["row"] = frame["row"].astype("Int64")
    return frame


def validate_sheet(sheet: Sheet, raw: pd.DataFrame) -> SheetResult:
    """Validate the raw rows of one sheet from any number of workbooks in one pass.

    ``raw`` holds the sheet's canonical columns as read plus the context columns, with a
    unique index. Rows with an error are left out of ``valid``; warnings keep the row.
    """
    frame = prepare(sheet, raw.reset_index(drop=True))
    issues = issues_frame(_issue_rows(sheet, frame, _failures(MODELS[sheet.name], frame)))
    bad = issues.loc[issues["severity"] == "error"]
    quarantined = set(zip(bad["sha256"], bad["row"].astype(int), strict=True))
    keep = [
        (sha, int(row)) not in quarantined
        for sha, row in zip(frame["_sha256"], frame["_row"], strict=True)
    ]
    valid = frame.loc[keep]
    for f in sheet.columns:
        valid[f.name] = finalise_column(f, valid[f.name])
    return SheetResult(valid=valid.reset_index(drop=True), issues=issues)
