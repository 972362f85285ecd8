"""A real browser over a real dagster-webserver, both on 127.0.0.1 only.

Playwright drives the system Chromium (Debian's ``chromium`` package; ``.ci/run``
installs it), headless, with a fresh profile and every request outside 127.0.0.1
refused and recorded: a test fails if a page tries to reach another host. The
webserver is the real ``dagster-webserver`` on a free port of 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Route, expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT = 180  # seconds; the webserver imports the code location in a subprocess
UI_TIMEOUT = 60_000  # ms for a page element; generous, since the machine may be busy
expect.set_options(timeout=UI_TIMEOUT)


def chromium() -> str | None:
    """The system Chromium: $CLUSTERIX_CHROMIUM, else the first one on the PATH."""
    configured = os.environ.get("CLUSTERIX_CHROMIUM")
    if configured:
        return configured
    names = ("chromium", "chromium-browser", "google-chrome")
    return next((path for name in names if (path := shutil.which(name))), None)


CHROMIUM = chromium()
requires_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: install Debian's `chromium` package (.ci/run does);"
    " Playwright's own browser downloads are not used",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"dagster-webserver exited:\n{log.read_text()[-3000:]}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/server_info", timeout=5) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.5)
    pytest.fail(f"dagster-webserver not up after {STARTUP_TIMEOUT} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def webserver(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """``dagster-webserver`` on 127.0.0.1 over ``env``'s DAGSTER_HOME, stopped afterwards."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("dagster-webserver")),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--workspace", str(REPO / "workspace.yaml")),
    ]
    with log.open("w") as out:
        server = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@contextlib.contextmanager
def local_browser(
    profile: Path, width: int, height: int
) -> Iterator[tuple[BrowserContext, list[str]]]:
    """Headless Chromium with a fresh profile; requests beyond 127.0.0.1 are refused and
    listed in the second item."""
    outside: list[str] = []

    def local_only(route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "file:")) or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": width, "height": height},
        )
        context.route("**/*", local_only)
        context.set_default_timeout(UI_TIMEOUT)
        yield context, outside
        context.close()


@contextlib.contextmanager
def local_page(browser: tuple[BrowserContext, list[str]]) -> Iterator[Page]:
    """A new page of the browser; fails if it tried to reach another host."""
    context, outside = browser
    page = context.new_page()
    yield page
    page.close()
    assert outside == [], f"the page tried to reach other hosts: {outside}"


def visible(page: Page, text: str) -> Locator:
    """The on-screen element with exactly ``text`` (Dagster also renders hidden copies)."""
    return page.get_by_text(text, exact=True).filter(visible=True)


def metadata_row(page: Page, key: str) -> Locator:
    """The row of a metadata table whose key cell is exactly ``key``."""
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=key, exact=True))
