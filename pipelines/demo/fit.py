"""Whether the sample plan fits the project in use, decided from its data.

The plan (:mod:`pipelines.demo.plan`) names partners, periods, partner-periods, event
types, a phase and policy instruments of the project it was written for. Another
project lacks some of them, and generating anyway would stop half-way with a
``KeyError`` after the old samples were removed. Every gap is found first and
reported in one line, so ``clusterix sample`` writes nothing and says why.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import PurePosixPath

from pipelines.core.reference.model import Reference
from pipelines.demo.plan import (
    CITIES,
    COLLABORATION_PERIODS,
    CONTACTS,
    EXTRA_STAKEHOLDER,
    FLAWS,
    FORMULA_LIKE_FILE,
    GROWTH,
    LATE_SUBMISSIONS,
    MEASURES,
    ODS_SUBMISSIONS,
    PARTICIPANTS,
    PHASE2_STAKEHOLDER,
    PLAN_PROJECT,
    PLANNED,
    PRACTICES_PER_PARTNER,
    RESTATED,
    RSM,
    STAKEHOLDER_GAPS,
    STAKEHOLDER_PHASE,
    instrument_of,
)


class SamplePlanError(ValueError):
    """The project in use lacks what the sample plan names: nothing is generated."""


def _pair(file: str) -> tuple[str, str]:
    """``P8/RP07.xlsx`` as (``P8``, ``RP07``)."""
    path = PurePosixPath(file)
    return path.parent.name, path.stem


def plan_submissions() -> set[tuple[str, str]]:
    """Every (partner, period) the plan writes into or names."""
    pairs = {(p.host, p.period_id) for p in PLANNED}
    pairs |= {(p.also_reported_by, p.period_id) for p in PLANNED if p.also_reported_by}
    pairs |= set(EXTRA_STAKEHOLDER) | {(p, period) for p, period, _ in PHASE2_STAKEHOLDER}
    pairs |= {(p, period) for p in GROWTH for period in COLLABORATION_PERIODS}
    pairs |= {_pair(flaw.file) for flaw in FLAWS} | {_pair(FORMULA_LIKE_FILE)}
    pairs |= set(LATE_SUBMISSIONS) | set(ODS_SUBMISSIONS) | set(STAKEHOLDER_GAPS)
    return pairs | {RESTATED[:2]}


def plan_partners() -> set[str]:
    """Every partner the plan names, as host, guest, reporter or in a figure."""
    named = set(CITIES) | set(CONTACTS) | set(PRACTICES_PER_PARTNER) | set(GROWTH)
    named |= {p.guest for p in PLANNED if p.guest} | {m.partner for m in MEASURES}
    return named | {partner for partner, _ in plan_submissions()}


def plan_event_types() -> set[str]:
    return {p.event_type for p in PLANNED} | set(PARTICIPANTS) | {RSM, RESTATED[2]}


def _some(items: Iterable[object]) -> str:
    """A list short enough for one line: six items, then how many more."""
    shown = sorted(map(str, items), key=lambda s: (len(s), s))
    more = f" and {len(shown) - 6} more" if len(shown) > 6 else ""
    return ", ".join(shown[:6]) + more


def _missing(kind: str, named: Collection[str], known: Collection[str], where: str) -> list[str]:
    absent = set(named) - set(known)
    return [f"{kind} {_some(absent)} not in {where}"] if absent else []


def _partner_gaps(ref: Reference) -> list[str]:
    gaps = _missing("partners", plan_partners(), ref.partner_ids, "partners.yaml")
    unknown = set(ref.partner_ids) - set(CONTACTS)
    if unknown:
        gaps.append(f"partners {_some(unknown)} that the plan has no place or contact for")
    return gaps


def _submission_gaps(ref: Reference) -> list[str]:
    """Partner-periods the plan writes that the project's phases do not expect."""
    expected = set(ref.expected_submissions())
    unexpected = {
        f"{partner} {period}"
        for partner, period in plan_submissions() - expected
        if partner in ref.partner_ids and period in ref.period_ids
    }
    return [f"no workbook expected for {_some(unexpected)}"] if unexpected else []


def _event_type_gaps(ref: Reference) -> list[str]:
    gaps = _missing("event types", plan_event_types(), ref.event_type_ids, "event_types.csv")
    for plan in PLANNED:
        limit = ref.max_days(plan.event_type) if plan.event_type in ref.event_type_ids else None
        if limit is not None and plan.days > limit:
            gaps.append(
                f"{plan.title!r} lasts {plan.days} days, more than the {limit} a"
                f" {plan.event_type} may last (event_types.csv)"
            )
    if STAKEHOLDER_PHASE not in ref.phase_ids:
        gaps.append(f"no phase {STAKEHOLDER_PHASE!r} for the regional stakeholder meetings")
    return gaps


def _instrument_gaps(ref: Reference) -> list[str]:
    owners = ref.instrument_owners()
    wrong = {
        instrument_of(m.partner)
        for m in MEASURES
        if owners.get(instrument_of(m.partner)) != m.partner
    }
    where = "policy_instruments.csv with those partners"
    return [f"policy instruments {_some(wrong)} not in {where}"] if wrong else []


def plan_gaps(ref: Reference) -> list[str]:
    """What the plan names that the project does not have (empty: the plan fits)."""
    gaps = _partner_gaps(ref)
    gaps += _missing("periods", {p for _, p in plan_submissions()}, ref.period_ids, "periods.csv")
    gaps += _submission_gaps(ref) + _event_type_gaps(ref) + _instrument_gaps(ref)
    return gaps


def check_plan(ref: Reference) -> None:
    """Raise :class:`SamplePlanError`, in one line, unless the plan fits the project."""
    gaps = plan_gaps(ref)
    if gaps:
        raise SamplePlanError(
            f"the synthetic sample follows {PLAN_PROJECT}'s plan, which project"
            f" {ref.project.name!r} does not fit: {'; '.join(gaps)}. Nothing was written;"
            " write its workbooks with `clusterix template PARTNER PERIOD` instead"
        )
