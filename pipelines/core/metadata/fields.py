"""Every column of every table, described once.

A :class:`Field` knows its logical type, its description and its constraints. From
it the rest is generated: the Pandera column (``to_pandera``), the Parquet field with
its description (``to_pyarrow``), the template's Guide, the Dagster UI's column schema
and the data dictionary in ``assets/README.md``.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Literal

import pandas as pd
import pyarrow as pa

# Re-exported: the field definitions below use them, callers take them from either.
from pipelines.core.metadata.enumerations import COMPLETENESS_STATUSES as COMPLETENESS_STATUSES
from pipelines.core.metadata.enumerations import FORMATS as FORMATS
from pipelines.core.metadata.enumerations import INDICATOR_TYPES as INDICATOR_TYPES
from pipelines.core.metadata.enumerations import MEASURE_STATUSES as MEASURE_STATUSES
from pipelines.core.metadata.enumerations import PRACTICE_STAGES as PRACTICE_STAGES
from pipelines.core.metadata.enumerations import REVIEW_DECISIONS as REVIEW_DECISIONS
from pipelines.core.metadata.enumerations import REVIEW_STATUSES as REVIEW_STATUSES
from pipelines.core.metadata.enumerations import SEVERITIES as SEVERITIES
from pipelines.core.metadata.enumerations import SUBMISSION_STATUSES as SUBMISSION_STATUSES

Kind = Literal["string", "integer", "decimal", "date", "boolean", "float", "timestamp"]

MONEY = pa.decimal128(18, 2)


@dataclass(frozen=True)
class KindSpec:
    """Everything the pipeline knows about one kind of column, in one place.

    ``values`` are the Python types a typed cell holds in memory (the generated Pandera
    schemas check them); ``hint`` is how the template Guide and the messages describe a
    value of the kind to a partner; ``number_format`` and ``width`` are how the template
    shows its column; ``from_text`` reads a value of a reference file. How a spreadsheet
    cell is read into the kind is in :mod:`pipelines.core.intake.parsing`, keyed by the same
    names, since a cell needs the partner-facing refusals a reference file does not.
    """

    name: str
    arrow: pa.DataType
    pandas_dtype: str
    sql: str
    values: tuple[type, ...]
    hint: str
    number_format: str | None
    width: int
    from_text: Callable[[str], object]


def _boolean(text: str) -> bool:
    folded = text.strip().lower()
    if folded in {"true", "1", "yes"}:
        return True
    if folded in {"false", "0", "no"}:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {text!r}") from exc


# pandas dtypes: money and dates stay Python objects (Decimal, datetime.date).
KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        KindSpec("string", pa.string(), "string", "VARCHAR", (str,), "text", "@", 16, str),
        KindSpec("integer", pa.int64(), "Int64", "BIGINT", (int,), "a whole number", "0", 12, int),
        KindSpec(
            "decimal",
            MONEY,
            "object",
            "DECIMAL(18,2)",
            (Decimal,),
            "an amount in EUR, to the cent",
            "#,##0.00",
            16,
            _decimal,
        ),
        KindSpec(
            "date",
            pa.date32(),
            "object",
            "DATE",
            (dt.date,),
            "a date (a spreadsheet date or ISO text, YYYY-MM-DD)",
            "yyyy-mm-dd",
            12,
            dt.date.fromisoformat,
        ),
        KindSpec(
            "boolean", pa.bool_(), "boolean", "BOOLEAN", (bool,), "true or false", None, 8, _boolean
        ),
        KindSpec(
            "float", pa.float64(), "Float64", "DOUBLE", (float, int), "a number", None, 12, float
        ),
        KindSpec(
            "timestamp",
            pa.timestamp("us", tz="UTC"),
            "object",
            "TIMESTAMP WITH TIME ZONE",
            (dt.datetime,),
            "a date and time (UTC)",
            "yyyy-mm-dd hh:mm:ss",
            20,
            dt.datetime.fromisoformat,
        ),
    )
}


@dataclass(frozen=True)
class Alphabet:
    """The characters a key may be written with, and how a partner is told them.

    Keys are compared exactly, so a character a reader cannot tell from another (a
    Cyrillic 'Е' for a Latin 'E', the hyphen U+2010 for '-') would make one record two.
    A key holds only characters of its alphabet, or it is refused.
    """

    characters: frozenset[str]
    description: str

    def first_outside(self, text: str) -> tuple[int, str] | None:
        """The 1-based position and the character of the first one outside the alphabet."""
        for position, character in enumerate(text, start=1):
            if character not in self.characters:
                return position, character
        return None


KEY_ALPHABET = Alphabet(
    frozenset(string.ascii_letters + string.digits + string.punctuation + " "),
    "plain keyboard characters (the letters A-Z and a-z, the digits 0-9, spaces and"
    " punctuation such as - _ . / #)",
)


@dataclass(frozen=True)
class ReferenceValues:
    """An enumeration whose values a project declares (its event types, its phases): listed
    in the project folder only, and resolved against the project in use by whoever checks
    or shows them (:meth:`Field.allowed`), never looked up from here."""

    attribute: str
    described: str

    def resolve(self, ref: object) -> tuple[str, ...]:
        return tuple(getattr(ref, self.attribute))


@dataclass(frozen=True)
class Field:
    """One column: its name, logical type, meaning and constraints."""

    name: str
    kind: Kind
    description: str
    enum: tuple[str, ...] | ReferenceValues | None = None
    min_value: int | float | None = None
    max_value: int | float | None = None
    unit: str | None = None
    example: str | None = None
    # A Reference attribute listing the known values (checked as rule unknown_<name>).
    lookup: str | None = None
    # The characters a key may hold (ids and refs); any other is refused.
    alphabet: Alphabet | None = None
    # A project's own range (low, high) in place of min_value and max_value.
    range_of: ReferenceValues | None = None

    @property
    def spec(self) -> KindSpec:
        return KINDS[self.kind]

    @property
    def arrow_type(self) -> pa.DataType:
        return self.spec.arrow

    @property
    def pandas_dtype(self) -> str:
        return self.spec.pandas_dtype

    @property
    def sql_type(self) -> str:
        """The type a BI tool (DuckDB, Power BI) sees when it reads the Parquet file."""
        return self.spec.sql

    def allowed(self, ref: object | None) -> tuple[str, ...] | None:
        """The values this column may take; a project's own list resolved against ``ref``
        (None without a project, or when any value of its kind will do)."""
        if isinstance(self.enum, ReferenceValues):
            return None if ref is None else self.enum.resolve(ref)
        return self.enum

    def hint_for(self, ref: object | None) -> str:
        """The expected form of a value in the project ``ref``, in a partner's words."""
        allowed = self.allowed(ref)
        if allowed:
            return "one of: " + ", ".join(allowed)
        if self.range_of is not None and ref is not None:
            return self._hint(*self.bounds(ref))
        return self.hint

    def bounds(self, ref: object | None) -> tuple[int | float | None, int | float | None]:
        """The lowest and highest value allowed in the project ``ref`` (None: no bound)."""
        if self.range_of is not None:
            return (None, None) if ref is None else tuple(self.range_of.resolve(ref))
        return self.min_value, self.max_value

    @property
    def hint(self) -> str:
        """The expected form of a value, in words a partner understands, for any project."""
        if isinstance(self.enum, ReferenceValues):
            return self.enum.described
        if self.range_of is not None:
            return f"{self.spec.hint}, {self.range_of.described}"
        return self._hint(self.min_value, self.max_value)

    def _hint(self, low: int | float | None, high: int | float | None) -> str:
        if self.enum:
            return "one of: " + ", ".join(self.enum)
        text = self.spec.hint
        if self.alphabet is not None:
            return f"{text} of {self.alphabet.description}"
        if low is not None and high is not None:
            return f"{text} from {low} to {high}"
        if low is not None:
            return f"{text} >= {low}"
        return text

    def to_pyarrow(self, nullable: bool = True) -> pa.Field:
        return pa.field(
            self.name,
            self.arrow_type,
            nullable=nullable,
            metadata={"description": self.description},
        )

    def with_description(self, description: str) -> Field:
        """The same field with a table-specific meaning."""
        return replace(self, description=description)

    def with_enum(self, enum: tuple[str, ...], description: str) -> Field:
        """The same name for another enumeration (``status`` of a measure, of a workbook)."""
        return replace(self, enum=enum, description=description)


def empty_series(field: Field) -> pd.Series:
    return pd.Series([], dtype=field.pandas_dtype, name=field.name)


COUNTRY_HINT = "ISO 3166 alpha-2 country code, e.g. AT"

EVENT_TYPES = ReferenceValues("event_type_ids", "an event type of the project (event_types.csv)")
BACK_TO_BACK_ACTIVITIES = (
    "peer_group_discussion",
    "study_visit",
    "in_depth_exploration",
    "european_initiatives_workshop",
    "policy_peer_review_workshop",
)
PHASES = ReferenceValues("phase_ids", "a phase of the project (project.yaml)")
PROJECT_YEARS = ReferenceValues(
    "year_range",
    "from the earliest base_year in indicators.csv (or the project's first year) to the"
    " project's last year",
)

_FIELD_LIST: tuple[Field, ...] = (
    # --- keys and reference data -------------------------------------------------
    Field(
        "partner_id",
        "string",
        "Project partner id, as in partners.yaml.",
        alphabet=KEY_ALPHABET,
    ),
    Field("period_id", "string", "Reporting period id, as in periods.csv.", alphabet=KEY_ALPHABET),
    Field("name", "string", "Name."),
    Field("country", "string", COUNTRY_HINT + ".", example="AT", lookup="countries"),
    Field("role", "string", "lead_partner or partner.", enum=("lead_partner", "partner")),
    Field("valid_from", "date", "First day this name was in use."),
    Field("valid_to", "date", "Last day this name was in use; empty while still in use."),
    Field("start_date", "date", "First day."),
    Field("end_date", "date", "Last day."),
    Field("phase", "string", "Project phase, as project.yaml lists them.", enum=PHASES),
    Field("deadline", "date", "Last day to submit the period's report on time."),
    Field(
        "policy_instrument_id",
        "string",
        "Policy instrument addressed by a partner, as in policy_instruments.csv.",
        alphabet=KEY_ALPHABET,
    ),
    Field("level", "string", "Territorial level of the instrument.", enum=("regional", "national")),
    Field("sf_linked", "boolean", "Whether the instrument is a Structural Funds programme."),
    Field("is_placeholder", "boolean", "True while the name is a placeholder to be edited."),
    Field("indicator_id", "string", "Indicator id, as in indicators.csv."),
    Field("parent_indicator_id", "string", "Indicator this one adds up into."),
    Field("unit", "string", "Unit of the indicator's value."),
    Field("target", "decimal", "Target promised in the application form."),
    Field(
        "computation",
        "string",
        "How the indicator is computed: one of the closed set in docs/new-project.md.",
    ),
    Field("filter", "string", "Only records where 'column = value' count (empty: all)."),
    Field(
        "instrument_filter",
        "string",
        "Only policy instruments where 'column = value' count (empty: all).",
    ),
    Field("breakdown", "string", "Column whose values break the indicator down."),
    Field("base_year", "integer", "Year a change is measured from."),
    Field("last_year", "integer", "Latest year a change is measured to."),
    Field("event_type", "string", "Kind of policy learning event.", enum=EVENT_TYPES),
    Field("consortium_level", "boolean", "Consortium-wide event: counted once across partners."),
    Field(
        "hosts_guest_partner",
        "boolean",
        "An event of this type hosts another partner: guest_partner_id is required.",
    ),
    Field(
        "back_to_back_allowed",
        "boolean",
        "Back-to-back activities may be reported for events of this type.",
    ),
    Field(
        "also_in_phase",
        "string",
        "A later phase the event type may continue in (empty: none).",
        enum=PHASES,
    ),
    Field(
        "max_days",
        "integer",
        "Longest an event of this type may last, in days (empty: no limit).",
        min_value=1,
    ),
    Field("description", "string", "Description."),
    Field("short_name", "string", "Short name used in charts and tables."),
    Field("sort_order", "integer", "Position when listed (1 first), as in the application form."),
    Field("label", "string", "Name to show for the row in a report."),
    Field(
        "indicator_type",
        "string",
        "output, result or context indicator (the programme's terms).",
        enum=INDICATOR_TYPES,
    ),
    Field(
        "indicator_level",
        "integer",
        "Depth in the indicator tree: 1 for a headline indicator, 2 for one that adds up"
        " into its parent.",
        min_value=1,
    ),
    # --- Cover -------------------------------------------------------------------
    Field("field", "string", "Name of a Cover field."),
    Field("value", "string", "Value of a Cover field."),
    Field("template_version", "integer", "Version of the workbook template (1).", min_value=1),
    Field("submitted_on", "date", "Date the partner submitted the workbook."),
    Field("contact_name", "string", "Person to contact about this submission."),
    Field("contact_email", "string", "E-mail of the contact person."),
    # --- Events ------------------------------------------------------------------
    Field(
        "event_ref",
        "string",
        "Your own id of the event; keep it the same in every period you report it.",
        example="EV-001",
        alphabet=KEY_ALPHABET,
    ),
    Field("title", "string", "Title."),
    Field("format", "string", "How the event was held.", enum=FORMATS),
    Field("city", "string", "City where the event took place."),
    Field("participants", "integer", "Number of participants.", min_value=0),
    Field(
        "guest_partner_id",
        "string",
        "For an event of a type that hosts a guest partner (the project says which):"
        " the partner whose staff member was hosted; empty for other events.",
        lookup="partner_ids",
        alphabet=KEY_ALPHABET,
    ),
    Field(
        "back_to_back",
        "string",
        "For an event of a type that allows them (the project says which):"
        " the activities held back-to-back, separated by ';' ("
        + ", ".join(BACK_TO_BACK_ACTIVITIES)
        + ").",
    ),
    Field("evidence_url", "string", "Link to evidence (agenda, minutes, photos)."),
    Field(
        "first_reported_period_id",
        "string",
        "Reporting period of the first workbook in use that reported this key.",
    ),
    Field("event_period_id", "string", "Reporting period the event's start date falls in."),
    Field("event_phase", "string", "Project phase the event's start date falls in.", enum=PHASES),
    Field(
        "counted",
        "boolean",
        "False for a consortium-level event another partner already reported (same type and"
        " start date): count only rows where counted is true.",
    ),
    # --- GoodPractices -----------------------------------------------------------
    Field(
        "practice_ref",
        "string",
        "Your own id of the good practice; keep it stable.",
        alphabet=KEY_ALPHABET,
    ),
    Field("theme", "string", "Theme of the good practice."),
    Field("organisation", "string", "Organisation that runs the good practice."),
    Field("identified_on", "date", "Date the good practice was identified."),
    Field("stage", "string", "How far the practice has been worked on.", enum=PRACTICE_STAGES),
    Field("url", "string", "Link to a description of the good practice."),
    # --- PolicyMeasures ----------------------------------------------------------
    Field(
        "measure_ref",
        "string",
        "Your own id of the measure; keep it stable.",
        alphabet=KEY_ALPHABET,
    ),
    Field("status", "string", "Where the measure stands.", enum=MEASURE_STATUSES),
    Field("implemented_on", "date", "Date the measure was implemented (required if implemented)."),
    Field(
        "sf_influenced_eur",
        "decimal",
        "Structural Funds influenced by the measure, in EUR (0 where none).",
        min_value=0,
        unit="EUR",
    ),
    Field(
        "other_funds_influenced_eur",
        "decimal",
        "Other funds influenced by the measure, in EUR (0 where none).",
        min_value=0,
        unit="EUR",
    ),
    Field(
        "implemented_period_id",
        "string",
        "Reporting period implemented_on falls in (empty when not implemented or in a gap"
        " between periods).",
    ),
    # --- Collaborations ----------------------------------------------------------
    Field("year", "integer", "Calendar year of the figures.", range_of=PROJECT_YEARS),
    Field(
        "company_research_collaborations",
        "integer",
        "Collaborations between companies and research entities in the region that year.",
        min_value=0,
    ),
    Field(
        "cross_sector_cluster_partnerships",
        "integer",
        "Cross-sector partnerships between clusters in the region that year.",
        min_value=0,
    ),
    Field("source", "string", "Where the figures come from."),
    # --- lineage and submissions -------------------------------------------------
    Field(
        "file",
        "string",
        "Workbook path relative to the raw directory: <partner_id>/<period_id>.xlsx.",
    ),
    Field("sha256", "string", "SHA-256 of the workbook's bytes; the archived copy is named by it."),
    Field("row", "integer", "Row number in the spreadsheet (1 is the header)."),
    Field("current", "boolean", "True for the version the published tables use."),
    Field(
        "in_folder",
        "boolean",
        "True while the drop folder holds this file with these bytes: only such versions"
        " count against their partner-period; a removed or replaced one is history.",
    ),
    Field("on_time", "boolean", "Submitted on or before the period's deadline."),
    Field("first_seen_at", "timestamp", "When the pipeline first saw this file version (UTC)."),
    Field("n_errors", "integer", "Number of error issues in this file version.", min_value=0),
    Field("n_warnings", "integer", "Number of warning issues in this file version.", min_value=0),
    Field("n_rows", "integer", "Number of records read from the workbook.", min_value=0),
    # --- validation issues -------------------------------------------------------
    Field("sheet", "string", "Sheet of the workbook the issue is on."),
    Field("column", "string", "Column the issue is about."),
    Field(
        "issue_id",
        "string",
        "Stable id of the issue: a hash of the file version, sheet, row, column, rule and message.",
    ),
    Field("sheet_row", "integer", "Row number in the spreadsheet (1 is the header)."),
    Field("sheet_column", "string", "Column of the sheet the issue is about."),
    Field(
        "record_ref",
        "string",
        "Natural key of the row the issue is on (event_ref, practice_ref, measure_ref or year),"
        " where it could be read.",
    ),
    Field(
        "is_open",
        "boolean",
        "True when the issue is in a file the drop folder holds now, or in the version in use"
        " while its file is there: the partner still has to act on it.",
    ),
    Field("severity", "string", "error: the row is quarantined; warning: kept.", enum=SEVERITIES),
    Field("rule", "string", "Name of the validation rule."),
    Field("message", "string", "What is wrong and how to fix it."),
    Field("base_year", "integer", "The mean_change indicator's base_year (indicators.csv)."),
    Field(
        "base_value",
        "integer",
        "Value the region reported for base_year.",
        min_value=0,
    ),
    Field(
        "latest_year",
        "integer",
        "Latest year after base_year, up to the indicator's last_year, the region reported.",
    ),
    Field(
        "latest_value",
        "integer",
        "Value the region reported for latest_year.",
        min_value=0,
    ),
    Field(
        "pct_change",
        "decimal",
        "Change from the base year to latest_year in %, to 0.01 (empty without a base-year"
        " figure or when it is 0).",
    ),
    Field(
        "in_c1",
        "boolean",
        "Whether the region's change counts in the indicator (it has a base-year figure above 0"
        " and a later year).",
    ),
    # --- reviews -----------------------------------------------------------------
    Field(
        "review_no",
        "integer",
        "Number of the decision in the review ledger (1, 2...).",
        min_value=1,
    ),
    Field("decided_at", "string", "When the coordinator recorded the decision (UTC, ISO)."),
    Field("decided_by", "string", "Who recorded the decision."),
    Field(
        "decision",
        "string",
        "approve: the version is locked; send_back: the partner must correct it;"
        " reopen: the lock is lifted.",
        enum=REVIEW_DECISIONS,
    ),
    Field("note", "string", "The coordinator's note (a send-back's note goes to the partner)."),
    Field(
        "review_status",
        "string",
        "The coordinator's review of the partner-period: pending (no decision on the version"
        " in use), approved (locked: later files are refused), sent_back (the partner must"
        " send a corrected workbook), reopened (unlocked after an approval).",
        enum=REVIEW_STATUSES,
    ),
    # --- indicators --------------------------------------------------------------
    Field("achieved", "decimal", "Value achieved so far."),
    Field("pct_of_target", "decimal", "Achieved as a percentage of the target."),
    Field(
        "achieved_approved",
        "decimal",
        "Value achieved with the approved partner-periods only (the coordinator's approved"
        " data; the rest is left out as if not yet submitted).",
    ),
    Field("expected", "integer", "Number of workbooks expected.", min_value=0),
    Field("received", "integer", "Number of workbooks received and accepted.", min_value=0),
    Field("reporting_rate", "decimal", "Received as a percentage of expected."),
    Field("dimension", "string", "What the breakdown is by (partner, period, type, stage...)."),
    Field("category", "string", "The value of the breakdown dimension."),
    Field("on_time_rate", "decimal", "Received on time as a percentage of expected."),
    Field(
        "meetings",
        "integer",
        "Events of the floor's type the partner held in the period (by the event's start date).",
        min_value=0,
    ),
    Field(
        "floor_met",
        "boolean",
        "Whether the partner held at least the floor's minimum of them in the period; empty"
        " when unknown: fewer were reported and no workbook of the partner is in use for"
        " the period.",
    ),
)

FIELDS: dict[str, Field] = {f.name: f for f in _FIELD_LIST}


def field(name: str, description: str | None = None) -> Field:
    """The registered field, optionally with a table-specific description."""
    base = FIELDS[name]
    return base if description is None else base.with_description(description)
