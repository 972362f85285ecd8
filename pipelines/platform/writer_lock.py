"""One writer at a time: an exclusive, re-entrant lock on the state directory for the
length of a run.

Every writer (``clusterix run``, a Dagster run, a review) holds ``<state>/.writer.lock``;
a process that dies releases it. A run's step processes hold ``<state>/.writer.steps``
shared (:func:`step_guard`), and a new holder waits for the steps of an ended run.
Why it is built this way: docs/design/writer-lock.md.
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
from typing import Generic, TypeVar

from pipelines.platform.settings import LOCK_TIMEOUT_ENV, settings

LOCK_NAME = ".writer.lock"
STEPS_NAME = ".writer.steps"
POLL_SECONDS = 0.5
K = TypeVar("K")
L = TypeVar("L")


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


def read_holder(lock_file: Path) -> Holder | None:
    """The holder recorded in the lock file, or None when it is empty or unreadable."""
    try:
        text = lock_file.read_text(encoding="utf-8").strip()
        return Holder(**json.loads(text)) if text else None
    except (OSError, ValueError, TypeError):
        return None


class HeldLocks(Generic[K, L]):
    """The locks this process holds, by key, each with how many times it was entered: a
    writer lock is re-entrant (``clusterix run`` holds it when its in-process run asks
    again), local or remote alike."""

    def __init__(self) -> None:
        self._held: dict[K, tuple[L, int]] = {}
        self._guard = threading.Lock()

    def reenter(self, key: K) -> L | None:
        """The lock held under ``key``, entered once more; None when it is not held."""
        with self._guard:
            held = self._held.get(key)
            if held is not None:
                self._held[key] = (held[0], held[1] + 1)
            return None if held is None else held[0]

    def hold(self, key: K, lock: L) -> None:
        with self._guard:
            self._held[key] = (lock, 1)

    def leave(self, key: K) -> L | None:
        """Leave once; the lock to release when its last holder left, else None."""
        with self._guard:
            lock, depth = self._held[key]
            if depth > 1:
                self._held[key] = (lock, depth - 1)
                return None
            del self._held[key]
            return lock


def wait_to_take(
    take: Callable[[], bool],
    holder: Callable[[], str],
    what: str,
    timeout: float,
    say: Callable[[str], None],
) -> None:
    """Take a lock with ``take()``, trying again every POLL_SECONDS for up to ``timeout``
    seconds (0: once); raise WriterBusy naming the ``holder()`` of ``what`` otherwise."""
    if take():
        return
    who = holder()
    if timeout <= 0:
        raise WriterBusy(
            f"{what} is being written by {who}; not waiting"
            f" (set {LOCK_TIMEOUT_ENV} or --wait to wait for it)."
        )
    say(f"Waiting up to {timeout:.0f} s for {who} to finish writing {what}...")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        if take():
            return
    raise WriterBusy(f"{what} is still being written by {holder()} after {timeout:.0f} s; gave up.")


_HELD: HeldLocks[Path, int] = HeldLocks()  # lock file -> its descriptor


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
    if _HELD.reenter(lock_file) is not None:
        try:
            yield lock_file
        finally:
            _release(lock_file)
        return

    fd = _open(lock_file)
    wait = settings().lock_timeout if timeout is None else timeout
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
    _HELD.hold(lock_file, fd)
    try:
        yield lock_file
    finally:
        _release(lock_file)


def _acquire(fd: int, lock_file: Path, timeout: float, say: Callable[[str], None]) -> None:
    def holder() -> str:
        found = read_holder(lock_file)
        return found.describe() if found else "another run"

    wait_to_take(lambda: _try_flock(fd), holder, str(lock_file.parent), timeout, say)


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
    fd = _HELD.leave(lock_file)
    if fd is None:
        return
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
