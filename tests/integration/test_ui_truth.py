"""Every surface of the Dagster UI shows the one status function's answer.

A sample with a partner-period of every status (``every_status.py``) is run twice; then
run once more with nothing new; the webserver's GraphQL API, which is what the UI
draws, is read: the partition view of
``submission`` and its two partition-scoped checks, the grid's counts on
``submission_states``, the morning page ``coordinator_summary``; and beside them the
published ``submission_completeness`` table and ``clusterix run``'s summary line. All
of them must say what :func:`submission_statuses` says over the published tables.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

from pipelines.app.run import run_everything, statuses_summary
from pipelines.core.metadata.enumerations import (
    LATE,
    MISSING,
    NOT_EXPECTED,
    NOT_YET_DUE,
    ON_TIME,
    REJECTED,
)
from pipelines.core.metadata.tables import (
    SUBMISSION_COMPLETENESS,
    SUBMISSIONS,
    VALIDATION_ISSUES,
    published_tables,
)
from pipelines.core.outputs.parquet import read_parquet
from pipelines.core.reference.loader import reference
from pipelines.core.state.completeness import STATUS_WORDS, submission_statuses
from pipelines.defs.intake.up_to_date import NOTHING_NEW, OUTCOME_TAG
from tests.helpers.dagster import dagster_instance
from tests.helpers.every_status import EXPECTED, every_status_environment, run_every_status

ROOT = Path(__file__).resolve().parents[2]

QUERY = """
{
  assetNodes {
    assetKey { path }
    staleStatus
    partitionStats { numMaterialized numPartitions }
    assetPartitionStatuses {
      ... on DefaultPartitionStatuses { materializedPartitions failedPartitions }
    }
    assetChecksOrError {
      ... on AssetChecks {
        checks {
          name
          executionForLatestMaterialization { status }
          partitionStatuses {
            ... on AssetCheckDefaultPartitionStatuses { succeededPartitions failedPartitions }
          }
        }
      }
    }
    assetMaterializations(limit: 1) {
      metadataEntries { label __typename ... on IntMetadataEntry { intValue } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, pd.DataFrame, Path, dg.DagsterRun]:
    base = tmp_path_factory.mktemp("every_status")
    with every_status_environment(base) as env, dagster_instance() as instance:
        run_every_status(Path(env["CLUSTERIX_RAW_DIR"]), instance)
        assert run_everything(instance).success  # a third run, with nothing new
        (last,) = instance.get_runs(limit=1)
        with define_out_of_process_context(str(ROOT / "workspace.yaml"), None, instance) as context:
            result = execute_dagster_graphql(context, QUERY)
        assert not result.errors, result.errors
        nodes = {"/".join(n["assetKey"]["path"]): n for n in result.data["assetNodes"]}
        assets = base / "assets"
        statuses = submission_statuses(
            read_parquet(SUBMISSIONS, assets),
            reference(),
            dt.datetime.now(dt.UTC).date(),
            read_parquet(VALIDATION_ISSUES, assets),
        )
        statuses.index = statuses["partner_id"] + "|" + statuses["period_id"]
        yield nodes, statuses, assets, last


def _keys(statuses: pd.DataFrame, *wanted: str) -> list[str]:
    return sorted(statuses.index[statuses["status"].isin(wanted)])


def _checks(node: dict) -> dict[str, dict]:
    return {c["name"]: c for c in node["assetChecksOrError"]["checks"]}


def _ints(node: dict) -> dict[str, int]:
    (materialization,) = node["assetMaterializations"]
    entries = materialization["metadataEntries"]
    return {e["label"]: e["intValue"] for e in entries if e["__typename"] == "IntMetadataEntry"}


def test_the_sample_holds_every_status(ui):
    _, statuses, _, _ = ui
    assert {key: statuses.loc[key, "status"] for key in EXPECTED} == EXPECTED
    assert statuses.loc["P2|RP07", "days_late"] == 22
    assert bool(statuses.loc["P5|RP07", "latest_rejected"])
    assert statuses.loc["P7|RP03", "reason"].startswith("this file is not an .xlsx")


def test_partition_view_agrees_with_the_status_function(ui):
    nodes, statuses, _, _ = ui
    submission = nodes["submission"]
    expected = statuses[statuses["status"] != NOT_EXPECTED]
    assert submission["partitionStats"]["numPartitions"] == len(expected) == 118
    partitions = submission["assetPartitionStatuses"]
    assert sorted(partitions["materializedPartitions"]) == _keys(statuses, ON_TIME, LATE)
    checks = _checks(submission)
    accepted = checks["workbook_accepted"]["partitionStatuses"]
    refused = sorted([*_keys(statuses, REJECTED), *statuses.index[statuses["latest_rejected"]]])
    assert sorted(accepted["failedPartitions"]) == refused == ["P5|RP07", "P7|RP03"]
    assert sorted(accepted["succeededPartitions"]) == ["P2|RP07", "P4|RP07"]
    deadline = checks["submitted_by_deadline"]["partitionStatuses"]
    assert sorted(deadline["succeededPartitions"]) == _keys(statuses, ON_TIME, NOT_YET_DUE)
    assert sorted(deadline["failedPartitions"]) == _keys(statuses, LATE, MISSING, REJECTED)


def test_grid_morning_page_table_and_run_summary_agree(ui):
    nodes, statuses, assets, _ = ui
    counts = {
        STATUS_WORDS[s]: int((statuses["status"] == s).sum())
        for s in STATUS_WORDS
        if s != NOT_EXPECTED
    }
    counts["latest upload refused"] = int(statuses["latest_rejected"].sum())
    for asset in ("submission_states", "coordinator_summary"):
        shown = _ints(nodes[asset])
        assert {k: shown[k] for k in counts} == counts, asset
    completeness = read_parquet(SUBMISSION_COMPLETENESS, assets)
    keys = completeness["partner_id"] + "|" + completeness["period_id"]
    assert dict(zip(keys, completeness["status"], strict=True)) == statuses["status"].to_dict()
    summary = statuses_summary(completeness)
    for words in ("on time", "late", "refused", "missing", "not yet due"):
        assert f"{counts[words]} {words}" in summary


def test_schema_and_attribution_checks_pass_on_the_sample(ui):
    """The sample's flaws are whole workbooks; its tables break no contract."""
    nodes, _, _, _ = ui
    statuses = {
        (key, check["name"]): (check["executionForLatestMaterialization"] or {}).get("status")
        for key, node in nodes.items()
        for check in node["assetChecksOrError"].get("checks", [])
    }
    schema = {k: v for k, v in statuses.items() if k[1] == "conforms_to_schema"}
    assert len(schema) == len(published_tables()), "every published table has one"
    assert {k: v for k, v in schema.items() if v != "SUCCEEDED"} == {}
    assert statuses[("unattributed_files", "every_file_attributed")] == "SUCCEEDED"


def test_a_run_with_nothing_new_leaves_the_ui_as_it_was(ui):
    """No check Skipped, nothing Unsynced, and the run says so in the Runs list."""
    nodes, _, _, last = ui
    assert last.tags[OUTCOME_TAG] == NOTHING_NEW
    checks = {
        (key, check["name"]): (check["executionForLatestMaterialization"] or {}).get("status")
        for key, node in nodes.items()
        if key != "submission"
        for check in node["assetChecksOrError"].get("checks", [])
    }
    assert {k: v for k, v in checks.items() if v not in ("SUCCEEDED", "FAILED")} == {}
    stale = {key: n["staleStatus"] for key, n in nodes.items() if n["staleStatus"] == "STALE"}
    assert stale == {}
