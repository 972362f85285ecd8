"""The coordinator's morning in a real browser: what a person sees in the Dagster UI.

Chromium (1600x1000, as in issue 19) over ``dagster-webserver`` on 127.0.0.1, over the
instance of two runs on a sample with a partner-period of every status
(``every_status.py``): on time, late, refused, latest upload refused with the earlier
one in use, missing, not yet due and not expected. Every request to another host is
refused and fails the test (tests/helpers/browser.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

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
from tests.helpers.every_status import every_status_environment, run_every_status

pytestmark = requires_chromium


@pytest.fixture(scope="module")
def morning(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The webserver's URL over the two runs of the sample with every status."""
    base = tmp_path_factory.mktemp("morning")
    with every_status_environment(base) as env, dagster_instance() as instance:
        server_env = {
            **os.environ,
            **env,
            **NO_TELEMETRY_ENV,
            "DAGSTER_HOME": instance.root_directory,
        }
        log = base / "webserver.log"
        with webserver(server_env, log) as (url, server):
            run_every_status(Path(env["CLUSTERIX_RAW_DIR"]), instance)
            wait_until_up(url, server, log)
            yield url


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory) -> Iterator[tuple[BrowserContext, list[str]]]:
    """Headless Chromium at 1600x1000, as in issue 19."""
    with local_browser(tmp_path_factory.mktemp("chromium-profile"), 1600, 1000) as browser:
        yield browser


@pytest.fixture
def page(browser_context) -> Iterator[Page]:
    with local_page(browser_context) as page:
        yield page


def _partition(page: Page, url: str, key: str) -> None:
    page.goto(f"{url}/assets/submission?view=partitions&partition={key.replace('|', '%7C')}")
    expect(visible(page, key).first).to_be_visible()


def test_partition_view_tells_on_time_from_late(morning: str, page: Page) -> None:
    _partition(page, morning, "P2|RP07")
    expect(page.get_by_text("Materialized (3)")).to_be_visible()  # P4, P2 and P5 in use
    expect(metadata_row(page, "status")).to_contain_text(
        "late: accepted 22 days after the deadline (2020-06-30)"
    )
    expect(metadata_row(page, "days late")).to_contain_text("22")
    _partition(page, morning, "P4|RP07")
    expect(metadata_row(page, "status")).to_contain_text("on time: accepted by the deadline")
    _partition(page, morning, "P5|RP07")
    expect(metadata_row(page, "status")).to_contain_text(
        "latest upload P5/RP07.xlsx refused (this file is not an .xlsx"
    )


def _check_partitions(page: Page, url: str, check: str) -> None:
    """The Partitions tab of one of ``submission``'s checks."""
    page.goto(f"{url}/assets/submission?view=checks")
    expect(page.get_by_text("Latest execution")).to_be_visible()
    visible(page, check).first.click()
    page.get_by_role("tab", name="Partitions").last.click()


def _open(page: Page, key: str) -> None:
    """One partition of the check, filtered to and opened."""
    page.get_by_placeholder("Filter by partition").fill(key)
    visible(page, key).last.click()


def test_checks_tell_refused_missing_and_not_yet_due_apart(morning: str, page: Page) -> None:
    _check_partitions(page, morning, "workbook_accepted")
    expect(page.get_by_text("Failed (2)")).to_be_visible()  # P7 refused, P5's latest upload
    expect(page.get_by_text("Passed (2)")).to_be_visible()  # P4 and P2 accepted
    _open(page, "P7|RP03")  # the reason is one click away, in words
    refused = page.get_by_text(re.compile(r"^refused: this file is not an \.xlsx"))
    expect(refused.first).to_be_visible()
    expect(metadata_row(page, "in use")).to_contain_text(
        "nothing: every file in the folder was refused"
    )

    _check_partitions(page, morning, "submitted_by_deadline")
    expect(page.get_by_text("Failed (106)")).to_be_visible()  # 1 late, 1 refused, 104 missing
    expect(page.get_by_text("Passed (12)")).to_be_visible()  # 2 on time, 10 not yet due
    _open(page, "P1|RP01")
    missing = page.get_by_text(re.compile(r"^missing: nothing received, due 2016-12-31"))
    expect(missing.first).to_be_visible()
    _open(page, "P4|RP11")
    expect(page.get_by_text(re.compile(r"^not yet due: due 20\d\d-")).first).to_be_visible()


def test_indicator_page_puts_the_figures_first(morning: str, page: Page) -> None:
    page.goto(f"{morning}/assets/indicator_o1")
    expect(metadata_row(page, "achieved")).to_contain_text("3 events")
    expect(metadata_row(page, "target")).to_contain_text("81 events")
    expect(metadata_row(page, "% of target")).to_contain_text("3.7 %")
    expect(metadata_row(page, "achieved, approved only")).to_contain_text("None approved yet")
    chart = metadata_row(page, "achieved by reporting period")
    expect(chart.get_by_role("row").filter(has_text="RP07")).to_contain_text("3")
    keys = page.get_by_role("row").locator("td:first-child").all_inner_texts()  # Key first
    assert keys[1:5] == ["achieved", "target", "% of target", "achieved, approved only"], keys


def test_morning_page_says_what_needs_action(morning: str, page: Page) -> None:
    page.goto(f"{morning}/assets/coordinator_summary")
    counts = {"on time": 2, "late": 1, "refused": 1, "missing": 104, "not yet due": 10}
    for label, count in counts.items():
        expect(metadata_row(page, label).first).to_contain_text(str(count))
    expect(metadata_row(page, "latest upload refused").first).to_contain_text("1")
    expect(metadata_row(page, "report")).to_contain_text("report/progress_report.html")
    rows = metadata_row(page, "partner-periods that need action").get_by_role("row")
    # most urgent first, after the header: the refused workbook, then the refused upload
    for text in ("P7 Region of Southern Denmark", "RP03", "refused: this file is not an .xlsx"):
        expect(rows.nth(1)).to_contain_text(text)
    for text in ("P5 Lund University", "RP07", "latest upload refused"):
        expect(rows.nth(2)).to_contain_text(text)
    expect(rows.filter(has_text="P1 ecoplus").filter(has_text="RP01")).to_contain_text(
        "missing: nothing received, due 2016-12-31"
    )
    behind = metadata_row(page, "indicators behind plan")
    expect(behind).to_contain_text("O1 Policy learning events organised")
    expect(page.get_by_text("[Show Markdown]")).to_have_count(0)  # nothing hidden
