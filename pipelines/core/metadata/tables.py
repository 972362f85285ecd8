"""The published tables, as lists of registered fields (the sheets are re-exported).

A table only names its fields (their meaning lives in :mod:`pipelines.core.metadata.fields`),
its primary key and which fields may not be empty. The Parquet schema, the data
dictionary and the Dagster column schema are all generated from these definitions.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.core.metadata.fields import COMPLETENESS_STATUSES, SUBMISSION_STATUSES, field

# Re-exported: callers take sheets, reference tables and tables from this one module.
from pipelines.core.metadata.reference_tables import (
    EVENT_TYPES_TABLE as EVENT_TYPES_TABLE,
)
from pipelines.core.metadata.reference_tables import INDICATORS as INDICATORS
from pipelines.core.metadata.reference_tables import PARTNER_NAMES as PARTNER_NAMES
from pipelines.core.metadata.reference_tables import PARTNERS as PARTNERS
from pipelines.core.metadata.reference_tables import PERIODS as PERIODS
from pipelines.core.metadata.reference_tables import PHASES_TABLE as PHASES_TABLE
from pipelines.core.metadata.reference_tables import POLICY_INSTRUMENTS as POLICY_INSTRUMENTS
from pipelines.core.metadata.reference_tables import REFERENCE_TABLES as REFERENCE_TABLES
from pipelines.core.metadata.sheets import COLLABORATIONS_SHEET as COLLABORATIONS_SHEET
from pipelines.core.metadata.sheets import COVER_FIELDS as COVER_FIELDS
from pipelines.core.metadata.sheets import COVER_SHEET as COVER_SHEET
from pipelines.core.metadata.sheets import EVENTS_SHEET as EVENTS_SHEET
from pipelines.core.metadata.sheets import GUIDE_SHEET as GUIDE_SHEET
from pipelines.core.metadata.sheets import MEASURES_SHEET as MEASURES_SHEET
from pipelines.core.metadata.sheets import PRACTICES_SHEET as PRACTICES_SHEET
from pipelines.core.metadata.sheets import RECORD_SHEETS as RECORD_SHEETS
from pipelines.core.metadata.sheets import TEMPLATE_VERSION as TEMPLATE_VERSION
from pipelines.core.metadata.table_model import Field as Field
from pipelines.core.metadata.table_model import Sheet as Sheet
from pipelines.core.metadata.table_model import Table, fields_named

_LINEAGE = fields_named(
    "partner_id",
    "period_id",
    "first_reported_period_id",
    period_id="Reporting period of the workbook whose row won (the latest that reported it).",
)
_TRACE = fields_named(
    "file",
    "sha256",
    "row",
    file="Workbook the row comes from, relative to the raw directory.",
    row="Row of the workbook sheet the figures come from.",
)


def fact_table(
    sheet: Sheet, description: str | None = None, extra: tuple[Field, ...] = ()
) -> Table:
    """The published table of a record sheet: its rows as last reported, one per partner
    and key, with where each comes from."""
    return Table(
        name=sheet.table,
        description=description or sheet.description,
        columns=_LINEAGE + sheet.columns + extra + _TRACE,
        primary_key=("partner_id", sheet.ref),
        required=frozenset(
            {"partner_id", "period_id", "first_reported_period_id", *sheet.required}
            | {"sha256", "row"}
        ),
    )


EVENTS = fact_table(
    EVENTS_SHEET,
    "Policy learning events organised, as last reported (one row per partner and event_ref).",
    extra=fields_named("event_period_id", "event_phase", "counted"),
)
GOOD_PRACTICES = fact_table(
    PRACTICES_SHEET,
    "Good practices, at the stage last reported (one row per partner and practice_ref).",
)
POLICY_MEASURES = fact_table(
    MEASURES_SHEET,
    "Measures in the policy instruments, as last reported (one row per partner and measure_ref).",
    extra=fields_named("implemented_period_id"),
)
COLLABORATIONS = fact_table(
    COLLABORATIONS_SHEET,
    "Regional collaboration figures, as last reported (one row per partner and year).",
)

FACT_TABLES: tuple[Table, ...] = (EVENTS, GOOD_PRACTICES, POLICY_MEASURES, COLLABORATIONS)

# A workbook's status is not a measure's status: same column name, its own values.
_WORKBOOK_STATUS = field("status").with_enum(
    SUBMISSION_STATUSES,
    "accepted: it passed, and its valid rows are used while it is the version in use;"
    " rejected: the whole workbook was refused (also while another workbook for its period"
    " is in the folder).",
)
SUBMISSIONS = Table(
    name="submissions",
    description="Every workbook version seen, one row per file and SHA-256.",
    columns=tuple(
        _WORKBOOK_STATUS if f.name == "status" else f
        for f in fields_named(
            "partner_id",
            "period_id",
            "file",
            "sha256",
            "status",
            "current",
            "in_folder",
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
    required=frozenset(
        {"file", "sha256", "status", "current", "in_folder", "n_errors", "n_warnings"}
    ),
)
VALIDATION_ISSUES = Table(
    name="validation_issues",
    description="Every problem found in every workbook version seen; is_open marks those the"
    " partner still has to act on.",
    columns=fields_named(
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
    columns=fields_named(
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
    columns=fields_named(
        "indicator_id",
        "name",
        "unit",
        "target",
        "achieved",
        "pct_of_target",
        "achieved_approved",
        name="Name of the indicator.",
        achieved="Value achieved with all current submissions (a mean_change indicator:"
        " empty until a region has reported its base year and a later year).",
        pct_of_target="Achieved as a percentage of the target, to one decimal (empty when the"
        " target is 0 or nothing is achieved yet).",
    ),
    primary_key=("indicator_id",),
    required=frozenset({"indicator_id", "name", "unit", "target"}),
)
INDICATOR_PROGRESS = Table(
    name="indicator_progress",
    description="Every indicator as it stood with the submissions up to each reporting period.",
    columns=fields_named(
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
    columns=fields_named(
        "indicator_id",
        "name",
        "unit",
        "dimension",
        "category",
        "achieved",
        name="Name of the indicator.",
        unit="Unit of achieved (that of the indicator).",
        dimension="What the row breaks the indicator down by: partner, event_period, indicator,"
        " stage or policy_instrument; a mean_change indicator has partner (the region's %"
        " change; its inputs are in c1_regions).",
        achieved="The indicator's value for the category, in the indicator's unit; a"
        " dimension's rows add up to the indicator (except for a mean_change indicator, whose"
        " value is a mean).",
    ),
    primary_key=("indicator_id", "dimension", "category"),
    required=frozenset({"indicator_id", "name", "unit", "dimension", "category", "achieved"}),
)
SUBMISSION_COMPLETENESS = Table(
    name="submission_completeness",
    description="One row per partner and period: whether a workbook is expected, received, on"
    " time, and its one status.",
    columns=(
        *fields_named(
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
    description="The mean_change indicator's inputs per region (partner): the base-year value,"
    " the latest year up to its last_year and that year's value, and the % change; the"
    " indicator is the mean of pct_change where in_c1 (no rows when no indicator is a"
    " mean_change).",
    columns=fields_named(
        "partner_id",
        "base_year",
        "base_value",
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
    columns=fields_named(
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
    columns=fields_named(
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
    description="The stakeholder-meeting floor project.yaml declares: at least a minimum of"
    " events of one type per partner with a policy instrument in every period of one phase;"
    " rows with floor_met false are the gaps, empty floor_met is unknown (no workbook of the"
    " partner in use for the period); no rows when the project declares no floor.",
    columns=fields_named(
        "partner_id",
        "period_id",
        "meetings",
        "floor_met",
        period_id="Period of the floor's phase the events took place in.",
    ),
    primary_key=("partner_id", "period_id"),
    required=frozenset({"partner_id", "period_id", "meetings"}),
)


def published_tables(fact_tables: Sequence[Table] = FACT_TABLES) -> dict[str, Table]:
    """Every published table by name (the asset name and the Parquet file name);
    ``fact_tables``: the project's, when it adds record sheets of its own."""
    tables = {t.name: t for t in globals().values() if isinstance(t, Table)}
    return {**tables, **{t.name: t for t in fact_tables}}
