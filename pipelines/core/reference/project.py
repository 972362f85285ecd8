"""``project.yaml``: what makes a project itself beyond its tables.

Its name and programme (every title, template and report says them), its currency,
its phases and which partners report in each, the rule that dates a period's
deadline, and the monitoring rules it declares (the stakeholder-meeting floor). Read
entry by entry, so a wrong entry is named with what to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_FILE = "project.yaml"
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_KEYS = {
    "name",
    "programme",
    "currency",
    "phases",
    "deadline",
    "stakeholder_meeting_floor",
}
# yaml.safe_load's loader with libyaml's parser when PyYAML has it (its wheels do).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Phase:
    """A project phase; ``partners`` None means every partner reports in it."""

    phase: str
    name: str
    partners: frozenset[str] | None = None


@dataclass(frozen=True)
class MeetingFloor:
    """At least ``minimum`` events of ``event_type`` per partner with a policy
    instrument in every period of ``phase``."""

    event_type: str
    phase: str
    minimum: int


@dataclass(frozen=True)
class Project:
    """The project's own facts from ``project.yaml``."""

    name: str
    programme: str
    currency: str
    phases: tuple[Phase, ...]
    months_after_period_end: int | None
    floor: MeetingFloor | None

    @property
    def phase_ids(self) -> tuple[str, ...]:
        return tuple(p.phase for p in self.phases)

    def phase_name(self, phase: str) -> str:
        """The name a phase is shown by (``Phase 1, interregional learning``), not its id."""
        return next(p.name for p in self.phases if p.phase == phase)


class ProjectFileError(ValueError):
    """``project.yaml`` is missing or an entry is wrong; one line per problem."""


def _text(entry: Mapping, key: str, where: str, problems: list[str]) -> str:
    value = entry.get(key)
    if value is None or str(value).strip() == "":
        problems.append(f"{PROJECT_FILE}, {where}: '{key}' is required; write it as text")
        return ""
    return str(value).strip()


def _phases(raw: object, problems: list[str]) -> tuple[Phase, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(
            f"{PROJECT_FILE}: 'phases' is required: a list of entries with 'phase' and 'name'"
        )
        return ()
    phases = []
    for i, entry in enumerate(raw, start=1):
        where = f"phases entry {i}"
        if not isinstance(entry, Mapping):
            problems.append(f"{PROJECT_FILE}, {where}: write 'phase' and 'name' on their own lines")
            continue
        unknown = set(entry) - {"phase", "name", "partners"}
        if unknown:
            problems.append(
                f"{PROJECT_FILE}, {where}: unknown key(s) {', '.join(sorted(map(str, unknown)))};"
                " a phase has phase, name and partners"
            )
        partners = entry.get("partners")
        if partners is not None and not isinstance(partners, list):
            problems.append(
                f"{PROJECT_FILE}, {where}: 'partners' is a list of partner ids, e.g. [P1, P2]"
            )
            partners = None
        phases.append(
            Phase(
                phase=_text(entry, "phase", where, problems),
                name=_text(entry, "name", where, problems),
                partners=None if partners is None else frozenset(str(p) for p in partners),
            )
        )
    ids = [p.phase for p in phases]
    for phase in sorted({p for p in ids if ids.count(p) > 1}):
        problems.append(f"{PROJECT_FILE}: phase {phase!r} is listed more than once")
    return tuple(phases)


def _whole_number(raw: object, where: str, problems: list[str], least: int) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < least:
        problems.append(f"{PROJECT_FILE}, {where}: write a whole number >= {least}, not {raw!r}")
        return None
    return raw


def _deadline(raw: object, problems: list[str]) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"months_after_period_end"}:
        problems.append(
            f"{PROJECT_FILE}, deadline: write 'months_after_period_end: N' (the last day of"
            " the Nth month after a period ends), or leave 'deadline' out and give each"
            " period a deadline in periods.csv"
        )
        return None
    return _whole_number(raw["months_after_period_end"], "deadline", problems, least=0)


def _floor(raw: object, problems: list[str]) -> MeetingFloor | None:
    if raw is None:
        return None
    where = "stakeholder_meeting_floor"
    if not isinstance(raw, Mapping) or set(raw) != {"event_type", "phase", "minimum"}:
        problems.append(f"{PROJECT_FILE}, {where}: write exactly event_type, phase and minimum")
        return None
    minimum = _whole_number(raw["minimum"], where, problems, least=1)
    return MeetingFloor(
        event_type=_text(raw, "event_type", where, problems),
        phase=_text(raw, "phase", where, problems),
        minimum=minimum or 1,
    )


def load_project(folder: Path) -> Project:
    """Read and check ``project.yaml`` in ``folder`` (raises with every problem found)."""
    path = folder / PROJECT_FILE
    if not path.is_file():
        raise ProjectFileError(f"{PROJECT_FILE} is missing from {folder}")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise ProjectFileError(f"{PROJECT_FILE} is not valid YAML: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise ProjectFileError(f"{PROJECT_FILE} must hold entries such as 'name: My project'")
    problems: list[str] = []
    unknown = set(raw) - _KEYS
    if unknown:
        problems.append(
            f"{PROJECT_FILE}: unknown entr(y/ies) {', '.join(sorted(map(str, unknown)))};"
            f" known: {', '.join(sorted(_KEYS))}"
        )
    currency = _text(raw, "currency", "top level", problems)
    if currency and not _CURRENCY.match(currency):
        problems.append(
            f"{PROJECT_FILE}, currency: write a three-letter ISO 4217 code such as EUR,"
            f" not {currency!r}"
        )
    project = Project(
        name=_text(raw, "name", "top level", problems),
        programme=_text(raw, "programme", "top level", problems),
        currency=currency,
        phases=_phases(raw.get("phases"), problems),
        months_after_period_end=_deadline(raw.get("deadline"), problems),
        floor=_floor(raw.get("stakeholder_meeting_floor"), problems),
    )
    if problems:
        raise ProjectFileError("\n".join(problems))
    return project
