"""``clusterix check-project``, ``--project`` and ``sample`` on folders other than the
bundled one: what a monitoring officer writing a new project folder runs first."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.app.cli import main
from pipelines.core.reference.loader import DEFAULT_PROJECT_DIR, reference
from pipelines.platform.settings import PROJECT_DIR_ENV


@pytest.fixture(autouse=True)
def _project_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``--project`` sets the variable for the process: undo it, and forget the project
    it loaded, so later tests see the bundled one."""
    monkeypatch.setenv(PROJECT_DIR_ENV, "")
    yield
    reference.cache_clear()


def _copy(tmp_path: Path, name: str = "project") -> Path:
    folder = tmp_path / name
    shutil.copytree(DEFAULT_PROJECT_DIR, folder)
    return folder


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path.name, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def _with_q12(tmp_path: Path) -> Path:
    """A project 'Other' whose eleventh partner is Q12, not P11."""
    folder = _copy(tmp_path, "other")
    _replace(folder / "project.yaml", "name: CLUSTERIX 2.0", "name: Other")
    _replace(folder / "partners.yaml", "partner_id: P11\n", "partner_id: Q12\n")
    _replace(folder / "policy_instruments.csv", "PI-P11,P11,", "PI-Q12,Q12,")
    return folder


def test_check_project_summarises_the_bundled_folder(capsys):
    assert main(["check-project", str(DEFAULT_PROJECT_DIR)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CLUSTERIX 2.0 (Interreg Europe 2014-2020")
    assert "11 partners" in out
    assert "extended (Extended phase): 3 period(s), 10 partner(s)" in out
    assert "9 count_events" in out
    assert "118 workbooks expected" in out
    assert "3 month(s) after" in out


def test_check_project_lists_every_problem_with_file_and_row(tmp_path, capsys):
    folder = _copy(tmp_path)
    _replace(folder / "indicators.csv", "20,,count_records,", "20,,total,")
    _replace(folder / "periods.csv", "2022-09-30,extended", "2022-09-30,3")
    assert main(["check-project", str(folder)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "has 2 problem(s)" in captured.err
    assert "indicators.csv, row 13 (O2): 'computation' 'total' is not one of" in captured.err
    assert "periods.csv, row 11, column 'phase': phase '3' is not in project.yaml" in captured.err
    assert "Traceback" not in captured.err


def test_check_project_on_a_missing_folder_says_so_in_one_line(tmp_path, capsys):
    assert main(["check-project", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere does not exist" in err


def test_project_option_refuses_a_missing_folder(tmp_path, capsys):
    out = tmp_path / "x.xlsx"
    argv = ["--project", str(tmp_path / "nowhere"), "template", "P1", "RP01", "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere does not exist (--project)" in err
    assert not out.exists()


def test_project_option_makes_the_command_use_that_folder(tmp_path, capsys):
    folder = _with_q12(tmp_path)
    out = tmp_path / "Q12_RP01.xlsx"
    assert main(["template", "Q12", "RP01", "-o", str(out)]) != 0  # bundled: no Q12
    assert main(["--project", str(folder), "template", "Q12", "RP01", "-o", str(out)]) == 0
    assert out.is_file()


def test_a_command_on_a_broken_project_lists_its_problems_without_traceback(tmp_path, capsys):
    folder = _copy(tmp_path)
    _replace(folder / "indicators.csv", "20,,count_records,", "20,,total,")
    out = tmp_path / "x.xlsx"
    assert main(["--project", str(folder), "template", "P1", "RP01", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "indicators.csv, row 13 (O2)" in err and f"check-project {folder}" in err
    assert not out.exists()


def test_sample_refuses_a_project_with_other_partners_and_writes_nothing(tmp_path, capsys):
    folder = _with_q12(tmp_path)
    raw = tmp_path / "raw"
    (raw / "P1").mkdir(parents=True)
    (raw / "P1" / "RP01.xlsx").write_bytes(b"an earlier sample")
    assert main(["--project", str(folder), "sample", "--raw-dir", str(raw)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "CLUSTERIX 2.0's plan, which project 'Other' does not fit" in err
    assert "partners P11 not in partners.yaml" in err
    assert "Q12" in err and "clusterix template PARTNER PERIOD" in err
    assert [p.relative_to(raw).as_posix() for p in raw.rglob("*")] == ["P1", "P1/RP01.xlsx"]
    assert (raw / "P1" / "RP01.xlsx").read_bytes() == b"an earlier sample"
