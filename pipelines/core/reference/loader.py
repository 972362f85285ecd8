"""A project folder: project.yaml, partners, periods, policy instruments, event types,
indicators, and the record sheets it adds (sheets.yaml).

The folder holds editable files (YAML for the project and the partners with their
name history, CSV for the rest); the bundled default is ``pipelines/projects/
clusterix-2.0``. This module reads them (``sheets.yaml`` through
:mod:`pipelines.core.reference.record_sheets`). It types every value,
derives the deadlines and validates each table with the Pandera schema generated from
its definition, then checks that the files agree with each other, so a broken folder
fails at load time with every problem's file, row and what to write.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Mapping
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

import pandas as pd
import pandera.pandas as pa
import yaml

from pipelines.core.indicators.catalogue import check_definition
from pipelines.core.metadata.fields import field
from pipelines.core.metadata.reference_tables import (
    EVENT_TYPES_TABLE,
    INDICATORS,
    PARTNER_NAMES,
    PARTNERS,
    PERIODS,
    PHASES_TABLE,
    POLICY_INSTRUMENTS,
)
from pipelines.core.metadata.schemas import table_schema
from pipelines.core.metadata.sheets import RECORD_SHEETS
from pipelines.core.metadata.table_model import Table
from pipelines.core.metadata.tables import FACT_TABLES, fact_table
from pipelines.core.reference.model import Reference
from pipelines.core.reference.project import SAFE_LOADER, Project, ProjectFileError, load_project
from pipelines.core.reference.record_sheets import SheetsFileError, load_record_sheets
from pipelines.platform.settings import settings

T = TypeVar("T")

PROJECTS_DIR = Path(__file__).parents[2] / "projects"
DEFAULT_PROJECT_DIR = PROJECTS_DIR / "clusterix-2.0"
COUNTRIES_FILE = "countries.csv"
BUNDLED_COUNTRIES = Path(__file__).with_name(COUNTRIES_FILE)
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
            "valid_from",
            "valid_to",
        )
    ),
    required=frozenset({"partner_id", "name", "short_name", "country", "role"}),
)


# event_types.csv as written: the indicator counting each type, and its target, are
# added from indicators.csv (EVENT_TYPES_TABLE is the published form).
_EVENT_TYPE_ROWS = Table(
    name="event_types.csv",
    description="Event types as written.",
    columns=tuple(c for c in EVENT_TYPES_TABLE.columns if c.name not in ("indicator_id", "target")),
    primary_key=EVENT_TYPES_TABLE.primary_key,
    required=EVENT_TYPES_TABLE.required,
)


class ReferenceDataError(ValueError):
    """A reference file is broken; the message names the file, the row and the rule."""


def deadline_for(end: dt.date, months: int) -> dt.date:
    """Last day of the ``months``-th month after the period's end month."""
    month = end.month + months
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


def _present(path: Path) -> Path:
    """The file, or a one-line problem naming it: a folder written by hand may lack one."""
    if not path.is_file():
        raise ReferenceDataError(f"{path.name} is missing from the project folder")
    return path


def _read_csv(name: str, data_dir: Path) -> tuple[pd.DataFrame, Path]:
    path = _present(data_dir / name)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(
            f"{name} is not a readable CSV file (save it as CSV, UTF-8): {exc}"
        ) from exc
    header = str(frame.columns[0]) if len(frame.columns) == 1 else ""
    separator = next((s for s in (";", "\t") if s in header), None)
    if separator is not None:
        # A spreadsheet app set to a European locale saves "CSV" with semicolons.
        shown = "tabs" if separator == "\t" else f"'{separator}'"
        raise ReferenceDataError(
            f"{name}: its columns are separated by {shown}, not commas; save it as CSV"
            " (comma delimited), UTF-8"
        )
    return frame, path


def _partner_entries(path: Path) -> list:
    try:
        entries = yaml.load(_present(path).read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        message = f"{path.name} is not valid YAML: {exc}"
        raise ReferenceDataError(" ".join(message.split())) from exc
    if entries is not None and not isinstance(entries, list):
        raise ReferenceDataError(f"{path.name} must be a list of partners, each '- partner_id: P1'")
    return entries or []


def _load_partners(data_dir: Path) -> pd.DataFrame:
    path = data_dir / "partners.yaml"
    rows = []
    for entry in _partner_entries(path):
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


def _deadlines(typed: pd.DataFrame, months: int | None, path: Path) -> list[dt.date | None]:
    """Each period's deadline: its own in periods.csv, else project.yaml's rule."""
    deadlines = []
    for i, (given, end) in enumerate(zip(typed["deadline"], typed["end_date"], strict=True)):
        if given is not None:
            deadlines.append(given)
        elif months is not None:
            # without an end date there is none to derive: the schema names end_date
            deadlines.append(None if end is None else deadline_for(end, months))
        else:
            raise ReferenceDataError(
                f"{path.name}, row {i + 2}, column 'deadline': empty, and project.yaml has"
                " no deadline rule; write the date (YYYY-MM-DD) or add 'deadline:"
                " months_after_period_end: N' to project.yaml"
            )
    return deadlines


def _load_periods(data_dir: Path, months: int | None) -> pd.DataFrame:
    frame, path = _read_csv("periods.csv", data_dir)
    typed = _typed(frame, PERIODS, path)
    typed["deadline"] = _deadlines(typed, months, path)
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
    """indicators.csv, with its depth and order derived rather than typed in."""
    frame, path = _read_csv("indicators.csv", data_dir)
    typed = _typed(frame, INDICATORS, path)
    typed["indicator_level"] = pd.array(
        [1 if p is None else 2 for p in typed["parent_indicator_id"]], dtype="Int64"
    )
    typed["sort_order"] = pd.array(range(1, len(typed) + 1), dtype="Int64")
    return _validated(typed, INDICATORS, path)


def _load_csv_table(name: str, table: Table, data_dir: Path) -> pd.DataFrame:
    frame, path = _read_csv(name, data_dir)
    return _validated(_typed(frame, table, path), table, path)


def _load_countries(data_dir: Path) -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes: the project's own countries.csv, else the bundled list
    (taken from the public-domain iso3166.tab of the tz database, so it is checked offline)."""
    own = data_dir / COUNTRIES_FILE
    path = own if own.is_file() else BUNDLED_COUNTRIES
    codes = pd.read_csv(path, dtype=str, keep_default_na=False)["country"].tolist()
    for i, code in enumerate(codes):
        if not _COUNTRY_CODE.match(code) or code in codes[:i]:
            raise ReferenceDataError(
                f"{path.name}, row {i + 2}, column 'country': {code!r} is not a new"
                " two-letter upper-case code"
            )
    return frozenset(codes)


def _check_indicators(
    indicators: pd.DataFrame, event_types: pd.DataFrame, tables: Mapping[str, Table]
) -> list[str]:
    """Each indicator's computation, parameters and parent, checked against the catalogue."""
    ids = set(indicators["indicator_id"])
    parents = {p for p in indicators["parent_indicator_id"] if p is not None}
    known_types = tuple(event_types["event_type"])
    problems = []
    for line, row in enumerate(indicators.to_dict("records"), start=2):
        parent = row["parent_indicator_id"]
        if parent is not None and parent not in ids:
            problems.append(
                f"indicators.csv, row {line}, column 'parent_indicator_id': {parent!r} is not"
                " an indicator_id of this file"
            )
        has_children = row["indicator_id"] in parents
        for problem in check_definition(row, has_children, known_types, tables):
            problems.append(f"indicators.csv, row {line} ({row['indicator_id']}): {problem}")
    return problems


def _check_phases(
    project: Project,
    partner_ids: list[str] | None,
    periods: pd.DataFrame,
    event_types: pd.DataFrame,
) -> list[str]:
    """Every phase named in a file is one of project.yaml's, and its partners exist
    (the partners only when partners.yaml could be read: ``partner_ids`` not None)."""
    phases = set(project.phase_ids)
    problems = []
    for phase in project.phases if partner_ids is not None else ():
        for partner in sorted((phase.partners or set()) - set(partner_ids)):
            problems.append(
                f"project.yaml, phase {phase.phase!r}: partner {partner!r} is not in partners.yaml"
            )
    named = [("periods.csv", "phase", periods["phase"])]
    named += [("event_types.csv", c, event_types[c]) for c in ("phase", "also_in_phase")]
    for source, column, values in named:
        for line, value in enumerate(values, start=2):
            if value is not None and value not in phases:
                problems.append(
                    f"{source}, row {line}, column {column!r}: phase {value!r} is not in"
                    f" project.yaml ({', '.join(project.phase_ids)})"
                )
    floor = project.floor
    if floor is not None and floor.event_type not in set(event_types["event_type"]):
        problems.append(
            f"project.yaml, stakeholder_meeting_floor: event_type {floor.event_type!r} is not"
            " in event_types.csv"
        )
    if floor is not None and floor.phase not in phases:
        problems.append(
            f"project.yaml, stakeholder_meeting_floor: phase {floor.phase!r} is not one of"
            f" {', '.join(project.phase_ids)}"
        )
    return problems


def _check_instruments(instruments: pd.DataFrame, partner_ids: list[str]) -> list[str]:
    return [
        f"policy_instruments.csv, row {line}, column 'partner_id': {partner!r} is not in"
        " partners.yaml"
        for line, partner in enumerate(instruments["partner_id"], start=2)
        if partner not in partner_ids
    ]


def _with_counting_indicators(event_types: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """event_types with the indicator that counts each (and its target), read from
    indicators.csv: the link is written once, there."""
    counting = indicators[indicators["computation"] == "count_events"]
    by_type = {
        row["event_type"]: (row["indicator_id"], row["target"])
        for row in counting.to_dict("records")
    }
    out = event_types.copy()
    out["indicator_id"] = [by_type.get(t, (None, None))[0] for t in out["event_type"]]
    out["target"] = [by_type.get(t, (None, None))[1] for t in out["event_type"]]
    return out[EVENT_TYPES_TABLE.column_names]


def reference_frames(ref: Reference) -> dict[str, pd.DataFrame]:
    """The project's reference tables as they are published, by name."""
    return {
        "partners": partner_table(ref),
        "partner_names": partner_names(ref),
        "periods": ref.periods,
        "phases": phase_table(ref),
        "policy_instruments": ref.policy_instruments,
        "indicators": ref.indicators,
        "event_types": ref.event_types,
    }


def partner_table(ref: Reference) -> pd.DataFrame:
    """One row per partner, with its current name and its order in partners.yaml."""
    rows = []
    for order, partner_id in enumerate(ref.partner_ids, start=1):
        current = ref.partners[ref.partners["partner_id"] == partner_id].iloc[-1]
        rows.append(
            {
                "partner_id": partner_id,
                "name": ref.partner_name(partner_id),
                "short_name": current["short_name"],
                "country": current["country"],
                "role": current["role"],
                "sort_order": order,
            }
        )
    source = Path("partners.yaml")
    return _validated(_typed(pd.DataFrame(rows), PARTNERS, source), PARTNERS, source)


def phase_table(ref: Reference) -> pd.DataFrame:
    """The phases of project.yaml, in order."""
    rows = [
        {"phase": p.phase, "name": p.name, "sort_order": order}
        for order, p in enumerate(ref.project.phases, start=1)
    ]
    source = Path("project.yaml")
    return _validated(_typed(pd.DataFrame(rows), PHASES_TABLE, source), PHASES_TABLE, source)


def partner_names(ref: Reference) -> pd.DataFrame:
    """Every name of every partner; a name older than the project starts with it."""
    names = ref.partners[["partner_id", "name", "valid_from", "valid_to"]].copy()
    names["valid_from"] = [d or ref.project_start for d in names["valid_from"]]
    source = Path("partners.yaml")
    typed = _typed(names.reset_index(drop=True), PARTNER_NAMES, source)
    return _validated(typed, PARTNER_NAMES, source)


def _collect(problems: list[str], load: Callable[[], T]) -> T | None:
    """Run one loading step, adding its problems to the list instead of stopping."""
    try:
        return load()
    except (ReferenceDataError, ProjectFileError, SheetsFileError) as exc:
        problems.extend(str(exc).splitlines())
        return None


def load_reference(folder: Path = DEFAULT_PROJECT_DIR) -> Reference:
    """Read and check every file of the project folder; raise with every problem found."""
    if not folder.is_dir():
        raise ReferenceDataError(f"project folder {folder} does not exist")
    problems: list[str] = []
    project = _collect(problems, lambda: load_project(folder))
    partners = _collect(problems, lambda: _load_partners(folder))
    # Without a readable project.yaml the deadline rule is unknown: periods are then read
    # with none, their deadlines left for the run that follows the fix.
    months = project.months_after_period_end if project else 0
    periods = _collect(problems, lambda: _load_periods(folder, months))
    instruments = _collect(
        problems, lambda: _load_csv_table("policy_instruments.csv", POLICY_INSTRUMENTS, folder)
    )
    indicators = _collect(problems, lambda: _load_indicators(folder))
    event_types = _collect(
        problems, lambda: _load_csv_table("event_types.csv", _EVENT_TYPE_ROWS, folder)
    )
    countries = _collect(problems, lambda: _load_countries(folder))
    own_sheets = _collect(problems, lambda: load_record_sheets(folder)) or ()
    record_sheets = (*RECORD_SHEETS, *own_sheets)
    fact_tables = (*FACT_TABLES, *(fact_table(sheet) for sheet in own_sheets))
    partner_ids = None if partners is None else list(dict.fromkeys(partners["partner_id"]))
    if indicators is not None and event_types is not None:
        problems += _check_indicators(indicators, event_types, {t.name: t for t in fact_tables})
    # Without a readable partners.yaml every partner named elsewhere would look unknown:
    # the checks against it wait for the fix rather than bury it under false problems.
    if project is not None and periods is not None and event_types is not None:
        problems += _check_phases(project, partner_ids, periods, event_types)
    if instruments is not None and partner_ids is not None:
        problems += _check_instruments(instruments, partner_ids)
    if problems:
        raise ReferenceDataError(f"project folder {folder}:\n" + "\n".join(problems))
    return Reference(
        project=project,
        folder=folder,
        partners=partners,
        periods=periods,
        policy_instruments=instruments,
        indicators=indicators,
        event_types=_validated(
            _with_counting_indicators(event_types, indicators),
            EVENT_TYPES_TABLE,
            folder / "event_types.csv",
        ),
        record_sheets=record_sheets,
        fact_tables=fact_tables,
        countries=countries,
    )


@cache
def reference() -> Reference:
    """The project in use, loaded once per process (see Settings.project_dir)."""
    return load_reference(settings().project_dir or DEFAULT_PROJECT_DIR)
