"""Outputs that are documents rather than tables: report, feedback, data dictionary."""

import datetime as dt
import json

import dagster as dg
import pandas as pd

from pipelines.core.completeness import STATUSES, submission_statuses
from pipelines.core.dictionary import data_dictionary as render_dictionary
from pipelines.core.feedback import write_feedback
from pipelines.core.parsing import is_missing
from pipelines.core.publish import write_atomic
from pipelines.core.reference import reference
from pipelines.core.report import write_report
from pipelines.core.review import SENT_BACK, Decision, Ledger
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


def _feedback_key(status: dict, issues: pd.DataFrame, sent_back: Decision | None) -> str:
    """What a feedback workbook says, as a key: the same key, the same workbook."""
    said = {k: None if is_missing(v) else str(v) for k, v in status.items()}
    said["issues"] = sorted(issues["issue_id"])
    if sent_back is not None:
        said["sent_back"] = [sent_back.decided_at, sent_back.note]
    return json.dumps(said, sort_keys=True)


@dg.asset(
    group_name="outputs",
    kinds={"excel"},
    description="A feedback workbook per partner-period with open issues (its own, and those"
    " found across partners such as probable duplicate events) or sent back by the"
    " coordinator, opening with the outcome of its workbook.",
)
def partner_feedback(
    paths: ClusterixPaths, submissions: pd.DataFrame, validation_issues: pd.DataFrame
) -> dg.MaterializeResult:
    folder = paths.assets / FEEDBACK_DIR
    manifest_path = folder / ".written.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    ref, today = reference(), dt.datetime.now(dt.UTC).date()
    statuses = submission_statuses(submissions, ref, today, validation_issues)
    open_issues = validation_issues[validation_issues["is_open"].astype(bool)]
    issues_of = dict(list(open_issues.groupby(["partner_id", "period_id"], sort=False)))
    ledger = Ledger.read(paths.state)
    listed, rewritten = [], 0
    for status in statuses.to_dict("records"):
        key = status["partner_id"], status["period_id"]
        issues = issues_of.get(key, open_issues.iloc[0:0])
        sent_back = ledger.last(*key) if status["review_status"] == SENT_BACK else None
        target = folder / key[0] / f"{key[1]}.xlsx"
        name = target.relative_to(paths.assets).as_posix()
        if issues.empty and sent_back is None:
            target.unlink(missing_ok=True)
            manifest.pop(name, None)
            continue
        listed.append(f"- `{name}`: {len(issues)} issue(s)" + (", sent back" if sent_back else ""))
        written_for = _feedback_key(status, issues, sent_back)
        if manifest.get(name) == written_for and target.exists():
            continue  # already written with this very content (its date stays)
        write_feedback(target, status, issues, today, ref.partner_name(key[0]), sent_back)
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
