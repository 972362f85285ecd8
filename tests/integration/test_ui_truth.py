"""What the Dagster UI shows after a run on the bundled sample, read through GraphQL.

The webserver's GraphQL API is what the UI draws: the partition status bar of
``submission``, its partition-scoped check, and the indicators' numeric metadata.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

from pipelines.app.run import run_everything
from pipelines.core.metadata.tables import SUBMISSIONS, published_tables
from pipelines.core.outputs.parquet import read_parquet
from tests.helpers.dagster import dagster_instance

ROOT = Path(__file__).resolve().parents[2]

QUERY = """
{
  assetNodes {
    assetKey { path }
    partitionStats { numMaterialized numPartitions }
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
      metadataEntries { label __typename }
    }
  }
}
"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    base = tmp_path_factory.mktemp("bundled")
    mp = pytest.MonkeyPatch()
    mp.setenv("CLUSTERIX_RAW_DIR", str(ROOT / "raw"))
    mp.setenv("CLUSTERIX_ASSETS_DIR", str(base / "assets"))
    mp.setenv("CLUSTERIX_STATE_DIR", str(base / "state"))
    try:
        with dagster_instance() as instance:
            assert run_everything(instance).success
            with define_out_of_process_context(
                str(ROOT / "workspace.yaml"), None, instance
            ) as context:
                result = execute_dagster_graphql(context, QUERY)
        assert not result.errors, result.errors
        nodes = {"/".join(n["assetKey"]["path"]): n for n in result.data["assetNodes"]}
        yield nodes, base / "assets"
    finally:
        mp.undo()


def test_partition_status_agrees_with_the_submissions_table(ui):
    nodes, assets = ui
    submissions = read_parquet(SUBMISSIONS, assets)
    in_use = submissions[submissions["current"].astype(bool)]
    stats = nodes["submission"]["partitionStats"]
    assert stats == {"numMaterialized": len(in_use), "numPartitions": 118}
    assert len(in_use) == 116
    (check,) = nodes["submission"]["assetChecksOrError"]["checks"]
    assert check["name"] == "workbook_accepted"
    assert sorted(check["partitionStatuses"]["failedPartitions"]) == ["P7|RP03", "P8|RP07"]


def test_schema_and_attribution_checks_pass_on_the_sample(ui):
    """The sample's flaws are rows and two workbooks; its tables break no contract."""
    nodes, _ = ui
    statuses = {
        (key, check["name"]): (check["executionForLatestMaterialization"] or {}).get("status")
        for key, node in nodes.items()
        for check in node["assetChecksOrError"].get("checks", [])
    }
    schema = {k: v for k, v in statuses.items() if k[1] == "conforms_to_schema"}
    assert len(schema) == len(published_tables()), "every published table has one"
    assert set(schema.values()) == {"SUCCEEDED"}
    assert statuses[("unattributed_files", "every_file_attributed")] == "SUCCEEDED"


def test_indicator_figures_are_numbers_the_plots_tab_can_chart(ui):
    nodes, _ = ui
    (materialization,) = nodes["indicator_o1"]["assetMaterializations"]
    kinds = {e["label"]: e["__typename"] for e in materialization["metadataEntries"]}
    assert kinds["achieved"] == kinds["target"] == kinds["% of target"] == "FloatMetadataEntry"
