"""docs/new-project.md stays true to the code: a monitoring officer writes a project
folder from the guide alone, so every computation, parameter, project.yaml entry and
record-sheet column the code accepts is in it, and its examples load."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pipelines.core.indicators.catalogue import COMPUTATIONS, PARAMETERS
from pipelines.core.metadata.tables import RECORD_SHEETS
from pipelines.core.reference.loader import DEFAULT_PROJECT_DIR, load_reference
from pipelines.core.reference.project import _KEYS, load_project
from pipelines.core.reference.record_sheets import _COLUMN_KEYS, _SHEET_KEYS, KINDS

GUIDE = Path(__file__).parents[3] / "docs" / "new-project.md"


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def _block(text: str, language: str, after: str = "") -> str:
    """The first fenced block of ``language`` after the line ``after``."""
    start = text.index(after) if after else 0
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, start)
    assert match, (language, after)
    return match.group(1)


def test_every_computation_and_its_parameters_are_explained(guide):
    for computation in COMPUTATIONS.values():
        assert f"`{computation.name}`" in guide, computation.name
        for parameter in (*computation.required, *computation.optional):
            assert f"`{parameter}`" in guide, (computation.name, parameter)
    for parameter in PARAMETERS:
        assert f"`{parameter}`" in guide, parameter


def test_every_project_yaml_entry_is_explained(guide):
    for key in _KEYS:
        assert f"`{key}`" in guide, key


def test_every_record_sheet_and_column_is_listed(guide):
    for sheet in RECORD_SHEETS:
        assert sheet.name in guide, sheet.name
        assert f"`{sheet.table}`" in guide, sheet.table
        for column in sheet.columns:
            assert f"`{column.name}`" in guide, (sheet.name, column.name)


def test_the_project_yaml_example_loads(guide, tmp_path):
    (tmp_path / "project.yaml").write_text(_block(guide, "yaml"), encoding="utf-8")
    project = load_project(tmp_path)
    assert project.phase_ids == ("core", "follow-up")
    assert project.months_after_period_end == 2


def test_the_worked_indicator_rows_load_and_cover_every_computation(guide, tmp_path):
    rows = _block(guide, "csv", after="<!-- worked-examples").splitlines()
    folder = tmp_path / "project"
    shutil.copytree(DEFAULT_PROJECT_DIR, folder)
    bundled = (folder / "indicators.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == bundled[0]  # the guide's header is the file's
    examples = rows[1:]
    (folder / "indicators.csv").write_text("\n".join([*bundled, *examples]) + "\n")
    indicators = load_reference(folder).indicators.set_index("indicator_id")
    ids = [row.split(",")[0] for row in examples]
    assert set(indicators.loc[ids, "computation"]) == set(COMPUTATIONS)


def test_every_sheets_yaml_setting_and_kind_is_explained(guide):
    for word in (*_SHEET_KEYS, *_COLUMN_KEYS, *KINDS):
        assert f"`{word}`" in guide, word


def test_the_sheets_yaml_example_loads_and_adds_its_sheet(guide, tmp_path):
    folder = tmp_path / "project"
    shutil.copytree(DEFAULT_PROJECT_DIR, folder)
    (folder / "sheets.yaml").write_text(
        _block(guide, "yaml", "### sheets.yaml (optional)"), encoding="utf-8"
    )
    ref = load_reference(folder)
    assert ref.record_sheets[-1].name == "Solutions"
    assert ref.fact_table("solutions").column("uptake").enum == ("taken_up", "up_scaled")
