"""The indicators and the tables built on them: ONE step, the indicators computed once.

``indicators`` is a multi-asset: one asset per indicator of
the project's ``indicators.csv`` (achieved, target and % of target first, formatted
with their unit; achieved after each reporting period as a small chart in place on the
overview; the breakdown by partner; the SVG progress chart) and the
tables derived from the same results. Every table is checked against its generated
schema before it is written; a failed check withholds the table (blocking).
"""

import re
from collections.abc import Sequence
from decimal import Decimal

import dagster as dg
import pandas as pd

from pipelines.core.indicators.approved import approved_indicators
from pipelines.core.indicators.compute import (
    IndicatorResult,
    achieved_up_to,
    compute_indicators,
    floor_gaps,
    indicator_breakdown,
    indicator_progress,
    indicator_scorecard,
    overall_reporting_rate,
    reporting_rates,
    stakeholder_meeting_floor,
    submission_completeness,
)
from pipelines.core.indicators.progress_store import KeptProgress, period_digests
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
from pipelines.core.outputs.numbers import figure, percent, with_unit
from pipelines.core.outputs.report import data_uri, indicator_chart_svg
from pipelines.core.reference.loader import reference
from pipelines.core.state.review import Ledger
from pipelines.core.state.submissions import current_records
from pipelines.defs.intake.checks import checked_outputs, schema_check_specs, table_out
from pipelines.defs.intake.saved_states import all_states
from pipelines.defs.intake.up_to_date import inputs_fingerprint
from pipelines.defs.metadata import BAR_CELLS, markdown_table
from pipelines.defs.operations.jobs import REFERENCE_KEYS
from pipelines.defs.resources import ClusterixPaths

# The project's fact tables: the standard four and those of its own sheets (sheets.yaml).
FACT_INPUTS = tuple(table.name for table in reference().fact_tables)
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


def breakdown_markdown(result: IndicatorResult) -> str:
    """The breakdown, every partner listed by id and name (0 where it has nothing)."""
    ref = reference()
    rows = result.breakdown
    if result.unit != "%":
        by_partner = rows[rows["dimension"] == "partner"]
        present = set(by_partner["category"])
        absent = [p for p in ref.partner_ids if p not in present]
        zeros = pd.DataFrame({"dimension": "partner", "category": absent, "achieved": Decimal(0)})
        order = {p: i for i, p in enumerate(ref.partner_ids)}
        partners = pd.concat([by_partner, zeros], ignore_index=True).sort_values(
            "category", key=lambda s: s.map(order)
        )
        partners = partners.assign(
            category=[f"{p} {ref.partner_name(p)}" for p in partners["category"]]
        )
        rows = pd.concat([partners, rows[rows["dimension"] != "partner"]], ignore_index=True)
    shown = rows.assign(achieved=[figure(v, result.unit) for v in rows["achieved"]])
    return markdown_table(shown, limit=200)


def by_period_markdown(
    result: IndicatorResult, by_period: Sequence[tuple[str, Decimal | None]]
) -> str:
    """Achieved after each reporting period against the target: a small table whose bars
    Dagster shows in place on the overview (under 1,000 characters)."""
    if not by_period:
        return "_no figures reported yet_"
    target = figure(result.target, result.unit)
    lines = [f"| period | achieved | of target {target} |", "|---|--:|---|"]
    for period, value in by_period:
        if value is None:
            lines.append(f"| {period} | · | |")
            continue
        share = float(value / result.target) if result.target else 0.0
        cells = max(0, min(BAR_CELLS, round(share * BAR_CELLS)))
        bar = "█" * cells + "░" * (BAR_CELLS - cells) + ("▶" if share > 1 else "")
        lines.append(f"| {period} | {figure(value, result.unit)} | `{bar}` |")
    return "\n".join(lines)


def _indicator_out(definition: pd.Series) -> dg.AssetOut:
    return dg.AssetOut(
        key=indicator_asset_name(definition["indicator_id"]),
        dagster_type=dg.Nothing,
        group_name="indicators",
        description=f"{definition['indicator_id']} {definition['name']}: "
        f"{definition['computation']}",
        metadata={"indicator_id": definition["indicator_id"], "unit": definition["unit"]},
    )


def _indicator_metadata(
    result: IndicatorResult, progress: pd.DataFrame, approved: IndicatorResult | None
) -> dict[str, object]:
    """Achieved, target and % first, in words and digits; then the chart by period and
    the breakdown. ``approved`` is the same indicator from approved partner-periods
    only, None while nothing is approved."""
    mine = progress[progress["indicator_id"] == result.indicator_id]
    by_period = dict(zip(mine["period_id"], mine["achieved"], strict=True))
    figures = [
        (p, None if is_missing(by_period.get(p)) else by_period[p]) for p in mine["period_id"]
    ]
    pct = result.pct_of_target
    metadata: dict[str, object] = {
        "achieved": with_unit(result.achieved, result.unit),
        "target": with_unit(result.target, result.unit),
        "% of target": "no value yet" if pct is None else percent(pct),
        "achieved, approved only": (
            "None approved yet" if approved is None else with_unit(approved.achieved, result.unit)
        ),
        "achieved by reporting period": dg.MetadataValue.md(by_period_markdown(result, figures)),
        "breakdown": dg.MetadataValue.md(breakdown_markdown(result)),
    }
    svg = indicator_chart_svg(
        result.indicator_id, mine, result.target, reference().period_ids, result.unit
    )
    metadata["progress chart"] = dg.MetadataValue.md(
        f"![{result.indicator_id} progress]({data_uri(svg, 'image/svg+xml')})"
    )
    return metadata


def scorecard_preview(scorecard: pd.DataFrame, any_approved: bool) -> str:
    """Every indicator of the scorecard, figures formatted, "none approved yet" in words."""
    rows = [
        {
            "indicator": r.indicator_id,
            "name": r.name,
            "target": with_unit(r.target, r.unit),
            "achieved": with_unit(r.achieved, r.unit),
            "% of target": "–" if r.pct_of_target is None else percent(r.pct_of_target),
            "approved only": (
                with_unit(r.achieved_approved, r.unit) if any_approved else "none approved yet"
            ),
        }
        for r in scorecard.itertuples(index=False)
    ]
    return markdown_table(pd.DataFrame(rows), limit=len(rows))


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
    records = current_records(states)
    digests = period_digests(states, ref, inputs_fingerprint(paths.state))
    kept = KeptProgress(paths.state, digests, lambda period: achieved_up_to(records, ref, period))
    progress = indicator_progress(records, ref, achieved_of=kept.figures)
    kept.save()
    ledger = Ledger.read(paths.state)
    approved = approved_indicators(ledger, states, ref)
    any_approved = bool(ledger.approved(states))
    for result in results.values():
        mine = approved[result.indicator_id] if any_approved else None
        yield dg.Output(
            None,
            output_name=indicator_asset_name(result.indicator_id),
            metadata=_indicator_metadata(result, progress, mine),
        )
    completeness = submission_completeness(submissions, ref)
    floor = stakeholder_meeting_floor(facts["events"], ref, completeness)
    gaps = floor_gaps(floor)
    rate = overall_reporting_rate(completeness)
    scorecard = indicator_scorecard(results, approved)
    preview = dg.MetadataValue.md(scorecard_preview(scorecard, any_approved))
    frames = {
        INDICATOR_SCORECARD.name: (scorecard, {"preview": preview}),
        INDICATOR_BREAKDOWN.name: (indicator_breakdown(results), {}),
        INDICATOR_PROGRESS.name: (
            progress,
            {"periods recomputed": dg.MetadataValue.int(kept.computed)},
        ),
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
