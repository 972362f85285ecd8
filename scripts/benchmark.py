"""Speed and memory of the pipeline against a bare read-and-write of the same workbooks.

``make bench`` runs this with no arguments (factor 1). For every factor N it generates
N times the bundled sample (``scripts/bench_data.py``, not measured, reused) and times
whole fresh processes, start-up and imports included:

1. ``clusterix run`` on fresh assets, state and a fresh on-disk Dagster instance,
   alternating with the bare script (every workbook read with calamine through pandas,
   each sheet type written to one Parquet file with pyarrow), ``--repeat`` times each;
   the medians give the ratio (goal: at most 3x);
2. after one changed workbook, ``clusterix run`` again, ``--repeat`` times, each after
   another changed workbook (the median; goal: at most 0.25x the full run);
3. ``clusterix run`` with nothing changed;
4. after one more changed workbook, the sensor's run: a process that evaluates
   ``raw_files_sensor`` with the cursor of its previous tick and executes the run it
   requests, as the daemon would (``--repeat`` times, the median; goal as in 2);
5. a process that only starts: imports, definitions and instance, the floor of any run.

Then, as the coordinator meets it (``scripts/bench_serve.py``), for each of
``--serve-factors`` (default 1 and 10): ``make serve`` on 127.0.0.1 with its own
``DAGSTER_HOME`` and a copy of the generated workbooks; after the first publication,
one figure of one workbook is restated ``--serve-rounds`` times, each timed until the
published scorecard shows it (goal: the slower round within 15 s), split into sensor
wait, queue, launch and run by the run's own events. At ``--idle-factor`` (default 100)
the daemon's CPU over ``--idle-minutes`` (default 10) idle minutes is measured after
the first publication (goal: under 5 % of one core). ``--only runs`` or ``--only serve``
measures one half.

Peak memory is the child's maximum resident set size (goal at 100x: below 1 GiB).

A factor that misses a goal is profiled (a cProfile'd full run and changed-workbook
run, summarised; ``--no-profile`` skips it, ``--profile`` profiles the largest factor
anyway), so every figure not reached is printed with the profile that explains it.
This prints figures and writes ``<workdir>/benchmark.json``; it never fails on
a slow result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_data import change_one_workbook, generate  # noqa: E402
from bench_serve import Served, idle_cpu, latency_round  # noqa: E402

from pipelines.core.intake.discovery import ACCEPTED_SUFFIXES  # noqa: E402
from pipelines.core.metadata.tables import GUIDE_SHEET, RECORD_SHEETS  # noqa: E402
from pipelines.core.reference.loader import DEFAULT_PROJECT_DIR  # noqa: E402
from pipelines.platform.settings import (  # noqa: E402
    ASSETS_DIR_ENV,
    PROJECT_DIR_ENV,
    RAW_DIR_ENV,
    STATE_DIR_ENV,
)

DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "clusterix-bench"
MIB = 1024 * 1024
GOALS = {
    "full": 3.0,
    "changed": 0.25,
    "x100": 1.5,
    "peak_mib": 1024,
    "serve_seconds": 15.0,
    "idle_share": 0.05,
}
CURSOR_FILE = "sensor.cursor"


# --- the measured children (each a fresh interpreter) ---------------------------------


def _max_rss_bytes() -> int:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return own * scale


def _run_stats(result: object, stats: dict) -> None:
    """Seconds per Dagster step and the count of each event type, from a run's result."""
    steps: dict[str, float] = defaultdict(float)
    events: dict[str, int] = defaultdict(int)
    for event in result.all_events:  # type: ignore[attr-defined]
        events[event.event_type_value] += 1
        if event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key:
            duration = getattr(event.event_specific_data, "duration_ms", None) or 0
            steps[event.step_key] += duration / 1000
    stats["steps"] = dict(sorted(steps.items(), key=lambda item: -item[1]))
    stats["events"] = sum(events.values())
    stats["event_types"] = dict(sorted(events.items(), key=lambda item: -item[1]))


def child_cli(stats: dict) -> int:
    """``clusterix run`` in this process, its run's steps and events kept for the report."""
    import pipelines.app.run
    from pipelines.app.cli import main

    original = pipelines.app.run.run_everything

    def run_everything(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)
        _run_stats(result, stats)
        return result

    pipelines.app.run.run_everything = run_everything
    return main(["run"])


def child_sensor(stats: dict) -> int:
    """One sensor tick with the cursor of the previous one, and the run it requests."""
    import dagster as dg

    from pipelines.app.run import QUIET, _instance
    from pipelines.definitions import defs
    from pipelines.defs.operations.automation import INGEST_JOB, raw_files_sensor

    cursor_file = Path(os.environ["DAGSTER_HOME"]) / CURSOR_FILE
    cursor = cursor_file.read_text() if cursor_file.exists() else None
    instance = _instance()
    tick = raw_files_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
    cursor_file.write_text(tick.cursor or "")
    stats["run_requests"] = len(tick.run_requests)
    for request in tick.run_requests:
        result = defs.resolve_job_def(INGEST_JOB).execute_in_process(
            instance=instance, tags=request.tags, run_config=QUIET, raise_on_error=False
        )
        _run_stats(result, stats)
        if not result.success:
            return 1
    return 0


def child_startup(stats: dict) -> int:
    """What every ``clusterix run`` pays before its run starts: the interpreter, the
    imports, the definitions (with the reference data) and the instance, nothing else."""
    from pipelines.app.run import _instance
    from pipelines.definitions import defs

    stats["assets"] = len(list(defs.resolve_all_asset_keys()))
    _instance().dispose()
    return 0


def child_bare(stats: dict) -> int:
    """The bare script: read every workbook, write each sheet type to one Parquet file."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw, out = Path(os.environ[RAW_DIR_ENV]), Path(os.environ[ASSETS_DIR_ENV])
    record_sheets = {s.name for s in RECORD_SHEETS}
    frames: dict[str, list[pd.DataFrame]] = defaultdict(list)
    for path in sorted(raw.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in ACCEPTED_SUFFIXES:
            continue
        try:
            sheets = pd.read_excel(path, sheet_name=None, engine="calamine")
        except Exception:  # unreadable files are skipped
            continue
        for name, frame in sheets.items():
            if name != GUIDE_SHEET:
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
        if name in record_sheets:
            stats["rows"] = stats.get("rows", 0) + len(frame)
    return 0


CHILDREN = {"cli": child_cli, "sensor": child_sensor, "bare": child_bare, "startup": child_startup}


def child_main(kind: str, stats_file: Path, profile_file: Path | None) -> int:
    stats: dict[str, object] = {"kind": kind}
    profiler = None
    if profile_file is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        code = CHILDREN[kind](stats)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile_file))
    stats.update(exit_code=code, max_rss_bytes=_max_rss_bytes())
    stats_file.write_text(json.dumps(stats))
    return code


# --- the parent -------------------------------------------------------------------------


class Runs:
    """The folders of one factor's measurements and the environment of its children."""

    def __init__(self, root: Path, manifest: dict) -> None:
        self.root = root
        self.reference_dir = manifest["reference_dir"]
        # A private copy of the generated raw folder (hard links), so that a changed
        # workbook never touches the generated files.
        self.raw = self.fresh("raw", remove_only=True)
        shutil.copytree(manifest["raw_dir"], self.raw, copy_function=os.link)

    def fresh(self, name: str, remove_only: bool = False) -> Path:
        path = self.root / name
        if path.exists():
            shutil.rmtree(path)
        if not remove_only:
            path.mkdir(parents=True)
        return path

    def env(self, assets: Path, state: Path | None = None, home: Path | None = None) -> dict:
        env = dict(os.environ)
        env.update(
            {
                PROJECT_DIR_ENV: self.reference_dir,
                RAW_DIR_ENV: str(self.raw),
                ASSETS_DIR_ENV: str(assets),
                STATE_DIR_ENV: str(state or assets.with_name(assets.name + "_state")),
                "DAGSTER_DISABLE_TELEMETRY": "1",
            }
        )
        env.pop("DAGSTER_HOME", None)
        if home is not None:
            env["DAGSTER_HOME"] = str(home)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        return env


def measure(kind: str, env: dict, log: Path, profile: Path | None = None) -> dict:
    """One child in a fresh interpreter; the wall time includes start-up and imports."""
    stats_file = log.with_suffix(".stats.json")
    stats_file.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind]
    command += ["--stats", str(stats_file)]
    if profile is not None:
        command += ["--profile-out", str(profile)]
    with log.open("w") as out:
        started = time.perf_counter()
        returncode = subprocess.run(command, env=env, cwd=ROOT, stdout=out, stderr=out).returncode
        wall = time.perf_counter() - started
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    stats.update(wall_seconds=wall, returncode=returncode, log=str(log))
    if returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-10:]
        print(f"    {kind} exited with {returncode}; last lines of {log}:")
        print("\n".join(f"      {line}" for line in tail))
    return stats


def bench_factor(
    factor: int, args: argparse.Namespace, manifest: dict, root: Path, profile: bool
) -> dict:
    runs = Runs(root / "runs", manifest)
    result: dict = {"factor": factor, **{k: manifest[k] for k in ("workbooks", "rows")}}
    full, bare = [], []
    for i in range(args.repeat):
        print(f"  x{factor}: bare script and full clusterix run ({i + 1}/{args.repeat})...")
        bare.append(measure("bare", runs.env(runs.fresh("bare")), runs.root / f"bare{i}.log"))
        assets, state, home = (runs.fresh(n) for n in ("assets", "state", "home"))
        full.append(measure("cli", runs.env(assets, state, home), runs.root / f"full{i}.log"))
    if args.postgres_url:
        print(f"  x{factor}: full clusterix run, Dagster instance on Postgres...")
        pg_home = runs.fresh("pg_home")
        storage = {"storage": {"postgres": {"postgres_url": args.postgres_url}}}
        (pg_home / "dagster.yaml").write_text(json.dumps(storage))  # JSON is YAML
        pg_env = runs.env(runs.fresh("pg_assets"), runs.fresh("pg_state"), pg_home)
        result["postgres"] = measure("cli", pg_env, runs.root / "postgres.log")
    env = runs.env(assets, state, home)
    result["full"], result["bare"] = full[-1], bare[-1]
    result["full_seconds"] = statistics.median(s["wall_seconds"] for s in full)
    result["bare_seconds"] = statistics.median(s["wall_seconds"] for s in bare)
    print(f"  x{factor}: one workbook changed, clusterix run ({args.repeat} times)...")
    result["changed_cli"] = _median_changed_run("cli", args.repeat, runs, env)
    print(f"  x{factor}: nothing changed, clusterix run...")
    result["unchanged_cli"] = measure("cli", env, runs.root / "unchanged_cli.log")
    print(f"  x{factor}: sensor tick to catch up, then one workbook changed, the sensor's run...")
    measure("sensor", env, runs.root / "sensor_catch_up.log")
    result["changed_sensor"] = _median_changed_run("sensor", args.repeat, runs, env)
    print(f"  x{factor}: start-up alone (imports, definitions, instance)...")
    startups = [measure("startup", env, runs.root / f"startup{i}.log") for i in range(args.repeat)]
    result["startup_seconds"] = statistics.median(s["wall_seconds"] for s in startups)
    result["missed"] = missed_goals(result)
    if profile or (result["missed"] and not args.no_profile):
        print(f"  x{factor}: profiles of a full run and of a changed-workbook run...")
        assets, state, home = (runs.fresh(n) for n in ("p_assets", "p_state", "p_home"))
        penv = runs.env(assets, state, home)
        profiles = {}
        for label in ("full", "changed"):
            if label == "changed":
                change_one_workbook(runs.raw)
            prof = runs.root / f"{label}.prof"
            measure("cli", penv, runs.root / f"profile_{label}.log", prof)
            profiles[label] = summarise_profile(prof)
        result["profiles"] = profiles
    return result


def _median_changed_run(kind: str, repeat: int, runs: Runs, env: dict) -> dict:
    """One workbook changed before each of ``repeat`` runs: the run of median wall time,
    the slower middle one of an even count (a single run varies by seconds at 100x)."""
    measured = []
    for i in range(repeat):
        change_one_workbook(runs.raw)
        measured.append(measure(kind, env, runs.root / f"changed_{kind}{i}.log"))
    measured.sort(key=lambda stats: stats["wall_seconds"])
    return measured[len(measured) // 2]


def full_run_goal(factor: int) -> float:
    """The full run's limit, in multiples of the bare script: tighter at 100x."""
    return GOALS["x100"] if factor >= 100 else GOALS["full"]


def missed_goals(result: dict) -> list[str]:
    """The goals a factor's figures miss (each is then profiled, unless --no-profile)."""
    full, bare = result["full_seconds"], result["bare_seconds"]
    limit = full_run_goal(result["factor"])
    missed = [f"full run <= {limit:g}x the bare script"] if full / bare > limit else []
    for key in ("changed_cli", "changed_sensor"):
        if result[key]["wall_seconds"] / full > GOALS["changed"]:
            missed.append(f"{key.replace('_', ' run, ')} <= {GOALS['changed']:g}x the full run")
    if result["full"].get("max_rss_bytes", 0) / MIB >= GOALS["peak_mib"]:
        missed.append("peak memory < 1 GiB")
    return missed


def serve_factor(factor: int, rounds: int, idle_minutes: float, manifest: dict, root: Path) -> dict:
    """``make serve`` on this factor's workbooks: the first publication, ``rounds`` timed
    corrections, then (if ``idle_minutes``) the CPU of an idle window."""
    runs = Runs(root / "serve", manifest)
    env = runs.env(*(runs.fresh(n) for n in ("assets", "state", "home")))
    env["HOST"] = "127.0.0.1"
    result: dict = {"factor": factor, "workbooks": manifest["workbooks"], "rounds": []}
    served = Served(runs.root, runs.raw, env)
    try:
        print(f"  x{factor}: make serve, waiting for the sensor's first run to publish...")
        result["first_publication_seconds"] = served.wait_for_first_publication(timeout=1800)
        for i in range(rounds):
            print(f"  x{factor}: make serve, one figure restated ({i + 1}/{rounds})...")
            result["rounds"].append(latency_round(served))
        if idle_minutes:
            print(f"  x{factor}: make serve, idle for {idle_minutes:g} minutes...")
            result["idle"] = idle_cpu(served, idle_minutes * 60)
    finally:
        served.stop()
    return result


def print_serve_results(results: list[dict]) -> None:
    goal, share_goal = GOALS["serve_seconds"], GOALS["idle_share"]
    for r in results:
        print(f"\nmake serve, x{r['factor']} ({r['workbooks']:,} workbooks):")
        print(f"  first publication after start   {r['first_publication_seconds']:7.1f} s")
        for i, rnd in enumerate(r["rounds"], 1):
            parts = ", ".join(f"{k} {v:.1f}" for k, v in rnd["parts"].items())
            top = ", ".join(f"{k} {v:.1f}" for k, v in list(rnd["steps"].items())[:4])
            print(
                f"  corrected workbook shown, round {i} {rnd['seconds']:5.1f} s   ({parts});"
                f" {rnd['events']} events; steps (s): {top}; sensor ticks every"
                f" {rnd['tick_spacing'] or 0:.1f} s; load average {rnd['load_average']:.1f}"
            )
        if r["rounds"]:
            slowest = max(rnd["seconds"] for rnd in r["rounds"])
            print(f"  slower round {slowest:.1f} s   goal <= {goal:g} s: {_goal(slowest <= goal)}")
        if "idle" in r:
            idle = r["idle"]
            for name in ("dagster-daemon", "dagster-webserver"):
                tree = idle.get(name)
                if tree is None:
                    continue
                met = _goal(tree["share_of_one_core"] < share_goal)
                target = f"   goal < {share_goal:.0%}: {met}"
                print(
                    f"  {name} tree idle {idle['seconds'] / 60:.1f} min: {tree['cpu_seconds']:.1f}"
                    f" CPU s, {tree['share_of_one_core']:.2%} of one core"
                    + (target if name == "dagster-daemon" else "")
                )
            if idle["published"]:
                print("  (a run published during the idle window: the figure is not idle)")


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
    "store_event": "event log write (one SQLite commit per Dagster event)",
    "create_execution_plan": "execution plan",
    "get_materialized_partitions": "partitions known to the instance",
}


def summarise_profile(profile: Path, top: int = 12) -> dict:
    import pstats

    stats = pstats.Stats(str(profile))
    total = stats.total_tt  # type: ignore[attr-defined]
    by_area: dict[str, float] = defaultdict(float)
    rows, hotspots = [], []
    for (filename, line, name), (_cc, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_area[_area(filename)] += own
        row = {"function": f"{Path(filename).name}:{line}:{name}", "calls": calls}
        rows.append({**row, "own": own, "cumulative": cumulative})
        if name in DAGSTER_HOTSPOTS and "dagster" in filename:
            hotspots.append({**row, "cumulative": cumulative, "what": DAGSTER_HOTSPOTS[name]})
    areas = sorted(by_area.items(), key=lambda item: -item[1])[:top]
    return {
        "total_seconds": total,
        "by_area": [{"area": a, "own_seconds": s, "share": s / total} for a, s in areas],
        "by_own_time": sorted(rows, key=lambda r: -r["own"])[:top],
        "dagster_hotspots": sorted(hotspots, key=lambda r: -r["cumulative"]),
    }


def print_profile(label: str, summary: dict) -> None:
    total = summary["total_seconds"]
    print(f"\nProfile of {label} ({total:.1f} s under cProfile)")
    for row in summary["by_area"]:
        print(f"  {row['share']:6.1%} {row['own_seconds']:7.1f} s  {row['area']}")
    print("  Top functions by own time:")
    for row in summary["by_own_time"]:
        print(
            f"  {row['own'] / total:6.1%} {row['own']:7.1f} s {row['calls']:>8}  {row['function']}"
        )
    for row in summary["dagster_hotspots"]:
        print(
            f"  {row['cumulative'] / total:6.1%} {row['cumulative']:7.1f} s {row['calls']:>8}"
            f"  {row['function']} [{row['what']}]"
        )


# --- the report -------------------------------------------------------------------------


def _goal(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_results(results: list[dict]) -> None:
    for r in results:
        full, bare = r["full_seconds"], r["bare_seconds"]
        peak = r["full"].get("max_rss_bytes", 0) / MIB
        ratio = full / bare
        limit = full_run_goal(r["factor"])
        print(f"\nx{r['factor']}: {r['workbooks']:,} workbooks, {r['rows']:,} record rows")
        print(f"  bare script                 {bare:7.1f} s   (median, whole process)")
        print(
            f"  full clusterix run          {full:7.1f} s   {ratio:5.2f}x bare"
            f"   goal <= {limit:g}x: {_goal(ratio <= limit)}"
            f"   peak {peak:,.0f} MiB (goal < 1 GiB: {_goal(peak < GOALS['peak_mib'])})"
        )
        if "postgres" in r:
            pg = r["postgres"]["wall_seconds"]
            print(f"  full run, Postgres instance {pg:7.1f} s   {pg / full:5.2f}x SQLite")
        for key, label in (
            ("changed_cli", "one workbook changed, CLI"),
            ("changed_sensor", "one workbook changed, sensor"),
            ("unchanged_cli", "nothing changed, CLI"),
        ):
            stats = r[key]
            share = stats["wall_seconds"] / full
            goal = (
                f"   goal <= {GOALS['changed']:g}x: {_goal(share <= GOALS['changed'])}"
                if key.startswith("changed")
                else ""
            )
            print(
                f"  {label:<27} {stats['wall_seconds']:7.1f} s   {share:5.2f}x full{goal}"
                f"   ({stats.get('events', '?')} Dagster events,"
                f" peak {stats.get('max_rss_bytes', 0) / MIB:,.0f} MiB)"
            )
        startup = r["startup_seconds"]
        print(
            f"  start-up alone              {startup:7.1f} s   {startup / full:5.2f}x full"
            "   (interpreter, imports, definitions, instance: the floor of any run)"
        )
        steps = r["full"].get("steps") or {}
        top = ", ".join(f"{k} {v:.1f}" for k, v in list(steps.items())[:6])
        print(f"  full run: {r['full'].get('events', '?')} Dagster events; steps (s): {top}")
        changed = r["changed_cli"].get("steps") or {}
        top = ", ".join(f"{k} {v:.1f}" for k, v in list(changed.items())[:6])
        print(f"  changed-workbook run steps (s): {top}")
        if r["missed"]:
            below = " (profiles below)" if r.get("profiles") else ""
            print(f"  goals missed: {'; '.join(r['missed'])}{below}")
    print(
        "\nEvery figure is a whole fresh process (interpreter start-up and imports included)."
        "\nThe Dagster instance is the default one on disk (SQLite under DAGSTER_HOME)."
    )


def _git_commit() -> str | None:
    """The commit measured, with '+changes' when pipelines/ has uncommitted edits."""
    try:
        git = ["git", "-C", str(ROOT)]
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "pipelines"], capture_output=True, text=True
        )
    except OSError:
        return None
    return (head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")) or None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", default="1", help="comma-separated multipliers (default 1)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--raw", type=Path, default=ROOT / "raw", help="the base sample")
    parser.add_argument("--jobs", type=int, default=2, help="processes generating workbooks")
    parser.add_argument("--repeat", type=int, default=2, help="full and bare runs, alternated")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the largest factor even if it meets all goals",
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="do not profile a factor that misses a goal"
    )
    parser.add_argument("--regenerate", action="store_true", help="ignore generated files")
    parser.add_argument(
        "--postgres-url",
        help="also time a full run with the Dagster instance in this (empty) Postgres database",
    )
    parser.add_argument(
        "--only", choices=("runs", "serve"), help="only the process runs, or only make serve"
    )
    parser.add_argument(
        "--serve-factors", default="1,10", help="make serve latency at these multipliers"
    )
    parser.add_argument("--serve-rounds", type=int, default=2, help="corrections timed per factor")
    parser.add_argument(
        "--idle-minutes",
        type=float,
        default=10,
        help="idle window for the daemon's CPU under make serve (0 skips it)",
    )
    parser.add_argument(
        "--idle-factor", type=int, default=100, help="multiplier of the idle window"
    )
    parser.add_argument("--child", choices=tuple(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _factors(text: str) -> list[int] | None:
    """Comma-separated positive multipliers, sorted; None when one is not."""
    try:
        factors = sorted({int(f) for f in text.split(",") if f.strip()})
    except ValueError:
        return None
    return factors if all(f >= 1 for f in factors) else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args.child, args.stats, args.profile_out)
    factors = _factors(args.factors) if args.only != "serve" else []
    serve_factors = _factors(args.serve_factors) if args.only != "runs" else []
    idle_factor = args.idle_factor if args.only != "runs" and args.idle_minutes > 0 else None
    if None in (factors, serve_factors) or (idle_factor is not None and idle_factor < 1):
        print("error: factors are positive integers, e.g. --factors 1,10", file=sys.stderr)
        return 2
    workdir = args.workdir.resolve()
    commit = _git_commit()
    print(f"CLUSTERIX benchmark, factors {factors}, work directory {workdir}, commit {commit}")
    base_reference = DEFAULT_PROJECT_DIR
    out = workdir / "benchmark.json"
    results: list[dict] = []
    serve_results: list[dict] = []

    def save() -> None:
        """Write the figures so far: a long benchmark stopped midway keeps them."""
        report = {
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "commit": commit,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "goals": GOALS,
            "results": results,
            "serve": serve_results,
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, default=str))

    for factor in factors:
        root = workdir / f"x{factor}"
        if args.regenerate:
            (root / "generated.json").unlink(missing_ok=True)
        manifest = generate(factor, args.raw.resolve(), base_reference, root, args.jobs)
        profile = args.profile and factor == factors[-1]
        results.append(bench_factor(factor, args, manifest, root, profile))
        save()
    for factor in sorted({*serve_factors, *([idle_factor] if idle_factor else [])}):
        root = workdir / f"x{factor}"
        manifest = generate(factor, args.raw.resolve(), base_reference, root, args.jobs)
        rounds = args.serve_rounds if factor in serve_factors else 0
        idle = args.idle_minutes if factor == idle_factor else 0
        serve_results.append(serve_factor(factor, rounds, idle, manifest, root))
        save()
        print_serve_results(serve_results[-1:])  # printed as it comes: a factor takes minutes
    print_results(results)
    for r in results:
        for label, summary in (r.get("profiles") or {}).items():
            print_profile(f"the {label} run at x{r['factor']}", summary)
    print(f"\nFigures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
