"""The one number formatter: every surface writes a figure the same way."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from pipelines.app.run import format_scorecard
from pipelines.core.outputs.numbers import NO_VALUE, figure, percent


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (Decimal("5.00"), "%", "5.00"),  # a percentage is always to the cent
        (Decimal("5"), "%", "5.00"),
        (5.0, "%", "5.00"),
        (Decimal("5086000"), "EUR", "5,086,000.00"),
        (Decimal("4903718.45"), "EUR", "4,903,718.45"),
        (Decimal("81"), "events", "81"),
        (81, "events", "81"),
        (Decimal("1234"), "events", "1,234"),
        (Decimal("2.5"), "events", "2.50"),  # a fraction is never rounded away
        (Decimal("-12.5"), "%", "-12.50"),
        (None, "EUR", NO_VALUE),
        (float("nan"), "events", NO_VALUE),
    ],
)
def test_a_figure_is_written_one_way(value, unit: str, shown: str) -> None:
    assert figure(value, unit) == shown


def test_a_share_has_one_decimal_and_its_sign() -> None:
    assert percent(Decimal("11.111")) == "11.1 %"
    assert percent(100.0) == "100.0 %"
    assert percent(Decimal("1234.56")) == "1,234.6 %"
    assert percent(None) == NO_VALUE


def test_the_cli_scorecard_writes_five_percent_to_the_cent() -> None:
    """C1's target, 5.00 %, printed as the report prints it (not "5")."""
    scorecard = pd.DataFrame(
        [
            {
                "indicator_id": "C1",
                "name": "Growth of company-research collaborations",
                "unit": "%",
                "target": Decimal("5.0"),
                "achieved": Decimal("5"),
                "pct_of_target": Decimal("100"),
            }
        ]
    )
    line = format_scorecard(scorecard).splitlines()[-1]
    assert line.split()[-4:] == ["5.00", "5.00", "100.0", "%"]
