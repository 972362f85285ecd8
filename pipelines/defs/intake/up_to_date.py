"""Whether a run has anything to do: no work when nothing changed.

A run whose drop folder, reference data, review ledger and code are those of the last
published set would rebuild the same tables. The ingest step records what it built from
(the fingerprints of the reference data, the review ledger and the code, and its run
id); when the published manifest names that run and nothing has changed since, the
steps withhold their outputs and everything downstream is skipped: no table, report or
snapshot is rewritten. Setting the run tag ``clusterix/rebuild`` forces the work.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from pipelines.core.outputs.manifest import REFERENCE_DATA, code_version, current_manifest
from pipelines.core.outputs.parquet import write_atomic
from pipelines.core.state.review import ledger_path
from pipelines.core.state.store import ASSET_STATE_FORMAT
from pipelines.platform import settings as config

REBUILD_TAG = "clusterix/rebuild"
MARKER = "built_from.json"


def _inputs_fingerprint(state_dir: Path) -> str:
    """The reference data in use (bundled or ``CLUSTERIX_REFERENCE_DIR``), the code, and
    the review ledger (a decision changes the tables without a new file)."""
    folder = config.reference_dir() or REFERENCE_DATA
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
        and built.get("inputs") == _inputs_fingerprint(state_dir)
    )


def record_build(context: dg.AssetExecutionContext, state_dir: Path) -> None:
    """Remember that this run builds the tables from the current inputs."""
    text = json.dumps({"run_id": context.run.run_id, "inputs": _inputs_fingerprint(state_dir)})
    write_atomic(_marker(state_dir), lambda tmp: tmp.write_text(text, encoding="utf-8"))
