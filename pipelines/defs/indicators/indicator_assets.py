"""The indicators and the tables built on them: ONE step, the indicators computed once.

``indicators`` is a multi-asset: one asset per indicator of
``reference_data/indicators.csv`` (achieved, target and % of target as numbers, so the
asset's Plots tab charts them run over run; its breakdown; its progress chart) and the
tables derived from the same results. Every table is checked against its generated
schema before it is written; a failed check withholds the table (blocking).
"""

import re
from decimal import Decimal

import dagster as dg
import pandas as pd

from pipelines.core.indicators.compute import (
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
from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.tables import (
    INDICATOR_BREAKDOWN,
    INDICATOR_PROGRESS,
    INDICATOR_SCORECARD,
    REPORTING_RATES,
    STAKEHOLDER_MEETING_FLOOR,
    SUBMISSION_COMPLETENESS,
    Table,
)
from pipelines.core.outputs.report import data_uri, indicator_chart_svg
from pipelines.core.reference.loader import reference
from pipelines.core.state.review import Ledger, approved_indicators
from pipelines.core.state.submissions import current_records
from pipelines.defs.intake.checks import checked_outputs, schema_check_specs, table_out
from pipelines.defs.intake.ingest_assets import REFERENCE_KEYS, all_states
from pipelines.defs.metadata import markdown_table, progress_markdown
from pipelines.defs.resources import ClusterixPaths

FACT_INPUTS = ("events", "good_practices", "policy_measures", "collaborations")
TABLES: dict[str, tuple[Table, str]] = {
    t.name: (t, group)
    for t, group in (
        (INDICATOR_SCORECARD, "indicators"),
        (INDICATOR_BREAKDOWN, "indicators"),
        (INDICATOR_PROGRESS, "indicators"),
        (STAKEHOLDER_MEETING_FLOOR, "indicators"),
        (SUBMISSION_COMPLETENESS, "published"),
        (REPORTING_RATES, "published"),
    )
}


def indicator_asset_name(indicator_id: str) -> str:
    return "indicator_" + re.sub(r"[^0-9a-z]+", "_", indicator_id.lower())


def number(value: Decimal | None, unit: str) -> str:
    """One format per unit: money and percentages to 0.01, counts as whole numbers."""
    if value is None:
        return "n/a"
    return f"{value:,.2f}" if unit in ("EUR", "%") else f"{value:,.0f}"


def breakdown_markdown(result: IndicatorResult) -> str:
    """The breakdown, every partner listed (with 0 where it has nothing), one format."""
    rows = result.breakdown
    if result.unit != "%":
        by_partner = rows[rows["dimension"] == "partner"]
        present = set(by_partner["category"])
        absent = [p for p in reference().partner_ids if p not in present]
        zeros = pd.DataFrame({"dimension": "partner", "category": absent, "achieved": Decimal(0)})
        order = {p: i for i, p in enumerate(reference().partner_ids)}
        partners = pd.concat([by_partner, zeros], ignore_index=True).sort_values(
            "category", key=lambda s: s.map(order)
        )
        rows = pd.concat([partners, rows[rows["dimension"] != "partner"]], ignore_index=True)
    shown = rows.assign(achieved=[number(v, result.unit) for v in rows["achieved"]])
    return markdown_table(shown, limit=200)


def _indicator_out(definition: pd.Series) -> dg.AssetOut:
    return dg.AssetOut(
        key=indicator_asset_name(definition["indicator_id"]),
        dagster_type=dg.Nothing,
        group_name="indicators",
        description=f"{definition['indicator_id']} {definition['name']}: "
        f"{definition['computation']}",
        metadata={"indicator_id": definition["indicator_id"], "unit": definition["unit"]},
    )


def _indicator_metadata(result: IndicatorResult, progress: pd.DataFrame) -> dict[str, object]:
    metadata: dict[str, object] = {
        "target": dg.MetadataValue.float(float(result.target)),
        "unit": result.unit,
        "breakdown": dg.MetadataValue.md(breakdown_markdown(result)),
        "dagster/row_count": dg.MetadataValue.int(len(result.breakdown)),
    }
    # Numbers, not text, so that the Plots tab charts them run over run. C1 has no
    # value until a region reports 2015 and a later year: the point is then left out.
    if result.achieved is not None:
        metadata["achieved"] = dg.MetadataValue.float(float(result.achieved))
    if result.pct_of_target is not None:
        metadata["% of target"] = dg.MetadataValue.float(float(result.pct_of_target))
    mine = progress[progress["indicator_id"] == result.indicator_id]
    by_period = dict(zip(mine["period_id"], mine["achieved"], strict=True))
    figures = [
        (p, None if is_missing(by_period.get(p)) else float(by_period[p]))
        for p in reference().period_ids
    ]
    metadata["progress"] = dg.MetadataValue.md(
        progress_markdown(
            None if result.achieved is None else float(result.achieved),
            float(result.target),
            None if result.pct_of_target is None else float(result.pct_of_target),
            figures,
        )
    )
    svg = indicator_chart_svg(result.indicator_id, mine, result.target, reference().period_ids)
    metadata["progress chart"] = dg.MetadataValue.md(
        f"![{result.indicator_id} progress]({data_uri(svg, 'image/svg+xml')})"
    )
    return metadata


_DEFINITIONS = [row for _, row in reference().indicators.iterrows()]


@dg.multi_asset(
    outs={
        **{indicator_asset_name(d["indicator_id"]): _indicator_out(d) for d in _DEFINITIONS},
        **{name: table_out(table, group) for name, (table, group) in TABLES.items()},
    },
    ins={name: dg.AssetIn(name) for name in (*FACT_INPUTS, "submissions")},
    deps=["submission_states", *REFERENCE_KEYS],
    check_specs=schema_check_specs(t for t, _ in TABLES.values()),
)
def indicators(paths: ClusterixPaths, submissions: pd.DataFrame, **facts: pd.DataFrame):
    ref = reference()
    results = compute_indicators(facts, ref)
    states = all_states(paths).values()
    progress = indicator_progress(current_records(states), ref)
    approved = approved_indicators(Ledger.read(paths.state), states, ref)
    for result in results.values():
        yield dg.Output(
            None,
            output_name=indicator_asset_name(result.indicator_id),
            metadata=_indicator_metadata(result, progress),
        )
    completeness = submission_completeness(submissions, ref)
    floor = stakeholder_meeting_floor(facts["events"], ref)
    gaps = floor[~floor["floor_met"].astype(bool)]
    rate = overall_reporting_rate(completeness)
    frames = {
        INDICATOR_SCORECARD.name: (indicator_scorecard(results, approved), {}),
        INDICATOR_BREAKDOWN.name: (indicator_breakdown(results), {}),
        INDICATOR_PROGRESS.name: (progress, {}),
        STAKEHOLDER_MEETING_FLOOR.name: (
            floor,
            {
                "gaps": dg.MetadataValue.int(len(gaps)),
                "gap list": dg.MetadataValue.md(markdown_table(gaps, limit=60)),
            },
        ),
        SUBMISSION_COMPLETENESS.name: (
            completeness,
            {"reporting rate %": dg.MetadataValue.float(float(rate))} if rate is not None else {},
        ),
        REPORTING_RATES.name: (reporting_rates(completeness), {}),
    }
    yield from checked_outputs(
        (TABLES[name][0], frame, extra) for name, (frame, extra) in frames.items()
    )
