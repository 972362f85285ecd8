"""Synthetic demo submissions: one workbook for every expected partner-period.

The data are invented (seeded, so every run writes the same bytes) but shaped on the
project's plan in the seed: the phase-1 meetings, the regional stakeholder meetings
of every partner with a policy instrument, the extended-phase events, good
practices moving from identified to structured, policy measures moving from planned
to implemented with the funds they influence, and the regional collaboration
figures. They are close to, not exactly on, the targets, so the scorecard has
something to show, and a few workbooks are deliberately flawed (:data:`FLAWS`) so
that validation has something to catch. Every workbook goes through
:func:`pipelines.core.outputs.template.write_template`, like a partner's would.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from pipelines.core.outputs.template import write_template
from pipelines.core.reference.loader import reference
from pipelines.core.reference.model import Reference
from pipelines.demo.builder import (
    Builder,
    Workbook,
    event_rows,
    restate,
)
from pipelines.demo.fit import check_plan
from pipelines.demo.plan import (
    FORMULA_LIKE_TITLE,
    NOT_A_SPREADSHEET,
    OWNED_SUFFIXES,
    RSM,
    Row,
    instrument_of,
)

# --- assembling the workbooks --------------------------------------------------------


def _workbooks(ref: Reference) -> dict[tuple[str, str], Workbook]:
    """Every expected submission with its records and Cover, before the flaws."""
    build = Builder(ref)
    books = {key: Workbook(*key) for key in ref.expected_submissions()}
    events = event_rows(build.events())
    restate(events, ref)
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


def _flawed_event(book: Workbook, **changes: object) -> None:
    """A follow-up of the workbook's stakeholder meeting, with the flaw in it."""
    base = next(r for r in book.records["Events"] if r["event_type"] == RSM)
    title = "Regional stakeholder meeting: follow-up"
    book.records["Events"].append({**base, "event_ref": "EV-901", "title": title, **changes})


def _flawed_measure(book: Workbook, **changes: object) -> None:
    measure: Row = {
        "measure_ref": "M-09",
        "policy_instrument_id": instrument_of(book.partner),
        "description": "Additional measure",
        "status": "planned",
        "implemented_on": None,
        "sf_influenced_eur": Decimal("0.00"),
        "other_funds_influenced_eur": Decimal("0.00"),
        **changes,
    }
    book.records["PolicyMeasures"].append(measure)


def _add_flaws(books: dict[tuple[str, str], Workbook]) -> None:
    """Make the workbooks listed in FLAWS (the unreadable one is written separately)."""
    books[("P8", "RP07")].cover["partner_id"] = "P3"
    _flawed_event(books[("P2", "RP04")], participants="many")
    _flawed_event(books[("P6", "RP05")], event_type="webinar")
    p9 = books[("P9", "RP02")]
    start = next(r for r in p9.records["Events"] if r["event_type"] == RSM)["start_date"]
    _flawed_event(p9, end_date=start - dt.timedelta(days=2))
    _flawed_measure(books[("P10", "RP06")], policy_instrument_id=instrument_of("P4"))
    _flawed_measure(books[("P9", "RP06")], sf_influenced_eur=Decimal("120000.00"))
    _flawed_measure(
        books[("P11", "RP08")],
        status="implemented",
        sf_influenced_eur=Decimal("250000.00"),
        other_funds_influenced_eur=Decimal("40000.00"),
    )
    p4 = books[("P4", "RP02")].records["Events"]
    next(r for r in p4 if r["event_type"] == RSM)["title"] = FORMULA_LIKE_TITLE


# --- files ---------------------------------------------------------------------------


def _remove_old_samples(raw_dir: Path, ref: Reference) -> None:
    """Delete earlier samples: <partner>/<period>.xlsx|.ods|.bin files, nothing else."""
    for partner in ref.partner_ids:
        folder = raw_dir / partner
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            owned = path.suffix in OWNED_SUFFIXES and path.stem in ref.period_ids
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
    changed suffix (xlsx <-> ods) does not linger as a second submission; a project the
    plan does not fit is refused before that (:class:`SamplePlanError`), so nothing is
    removed or written.
    """
    ref = reference()
    check_plan(ref)
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
