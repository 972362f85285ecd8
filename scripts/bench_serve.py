"""``make serve`` as the coordinator meets it: how long a corrected workbook takes to
show in the published scorecard, and what watching the drop folder costs when idle.

:class:`Served` starts ``python -m pipelines.app.serve`` (daemon and webserver, the shipped
``deploy/dagster.yaml``) on 127.0.0.1 with its own ``DAGSTER_HOME``, raw, state and
assets folders, and waits for the sensor's first run to publish. Then:

- :func:`latency_round` restates one figure of one workbook and times until
  ``assets/manifest.json`` names a new run and ``indicator_scorecard.parquet`` shows
  the figure, and splits that time by the sensor's tick and the run's own events (read
  over GraphQL): sensor wait (saved to the sensor's next look), sensor tick (that look
  to the run enqueued), queue (enqueued to starting), launch (starting to the run
  process's start event: a new interpreter importing the code location) and run (start
  to the scorecard showing it);
- :func:`idle_cpu` is the CPU time the daemon's process tree (the daemon and the code
  server in which the sensor runs) and the webserver's spent over an idle window.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

from bench_data import raise_structural_funds

ROOT = Path(__file__).resolve().parents[1]
SCORECARD = "indicator_scorecard.parquet"
INDICATOR = "R3"  # Structural Funds influenced, the figure raise_structural_funds restates
POLL_SECONDS = 0.1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RUN_EVENTS = """
query RunEvents($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      status
      tags { key value }
      eventConnection(limit: 100000) {
        events {
          __typename
          ... on MessageEvent { timestamp }
          ... on StepEvent { stepKey }
        }
      }
    }
  }
}
"""
SENSOR_TICKS = """
query Ticks($sensor: String!) {
  sensorOrError(sensorSelector: {repositoryLocationName: "clusterix",
                                 repositoryName: "__repository__", sensorName: $sensor}) {
    ... on Sensor { sensorState { ticks(limit: 40) { timestamp endTimestamp status runIds } } }
  }
}
"""
ACTIVE_RUNS = """
{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED]}) {
    ... on Runs { results { runId } } } }
"""
MILESTONES = {
    "RunEnqueuedEvent": "enqueued",
    "RunStartingEvent": "starting",
    "RunStartEvent": "started",
    "RunSuccessEvent": "ended",
    "RunFailureEvent": "ended",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """``make serve`` on loopback over its own folders, until :meth:`stop`."""

    def __init__(self, root: Path, raw: Path, env: dict[str, str]) -> None:
        self.root, self.raw = root, raw
        self.assets = Path(env["CLUSTERIX_ASSETS_DIR"])
        self.port = _free_port()
        self.log = root / "serve.log"
        command = [sys.executable, "-m", "pipelines.app.serve", "--port", str(self.port)]
        with self.log.open("w") as out:
            # Its own session: stopping it reaches the daemon, webserver and code servers.
            self.process = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace").splitlines()[-10:]
            raise RuntimeError(f"make serve ended; last lines of {self.log}:\n" + "\n".join(tail))

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["data"]

    def published_run(self) -> str | None:
        """The run id ``assets/manifest.json`` names, or None before the first one."""
        try:
            return json.loads((self.assets / "manifest.json").read_text())["run_id"]
        except (OSError, ValueError, KeyError):
            return None

    def scorecard_figure(self) -> Decimal | None:
        """What the published scorecard shows for :data:`INDICATOR`."""
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(self.assets / SCORECARD, columns=["indicator_id", "achieved"])
        except OSError:
            return None
        rows = table.to_pylist()
        return next((Decimal(r["achieved"]) for r in rows if r["indicator_id"] == INDICATOR), None)

    def active_runs(self) -> int:
        return len(self.graphql(ACTIVE_RUNS)["runsOrError"]["results"])

    def wait_for_first_publication(self, timeout: float) -> float:
        """Seconds until the sensor's first run published and no run is left going."""
        started = time.monotonic()
        deadline = started + timeout
        while self.published_run() is None or self._busy():
            self.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing published after {timeout:.0f} s (see {self.log})")
            time.sleep(1)
        return time.monotonic() - started

    def _busy(self) -> bool:
        try:
            return self.active_runs() > 0
        except OSError:  # the webserver is not answering yet
            return True

    def sensor_ticks(self, sensor: str) -> list[dict]:
        """The sensor's latest ticks, newest first."""
        found = self.graphql(SENSOR_TICKS, {"sensor": sensor})["sensorOrError"]
        return found["sensorState"]["ticks"]

    def run_events(self, run_id: str) -> dict:
        """The run's milestones (epoch seconds), its step durations and its event count."""
        run = self.graphql(RUN_EVENTS, {"runId": run_id})["runOrError"]
        events = run["eventConnection"]["events"]
        times: dict[str, float] = {}
        step_start: dict[str, float] = {}
        steps: dict[str, float] = {}
        for event in events:
            kind, at = event["__typename"], float(event.get("timestamp") or 0) / 1000
            if kind in MILESTONES:
                times.setdefault(MILESTONES[kind], at)
            elif kind == "ExecutionStepStartEvent":
                step_start[event["stepKey"]] = at
            elif kind in ("ExecutionStepSuccessEvent", "ExecutionStepFailureEvent"):
                steps[event["stepKey"]] = at - step_start.get(event["stepKey"], at)
        tags = {t["key"]: t["value"] for t in run["tags"]}
        return {"times": times, "steps": steps, "events": len(events), "tags": tags}


def latency_round(served: Served, timeout: float = 300) -> dict:
    """Restate one figure, time until the scorecard shows it, and say where the time went."""
    before_run, before = served.published_run(), served.scorecard_figure()
    if before is None:
        raise RuntimeError(f"the published scorecard has no {INDICATOR}")
    expected = before + 1
    raise_structural_funds(served.raw)
    saved = time.time()
    deadline = time.monotonic() + timeout
    while True:
        run_id = served.published_run()
        if run_id not in (None, before_run) and served.scorecard_figure() == expected:
            seen = time.time()
            break
        served.check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{INDICATOR} did not show {expected} within {timeout:.0f} s")
        time.sleep(POLL_SECONDS)
    run = served.run_events(run_id)
    times = run["times"]
    sensor = run["tags"].get("dagster/sensor_name")
    ticks = served.sensor_ticks(sensor) if sensor else []
    tick = next((t for t in ticks if run_id in t["runIds"]), None)
    # A tick that started just before the save can still list the saved file.
    looked = max(saved, tick["timestamp"] if tick else times["enqueued"])
    parts = {
        "sensor wait": looked - saved,
        "sensor tick": times["enqueued"] - looked,
        "queue": times["starting"] - times["enqueued"],
        "launch": times["started"] - times["starting"],
        "run": seen - times["started"],
    }
    return {
        "seconds": seen - saved,
        "parts": parts,
        "run_id": run_id,
        "events": run["events"],
        "steps": dict(sorted(run["steps"].items(), key=lambda item: -item[1])),
        "sensor": sensor,
        "tick_spacing": _median_spacing([t["timestamp"] for t in ticks]),
        "load_average": os.getloadavg()[0],
    }


def _median_spacing(timestamps: list[float]) -> float | None:
    """The median seconds between consecutive ticks."""
    ordered = sorted(timestamps)
    gaps = sorted(b - a for a, b in itertools.pairwise(ordered))
    return gaps[len(gaps) // 2] if gaps else None


# --- CPU of the process trees --------------------------------------------------------------


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process: pid -> (parent pid, command line, CPU seconds so far)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            command = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[1] is the parent pid; fields[11] and [12] user and system clock ticks.
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        found[int(entry.name)] = (int(fields[1]), command, cpu)
    return found


def _tree(processes: dict[int, tuple[int, str, float]], root: int) -> set[int]:
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _, _) in processes.items() if ppid == parent]
        members.update(children)
        frontier.extend(children)
    return members


def _trees(served: Served) -> dict[str, set[int]]:
    """The daemon's and the webserver's process trees (each with its code server)."""
    processes = _processes()
    trees = {}
    for pid, (ppid, command, _) in processes.items():
        if ppid != served.process.pid:
            continue
        for name in ("dagster-daemon", "dagster-webserver"):
            if name in command:
                trees[name] = _tree(processes, pid)
    return trees


def idle_cpu(served: Served, seconds: float) -> dict:
    """CPU seconds of each tree over ``seconds`` of idling, and as a share of one core."""
    trees = _trees(served)
    published = served.published_run()
    first = _processes()
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    last = _processes()
    result: dict = {"seconds": elapsed, "published": served.published_run() != published}
    for name, pids in trees.items():
        used = sum(last[p][2] - first[p][2] for p in pids if p in first and p in last)
        result[name] = {"cpu_seconds": used, "share_of_one_core": used / elapsed}
    return result
