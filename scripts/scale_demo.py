"""Scale-out demonstration: N times the sample, on a Dagster instance in PostgreSQL, run
in one process and then with ingest split into chunks run by the multiprocess executor.

``make scale-demo`` runs this (``ARGS="--factor 10 --chunks 2"`` by default). It
generates the data as ``make bench`` does (``scripts/bench_data.py``, reused when
already there), then times two whole processes, start-up included, each on fresh
state and assets directories:

1. ``clusterix run``: the default job, one ingest step, every step in this process;
2. ``dagster job execute`` of the same job with ``CLUSTERIX_INGEST_CHUNKS=<chunks>``:
   the chunk steps ingest their partners' workbooks in parallel processes (the
   executor defaults to multiprocess when ingest is chunked), the ingest step joins.

Both runs record into the same Postgres database (``--postgres-url``, an empty
database; without it a throw-away server is started with ``tests/pg_server.py``, which
needs Debian's ``postgresql`` binaries). It prints the wall times, each run's slowest
steps, and whether the two published sets are equal; it never fails on a slow result.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "scripts", ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_data import generate  # noqa: E402
from benchmark import Runs  # noqa: E402

from pipelines.core.reference.loader import DEFAULT_PROJECT_DIR  # noqa: E402
from pipelines.platform.settings import INGEST_CHUNKS_ENV  # noqa: E402

BIN = Path(sys.executable).parent
JOB = ["job", "execute", "-m", "pipelines.definitions", "-j", "ingest_everything"]
DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "clusterix-bench"


@contextlib.contextmanager
def postgres(url: str | None) -> Iterator[str]:
    """The given database, or one in a throw-away server stopped at the end."""
    if url:
        yield url
        return
    import pytest
    from pg_server import postgres_server

    try:
        with postgres_server() as server:
            yield server.url(server.create_database())
    except (pytest.skip.Exception, pytest.fail.Exception) as exc:
        raise SystemExit(f"error: cannot start PostgreSQL ({exc}); pass --postgres-url") from None


def timed(label: str, command: list[str], env: dict, log: Path) -> float:
    """Wall seconds of one whole process; its output goes to ``log``."""
    print(f"  {label}...", flush=True)
    with log.open("w") as out:
        started = time.perf_counter()
        code = subprocess.run(command, env=env, cwd=ROOT, stdout=out, stderr=out).returncode
        seconds = time.perf_counter() - started
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise SystemExit(f"error: {label} exited with {code}; last lines of {log}:\n{tail}")
    print(f"  ... {seconds:.1f} s", flush=True)
    return seconds


def step_seconds(home: Path) -> dict[str, dict[str, float]]:
    """Seconds per step of the last in-process and the last multiprocess run."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        newest = instance.get_runs(limit=2)  # newest first: multiprocess, then in process
        steps = {}
        for kind, run in zip(("multiprocess", "in_process"), newest, strict=True):
            events = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
            durations = {
                e.step_key: e.dagster_event.event_specific_data.duration_ms / 1000 for e in events
            }
            steps[kind] = dict(sorted(durations.items(), key=lambda item: -item[1]))
    return steps


def published(assets: Path) -> dict[str, object]:
    """The published tables, less the columns that record when a run saw a file."""
    import pyarrow.parquet as pq

    tables = {}
    for path in sorted(assets.glob("*.parquet")):
        table = pq.read_table(path)
        tables[path.name] = table.select([c for c in table.column_names if not c.endswith("_at")])
    return tables


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=10, help="times the sample (default 10)")
    parser.add_argument("--chunks", type=int, default=2, help="ingest chunks (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of runs, alternated")
    parser.add_argument("--postgres-url", help="an empty database (default: a throw-away server)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--raw", type=Path, default=ROOT / "raw", help="the base sample")
    parser.add_argument("--jobs", type=int, default=1, help="processes generating workbooks")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.workdir.resolve() / f"x{args.factor}"
    reference = DEFAULT_PROJECT_DIR
    manifest = generate(args.factor, args.raw.resolve(), reference, root, args.jobs)
    runs = Runs(root / "scale", manifest)
    home = runs.fresh("home")
    seconds: dict[str, list[float]] = {"in_process": [], "multiprocess": []}
    with postgres(args.postgres_url) as url:
        storage = {"storage": {"postgres": {"postgres_url": url}}, "telemetry": {"enabled": False}}
        (home / "dagster.yaml").write_text(json.dumps(storage))  # JSON is YAML
        for i in range(args.repeat):
            for kind, chunks, command in (
                ("in_process", 1, [str(BIN / "clusterix"), "run"]),
                ("multiprocess", args.chunks, [str(BIN / "dagster"), *JOB]),
            ):
                env = runs.env(runs.fresh(f"{kind}_assets"), runs.fresh(f"{kind}_state"), home)
                env[INGEST_CHUNKS_ENV] = str(chunks)
                label = (
                    f"x{args.factor} {kind} run, {chunks} ingest chunk(s) ({i + 1}/{args.repeat})"
                )
                seconds[kind].append(timed(label, command, env, runs.root / f"{kind}{i}.log"))
        steps = step_seconds(home)
    equal = published(runs.root / "in_process_assets") == published(
        runs.root / "multiprocess_assets"
    )
    one, split = (statistics.median(seconds[k]) for k in ("in_process", "multiprocess"))
    print(f"\n{manifest['workbooks']} workbooks (x{args.factor}), Dagster instance on Postgres")
    print(f"  in process, one ingest step:    {one:7.1f} s")
    print(f"  multiprocess, {args.chunks:>2} ingest chunks: {split:7.1f} s ({split / one:.2f}x)")
    print(f"  published tables equal: {'yes' if equal else 'NO'}")
    for kind, durations in steps.items():
        top = ", ".join(f"{k} {v:.1f}" for k, v in list(durations.items())[:6])
        print(f"  {kind} slowest steps (s): {top}")
    report = {"factor": args.factor, "chunks": args.chunks, "seconds": seconds, "steps": steps}
    report |= {"workbooks": manifest["workbooks"], "tables_equal": equal}
    (runs.root / "scale_demo.json").write_text(json.dumps(report, indent=2))
    print(f"Figures written to {runs.root / 'scale_demo.json'}")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
