"""The workbook sheets and the published tables, as lists of registered fields.

A table only names its fields (their meaning lives in :mod:`pipelines.core.fields`),
its primary key and which fields may not be empty. The Parquet schema, the data
dictionary and the Dagster column schema are all generated from these definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from pipelines.core.fields import (
    COMPLETENESS_STATUSES,
    SUBMISSION_STATUSES,
    Field,
    field,
)


@dataclass(frozen=True)
class Sheet:
    """A record sheet of the partner workbook (template_version 1)."""

    name: str
    table: str
    ref: str
    columns: tuple[Field, ...]
    required: frozenset[str]
    description: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Field:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Table:
    """A published Parquet table."""

    name: str
    description: str
    columns: tuple[Field, ...]
    primary_key: tuple[str, ...] = ()
    required: frozenset[str] = frozenset()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Field:
        return next(c for c in self.columns if c.name == name)

    def arrow_schema(self) -> pa.Schema:
        """Parquet schema with each column's description, in the table's stable order."""
        return pa.schema(
            [c.to_pyarrow(nullable=c.name not in self.required) for c in self.columns],
            metadata={"description": self.description, "primary_key": ",".join(self.primary_key)},
        )


def _fields(*names: str, **descriptions: str) -> tuple[Field, ...]:
    return tuple(field(n, descriptions.get(n)) for n in names)


COVER_FIELDS = _fields(
    "partner_id",
    "period_id",
    "template_version",
    "submitted_on",
    "contact_name",
    "contact_email",
    partner_id="Your partner id (P1..P11). Must match your folder.",
    period_id="The reporting period of this workbook. Must match the file name.",
)

EVENTS_SHEET = Sheet(
    name="Events",
    table="events",
    ref="event_ref",
    description="Policy learning events organised by your organisation, one per row.",
    columns=_fields(
        "event_ref",
        "title",
        "event_type",
        "start_date",
        "end_date",
        "format",
        "city",
        "country",
        "participants",
        "guest_partner_id",
        "back_to_back",
        "evidence_url",
        title="Title of the event.",
        start_date="First day of the event.",
        end_date="Last day of the event (empty: the same day as start_date).",
        country="Country where the event took place (ISO 3166 alpha-2, e.g. AT).",
    ),
    required=frozenset(
        {"event_ref", "title", "event_type", "start_date", "format", "country", "participants"}
    ),
)

PRACTICES_SHEET = Sheet(
    name="GoodPractices",
    table="good_practices",
    ref="practice_ref",
    description="Good practices you identified, one per row; update the stage each period.",
    columns=_fields(
        "practice_ref",
        "title",
        "theme",
        "organisation",
        "country",
        "identified_on",
        "stage",
        "url",
        title="Title of the good practice.",
        country="Country of the good practice (ISO 3166 alpha-2).",
    ),
    required=frozenset({"practice_ref", "title", "country", "identified_on", "stage"}),
)

MEASURES_SHEET = Sheet(
    name="PolicyMeasures",
    table="policy_measures",
    ref="measure_ref",
    description="Measures inspired by the project in your policy instrument, one per row.",
    columns=_fields(
        "measure_ref",
        "policy_instrument_id",
        "description",
        "status",
        "implemented_on",
        "sf_influenced_eur",
        "other_funds_influenced_eur",
        "evidence_url",
        policy_instrument_id="Your own policy instrument (PI-Pn).",
        description="What the measure changes in the policy instrument.",
    ),
    required=frozenset(
        {
            "measure_ref",
            "policy_instrument_id",
            "description",
            "status",
            "sf_influenced_eur",
            "other_funds_influenced_eur",
        }
    ),
)

COLLABORATIONS_SHEET = Sheet(
    name="Collaborations",
    table="collaborations",
    ref="year",
    description="Regional context figures, one row per year (2015..2023).",
    columns=_fields(
        "year",
        "company_research_collaborations",
        "cross_sector_cluster_partnerships",
        "source",
    ),
    required=frozenset({"year", "company_research_collaborations"}),
)

RECORD_SHEETS: tuple[Sheet, ...] = (
    EVENTS_SHEET,
    PRACTICES_SHEET,
    MEASURES_SHEET,
    COLLABORATIONS_SHEET,
)
COVER_SHEET = "Cover"
GUIDE_SHEET = "Guide"
TEMPLATE_VERSION = 1

_LINEAGE = _fields(
    "partner_id",
    "period_id",
    "first_reported_period_id",
    period_id="Reporting period of the workbook whose row won (the latest that reported it).",
)
_TRACE = _fields(
    "file",
    "sha256",
    "row",
    file="Workbook the row comes from, relative to the raw directory.",
    row="Row of the workbook sheet the figures come from.",
)


def _fact_table(sheet: Sheet, description: str, extra: tuple[Field, ...] = ()) -> Table:
    return Table(
        name=sheet.table,
        description=description,
        columns=_LINEAGE + sheet.columns + extra + _TRACE,
        primary_key=("partner_id", sheet.ref),
        required=frozenset(
            {"partner_id", "period_id", "first_reported_period_id", *sheet.required}
            | {"sha256", "row"}
        ),
    )


EVENTS = _fact_table(
    EVENTS_SHEET,
    "Policy learning events organised, as last reported (one row per partner and event_ref).",
    extra=_fields("event_period_id", "event_phase", "counted"),
)
GOOD_PRACTICES = _fact_table(
    PRACTICES_SHEET,
    "Good practices, at the stage last reported (one row per partner and practice_ref).",
)
POLICY_MEASURES = _fact_table(
    MEASURES_SHEET,
    "Measures in the policy instruments, as last reported (one row per partner and measure_ref).",
    extra=_fields("implemented_period_id"),
)
COLLABORATIONS = _fact_table(
    COLLABORATIONS_SHEET,
    "Regional collaboration figures, as last reported (one row per partner and year).",
)

PARTNERS = Table(
    name="partners",
    description="Project partners, one row per partner with its current name (earlier names"
    " are in partner_names).",
    columns=_fields(
        "partner_id",
        "name",
        "short_name",
        "country",
        "role",
        "in_extended_phase",
        "sort_order",
        name="Current name of the partner organisation.",
        country="Country of the partner (ISO 3166 alpha-2).",
    ),
    primary_key=("partner_id",),
    required=frozenset(
        {"partner_id", "name", "short_name", "country", "role", "in_extended_phase", "sort_order"}
    ),
)
PARTNER_NAMES = Table(
    name="partner_names",
    description="Every name each partner held, with its validity dates (P2 changed name in"
    " 2019): join on partner_id and a date between valid_from and valid_to.",
    columns=_fields(
        "partner_id",
        "name",
        "valid_from",
        "valid_to",
        name="Name of the partner organisation during the validity dates.",
        valid_from="First day this name was in use (the project's start, 2016-04-01, when the"
        " name is older).",
    ),
    primary_key=("partner_id", "valid_from"),
    required=frozenset({"partner_id", "name", "valid_from"}),
)
PERIODS = Table(
    name="periods",
    description="Reporting periods: phase 1 by semester, phase 2 by year, extended by semester.",
    columns=_fields(
        "period_id",
        "start_date",
        "end_date",
        "phase",
        "deadline",
        "label",
        "sort_order",
        "note",
        start_date="First day of the period.",
        end_date="Last day of the period.",
        label="The period as a report shows it, e.g. RP01 Apr 2016 – Sep 2016.",
        note="Set on RP09: it follows the 2021-04-01..2021-09-30 gap between phase 2 (ended"
        " with RP08) and the extended phase, when no activity was expected.",
    ),
    primary_key=("period_id",),
    required=frozenset(
        {"period_id", "start_date", "end_date", "phase", "deadline", "label", "sort_order"}
    ),
)
POLICY_INSTRUMENTS = Table(
    name="policy_instruments",
    description="Policy instruments addressed by the partners (names are editable placeholders).",
    columns=_fields(
        "policy_instrument_id",
        "partner_id",
        "name",
        "level",
        "sf_linked",
        "is_placeholder",
        name="Name of the policy instrument.",
        partner_id="Partner that addresses the instrument.",
    ),
    primary_key=("policy_instrument_id",),
    required=frozenset({"policy_instrument_id", "partner_id", "name", "level", "sf_linked"}),
)
INDICATORS = Table(
    name="indicators",
    description="Output, result and context indicators with the targets of the application form.",
    columns=_fields(
        "indicator_id",
        "name",
        "unit",
        "target",
        "parent_indicator_id",
        "event_type",
        "computation",
        "indicator_type",
        "indicator_level",
        "sort_order",
        name="Name of the indicator.",
        event_type="Event type counted by this indicator (event indicators only).",
        sort_order="Position in the application form's list of indicators (1 first).",
    ),
    primary_key=("indicator_id",),
    required=frozenset(
        {
            "indicator_id",
            "name",
            "unit",
            "target",
            "computation",
            "indicator_type",
            "indicator_level",
            "sort_order",
        }
    ),
)
EVENT_TYPES_TABLE = Table(
    name="event_types",
    description="Kinds of policy learning events, their phase and the seed's target.",
    columns=_fields(
        "event_type",
        "phase",
        "target",
        "indicator_id",
        "consortium_level",
        "description",
        "max_days",
        "also_in_phase",
        phase="Phase the event type belongs to.",
        target="Number of such events the application form promises.",
        indicator_id="Indicator that counts this event type.",
        description="What the event type is.",
    ),
    primary_key=("event_type",),
    required=frozenset({"event_type", "phase", "target", "indicator_id", "consortium_level"}),
)

REFERENCE_TABLES: tuple[Table, ...] = (
    PARTNERS,
    PARTNER_NAMES,
    PERIODS,
    POLICY_INSTRUMENTS,
    INDICATORS,
    EVENT_TYPES_TABLE,
)
FACT_TABLES: tuple[Table, ...] = (EVENTS, GOOD_PRACTICES, POLICY_MEASURES, COLLABORATIONS)

# A workbook's status is not a measure's status: same column name, its own values.
_WORKBOOK_STATUS = field("status").with_enum(
    SUBMISSION_STATUSES,
    "accepted: its valid rows are used; rejected: the whole workbook was refused.",
)
SUBMISSIONS = Table(
    name="submissions",
    description="Every workbook version seen, one row per file and SHA-256.",
    columns=tuple(
        _WORKBOOK_STATUS if f.name == "status" else f
        for f in _fields(
            "partner_id",
            "period_id",
            "file",
            "sha256",
            "status",
            "current",
            "submitted_on",
            "on_time",
            "n_errors",
            "n_warnings",
            "n_rows",
            "first_seen_at",
            "review_status",
            submitted_on="Submission date given on the Cover sheet.",
            partner_id="Partner the file belongs to (empty if it cannot be attributed).",
            period_id="Period the file reports on (empty if it cannot be attributed).",
            review_status="The coordinator's review of the file's partner-period, the same on"
            " each of its versions (empty for a file of no partner-period): pending, approved"
            " (locked), sent_back or reopened.",
        )
    ),
    primary_key=("file", "sha256"),
    required=frozenset({"file", "sha256", "status", "current", "n_errors", "n_warnings"}),
)
# Columns of an issue inside the pipeline (the rules, the feedback workbooks); the
# published table renames row and column, both SQL reserved words.
ISSUE_COLUMNS = (
    "partner_id",
    "period_id",
    "file",
    "sha256",
    "sheet",
    "row",
    "column",
    "record_ref",
    "value",
    "severity",
    "rule",
    "message",
)
VALIDATION_ISSUES = Table(
    name="validation_issues",
    description="Every problem found in every workbook version seen; is_open marks those the"
    " partner still has to act on.",
    columns=_fields(
        "issue_id",
        "partner_id",
        "period_id",
        "file",
        "sha256",
        "sheet",
        "sheet_row",
        "sheet_column",
        "record_ref",
        "value",
        "severity",
        "rule",
        "message",
        "is_open",
        value="The offending value as found in the workbook (always text).",
        sheet_row="Spreadsheet row number (empty for workbook-level issues).",
    ),
    primary_key=("issue_id",),
    required=frozenset({"issue_id", "file", "severity", "rule", "message", "is_open"}),
)
REVIEWS = Table(
    name="reviews",
    description="Every review decision of the coordinator, one row each, in the order made"
    " (the review ledger).",
    columns=_fields(
        "review_no",
        "decided_at",
        "decided_by",
        "partner_id",
        "period_id",
        "decision",
        "note",
        "sha256",
        sha256="SHA-256 of the workbook version in use that the decision concerns.",
    ),
    primary_key=("review_no",),
    required=frozenset(
        {"review_no", "decided_at", "decided_by", "partner_id", "period_id", "decision", "sha256"}
    ),
)

INDICATOR_SCORECARD = Table(
    name="indicator_scorecard",
    description="Every indicator against its target with all current submissions.",
    columns=_fields(
        "indicator_id",
        "name",
        "unit",
        "target",
        "achieved",
        "pct_of_target",
        "achieved_approved",
        name="Name of the indicator.",
        achieved="Value achieved with all current submissions (C1: empty until a region has"
        " reported 2015 and a later year).",
        pct_of_target="Achieved as a percentage of the target, to one decimal (empty when the"
        " target is 0 or nothing is achieved yet).",
    ),
    primary_key=("indicator_id",),
    required=frozenset({"indicator_id", "name", "unit", "target"}),
)
INDICATOR_PROGRESS = Table(
    name="indicator_progress",
    description="Every indicator as it stood with the submissions up to each reporting period.",
    columns=_fields(
        "indicator_id",
        "name",
        "unit",
        "period_id",
        "achieved",
        name="Name of the indicator.",
        period_id="Reporting period: the value uses the submissions for it and all earlier ones.",
        achieved="Value achieved with the submissions up to and including the period.",
    ),
    primary_key=("indicator_id", "period_id"),
    required=frozenset({"indicator_id", "name", "unit", "period_id"}),
)
INDICATOR_BREAKDOWN = Table(
    name="indicator_breakdown",
    description="Every indicator broken down by partner, period, type, stage or instrument.",
    columns=_fields(
        "indicator_id",
        "name",
        "unit",
        "dimension",
        "category",
        "achieved",
        name="Name of the indicator.",
        unit="Unit of achieved (that of the indicator).",
        dimension="What the row breaks the indicator down by: partner, event_period, indicator,"
        " stage or policy_instrument; C1 has partner (the region's % change; its inputs are in"
        " c1_regions).",
        achieved="The indicator's value for the category, in the indicator's unit; a"
        " dimension's rows add up to the indicator (except for C1, whose value is a mean).",
    ),
    primary_key=("indicator_id", "dimension", "category"),
    required=frozenset({"indicator_id", "name", "unit", "dimension", "category", "achieved"}),
)
SUBMISSION_COMPLETENESS = Table(
    name="submission_completeness",
    description="One row per partner and period: whether a workbook is expected, received, on"
    " time, and its one status.",
    columns=(
        *_fields(
            "partner_id",
            "period_id",
            "expected",
            "received",
            "on_time",
            expected="1 when a workbook is expected from the partner for the period, 0 when the"
            " partner takes no part in the period's phase.",
            received="1 when an accepted workbook is current for the partner and period, else 0.",
            on_time="True when an accepted version was submitted by the deadline; false when it"
            " came late, was rejected or is missing.",
        ),
        field("status").with_enum(
            COMPLETENESS_STATUSES,
            "on_time or late (an accepted workbook is in use), rejected (workbooks came, none"
            " accepted), missing (deadline passed, nothing received), not_yet_due (deadline"
            " after the run's date) or not_expected.",
        ),
        field(
            "review_status",
            "The coordinator's review of the partner-period (empty when no workbook was seen):"
            " pending, approved, sent_back or reopened.",
        ),
    ),
    primary_key=("partner_id", "period_id"),
    required=frozenset({"partner_id", "period_id", "expected", "received", "on_time", "status"}),
)
C1_REGIONS = Table(
    name="c1_regions",
    description="C1's inputs per region (partner): the 2015 base, the latest year up to 2020"
    " and its value, and the % change; C1 is the mean of pct_change where in_c1.",
    columns=_fields(
        "partner_id",
        "base_2015",
        "latest_year",
        "latest_value",
        "pct_change",
        "in_c1",
    ),
    primary_key=("partner_id",),
    required=frozenset({"partner_id", "in_c1"}),
)
GOOD_PRACTICE_STAGE_HISTORY = Table(
    name="good_practice_stage_history",
    description="One row per good practice and stage it reached, with the reporting period that"
    " first reported it at that stage (from the workbooks in use for every period).",
    columns=_fields(
        "partner_id",
        "practice_ref",
        "stage",
        "first_reported_period_id",
        first_reported_period_id="Reporting period whose workbook first reported the practice"
        " at this stage.",
    ),
    primary_key=("partner_id", "practice_ref", "stage"),
    required=frozenset({"partner_id", "practice_ref", "stage", "first_reported_period_id"}),
)
REPORTING_RATES = Table(
    name="reporting_rates",
    description="Workbooks received and received on time, for the project, per partner and"
    " per period.",
    columns=_fields(
        "dimension",
        "category",
        "expected",
        "received",
        "reporting_rate",
        "on_time_rate",
        dimension="project (one row, category all), partner or period.",
        category="all, a partner id or a period id.",
        reporting_rate="Received as a percentage of expected, to one decimal.",
        on_time_rate="Received on time as a percentage of expected, to one decimal.",
    ),
    primary_key=("dimension", "category"),
    required=frozenset(
        {"dimension", "category", "expected", "received", "reporting_rate", "on_time_rate"}
    ),
)
STAKEHOLDER_MEETING_FLOOR = Table(
    name="stakeholder_meeting_floor",
    description="Phase-1 floor: at least one regional stakeholder meeting per partner with a"
    " policy instrument in every phase-1 semester; rows with floor_met false are the gaps.",
    columns=_fields(
        "partner_id",
        "period_id",
        "meetings",
        "floor_met",
        period_id="Phase-1 semester the meetings took place in.",
    ),
    primary_key=("partner_id", "period_id"),
    required=frozenset({"partner_id", "period_id", "meetings", "floor_met"}),
)


def published_tables() -> dict[str, Table]:
    """Every published table by name (the asset name and the Parquet file name)."""
    return {t.name: t for t in globals().values() if isinstance(t, Table)}
