"""Outputs that are documents rather than tables: report, feedback, data dictionary."""

import datetime as dt
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import pandas as pd

from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.enumerations import COMPLETENESS_STATUSES, SENT_BACK
from pipelines.core.outputs.dictionary import data_dictionary as render_dictionary
from pipelines.core.outputs.feedback import write_feedback, write_folder_feedback
from pipelines.core.outputs.numbers import figure
from pipelines.core.outputs.report import write_report
from pipelines.core.reference.loader import reference
from pipelines.core.state.completeness import submission_statuses
from pipelines.core.state.morning import (
    behind_plan,
    needing_action,
    open_issues_by_partner,
    status_counts,
)
from pipelines.core.state.review import Decision, Ledger
from pipelines.defs.metadata import table_value
from pipelines.defs.resources import ClusterixPaths
from pipelines.platform.files import write_atomic

# These documents feed no published table and say what the published set says: they
# depend on the ``publication`` asset, so a run that fails before it has published
# writes none of them, and a corrected figure reaches the published tables without
# waiting for them.
PUBLISHED_FIRST = [dg.AssetKey("publication")]


@dg.asset(
    group_name="outputs",
    kinds={"markdown"},
    description="assets/README.md for analysts.",
    deps=PUBLISHED_FIRST,
)
def data_dictionary(paths: ClusterixPaths) -> dg.MaterializeResult:
    ref = reference()
    text = render_dictionary(ref.project, ref.fact_tables)
    path = write_atomic(paths.assets / "README.md", lambda tmp: tmp.write_text(text, "utf-8"))
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(path)), "text": dg.MetadataValue.md(text)}
    )


REPORT_FILE = "report/progress_report.html"
FEEDBACK_DIR = "feedback"
FOLDER_FEEDBACK = "files_not_read.xlsx"  # per partner: files of its folder in no period


@dg.asset(
    group_name="outputs",
    kinds={"html"},
    description="Offline HTML progress report.",
    deps=PUBLISHED_FIRST,
)
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
            **{
                status: dg.MetadataValue.int(int(counts.get(status, 0)))
                for status in COMPLETENESS_STATUSES
            },
        }
    )


class _Feedback(NamedTuple):
    """A feedback workbook that should exist: where, what it says (as a key), how to
    write it, and its line in the asset's metadata."""

    path: Path
    says: str
    write: Callable[[Path], Path]
    line: str


def _says(status: dict, issues: pd.DataFrame, sent_back: Decision | None) -> str:
    """What a feedback workbook says, as a key: the same key, the same workbook."""
    said = {k: None if is_missing(v) else str(v) for k, v in status.items()}
    said["issues"] = sorted(issues["issue_id"])
    if sent_back is not None:
        said["sent_back"] = [sent_back.decided_at, sent_back.note]
    return json.dumps(said, sort_keys=True)


def _wanted_feedback(
    folder: Path,
    statuses: pd.DataFrame,
    open_issues: pd.DataFrame,
    ledger: Ledger,
    today: dt.date,
) -> list[_Feedback]:
    """One workbook per partner-period with open issues or sent back, and one per partner
    whose folder holds files of no period."""
    ref = reference()
    issues_of = dict(list(open_issues.groupby(["partner_id", "period_id"], sort=False)))
    wanted = []
    for status in statuses.to_dict("records"):
        key = status["partner_id"], status["period_id"]
        issues = issues_of.get(key, open_issues.iloc[0:0])
        sent_back = ledger.last(*key) if status["review_status"] == SENT_BACK else None
        if issues.empty and sent_back is None:
            continue
        write = partial(
            write_feedback,
            status=status,
            issues=issues,
            written_on=today,
            partner_name=ref.partner_name(key[0]),
            project=ref.project.name,
            sent_back=sent_back,
        )
        line = f"{len(issues)} issue(s)" + (", sent back" if sent_back else "")
        path = folder / key[0] / f"{key[1]}.xlsx"
        wanted.append(_Feedback(path, _says(status, issues, sent_back), write, line))
    no_period = open_issues[open_issues["partner_id"].notna() & open_issues["period_id"].isna()]
    for partner_id, issues in no_period.groupby("partner_id", sort=True):
        write = partial(
            write_folder_feedback,
            partner_id=partner_id,
            partner_name=ref.partner_name(partner_id),
            issues=issues,
            written_on=today,
            project=ref.project.name,
        )
        path = folder / partner_id / FOLDER_FEEDBACK
        says = json.dumps(sorted(issues["issue_id"]))
        wanted.append(_Feedback(path, says, write, f"{len(issues)} issue(s), files not read"))
    return wanted


SUMMARY_DESCRIPTION = (
    "The coordinator's morning page. Its overview says, without opening anything:"
    " partner-periods by status (the same statuses as the partition view of `submission`,"
    " the report and `submission_completeness`), the partner-periods that need action with"
    " the reason and the days since the deadline, the open issues per partner, the"
    " indicators behind plan (pro rata: halfway through the project, half the target),"
    " and where the report and the feedback workbooks are."
)


@dg.asset(
    group_name="outputs",
    kinds={"markdown"},
    description=SUMMARY_DESCRIPTION,
    deps=PUBLISHED_FIRST,
)
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
            c: [figure(v, u) for v, u in zip(behind[c], behind["unit"], strict=True)]
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
    description="A feedback workbook per partner-period with open issues (its own, and those"
    " found across partners such as probable duplicate events) or sent back by the"
    " coordinator, opening with the outcome of its workbook; and one per partner whose"
    f" folder holds files of no period (<partner>/{FOLDER_FEEDBACK}).",
    deps=PUBLISHED_FIRST,
)
def partner_feedback(
    paths: ClusterixPaths, submissions: pd.DataFrame, validation_issues: pd.DataFrame
) -> dg.MaterializeResult:
    folder = paths.assets / FEEDBACK_DIR
    manifest_path = folder / ".written.json"
    written = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    today = dt.datetime.now(dt.UTC).date()
    statuses = submission_statuses(submissions, reference(), today, validation_issues)
    open_issues = validation_issues[validation_issues["is_open"].astype(bool)]
    wanted = _wanted_feedback(folder, statuses, open_issues, Ledger.read(paths.state), today)
    manifest, listed, rewritten = {}, [], 0
    for feedback in wanted:
        name = feedback.path.relative_to(paths.assets).as_posix()
        listed.append(f"- `{name}`: {feedback.line}")
        manifest[name] = feedback.says
        if written.get(name) == feedback.says and feedback.path.exists():
            continue  # already written with this very content (its date stays)
        feedback.write(feedback.path)
        rewritten += 1
    for stale in set(folder.glob("*/*.xlsx")) - {f.path for f in wanted}:
        stale.unlink()
    if manifest != written:
        text = json.dumps(manifest, indent=1, sort_keys=True)
        write_atomic(manifest_path, lambda tmp: tmp.write_text(text, "utf-8"))
    return dg.MaterializeResult(
        metadata={
            "workbooks": dg.MetadataValue.int(len(listed)),
            "written this run": dg.MetadataValue.int(rewritten),
            "files": dg.MetadataValue.md("\n".join(listed) or "_no feedback needed_"),
        }
    )
