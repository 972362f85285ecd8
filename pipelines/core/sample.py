"""Synthetic demo submissions: one workbook for every expected partner-period.

The data are invented (seeded, so every run writes the same bytes) but shaped on the
project's plan in the seed: the phase-1 meetings, the regional stakeholder meetings
of every partner with a policy instrument, the extended-phase events, good
practices moving from identified to structured, policy measures moving from planned
to implemented with the funds they influence, and the regional collaboration
figures. They are close to, not exactly on, the targets, so the scorecard has
something to show, and a few workbooks are deliberately flawed (:data:`FLAWS`) so
that validation has something to catch. Every workbook goes through
:func:`pipelines.core.template.write_template`, like a partner's would.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from pipelines.core.reference import Reference, reference
from pipelines.core.tables import RECORD_SHEETS
from pipelines.core.template import write_template

SEED = 20160401

# --- what is deliberately odd ------------------------------------------------------


@dataclass(frozen=True)
class Flaw:
    """A deliberately flawed sample file and what validation should make of it."""

    file: str  # relative to the raw directory
    problem: str
    expected: str

    def __str__(self) -> str:
        return f"{self.file}: {self.problem} -> {self.expected}"


# The partner-period whose only file is not a spreadsheet at all.
NOT_A_SPREADSHEET = "P7/RP03.xlsx"

FLAWS: tuple[Flaw, ...] = (
    Flaw(
        NOT_A_SPREADSHEET,
        "plain text, not a spreadsheet",
        "workbook rejected; P7 has no valid workbook for RP03",
    ),
    Flaw(
        "P8/RP07.xlsx",
        "Cover partner_id is P3, not P8",
        "workbook rejected; P8 has no valid workbook for RP07",
    ),
    Flaw(
        "P2/RP04.xlsx",
        "Events: participants is the text 'many' (ref EV-901)",
        "row quarantined (wrong type)",
    ),
    Flaw(
        "P6/RP05.xlsx",
        "Events: event_type 'webinar' is not an event type (ref EV-901)",
        "row quarantined (value outside the enumeration)",
    ),
    Flaw(
        "P9/RP02.xlsx",
        "Events: end_date before start_date (ref EV-901)",
        "row quarantined (end before start)",
    ),
    Flaw(
        "P10/RP06.xlsx",
        "PolicyMeasures: measure M-09 on PI-P4, another partner's policy instrument",
        "row quarantined (instrument of another partner)",
    ),
    Flaw(
        "P9/RP06.xlsx",
        "PolicyMeasures: measure M-09 with sf_influenced_eur > 0 on PI-P9, not SF-linked",
        "row quarantined (Structural Funds on a non-SF instrument)",
    ),
    Flaw(
        "P11/RP08.xlsx",
        "PolicyMeasures: measure M-09 implemented without implemented_on",
        "row quarantined (implemented_on missing)",
    ),
)

# Valid on purpose, but a trap for careless readers: text that looks like a formula.
FORMULA_LIKE_TITLE = '=HYPERLINK("http://evil.example","click")'
FORMULA_LIKE_FILE = "P4/RP02.xlsx"

# Submissions written as OpenDocument spreadsheets instead of xlsx.
ODS_SUBMISSIONS = frozenset({("P5", "RP04"), ("P9", "RP08")})

# Submissions sent after the period's deadline.
LATE_SUBMISSIONS = frozenset({("P3", "RP02"), ("P10", "RP05"), ("P6", "RP08"), ("P2", "RP10")})

# Phase-1 semesters without a regional stakeholder meeting (besides P7's lost RP03).
STAKEHOLDER_GAPS = frozenset({("P8", "RP02"), ("P3", "RP05")})

_OWNED_SUFFIXES = frozenset({".xlsx", ".ods", ".bin"})

# --- the partners' places and people (invented) ----------------------------------

_CITIES = {
    "P1": "St. Pölten",
    "P2": "Bolzano",
    "P3": "Győr",
    "P4": "Bucharest",
    "P5": "Lund",
    "P6": "Ostrava",
    "P7": "Vejle",
    "P8": "Clermont-Ferrand",
    "P9": "Brussels",
    "P10": "Piatra Neamț",
    "P11": "Malmö",
}
_CONTACTS = {
    "P1": ("Anna Berger", "anna.berger"),
    "P2": ("Luca Pichler", "luca.pichler"),
    "P3": ("Eszter Nagy", "eszter.nagy"),
    "P4": ("Ioana Popescu", "ioana.popescu"),
    "P5": ("Erik Lindqvist", "erik.lindqvist"),
    "P6": ("Petra Nováková", "petra.novakova"),
    "P7": ("Mette Jensen", "mette.jensen"),
    "P8": ("Claire Martin", "claire.martin"),
    "P9": ("Pieter Peeters", "pieter.peeters"),
    "P10": ("Andrei Munteanu", "andrei.munteanu"),
    "P11": ("Karin Svensson", "karin.svensson"),
}
_TOPICS = (
    "cluster internationalisation",
    "cross-sector value chains",
    "smart specialisation",
    "digital innovation hubs",
    "bioeconomy",
    "industry 4.0",
    "circular economy",
    "health technologies",
    "green energy",
    "company-research collaboration",
)
_SECTORS = ("Mechatronics", "Food", "Plastics", "ICT", "Green Building", "Automotive", "Health")

# --- the events plan ----------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """A planned event: its type, period, host and what else is known about it."""

    event_type: str
    period_id: str
    host: str
    title: str
    days: int = 1
    format: str = "in_person"
    back_to_back: str | None = None
    guest: str | None = None
    also_reported_by: str | None = None


_PM = "project_meeting"
_IDE = "in_depth_exploration_meeting"
_SX = "staff_exchange"
_MM = "monitoring_meeting"
_RSM = "regional_stakeholder_meeting"
_OCM = "online_consortium_meeting"
_OWG = "online_working_group_meeting"
_CFW = "cross_fertilisation_workshop"
_RRA = "regional_reflection_activity"

_PGD, _SV, _IDX = "peer_group_discussion", "study_visit", "in_depth_exploration"
_EIW, _PPR = "european_initiatives_workshop", "policy_peer_review_workshop"

# fmt: off
_PLANNED: tuple[_Plan, ...] = (
    _Plan(_PM, "RP01", "P1", "Kick-off project meeting", 2, back_to_back=f"{_PGD};{_SV}"),
    _Plan(_PM, "RP02", "P2", "Project meeting 2", 2, back_to_back=f"{_PGD};{_SV}"),
    _Plan(_PM, "RP02", "P3", "Project meeting 3", 2, back_to_back=f"{_IDX};{_SV}"),
    _Plan(_PM, "RP03", "P8", "Project meeting 4", 2, back_to_back=f"{_PGD};{_EIW}"),
    _Plan(_PM, "RP04", "P6", "Project meeting 5", 3, back_to_back=f"{_PGD};{_SV};{_IDX}",
          also_reported_by="P1"),
    _Plan(_PM, "RP04", "P9", "Project meeting 6", 2, back_to_back=f"{_SV};{_IDX}"),
    _Plan(_PM, "RP05", "P10", "Project meeting 7", 2, back_to_back=f"{_PGD};{_SV}"),
    _Plan(_PM, "RP06", "P4", "Project meeting 8", 2, back_to_back=f"{_PPR};{_SV}"),
    _Plan(_PM, "RP06", "P11", "Closing project meeting of phase 1", 2,
          back_to_back=f"{_IDX};{_PGD}"),
    _Plan(_IDE, "RP02", "P4", "In-depth exploration: innovation vouchers"),
    _Plan(_IDE, "RP03", "P10", "In-depth exploration: cluster-led export consortia"),
    _Plan(_IDE, "RP03", "P1", "In-depth exploration: cross-cluster calls"),
    _Plan(_IDE, "RP04", "P2", "In-depth exploration: open lab network"),
    _Plan(_IDE, "RP05", "P8", "In-depth exploration: cluster manager academy"),
    _Plan(_IDE, "RP05", "P11", "In-depth exploration: living labs"),
    _Plan(_IDE, "RP06", "P3", "In-depth exploration: value-chain mapping"),
    _Plan(_SX, "RP03", "P9", "Staff exchange: P4 staff member hosted", 10, guest="P4"),
    _Plan(_SX, "RP04", "P7", "Staff exchange: P10 staff member hosted", 12, guest="P10"),
    _Plan(_SX, "RP05", "P1", "Staff exchange: P3 staff member hosted", 5, guest="P3"),
    _Plan(_MM, "RP07", "P2", "Monitoring meeting 1", 2),
    _Plan(_MM, "RP08", "P1", "Monitoring meeting 2 (online)", format="online"),
    _Plan(_OCM, "RP09", "P1", "Online consortium meeting", format="online", also_reported_by="P2"),
    _Plan(_OWG, "RP09", "P3", "Working group: digital innovation hubs", format="online"),
    _Plan(_OWG, "RP09", "P6", "Working group: green energy clusters", format="online"),
    _Plan(_OWG, "RP10", "P4", "Working group: bioeconomy value chains", format="online"),
    _Plan(_OWG, "RP10", "P9", "Working group: cluster internationalisation", format="online"),
    _Plan(_OWG, "RP11", "P7", "Working group: health technologies", format="online"),
    _Plan(_OWG, "RP11", "P10", "Working group: circular economy", format="online"),
    _Plan(_CFW, "RP10", "P5", "Cross-fertilisation workshop with Interreg Europe projects",
          format="online"),
    _Plan(_RRA, "RP10", "P2", "Regional reflection on the action plan"),
    _Plan(_RRA, "RP10", "P4", "Regional reflection on the action plan", format="hybrid"),
    _Plan(_RRA, "RP10", "P6", "Regional reflection on the action plan"),
    _Plan(_RRA, "RP10", "P8", "Regional reflection on the action plan", format="hybrid"),
    _Plan(_RRA, "RP11", "P1", "Regional reflection on the action plan"),
    _Plan(_RRA, "RP11", "P3", "Regional reflection on the action plan"),
    _Plan(_RRA, "RP11", "P9", "Regional reflection on the action plan", format="hybrid"),
    _Plan(_RRA, "RP11", "P10", "Regional reflection on the action plan"),
)
# fmt: on

# A second regional stakeholder meeting in a semester, and the dialogue in phase 2.
_EXTRA_STAKEHOLDER = (("P1", "RP03"), ("P7", "RP05"))
_PHASE2_STAKEHOLDER = (
    ("P1", "RP07", "in_person"),
    ("P4", "RP07", "in_person"),
    ("P6", "RP07", "hybrid"),
    ("P10", "RP07", "in_person"),
    ("P4", "RP08", "online"),
    ("P9", "RP08", "hybrid"),
)

_PARTICIPANTS = {
    _PM: (25, 45),
    _IDE: (10, 25),
    _SX: (1, 2),
    _MM: (20, 32),
    _RSM: (12, 60),
    _OCM: (22, 35),
    _OWG: (6, 15),
    _CFW: (30, 85),
    _RRA: (10, 30),
}

# (partner, period of the original report, event type): restated one period later.
_RESTATED = ("P3", "RP02", _PM)

# --- measures and regional figures ------------------------------------------------


@dataclass(frozen=True)
class _MeasurePlan:
    """A measure's path: first reported as planned, then in progress, then implemented."""

    partner: str
    ref: str
    description: str
    planned_in: str
    in_progress_in: str | None
    implemented_in: str | None


# fmt: off
_MEASURES: tuple[_MeasurePlan, ...] = (
    _MeasurePlan("P1", "M-01", "Cross-cluster call in the regional innovation programme",
                 "RP04", "RP06", "RP07"),
    _MeasurePlan("P1", "M-02", "Internationalisation module for cluster managers",
                 "RP05", "RP07", "RP08"),
    _MeasurePlan("P2", "M-01", "Open lab vouchers for cross-sector projects",
                 "RP04", "RP06", "RP08"),
    _MeasurePlan("P3", "M-01", "Selection criteria rewarding cluster partnerships",
                 "RP05", "RP07", None),
    _MeasurePlan("P3", "M-02", "Regional value-chain mapping service",
                 "RP06", None, None),
    _MeasurePlan("P4", "M-01", "Innovation vouchers for agri-food clusters",
                 "RP04", "RP06", "RP07"),
    _MeasurePlan("P4", "M-02", "Joint calls for clusters and research institutes",
                 "RP06", "RP07", "RP08"),
    _MeasurePlan("P6", "M-01", "Cluster excellence support scheme",
                 "RP05", "RP06", "RP08"),
    _MeasurePlan("P7", "M-01", "Interregional cluster projects eligible for co-funding",
                 "RP04", "RP06", "RP07"),
    _MeasurePlan("P8", "M-01", "Cluster manager academy funded by the programme",
                 "RP05", "RP07", "RP08"),
    _MeasurePlan("P8", "M-02", "Cross-sector hackathons for SMEs",
                 "RP06", "RP08", None),
    _MeasurePlan("P9", "M-01", "Cluster Support Programme opened to cross-sector partnerships",
                 "RP04", "RP06", "RP07"),
    _MeasurePlan("P9", "M-02", "Interregional projects in the Cluster Support Programme",
                 "RP05", "RP07", "RP08"),
    _MeasurePlan("P10", "M-01", "Cluster innovation call in the regional programme",
                 "RP05", "RP07", "RP08"),
    _MeasurePlan("P11", "M-01", "Living lab calls for health technology clusters",
                 "RP04", "RP06", "RP08"),
)
# fmt: on

# Totals of the implemented measures: a little under the SF target, over the other one.
SF_IMPLEMENTED_TOTAL = Decimal("4903718.45")
OTHER_IMPLEMENTED_TOTAL = Decimal("5311402.90")

# Growth of company-research collaborations 2015 -> 2020, in %, per region.
_GROWTH = {
    "P1": 6.2,
    "P2": 4.1,
    "P3": 3.5,
    "P4": 7.8,
    "P6": 2.9,
    "P7": 5.4,
    "P8": 4.6,
    "P9": 6.9,
    "P10": 5.5,
    "P11": 3.8,
}
_NO_2015 = "P10"  # this region never reports 2015, so C1 leaves it out

_PRACTICES_PER_PARTNER = {
    "P1": 3,
    "P2": 3,
    "P3": 2,
    "P4": 3,
    "P5": 2,
    "P6": 2,
    "P7": 2,
    "P8": 2,
    "P9": 3,
    "P10": 2,
    "P11": 2,
}
_PRACTICE_TITLES = (
    "Cross-cluster innovation vouchers",
    "Cluster internationalisation coaching",
    "Joint R&D calls for clusters",
    "Matchmaking days between clusters and universities",
    "Cluster manager academy",
    "Regional innovation scouts",
    "Open lab network for SMEs",
    "Entrepreneurial discovery workshops",
    "Cross-sector hackathons",
    "Industry 4.0 demonstration centre",
    "Shared pilot plant for bio-based products",
    "Support for cluster excellence labels",
    "Interregional value-chain mapping",
    "Innovation camp for cluster members",
    "Digital innovation hub services",
    "Talent exchange between firms and research",
    "Cluster-led export consortia",
    "Living lab for health technologies",
    "Circular economy cluster platform",
    "Technology transfer vouchers",
    "Start-up integration in clusters",
    "Joint cluster strategy with research centres",
    "Regional innovation partnership agreements",
    "Co-creation sessions with end users",
    "Cluster mentoring for new value chains",
    "Public procurement of innovation pilot",
)

Row = dict[str, object]

# --- workbooks under construction -------------------------------------------------


@dataclass
class _Workbook:
    """One partner-period submission being assembled."""

    partner: str
    period: str
    records: dict[str, list[Row]] = field(
        default_factory=lambda: {sheet.name: [] for sheet in RECORD_SHEETS}
    )
    cover: Row = field(default_factory=dict)

    @property
    def file(self) -> str:
        suffix = ".ods" if (self.partner, self.period) in ODS_SUBMISSIONS else ".xlsx"
        return f"{self.partner}/{self.period}{suffix}"


@dataclass(frozen=True)
class _Event:
    """An event as one partner reports it (refs are given per partner at the end)."""

    reporter: str
    period_id: str
    event_type: str
    title: str
    start: dt.date
    end: dt.date | None
    format: str
    city: str | None
    country: str
    participants: int
    guest: str | None = None
    back_to_back: str | None = None


class _Builder:
    """Draws the synthetic facts in a fixed order from one seeded generator."""

    def __init__(self, ref: Reference) -> None:
        self.ref = ref
        self.rng = random.Random(SEED)
        self.taken: set[tuple[str, dt.date]] = set()

    # helpers

    def country(self, partner: str) -> str:
        rows = self.ref.partners[self.ref.partners["partner_id"] == partner]
        return rows["country"].iloc[0]

    def periods_of(self, partner: str) -> list[str]:
        return [p for p in self.ref.period_ids if self.ref.takes_part(partner, p)]

    def with_instrument(self) -> list[str]:
        return [p for p in self.ref.partner_ids if self.ref.instrument_of(p)]

    def day_in(self, period_id: str, days: int = 1, event_type: str = "") -> dt.date:
        """A weekday well inside the period, leaving room for the event's length.

        Two consortium-level events of one type never share a start date, so the
        only same-day duplicates in the samples are the intended ones.
        """
        period = self.ref.period(period_id)
        first = period["start_date"] + dt.timedelta(days=10)
        last = period["end_date"] - dt.timedelta(days=10 + days)
        while True:
            day = first + dt.timedelta(days=self.rng.randint(0, (last - first).days))
            while day.weekday() >= 5:
                day -= dt.timedelta(days=1)
            if (event_type, day) not in self.taken:
                self.taken.add((event_type, day))
                return day

    # events

    def planned_event(self, plan: _Plan) -> list[_Event]:
        start = self.day_in(plan.period_id, plan.days, plan.event_type)
        end = start + dt.timedelta(days=plan.days - 1) if plan.days > 1 else None
        online = plan.format == "online"
        event = _Event(
            reporter=plan.host,
            period_id=plan.period_id,
            event_type=plan.event_type,
            title=plan.title if online else f"{plan.title}, {_CITIES[plan.host]}",
            start=start,
            end=end,
            format=plan.format,
            city=None if online else _CITIES[plan.host],
            country=self.country(plan.host),
            participants=self.rng.randint(*_PARTICIPANTS[plan.event_type]),
            guest=plan.guest,
            back_to_back=plan.back_to_back,
        )
        if plan.also_reported_by is None:
            return [event]
        echo = replace(
            event,
            reporter=plan.also_reported_by,
            title=f"{event.title} (hosted by {plan.host})",
            participants=event.participants + self.rng.randint(-3, 3),
        )
        return [event, echo]

    def stakeholder_meeting(self, partner: str, period_id: str, fmt: str) -> _Event:
        topic = self.rng.choice(_TOPICS)
        online = fmt == "online"
        return _Event(
            reporter=partner,
            period_id=period_id,
            event_type=_RSM,
            title=f"Regional stakeholder meeting: {topic}",
            start=self.day_in(period_id),
            end=None,
            format=fmt,
            city=None if online else _CITIES[partner],
            country=self.country(partner),
            participants=self.rng.randint(*_PARTICIPANTS[_RSM]),
        )

    def stakeholder_meetings(self) -> list[_Event]:
        phase1 = [p for p in self.ref.period_ids if self.ref.period(p)["phase"] == "1"]
        slots = [
            (partner, period, "in_person")
            for period in phase1
            for partner in self.with_instrument()
            if (partner, period) not in STAKEHOLDER_GAPS
        ]
        slots += [(partner, period, "in_person") for partner, period in _EXTRA_STAKEHOLDER]
        slots += list(_PHASE2_STAKEHOLDER)
        return [self.stakeholder_meeting(*slot) for slot in slots]

    def events(self) -> list[_Event]:
        planned = [e for plan in _PLANNED for e in self.planned_event(plan)]
        return planned + self.stakeholder_meetings()

    # good practices

    def practice_rows(self) -> dict[tuple[str, str], list[Row]]:
        """Each practice re-reported in every workbook from the period it was identified in,
        at the stage it had reached by then; keyed (partner, period)."""
        rows: dict[tuple[str, str], list[Row]] = {}
        titles = iter(_PRACTICE_TITLES)
        for partner, count in _PRACTICES_PER_PARTNER.items():
            periods = self.periods_of(partner)
            for n in range(1, count + 1):
                first = self.rng.randint(0, 4)
                analysed = first + self.rng.randint(1, 2)
                structured = None if self.rng.random() < 0.25 else analysed + self.rng.randint(1, 3)
                ref_id = f"GP-{n:02d}"
                row: Row = {
                    "practice_ref": ref_id,
                    "title": next(titles),
                    "theme": self.rng.choice(_TOPICS),
                    "organisation": f"{self.rng.choice(_SECTORS)} Cluster {_CITIES[partner]}",
                    "country": self.country(partner),
                    "identified_on": self.day_in(periods[first]),
                    "stage": None,
                    "url": f"https://example.org/clusterix/{partner}/good-practices/{ref_id.lower()}",
                }
                for at in range(first, len(periods)):
                    stage = _stage(at, analysed, structured)
                    rows.setdefault((partner, periods[at]), []).append({**row, "stage": stage})
        return rows

    # policy measures

    def final_amounts(self) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
        """SF and other funds of each implemented measure, adding up to the chosen totals."""
        sf_linked = self.ref.instrument_sf_linked()
        done = [m for m in _MEASURES if m.implemented_in]
        sf_keys = [(m.partner, m.ref) for m in done if sf_linked[self.ref.instrument_of(m.partner)]]
        all_keys = [(m.partner, m.ref) for m in done]
        sf = _split(SF_IMPLEMENTED_TOTAL, sf_keys, self.rng)
        other = _split(OTHER_IMPLEMENTED_TOTAL, all_keys, self.rng)
        return {k: (sf.get(k, Decimal("0.00")), other[k]) for k in all_keys}

    def estimate(self, m: _MeasurePlan, final: tuple[Decimal, Decimal] | None) -> tuple:
        """Round figures reported before implementation (SF 0 on a non-SF instrument)."""
        if final:
            guess = Decimal(str(self.rng.uniform(0.85, 1.15)))
            sf, other = (_thousands(amount * guess) for amount in final)
        else:
            sf = _cents(Decimal(self.rng.randint(80, 600) * 1000))
            other = _cents(Decimal(self.rng.randint(50, 400) * 1000))
        sf_linked = self.ref.instrument_sf_linked()[self.ref.instrument_of(m.partner)]
        return (sf if sf_linked else Decimal("0.00"), other)

    def measure_rows(self) -> dict[tuple[str, str], list[Row]]:
        """Each measure re-reported in every workbook from the period it was planned in,
        with its status and amounts as they stood then; keyed (partner, period)."""
        finals = self.final_amounts()
        rows: dict[tuple[str, str], list[Row]] = {}
        for m in _MEASURES:
            final = finals.get((m.partner, m.ref))
            estimate = self.estimate(m, final)
            instrument = self.ref.instrument_of(m.partner)
            implemented_on = self.day_in(m.implemented_in) if m.implemented_in else None
            for period in self.periods_of(m.partner):
                status = _status(m, period, self.ref.period_ids)
                if status == "implemented":
                    row = _measure_row(m, instrument, status, final, implemented_on)
                elif status:
                    row = _measure_row(m, instrument, status, estimate, None)
                else:
                    continue
                rows.setdefault((m.partner, period), []).append(row)
        return rows

    # regional figures

    def collaborations(self) -> dict[tuple[str, str], list[Row]]:
        """Yearly figures: 2015-2019 in RP07 (2019 preliminary), restated 2015-2020 in RP08."""
        out: dict[tuple[str, str], list[Row]] = {}
        for partner, growth in _GROWTH.items():
            series = _series(self.rng.randint(90, 420), growth, self.rng)
            clusters = _series(self.rng.randint(6, 30), growth * 1.5, self.rng)
            source = f"Regional innovation statistics, {self.country(partner)} (synthetic)"
            years = [y for y in series if not (partner == _NO_2015 and y == 2015)]
            final = [_figures(y, series[y], clusters[y], source) for y in years]
            preliminary = [dict(r) for r in final if r["year"] <= 2019]
            preliminary[-1]["company_research_collaborations"] -= self.rng.randint(1, 4)
            preliminary[-1]["source"] = source + ", 2019 preliminary"
            out[(partner, "RP07")] = preliminary
            out[(partner, "RP08")] = final
        return out

    # covers

    def cover(self, partner: str, period_id: str) -> Row:
        period = self.ref.period(period_id)
        if (partner, period_id) in LATE_SUBMISSIONS:
            submitted = period["deadline"] + dt.timedelta(days=self.rng.randint(5, 40))
        else:
            submitted = period["end_date"] + dt.timedelta(days=self.rng.randint(12, 80))
        name, mailbox = _CONTACTS[partner]
        return {
            "submitted_on": submitted,
            "contact_name": name,
            "contact_email": f"{mailbox}@example.org",
        }


def _split(total: Decimal, keys: list[tuple[str, str]], rng: random.Random) -> dict:
    """Share a total out over keys, to the cent, with the rounding left on the last one."""
    weights = [rng.uniform(0.5, 1.5) for _ in keys]
    shares = [_cents(total * Decimal(str(w)) / Decimal(str(sum(weights)))) for w in weights]
    shares[-1] = total - sum(shares[:-1])
    return dict(zip(keys, shares, strict=True))


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def _thousands(amount: Decimal) -> Decimal:
    """An early estimate: a round figure."""
    return _cents(amount.quantize(Decimal("1E3")))


def _measure_row(
    m: _MeasurePlan,
    instrument: str,
    status: str,
    amounts: tuple[Decimal, Decimal],
    implemented_on: dt.date | None,
) -> Row:
    evidence = f"https://example.org/clusterix/{m.partner}/measures/{m.ref.lower()}"
    return {
        "measure_ref": m.ref,
        "policy_instrument_id": instrument,
        "description": m.description,
        "status": status,
        "implemented_on": implemented_on,
        "sf_influenced_eur": amounts[0],
        "other_funds_influenced_eur": amounts[1],
        "evidence_url": evidence if implemented_on else None,
    }


def _status(m: _MeasurePlan, period: str, order: list[str]) -> str | None:
    """The measure's status as reported in a period (None before it is planned)."""
    at = order.index(period)

    def reached(step: str | None) -> bool:
        return step is not None and at >= order.index(step)

    if reached(m.implemented_in):
        return "implemented"
    if reached(m.in_progress_in):
        return "in_progress"
    return "planned" if reached(m.planned_in) else None


def _series(base: int, growth: float, rng: random.Random) -> dict[int, int]:
    """Yearly values 2015-2020 growing by ``growth`` % overall, with noise in between."""
    out = {}
    for year in range(2015, 2021):
        share = (year - 2015) / 5
        noise = 0.0 if year in (2015, 2020) else rng.uniform(-0.012, 0.012)
        out[year] = round(base * (1 + growth / 100 * share) * (1 + noise))
    return out


def _figures(year: int, collaborations: int, clusters: int, source: str) -> Row:
    return {
        "year": year,
        "company_research_collaborations": collaborations,
        "cross_sector_cluster_partnerships": clusters,
        "source": source,
    }


def _event_rows(events: Iterable[_Event]) -> dict[tuple[str, str], list[Row]]:
    """Rows per (partner, period), each partner numbering its events by date."""
    out: dict[tuple[str, str], list[Row]] = {}
    counters: dict[str, int] = {}
    for e in sorted(events, key=lambda e: (e.reporter, e.start, e.event_type)):
        counters[e.reporter] = counters.get(e.reporter, 0) + 1
        ref_id = f"EV-{counters[e.reporter]:03d}"
        out.setdefault((e.reporter, e.period_id), []).append(
            {
                "event_ref": ref_id,
                "title": e.title,
                "event_type": e.event_type,
                "start_date": e.start,
                "end_date": e.end,
                "format": e.format,
                "city": e.city,
                "country": e.country,
                "participants": e.participants,
                "guest_partner_id": e.guest,
                "back_to_back": e.back_to_back,
                "evidence_url": f"https://example.org/clusterix/{e.reporter}/events/{ref_id.lower()}",
            }
        )
    for rows in out.values():
        rows.sort(key=lambda r: r["start_date"])
    return out


def _restate(rows: dict[tuple[str, str], list[Row]], ref: Reference) -> None:
    """The partner corrects the participants of an earlier event in its next workbook."""
    partner, period, event_type = _RESTATED
    original = next(r for r in rows[(partner, period)] if r["event_type"] == event_type)
    following = ref.period_ids[ref.period_ids.index(period) + 1]
    corrected = {**original, "participants": original["participants"] + 2}
    rows.setdefault((partner, following), []).insert(0, corrected)


# --- assembling the workbooks --------------------------------------------------------


def _workbooks(ref: Reference) -> dict[tuple[str, str], _Workbook]:
    """Every expected submission with its records and Cover, before the flaws."""
    build = _Builder(ref)
    books = {key: _Workbook(*key) for key in ref.expected_submissions()}
    events = _event_rows(build.events())
    _restate(events, ref)
    for key, rows in events.items():
        books[key].records["Events"] = rows
    for key, rows in build.practice_rows().items():
        books[key].records["GoodPractices"] = rows
    for key, rows in build.measure_rows().items():
        books[key].records["PolicyMeasures"] = rows
    for key, rows in build.collaborations().items():
        books[key].records["Collaborations"] = rows
    for key, book in books.items():
        book.cover = build.cover(*key)
    return books


def _stage(at: int, analysed: int, structured: int | None) -> str:
    if structured is not None and at >= structured:
        return "structured"
    return "analysed" if at >= analysed else "identified"


def _flawed_event(book: _Workbook, **changes: object) -> None:
    """A follow-up of the workbook's stakeholder meeting, with the flaw in it."""
    base = next(r for r in book.records["Events"] if r["event_type"] == _RSM)
    title = "Regional stakeholder meeting: follow-up"
    book.records["Events"].append({**base, "event_ref": "EV-901", "title": title, **changes})


def _flawed_measure(book: _Workbook, **changes: object) -> None:
    measure: Row = {
        "measure_ref": "M-09",
        "policy_instrument_id": f"PI-{book.partner}",
        "description": "Additional measure",
        "status": "planned",
        "implemented_on": None,
        "sf_influenced_eur": Decimal("0.00"),
        "other_funds_influenced_eur": Decimal("0.00"),
        **changes,
    }
    book.records["PolicyMeasures"].append(measure)


def _add_flaws(books: dict[tuple[str, str], _Workbook]) -> None:
    """Make the workbooks listed in FLAWS (the unreadable one is written separately)."""
    books[("P8", "RP07")].cover["partner_id"] = "P3"
    _flawed_event(books[("P2", "RP04")], participants="many")
    _flawed_event(books[("P6", "RP05")], event_type="webinar")
    p9 = books[("P9", "RP02")]
    start = next(r for r in p9.records["Events"] if r["event_type"] == _RSM)["start_date"]
    _flawed_event(p9, end_date=start - dt.timedelta(days=2))
    _flawed_measure(books[("P10", "RP06")], policy_instrument_id="PI-P4")
    _flawed_measure(books[("P9", "RP06")], sf_influenced_eur=Decimal("120000.00"))
    _flawed_measure(
        books[("P11", "RP08")],
        status="implemented",
        sf_influenced_eur=Decimal("250000.00"),
        other_funds_influenced_eur=Decimal("40000.00"),
    )
    p4 = books[("P4", "RP02")].records["Events"]
    next(r for r in p4 if r["event_type"] == _RSM)["title"] = FORMULA_LIKE_TITLE


# --- files ---------------------------------------------------------------------------


def _remove_old_samples(raw_dir: Path, ref: Reference) -> None:
    """Delete earlier samples: <partner>/<period>.xlsx|.ods|.bin files, nothing else."""
    for partner in ref.partner_ids:
        folder = raw_dir / partner
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            owned = path.suffix in _OWNED_SUFFIXES and path.stem in ref.period_ids
            if owned and path.is_file():
                path.unlink()


def _write_not_a_spreadsheet(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "Dear coordinator,\nplease find our report for RP03 attached.\n"
        "(This synthetic file is plain text saved with an .xlsx name.)\n",
        encoding="utf-8",
    )
    return path


def write_samples(raw_dir: Path) -> list[Path]:
    """Write the synthetic submissions under ``raw_dir`` and return their paths.

    Earlier sample files in the partner folders are removed first, so a file that
    changed suffix (xlsx <-> ods) does not linger as a second submission.
    """
    ref = reference()
    raw_dir = Path(raw_dir)
    _remove_old_samples(raw_dir, ref)
    books = _workbooks(ref)
    _add_flaws(books)
    written = []
    for book in books.values():
        path = raw_dir / book.file
        if book.file == NOT_A_SPREADSHEET:
            written.append(_write_not_a_spreadsheet(path))
            continue
        written.append(
            write_template(book.partner, book.period, path, records=book.records, cover=book.cover)
        )
    return written
