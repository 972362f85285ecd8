"""Reference data: partners, periods, policy instruments, event types, indicators.

The data lives in editable files in ``reference_data/`` (YAML for partners and their
name history, CSV for the rest). This module is the only place that reads them. It
types every value, derives the deadlines and validates each table with the Pandera
schema generated from its definition, so a broken file fails at load time with the
file, the row and the rule in the message.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from pipelines.core.metadata.fields import field
from pipelines.core.metadata.schemas import table_schema
from pipelines.core.metadata.tables import (
    EVENT_TYPES_TABLE,
    INDICATORS,
    PARTNER_NAMES,
    PARTNERS,
    PERIODS,
    POLICY_INSTRUMENTS,
    Table,
)
from pipelines.platform import settings as config

DATA_DIR = Path(__file__).with_name("data")
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


# partners.yaml as read: one row per partner and name it held. Published as two tables,
# ``partners`` (one row per partner) and ``partner_names`` (the name history).
_PARTNER_ROWS = Table(
    name="partners.yaml",
    description="Partners with each name they held.",
    columns=tuple(
        field(n)
        for n in (
            "partner_id",
            "name",
            "short_name",
            "country",
            "role",
            "in_extended_phase",
            "valid_from",
            "valid_to",
        )
    ),
    required=frozenset({"partner_id", "name", "short_name", "country", "role"}),
)


class ReferenceDataError(ValueError):
    """A reference file is broken; the message names the file, the row and the rule."""


def deadline_for(end: dt.date) -> dt.date:
    """Last day of the third month after the period's end month."""
    month = end.month + 3
    year = end.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _typed(frame: pd.DataFrame, table: Table, source: Path) -> pd.DataFrame:
    """Convert raw file values to the table's kinds, naming the file and row on failure."""
    out = {}
    for f in table.columns:
        raw = frame[f.name] if f.name in frame else pd.Series([None] * len(frame))
        values = []
        for i, v in enumerate(raw.tolist()):
            missing = v is None or (isinstance(v, float) and pd.isna(v)) or v == ""
            try:
                if missing:
                    values.append(None)
                elif f.kind == "date" and isinstance(v, dt.date):
                    values.append(v)  # YAML reads dates itself
                else:
                    values.append(f.spec.from_text(str(v)))
            except (TypeError, ValueError) as exc:
                raise ReferenceDataError(
                    f"{source.name}, row {i + 2}, column {f.name!r}: {exc}"
                ) from exc
        series = pd.Series(values, dtype=f.pandas_dtype, name=f.name)
        if f.kind == "string":
            series = series.astype(object).where(series.notna(), None)
        out[f.name] = series
    return pd.DataFrame(out, columns=table.column_names)


def _validated(frame: pd.DataFrame, table: Table, source: Path) -> pd.DataFrame:
    try:
        return table_schema(table).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        lines = []
        for case in cases.itertuples():
            row = "?" if pd.isna(case.index) else int(case.index) + 2
            where = f"row {row}, column {case.column!r}" if case.column else f"row {row}"
            value = case.failure_case
            lines.append(f"{source.name}, {where}: rule {case.check} failed for {value!r}")
        raise ReferenceDataError("\n".join(lines)) from exc


def _read_csv(name: str, data_dir: Path) -> tuple[pd.DataFrame, Path]:
    path = data_dir / name
    return pd.read_csv(path, dtype=str, keep_default_na=False), path


# yaml.safe_load's loader with libyaml's parser when PyYAML has it (its wheels do):
# the same values, parsed 5-10x faster; every process reads partners.yaml.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_partners(data_dir: Path) -> pd.DataFrame:
    path = data_dir / "partners.yaml"
    rows = []
    for entry in yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or []:
        for name in entry.get("names") or [{}]:
            rows.append(
                {
                    **{k: v for k, v in entry.items() if k != "names"},
                    "name": name.get("name"),
                    "valid_from": name.get("valid_from"),
                    "valid_to": name.get("valid_to"),
                }
            )
    return _validated(_typed(pd.DataFrame(rows), _PARTNER_ROWS, path), _PARTNER_ROWS, path)


def _load_periods(data_dir: Path) -> pd.DataFrame:
    frame, path = _read_csv("periods.csv", data_dir)
    typed = _typed(frame, PERIODS, path)
    typed["deadline"] = [deadline_for(end) if end else None for end in typed["end_date"]]
    typed["label"] = [
        f"{period} {start:%b %Y} – {end:%b %Y}" if start and end else period
        for period, start, end in zip(
            typed["period_id"], typed["start_date"], typed["end_date"], strict=True
        )
    ]
    typed["sort_order"] = pd.array(range(1, len(typed) + 1), dtype="Int64")
    typed["note"] = _gap_notes(typed)
    return _validated(typed, PERIODS, path)


def _gap_notes(periods: pd.DataFrame) -> list[str | None]:
    """A note on each period that follows a gap in the calendar (RP09, after RP08)."""
    notes: list[str | None] = [None]
    rows = list(zip(periods["period_id"], periods["start_date"], periods["end_date"], strict=True))
    for (before, _, end), (_, start, _) in pairwise(rows):
        gap = end and start and start - end > dt.timedelta(days=1)
        notes.append(
            f"Follows a gap after {before}: no activity was expected from"
            f" {end + dt.timedelta(days=1)} to {start - dt.timedelta(days=1)}, so no period"
            " covers it."
            if gap
            else None
        )
    return notes


def _load_indicators(data_dir: Path) -> pd.DataFrame:
    """indicators.csv, with its type, depth and order derived rather than typed in."""
    frame, path = _read_csv("indicators.csv", data_dir)
    typed = _typed(frame, INDICATORS, path)
    types = {"O": "output", "R": "result", "C": "context"}
    typed["indicator_type"] = [types.get(i[:1]) for i in typed["indicator_id"]]
    typed["indicator_level"] = pd.array(
        [1 if p is None else 2 for p in typed["parent_indicator_id"]], dtype="Int64"
    )
    typed["sort_order"] = pd.array(range(1, len(typed) + 1), dtype="Int64")
    return _validated(typed, INDICATORS, path)


def _load_csv_table(name: str, table: Table, data_dir: Path) -> pd.DataFrame:
    frame, path = _read_csv(name, data_dir)
    return _validated(_typed(frame, table, path), table, path)


def _load_countries(data_dir: Path) -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (taken from the public-domain iso3166.tab of the tz database,
    so the list is shipped and checked offline)."""
    frame, path = _read_csv("countries.csv", data_dir)
    codes = frame["country"].tolist()
    for i, code in enumerate(codes):
        if not _COUNTRY_CODE.match(code) or code in codes[:i]:
            raise ReferenceDataError(
                f"{path.name}, row {i + 2}, column 'country': {code!r} is not a new"
                " two-letter upper-case code"
            )
    return frozenset(codes)


def _check_event_type_links(
    event_types: pd.DataFrame, indicators: pd.DataFrame, data_dir: Path
) -> None:
    """Event types and indicators name each other: each link must hold both ways, with the
    same target, or an indicator would count a type nobody can report (or none at all)."""
    by_indicator = {
        row["indicator_id"]: (i + 2, row) for i, row in enumerate(indicators.to_dict("records"))
    }
    by_type = {
        row["event_type"]: (i + 2, row) for i, row in enumerate(event_types.to_dict("records"))
    }
    problems = []
    for event_type, (line, row) in by_type.items():
        link = by_indicator.get(row["indicator_id"])
        if link is None:
            problems.append(
                f"event_types.csv, row {line}, column 'indicator_id': {row['indicator_id']!r}"
                " is not in indicators.csv"
            )
        elif link[1]["event_type"] != event_type:
            problems.append(
                f"indicators.csv, row {link[0]}, column 'event_type': {row['indicator_id']}"
                f" should count {event_type!r} (event_types.csv, row {line}), not"
                f" {link[1]['event_type']!r}"
            )
        elif link[1]["target"] != row["target"]:
            problems.append(
                f"indicators.csv, row {link[0]}, column 'target': {link[1]['target']} differs"
                f" from the target {row['target']} of {event_type} (event_types.csv, row {line})"
            )
    for indicator, (line, row) in by_indicator.items():
        if row["event_type"] is not None and row["event_type"] not in by_type:
            problems.append(
                f"indicators.csv, row {line}, column 'event_type': {row['event_type']!r}"
                f" ({indicator}) is not in event_types.csv"
            )
    if problems:
        raise ReferenceDataError(f"reference data in {data_dir}: " + "\n".join(problems))


@dataclass(frozen=True)
class Reference:
    """All reference tables, typed and validated, with the look-ups the rules need."""

    partners: pd.DataFrame
    periods: pd.DataFrame
    policy_instruments: pd.DataFrame
    indicators: pd.DataFrame
    event_types: pd.DataFrame
    countries: frozenset[str] = frozenset()

    def tables(self) -> dict[str, pd.DataFrame]:
        """The published reference tables by name."""
        return {
            "partners": self.partner_table(),
            "partner_names": self.partner_names(),
            "periods": self.periods,
            "policy_instruments": self.policy_instruments,
            "indicators": self.indicators,
            "event_types": self.event_types,
        }

    def partner_table(self) -> pd.DataFrame:
        """One row per partner, with its current name and its order in partners.yaml."""
        rows = []
        for order, partner_id in enumerate(self.partner_ids, start=1):
            names = self.partners[self.partners["partner_id"] == partner_id]
            current = names.iloc[-1]
            rows.append(
                {
                    "partner_id": partner_id,
                    "name": self.partner_name(partner_id),
                    "short_name": current["short_name"],
                    "country": current["country"],
                    "role": current["role"],
                    "in_extended_phase": bool(current["in_extended_phase"]),
                    "sort_order": order,
                }
            )
        source = Path("partners.yaml")
        return _validated(_typed(pd.DataFrame(rows), PARTNERS, source), PARTNERS, source)

    def partner_names(self) -> pd.DataFrame:
        """Every name of every partner; a name older than the project starts with it."""
        names = self.partners[["partner_id", "name", "valid_from", "valid_to"]].copy()
        names["valid_from"] = [d or self.project_start for d in names["valid_from"]]
        source = Path("partners.yaml")
        typed = _typed(names.reset_index(drop=True), PARTNER_NAMES, source)
        return _validated(typed, PARTNER_NAMES, source)

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
    def _extended_partners(self) -> frozenset[str]:
        rows = self.partners[self.partners["in_extended_phase"].astype(bool)]
        return frozenset(rows["partner_id"])

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
        if self.period(period_id)["phase"] != "extended":
            return True
        return partner_id in self._extended_partners

    def expected_submissions(self) -> list[tuple[str, str]]:
        """Every (partner, period) a workbook is expected for, in reporting order."""
        return [
            (partner, period)
            for partner in self.partner_ids
            for period in self.period_ids
            if self.takes_part(partner, period)
        ]

    def instrument_of(self, partner_id: str) -> str | None:
        rows = self.policy_instruments[self.policy_instruments["partner_id"] == partner_id]
        return None if rows.empty else rows["policy_instrument_id"].iloc[0]

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
            "staff_exchange_days": str(self.max_days("staff_exchange") or "unlimited"),
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


def load_reference(data_dir: Path = DATA_DIR) -> Reference:
    """Read and validate every reference file in ``data_dir``."""
    indicators = _load_indicators(data_dir)
    event_types = _load_csv_table("event_types.csv", EVENT_TYPES_TABLE, data_dir)
    _check_event_type_links(event_types, indicators, data_dir)
    return Reference(
        partners=_load_partners(data_dir),
        periods=_load_periods(data_dir),
        policy_instruments=_load_csv_table("policy_instruments.csv", POLICY_INSTRUMENTS, data_dir),
        indicators=indicators,
        event_types=event_types,
        countries=_load_countries(data_dir),
    )


@cache
def reference() -> Reference:
    """The reference data in use, loaded once per process (see config.reference_dir)."""
    return load_reference(config.reference_dir() or DATA_DIR)
