"""A project's reference data as the pipeline reads it: the typed tables of its folder and
the look-ups the rules, states and indicators ask of them.

Loading and checking a folder is :mod:`pipelines.core.reference.loader`'s; this module only
holds the result, so that everything that reads a project imports no loader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pipelines.core.reference.project import Project

if TYPE_CHECKING:  # the loader builds both from the metadata; nothing here reads them
    from pipelines.core.metadata.table_model import Sheet, Table


@dataclass(frozen=True)
class Reference:
    """All reference tables, typed and validated, with the look-ups the rules need.

    ``record_sheets`` are the workbook's record sheets, the standard four and then the
    project's own (``sheets.yaml``); ``fact_tables`` are their published tables, in order.
    """

    project: Project
    folder: Path
    partners: pd.DataFrame
    periods: pd.DataFrame
    policy_instruments: pd.DataFrame
    indicators: pd.DataFrame
    event_types: pd.DataFrame
    record_sheets: tuple[Sheet, ...]
    fact_tables: tuple[Table, ...]
    countries: frozenset[str] = frozenset()

    @property
    def phase_ids(self) -> tuple[str, ...]:
        return self.project.phase_ids

    @cached_property
    def partner_ids(self) -> list[str]:
        return list(dict.fromkeys(self.partners["partner_id"]))

    @cached_property
    def period_ids(self) -> list[str]:
        return list(self.periods["period_id"])

    @cached_property
    def _periods_by_id(self) -> dict[str, dict]:
        return {row["period_id"]: row for row in self.periods.to_dict("records")}

    @cached_property
    def _phase_partners(self) -> dict[str, frozenset[str] | None]:
        return {p.phase: p.partners for p in self.project.phases}

    def period(self, period_id: str) -> dict:
        return self._periods_by_id[period_id]

    @cached_property
    def _names_by_partner(self) -> dict[str, list[tuple]]:
        """Each partner's (valid_from, valid_to, name) rows in file order: the report asks
        for a name per partner-period, and filtering the table each time cost 1 ms."""
        names: dict[str, list[tuple]] = {}
        for row in self.partners.itertuples():
            names.setdefault(row.partner_id, []).append((row.valid_from, row.valid_to, row.name))
        return names

    def partner_name(self, partner_id: str, on: dt.date | None = None) -> str:
        """The partner's name on a date (its current name when no date is given)."""
        rows = self._names_by_partner[partner_id]
        for valid_from, valid_to, name in rows:
            starts_ok = valid_from is None or on is None or valid_from <= on
            ends_ok = valid_to is None if on is None else (valid_to is None or on <= valid_to)
            if starts_ok and ends_ok:
                return name
        return rows[-1][2]

    @cached_property
    def _partner_set(self) -> frozenset[str]:
        return frozenset(self.partner_ids)

    def takes_part(self, partner_id: str, period_id: str) -> bool:
        """Whether the partner is expected to report for the period."""
        if partner_id not in self._partner_set or period_id not in self._periods_by_id:
            return False
        partners = self._phase_partners[self.period(period_id)["phase"]]
        return partners is None or partner_id in partners

    def expected_submissions(self) -> list[tuple[str, str]]:
        """Every (partner, period) a workbook is expected for, in reporting order."""
        return [
            (partner, period)
            for partner in self.partner_ids
            for period in self.period_ids
            if self.takes_part(partner, period)
        ]

    @cached_property
    def _instruments_by_partner(self) -> dict[str, tuple[str, ...]]:
        by_partner: dict[str, tuple[str, ...]] = {}
        for instrument, partner in zip(
            self.policy_instruments["policy_instrument_id"],
            self.policy_instruments["partner_id"],
            strict=True,
        ):
            by_partner[partner] = (*by_partner.get(partner, ()), instrument)
        return by_partner

    def instruments_of(self, partner_id: str) -> tuple[str, ...]:
        """The policy instruments a partner addresses, in file order (often one, or none)."""
        return self._instruments_by_partner.get(partner_id, ())

    def instrument_owners(self) -> dict[str, str]:
        """Each policy instrument's partner."""
        return dict(
            zip(
                self.policy_instruments["policy_instrument_id"],
                self.policy_instruments["partner_id"],
                strict=True,
            )
        )

    def instrument_sf_linked(self) -> dict[str, bool]:
        return dict(
            zip(
                self.policy_instruments["policy_instrument_id"],
                self.policy_instruments["sf_linked"],
                strict=True,
            )
        )

    @cached_property
    def event_type_ids(self) -> tuple[str, ...]:
        """Every event type, in the order of event_types.csv: the one list there is."""
        return tuple(self.event_types["event_type"])

    def max_days(self, event_type: str) -> int | None:
        """How long an event of the type may last (None: no limit)."""
        rows = self.event_types.loc[self.event_types["event_type"] == event_type, "max_days"]
        return None if rows.empty or pd.isna(rows.iloc[0]) else int(rows.iloc[0])

    @cached_property
    def project_start(self) -> dt.date:
        return min(self.periods["start_date"])

    @cached_property
    def project_end(self) -> dt.date:
        return max(self.periods["end_date"])

    @cached_property
    def gaps(self) -> tuple[tuple[dt.date, dt.date], ...]:
        """Spans between consecutive periods when no activity is expected (the 2021 gap)."""
        spans = sorted(zip(self.periods["start_date"], self.periods["end_date"], strict=True))
        return tuple(
            (end + dt.timedelta(days=1), start - dt.timedelta(days=1))
            for (_, end), (start, _) in pairwise(spans)
            if start - end > dt.timedelta(days=1)
        )

    @cached_property
    def _fact_tables_by_name(self) -> dict[str, Table]:
        return {t.name: t for t in self.fact_tables}

    def fact_table(self, name: str) -> Table:
        """The fact table of a record sheet, by the table's name (``events``)."""
        return self._fact_tables_by_name[name]

    @cached_property
    def year_range(self) -> tuple[int, int]:
        """The years a figure by year may be for: from the earliest base year an indicator
        compares with (or the project's first year) to the project's last year."""
        base = [int(y) for y in self.indicators["base_year"].dropna()]
        return min([*base, self.project_start.year]), self.project_end.year

    def in_gap(self, day: dt.date) -> bool:
        return any(start <= day <= end for start, end in self.gaps)

    @cached_property
    def terms(self) -> dict[str, str]:
        """The reference facts rule messages quote, so no message hard-codes a date or limit."""
        gap = "; ".join(f"{start}..{end}" for start, end in self.gaps) or "none"
        return {
            "project_start": self.project_start.isoformat(),
            "project_end": self.project_end.isoformat(),
            "gap": gap,
            "back_to_back_types": ", ".join(self.event_types_with("back_to_back_allowed"))
            or "no event type",
            "partner_range": f"{self.partner_ids[0]}..{self.partner_ids[-1]}",
            "period_range": f"{self.period_ids[0]}..{self.period_ids[-1]}",
        }

    def event_phases(self) -> dict[str, frozenset[str]]:
        """The phases each event type may take place in: its own and any it continues in."""
        rows = zip(
            self.event_types["event_type"],
            self.event_types["phase"],
            self.event_types["also_in_phase"],
            strict=True,
        )
        return {kind: frozenset(p for p in (phase, also) if p) for kind, phase, also in rows}

    def event_types_with(self, attribute: str) -> tuple[str, ...]:
        """The event types for which a boolean attribute of event_types.csv is true."""
        rows = self.event_types[self.event_types[attribute].astype("boolean").fillna(False)]
        return tuple(rows["event_type"])

    def consortium_event_types(self) -> set[str]:
        rows = self.event_types[self.event_types["consortium_level"].astype(bool)]
        return set(rows["event_type"])

    @cached_property
    def _period_spans(self) -> list[tuple[dt.date, dt.date, str, str]]:
        return list(
            zip(
                self.periods["start_date"],
                self.periods["end_date"],
                self.periods["period_id"],
                self.periods["phase"],
                strict=True,
            )
        )

    def period_of(self, day: dt.date | None) -> tuple[str | None, str | None]:
        """The period and phase a date falls in (None, None in the 2021 gap or outside)."""
        if day is not None:
            for start, end, period_id, phase in self._period_spans:
                if start <= day <= end:
                    return period_id, phase
        return None, None
