"""The partner workbook's sheets (SPEC section 3), as lists of registered fields.

The template, the Guide, the reader and the sheet schemas all take the workbook's shape
from here; the published tables in :mod:`pipelines.core.metadata.tables` build on the sheets.
"""

from __future__ import annotations

from pipelines.core.metadata.table_model import Sheet, fields_named

COVER_FIELDS = fields_named(
    "partner_id",
    "period_id",
    "template_version",
    "submitted_on",
    "contact_name",
    "contact_email",
    partner_id="Your partner id, as your folder is named. Must match your folder.",
    period_id="The reporting period of this workbook. Must match the file name.",
)

EVENTS_SHEET = Sheet(
    name="Events",
    table="events",
    ref="event_ref",
    description="Policy learning events organised by your organisation, one per row.",
    columns=fields_named(
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
    columns=fields_named(
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
    columns=fields_named(
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
    description="Regional context figures, one row per year.",
    columns=fields_named(
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

CONTEXT: dict[str, str] = {
    "_partner_id": "partner_id",
    "_period_id": "period_id",
    "_file": "file",
    "_sha256": "sha256",
    "_submitted_on": "submitted_on",
    "_row": "row",
}
"""Each context column of a sheet frame and what it carries: the attribute of the file
version's outcome it is filled from (the row: the spreadsheet row), and the column of
the published records it becomes. The one list of it, for ingest and validation."""
LINEAGE: dict[str, str] = {c: name for c, name in CONTEXT.items() if name != "submitted_on"}
"""The context a published record keeps (the submission date is the submission's)."""
SOURCE = ("file", "sha256", "partner_id", "period_id")
