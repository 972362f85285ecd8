"""The progress report: one self-contained HTML file, and the charts for the Dagster UI."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from test_indicators import RECORDS, REF, submissions

from pipelines.core.facts import resolve_facts
from pipelines.core.indicators import (
    compute_indicators,
    indicator_progress,
    indicator_scorecard,
    stakeholder_meeting_floor,
    submission_completeness,
)
from pipelines.core.report import (
    data_uri,
    indicator_chart_png,
    indicator_chart_svg,
    write_report,
)

GENERATED_AT = "2026-11-24 12:00 UTC"


def report_inputs(records: dict[str, pd.DataFrame], seen: pd.DataFrame) -> dict:
    facts = resolve_facts(records, REF)
    return {
        "scorecard": indicator_scorecard(compute_indicators(facts.tables, REF)),
        "progress": indicator_progress(records, REF),
        "completeness": submission_completeness(seen, REF),
        "floor": stakeholder_meeting_floor(facts.tables["events"], REF),
    }


@pytest.fixture(scope="module")
def inputs() -> dict:
    return report_inputs(RECORDS, submissions())


@pytest.fixture(scope="module")
def page(inputs, tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("report")
    path = write_report(folder / "report.html", generated_at=GENERATED_AT, **inputs)
    assert path == folder / "report.html"
    assert [p.name for p in folder.iterdir()] == ["report.html"]  # no temporary file left
    return path.read_text(encoding="utf-8")


def test_report_is_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", page)
    assert not re.search(r"url\(\s*['\"]?https?:", page)
    assert GENERATED_AT in page


def test_report_has_every_indicator_with_its_chart(page: str) -> None:
    for indicator_id in REF.indicators["indicator_id"]:
        assert f"<td>{indicator_id}</td>" in page
        assert f"id='chart-{indicator_id}'><img" in page
    assert page.count("src='data:image/svg+xml;base64,") == len(REF.indicators)


def test_report_scorecard_has_colour_cues_and_exact_money(page: str) -> None:
    assert "<td class='num good'>100.0 %</td>" in page  # R2
    assert "<td class='num poor'>11.1 %</td>" in page  # O1
    assert "251,000.60" in page  # R3


def test_report_shows_completeness_grid_and_floor_gaps(page: str) -> None:
    assert "3 of 118 expected workbooks received (2.5 %)" in page
    assert "title='P1 RP02: received after the deadline'>late<" in page
    assert "class='not_expected' title='P11 RP09: not expected" in page
    assert "56 of 60 partner-semesters without a regional stakeholder meeting" in page
    assert "title='P3 RP01: 0 meeting(s)'>0<" in page


def test_report_before_any_submission(tmp_path: Path) -> None:
    inputs = report_inputs({}, pd.DataFrame())
    assert inputs["progress"].empty
    page = write_report(tmp_path / "r.html", generated_at=GENERATED_AT, **inputs).read_text()
    assert "0 of 118 expected workbooks received (0.0 %)" in page
    assert page.count("data:image/svg+xml") == len(REF.indicators)


def test_chart_png_is_small_and_charts_are_reproducible(inputs) -> None:
    png = indicator_chart_png("O1", inputs["progress"], Decimal(81))
    assert png.startswith(b"\x89PNG") and len(png) < 60_000
    assert data_uri(png, "image/png").startswith("data:image/png;base64,iVBOR")
    first = indicator_chart_svg("C1", inputs["progress"], Decimal(5), REF.period_ids)
    assert first == indicator_chart_svg("C1", inputs["progress"], Decimal(5), REF.period_ids)
