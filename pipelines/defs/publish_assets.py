"""Published tables about submissions and the current facts, with their checks.

One multi-asset computes them together from the partner-period states: the
``submissions`` ledger, the ``validation_issues`` partners act on, and the four fact
tables after SPEC section 5. Each fact table carries two checks: the sheet's rules
(how many rows the Pandera model quarantined or warned about, with a sample) and the
generated Pandera schema of the published table itself.
"""

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from pipelines.core.facts import resolve_facts
from pipelines.core.ingest import Outcome
from pipelines.core.reference import reference
from pipelines.core.review import Ledger
from pipelines.core.schemas import table_schema
from pipelines.core.submissions import current_records, issues_table, submissions_table
from pipelines.core.tables import (
    FACT_TABLES,
    RECORD_SHEETS,
    SUBMISSIONS,
    VALIDATION_ISSUES,
    Table,
)
from pipelines.defs.metadata import column_schema, markdown_table, table_metadata
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


def _out(table: Table) -> dg.AssetOut:
    return dg.AssetOut(
        key=table.name,
        io_manager_key="table_io",
        description=table.description,
        metadata={"table": table.name, "dagster/column_schema": column_schema(table)},
        group_name="published",
        kinds={"parquet"},
    )


def _check_specs() -> list[dg.AssetCheckSpec]:
    specs = [
        dg.AssetCheckSpec(
            "conforms_to_schema", asset=t.name, description="Generated Pandera schema"
        )
        for t in PUBLISHED
    ]
    specs += [
        dg.AssetCheckSpec(
            "sheet_rules",
            asset=t.name,
            description=f"Rows of the {SHEET_OF_TABLE[t.name]} sheets that broke a rule",
        )
        for t in FACT_TABLES
    ]
    return specs


def schema_check(frame: pd.DataFrame, table: Table) -> dg.AssetCheckResult:
    """The published frame against the Pandera schema generated from its definition."""
    try:
        table_schema(table).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        return dg.AssetCheckResult(
            asset_key=table.name,
            check_name="conforms_to_schema",
            passed=False,
            metadata={
                "failures": len(cases),
                "sample": dg.MetadataValue.md(
                    markdown_table(cases[["column", "check", "failure_case", "index"]])
                ),
            },
        )
    return dg.AssetCheckResult(asset_key=table.name, check_name="conforms_to_schema", passed=True)


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
    outs={t.name: _out(t) for t in PUBLISHED},
    ins={
        "submission": dg.AssetIn("submission"),
        "unattributed_files": dg.AssetIn("unattributed_files"),
    },
    check_specs=_check_specs(),
)
def published_submissions(
    paths: ClusterixPaths, submission: dict, unattributed_files: list[Outcome]
):
    states = list(submission.values())
    facts = resolve_facts(current_records(states), reference())
    ledger = Ledger.read(paths.state)
    frames = {
        SUBMISSIONS.name: ledger.with_review_status(submissions_table(states, unattributed_files)),
        VALIDATION_ISSUES.name: issues_table(states, unattributed_files, [facts.issues]),
        **facts.tables,
    }
    for table in PUBLISHED:
        frame = frames[table.name]
        yield dg.Output(frame, output_name=table.name, metadata=table_metadata(frame, table))
        yield schema_check(frame, table)
    for table in FACT_TABLES:
        yield sheet_check(table, frames[VALIDATION_ISSUES.name])
