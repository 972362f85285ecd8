"""Shared fixtures (throw-away folders, a Dagster instance) and the unit/integration marks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from tests.helpers.dagster import dagster_instance


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its folder: ``tests/integration`` runs the pipeline, a server or
    a browser; ``tests/unit`` tests the code on real files without a Dagster run."""
    for item in items:
        kind = "integration" if "integration" in item.path.parts else "unit"
        item.add_marker(getattr(pytest.mark, kind))


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


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dagster_instance() as test_instance:
        yield test_instance
