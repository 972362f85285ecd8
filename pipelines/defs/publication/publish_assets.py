"""Published tables about submissions and the current facts, with their checks, and
the ``publication`` asset that makes each run's tables one published set.

One multi-asset computes them together from the partner-period states: the
``submissions`` ledger, the ``validation_issues`` partners act on, and the four fact
tables after SPEC section 5. Each fact table carries two checks: the sheet's rules
(how many rows the Pandera model quarantined or warned about, with a sample) and the
generated Pandera schema of the published table itself.
"""

import time
from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.core.indicators.compute import c1_regions
from pipelines.core.metadata.tables import (
    C1_REGIONS,
    GOOD_PRACTICE_STAGE_HISTORY,
    SUBMISSIONS,
    VALIDATION_ISSUES,
    Table,
    published_tables,
)
from pipelines.core.outputs.manifest import (
    MANIFEST,
    SourceFile,
    publish_snapshot,
    reference_sources,
    snapshot_dir,
)
from pipelines.core.outputs.parquet import read_parquet_file
from pipelines.core.outputs.warehouse import DATABASE, build_database
from pipelines.core.reference.loader import reference
from pipelines.core.state.facts import resolve_facts
from pipelines.core.state.history import good_practice_stage_history
from pipelines.core.state.review import Ledger
from pipelines.core.state.submissions import current_records, issues_table, submissions_table
from pipelines.defs.intake.checks import checked_outputs, schema_check_specs, table_out
from pipelines.defs.intake.saved_states import all_states, stray_outcomes
from pipelines.defs.metadata import markdown_table
from pipelines.defs.operations.jobs import REFERENCE_KEYS
from pipelines.defs.resources import ClusterixPaths
from pipelines.platform.settings import settings

# The project's record sheets and their tables: the standard four and its own (a process
# serves one project, whose assets are defined when the code location loads).
PROJECT_FACT_TABLES = reference().fact_tables
SHEET_OF_TABLE = {s.table: s.name for s in reference().record_sheets}
PUBLISHED = (SUBMISSIONS, VALIDATION_ISSUES, *PROJECT_FACT_TABLES)
TABLES = published_tables(PROJECT_FACT_TABLES)
SAMPLE_COLUMNS = [
    "partner_id",
    "period_id",
    "sheet_row",
    "sheet_column",
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
        for t in PROJECT_FACT_TABLES
    ]
    return specs


def sheet_check(table: Table, issues: pd.DataFrame) -> dg.AssetCheckResult:
    """What the sheet's Pandera model found in the workbooks behind this table."""
    found = issues[(issues["sheet"] == SHEET_OF_TABLE[table.name]) & issues["is_open"]]
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
                len(errors.drop_duplicates(["file", "sha256", "sheet_row"]))
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
    ledger = Ledger.read(paths.state)
    frames = {
        SUBMISSIONS.name: ledger.with_review_status(submissions_table(states, strays)),
        VALIDATION_ISSUES.name: issues_table(states, strays, [facts.issues]),
        **facts.tables,
    }
    yield from checked_outputs((t, frames[t.name], {}) for t in PUBLISHED)
    for table in PROJECT_FACT_TABLES:
        yield sheet_check(table, frames[VALIDATION_ISSUES.name])


@dg.multi_asset(
    outs={t.name: table_out(t, "published") for t in (GOOD_PRACTICE_STAGE_HISTORY, C1_REGIONS)},
    ins={"collaborations": dg.AssetIn("collaborations")},
    deps=["submission_states", *REFERENCE_KEYS],
    check_specs=schema_check_specs((GOOD_PRACTICE_STAGE_HISTORY, C1_REGIONS)),
)
def history_tables(paths: ClusterixPaths, collaborations: pd.DataFrame):
    """What the current facts alone cannot say: stage history, C1's regional inputs."""
    ref = reference()
    records = current_records(all_states(paths).values())
    yield from checked_outputs(
        [
            (GOOD_PRACTICE_STAGE_HISTORY, good_practice_stage_history(records, ref), {}),
            (C1_REGIONS, c1_regions(collaborations, ref), {}),
        ]
    )


class PublicationConfig(dg.Config):
    """How many snapshots to keep (empty: ``CLUSTERIX_KEEP_SNAPSHOTS``, default all)."""

    keep_snapshots: int | None = None


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def _submission_sources(assets: Path, run_id: str) -> list[SourceFile]:
    """The workbook versions the run's tables use, from the run's own submissions table."""
    staged = snapshot_dir(assets, run_id) / f"{SUBMISSIONS.name}.parquet"
    path = staged if staged.exists() else assets / f"{SUBMISSIONS.name}.parquet"
    submissions = read_parquet_file(SUBMISSIONS, path)
    used = submissions[submissions["current"].astype("boolean").fillna(False).astype(bool)]
    return [
        SourceFile(path=f"raw/{row.file}", sha256=row.sha256, kind="submission")
        for row in used.itertuples(index=False)
    ]


@dg.asset(
    group_name="published",
    deps=[dg.AssetKey(name) for name in TABLES],
    kinds={"parquet", "json"},
    description=(
        "Publishes the run's tables as one set: verifies the snapshot"
        " assets/history/<run_id>/, replaces the stable assets/<table>.parquet, rebuilds"
        " assets/clusterix.duckdb and writes assets/manifest.json last. Runs only when every"
        " table (and its blocking checks) succeeded, so a failed run leaves the previous"
        " set in place."
    ),
)
def publication(
    context: dg.AssetExecutionContext, config: PublicationConfig, paths: ClusterixPaths
) -> dg.MaterializeResult:
    assets, run_id = paths.assets, context.run.run_id
    started = time.perf_counter()
    keep = config.keep_snapshots if config.keep_snapshots is not None else settings().keep_snapshots
    manifest = publish_snapshot(
        assets,
        run_id,
        TABLES.values(),
        [*_submission_sources(assets, run_id), *reference_sources(reference().folder)],
        after_promotion=lambda: build_database(assets, TABLES.values()),
        keep=keep,
    )
    tables = manifest["tables"]
    snapshot = snapshot_dir(assets, run_id)
    listing = pd.DataFrame(
        [
            {"table": name, "rows": t["rows"], "sha256": t["sha256"][:12]}
            for name, t in tables.items()
        ]
    )
    return dg.MaterializeResult(
        metadata={
            "manifest": dg.MetadataValue.path(str(assets / MANIFEST)),
            "snapshot": dg.MetadataValue.path(str(snapshot)),
            "snapshot kB": dg.MetadataValue.float(round(_size(snapshot) / 1e3, 1)),
            "duckdb": dg.MetadataValue.path(str(assets / DATABASE)),
            "tables": dg.MetadataValue.int(len(tables)),
            "rows": dg.MetadataValue.int(sum(t["rows"] for t in tables.values())),
            "code version": manifest["code_version"],
            "seconds": dg.MetadataValue.float(round(time.perf_counter() - started, 3)),
            "set": dg.MetadataValue.md(markdown_table(listing, limit=60)),
        }
    )
