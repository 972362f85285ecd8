"""One writer at a time: an exclusive lock on the state directory for the length of a run.

Two runs over the same state and assets directories would interleave their archive,
state and table writes (measured: crashes on shared temporary names and a corrupt
instance set-up). Every writer - ``clusterix run``, or a Dagster run started by the
sensor, the schedule or the UI - therefore holds ``<state>/.writer.lock`` while it runs.

The lock is an ``fcntl.flock`` on that file. The kernel releases it when the holding
process ends, however it ends, so a run killed with ``kill -9`` can never leave the
pipeline locked: the file's *content* (who holds it, since when) is only information.
A holder that releases normally empties the file; a new holder that finds content left
behind knows the previous run died without releasing, says so, and overwrites it.

A run's step processes (the multiprocess executor's) outlive an orchestrating process
killed with ``kill -9``: its lock goes with it, but they carry on writing (seen: two
ingest chunks saving their states seconds later). So each such step process holds
``<state>/.writer.steps`` *shared* while it runs (:func:`step_guard`), and a new holder
of the lock, once it has written its record, waits for an exclusive hold on it: for
every step left behind to end. A step of the ended run that starts later reads that
the lock is no longer its run's, and stops.

The lock is re-entrant within one process (``clusterix run`` takes it before creating
the Dagster instance, then the in-process run asks again), because two ``flock`` calls
on separate descriptors of one file conflict even inside a single process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

LOCK_NAME = ".writer.lock"
STEPS_NAME = ".writer.steps"
TIMEOUT_ENV = "CLUSTERIX_LOCK_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 3600.0
POLL_SECONDS = 0.5


class WriterBusy(RuntimeError):
    """Another run holds the state directory and did not finish within the timeout."""


class LockUnavailable(RuntimeError):
    """The lock file cannot be created (missing permission, read-only file system...)."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the lock: enough for a waiting user to find the run."""

    pid: int
    host: str
    command: str
    run_id: str | None
    since: str

    def describe(self) -> str:
        run = f"run {self.run_id}, " if self.run_id else ""
        return f"{self.command} ({run}pid {self.pid} on {self.host}, since {self.since})"


def lock_timeout() -> float:
    """Seconds a run waits for the lock (``CLUSTERIX_LOCK_TIMEOUT``; 0 = fail at once)."""
    configured = os.environ.get(TIMEOUT_ENV, "").strip()
    if not configured:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        return max(0.0, float(configured))
    except ValueError as exc:
        raise ValueError(f"{TIMEOUT_ENV} must be a number of seconds, not {configured!r}") from exc


def read_holder(lock_file: Path) -> Holder | None:
    """The holder recorded in the lock file, or None when it is empty or unreadable."""
    try:
        text = lock_file.read_text(encoding="utf-8").strip()
        return Holder(**json.loads(text)) if text else None
    except (OSError, ValueError, TypeError):
        return None


# Lock files this process holds: path -> (descriptor, nesting depth).
_held: dict[Path, tuple[int, int]] = {}
_held_guard = threading.Lock()


def _open(lock_file: Path) -> int:
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        return os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LockUnavailable(
            f"cannot create the writer lock {lock_file}: {exc.strerror or exc}"
        ) from exc


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _write_holder(fd: int, holder: Holder) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(asdict(holder)) + "\n").encode(), 0)


@contextlib.contextmanager
def writer_lock(
    state_dir: Path,
    *,
    command: str,
    run_id: str | None = None,
    timeout: float | None = None,
    say: Callable[[str], None] = lambda _message: None,
) -> Iterator[Path]:
    """Hold the state directory's writer lock; wait up to ``timeout`` seconds for it.

    ``say`` receives one line when the run has to wait (naming the holder) and one
    when a lock left by a killed run is cleared. Raises ``WriterBusy`` when the wait
    times out (``timeout=0``: do not wait) and ``LockUnavailable`` when the lock file
    cannot be made.
    """
    lock_file = (Path(state_dir) / LOCK_NAME).resolve()
    with _held_guard:
        if lock_file in _held:
            fd, depth = _held[lock_file]
            _held[lock_file] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield lock_file
        finally:
            _release(lock_file)
        return

    fd = _open(lock_file)
    wait = lock_timeout() if timeout is None else timeout
    try:
        _acquire(fd, lock_file, wait, say)
    except BaseException:
        os.close(fd)
        raise
    left_behind = read_holder(lock_file)
    if left_behind is not None:
        say(
            f"Cleared the writer lock left by {left_behind.describe()}, which ended without"
            " releasing it; this run carries on from the last completed write."
        )
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    _write_holder(fd, Holder(os.getpid(), socket.gethostname(), command, run_id, now))
    try:
        # After the new record: a step of the ended run that starts from now on reads
        # that the lock is no longer its run's, and stops (step_guard).
        _wait_for_steps(lock_file.with_name(STEPS_NAME), wait, say)
    except BaseException:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)
        raise
    with _held_guard:
        _held[lock_file] = (fd, 1)
    try:
        yield lock_file
    finally:
        _release(lock_file)


def _acquire(fd: int, lock_file: Path, timeout: float, say: Callable[[str], None]) -> None:
    if _try_flock(fd):
        return
    holder = read_holder(lock_file)
    who = holder.describe() if holder else "another run"
    if timeout <= 0:
        raise WriterBusy(
            f"{lock_file.parent} is being written by {who}; not waiting"
            f" (set {TIMEOUT_ENV} or --wait to wait for it)."
        )
    say(f"Waiting up to {timeout:.0f} s for {who} to finish writing {lock_file.parent}...")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        if _try_flock(fd):
            return
    holder = read_holder(lock_file) or holder
    who = holder.describe() if holder else "another run"
    raise WriterBusy(
        f"{lock_file.parent} is still being written by {who} after {timeout:.0f} s; gave up."
    )


def _wait_for_steps(steps_file: Path, timeout: float, say: Callable[[str], None]) -> None:
    """Wait, holding the lock, until no step process of an earlier run is at work."""
    fd = _open(steps_file)
    try:
        if _try_flock(fd):
            return
        say(
            f"Waiting up to {timeout:.0f} s for the step processes of a run that ended"
            f" without releasing the lock to finish writing {steps_file.parent}..."
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            if _try_flock(fd):
                return
        raise WriterBusy(
            f"step processes of a run that ended are still writing {steps_file.parent}"
            f" after {timeout:.0f} s; gave up."
        )
    finally:
        os.close(fd)  # releases the exclusive hold: this run's steps take it shared


@contextlib.contextmanager
def step_guard(state_dir: Path, run_id: str) -> Iterator[None]:
    """Hold the steps file shared while one step of run ``run_id`` writes ``state_dir``.

    Raises ``WriterBusy`` when another writer holds the lock: the step is left over from
    a run that ended. (A run started without the lock, as tests do, goes ahead.)
    """
    fd = _open(Path(state_dir) / STEPS_NAME)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        holder = read_holder(Path(state_dir) / LOCK_NAME)
        if holder is not None and holder.run_id != run_id:
            raise WriterBusy(
                f"{state_dir} is now written by {holder.describe()}; this step of run"
                f" {run_id}, which ended without releasing the lock, stops here."
            )
        yield
    finally:
        os.close(fd)


def _release(lock_file: Path) -> None:
    with _held_guard:
        fd, depth = _held[lock_file]
        if depth > 1:
            _held[lock_file] = (fd, depth - 1)
            return
        del _held[lock_file]
    # Empty the file before unlocking: content left in an unlocked file means a holder
    # died, which is what the next holder reports.
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@contextlib.contextmanager
def setup_lock(directory: Path) -> Iterator[None]:
    """Serialise one-time set-up in ``directory`` (the Dagster instance's SQLite schema).

    Two processes creating a fresh instance at once race on its tables (measured:
    ``table jobs already exists``); holding this for the few hundred milliseconds of
    set-up makes the second one find the schema finished.
    """
    fd = _open(Path(directory) / ".setup.lock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
