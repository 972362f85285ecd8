"""Another project's outputs say its own name and nothing of CLUSTERIX 2.0.

The project here is a copy of the bundled folder renamed in project.yaml, with no
stakeholder-meeting floor: every title, the template's Guide, the report, the feedback,
the data dictionary and the run's summary must take the name from the folder, and say
nothing of a floor the project does not declare. The tool keeps its own name (the
``clusterix`` command, the ``CLUSTERIX_*`` settings), so only the project's name, as a
word of its own, is looked for.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from pipelines.app.run import floor_summary
from pipelines.core.indicators.compute import (
    compute_indicators,
    indicator_progress,
    indicator_scorecard,
    stakeholder_meeting_floor,
)
from pipelines.core.intake.issues import issues_frame
from pipelines.core.outputs.dictionary import data_dictionary
from pipelines.core.outputs.feedback import write_folder_feedback
from pipelines.core.outputs.report import report_html
from pipelines.core.outputs.template import write_template
from pipelines.core.reference.loader import DEFAULT_PROJECT_DIR, load_reference, reference
from pipelines.core.reference.model import Reference
from pipelines.core.state.completeness import submission_statuses
from pipelines.core.state.facts import resolve_facts
from pipelines.platform.settings import PROJECT_DIR_ENV

NAME = "Green Valleys 2027"
PROGRAMME = "Interreg Europe 2021-2027"
CLUSTERIX = re.compile(r"\bCLUSTERIX\b")


def _renamed_copy(folder: Path) -> Path:
    """The bundled project under another name, in EUR, with no meeting floor."""
    shutil.copytree(DEFAULT_PROJECT_DIR, folder)
    path = folder / "project.yaml"
    project = yaml.safe_load(path.read_text(encoding="utf-8"))
    project.update(name=NAME, programme=PROGRAMME, currency="EUR")
    del project["stakeholder_meeting_floor"]
    path.write_text(yaml.safe_dump(project, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture
def green(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reference]:
    """The renamed project, in use for the code that reads the global reference."""
    folder = _renamed_copy(tmp_path / "green-valleys")
    monkeypatch.setenv(PROJECT_DIR_ENV, str(folder))
    reference.cache_clear()
    yield load_reference(folder)
    reference.cache_clear()  # the next test reads the bundled project again


def _workbook_text(path: Path) -> str:
    """Every part of a zipped workbook as text: cells, comments, drop-downs, properties."""
    with zipfile.ZipFile(path) as book:
        return "".join(
            book.read(name).decode("utf-8") for name in book.namelist() if name.endswith(".xml")
        )


def _report(ref: Reference) -> str:
    facts = resolve_facts({}, ref)
    return report_html(
        scorecard=indicator_scorecard(compute_indicators(facts.tables, ref)),
        progress=indicator_progress({}, ref),
        statuses=submission_statuses(pd.DataFrame(), ref, dt.date(2023, 2, 1), issues_frame([])),
        floor=stakeholder_meeting_floor(facts.tables["events"], ref),
        issues=issues_frame([]),
        ref=ref,
        generated_at="2026-12-03 12:00 UTC",
    )


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_template_names_the_project_in_use(green: Reference, tmp_path: Path, suffix) -> None:
    path = write_template("P1", "RP01", tmp_path / f"RP01{suffix}")
    text = _workbook_text(path)
    assert not CLUSTERIX.search(text)
    assert f"{NAME} — partner report" in text
    assert "amounts are in EUR" in text


def test_template_properties_name_the_project(green: Reference, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write_template("P1", "RP01", tmp_path / "RP01.xlsx"))
    assert (book.properties.title, book.properties.creator) == (f"{NAME} report P1 RP01", NAME)


def test_report_names_the_project_and_has_no_floor_it_does_not_declare(green: Reference) -> None:
    page = _report(green)
    assert not CLUSTERIX.search(page)
    assert f"<title>{NAME} progress report</title>" in page
    assert f"How far the {PROGRAMME} project {NAME} is" in page
    assert 'id="floor"' not in page and "floor" not in page.lower()


def test_feedback_names_the_project(green: Reference, tmp_path: Path) -> None:
    path = write_folder_feedback(
        tmp_path / "feedback.xlsx", "P1", green.partner_name("P1"), issues_frame([]),
        dt.date(2026, 12, 3), green.project.name,
    )  # fmt: skip
    text = _workbook_text(path)
    assert not CLUSTERIX.search(text)
    assert f"{NAME} - feedback on your workbook" in text


def test_data_dictionary_names_the_project(green: Reference) -> None:
    text = data_dictionary(green.project)
    assert not CLUSTERIX.search(text)
    assert text.startswith(f"# {NAME} published data\n")
    assert "`DECIMAL(18,2)` in EUR" in text


def test_run_summary_has_no_floor_line_without_a_floor(green: Reference) -> None:
    floor = stakeholder_meeting_floor(resolve_facts({}, green).tables["events"], green)
    assert floor.empty
    assert floor_summary(floor, green.project) is None


def test_run_summary_states_the_declared_floor() -> None:
    bundled = load_reference(DEFAULT_PROJECT_DIR)
    floor = stakeholder_meeting_floor(resolve_facts({}, bundled).tables["events"], bundled)
    line = floor_summary(floor, bundled.project)
    assert line.startswith(
        "Stakeholder-meeting floor (at least 1 regional_stakeholder_meeting per partner and"
        " period of Phase 1, interregional learning): 0 of 60 met; gaps: P1 RP01, P1 RP02, "
    )
