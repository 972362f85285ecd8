"""The indicator chart that Dagster can show in place on an asset's overview."""

from pipelines.defs.metadata import INLINE_MARKDOWN_LIMIT, progress_markdown

PERIODS = [f"RP{n:02d}" for n in range(1, 12)]


def test_the_bar_fills_to_the_target_and_marks_overshoot():
    half = progress_markdown(40.0, 80.0, 50.0, [(p, 40.0) for p in PERIODS])
    assert "`" + "█" * 10 + "░" * 10 + " 50.0 % of target`" in half
    over = progress_markdown(86.0, 81.0, 106.2, [(p, 86.0) for p in PERIODS])
    assert "█" * 20 + "▶ 106.2 % of target" in over


def test_the_sparkline_has_a_block_per_period_and_a_dot_before_any_value():
    figures = [("RP01", None), ("RP02", 0.0), ("RP03", 40.0), ("RP04", 80.0)]
    chart = progress_markdown(80.0, 80.0, 100.0, figures)
    assert "`·▁▅█` RP01 → RP04" in chart


def test_an_indicator_without_a_value_says_so():
    chart = progress_markdown(None, 5.0, None, [(p, None) for p in PERIODS])
    assert "no value yet" in chart
    assert "·" * 11 in chart


def test_eleven_periods_stay_well_under_the_inline_limit():
    chart = progress_markdown(5_311_402.9, 5_000_000.0, 106.2, [(p, 1e6) for p in PERIODS])
    assert len(chart) < INLINE_MARKDOWN_LIMIT
