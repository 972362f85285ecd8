"""Published tables about submissions and the current facts, with their checks.

One multi-asset computes them together from the partner-period states: the
``submissions`` ledger, the ``validation_issues`` partners act on, and the four fact
tables after SPEC section 5. Each fact table carries two checks: the sheet's rules
(how many rows the Pandera model quarantined or warned about, with a sample) and the
generated Pandera schema of the published table itself.
"""

import dagster as dg
import pandas as pd

from pipelines.core.facts import resolve_facts
from pipelines.core.reference import reference
from pipelines.core.submissions import current_records, issues_table, submissions_table
from pipelines.core.tables import (
    FACT_TABLES,
    RECORD_SHEETS,
    SUBMISSIONS,
    VALIDATION_ISSUES,
    Table,
)
from pipelines.defs.checks import checked_outputs, schema_check_specs, table_out
from pipelines.defs.ingest_assets import REFERENCE_KEYS, all_states, stray_outcomes
from pipelines.defs.metadata import markdown_table
from pipelines.defs.resources import ClusterixPaths

SHEET_OF_TABLE = {s.table: s.name for s in RECORD_SHEETS}
PUBLISHED = (SUBMISSIONS, VALIDATION_ISSUES, *FACT_TABLES)
SAMPLE_COLUMNS = [
    "partner_id",
    "period_id",
    "row",
    "column",
    "value",
    "severity",
    "rule",
    "message",
]


def _check_specs() -> list[dg.AssetCheckSpec]:
    specs = schema_check_specs(PUBLISHED)
    specs += [
        dg.AssetCheckSpec(
            "sheet_rules",
            asset=t.name,
            description=(
                f"No row of the {SHEET_OF_TABLE[t.name]} sheets broke a rule of severity"
                " error. A failure (a warning: publication goes on) means rows were"
                " quarantined: they are left out of the table until the partner sends a"
                " corrected workbook. The metadata counts them by rule, with a sample."
            ),
        )
        for t in FACT_TABLES
    ]
    return specs


def sheet_check(table: Table, issues: pd.DataFrame) -> dg.AssetCheckResult:
    """What the sheet's Pandera model found in the workbooks behind this table."""
    found = issues[issues["sheet"] == SHEET_OF_TABLE[table.name]]
    errors = found[found["severity"] == "error"]
    by_rule = (
        found.groupby(["severity", "rule"]).size().rename("issues").reset_index()
        if not found.empty
        else pd.DataFrame(columns=["severity", "rule", "issues"])
    )
    return dg.AssetCheckResult(
        asset_key=table.name,
        check_name="sheet_rules",
        passed=errors.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "quarantined rows": dg.MetadataValue.int(
                len(errors.drop_duplicates(["sha256", "row"]))
            ),
            "errors": dg.MetadataValue.int(len(errors)),
            "warnings": dg.MetadataValue.int(len(found) - len(errors)),
            "by rule": dg.MetadataValue.md(markdown_table(by_rule, limit=50)),
            "sample": dg.MetadataValue.md(markdown_table(found[SAMPLE_COLUMNS], limit=20)),
        },
    )


@dg.multi_asset(
    outs={t.name: table_out(t, "published") for t in PUBLISHED},
    deps=["submission_states", "unattributed_files", *REFERENCE_KEYS],
    check_specs=_check_specs(),
)
def published_submissions(paths: ClusterixPaths):
    states = list(all_states(paths).values())
    strays = stray_outcomes(paths)
    facts = resolve_facts(current_records(states), reference())
    frames = {
        SUBMISSIONS.name: submissions_table(states, strays),
        VALIDATION_ISSUES.name: issues_table(states, strays, [facts.issues]),
        **facts.tables,
    }
    yield from checked_outputs((t, frames[t.name], {}) for t in PUBLISHED)
    for table in FACT_TABLES:
        yield sheet_check(table, frames[VALIDATION_ISSUES.name])
