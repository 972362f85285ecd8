"""``make serve``: the production way to run the pipeline, a daemon and a webserver.

``dagster dev`` is a developer's convenience (a throw-away instance, one process tree,
no queue). Here the shipped instance configuration (``deploy/dagster.yaml``: a queue of
one run at a time, run monitoring, tick retention, telemetry off) is installed in
``DAGSTER_HOME``, the instance's storage is created once (a fresh SQLite home set up by
two processes at once races on its tables), and then ``dagster-daemon`` (queue, sensor,
schedule, run monitoring) and ``dagster-webserver`` run side by side; if either stops,
the other is stopped too, so a service manager sees the failure and restarts both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "deploy" / "dagster.yaml"
WORKSPACE = REPO / "workspace.yaml"
POSTGRES_URL_ENV = "CLUSTERIX_POSTGRES_URL"
MARKER = "# Installed by `make serve` from deploy/dagster.yaml; edit that file instead.\n"


class ServeError(RuntimeError):
    """A problem to report in one line before anything starts."""


def render_instance(environ: dict[str, str] | os._Environ = os.environ) -> str:
    """The shipped configuration, with Postgres storage when the URL variable is set.

    The URL itself is not written to the file (``env:``): it holds a password.
    """
    config = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    if environ.get(POSTGRES_URL_ENV):
        config["storage"] = {"postgres": {"postgres_url": {"env": POSTGRES_URL_ENV}}}
    return MARKER + yaml.safe_dump(config, sort_keys=False)


def install_instance(home: Path) -> Path:
    """Write ``home/dagster.yaml`` unless an operator wrote their own there."""
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if target.exists() and not target.read_text(encoding="utf-8").startswith(MARKER):
        return target
    tmp = target.with_name(f".dagster.yaml.{os.getpid()}.tmp")
    tmp.write_text(render_instance(), encoding="utf-8")
    tmp.replace(target)
    return target


def prepare_instance(home: Path) -> str:
    """Create the instance's storage once (before two processes race on it); say which."""
    import dagster as dg

    from pipelines.platform.failures import operational_error
    from pipelines.platform.writer_lock import setup_lock

    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with setup_lock(home), dg.DagsterInstance.get() as instance:
            storage = type(instance.run_storage).__name__
    except Exception as exc:
        message = operational_error(exc)
        if message is None:
            raise
        raise ServeError(message) from exc
    return "Postgres" if "Postgres" in storage else f"SQLite files under {home}"


def _commands(host: str, port: int) -> list[list[str]]:
    bin_dir = Path(sys.executable).parent
    workspace = ["-w", str(WORKSPACE)]
    return [
        [str(bin_dir / "dagster-daemon"), "run", *workspace],
        [str(bin_dir / "dagster-webserver"), "-h", host, "-p", str(port), *workspace],
    ]


def serve(host: str, port: int, home: Path) -> int:
    """Start the daemon and the webserver; return when either ends (or on a signal)."""
    for tool in ("dagster-daemon", "dagster-webserver"):
        if not (Path(sys.executable).parent / tool).exists() and not shutil.which(tool):
            raise ServeError(f"{tool} is not installed (run `make install`)")
    config_file = install_instance(home)
    storage = prepare_instance(home)
    print(
        f"Serving on http://{host}:{port} (instance {config_file}; storage: {storage})",
        flush=True,
    )
    return _supervise(_commands(host, port))


def _supervise(commands: list[list[str]]) -> int:
    children = [subprocess.Popen(command, cwd=REPO) for command in commands]

    def stop(_signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        stop(signal.SIGTERM, None)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
    return max(_exit_status(child.returncode) for child in children)


# A child ended by SIGTERM or SIGINT was stopped on purpose: by this supervisor, or by
# a service manager stopping the whole process group (systemd does), whichever
# reached it first. That is a clean stop, not a failure.
_STOPPED = {0, -signal.SIGTERM, -signal.SIGINT}


def _exit_status(returncode: int | None) -> int:
    return 0 if returncode is None or returncode in _STOPPED else abs(returncode)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000))
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="install the instance configuration and create its storage, then exit"
        " (for service managers that start the daemon and the webserver separately)",
    )
    args = parser.parse_args(argv)
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        print("error: DAGSTER_HOME is not set (make serve sets it)", file=sys.stderr)
        return 2
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    try:
        if args.prepare_only:
            home_dir = Path(home).resolve()
            install_instance(home_dir)
            print(f"Instance ready in {home_dir} (storage: {prepare_instance(home_dir)})")
            return 0
        return serve(args.host, args.port, Path(home).resolve())
    except ServeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
