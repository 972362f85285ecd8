"""The progress report: one self-contained HTML file, and the charts for the Dagster UI."""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from pipelines.core.indicators.compute import (
    compute_indicators,
    indicator_progress,
    indicator_scorecard,
    stakeholder_meeting_floor,
    submission_completeness,
)
from pipelines.core.intake.issues import issues_frame
from pipelines.core.outputs.report import data_uri, indicator_chart_svg, report_html, write_report
from pipelines.core.state.completeness import submission_statuses
from pipelines.core.state.facts import resolve_facts
from tests.helpers.project_history import RECORDS, REF, submissions

GENERATED_AT = "2026-11-24 12:00 UTC"
AS_OF = dt.date(2023, 2, 1)  # RP11 not yet due

# P3 RP01: accepted, then a corrected upload that was refused
LATER_REFUSED = pd.DataFrame(
    [
        {
            "partner_id": "P3",
            "period_id": "RP01",
            "file": "P3/RP01.xlsx",
            "sha256": sha,
            "status": status,
            "current": status == "accepted",
            "in_folder": status == "rejected",  # the refused upload replaced the accepted one
            "submitted_on": dt.date(2016, 12, 1) if status == "accepted" else None,
            "on_time": True if status == "accepted" else None,
            "n_errors": int(status == "rejected"),
            "n_warnings": 0,
            "n_rows": 3,
            "first_seen_at": seen,
        }
        for sha, status, seen in [
            ("P3RP01a", "accepted", "2016-12-01T00:00:00Z"),
            ("P3RP01b", "rejected", "2017-01-20T00:00:00Z"),
        ]
    ]
)


def issue(partner, period, sha, sheet, row, column, value, severity, rule, message) -> dict:
    return {
        "partner_id": partner,
        "period_id": period,
        "file": f"{partner}/{period}.xlsx",
        "sha256": sha,
        "sheet": sheet,
        "row": row,
        "column": column,
        "value": value,
        "severity": severity,
        "rule": rule,
        "message": message,
    }


ISSUES = issues_frame(
    [
        issue("P1", "RP03", "P1RP03a", None, None, None, None, "error", "not_a_spreadsheet",
              "this file is not an .xlsx or .ods workbook"),
        issue("P3", "RP01", "P3RP01b", None, None, None, None, "error", "missing_sheet",
              "the sheet Events is missing"),
        issue("P2", "RP01", "P2RP01b", "Events", 7, "participants", "many", "error",
              "wrong_type", "participants must be a whole number >= 0, got 'many'"),
        issue("P2", "RP01", "P2RP01b", "Events", 9, "start_date", "2016-01-02", "warning",
              "event_outside_period", "start_date is outside the reporting period RP01"),
    ]
)  # fmt: skip


def report_inputs(
    records: dict[str, pd.DataFrame], seen: pd.DataFrame, issues: pd.DataFrame
) -> dict:
    facts = resolve_facts(records, REF)
    completeness = submission_completeness(seen, REF, AS_OF)
    return {
        "scorecard": indicator_scorecard(compute_indicators(facts.tables, REF)),
        "progress": indicator_progress(records, REF),
        "statuses": submission_statuses(seen, REF, AS_OF, issues),
        "floor": stakeholder_meeting_floor(facts.tables["events"], REF, completeness),
        "issues": issues,
        "ref": REF,
    }


@pytest.fixture(scope="module")
def inputs() -> dict:
    seen = pd.concat([submissions(), LATER_REFUSED], ignore_index=True)
    return report_inputs(RECORDS, seen, ISSUES)


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


def text_of(markup: str) -> str:
    """What a reader sees of ``markup``: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def section(page: str, element_id: str) -> str:
    """The markup from the element with ``element_id`` to the end of its table."""
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</table>", start)]


def cell(page: str, grid_id: str, title_start: str) -> tuple[str, str, str]:
    """(css class, tooltip, visible text) of the grid cell whose tooltip starts so."""
    found = re.search(
        rf'<td class="([^"]*)" title="({re.escape(title_start)}[^"]*)">(.*?)</td>',
        section(page, grid_id),
        re.S,
    )
    assert found, title_start
    return found.group(1), html.unescape(found.group(2)), text_of(found.group(3))


def test_report_has_every_indicator_with_its_chart(page: str) -> None:
    for indicator_id in REF.indicators["indicator_id"]:
        assert f"<td>{indicator_id}</td>" in page
        assert f'id="chart-{indicator_id}"><img' in page
    assert page.count('src="data:image/svg+xml;base64,') == len(REF.indicators)


def test_chart_alt_text_gives_the_values(page: str) -> None:
    alt = dict(re.findall(r'<figure id="chart-([^"]+)"><img alt="([^"]*)"', page))
    assert html.unescape(alt["O1"]) == (
        "O1 Policy learning events organised (phases 1-2 plan): target 81 events; achieved"
        " after each period: RP01 3; RP02 5; RP03 7; RP04 8; RP05 8; RP06 8; RP07 9; RP08 9;"
        " RP09 9; RP10 9; RP11 9"
    )
    assert "target 5,086,000.00 EUR" in html.unescape(alt["R3"])
    assert "RP01" not in html.unescape(alt["C1"]), "a period without a value is not listed"


def test_report_scorecard_has_colour_cues_and_exact_money(page: str) -> None:
    scorecard = section(page, "scorecard")
    assert '<td class="num good">100.0 %</td>' in scorecard  # R2
    assert '<td class="num poor">11.1 %</td>' in scorecard  # O1
    assert "251,000.60" in scorecard  # R3
    assert '<td>%</td>\n<td class="num">5.00</td>' in scorecard  # C1's target, to the cent
    assert scorecard.count('<td class="num">none approved yet</td>') == len(REF.indicators)


def test_report_tells_each_status_apart(page: str) -> None:
    assert (
        "Of 118 expected workbooks: 3 received on time, 1 received late,"
        " 1 refused with nothing accepted, 103 missing, 10 not yet due."
        " 1 received with a later upload refused (marked *)." in text_of(page)
    )
    assert cell(page, "status-grid", "P1 RP01:") == (
        "on_time",
        "P1 RP01: received on time, P1/RP01.xlsx in use",
        "✓",
    )
    assert cell(page, "status-grid", "P1 RP02:")[::2] == ("late", "late 1 d")
    assert cell(page, "status-grid", "P1 RP03:") == (
        "rejected",
        "P1 RP03: workbook refused, none accepted; the workbook P1/RP03.xlsx was refused:"
        " this file is not an .xlsx or .ods workbook",
        "refused",
    )
    assert cell(page, "status-grid", "P4 RP01:") == (
        "missing",
        "P4 RP01: missing: nothing received by the deadline",
        "✗",
    )
    assert cell(page, "status-grid", "P4 RP11:") == (
        "not_yet_due",
        "P4 RP11: not yet due (deadline 2023-06-30)",
        "due",
    )
    assert cell(page, "status-grid", "P11 RP09:")[::2] == ("not_expected", "—")


def test_what_a_tooltip_says_is_also_on_the_page(page: str) -> None:
    """Keyboard and touch users never see a tooltip: days late and reasons are in the page."""
    late = text_of(section(page, "late-table"))
    assert "P1 ecoplus. The Business Agency of Lower Austria RP02 2017-06-30 2017-01-01 1" in late
    refused = section(page, "refused-table")
    assert 'id="refused-P1-RP03"' in refused
    assert "this file is not an .xlsx or .ods workbook" in text_of(refused)
    grid = section(page, "status-grid")
    assert '<a href="#refused-P1-RP03">refused</a>' in grid, "one keypress from the reason"


def test_a_refused_later_upload_is_not_a_plain_tick(page: str) -> None:
    css, title, text = cell(page, "status-grid", "P3 RP01:")
    assert (css, text) == ("on_time latest_refused", "✓*")
    assert title == (
        "P3 RP01: received on time, P3/RP01.xlsx in use; the latest upload P3/RP01.xlsx was"
        " refused: the sheet Events is missing"
    )
    refused = re.findall(r'<tr class="refused" id="[^"]+">(.*?)</tr>', page, re.S)
    assert len(refused) == 2
    assert "earlier version P3/RP01.xlsx still in use" in refused[1]
    assert "nothing accepted: counts as not received" in refused[0]


def test_report_names_partners_and_dates_periods(page: str) -> None:
    assert "P7 <small>Region of Southern Denmark</small>" in page
    assert "P2 <small>NOI Techpark</small>" in page  # the current name
    assert '<th title="RP07 (2019-04-01 – 2020-03-31, due 2020-06-30)">RP07' in page
    assert "<td>RP03 (2017-04-01 – 2017-09-30, due 2017-12-31)</td>" in page


def _fix_sections(page: str) -> dict[str, str]:
    fix = page[page.index('id="what-to-fix"') :]
    return dict(
        re.findall(r'<section class="partner-fix" id="fix-(P\d+)">(.*?)</section>', fix, re.S)
    )


def test_what_to_fix_per_partner(page: str) -> None:
    sections = _fix_sections(page)
    assert set(sections) == set(REF.partner_ids)  # every partner has missing workbooks here
    assert "refused" not in sections["P5"] and "<table" not in sections["P5"]
    assert (
        "RP03 (2017-04-01 – 2017-09-30, due 2017-12-31): P1/RP03.xlsx was refused: this file"
        " is not an .xlsx or .ods workbook. Send a corrected workbook." in sections["P1"]
    )
    assert "no workbook received" in sections["P4"]
    p2 = text_of(sections["P2"])
    assert "1 error(s) (rows left out until corrected) and 1 warning(s)" in p2
    assert (
        "P2/RP01.xlsx Events 7 participants many error"
        " participants must be a whole number >= 0, got 'many'" in p2
    )
    assert "&#39;many&#39;" in sections["P2"], "a partner's text is escaped"


def test_report_shows_unknown_floor_figures_as_unknown(page: str) -> None:
    summary = text_of(re.search(r'class="floor-summary">(.*?)</p>', page, re.S).group(1))
    assert summary == (
        "The floor is met in 4 of 60 partner-periods; 1 without a regional stakeholder"
        " meeting; 55 unknown (no workbook of the partner in use for the period)."
    )
    assert (
        "Every partner with a policy instrument holds at least 1 regional stakeholder"
        " meeting(s) in every period of Phase 1, interregional learning (10 partners × 6"
        " periods = 60)." in text_of(page)
    )
    assert cell(page, "floor-grid", "P3 RP01:") == ("missing", "P3 RP01: 0 meeting(s)", "0")
    css, title, text = cell(page, "floor-grid", "P1 RP03:")  # refused: not a 0 in red
    assert (css, text) == ("unknown", "unknown")
    assert "no workbook of the partner in use" in title


def test_report_before_any_submission(tmp_path: Path) -> None:
    inputs = report_inputs({}, pd.DataFrame(), issues_frame([]))
    assert inputs["progress"].empty
    page = write_report(tmp_path / "r.html", generated_at=GENERATED_AT, **inputs).read_text()
    assert "Of 118 expected workbooks: 0 received on time" in text_of(page)
    assert "No workbook is refused at present." in page
    assert page.count("data:image/svg+xml") == len(REF.indicators)
    assert "achieved after each period: no value yet" in page


SVG = "{http://www.w3.org/2000/svg}"


def chart(svg: bytes) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    return root


def test_report_is_deterministic(inputs, tmp_path: Path) -> None:
    first = write_report(tmp_path / "a.html", generated_at=GENERATED_AT, **inputs)
    second = write_report(tmp_path / "b.html", generated_at=GENERATED_AT, **inputs)
    assert first.read_bytes() == second.read_bytes()


def test_chart_is_svg_with_target_line_and_a_point_per_period(inputs) -> None:
    svg = indicator_chart_svg("O1", inputs["progress"], Decimal(81), REF.period_ids)
    root = chart(svg)
    assert len(svg) < 10_000
    assert data_uri(svg, "image/svg+xml").startswith("data:image/svg+xml;base64,PHN2Zy")
    [target] = root.findall(f".//{SVG}line[@class='target']")
    assert target.get("stroke-dasharray") and target.get("y1") == target.get("y2")
    points = root.findall(f".//{SVG}circle[@class='point']")
    assert len(points) == len(REF.period_ids)
    [line] = root.findall(f".//{SVG}polyline[@class='achieved']")
    assert len(line.get("points").split()) == len(REF.period_ids)
    texts = [t.text for t in root.findall(f".//{SVG}text")]
    assert "O1: achieved (line) vs target 81 (dashed)" in texts
    assert {"RP01", "RP11", "0", "50", "100"} <= set(texts)
    # the 81 target sits between the 75 and 100 ticks, so above every point (9 at most)
    assert all(float(p.get("cy")) > float(target.get("y1")) for p in points)
    assert [p.find(f"{SVG}title").text for p in points][-1] == "RP11: 9"


def test_chart_of_c1_skips_periods_without_value_and_goes_below_zero(inputs) -> None:
    progress = pd.DataFrame(
        {
            "indicator_id": "C1",
            "period_id": ["RP01", "RP02", "RP03", "RP04"],
            "achieved": [None, Decimal("-12.5"), Decimal("4"), Decimal("7.25")],
        }
    )
    root = chart(indicator_chart_svg("C1", progress, Decimal("5.0"), unit="%"))
    assert len(root.findall(f".//{SVG}circle")) == 3
    texts = [t.text for t in root.findall(f".//{SVG}text")]
    assert {"−20", "−10", "0", "10"} <= set(texts)  # a minus sign, not a hyphen
    assert "RP02: -12.50" in [t.text for t in root.findall(f".//{SVG}title")]
    assert "C1: achieved (line) vs target 5.00 (dashed)" in texts
    # the real C1 has no value before RP05: seven points on eleven periods
    c1 = chart(indicator_chart_svg("C1", inputs["progress"], Decimal(5), REF.period_ids))
    assert len(c1.findall(f".//{SVG}circle")) == 7


def test_chart_axis_of_euro_amounts_is_compact_and_text_is_escaped() -> None:
    progress = pd.DataFrame(
        {
            "indicator_id": "R<3>",
            "period_id": ["RP01", "R&P02"],
            "achieved": [Decimal("0"), Decimal("6100000.75")],
        }
    )
    svg = indicator_chart_svg("R<3>", progress, Decimal("5086000"), unit="EUR")
    texts = [t.text for t in chart(svg).findall(f".//{SVG}text")]
    assert {"0", "2M", "4M", "6M", "8M", "R&P02"} <= set(texts)
    assert "R<3>: achieved (line) vs target 5,086,000.00 (dashed)" in texts
    assert b"R&lt;3&gt;" in svg and b"R&amp;P02" in svg


def test_chart_without_progress_has_axes_and_target(inputs) -> None:
    empty = inputs["progress"].iloc[0:0]
    root = chart(indicator_chart_svg("O1", empty, Decimal(81), REF.period_ids))
    assert len(root.findall(f".//{SVG}line[@class='target']")) == 1
    assert not root.findall(f".//{SVG}circle") and not root.findall(f".//{SVG}polyline")


def test_charts_are_reproducible(inputs) -> None:
    args = ("C1", inputs["progress"], Decimal(5), REF.period_ids)
    assert indicator_chart_svg(*args) == indicator_chart_svg(*args)


def test_what_to_fix_leaves_out_closed_issues(inputs) -> None:
    closed = ISSUES.assign(is_open=[True, True, False, True])  # P2's wrong_type is closed
    page = report_html(**{**inputs, "issues": closed}, generated_at=GENERATED_AT)
    fix = text_of(_fix_sections(page)["P2"])
    assert "0 error(s) (rows left out until corrected) and 1 warning(s)" in fix
    assert "many" not in fix


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rgb or #rrggbb colour."""
    digits = colour.lstrip("#")
    digits = "".join(c * 2 for c in digits) if len(digits) == 3 else digits
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_ratio_is_wcags() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#777", "#eee") == pytest.approx(3.86, abs=0.01)  # the old grey: too low


def test_every_text_colour_meets_wcag_aa_on_every_background(page: str) -> None:
    """Any text colour of the style sheet may sit on any of its backgrounds (or white)."""
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", style)
    colours = {c for _, body in rules for c in re.findall(r"(?<![-\w])color:\s*(#\w+)", body)}
    backgrounds = {
        c
        for selector, body in rules
        if ".bar" not in selector  # the progress bar holds no text
        for c in re.findall(r"background:\s*(#\w+)", body)
    }
    assert {"#222", "#444"} <= colours and "#f4b6ae" in backgrounds
    low = {
        (fg, bg, round(contrast(fg, bg), 2))
        for fg in colours
        for bg in backgrounds | {"#fff"}
        if contrast(fg, bg) < 4.5
    }
    assert not low, f"below WCAG AA (4.5:1): {sorted(low)}"


def test_the_grid_shows_submission_statuses_answer_for_every_partner_period(inputs, page) -> None:
    """Each cell's class is the status the one function gave, never recomputed."""
    grid = section(page, "status-grid")
    shown = dict(
        (title.split(":")[0], css.split()[0])
        for css, title in re.findall(r'<td class="([^"]*)" title="([^"]*)"', grid)
    )
    statuses = inputs["statuses"]
    expected = {f"{r.partner_id} {r.period_id}": r.status for r in statuses.itertuples(index=False)}
    assert shown == expected
    assert set(expected.values()) == {
        "on_time",
        "late",
        "rejected",
        "missing",
        "not_yet_due",
        "not_expected",
    }
