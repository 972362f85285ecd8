"""The ``clusterix`` command: run the pipeline, review submissions, prune old runs, write a
template, regenerate samples, check a project folder."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

from pipelines.platform.settings import PROJECT_DIR_ENV, settings
from pipelines.platform.storage import is_remote


def _template(args: argparse.Namespace) -> int:
    from pipelines.core.outputs.template import TemplateError, write_template

    out = Path(args.output or f"{args.partner}_{args.period}.xlsx")
    try:
        write_template(args.partner, args.period, out)
    except TemplateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote the {args.period} workbook for {args.partner} to {out}")
    return 0


def _check_project(args: argparse.Namespace) -> int:
    from pipelines.app.project_check import summary
    from pipelines.core.reference.loader import ReferenceDataError, load_reference

    try:
        ref = load_reference(Path(args.folder).resolve())
    except ReferenceDataError as exc:
        return _folder_problems(exc, args.folder)
    print("\n".join(summary(ref)))
    return 0


def _folder_problems(exc: Exception, folder: str | Path) -> int:
    """A broken project folder's problems, one per line with no traceback; exit 1."""
    heading, *problems = str(exc).splitlines()
    if not problems:  # the folder itself is missing
        print(f"error: {heading}", file=sys.stderr)
        return 1
    print(f"error: {heading.rstrip(':')} has {len(problems)} problem(s):", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    print(
        f"Fix them and run `clusterix check-project {folder}` again"
        " (docs/new-project.md explains each file).",
        file=sys.stderr,
    )
    return 1


def _sample(args: argparse.Namespace) -> int:
    from pipelines.core.reference.loader import reference
    from pipelines.demo.fit import SamplePlanError, check_plan
    from pipelines.demo.sample import write_samples

    try:  # before an S3 drop folder is pulled (write_samples checks again for its callers)
        check_plan(reference())
    except SamplePlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    location = args.raw_dir or settings().raw
    if is_remote(location):
        from pipelines.platform.storage import pull, push, working_copy

        copy = working_copy(location, "sample")
        pull(location, copy)
        written = write_samples(copy)
        push(location, copy)
    else:
        location = str(Path(location).resolve())
        written = write_samples(Path(location))
    print(f"Wrote {len(written)} synthetic sample files under {location}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from pipelines.app.run import run_pipeline

    return run_pipeline(wait=0 if args.no_wait else args.wait)


_NEXT_STEP = {
    "approve": "{pair} is locked: a later workbook for it is refused until you reopen it.",
    "send_back": "{pair} shows 'sent back', with your note in the partner's feedback workbook,"
    " until a new version is in use.",
    "reopen": "{pair} is unlocked: a workbook the lock refused is read at the next run.",
}


def _state_synced(command: str) -> contextlib.AbstractContextManager:
    """For a state directory on S3: the writer lock, a pulled working copy, and a push of
    the ledger afterwards. A local one needs neither (the ledger has its own file lock)."""
    if not is_remote(settings().state):
        return contextlib.nullcontext()
    from pipelines.platform.sync import synced

    return synced(
        settings(),
        command=command,
        parts=("state",),
        say=lambda message: print(message, file=sys.stderr, flush=True),
    )


def _one_line_errors(command: Callable[[argparse.Namespace], int]):
    """Object storage, lock or database failures of a command as one line and exit 1."""

    @functools.wraps(command)
    def guarded(args: argparse.Namespace) -> int:
        from pipelines.platform.failures import OperationalError, operational_error
        from pipelines.platform.writer_lock import WriterBusy

        try:
            return command(args)
        except (OperationalError, WriterBusy) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:
            message = operational_error(exc)  # an unreachable database, a full disk
            if message is None:
                raise
            print(f"error: {message}", file=sys.stderr)
            return 1

    return guarded


@_one_line_errors
def _review(args: argparse.Namespace) -> int:
    with _state_synced("clusterix review"):
        return _record_review(args)


def _record_review(args: argparse.Namespace) -> int:
    from pipelines.core.reference.loader import reference
    from pipelines.core.state.review import ReviewError, record

    try:
        entry = record(
            settings().state_dir,
            reference(),
            args.decision,
            args.partner,
            args.period,
            note=args.note,
            by=args.by,
        )
    except ReviewError as exc:
        print(f"error: {exc}; nothing was recorded", file=sys.stderr)
        return 2
    pair = f"{entry.partner_id} {entry.period_id}"
    print(
        f"Recorded: {entry.decision} {pair} (version {entry.sha256[:12]}) by"
        f" {entry.decided_by} at {entry.decided_at}."
    )
    print(_NEXT_STEP[entry.decision].format(pair=pair))
    print(
        "The published tables, report and UI show it after the next run: the sensor"
        " review_decisions_sensor starts one within a minute where the Dagster daemon runs"
        " (make ui, make serve); elsewhere run `clusterix run`."
    )
    return 0


@_one_line_errors
def _review_list(args: argparse.Namespace) -> int:
    with _state_synced("clusterix review list"):
        return _list_reviews(args)


def _list_reviews(args: argparse.Namespace) -> int:
    from pipelines.core.state.review import Ledger
    from pipelines.core.state.store import load_state

    state_dir = settings().state_dir
    ledger = Ledger.read(state_dir)
    shown = [
        d
        for d in ledger.decisions
        if args.partner in (None, d.partner_id) and args.period in (None, d.period_id)
    ]
    if not shown:
        print("No review decisions recorded" + (" for that selection." if args.partner else "."))
        return 0
    print(f"{'when (UTC)':<25} {'by':<14} {'pair':<9} {'decision':<9} {'version':<12}  note")
    for d in shown:
        pair = f"{d.partner_id} {d.period_id}"
        print(
            f"{d.decided_at:<25} {d.decided_by[:14]:<14} {pair:<9} {d.decision:<9}"
            f" {d.sha256[:12]:<12}  {d.note}"
        )
    print()
    for partner_id, period_id in dict.fromkeys(d.key for d in shown):
        current = load_state(state_dir, partner_id, period_id).current_sha256
        print(f"{partner_id} {period_id} now: {ledger.status(partner_id, period_id, current)}")
    return 0


@_one_line_errors
def _prune_runs(args: argparse.Namespace) -> int:
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.platform.retention import prune_runs

    try:
        days = (
            settings().run_retention_days if args.older_than_days is None else args.older_than_days
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    home = os.environ.get("DAGSTER_HOME", "")
    if not home or not Path(home).is_dir():
        print(
            f"error: DAGSTER_HOME ({home or 'not set'}) must name the Dagster instance's"
            " directory, e.g. .dagster_serve for `make serve`",
            file=sys.stderr,
        )
        return 2
    with dg.DagsterInstance.get() as instance:
        report = prune_runs(
            instance,
            datetime.timedelta(days=days),
            check_keys=defs.resolve_asset_graph().asset_check_keys,
            dry_run=args.dry_run,
        )
    for run_id in report.deleted:
        print(f"{'would delete' if report.dry_run else 'deleted'} run {run_id}")
    print(report.summary())
    return 0


def _days(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"a whole number of days (0 or more), not {text!r}")
    return int(text)


def _add_prune_runs(commands: argparse._SubParsersAction) -> None:
    prune = commands.add_parser(
        "prune-runs",
        help="delete old finished Dagster runs that hold nothing the UI shows as latest",
        description="Delete the finished runs of the Dagster instance ($DAGSTER_HOME)"
        " created more than N days ago, except those holding the latest materialisation,"
        " observation, check evaluation or failure of an asset or of a partition:"
        " deleting those would change what the UI shows. Unfinished runs are never"
        " touched. The daemon of `make serve` does the same every week.",
    )
    prune.add_argument(
        "--older-than-days",
        type=_days,
        metavar="N",
        help="age in days (default: CLUSTERIX_RUN_RETENTION_DAYS, else 90)",
    )
    prune.add_argument(
        "--dry-run", action="store_true", help="list what would be deleted, delete nothing"
    )
    prune.set_defaults(func=_prune_runs)


def _whoami() -> str:
    """The login name, as the default for who decides (none in some containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _add_review(commands: argparse._SubParsersAction) -> None:
    review = commands.add_parser(
        "review", help="record a review decision on a partner-period, or list the decisions"
    )
    actions = review.add_subparsers(dest="action", required=True)
    helps = {
        "approve": "approve and lock the version in use",
        "send-back": "send the version in use back to the partner, with a note",
        "reopen": "lift the lock of an approved partner-period",
    }
    for action, text in helps.items():
        parser = actions.add_parser(action, help=text)
        parser.add_argument("partner", help="partner id, e.g. P4")
        parser.add_argument("period", help="reporting period id, e.g. RP07")
        parser.add_argument(
            "--note", default="", help="why (a send-back's note goes to the partner)"
        )
        parser.add_argument("--by", default=_whoami(), help="who decides (default: your login)")
        parser.set_defaults(func=_review, decision=action.replace("-", "_"))
    listing = actions.add_parser("list", help="show the review ledger")
    listing.add_argument("partner", nargs="?", help="only this partner")
    listing.add_argument("period", nargs="?", help="only this period")
    listing.set_defaults(func=_review_list)


def _add_check_project(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check-project",
        help="check a project folder and summarise what it declares",
        description="Read every file of a project folder (project.yaml, partners.yaml,"
        " periods.csv, policy_instruments.csv, event_types.csv, indicators.csv,"
        " countries.csv) as a run would, and list every problem with its file, row and"
        " what to write; or, when there is none, what the pipeline understood."
        " docs/new-project.md explains each file.",
    )
    check.add_argument("folder", metavar="DIR", help="the project folder")
    check.set_defaults(func=_check_project)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clusterix",
        description="Interreg Europe project monitoring pipeline (by default for the"
        " bundled project, CLUSTERIX 2.0).",
    )
    parser.add_argument(
        "--project",
        metavar="DIR",
        help=f"the project folder to use (sets {PROJECT_DIR_ENV} for the command;"
        " default: that variable, else the bundled CLUSTERIX 2.0)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="ingest every workbook in the raw directory and publish all tables"
    )
    run.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="how long to wait for another run writing the same state directory"
        " (default: CLUSTERIX_LOCK_TIMEOUT, else 3600)",
    )
    run.add_argument(
        "--no-wait",
        action="store_true",
        help="exit non-zero at once if another run is writing the state directory",
    )
    run.set_defaults(func=_run)
    _add_review(commands)
    _add_prune_runs(commands)
    _add_check_project(commands)

    template = commands.add_parser(
        "template", help="write a blank workbook pre-filled for a partner and period"
    )
    template.add_argument("partner", help="partner id, e.g. P4")
    template.add_argument("period", help="reporting period id, e.g. RP07")
    template.add_argument("-o", "--output", help="file to write (default PARTNER_PERIOD.xlsx)")
    template.set_defaults(func=_template)

    sample = commands.add_parser("sample", help="regenerate the synthetic demo submissions")
    sample.add_argument("--raw-dir", help="where to write (default: the raw directory)")
    sample.set_defaults(func=_sample)
    return parser


def _use_project(folder: str) -> str | None:
    """Point the command at another project folder before anything reads one.

    The reference data are loaded once per process (``reference()`` is cached), and the
    Dagster definitions read them when first imported, so the variable is set before the
    command runs; a cache filled earlier in this process is emptied. Returns an error
    message when the folder does not exist.
    """
    path = Path(folder).resolve()
    if not path.is_dir():
        return f"project folder {folder} does not exist (--project)"
    os.environ[PROJECT_DIR_ENV] = str(path)
    from pipelines.core.reference.loader import reference

    reference.cache_clear()
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.project is not None:
        problem = _use_project(args.project)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
    try:
        return args.func(args)
    except Exception as exc:
        # Imported here: a command that raised it has loaded the module already, and
        # `clusterix --help` stays free of pandas.
        from pipelines.core.reference.loader import DEFAULT_PROJECT_DIR, ReferenceDataError

        if not isinstance(exc, ReferenceDataError):
            raise
        return _folder_problems(exc, settings().project_dir or DEFAULT_PROJECT_DIR)


if __name__ == "__main__":
    sys.exit(main())
