"""``clusterix check-project DIR``: what a project folder declares, in a few lines.

A monitoring officer writing a folder needs to see that the pipeline read what they
meant (how many partners report in each phase, how many workbooks are expected, which
computation each indicator uses), not only that nothing was refused.
"""

from __future__ import annotations

from collections import Counter

from pipelines.core.metadata.sheets import RECORD_SHEETS
from pipelines.core.reference.model import Reference


def _listed(ids: list[str]) -> str:
    """A short list in full; a long one (a synthetic programme) by its ends."""
    return ", ".join(ids) if len(ids) <= 12 else f"{ids[0]}..{ids[-1]}"


def _phase_lines(ref: Reference) -> list[str]:
    """One line per phase: its periods and the partners expected to report in it."""
    lines = []
    for phase in ref.project.phases:
        periods = [p for p in ref.period_ids if ref.period(p)["phase"] == phase.phase]
        partners = len(phase.partners) if phase.partners is not None else len(ref.partner_ids)
        lines.append(
            f"    {phase.phase} ({phase.name}): {len(periods)} period(s), {partners} partner(s)"
        )
    return lines


def _deadline_line(ref: Reference) -> str:
    months = ref.project.months_after_period_end
    if months is None:
        return "  deadlines: the dates written in periods.csv"
    return (
        f"  deadlines: last day of the month {months} month(s) after a period's end month,"
        " unless periods.csv gives the period its own"
    )


def _floor_line(ref: Reference) -> str:
    floor = ref.project.floor
    if floor is None:
        return "  stakeholder-meeting floor: none declared"
    return (
        f"  stakeholder-meeting floor: at least {floor.minimum} {floor.event_type} per"
        f" partner with a policy instrument in each period of phase {floor.phase}"
    )


def _sheet_lines(ref: Reference) -> list[str]:
    """The workbook's record sheets: the standard ones, then the project's own."""
    own = ref.record_sheets[len(RECORD_SHEETS) :]
    lines = [f"  record sheets: {', '.join(s.name for s in RECORD_SHEETS)}"]
    lines += [
        f"    and its own {s.name} (sheets.yaml): table {s.table}, key {s.ref},"
        f" columns {', '.join(s.column_names)}"
        for s in own
    ]
    return lines


def summary(ref: Reference) -> list[str]:
    """The folder's contents as the pipeline understood them, one fact per line."""
    computations = Counter(ref.indicators["computation"])
    by_computation = ", ".join(f"{n} {name}" for name, n in computations.items())
    return [
        f"{ref.project.name} ({ref.project.programme}, amounts in {ref.project.currency}):"
        f" {ref.folder} is valid.",
        f"  {len(ref.partner_ids)} partners ({_listed(ref.partner_ids)})",
        f"  {len(ref.period_ids)} reporting periods ({ref.period_ids[0]}..{ref.period_ids[-1]})",
        f"  {len(ref.phase_ids)} phases:",
        *_phase_lines(ref),
        f"  {len(ref.policy_instruments)} policy instruments",
        f"  {len(ref.event_type_ids)} event types",
        *_sheet_lines(ref),
        f"  {len(ref.indicators)} indicators: {by_computation}",
        f"  {len(ref.expected_submissions())} workbooks expected (partner x period)",
        _deadline_line(ref),
        _floor_line(ref),
    ]
