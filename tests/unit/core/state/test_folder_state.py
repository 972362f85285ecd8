"""A partner-period's status follows what its folder holds now (SPEC section 10).

Random sequences of what partners, their programs and their sync tools do to a folder
(add, replace, copy under another name, move to a sub-folder, rename, delete, restore
older bytes, two things at once) are run through the core ingest functions, and after
each run the published submissions, issues, records and status are checked against a
small model of what the folder means.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from pipelines.core.intake.discovery import discover
from pipelines.core.intake.ingest import refresh
from pipelines.core.metadata.enumerations import LATE, MISSING, ON_TIME, REJECTED
from pipelines.core.reference.loader import reference
from pipelines.core.state.completeness import submission_statuses
from pipelines.core.state.review import Ledger
from pipelines.core.state.submissions import current_records, issues_table, submissions_table
from pipelines.core.state.versions import SubmissionState
from tests.helpers.workbooks import GOOD_EVENT, make_workbook

REF = reference()
AS_OF = dt.date(2026, 12, 1)  # every deadline has passed: nothing is "not yet due"
# Names the partner-period's workbook may have, and names it is refused under.
WORKBOOK_NAMES = ("P4/RP07.xlsx", "P4/P4_RP07.xlsx", "P4/RP07.XLSX")
REFUSED_NAMES = ("P4/2025/RP07.xlsx", "P4/RP07.xls")
NAMES = WORKBOOK_NAMES + REFUSED_NAMES
# Contents: two good workbooks (told apart by their participants) and a file that is
# no workbook at all.
PARTICIPANTS = {"good30": 30, "good40": 40}
CONTENTS = (*PARTICIPANTS, "garbage")


@pytest.fixture(scope="module")
def contents(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("contents")
    made = {}
    for label, participants in PARTICIPANTS.items():
        event = {**GOOD_EVENT, "start_date": dt.date(2020, 1, 20), "participants": participants}
        path = make_workbook(folder / label, "P4", "RP07", {"Events": [event]})
        made[label] = path.read_bytes()
    made["garbage"] = b"minutes of the meeting, not a workbook"
    return made


@dataclass
class Model:
    """What the folder means: its files now, every (file, content) seen, the one in use."""

    folder: dict[str, str] = field(default_factory=dict)
    seen: set[tuple[str, str]] = field(default_factory=set)
    in_use: tuple[str, str] | None = None
    kept: set[tuple[str, str]] = field(default_factory=set)

    def accepted(self, name: str, label: str) -> bool:
        return name in WORKBOOK_NAMES and label in PARTICIPANTS

    def workbooks(self) -> list[str]:
        return [name for name in self.folder if name in WORKBOOK_NAMES]

    def refused(self) -> set[str]:
        several = len(self.workbooks()) > 1
        return {n for n, label in self.folder.items() if several or not self.accepted(n, label)}

    def to_read(self) -> int:
        """Versions a run must read: never seen, or accepted with their rows not kept."""
        return sum(
            1
            for pair in self.folder.items()
            if pair not in self.seen or (self.accepted(*pair) and pair not in self.kept)
        )

    def run(self) -> None:
        workbooks = self.workbooks()
        if len(workbooks) == 1 and self.accepted(workbooks[0], self.folder[workbooks[0]]):
            self.in_use = (workbooks[0], self.folder[workbooks[0]])
        self.seen |= set(self.folder.items())
        self.kept = {p for p in self.folder.items() if self.accepted(*p)} | {self.in_use} - {None}


def _write(raw: Path, name: str, data: bytes) -> None:
    path = raw / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


Operation = Callable[[random.Random, Path, Model, dict[str, bytes]], str | None]


def _add(rng, raw, model, contents):
    free = [n for n in NAMES if n not in model.folder]
    if not free:
        return None
    name, label = rng.choice(free), rng.choice(CONTENTS)
    _write(raw, name, contents[label])
    model.folder[name] = label
    return f"add {name} {label}"


def _replace(rng, raw, model, contents):
    if not model.folder:
        return None
    name = rng.choice(sorted(model.folder))
    label = rng.choice([c for c in CONTENTS if c != model.folder[name]])
    _write(raw, name, contents[label])
    model.folder[name] = label
    return f"replace {name} {label}"


def _move(rng, raw, model, target_names):
    present = sorted(model.folder)
    free = [n for n in target_names if n not in model.folder]
    if not present or not free:
        return None
    source, target = rng.choice(present), rng.choice(free)
    (raw / target).parent.mkdir(parents=True, exist_ok=True)
    (raw / source).rename(raw / target)
    model.folder[target] = model.folder.pop(source)
    return f"move {source} {target}"


def _rename(rng, raw, model, contents):
    return _move(rng, raw, model, NAMES)


def _to_sub_folder(rng, raw, model, contents):
    return _move(rng, raw, model, ("P4/2025/RP07.xlsx",))


def _copy(rng, raw, model, contents):
    present = sorted(model.folder)
    free = [n for n in NAMES if n not in model.folder]
    if not present or not free:
        return None
    source, target = rng.choice(present), rng.choice(free)
    (raw / target).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(raw / source, raw / target)
    model.folder[target] = model.folder[source]
    return f"copy {source} {target}"


def _delete(rng, raw, model, contents):
    if not model.folder:
        return None
    name = rng.choice(sorted(model.folder))
    (raw / name).unlink()
    del model.folder[name]
    return f"delete {name}"


def _restore(rng, raw, model, contents):
    older = sorted((n, c) for n, c in model.seen if n in model.folder and model.folder[n] != c)
    if not older:
        return None
    name, label = rng.choice(older)
    _write(raw, name, contents[label])
    model.folder[name] = label
    return f"restore {name} {label}"


OPERATIONS: tuple[Operation, ...] = (
    _add,
    _add,
    _replace,
    _copy,
    _to_sub_folder,
    _rename,
    _delete,
    _restore,
)


def _published(state: SubmissionState) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    submissions = Ledger().with_review_status(submissions_table([state], []))
    issues = issues_table([state], [])
    statuses = submission_statuses(submissions, REF, AS_OF, issues)
    status = statuses[(statuses["partner_id"] == "P4") & (statuses["period_id"] == "RP07")]
    return submissions, issues, status.iloc[0]


def _check(state, model, shas, read, expected_read, steps) -> None:
    def sha_pairs(pairs):
        return {(name, shas[label]) for name, label in pairs}

    submissions, issues, status = _published(state)
    rows = set(zip(submissions["file"], submissions["sha256"], strict=True))
    assert len(rows) == len(submissions), steps  # one row per file and bytes
    assert rows == sha_pairs(model.seen), steps  # every version seen stays in the history
    in_folder = submissions[submissions["in_folder"].astype(bool)]
    assert set(zip(in_folder["file"], in_folder["sha256"], strict=True)) == sha_pairs(
        model.folder.items()
    ), steps
    current = submissions[submissions["current"].astype(bool)]
    expected_current = sha_pairs([model.in_use] if model.in_use else [])
    assert set(zip(current["file"], current["sha256"], strict=True)) == expected_current, steps

    events = current_records([state])["events"]
    participants = [PARTICIPANTS[model.in_use[1]]] if model.in_use else []
    assert list(events["participants"]) == participants, steps

    refused = model.refused()
    is_open = issues["is_open"].astype(bool)
    open_errors = issues[is_open & (issues["severity"] == "error")]
    assert set(issues.loc[is_open, "file"]) <= set(model.folder), steps  # removed: closed
    assert set(open_errors["file"]) == refused, steps  # each refused file says why
    assert issues["issue_id"].is_unique, steps
    rejected = submissions[submissions["status"] == "rejected"]
    errors = issues[issues["severity"] == "error"]
    with_errors = set(zip(errors["file"], errors["sha256"], strict=True))
    # No refusal vanishes: each rejected version keeps its own error, open or closed.
    assert set(zip(rejected["file"], rejected["sha256"], strict=True)) <= with_errors, steps

    if model.in_use:
        assert status["status"] in (ON_TIME, LATE), steps
        assert status["file"] == model.in_use[0], steps
        assert bool(status["latest_rejected"]) == bool(refused), steps
    else:
        assert status["status"] == (REJECTED if refused else MISSING), steps
    named = set() if pd.isna(status["rejected_file"]) else set(status["rejected_file"].split(", "))
    assert named == refused, steps
    assert read == expected_read, steps  # only what was never read as such is read


@pytest.mark.parametrize("seed", range(12))
def test_the_state_follows_the_folder_through_random_operations(seed, tmp_path, contents):
    rng = random.Random(seed)
    raw = tmp_path / "raw"
    raw.mkdir()
    shas = {label: hashlib.sha256(data).hexdigest() for label, data in contents.items()}
    model, state, steps = Model(), SubmissionState("P4", "RP07"), []
    for _ in range(8):
        done = []
        for _ in range(rng.choice((1, 1, 2))):  # sometimes two things at once
            operation = rng.choice(OPERATIONS)
            done.append(operation(rng, raw, model, contents))
        steps.append(" + ".join(d for d in done if d) or "nothing")
        expected_read = model.to_read()
        refreshed = refresh(discover(raw, REF), [state], REF, tmp_path / "archive")
        state = refreshed.states[0] if refreshed.states else state
        model.run()
        _check(state, model, shas, refreshed.files_read, expected_read, steps)


def test_a_copy_of_the_accepted_workbook_has_its_own_verdict_and_leaves_no_trace(
    tmp_path, contents
):
    """Issue 17, item 1, in the core: the copy is refused while it is there (with the
    original, when both are workbooks for the period), the accepted version stays in use
    throughout, and removing the copy closes its issues."""
    raw = tmp_path / "raw"
    _write(raw, "P4/RP07.xlsx", contents["good30"])
    state = refresh(
        discover(raw, REF), [SubmissionState("P4", "RP07")], REF, tmp_path / "a"
    ).states[0]
    for copy in ("P4/P4_RP07.xlsx", "P4/RP07.xls", "P4/2025/RP07.xlsx"):
        _write(raw, copy, contents["good30"])
        state = refresh(discover(raw, REF), [state], REF, tmp_path / "a").states[0]
        assert state.in_use["file"] == "P4/RP07.xlsx"
        rivals = ["P4/RP07.xlsx"] if copy in WORKBOOK_NAMES else []  # two workbooks: both
        assert [v["file"] for v in state.refused] == [*rivals, copy]
        (raw / copy).unlink()
        state = refresh(discover(raw, REF), [state], REF, tmp_path / "a").states[0]
        assert state.in_use["file"] == "P4/RP07.xlsx" and not state.refused
        assert {i["file"] for i in state.open_issues} <= {"P4/RP07.xlsx"}
    files = [v["file"] for v in state.versions]
    assert files == ["P4/RP07.xlsx", "P4/P4_RP07.xlsx", "P4/RP07.xls", "P4/2025/RP07.xlsx"]


def test_byte_identical_files_in_two_partner_periods_each_have_their_own_verdict(
    tmp_path, contents
):
    """Issue 22, item 9: P4's workbook also dropped, byte for byte, as P5's."""
    raw = tmp_path / "raw"
    for name in ("P4/RP07.xlsx", "P5/RP07.xlsx"):
        _write(raw, name, contents["good30"])
    before = [SubmissionState("P4", "RP07"), SubmissionState("P5", "RP07")]
    p4, p5 = refresh(discover(raw, REF), before, REF, tmp_path / "archive").states
    submissions = submissions_table([p4, p5], []).set_index("file")
    issues = issues_table([p4, p5], [])
    assert submissions.loc["P4/RP07.xlsx", ["status", "n_errors"]].tolist() == ["accepted", 0]
    assert submissions.loc["P5/RP07.xlsx", ["status", "n_errors"]].tolist() == ["rejected", 1]
    errors = issues[issues["severity"] == "error"]
    assert errors[["file", "rule"]].values.tolist() == [["P5/RP07.xlsx", "partner_mismatch"]]
    # The same row-level findings in the same bytes are two issues, one per file.
    warnings = issues[issues["severity"] == "warning"]
    assert set(warnings["file"]) <= {"P4/RP07.xlsx"}
    assert issues["issue_id"].is_unique
