"""Shared fixtures: throw-away raw and assets folders, and workbooks written for real."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.core.outputs.template import write_template
from pipelines.platform.instance import DEV_INSTANCE_CONFIG

GOOD_EVENT = {
    "event_ref": "EV-1",
    "title": "Regional stakeholder meeting on cluster partnerships",
    "event_type": "regional_stakeholder_meeting",
    "start_date": dt.date(2019, 5, 20),
    "format": "in_person",
    "city": "Bucharest",
    "country": "RO",
    "participants": 30,
}
GOOD_PRACTICE = {
    "practice_ref": "GP-1",
    "title": "Cluster voucher scheme",
    "country": "RO",
    "identified_on": dt.date(2019, 6, 1),
    "stage": "identified",
}
GOOD_MEASURE = {
    "measure_ref": "M-1",
    "policy_instrument_id": "PI-P4",
    "description": "New call for cross-sector cluster projects",
    "status": "implemented",
    "implemented_on": dt.date(2019, 9, 1),
    "sf_influenced_eur": Decimal("1000.50"),
    "other_funds_influenced_eur": Decimal("0"),
}
GOOD_COLLABORATION = {"year": 2019, "company_research_collaborations": 120}
GOOD_ROWS = {
    "Events": GOOD_EVENT,
    "GoodPractices": GOOD_PRACTICE,
    "PolicyMeasures": GOOD_MEASURE,
    "Collaborations": GOOD_COLLABORATION,
}


def event_row(ref, kind, day, **more):
    """An Events row of a given type and day, for story-like tests of whole runs."""
    row = {
        "event_ref": ref,
        "title": f"{kind} {ref}",
        "event_type": kind,
        "start_date": day,
        "format": "in_person",
        "country": "AT",
        "participants": 20,
    }
    return {**row, **more}


def measure_row(ref, instrument, status, sf, other, implemented_on=None):
    return {
        "measure_ref": ref,
        "policy_instrument_id": instrument,
        "description": "measure",
        "status": status,
        "implemented_on": implemented_on,
        "sf_influenced_eur": Decimal(sf),
        "other_funds_influenced_eur": Decimal(other),
    }


def practice_row(stage):
    return {
        "practice_ref": "GP-1",
        "title": "Voucher",
        "country": "AT",
        "identified_on": dt.date(2016, 7, 1),
        "stage": stage,
    }


def make_workbook(
    raw_dir: Path,
    partner_id: str,
    period_id: str,
    records: Mapping[str, Sequence[Mapping[str, object]]] | None = None,
    *,
    cover: Mapping[str, object] | None = None,
    suffix: str = ".xlsx",
) -> Path:
    """A partner workbook in its place under ``raw_dir``, written by the template code."""
    path = raw_dir / partner_id / f"{period_id}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    cover = {"submitted_on": dt.date(2020, 4, 15), "contact_name": "Test", **(cover or {})}
    return write_template(partner_id, period_id, path, records=records or {}, cover=cover)


# Modules about the whole pipeline, some with a module fixture that runs it once.
# The ops modules start `clusterix run`, a daemon or a database server as processes;
# test_browser a webserver and Chromium over a run; test_instance_config runs `clusterix run`;
# test_run_retention builds a history of runs (on PostgreSQL too) and prunes it.
_PIPELINE_MODULES = frozenset(
    {
        "test_browser",
        "test_ui_morning",
        "test_ui_truth",
        "test_instance_config",
        "test_pipeline",
        "test_known_answers",
        "test_bundled_raw",
        "test_writer_lock",
        "test_object_storage",
        "test_bad_operations",
        "test_postgres",
        "test_run_retention",
        "test_scale_out",
        "test_serve",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test ``integration`` (it runs the real pipeline on a Dagster instance) or
    ``unit`` (pure functions on real files): ``pytest -m unit`` gives the fast feedback.

    Marked here rather than by moving files, so the split follows the fixtures a test
    uses and a new test is classified without anyone remembering to mark it.
    """
    for item in items:
        module = item.module.__name__ if item.module else ""
        runs_pipeline = "instance" in item.fixturenames or module in _PIPELINE_MODULES
        item.add_marker(pytest.mark.integration if runs_pipeline else pytest.mark.unit)


@pytest.fixture(scope="session", autouse=True)
def _no_project_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point the pipeline's folders away from the checkout for the whole session.

    ``make demo`` leaves the sample's state and tables in ``state/`` and ``assets/``;
    a test that forgot to set one of the folders would otherwise read them (and did).
    Tests and fixtures set their own folders on top of these.
    """
    base = tmp_path_factory.mktemp("unset")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("CLUSTERIX_RAW_DIR", "CLUSTERIX_ASSETS_DIR", "CLUSTERIX_STATE_DIR"):
            mp.setenv(name, str(base / name.removeprefix("CLUSTERIX_").lower()))
        yield


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Empty raw, assets and state folders that the pipeline uses through the environment."""
    raw, assets = tmp_path / "raw", tmp_path / "assets"
    raw.mkdir()
    monkeypatch.setenv("CLUSTERIX_RAW_DIR", str(raw))
    monkeypatch.setenv("CLUSTERIX_ASSETS_DIR", str(assets))
    monkeypatch.setenv("CLUSTERIX_STATE_DIR", str(tmp_path / "state"))
    return raw, assets


@contextlib.contextmanager
def memory_dir() -> Iterator[Path]:
    """A temporary folder on /dev/shm where there is one, for a Dagster home.

    SQLite commits every event, and on a slow disk those commits would be most of a
    test's time.
    """
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(dir=shm if shm.is_dir() else None))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    """A real Dagster instance (SQLite storage) in a temporary folder in memory.

    It is configured by the shipped dev ``dagster.yaml``, so the tests run what
    ``make demo`` runs.
    """
    shipped = yaml.safe_load(DEV_INSTANCE_CONFIG.read_text(encoding="utf-8"))
    with (
        memory_dir() as base,
        dg.instance_for_test(temp_dir=str(base), overrides=shipped) as test_instance,
    ):
        yield test_instance


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dagster_instance() as test_instance:
        yield test_instance
