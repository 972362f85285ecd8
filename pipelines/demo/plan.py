"""The plan the synthetic submissions follow, and the flaws they carry on purpose.

Invented places and people, the seed's events plan, the policy measures with the
funds they influence, the regional figures and the good practices: constants only,
drawn from by :mod:`pipelines.demo.builder`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

SEED = 20160401

# The project this plan was written for: its partners, periods, event types and policy
# instruments are named below (pipelines/demo/fit.py checks the project in use has them).
PLAN_PROJECT = "CLUSTERIX 2.0"
# The phase whose every period has a regional stakeholder meeting per partner with an
# instrument (the plan's stakeholder-meeting floor).
STAKEHOLDER_PHASE = "1"

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

OWNED_SUFFIXES = frozenset({".xlsx", ".ods", ".bin"})

# --- the partners' places and people (invented) ----------------------------------

CITIES = {
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
CONTACTS = {
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
TOPICS = (
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
SECTORS = ("Mechatronics", "Food", "Plastics", "ICT", "Green Building", "Automotive", "Health")

# --- the events plan ----------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
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


PM = "project_meeting"
IDE = "in_depth_exploration_meeting"
SX = "staff_exchange"
MM = "monitoring_meeting"
RSM = "regional_stakeholder_meeting"
OCM = "online_consortium_meeting"
OWG = "online_working_group_meeting"
CFW = "cross_fertilisation_workshop"
RRA = "regional_reflection_activity"

PGD, _SV, _IDX = "peer_group_discussion", "study_visit", "in_depth_exploration"
EIW, _PPR = "european_initiatives_workshop", "policy_peer_review_workshop"

# fmt: off
PLANNED: tuple[Plan, ...] = (
    Plan(PM, "RP01", "P1", "Kick-off project meeting", 2, back_to_back=f"{PGD};{_SV}"),
    Plan(PM, "RP02", "P2", "Project meeting 2", 2, back_to_back=f"{PGD};{_SV}"),
    Plan(PM, "RP02", "P3", "Project meeting 3", 2, back_to_back=f"{_IDX};{_SV}"),
    Plan(PM, "RP03", "P8", "Project meeting 4", 2, back_to_back=f"{PGD};{EIW}"),
    Plan(PM, "RP04", "P6", "Project meeting 5", 3, back_to_back=f"{PGD};{_SV};{_IDX}",
          also_reported_by="P1"),
    Plan(PM, "RP04", "P9", "Project meeting 6", 2, back_to_back=f"{_SV};{_IDX}"),
    Plan(PM, "RP05", "P10", "Project meeting 7", 2, back_to_back=f"{PGD};{_SV}"),
    Plan(PM, "RP06", "P4", "Project meeting 8", 2, back_to_back=f"{_PPR};{_SV}"),
    Plan(PM, "RP06", "P11", "Closing project meeting of phase 1", 2,
          back_to_back=f"{_IDX};{PGD}"),
    Plan(IDE, "RP02", "P4", "In-depth exploration: innovation vouchers"),
    Plan(IDE, "RP03", "P10", "In-depth exploration: cluster-led export consortia"),
    Plan(IDE, "RP03", "P1", "In-depth exploration: cross-cluster calls"),
    Plan(IDE, "RP04", "P2", "In-depth exploration: open lab network"),
    Plan(IDE, "RP05", "P8", "In-depth exploration: cluster manager academy"),
    Plan(IDE, "RP05", "P11", "In-depth exploration: living labs"),
    Plan(IDE, "RP06", "P3", "In-depth exploration: value-chain mapping"),
    Plan(SX, "RP03", "P9", "Staff exchange: P4 staff member hosted", 10, guest="P4"),
    Plan(SX, "RP04", "P7", "Staff exchange: P10 staff member hosted", 12, guest="P10"),
    Plan(SX, "RP05", "P1", "Staff exchange: P3 staff member hosted", 5, guest="P3"),
    Plan(MM, "RP07", "P2", "Monitoring meeting 1", 2),
    Plan(MM, "RP08", "P1", "Monitoring meeting 2 (online)", format="online"),
    Plan(OCM, "RP09", "P1", "Online consortium meeting", format="online", also_reported_by="P2"),
    Plan(OWG, "RP09", "P3", "Working group: digital innovation hubs", format="online"),
    Plan(OWG, "RP09", "P6", "Working group: green energy clusters", format="online"),
    Plan(OWG, "RP10", "P4", "Working group: bioeconomy value chains", format="online"),
    Plan(OWG, "RP10", "P9", "Working group: cluster internationalisation", format="online"),
    Plan(OWG, "RP11", "P7", "Working group: health technologies", format="online"),
    Plan(OWG, "RP11", "P10", "Working group: circular economy", format="online"),
    Plan(CFW, "RP10", "P5", "Cross-fertilisation workshop with Interreg Europe projects",
          format="online"),
    Plan(RRA, "RP10", "P2", "Regional reflection on the action plan"),
    Plan(RRA, "RP10", "P4", "Regional reflection on the action plan", format="hybrid"),
    Plan(RRA, "RP10", "P6", "Regional reflection on the action plan"),
    Plan(RRA, "RP10", "P8", "Regional reflection on the action plan", format="hybrid"),
    Plan(RRA, "RP11", "P1", "Regional reflection on the action plan"),
    Plan(RRA, "RP11", "P3", "Regional reflection on the action plan"),
    Plan(RRA, "RP11", "P9", "Regional reflection on the action plan", format="hybrid"),
    Plan(RRA, "RP11", "P10", "Regional reflection on the action plan"),
)
# fmt: on

# A second regional stakeholder meeting in a semester, and the dialogue in phase 2.
EXTRA_STAKEHOLDER = (("P1", "RP03"), ("P7", "RP05"))
PHASE2_STAKEHOLDER = (
    ("P1", "RP07", "in_person"),
    ("P4", "RP07", "in_person"),
    ("P6", "RP07", "hybrid"),
    ("P10", "RP07", "in_person"),
    ("P4", "RP08", "online"),
    ("P9", "RP08", "hybrid"),
)

PARTICIPANTS = {
    PM: (25, 45),
    IDE: (10, 25),
    SX: (1, 2),
    MM: (20, 32),
    RSM: (12, 60),
    OCM: (22, 35),
    OWG: (6, 15),
    CFW: (30, 85),
    RRA: (10, 30),
}

# (partner, period of the original report, event type): restated one period later.
RESTATED = ("P3", "RP02", PM)

# --- measures and regional figures ------------------------------------------------


@dataclass(frozen=True)
class MeasurePlan:
    """A measure's path: first reported as planned, then in progress, then implemented."""

    partner: str
    ref: str
    description: str
    planned_in: str
    in_progress_in: str | None
    implemented_in: str | None


# fmt: off
MEASURES: tuple[MeasurePlan, ...] = (
    MeasurePlan("P1", "M-01", "Cross-cluster call in the regional innovation programme",
                 "RP04", "RP06", "RP07"),
    MeasurePlan("P1", "M-02", "Internationalisation module for cluster managers",
                 "RP05", "RP07", "RP08"),
    MeasurePlan("P2", "M-01", "Open lab vouchers for cross-sector projects",
                 "RP04", "RP06", "RP08"),
    MeasurePlan("P3", "M-01", "Selection criteria rewarding cluster partnerships",
                 "RP05", "RP07", None),
    MeasurePlan("P3", "M-02", "Regional value-chain mapping service",
                 "RP06", None, None),
    MeasurePlan("P4", "M-01", "Innovation vouchers for agri-food clusters",
                 "RP04", "RP06", "RP07"),
    MeasurePlan("P4", "M-02", "Joint calls for clusters and research institutes",
                 "RP06", "RP07", "RP08"),
    MeasurePlan("P6", "M-01", "Cluster excellence support scheme",
                 "RP05", "RP06", "RP08"),
    MeasurePlan("P7", "M-01", "Interregional cluster projects eligible for co-funding",
                 "RP04", "RP06", "RP07"),
    MeasurePlan("P8", "M-01", "Cluster manager academy funded by the programme",
                 "RP05", "RP07", "RP08"),
    MeasurePlan("P8", "M-02", "Cross-sector hackathons for SMEs",
                 "RP06", "RP08", None),
    MeasurePlan("P9", "M-01", "Cluster Support Programme opened to cross-sector partnerships",
                 "RP04", "RP06", "RP07"),
    MeasurePlan("P9", "M-02", "Interregional projects in the Cluster Support Programme",
                 "RP05", "RP07", "RP08"),
    MeasurePlan("P10", "M-01", "Cluster innovation call in the regional programme",
                 "RP05", "RP07", "RP08"),
    MeasurePlan("P11", "M-01", "Living lab calls for health technology clusters",
                 "RP04", "RP06", "RP08"),
)
# fmt: on

# Totals of the implemented measures: a little under the SF target, over the other one.
SF_IMPLEMENTED_TOTAL = Decimal("4903718.45")
OTHER_IMPLEMENTED_TOTAL = Decimal("5311402.90")

# The periods the regional figures are reported in: preliminary, then restated.
COLLABORATION_PERIODS = ("RP07", "RP08")

# Growth of company-research collaborations 2015 -> 2020, in %, per region.
GROWTH = {
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
NO_2015 = "P10"  # this region never reports 2015, so C1 leaves it out

PRACTICES_PER_PARTNER = {
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
PRACTICE_TITLES = (
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


def instrument_of(partner: str) -> str:
    """The policy instrument a partner's planned (and flawed) measures go to."""
    return f"PI-{partner}"
