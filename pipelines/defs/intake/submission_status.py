"""What the Dagster UI says about each partner-period: partition metadata, check, grid.

Each function reads one :class:`SubmissionState` (or all of them) and nothing else, so
the partition view, its check and the programme-wide grid always agree with the
published ``submissions`` table, which is built from the same states.
"""

from __future__ import annotations

import dagster as dg

from pipelines.core.intake.ingest import SubmissionState
from pipelines.core.metadata.tables import RECORD_SHEETS
from pipelines.core.reference.loader import Reference
from pipelines.core.state.review import Ledger

_RECORD_SHEETS = {s.name for s in RECORD_SHEETS}


def _version(state: SubmissionState, sha256: str | None) -> dict | None:
    return next((v for v in state.versions if v["sha256"] == sha256), None)


def rows_quarantined(state: SubmissionState, sha256: str | None) -> int:
    """Rows of a version left out of the tables because of an error."""
    return len(
        {
            (i["sheet"], i["row"])
            for i in state.issues_of(sha256)
            if i["severity"] == "error" and i["sheet"] in _RECORD_SHEETS
        }
    )


def days_late(state: SubmissionState, version: dict, ref: Reference) -> int | None:
    """Days after the deadline the version was submitted (0 when on time, None if unknown)."""
    submitted = version["submitted_on"]
    if submitted is None:
        return None
    return max(0, (submitted - ref.period(state.period_id)["deadline"]).days)


def rejection_reason(state: SubmissionState) -> str:
    """The first error of the latest version, as the partner reads it."""
    latest = state.latest
    errors = [i for i in state.issues_of(latest["sha256"]) if i["severity"] == "error"]
    if not errors:
        return "rejected"
    return f"{errors[0]['rule']}: {errors[0]['message']}"


def partition_metadata(state: SubmissionState, ref: Reference) -> dict[str, object]:
    """Metadata of the partition's materialization: the version in use, and the latest."""
    current = _version(state, state.current_sha256)
    latest = state.latest
    late = days_late(state, current, ref)
    status = "accepted"
    if latest["sha256"] != current["sha256"]:
        status = f"accepted; latest upload {latest['file']} rejected ({rejection_reason(state)})"
    return {
        "status": status,
        "file": str(current["file"]),
        "sha256": str(current["sha256"]),
        "submitted on": str(current["submitted_on"] or "unknown"),
        "on time": "unknown" if late is None else ("yes" if late == 0 else f"{late} days late"),
        "days late": dg.MetadataValue.int(late or 0),
        "errors": dg.MetadataValue.int(int(current["n_errors"])),
        "warnings": dg.MetadataValue.int(int(current["n_warnings"])),
        "rows quarantined": dg.MetadataValue.int(rows_quarantined(state, current["sha256"])),
        "versions seen": dg.MetadataValue.int(len(state.versions)),
        "dagster/row_count": dg.MetadataValue.int(state.n_rows),
    }


ACCEPTED_CHECK = "workbook_accepted"
ACCEPTED_CHECK_DESCRIPTION = (
    "The partner-period's latest workbook was accepted. Fails (error) when every version"
    " received was rejected as a whole, so nothing of this partner-period is published;"
    " fails as a warning when the latest upload was rejected and an earlier accepted"
    " version is still in use. The metadata names the rule and what to fix."
)


def acceptance_failed(state: SubmissionState) -> bool:
    latest = state.latest
    return latest is not None and latest["status"] != "accepted"


def acceptance_evaluation(state: SubmissionState, key: str) -> dg.AssetCheckEvaluation:
    """The partition's ``workbook_accepted`` check, from its state."""
    failed = acceptance_failed(state)
    metadata: dict[str, object] = {}
    severity = dg.AssetCheckSeverity.ERROR
    if failed:
        latest = state.latest
        metadata = {"reason": rejection_reason(state), "file": str(latest["file"])}
        if state.current_sha256 is not None:
            severity = dg.AssetCheckSeverity.WARN
            metadata["in use"] = str(_version(state, state.current_sha256)["file"])
        else:
            metadata["in use"] = "nothing: every version was rejected"
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey("submission"),
        check_name=ACCEPTED_CHECK,
        passed=not failed,
        partition=key,
        severity=severity,
        metadata=metadata,
    )


_REVIEW_MARK = {"approved": " 🔒", "sent_back": " ↩", "reopened": " 🔓"}


def _cell(state: SubmissionState, expected: bool, ref: Reference, ledger: Ledger) -> str:
    latest = state.latest
    if latest is None:
        return "·" if expected else "n/e"
    if not expected:
        return "✗ n/e"
    current = _version(state, state.current_sha256)
    if current is None:
        return "✗"
    late = days_late(state, current, ref)
    text = "✓" if not late else f"✓ {late}d late"
    quarantined = rows_quarantined(state, current["sha256"])
    if quarantined:
        text += f" {quarantined}q"
    if latest["sha256"] != current["sha256"]:
        text += " (✗ latest)"
    return text + _REVIEW_MARK.get(ledger.state_status(state), "")


LEGEND = (
    "✓ accepted on time · ✓ Nd late: accepted, N days after the deadline ·"
    " Nq: N rows quarantined · (✗ latest): the latest upload was rejected, an earlier"
    " version is in use · ✗ rejected, nothing in use · · missing ·"
    " n/e not expected (✗ n/e: a file was sent anyway and rejected) ·"
    " review: 🔒 approved (locked), ↩ sent back, 🔓 reopened"
)


def programme_grid(
    states: dict[str, SubmissionState], ref: Reference, ledger: Ledger | None = None
) -> dict[str, object]:
    """Every partner x period from all states, whatever this run ingested."""
    lines = [
        "| partner | " + " | ".join(ref.period_ids) + " |",
        "|---" * (len(ref.period_ids) + 1) + "|",
    ]
    counts = dict.fromkeys(
        ("expected", "in use", "late", "rejected", "latest rejected", "missing"), 0
    )
    quarantined = 0
    ledger = ledger or Ledger()
    for partner in ref.partner_ids:
        cells = []
        for period in ref.period_ids:
            state = states[f"{partner}|{period}"]
            expected = ref.takes_part(partner, period)
            cells.append(_cell(state, expected, ref, ledger))
            if not expected:
                continue
            counts["expected"] += 1
            current = _version(state, state.current_sha256)
            if state.latest is None:
                counts["missing"] += 1
            elif current is None:
                counts["rejected"] += 1
            else:
                counts["in use"] += 1
                counts["late"] += bool(days_late(state, current, ref))
                counts["latest rejected"] += acceptance_failed(state)
                quarantined += rows_quarantined(state, current["sha256"])
        lines.append(f"| {partner} | " + " | ".join(cells) + " |")
    lines.append("\n" + LEGEND)
    return {
        **{name: dg.MetadataValue.int(value) for name, value in counts.items()},
        "rows quarantined": dg.MetadataValue.int(quarantined),
        "submissions": dg.MetadataValue.md("\n".join(lines)),
    }
