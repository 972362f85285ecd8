"""The reference data as published dimension tables (partners, periods, instruments, ...)."""

from __future__ import annotations

from pipelines.core.metadata.table_model import Table, fields_named

PARTNERS = Table(
    name="partners",
    description="Project partners, one row per partner with its current name (earlier names"
    " are in partner_names).",
    columns=fields_named(
        "partner_id",
        "name",
        "short_name",
        "country",
        "role",
        "sort_order",
        name="Current name of the partner organisation.",
        country="Country of the partner (ISO 3166 alpha-2).",
    ),
    primary_key=("partner_id",),
    required=frozenset({"partner_id", "name", "short_name", "country", "role", "sort_order"}),
)
PARTNER_NAMES = Table(
    name="partner_names",
    description="Every name each partner held, with its validity dates (a partner that"
    " changed its name has one row per name): join on partner_id and a date between"
    " valid_from and valid_to.",
    columns=fields_named(
        "partner_id",
        "name",
        "valid_from",
        "valid_to",
        name="Name of the partner organisation during the validity dates.",
        valid_from="First day this name was in use (the first day of the first period when the"
        " name is older).",
    ),
    primary_key=("partner_id", "valid_from"),
    required=frozenset({"partner_id", "name", "valid_from"}),
)
PERIODS = Table(
    name="periods",
    description="Reporting periods in order, each in one phase of project.yaml.",
    columns=fields_named(
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
        label="The period as a report shows it: its id, first and last month.",
        note="Set on a period that follows a gap in the calendar, when no activity was"
        " expected; it gives the gap's dates.",
    ),
    primary_key=("period_id",),
    required=frozenset(
        {"period_id", "start_date", "end_date", "phase", "deadline", "label", "sort_order"}
    ),
)
PHASES_TABLE = Table(
    name="phases",
    description="The project's phases in order (project.yaml); which partners report in"
    " each is the expected column of submission_completeness.",
    columns=fields_named(
        "phase", "name", "sort_order", name="Name of the phase.", phase="Phase id."
    ),
    primary_key=("phase",),
    required=frozenset({"phase", "name", "sort_order"}),
)
POLICY_INSTRUMENTS = Table(
    name="policy_instruments",
    description="Policy instruments addressed by the partners (names are editable placeholders).",
    columns=fields_named(
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
    columns=fields_named(
        "indicator_id",
        "name",
        "unit",
        "target",
        "indicator_type",
        "parent_indicator_id",
        "computation",
        "event_type",
        "sheet",
        "column",
        "filter",
        "instrument_filter",
        "breakdown",
        "base_year",
        "last_year",
        "description",
        "indicator_level",
        "sort_order",
        name="Name of the indicator.",
        event_type="Event type counted (computation count_events).",
        sheet="Published table of records the computation reads (events, good_practices,"
        " policy_measures, collaborations, or a table of the project's own sheets).",
        column="Column of that table the computation reads.",
        description="The indicator's definition in words.",
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
    columns=fields_named(
        "event_type",
        "phase",
        "target",
        "indicator_id",
        "consortium_level",
        "description",
        "max_days",
        "hosts_guest_partner",
        "back_to_back_allowed",
        "also_in_phase",
        phase="Phase the event type belongs to.",
        target="Number of such events the application form promises (the target of the"
        " indicator counting them, empty if none does).",
        indicator_id="Indicator that counts this event type (from indicators.csv).",
        description="What the event type is.",
    ),
    primary_key=("event_type",),
    required=frozenset({"event_type", "phase", "consortium_level"}),
)

REFERENCE_TABLES: tuple[Table, ...] = (
    PARTNERS,
    PARTNER_NAMES,
    PERIODS,
    PHASES_TABLE,
    POLICY_INSTRUMENTS,
    INDICATORS,
    EVENT_TYPES_TABLE,
)
