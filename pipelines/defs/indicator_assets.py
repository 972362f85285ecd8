"""One asset per indicator, and the indicator and completeness tables built on them.

Indicators are data (``reference_data/indicators.csv``); :func:`indicator_asset`
turns each into an asset whose metadata shows its value against the target, its
breakdown and its progress chart.
"""

import re

import dagster as dg
import pandas as pd

from pipelines.core.indicators import (
    IndicatorResult,
    compute_indicators,
    indicator_breakdown,
    indicator_progress,
    indicator_scorecard,
    overall_reporting_rate,
    reporting_rates,
    stakeholder_meeting_floor,
    submission_completeness,
)
from pipelines.core.reference import reference
from pipelines.core.report import data_uri, indicator_chart_svg
from pipelines.core.review import Ledger, approved_indicators
from pipelines.core.submissions import current_records
from pipelines.core.tables import (
    INDICATOR_BREAKDOWN,
    INDICATOR_PROGRESS,
    INDICATOR_SCORECARD,
    REPORTING_RATES,
    STAKEHOLDER_MEETING_FLOOR,
    SUBMISSION_COMPLETENESS,
    Table,
)
from pipelines.defs.metadata import column_schema, markdown_table, table_metadata
from pipelines.defs.resources import ClusterixPaths

FACT_INPUTS = ("events", "good_practices", "policy_measures", "collaborations")


def indicator_asset_name(indicator_id: str) -> str:
    return "indicator_" + re.sub(r"[^0-9a-z]+", "_", indicator_id.lower())


def _value(value: object) -> str:
    return "n/a" if value is None else f"{value:,}"


BREAKDOWN_SCHEMA = dg.TableSchema(
    columns=[c for c in column_schema(INDICATOR_BREAKDOWN).columns if c.name != "indicator_id"]
)


def indicator_asset(definition: pd.Series) -> dg.AssetsDefinition:
    """The asset of one indicator: its value, breakdown and chart against the target."""
    indicator_id = definition["indicator_id"]

    @dg.asset(
        name=indicator_asset_name(indicator_id),
        group_name="indicators",
        io_manager_key="state_io",
        description=f"{indicator_id} {definition['name']}: {definition['computation']}",
        ins={name: dg.AssetIn(name) for name in (*FACT_INPUTS, "indicator_progress")},
        metadata={"indicator_id": indicator_id, "target": str(definition["target"])},
    )
    def _asset(context: dg.AssetExecutionContext, **inputs: pd.DataFrame) -> IndicatorResult:
        facts = {name: inputs[name] for name in FACT_INPUTS}
        result = compute_indicators(facts, reference())[indicator_id]
        progress = inputs["indicator_progress"]
        progress = progress[progress["indicator_id"] == indicator_id]
        metadata: dict[str, object] = {
            "achieved": _value(result.achieved),
            "target": _value(result.target),
            "unit": result.unit,
            "% of target": _value(result.pct_of_target),
            "breakdown": dg.MetadataValue.md(markdown_table(result.breakdown, limit=60)),
            "dagster/row_count": dg.MetadataValue.int(len(result.breakdown)),
            "dagster/column_schema": BREAKDOWN_SCHEMA,
        }
        # Over every period of the project, like the report: the line ends where reporting does.
        svg = indicator_chart_svg(indicator_id, progress, result.target, reference().period_ids)
        metadata["chart"] = dg.MetadataValue.md(
            f"![{indicator_id} progress]({data_uri(svg, 'image/svg+xml')})"
        )
        context.add_output_metadata(metadata)
        return result

    return _asset


indicator_assets = [indicator_asset(row) for _, row in reference().indicators.iterrows()]
_INDICATOR_INS = {
    indicator_asset_name(i): dg.AssetIn(indicator_asset_name(i))
    for i in reference().indicators["indicator_id"]
}


def _in_reference_order(results: dict[str, IndicatorResult]) -> dict[str, IndicatorResult]:
    """Indicator results keyed by id, in the order of the indicators reference table."""
    by_id = {r.indicator_id: r for r in results.values()}
    return {i: by_id[i] for i in reference().indicators["indicator_id"]}


def _table_asset_kwargs(table: Table, group: str) -> dict:
    return {
        "name": table.name,
        "group_name": group,
        "io_manager_key": "table_io",
        "description": table.description,
        "metadata": {"table": table.name, "dagster/column_schema": column_schema(table)},
        "kinds": {"parquet"},
    }


@dg.asset(
    **_table_asset_kwargs(INDICATOR_SCORECARD, "indicators"),
    ins={**_INDICATOR_INS, "submission": dg.AssetIn("submission")},
)
def indicator_scorecard_asset(
    context: dg.AssetExecutionContext,
    paths: ClusterixPaths,
    submission: dict,
    **results: IndicatorResult,
) -> pd.DataFrame:
    approved = approved_indicators(Ledger.read(paths.state), submission.values(), reference())
    frame = indicator_scorecard(_in_reference_order(results), approved)
    context.add_output_metadata(table_metadata(frame, INDICATOR_SCORECARD))
    return frame


@dg.asset(**_table_asset_kwargs(INDICATOR_BREAKDOWN, "indicators"), ins=_INDICATOR_INS)
def indicator_breakdown_asset(
    context: dg.AssetExecutionContext, **results: IndicatorResult
) -> pd.DataFrame:
    frame = indicator_breakdown(_in_reference_order(results))
    context.add_output_metadata(table_metadata(frame, INDICATOR_BREAKDOWN))
    return frame


@dg.asset(
    **_table_asset_kwargs(INDICATOR_PROGRESS, "indicators"),
    ins={"submission": dg.AssetIn("submission")},
)
def indicator_progress_asset(context: dg.AssetExecutionContext, submission: dict) -> pd.DataFrame:
    frame = indicator_progress(current_records(submission.values()), reference())
    context.add_output_metadata(table_metadata(frame, INDICATOR_PROGRESS))
    return frame


@dg.asset(**_table_asset_kwargs(SUBMISSION_COMPLETENESS, "published"))
def submission_completeness_asset(
    context: dg.AssetExecutionContext, submissions: pd.DataFrame
) -> pd.DataFrame:
    frame = submission_completeness(submissions, reference())
    metadata = dict(table_metadata(frame, SUBMISSION_COMPLETENESS))
    metadata["reporting rate %"] = _value(overall_reporting_rate(frame))
    context.add_output_metadata(metadata)
    return frame


@dg.asset(**_table_asset_kwargs(REPORTING_RATES, "published"))
def reporting_rates_asset(
    context: dg.AssetExecutionContext, submission_completeness: pd.DataFrame
) -> pd.DataFrame:
    frame = reporting_rates(submission_completeness)
    context.add_output_metadata(table_metadata(frame, REPORTING_RATES))
    return frame


@dg.asset(**_table_asset_kwargs(STAKEHOLDER_MEETING_FLOOR, "indicators"))
def stakeholder_meeting_floor_asset(
    context: dg.AssetExecutionContext, events: pd.DataFrame
) -> pd.DataFrame:
    frame = stakeholder_meeting_floor(events, reference())
    gaps = frame[~frame["floor_met"].astype(bool)]
    metadata = dict(table_metadata(frame, STAKEHOLDER_MEETING_FLOOR))
    metadata["gaps"] = dg.MetadataValue.int(len(gaps))
    metadata["gap list"] = dg.MetadataValue.md(markdown_table(gaps, limit=60))
    context.add_output_metadata(metadata)
    return frame
