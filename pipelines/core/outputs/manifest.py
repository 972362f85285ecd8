"""Run-level publication: every run's tables as one immutable, verified set.

A reader must never see half of a run. So the tables of a run are first written
into their own snapshot folder, ``<assets>/history/<run_id>/``, which is never
changed once its ``manifest.json`` exists. Publication then verifies the set, copies
each file over the stable ``<assets>/<table>.parquet`` (each copy atomic) and writes
``<assets>/manifest.json`` last, atomically. That manifest names the snapshot's
files, which never change, so whenever the process is killed it points at a complete
set whose bytes match their SHA-256: the previous run's set until the very last
rename, this run's after it. The stable files are for tools that want a fixed path
and can live with a refresh taking a moment; readers that need one consistent set
read the files the manifest names.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core.metadata.tables import Table
from pipelines.core.outputs.parquet import run_id_of, with_run_id
from pipelines.platform.files import write_atomic

HISTORY_DIR = "history"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
PACKAGE = "clusterix-pipelines"


class PublicationError(RuntimeError):
    """The run's set of tables is not fit to publish; nothing was promoted."""


@dataclass(frozen=True)
class SourceFile:
    """An input the published figures come from, with the SHA-256 of its exact bytes."""

    path: str
    sha256: str
    kind: str


def snapshot_dir(assets: Path, run_id: str) -> Path:
    return assets / HISTORY_DIR / run_id


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_version() -> str:
    """The package version and, in a git checkout, the commit (``+dirty`` if edited)."""
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    root = Path(__file__).resolve().parents[3]
    try:
        commit = _git(root, "rev-parse", "--short=12", "HEAD")
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}+g{commit}{'.dirty' if dirty else ''}"


def _git(root: Path, *args: str) -> str:
    """What a git command prints in the checkout, if there is one (raises otherwise)."""
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=5, check=True
    ).stdout.strip()


def reference_sources(data_dir: Path) -> list[SourceFile]:
    """The project folder's files the run used (the folder in use, not the bundled
    default), each with its SHA-256."""
    return [
        SourceFile(path=f"project/{p.name}", sha256=sha256_of(p), kind="reference")
        for p in sorted(data_dir.iterdir())
        if p.is_file()
    ]


def complete_snapshot(assets: Path, run_id: str, tables: Iterable[Table]) -> list[str]:
    """Carry into the run's snapshot every table this run did not materialise.

    A run may rebuild only some tables (a partition run, a UI selection); the set it
    publishes is still complete: the others are the currently published files,
    re-stamped with this run's id. Returns the names carried over.
    """
    folder = snapshot_dir(assets, run_id)
    carried = []
    for table in tables:
        target = folder / f"{table.name}.parquet"
        if target.exists():
            continue
        stable = assets / f"{table.name}.parquet"
        if not stable.exists():
            raise PublicationError(
                f"table {table.name} was not built by this run and has never been published:"
                " run the whole job once"
            )
        arrow = with_run_id(pq.read_table(stable), run_id)
        write_atomic(target, lambda tmp, a=arrow: pq.write_table(a, tmp, compression="zstd"))
        carried.append(table.name)
    return carried


def _has_columns_of(schema: pa.Schema, table: Table) -> bool:
    """Whether a Parquet file's schema has the table's columns, in order, with its types."""
    expected = table.arrow_schema()
    return [(f.name, f.type) for f in schema] == [(f.name, f.type) for f in expected]


def _verified_entry(assets: Path, run_id: str, table: Table) -> dict[str, object]:
    """Check one snapshot file (readable, this run's, the table's columns and types)."""
    path = snapshot_dir(assets, run_id) / f"{table.name}.parquet"
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise PublicationError(f"{path} is not a readable Parquet file: {exc}") from exc
    if not _has_columns_of(parquet.schema_arrow, table):
        raise PublicationError(f"{path} does not have the columns and types of {table.name}")
    if run_id_of(path) != run_id:
        raise PublicationError(f"{path} was not written by run {run_id}")
    return {
        "path": path.relative_to(assets).as_posix(),
        "stable_path": f"{table.name}.parquet",
        "rows": parquet.metadata.num_rows,
        "sha256": sha256_of(path),
    }


def build_manifest(
    assets: Path,
    run_id: str,
    tables: Iterable[Table],
    sources: Iterable[SourceFile],
    generated_at: dt.datetime | None = None,
) -> dict[str, object]:
    """The manifest of a complete, verified snapshot."""
    moment = generated_at or dt.datetime.now(dt.UTC)
    return {
        "format": MANIFEST_FORMAT,
        "run_id": run_id,
        "generated_at": moment.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "snapshot": snapshot_dir(assets, run_id).relative_to(assets).as_posix(),
        "sources": [
            {"path": s.path, "sha256": s.sha256, "kind": s.kind}
            for s in sorted(sources, key=lambda s: (s.kind, s.path))
        ],
        "tables": {t.name: _verified_entry(assets, run_id, t) for t in tables},
    }


def still_published(assets: Path, folder: Path, tables: Iterable[Table]) -> bool:
    """Whether ``tables`` are published as this code builds them from the project folder
    as it is now: the published set names the same project files (by SHA-256) and code
    version, and each table's stable file has the table's columns and types. Then a run
    need not write them again; the publication carries them into its snapshot."""
    manifest = current_manifest(assets)
    if manifest is None or manifest.get("code_version") != code_version():
        return False
    published = {(s["path"], s["sha256"]) for s in manifest["sources"] if s["kind"] == "reference"}
    if published != {(s.path, s.sha256) for s in reference_sources(folder)}:
        return False
    for table in tables:
        try:
            schema = pq.read_schema(assets / f"{table.name}.parquet")
        except (OSError, ValueError):
            return False
        if not _has_columns_of(schema, table):
            return False
    return True


def _write_json(path: Path, payload: Mapping[str, object]) -> Path:
    text = json.dumps(payload, indent=2, sort_keys=False) + "\n"
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_manifest(path: Path) -> dict | None:
    """A manifest, or None when there is none yet."""
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def current_manifest(assets: Path) -> dict | None:
    """The manifest of the set currently published (``<assets>/manifest.json``)."""
    return read_manifest(assets / MANIFEST)


def mismatches(assets: Path, manifest: Mapping[str, object]) -> list[str]:
    """Files a manifest names that are missing or whose bytes differ (empty: all good)."""
    problems = []
    for name, entry in manifest["tables"].items():
        path = assets / entry["path"]
        if not path.exists():
            problems.append(f"{name}: {entry['path']} is missing")
        elif sha256_of(path) != entry["sha256"]:
            problems.append(f"{name}: {entry['path']} does not match its sha256")
    return problems


def _promote(assets: Path, manifest: Mapping[str, object]) -> None:
    """Copy every snapshot file over its stable path, each copy atomic."""
    for entry in manifest["tables"].values():
        source = assets / entry["path"]
        write_atomic(assets / entry["stable_path"], lambda tmp, s=source: shutil.copyfile(s, tmp))


def snapshots(assets: Path) -> list[tuple[str, dict]]:
    """Complete snapshots (with a manifest), oldest first, as (run_id, manifest)."""
    history = assets / HISTORY_DIR
    found = []
    for folder in history.iterdir() if history.is_dir() else []:
        manifest = read_manifest(folder / MANIFEST) if folder.is_dir() else None
        if manifest is not None:
            found.append((folder.name, manifest))
    return sorted(found, key=lambda item: (item[1]["generated_at"], item[0]))


def prune_snapshots(assets: Path, keep: int | None, current_run_id: str) -> list[str]:
    """Delete the oldest complete snapshots beyond ``keep`` (None keeps all).

    The snapshot the current manifest names is never deleted, whatever ``keep`` says.
    """
    if keep is None:
        return []
    complete = [run_id for run_id, _ in snapshots(assets) if run_id != current_run_id]
    doomed = complete[: max(0, len(complete) - max(keep - 1, 0))]
    for run_id in doomed:
        shutil.rmtree(snapshot_dir(assets, run_id), ignore_errors=True)
    return doomed


def remove_unfinished_snapshots(assets: Path) -> None:
    """Delete every snapshot folder without a manifest: what a killed run left.

    Called only under the writer lock, before a run, when no other run can be writing
    a snapshot; such a folder was never published and no reader lists it.
    """
    history = assets / HISTORY_DIR
    for folder in history.iterdir() if history.is_dir() else []:
        if folder.is_dir() and not (folder / MANIFEST).exists():
            shutil.rmtree(folder, ignore_errors=True)


def _restore_stable_files(assets: Path, run_id: str, published: Mapping | None) -> None:
    """Put back the stable files a run promoted before its publication failed.

    Each stable file carries the run id that wrote it: one of ``run_id`` is copied back
    from the snapshot the published manifest names (never changed), or removed when no
    set names that table.
    """
    previous = {
        e["stable_path"]: e["path"] for e in (published or {"tables": {}})["tables"].values()
    }
    for stable in assets.glob("*.parquet"):
        if run_id_of(stable) != run_id:
            continue
        if stable.name in previous:
            source = assets / previous[stable.name]
            write_atomic(stable, lambda tmp, s=source: shutil.copyfile(s, tmp))
        else:
            stable.unlink()


@contextlib.contextmanager
def published_whole_or_not_at_all(assets: Path, run_id: str) -> Iterator[None]:
    """Around a whole run: nothing of it stays under ``assets`` unless it published.

    Leftovers of a killed run go first. However the run ends, unless
    ``<assets>/manifest.json`` names it, the stable files it promoted (a publication
    that failed half-way) are put back and its own snapshot goes: a run that failed, or
    did not publish at all, leaves the tables and ``history/`` as it found them.
    """
    remove_unfinished_snapshots(assets)
    try:
        yield
    finally:
        published = current_manifest(assets)
        if published is None or published.get("run_id") != run_id:
            _restore_stable_files(assets, run_id, published)
            shutil.rmtree(snapshot_dir(assets, run_id), ignore_errors=True)


def publish_snapshot(
    assets: Path,
    run_id: str,
    tables: Iterable[Table],
    sources: Iterable[SourceFile],
    *,
    after_promotion: Callable[[], None] | None = None,
    keep: int | None = None,
) -> dict[str, object]:
    """Verify the run's snapshot, promote it and name it in ``<assets>/manifest.json``.

    Order matters for a reader and for a crash: the snapshot's own manifest (the set
    is complete and frozen), then the stable files, then ``after_promotion`` (the
    DuckDB file over the stable paths), then the top-level manifest, last.
    """
    tables = list(tables)
    complete_snapshot(assets, run_id, tables)
    manifest = build_manifest(assets, run_id, tables, sources)
    _write_json(snapshot_dir(assets, run_id) / MANIFEST, manifest)
    _promote(assets, manifest)
    if after_promotion is not None:
        after_promotion()
    _write_json(assets / MANIFEST, manifest)
    prune_snapshots(assets, keep, run_id)
    return manifest
