"""The indicator figures and chart that Dagster shows in place on an asset's overview."""

from decimal import Decimal

import pandas as pd

from pipelines.core.indicators.compute import IndicatorResult
from pipelines.core.outputs.numbers import with_unit
from pipelines.defs.indicators.indicator_assets import by_period_markdown
from pipelines.defs.metadata import INLINE_MARKDOWN_LIMIT

PERIODS = [f"RP{n:02d}" for n in range(1, 12)]


def _result(unit: str, target: str) -> IndicatorResult:
    return IndicatorResult("X", "x", unit, Decimal(target), None, None, pd.DataFrame())


def test_the_bar_fills_to_the_target_and_marks_overshoot():
    figures = [("RP01", Decimal(40)), ("RP02", Decimal(86))]
    chart = by_period_markdown(_result("events", "80"), figures)
    assert "| RP01 | 40 | `" + "█" * 10 + "░" * 10 + "` |" in chart
    assert "| RP02 | 86 | `" + "█" * 20 + "▶` |" in chart
    assert "of target 80" in chart


def test_a_period_before_any_value_shows_a_dot():
    chart = by_period_markdown(_result("events", "5"), [("RP01", None), ("RP02", Decimal(1))])
    assert "| RP01 | · | |" in chart


def test_eleven_periods_of_money_stay_under_the_inline_limit():
    result = _result("EUR", "5086000")
    chart = by_period_markdown(result, [(p, Decimal("5311402.90")) for p in PERIODS])
    assert len(chart) < INLINE_MARKDOWN_LIMIT
    assert "5,311,402.90" in chart


def test_figures_carry_their_unit_and_thousands_separators():
    assert with_unit(Decimal("5086000"), "EUR") == "EUR 5,086,000.00"
    assert with_unit(Decimal("81"), "events") == "81 events"
    assert with_unit(Decimal("12.5"), "%") == "12.50 %"
    assert with_unit(None, "%") == "no value yet"
    assert with_unit(Decimal("1"), "events") == "1 event"
    assert with_unit(Decimal("1"), "activities") == "1 activity"
    assert with_unit(Decimal("1"), "%") == "1.00 %"
    assert with_unit(Decimal("1250.5"), "SEK") == "SEK 1,250.50"
