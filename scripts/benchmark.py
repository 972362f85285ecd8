"""Throughput and memory of ``clusterix run`` against a plain read-and-write script.

``make bench`` runs this with no arguments (factors 1 and 10). For every factor N it

1. generates N times the bundled sample: a synthetic reference data directory with
   11 x N partners (partner k copies base partner ((k - 1) % 11) + 1, with its own
   policy instrument) and, for every base workbook ``raw/P<b>/<period>``, one copy per
   partner k written by :func:`pipelines.core.template.write_template` (the
   not-a-spreadsheet flaw is copied as bytes). Generation is not measured, and is
   reused from the work directory when the sample and the factor are unchanged;
2. measures, each in a fresh Python process (the reference data are cached per process
   and the Dagster definitions are built at import), the wall time and peak RSS of

   - ``clusterix run`` on a fresh assets directory and a fresh ``DAGSTER_HOME``,
   - ``clusterix run`` again on the unchanged files (incremental),
   - a plain script: every workbook read with ``pandas.read_excel(engine="calamine")``
     (all sheets, unreadable files skipped) and each sheet type concatenated to one
     Parquet file with pyarrow;

3. prints a table, whether the pipeline is within ``--goal`` times the plain script
   (2x by default), and writes every figure to ``<workdir>/benchmark.json``.

``--profile`` adds a cProfile'd pipeline run at the largest factor and prints where the
time goes. This is a benchmark that prints figures; it never fails on a slow result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Bump when the generated files would change for the same inputs.
GENERATOR_VERSION = 1
BASE_PARTNERS = 11
WORKBOOK_SUFFIXES = (".xlsx", ".ods")
GUIDE_SHEET = "Guide"
COVER_SHEET = "Cover"
RECORD_SHEETS = ("Events", "GoodPractices", "PolicyMeasures", "Collaborations")
RAW_ENV, ASSETS_ENV, REFERENCE_ENV = (
    "CLUSTERIX_RAW_DIR",
    "CLUSTERIX_ASSETS_DIR",
    "CLUSTERIX_REFERENCE_DIR",
)
DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "clusterix-bench"
MIB = 1024 * 1024


# --- synthetic reference data ---------------------------------------------------------


def synthetic_partner(k: int) -> int:
    """The base partner (1..11) synthetic partner k copies."""
    return (k - 1) % BASE_PARTNERS + 1


def write_reference(base_dir: Path, out_dir: Path, factor: int) -> None:
    """Copy the reference data, with 11 x factor partners and their policy instruments."""
    import csv

    import yaml

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    for path in base_dir.iterdir():
        if path.is_file():
            shutil.copy2(path, out_dir / path.name)

    base_partners = {
        e["partner_id"]: e for e in yaml.safe_load((base_dir / "partners.yaml").read_text("utf-8"))
    }
    partners = []
    for k in range(1, BASE_PARTNERS * factor + 1):
        base = base_partners[f"P{synthetic_partner(k)}"]
        partners.append(
            {
                "partner_id": f"P{k}",
                "country": base["country"],
                "role": base["role"],
                "in_extended_phase": base["in_extended_phase"],
                "names": [{"name": f"Synthetic partner {k}"}],
            }
        )
    (out_dir / "partners.yaml").write_text(
        "# Synthetic partners written by scripts/benchmark.py\n"
        + yaml.safe_dump(partners, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )

    with (base_dir / "policy_instruments.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        instruments = {row["partner_id"]: row for row in reader}
    with (out_dir / "policy_instruments.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for k in range(1, BASE_PARTNERS * factor + 1):
            b = synthetic_partner(k)
            base = instruments.get(f"P{b}")
            if base is None:  # P5, the academic partner, has no policy instrument
                continue
            writer.writerow(
                {
                    **base,
                    "policy_instrument_id": f"PI-P{k}",
                    "partner_id": f"P{k}",
                    "name": base["name"].replace(f"P{b}", f"P{k}") if k != b else base["name"],
                }
            )


# --- synthetic workbooks ----------------------------------------------------------------


def _plain(value: object) -> object:
    """A cell value as write_template takes it: None, bool, str, int, float or a date."""
    import pandas as pd

    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def read_base(path: Path) -> tuple[dict[str, object], dict[str, list[dict]]] | None:
    """(Cover values, records per sheet) of a sample workbook; None when unreadable."""
    import pandas as pd

    from pipelines.core.tables import COVER_FIELDS
    from pipelines.core.tables import RECORD_SHEETS as SHEETS

    try:
        sheets = pd.read_excel(path, sheet_name=None, engine="calamine")
    except Exception:  # the flawed sample that is not a spreadsheet
        return None
    cover_names = {f.name for f in COVER_FIELDS}
    cover: dict[str, object] = {}
    frame = sheets.get(COVER_SHEET)
    if frame is not None:
        for name, value in zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True):
            name = _plain(name)
            if isinstance(name, str) and name.strip() in cover_names:
                cover[name.strip()] = _plain(value)
    records: dict[str, list[dict]] = {}
    for sheet in SHEETS:
        frame = sheets.get(sheet.name)
        if frame is None:
            continue
        known = [c for c in frame.columns if c in sheet.column_names]
        rows = []
        for row in frame[known].to_dict("records"):
            clean = {k: _plain(v) for k, v in row.items()}
            clean = {k: v for k, v in clean.items() if v is not None}
            if clean:
                rows.append(clean)
        records[sheet.name] = rows
    return cover, records


def _remapped(
    cover: dict[str, object], records: dict[str, list[dict]], base: int, k: int
) -> tuple[dict[str, object], dict[str, list[dict]]]:
    """The base partner's workbook as partner k's: its folder id and its own instrument."""
    if k == base:
        return cover, records
    cover = dict(cover)
    if cover.get("partner_id") == f"P{base}":  # a deliberately wrong id stays wrong
        cover["partner_id"] = f"P{k}"
    old, new = f"PI-P{base}", f"PI-P{k}"
    out = {}
    for sheet, rows in records.items():
        out[sheet] = [
            {**r, "policy_instrument_id": new} if r.get("policy_instrument_id") == old else r
            for r in rows
        ]
    return cover, out


def _generate_one(task: tuple[str, str, str, int]) -> dict[str, object]:
    """Write every copy of one base workbook; returns what was written."""
    base_file, raw_out, reference_dir, factor = task
    if os.environ.get(REFERENCE_ENV) != reference_dir:
        os.environ[REFERENCE_ENV] = reference_dir
        from pipelines.core.reference import reference

        reference.cache_clear()
    from pipelines.core.template import write_template

    source = Path(base_file)
    base = int(source.parent.name.removeprefix("P"))
    period = source.stem
    targets = [base + BASE_PARTNERS * i for i in range(factor)]
    content = read_base(source)
    if content is None:
        data = source.read_bytes()
        for k in targets:
            target = Path(raw_out) / f"P{k}" / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return {"file": f"P{base}/{source.name}", "readable": False, "rows": 0, "copies": factor}
    cover, records = content
    for k in targets:
        cover_k, records_k = _remapped(cover, records, base, k)
        write_template(
            f"P{k}", period, Path(raw_out) / f"P{k}" / source.name, records=records_k, cover=cover_k
        )
    rows = sum(len(r) for r in records.values())
    return {"file": f"P{base}/{source.name}", "readable": True, "rows": rows, "copies": factor}


def base_workbooks(raw: Path) -> list[Path]:
    return sorted(
        p
        for p in raw.glob("P*/*")
        if p.is_file() and p.suffix.lower() in WORKBOOK_SUFFIXES and p.parent.name[1:].isdigit()
    )


def _fingerprint(files: list[Path], reference_dir: Path, factor: int) -> str:
    """What the generated files depend on: the sample, the reference data, the sheets."""
    from pipelines.core.tables import RECORD_SHEETS as SHEETS
    from pipelines.core.tables import TEMPLATE_VERSION

    digest = hashlib.sha256(f"v{GENERATOR_VERSION} x{factor} t{TEMPLATE_VERSION}".encode())
    for sheet in SHEETS:
        digest.update(f"{sheet.name}:{','.join(sheet.column_names)}".encode())
    for path in [*files, *sorted(reference_dir.iterdir())]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def generate(factor: int, base_raw: Path, base_reference: Path, out: Path, jobs: int) -> dict:
    """The synthetic reference and raw directories for a factor (reused when unchanged)."""
    files = base_workbooks(base_raw)
    manifest_path = out / "generated.json"
    fingerprint = _fingerprint(files, base_reference, factor)
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("fingerprint") == fingerprint:
            print(f"  x{factor}: reusing {manifest['workbooks']} generated workbooks in {out}")
            return manifest
    reference_dir, raw_dir = out / "reference", out / "raw"
    for path in (raw_dir, manifest_path):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    write_reference(base_reference, reference_dir, factor)
    tasks = [(str(f), str(raw_dir), str(reference_dir), factor) for f in files]
    started = time.perf_counter()
    print(f"  x{factor}: generating {len(files) * factor} workbooks with {jobs} process(es)...")
    if jobs > 1:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            written = list(pool.map(_generate_one, tasks))
    else:
        written = [_generate_one(t) for t in tasks]
    seconds = time.perf_counter() - started
    manifest = {
        "fingerprint": fingerprint,
        "factor": factor,
        "partners": BASE_PARTNERS * factor,
        "workbooks": sum(w["copies"] for w in written),
        "readable_workbooks": sum(w["copies"] for w in written if w["readable"]),
        "rows": sum(w["rows"] * w["copies"] for w in written),
        "bytes": sum(p.stat().st_size for p in raw_dir.rglob("*") if p.is_file()),
        "generation_seconds": round(seconds, 1),
        "raw_dir": str(raw_dir),
        "reference_dir": str(reference_dir),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    print(f"  x{factor}: generated {manifest['workbooks']} workbooks in {seconds:.0f} s")
    return manifest


# --- the measured children --------------------------------------------------------------


def _max_rss_bytes() -> int:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return max(own, children) * scale


def child_pipeline(stats: dict) -> int:
    """``clusterix run``, timing the import of the definitions apart from the run.

    ``pipelines.run.run_everything`` is wrapped (in this child only) to keep the run's
    result, from which the seconds of every Dagster step are taken.
    """
    started = time.perf_counter()
    import pipelines.definitions  # builds the Dagster definitions
    import pipelines.run

    stats["import_seconds"] = time.perf_counter() - started
    from pipelines.cli import main

    original = pipelines.run.run_everything

    def run_everything(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)
        steps: dict[str, float] = defaultdict(float)
        events: dict[str, int] = defaultdict(int)
        for event in result.all_events:
            events[event.event_type_value] += 1
            if event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key:
                duration = getattr(event.event_specific_data, "duration_ms", None) or 0
                steps[event.step_key] += duration / 1000
        stats["steps"] = dict(sorted(steps.items(), key=lambda item: -item[1]))
        stats["dagster_events"] = dict(sorted(events.items(), key=lambda item: -item[1]))
        return result

    pipelines.run.run_everything = run_everything
    started = time.perf_counter()
    try:
        code = main(["run"])
    finally:
        pipelines.run.run_everything = original
    stats["run_seconds"] = time.perf_counter() - started
    return code


def plain_convert(raw: Path, out: Path) -> dict[str, int]:
    """The plain script: read every workbook, write each sheet type to one Parquet file."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    frames: dict[str, list[pd.DataFrame]] = defaultdict(list)
    counts = {"workbooks": 0, "skipped": 0, "rows": 0}
    for path in sorted(raw.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in WORKBOOK_SUFFIXES:
            continue
        try:
            sheets = pd.read_excel(path, sheet_name=None, engine="calamine")
        except Exception:  # unreadable files are skipped
            counts["skipped"] += 1
            continue
        counts["workbooks"] += 1
        for name, frame in sheets.items():
            if name == GUIDE_SHEET:
                continue
            if name in RECORD_SHEETS:
                counts["rows"] += len(frame)
            frames[name].append(frame.assign(source_file=str(path.relative_to(raw))))
    out.mkdir(parents=True, exist_ok=True)
    for name, parts in frames.items():
        frame = pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)
        columns = {}
        for column in frame.columns:
            try:
                columns[column] = pa.array(frame[column], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: keep them as text
                text = frame[column].map(lambda v: None if pd.isna(v) else str(v))
                columns[column] = pa.array(text, type=pa.string())
        pq.write_table(pa.table(columns), out / f"{name}.parquet")
    return counts


def child_main(kind: str, stats_file: Path, profile_file: Path | None) -> int:
    stats: dict[str, object] = {"kind": kind}
    profiler = None
    if profile_file is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        if kind == "pipeline":
            code = child_pipeline(stats)
        else:
            import pandas  # noqa: F401 - imports are start-up, as for the pipeline
            import pyarrow.parquet  # noqa: F401

            started = time.perf_counter()
            stats.update(plain_convert(Path(os.environ[RAW_ENV]), Path(os.environ[ASSETS_ENV])))
            stats["run_seconds"] = time.perf_counter() - started
            code = 0
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile_file))
    stats["exit_code"] = code
    stats["max_rss_bytes"] = _max_rss_bytes()
    stats_file.write_text(json.dumps(stats))
    return code


def measure(
    kind: str, env: dict[str, str], log: Path, profile: Path | None = None, timeout: float = 0
) -> dict:
    """Run one child in a fresh interpreter; wall time includes start-up and imports."""
    stats_file = log.with_suffix(".stats.json")
    stats_file.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind]
    command += ["--stats", str(stats_file)]
    if profile is not None:
        command += ["--profile-out", str(profile)]
    timed_out = False
    with log.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            returncode = proc.wait(timeout=timeout or None)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)  # the child we started, and its own children
            returncode = proc.wait()
        wall = time.perf_counter() - started
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    stats.update(wall_seconds=wall, returncode=returncode, timed_out=timed_out, log=str(log))
    if timed_out:
        print(f"    {kind} stopped after the {timeout:g} s timeout (--timeout)")
    elif returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print(f"    {kind} exited with {returncode}; last lines of {log}:")
        print("\n".join(f"      {line}" for line in tail))
    return stats


def _child_env(reference_dir: str, raw_dir: str, assets: Path, home: Path | None) -> dict:
    env = dict(os.environ)
    env.update({REFERENCE_ENV: reference_dir, RAW_ENV: raw_dir, ASSETS_ENV: str(assets)})
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        env["DAGSTER_HOME"] = str(home)
    else:  # clusterix run then uses an ephemeral, in-memory Dagster instance
        env.pop("DAGSTER_HOME", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _submission_counts(assets: Path) -> dict[str, int]:
    """Accepted and rejected workbook versions, as the pipeline published them."""
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(assets / "submissions.parquet", columns=["status"])
    except Exception:  # a figure we show when we can
        return {}
    counts: dict[str, int] = defaultdict(int)
    for status in table.column("status").to_pylist():
        counts[str(status)] += 1
    return dict(counts)


# --- the profile ------------------------------------------------------------------------


def _area(filename: str) -> str:
    """Where a profiled function lives: a project module or a third-party package."""
    if filename.startswith(("~", "<")):
        return "builtins / C extensions"
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    try:
        return str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        return "stdlib"


# Dagster internals worth naming when they show up (cumulative time).
DAGSTER_HOTSPOTS = {
    "store_event": "event log write (one per Dagster event)",
    "get_partition_keys_in_range": "partition key range expanded",
    "add_asset_metadata": "per-partition metadata",
    "report_dagster_event": "events reported outside steps (e.g. materialization planned)",
    "create_execution_plan": "execution plan",
    "get_partition_keys": "partition keys listed",
}


def summarise_profile(profile: Path, top: int = 25) -> dict:
    """Own time per module or package, the top functions, project code and Dagster hotspots."""
    import pstats

    stats = pstats.Stats(str(profile))
    entries = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]
    by_area: dict[str, float] = defaultdict(float)
    rows, project, dagster = [], [], []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in entries.items():
        area = _area(filename)
        by_area[area] += tottime
        where = name if filename.startswith("~") else f"{_short(filename)}:{line}:{name}"
        row = {"function": where, "calls": calls, "own": tottime, "cumulative": cumtime}
        rows.append(row)
        if area.startswith(("pipelines/", "scripts/")) and "child_" not in name:
            project.append(row)
        elif area == "dagster" and name in DAGSTER_HOTSPOTS:
            dagster.append({**row, "what": DAGSTER_HOTSPOTS[name]})
    return {
        "total_seconds": total,
        "by_area": sorted(
            ({"area": a, "own_seconds": s, "share": s / total} for a, s in by_area.items()),
            key=lambda r: -r["own_seconds"],
        )[:top],
        "by_own_time": sorted(rows, key=lambda r: -r["own"])[:top],
        "project_by_cumulative_time": sorted(project, key=lambda r: -r["cumulative"])[: top + 10],
        "dagster_hotspots": sorted(dagster, key=lambda r: -r["cumulative"]),
    }


def _short(filename: str) -> str:
    parts = Path(filename).parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    try:
        return str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        return "/".join(parts[-2:])


def print_profile(label: str, summary: dict) -> None:
    total = summary["total_seconds"]
    print(f"\nProfile of {label} (cProfile, {total:.1f} s profiled; shares of that)")
    print("\n  Own time by module / package:")
    for row in summary["by_area"][:12]:
        print(f"    {row['share']:6.1%} {row['own_seconds']:8.1f} s  {row['area']}")
    print("\n  Top functions by own time:")
    for row in summary["by_own_time"][:15]:
        share = row["own"] / total
        print(f"    {share:6.1%} {row['own']:8.1f} s {row['calls']:>10}  {row['function']}")
    print("\n  Dagster internals (cumulative):")
    for row in summary["dagster_hotspots"]:
        share = row["cumulative"] / total
        print(
            f"    {share:6.1%} {row['cumulative']:8.1f} s {row['calls']:>10}  {row['function']}"
            f"  [{row['what']}]"
        )
    print("\n  Project code (cumulative, nested calls counted in each caller):")
    for row in summary["project_by_cumulative_time"][:30]:
        share = row["cumulative"] / total
        print(f"    {share:6.1%} {row['cumulative']:8.1f} s {row['calls']:>10}  {row['function']}")


# --- the benchmark ----------------------------------------------------------------------


def bench_factor(factor: int, args: argparse.Namespace, manifest: dict, root: Path) -> dict:
    runs = root / "runs"
    raw, reference_dir = manifest["raw_dir"], manifest["reference_dir"]
    result: dict[str, object] = {
        "factor": factor,
        "workbooks": manifest["workbooks"],
        "readable_workbooks": manifest["readable_workbooks"],
        "rows": manifest["rows"],
        "raw_bytes": manifest["bytes"],
        "generation_seconds": manifest["generation_seconds"],
    }
    assets, home = _fresh(runs / "assets"), _fresh(runs / "dagster_home")
    env = _child_env(reference_dir, raw, assets, home)
    print(f"  x{factor}: clusterix run ({manifest['workbooks']} workbooks)...", flush=True)
    pipeline = measure("pipeline", env, runs / "pipeline.log", timeout=args.timeout)
    pipeline["submissions"] = _submission_counts(assets)
    result["pipeline"] = pipeline
    if not args.no_incremental and pipeline["returncode"] == 0:
        print(f"  x{factor}: clusterix run again, nothing changed...", flush=True)
        result["incremental"] = measure(
            "pipeline", env, runs / "incremental.log", timeout=args.timeout
        )
    if args.ephemeral:
        print(f"  x{factor}: clusterix run with an in-memory Dagster instance...", flush=True)
        memory_assets = _fresh(runs / "ephemeral_assets")
        result["ephemeral"] = measure(
            "pipeline",
            _child_env(reference_dir, raw, memory_assets, None),
            runs / "ephemeral.log",
            timeout=args.timeout,
        )
    plain_out = _fresh(runs / "plain")
    print(f"  x{factor}: plain read_excel + Parquet...", flush=True)
    result["plain"] = measure(
        "plain",
        _child_env(reference_dir, raw, plain_out, None),
        runs / "plain.log",
        timeout=args.timeout,
    )
    plain_wall = result["plain"]["wall_seconds"]
    ratio = pipeline["wall_seconds"] / plain_wall
    result["ratio"] = ratio
    result["goal_met"] = bool(pipeline["returncode"] == 0 and ratio <= args.goal)
    if result.get("incremental"):
        result["incremental_ratio"] = result["incremental"]["wall_seconds"] / plain_wall
    return result


def _mib(stats: dict) -> str:
    rss = stats.get("max_rss_bytes")
    return f"{rss / MIB:,.0f}" if rss else "?"


def _fmt(value: object, spec: str, width: int) -> str:
    return f"{value:{spec}}".rjust(width) if isinstance(value, int | float) else "-".rjust(width)


def _status(stats: dict) -> str:
    if not stats:
        return f"{'-':>7}"
    return f"{'timeout' if stats.get('timed_out') else 'FAIL':>7}"


def print_table(results: list[dict], goal: float) -> None:
    header = (
        f"{'factor':>6} {'workbooks':>9} {'rows':>8} | {'pipeline s':>10} {'wb/s':>7}"
        f" {'rows/s':>8} {'peak MiB':>8} | {'again s':>7} | {'plain s':>7} {'wb/s':>7}"
        f" {'rows/s':>8} {'peak MiB':>8} | {'ratio':>6} {'goal':>5}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        p, q, inc = r["pipeline"], r["plain"], r.get("incremental") or {}
        wall, plain = p["wall_seconds"], q["wall_seconds"]
        goal_text = "yes" if r["goal_met"] else "NO"
        if p["returncode"] != 0:
            goal_text = ">" if p.get("timed_out") else "FAIL"
        again = inc.get("wall_seconds") if inc.get("returncode") == 0 else None
        print(
            f"{r['factor']:>6} {r['workbooks']:>9,} {r['rows']:>8,} |"
            f" {wall:>10.1f} {r['workbooks'] / wall:>7.1f} {r['rows'] / wall:>8,.0f}"
            f" {_mib(p):>8} | {_status(inc) if again is None else _fmt(again, '.1f', 7)} |"
            f" {plain:>7.1f} {r['workbooks'] / plain:>7.1f} {r['rows'] / plain:>8,.0f}"
            f" {_mib(q):>8} | {r['ratio']:>5.2f}x {goal_text:>5}"
        )
    print(
        f"\nGoal: clusterix run within {goal:g}x the plain script (ratio = pipeline s / plain s;"
        "\n'>' under goal: the run was stopped at --timeout, so the ratio is a lower bound)."
        "\nWall times are whole fresh processes (start-up and imports included); 'again s' is a"
        "\nsecond clusterix run on the unchanged files; rows are the record rows of the four"
        "\nrecord sheets; peak MiB is the child's maximum resident set size."
    )

    print("\nWhere the wall time goes (seconds)")
    header = (
        f"{'factor':>6} | {'start+import':>12} {'run':>7} {'submission':>10} {'other steps':>11}"
        f" {'run-steps':>9} {'in-memory':>9} | {'start+import':>12} {'work':>7} |"
        f" {'run/work':>8}"
    )
    print(f"{'':>6} | {'clusterix run':<63}| {'plain script':<20}|")
    print(header)
    print("-" * len(header))
    for r in results:
        p, q = r["pipeline"], r["plain"]
        run, work = p.get("run_seconds"), q.get("run_seconds")
        steps = p.get("steps") or {}
        ingest = steps.get("submission")
        other = sum(v for k, v in steps.items() if k != "submission") if steps else None
        dagster = run - sum(steps.values()) if run is not None and steps else None
        p_start = p["wall_seconds"] - run if run is not None else None
        q_start = q["wall_seconds"] - work if work is not None else None
        ratio = run / work if run and work else None
        memory = r.get("ephemeral") or {}
        memory_wall = memory.get("wall_seconds") if memory.get("returncode") == 0 else None
        print(
            f"{r['factor']:>6} | {_fmt(p_start, '.1f', 12)} {_fmt(run, '.1f', 7)}"
            f" {_fmt(ingest, '.1f', 10)} {_fmt(other, '.1f', 11)} {_fmt(dagster, '.1f', 9)}"
            f" {_fmt(memory_wall, '.1f', 9)} | {_fmt(q_start, '.1f', 12)} {_fmt(work, '.1f', 7)} |"
            f" {_fmt(ratio, '.2f', 7)}x"
        )
    print(
        "start+import: interpreter start-up, imports and the Dagster definitions; run: the rest;"
        "\nsubmission: the ingest step (read, validate, archive, per-partition state);"
        "\nother steps: every other Dagster step; run-steps: Dagster's own work around the steps"
        "\n(planning, event log); in-memory: a whole clusterix run without DAGSTER_HOME"
        "\n(--ephemeral); run/work: both without start-up."
    )
    for r in results:
        steps = r["pipeline"].get("steps") or {}
        if steps:
            top = ", ".join(f"{k} {v:.1f}" for k, v in list(steps.items())[:6])
            print(f"  x{r['factor']} slowest steps: {top}")
    for r in results:
        subs = r["pipeline"].get("submissions")
        if subs:
            text = ", ".join(f"{v:,} {k}" for k, v in sorted(subs.items()))
            print(f"  x{r['factor']} submissions table: {text}")


def _git_commit() -> str | None:
    """The commit measured, with '+changes' when pipelines/ has uncommitted edits."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "pipelines"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None
    return (head + ("+changes" if dirty else "")) or None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--factors", default="1,10", help="comma-separated sample multipliers (default 1,10)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=DEFAULT_WORKDIR, help=f"default {DEFAULT_WORKDIR}"
    )
    parser.add_argument("--raw", type=Path, default=ROOT / "raw", help="the base sample")
    parser.add_argument("--jobs", type=int, default=2, help="processes generating workbooks")
    parser.add_argument("--goal", type=float, default=2.0, help="allowed pipeline/plain ratio")
    parser.add_argument("--timeout", type=float, default=0, help="seconds per run (0: none)")
    parser.add_argument("--no-incremental", action="store_true", help="skip the second run")
    parser.add_argument(
        "--ephemeral",
        action="store_true",
        help="also time clusterix run without DAGSTER_HOME (in-memory Dagster instance)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the pipeline at the largest factor whose run finished",
    )
    parser.add_argument(
        "--profile-only", action="store_true", help="no measurements, only --profile"
    )
    parser.add_argument("--regenerate", action="store_true", help="ignore generated files")
    parser.add_argument("--child", choices=("pipeline", "plain"), help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args.child, args.stats, args.profile_out)

    factors = sorted({int(f) for f in args.factors.split(",") if f.strip()})
    if not factors or min(factors) < 1:
        print("error: --factors takes positive integers, e.g. 1,10", file=sys.stderr)
        return 2
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    base_reference = ROOT / "pipelines" / "core" / "reference_data"
    commit = _git_commit()
    print(f"CLUSTERIX benchmark, factors {factors}, work directory {workdir}, commit {commit}")

    results = []
    for factor in factors:
        root = workdir / f"x{factor}"
        if args.regenerate and (root / "generated.json").exists():
            (root / "generated.json").unlink()
        manifest = generate(factor, args.raw.resolve(), base_reference, root, args.jobs)
        if not args.profile_only:
            results.append(bench_factor(factor, args, manifest, root))

    finished = [r["factor"] for r in results if r["pipeline"]["returncode"] == 0]
    if args.profile_only:
        finished = factors
    profiles: dict[str, dict] = {}
    if (args.profile or args.profile_only) and finished:
        factor = finished[-1]
        root = workdir / f"x{factor}"
        manifest = json.loads((root / "generated.json").read_text())
        runs = root / "runs"
        assets, home = _fresh(runs / "profile_assets"), _fresh(runs / "profile_dagster_home")
        env = _child_env(manifest["reference_dir"], manifest["raw_dir"], assets, home)
        for label, name in (("first", "clusterix run"), ("incremental", "clusterix run again")):
            if label == "incremental" and args.no_incremental:
                continue
            print(f"  x{factor}: {name} under cProfile...", flush=True)
            profile_file = runs / f"{label}.prof"
            stats = measure(
                "pipeline", env, runs / f"profile_{label}.log", profile_file, args.timeout * 3
            )
            if stats["returncode"] != 0 or not profile_file.exists():
                break
            profiles[label] = summarise_profile(profile_file)
            profiles[label].update(
                factor=factor, label=f"{name} at x{factor}", file=str(profile_file), run=stats
            )

    print()
    if results:
        print_table(results, args.goal)
    for summary in profiles.values():
        print_profile(summary["label"], summary)

    report = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "goal_ratio": args.goal,
        "results": results,
        "profiles": profiles,
    }
    out = workdir / ("profile.json" if args.profile_only else "benchmark.json")
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nFigures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
