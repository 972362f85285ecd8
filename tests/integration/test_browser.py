"""The coordinator's view in a real browser: the Dagster UI over a finished run, and the report.

The system Chromium over the real ``dagster-webserver``, both on 127.0.0.1 only
(tests/helpers/browser.py), over the instance of a real run on real workbooks: one
accepted, one refused, one missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from pipelines.app.run import run_everything
from pipelines.platform.instance import NO_TELEMETRY_ENV
from tests.helpers.browser import (
    local_browser,
    local_page,
    metadata_row,
    requires_chromium,
    visible,
    wait_until_up,
    webserver,
)
from tests.helpers.dagster import dagster_instance
from tests.helpers.workbooks import GOOD_ROWS, make_workbook

pytestmark = requires_chromium


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Iterator[dict]:
    """A run over three partner-periods, served by dagster-webserver.

    P4 RP07 is accepted, P7 RP03 refused (not a workbook), P1 RP01 missing. The webserver
    starts first and loads the code location while the run executes in this process.
    """
    base = tmp_path_factory.mktemp("browser")
    raw, assets = base / "raw", base / "assets"
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    (raw / "P7").mkdir()
    (raw / "P7" / "RP03.xlsx").write_bytes(b"minutes of the meeting, not a workbook\n")
    env = {
        "CLUSTERIX_RAW_DIR": str(raw),
        "CLUSTERIX_ASSETS_DIR": str(assets),
        "CLUSTERIX_STATE_DIR": str(base / "state"),
    }
    with pytest.MonkeyPatch.context() as patch, dagster_instance() as instance:
        for key, value in env.items():
            patch.setenv(key, value)
        server_env = {
            **os.environ,
            **env,
            **NO_TELEMETRY_ENV,
            "DAGSTER_HOME": instance.root_directory,
        }
        log = base / "webserver.log"
        with webserver(server_env, log) as (url, server):
            assert run_everything(instance).success
            wait_until_up(url, server, log)
            yield {"url": url, "assets": assets, "log": log}


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory) -> Iterator[tuple[BrowserContext, list[str]]]:
    with local_browser(tmp_path_factory.mktemp("chromium-profile"), 1400, 1000) as browser:
        yield browser


@pytest.fixture
def page(browser_context) -> Iterator[Page]:
    with local_page(browser_context) as page:
        yield page


def test_report_in_the_browser(finished_run, page: Page) -> None:
    report = finished_run["assets"] / "report" / "progress_report.html"
    page.goto(report.as_uri())
    expect(page).to_have_title("CLUSTERIX 2.0 progress report")

    refused = page.locator("#status-grid td[title^='P7 RP03:']")
    expect(refused).to_have_text("refused")
    expect(refused).to_have_attribute("title", re.compile(r"refused: this file is not an \.xlsx"))
    missing = page.locator("#status-grid td[title^='P1 RP01:']")
    expect(missing).to_have_text("✗")
    expect(page.locator("#status-grid td[title^='P4 RP07:']")).to_have_text(re.compile("✓|late"))
    colours = {
        cell: page.locator(f"#status-grid td[title^='{cell}:']").evaluate(
            "e => getComputedStyle(e).backgroundColor"
        )
        for cell in ("P7 RP03", "P1 RP01", "P4 RP07", "P11 RP09")
    }
    assert len(set(colours.values())) == 4, colours  # refused, missing, received, not expected
    expect(page.locator("#status-grid th.partner", has_text="P7")).to_contain_text(
        "Region of Southern Denmark"
    )

    fix = page.locator("#fix-P7")
    expect(fix).to_be_visible()
    expect(fix).to_contain_text("RP03 (2017-04-01 – 2017-09-30, due 2017-12-31): P7/RP03.xlsx")
    expect(fix).to_contain_text("Send a corrected workbook.")
    expect(page.locator("#fix-P1")).to_contain_text("RP01 (2016-04-01 – 2016-09-30, due")

    charts = page.locator("figure img")
    expect(charts.first).to_be_visible()
    widths = charts.evaluate_all("images => images.map(i => i.complete && i.naturalWidth)")
    assert len(widths) == 17 and all(widths), widths  # every SVG chart decoded and drawn


def test_partition_view_of_a_rejected_and_a_missing_partner_period(finished_run, page: Page):
    url = finished_run["url"]
    page.goto(f"{url}/assets/submission?view=partitions&partition=P4%7CRP07")
    # one partition per EXPECTED partner-period: P11's extended-phase periods are not there
    expect(page.get_by_text("118 Partitions Selected")).to_be_visible()
    expect(page.get_by_text("Materialized (1)")).to_be_visible()
    expect(page.get_by_text("Missing (117)")).to_be_visible()
    expect(visible(page, "P11|RP08")).to_have_count(0)  # the list is virtual: filter it
    page.get_by_placeholder("Filter by name").fill("P11|RP09")
    expect(visible(page, "P11|RP08")).to_have_count(0)
    expect(visible(page, "P11|RP09")).to_have_count(0)
    # the accepted one is materialised, with its status
    expect(visible(page, "Materialized").first).to_be_visible()
    expect(metadata_row(page, "status")).to_contain_text("accepted")
    expect(metadata_row(page, "file")).to_contain_text("P4/RP07.xlsx")

    # the refused one is not materialised; its workbook_accepted check failed, naming why
    page.goto(f"{url}/assets/submission?view=partitions&partition=P7%7CRP03")
    expect(visible(page, "P7|RP03").first).to_be_visible()
    expect(page.get_by_text("No metadata entries")).to_be_visible()
    page.goto(f"{url}/assets/submission?view=checks")
    expect(page.get_by_text("Latest execution")).to_be_visible()  # the check's own tabs are up
    visible(page, "workbook_accepted").first.click()
    page.get_by_role("tab", name="Partitions").last.click()
    expect(page.get_by_text("Failed (1)")).to_be_visible()
    page.get_by_placeholder("Filter by partition").fill("P7|RP03")
    visible(page, "P7|RP03").last.click()
    expect(page.get_by_text("View all historical executions (1)")).to_be_visible()
    expect(metadata_row(page, "reason")).to_contain_text(
        "this file is not an .xlsx or .ods workbook"
    )
    expect(metadata_row(page, "in use")).to_contain_text("nothing")

    # the missing one: nothing materialised, no check evaluated
    page.get_by_placeholder("Filter by partition").fill("P1|RP01")
    visible(page, "P1|RP01").last.click()
    expect(page.get_by_text("No execution attempted")).to_be_visible()
    page.goto(f"{url}/assets/submission?view=partitions&partition=P1%7CRP01")
    expect(visible(page, "P1|RP01").first).to_be_visible()
    expect(page.get_by_text("No metadata entries")).to_be_visible()


def test_indicator_page_shows_its_figures_with_their_unit(finished_run, page: Page) -> None:
    url = finished_run["url"]
    page.goto(f"{url}/assets/indicator_o1")
    expect(page.get_by_text("Metadata", exact=True)).to_be_visible()
    expect(metadata_row(page, "target")).to_contain_text("81 events")
    # P4's meeting in RP07, in the singular
    expect(metadata_row(page, "achieved")).to_contain_text(re.compile(r"1 event(?!s)"))
    expect(metadata_row(page, "% of target")).to_contain_text("1.2 %")


# Every element with text of its own: its colour, the first opaque background behind it,
# and their WCAG 2 contrast ratio.
CONTRASTS = """() => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const behind = e => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const found = [];
  for (const e of document.body.querySelectorAll('*')) {
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const [hi, lo] = [lum(rgb(getComputedStyle(e).color)), lum(behind(e))].sort((a, b) => b - a);
    found.push([e.tagName + '.' + e.className, e.textContent.trim().slice(0, 40),
                (hi + 0.05) / (lo + 0.05)]);
  }
  return found;
}"""


def test_the_report_reads_without_hover_and_meets_wcag_aa(finished_run, page: Page) -> None:
    report = finished_run["assets"] / "report" / "progress_report.html"
    page.goto(report.as_uri())

    # the refusal's reason is one link away from its cell, for keyboard and touch users
    page.locator("#status-grid td[title^='P7 RP03:'] a").focus()
    page.keyboard.press("Enter")
    reason = page.locator("#refused-P7-RP03")
    expect(reason).to_be_in_viewport()
    expect(reason).to_contain_text("this file is not an .xlsx or .ods workbook")
    expect(reason).to_contain_text("nothing accepted: counts as not received")

    # not expected is written, not only coloured; an unknown floor figure is not a 0
    expect(page.locator("#status-grid td[title^='P11 RP09:']")).to_have_text("—")
    expect(page.locator("#floor-grid td[title^='P7 RP03:']")).to_have_text("unknown")
    expect(page.locator(".floor-summary")).to_contain_text("unknown")

    # a chart says its values to whoever cannot see it
    alt = page.locator("#chart-O1\\.5 img").get_attribute("alt")
    assert "target 60 events" in alt and "RP07 1" in alt, alt

    ratios = page.evaluate(CONTRASTS)
    assert len(ratios) > 500, "every cell of the grids was measured"
    low = [(element, text, round(ratio, 2)) for element, text, ratio in ratios if ratio < 4.5]
    assert not low, f"text below WCAG AA contrast (4.5:1): {low[:10]}"
