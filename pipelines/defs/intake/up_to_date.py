"""Whether a run has anything to do: no work when nothing changed.

A run whose drop folder, reference data, review ledger and code are those of the last
published set would rebuild the same tables. The ingest step records what it built from
(the fingerprints of the reference data, the review ledger and the code, and its run
id); when the published manifest names that run and nothing has changed since, the
steps withhold their outputs and everything downstream is skipped: no table, report or
snapshot is rewritten. Setting the run tag ``clusterix/rebuild`` forces the work.

Such a run leaves the UI as it was: it is tagged ``clusterix/outcome: nothing new`` in
the Runs list, and the checks the skipped steps would have evaluated are re-stated from
their last evaluation (the tables they checked are still the published ones), so no
check shows "Skipped".
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from pipelines.core.intake.discovery import Candidate, discover
from pipelines.core.intake.ingest import fingerprint
from pipelines.core.outputs.manifest import code_version, current_manifest
from pipelines.core.reference.loader import reference
from pipelines.core.state.review import ledger_path
from pipelines.core.state.store import ASSET_STATE_FORMAT
from pipelines.defs.intake.check_targets import targeting
from pipelines.platform.files import write_atomic

REBUILD_TAG = "clusterix/rebuild"
OUTCOME_TAG = "clusterix/outcome"
NOTHING_NEW = "nothing new"
_HISTORY = 5  # evaluations looked at per check: this run's planned one, then earlier ones
MARKER = "built_from.json"
DIGEST_CHARS = 16


def inputs_fingerprint(state_dir: Path) -> str:
    """The project folder in use (bundled or ``CLUSTERIX_PROJECT_DIR``), the code, and
    the review ledger (a decision changes the tables without a new file)."""
    folder = reference().folder
    digest = hashlib.sha256(code_version().encode())
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    ledger = ledger_path(state_dir)
    if ledger.exists():
        digest.update(b"review ledger\0" + ledger.read_bytes())
    return digest.hexdigest()


def _marker(state_dir: Path) -> Path:
    return state_dir / ASSET_STATE_FORMAT / MARKER


def published_and_current(context: dg.AssetExecutionContext, state_dir: Path, assets: Path) -> bool:
    """True when the published set was built from the same inputs as this run has."""
    if context.run.tags.get(REBUILD_TAG):
        return False
    try:
        built = json.loads(_marker(state_dir).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return False
    manifest = current_manifest(assets)
    return (
        manifest is not None
        and manifest.get("run_id") == built.get("run_id")
        and built.get("inputs") == inputs_fingerprint(state_dir)
    )


def content_digest(candidates: Iterable[Candidate]) -> str:
    """A short digest of every file's name and SHA-256: the drop folder's content."""
    lines = "\n".join(f"{c.file}:{fingerprint(c)}" for c in candidates)
    return hashlib.sha256(lines.encode()).hexdigest()[:DIGEST_CHARS]


def record_build(
    context: dg.AssetExecutionContext, state_dir: Path, found: Iterable[Candidate]
) -> None:
    """Remember that this run builds the tables from the current inputs: the reference
    data, code and reviews, the drop folder's content, and the day (statuses move as
    deadlines pass)."""
    built = {
        "run_id": context.run.run_id,
        "inputs": inputs_fingerprint(state_dir),
        "folder": content_digest(found),
        "on": _today().isoformat(),
    }
    text = json.dumps(built)
    write_atomic(_marker(state_dir), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def nothing_new_since_build(state_dir: Path, assets: Path, raw: Path) -> bool:
    """True when a run now would find nothing new: the published set was built from
    the drop folder's present content and the same reference data, code and reviews,
    and no deadline has passed since (a passing deadline turns not yet due to missing).
    """
    try:
        built = json.loads(_marker(state_dir).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return False
    manifest = current_manifest(assets)
    if manifest is None or manifest.get("run_id") != built.get("run_id") or "on" not in built:
        return False
    built_on, today = dt.date.fromisoformat(built["on"]), _today()
    ref = reference()
    deadline_passed = any(built_on <= ref.period(p)["deadline"] < today for p in ref.period_ids)
    return (
        not deadline_passed
        and built.get("inputs") == inputs_fingerprint(state_dir)
        and built.get("folder") == content_digest(discover(raw, reference()))
    )


def _last_evaluation(
    context: dg.AssetExecutionContext, key: dg.AssetCheckKey
) -> tuple[str, dg.AssetCheckEvaluation] | None:
    """The latest evaluation of a check by an earlier run, with that run's id; None when
    this run evaluated it already (the reference tables' step runs in every run)."""
    history = context.instance.event_log_storage.get_asset_check_execution_history(
        key, limit=_HISTORY
    )
    # A planned record's event is the plan, not an evaluation.
    done = next((r for r in history if isinstance(r.evaluation, dg.AssetCheckEvaluation)), None)
    if done is None or done.run_id == context.run.run_id:
        return None
    return done.run_id, done.evaluation


def nothing_new(context: dg.AssetExecutionContext) -> None:
    """Mark this run as one that found nothing new, and re-state every unpartitioned
    check's last evaluation (partition checks are reported when they change)."""
    context.instance.add_run_tags(context.run.run_id, {OUTCOME_TAG: NOTHING_NEW})
    graph = context.job_def.asset_layer.asset_graph  # the checks this run planned
    for key in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        if graph.get(key.asset_key).partitions_def is not None:
            continue
        found = _last_evaluation(context, key)
        if found is None:
            continue
        run_id, last = found
        restated = dg.AssetCheckEvaluation(
            asset_key=last.asset_key,
            check_name=last.check_name,
            passed=last.passed,
            metadata=last.metadata,
            severity=last.severity,
            description=(
                f"Nothing new since run {run_id[:8]}: its result stands, the tables it"
                " checked are still the published ones."
            ),
        )
        # It is about the table as published, the asset's latest materialization.
        published = context.instance.fetch_materializations(key.asset_key, limit=1).records
        context.log_event(targeting(restated, published[0] if published else None))
