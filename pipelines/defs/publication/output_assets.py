"""Outputs that are documents rather than tables: report, feedback, data dictionary."""

import datetime as dt
import json

import dagster as dg
import pandas as pd

from pipelines.core.intake.validation import issues_frame
from pipelines.core.outputs.dictionary import data_dictionary as render_dictionary
from pipelines.core.outputs.feedback import write_feedback
from pipelines.core.outputs.parquet import write_atomic
from pipelines.core.outputs.report import write_report
from pipelines.core.reference.loader import reference
from pipelines.core.state.completeness import STATUSES, submission_statuses
from pipelines.core.state.morning import (
    behind_plan,
    needing_action,
    open_issues_by_partner,
    status_counts,
)
from pipelines.core.state.review import Ledger
from pipelines.defs.indicators.indicator_assets import number
from pipelines.defs.intake.ingest_assets import all_states
from pipelines.defs.metadata import table_value
from pipelines.defs.resources import ClusterixPaths


@dg.asset(group_name="outputs", kinds={"markdown"}, description="assets/README.md for analysts.")
def data_dictionary(paths: ClusterixPaths) -> dg.MaterializeResult:
    text = render_dictionary()
    path = write_atomic(paths.assets / "README.md", lambda tmp: tmp.write_text(text, "utf-8"))
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(path)), "text": dg.MetadataValue.md(text)}
    )


REPORT_FILE = "report/progress_report.html"
FEEDBACK_DIR = "feedback"


@dg.asset(group_name="outputs", kinds={"html"}, description="Offline HTML progress report.")
def progress_report(
    context: dg.AssetExecutionContext,
    paths: ClusterixPaths,
    indicator_scorecard: pd.DataFrame,
    indicator_progress: pd.DataFrame,
    submissions: pd.DataFrame,
    validation_issues: pd.DataFrame,
    stakeholder_meeting_floor: pd.DataFrame,
) -> dg.MaterializeResult:
    now = dt.datetime.now(dt.UTC)
    ref = reference()
    # "not yet due" and "missing" are relative to the day of the run
    statuses = submission_statuses(submissions, ref, now.date(), validation_issues)
    path = write_report(
        paths.assets / REPORT_FILE,
        indicator_scorecard,
        indicator_progress,
        statuses,
        stakeholder_meeting_floor,
        validation_issues,
        ref,
        now.strftime("%Y-%m-%d %H:%M UTC"),
    )
    counts = statuses["status"].value_counts()
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            **{status: dg.MetadataValue.int(int(counts.get(status, 0))) for status in STATUSES},
        }
    )


SUMMARY_DESCRIPTION = (
    "The coordinator's morning page. Its overview says, without opening anything:"
    " partner-periods by status (the same statuses as the partition view of `submission`,"
    " the report and `submission_completeness`), the partner-periods that need action with"
    " the reason and the days since the deadline, the open issues per partner, the"
    " indicators behind plan (pro rata: halfway through the project, half the target),"
    " and where the report and the feedback workbooks are."
)


@dg.asset(group_name="outputs", kinds={"markdown"}, description=SUMMARY_DESCRIPTION)
def coordinator_summary(
    paths: ClusterixPaths,
    submissions: pd.DataFrame,
    validation_issues: pd.DataFrame,
    indicator_scorecard: pd.DataFrame,
) -> dg.MaterializeResult:
    as_of = dt.datetime.now(dt.UTC).date()
    ref = reference()
    statuses = submission_statuses(submissions, ref, as_of, validation_issues)
    action = needing_action(statuses, ref, as_of)
    behind = behind_plan(indicator_scorecard, ref, as_of)
    shown = behind.assign(
        **{
            c: [number(v, u) for v, u in zip(behind[c], behind["unit"], strict=True)]
            for c in ("achieved", "planned by now", "target")
        }
    )
    return dg.MaterializeResult(
        metadata={
            **{name: dg.MetadataValue.int(n) for name, n in status_counts(statuses).items()},
            "need action": dg.MetadataValue.int(len(action)),
            "report": dg.MetadataValue.path(str(paths.assets / REPORT_FILE)),
            "feedback workbooks": dg.MetadataValue.path(str(paths.assets / FEEDBACK_DIR)),
            "as of": str(as_of),
            # the small tables first, so that the long list does not push them away
            "indicators behind plan": table_value(shown),
            "open issues per partner": table_value(open_issues_by_partner(validation_issues, ref)),
            "partner-periods that need action": table_value(action),
        }
    )


@dg.asset(
    group_name="outputs",
    kinds={"excel"},
    description="A feedback workbook per partner-period whose latest workbook has issues or"
    " was sent back by the coordinator.",
    deps=["submission_states"],
)
def partner_feedback(
    context: dg.AssetExecutionContext, paths: ClusterixPaths
) -> dg.MaterializeResult:
    folder = paths.assets / FEEDBACK_DIR
    manifest_path = folder / ".written.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    listed, rewritten = [], 0
    ledger = Ledger.read(paths.state)
    for state in all_states(paths).values():
        latest = state.latest
        target = folder / state.partner_id / f"{state.period_id}.xlsx"
        issues = state.issues_of(latest["sha256"]) if latest is not None else []
        sent_back = ledger.sent_back(state)
        name = target.relative_to(paths.assets).as_posix()
        if not issues and sent_back is None:
            target.unlink(missing_ok=True)
            manifest.pop(name, None)
            continue
        listed.append(f"- `{name}`: {len(issues)} issue(s)" + (", sent back" if sent_back else ""))
        written_for = latest["sha256"] + (
            f" sent back {sent_back.decided_at}: {sent_back.note}" if sent_back else ""
        )
        if manifest.get(name) == written_for and target.exists():
            continue  # already written for these exact bytes (and send-back)
        write_feedback(
            target,
            state.partner_id,
            state.period_id,
            latest["file"],
            issues_frame(issues),
            sent_back,
        )
        manifest[name] = written_for
        rewritten += 1
    if listed:
        text = json.dumps(manifest, indent=1, sort_keys=True)
        write_atomic(manifest_path, lambda tmp: tmp.write_text(text, "utf-8"))
    return dg.MaterializeResult(
        metadata={
            "workbooks": dg.MetadataValue.int(len(listed)),
            "written this run": dg.MetadataValue.int(rewritten),
            "files": dg.MetadataValue.md("\n".join(listed) or "_no feedback needed_"),
        }
    )
