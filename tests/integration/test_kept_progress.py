"""Indicator progress is kept between runs and computed again only where its workbooks
changed, with the same figures a run from scratch publishes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipelines.app.run import run_pipeline
from pipelines.core.indicators.progress_store import PROGRESS_FILE
from pipelines.core.metadata.tables import INDICATOR_PROGRESS
from pipelines.core.outputs.parquet import read_parquet
from tests.helpers.dagster import memory_dir
from tests.helpers.workbooks import event_row, make_workbook

BUNDLED_P4 = Path(__file__).resolve().parents[2] / "raw" / "P4"


def _progress(assets: Path) -> pd.DataFrame:
    frame = read_parquet(INDICATOR_PROGRESS, assets)
    return frame.sort_values(["indicator_id", "period_id"]).reset_index(drop=True)


@pytest.fixture
def home(monkeypatch) -> Path:
    with memory_dir() as folder:
        monkeypatch.setenv("DAGSTER_HOME", str(folder))
        yield folder


def test_a_corrected_early_workbook_moves_the_progress_from_its_period_on(
    dirs, home, tmp_path, monkeypatch, capsys
):
    raw, assets = dirs
    shutil.copytree(BUNDLED_P4, raw / "P4")
    assert run_pipeline() == 0
    before = _progress(assets)
    kept_file = tmp_path / "state" / PROGRESS_FILE
    assert set(json.loads(kept_file.read_text())) == set(before["period_id"])

    # P4 corrects RP02: one more event, dated in RP02.
    make_workbook(
        raw,
        "P4",
        "RP02",
        {"Events": [event_row("EV-NEW", "regional_stakeholder_meeting", "2016-11-15")]},
    )
    assert run_pipeline() == 0
    kept = _progress(assets)

    # The same folder from scratch: new state and assets.
    monkeypatch.setenv("CLUSTERIX_STATE_DIR", str(tmp_path / "fresh_state"))
    monkeypatch.setenv("CLUSTERIX_ASSETS_DIR", str(tmp_path / "fresh_assets"))
    assert run_pipeline() == 0
    fresh = _progress(tmp_path / "fresh_assets")
    capsys.readouterr()

    pd.testing.assert_frame_equal(kept, fresh)
    changed = before.merge(kept, on=["indicator_id", "period_id"], suffixes=("_before", ""))
    same = (changed["achieved_before"] == changed["achieved"]) | (
        changed["achieved_before"].isna() & changed["achieved"].isna()
    )
    moved = changed[~same]
    assert not moved.empty
    assert "RP01" not in set(moved["period_id"]), "a period before the correction stands"
