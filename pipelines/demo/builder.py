"""Drawing the synthetic facts of every workbook from the plan, with one seeded generator."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from pipelines.core.metadata.tables import RECORD_SHEETS
from pipelines.core.reference.model import Reference
from pipelines.demo.plan import (
    CITIES,
    COLLABORATION_PERIODS,
    CONTACTS,
    EXTRA_STAKEHOLDER,
    GROWTH,
    LATE_SUBMISSIONS,
    MEASURES,
    NO_2015,
    ODS_SUBMISSIONS,
    OTHER_IMPLEMENTED_TOTAL,
    PARTICIPANTS,
    PHASE2_STAKEHOLDER,
    PLANNED,
    PRACTICE_TITLES,
    PRACTICES_PER_PARTNER,
    RESTATED,
    RSM,
    SECTORS,
    SEED,
    SF_IMPLEMENTED_TOTAL,
    STAKEHOLDER_GAPS,
    STAKEHOLDER_PHASE,
    TOPICS,
    MeasurePlan,
    Plan,
    Row,
    instrument_of,
)

# --- workbooks under construction -------------------------------------------------


@dataclass
class Workbook:
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
class Event:
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


class Builder:
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
        return [p for p in self.ref.partner_ids if self.ref.instruments_of(p)]

    def instrument(self, partner: str) -> str:
        """The instrument the plan's measures go to (checked to be the partner's)."""
        return instrument_of(partner)

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

    def planned_event(self, plan: Plan) -> list[Event]:
        start = self.day_in(plan.period_id, plan.days, plan.event_type)
        end = start + dt.timedelta(days=plan.days - 1) if plan.days > 1 else None
        online = plan.format == "online"
        event = Event(
            reporter=plan.host,
            period_id=plan.period_id,
            event_type=plan.event_type,
            title=plan.title if online else f"{plan.title}, {CITIES[plan.host]}",
            start=start,
            end=end,
            format=plan.format,
            city=None if online else CITIES[plan.host],
            country=self.country(plan.host),
            participants=self.rng.randint(*PARTICIPANTS[plan.event_type]),
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

    def stakeholder_meeting(self, partner: str, period_id: str, fmt: str) -> Event:
        topic = self.rng.choice(TOPICS)
        online = fmt == "online"
        return Event(
            reporter=partner,
            period_id=period_id,
            event_type=RSM,
            title=f"Regional stakeholder meeting: {topic}",
            start=self.day_in(period_id),
            end=None,
            format=fmt,
            city=None if online else CITIES[partner],
            country=self.country(partner),
            participants=self.rng.randint(*PARTICIPANTS[RSM]),
        )

    def stakeholder_meetings(self) -> list[Event]:
        floor_phase = [
            p for p in self.ref.period_ids if self.ref.period(p)["phase"] == STAKEHOLDER_PHASE
        ]
        slots = [
            (partner, period, "in_person")
            for period in floor_phase
            for partner in self.with_instrument()
            if (partner, period) not in STAKEHOLDER_GAPS
        ]
        slots += [(partner, period, "in_person") for partner, period in EXTRA_STAKEHOLDER]
        slots += list(PHASE2_STAKEHOLDER)
        return [self.stakeholder_meeting(*slot) for slot in slots]

    def events(self) -> list[Event]:
        planned = [e for plan in PLANNED for e in self.planned_event(plan)]
        return planned + self.stakeholder_meetings()

    # good practices

    def practice_rows(self) -> dict[tuple[str, str], list[Row]]:
        """Each practice re-reported in every workbook from the period it was identified in,
        at the stage it had reached by then; keyed (partner, period)."""
        rows: dict[tuple[str, str], list[Row]] = {}
        titles = iter(PRACTICE_TITLES)
        for partner, count in PRACTICES_PER_PARTNER.items():
            periods = self.periods_of(partner)
            for n in range(1, count + 1):
                first = self.rng.randint(0, 4)
                analysed = first + self.rng.randint(1, 2)
                structured = None if self.rng.random() < 0.25 else analysed + self.rng.randint(1, 3)
                ref_id = f"GP-{n:02d}"
                row: Row = {
                    "practice_ref": ref_id,
                    "title": next(titles),
                    "theme": self.rng.choice(TOPICS),
                    "organisation": f"{self.rng.choice(SECTORS)} Cluster {CITIES[partner]}",
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
        done = [m for m in MEASURES if m.implemented_in]
        sf_keys = [(m.partner, m.ref) for m in done if sf_linked[self.instrument(m.partner)]]
        all_keys = [(m.partner, m.ref) for m in done]
        sf = split(SF_IMPLEMENTED_TOTAL, sf_keys, self.rng)
        other = split(OTHER_IMPLEMENTED_TOTAL, all_keys, self.rng)
        return {k: (sf.get(k, Decimal("0.00")), other[k]) for k in all_keys}

    def estimate(self, m: MeasurePlan, final: tuple[Decimal, Decimal] | None) -> tuple:
        """Round figures reported before implementation (SF 0 on a non-SF instrument)."""
        if final:
            guess = Decimal(str(self.rng.uniform(0.85, 1.15)))
            sf, other = (thousands(amount * guess) for amount in final)
        else:
            sf = cents(Decimal(self.rng.randint(80, 600) * 1000))
            other = cents(Decimal(self.rng.randint(50, 400) * 1000))
        sf_linked = self.ref.instrument_sf_linked()[self.instrument(m.partner)]
        return (sf if sf_linked else Decimal("0.00"), other)

    def measure_rows(self) -> dict[tuple[str, str], list[Row]]:
        """Each measure re-reported in every workbook from the period it was planned in,
        with its status and amounts as they stood then; keyed (partner, period)."""
        finals = self.final_amounts()
        rows: dict[tuple[str, str], list[Row]] = {}
        for m in MEASURES:
            final = finals.get((m.partner, m.ref))
            estimate = self.estimate(m, final)
            instrument = self.instrument(m.partner)
            implemented_on = self.day_in(m.implemented_in) if m.implemented_in else None
            for period in self.periods_of(m.partner):
                status = _status(m, period, self.ref.period_ids)
                if status == "implemented":
                    row = measure_row(m, instrument, status, final, implemented_on)
                elif status:
                    row = measure_row(m, instrument, status, estimate, None)
                else:
                    continue
                rows.setdefault((m.partner, period), []).append(row)
        return rows

    # regional figures

    def collaborations(self) -> dict[tuple[str, str], list[Row]]:
        """Yearly figures: 2015-2019 in RP07 (2019 preliminary), restated 2015-2020 in RP08."""
        out: dict[tuple[str, str], list[Row]] = {}
        for partner, growth in GROWTH.items():
            series = _series(self.rng.randint(90, 420), growth, self.rng)
            clusters = _series(self.rng.randint(6, 30), growth * 1.5, self.rng)
            source = f"Regional innovation statistics, {self.country(partner)} (synthetic)"
            years = [y for y in series if not (partner == NO_2015 and y == 2015)]
            final = [figures(y, series[y], clusters[y], source) for y in years]
            preliminary = [dict(r) for r in final if r["year"] <= 2019]
            preliminary[-1]["company_research_collaborations"] -= self.rng.randint(1, 4)
            preliminary[-1]["source"] = source + ", 2019 preliminary"
            first, restated = COLLABORATION_PERIODS
            out[(partner, first)] = preliminary
            out[(partner, restated)] = final
        return out

    # covers

    def cover(self, partner: str, period_id: str) -> Row:
        period = self.ref.period(period_id)
        if (partner, period_id) in LATE_SUBMISSIONS:
            submitted = period["deadline"] + dt.timedelta(days=self.rng.randint(5, 40))
        else:
            submitted = period["end_date"] + dt.timedelta(days=self.rng.randint(12, 80))
        name, mailbox = CONTACTS[partner]
        return {
            "submitted_on": submitted,
            "contact_name": name,
            "contact_email": f"{mailbox}@example.org",
        }


def split(total: Decimal, keys: list[tuple[str, str]], rng: random.Random) -> dict:
    """Share a total out over keys, to the cent, with the rounding left on the last one."""
    weights = [rng.uniform(0.5, 1.5) for _ in keys]
    shares = [cents(total * Decimal(str(w)) / Decimal(str(sum(weights)))) for w in weights]
    shares[-1] = total - sum(shares[:-1])
    return dict(zip(keys, shares, strict=True))


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def thousands(amount: Decimal) -> Decimal:
    """An early estimate: a round figure."""
    return cents(amount.quantize(Decimal("1E3")))


def measure_row(
    m: MeasurePlan,
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


def _status(m: MeasurePlan, period: str, order: list[str]) -> str | None:
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


def figures(year: int, collaborations: int, clusters: int, source: str) -> Row:
    return {
        "year": year,
        "company_research_collaborations": collaborations,
        "cross_sector_cluster_partnerships": clusters,
        "source": source,
    }


def event_rows(events: Iterable[Event]) -> dict[tuple[str, str], list[Row]]:
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


def restate(rows: dict[tuple[str, str], list[Row]], ref: Reference) -> None:
    """The partner corrects the participants of an earlier event in its next workbook."""
    partner, period, event_type = RESTATED
    original = next(r for r in rows[(partner, period)] if r["event_type"] == event_type)
    following = ref.period_ids[ref.period_ids.index(period) + 1]
    corrected = {**original, "participants": original["participants"] + 2}
    rows.setdefault((partner, following), []).insert(0, corrected)


def _stage(at: int, analysed: int, structured: int | None) -> str:
    if structured is not None and at >= structured:
        return "structured"
    return "analysed" if at >= analysed else "identified"
