"""The one-writer lock when the state directory is ``s3://``: an object made with a
conditional PUT.

``flock`` cannot lock an object. S3 offers conditional writes instead (August 2024):
a PUT with ``If-None-Match: *`` succeeds only if the key does not exist, and one with
``If-Match: <etag>`` only if the object is still the version read. So:

- taking the lock is creating ``<state>/.writer.lock`` with ``If-None-Match: *``; of
  two runs trying at once exactly one gets 200, the other 412;
- the holder rewrites it every ``ttl / 3`` seconds (a heartbeat, with ``If-Match`` on
  its own last version, so it notices if the lock was taken from it);
- a run that finds the object older than its holder's ``ttl`` (by the server's clock:
  its ``Last-Modified`` against the response's ``Date``, so host clocks do not matter)
  knows the holder died (``kill -9``, a lost machine) and takes it over with
  ``If-Match`` on that stale version, which again only one contender can win;
- releasing deletes it (``If-Match`` on the holder's version).

A kernel lock is released when its process dies; this one is cleared ``ttl`` seconds
after the heartbeat stops (``CLUSTERIX_LOCK_TTL``, default 60 s).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pipelines.platform.storage import S3Url, client, translated
from pipelines.platform.writer_lock import (
    LOCK_NAME,
    POLL_SECONDS,
    TIMEOUT_ENV,
    Holder,
    WriterBusy,
    lock_timeout,
)

TTL_ENV = "CLUSTERIX_LOCK_TTL"
DEFAULT_TTL_SECONDS = 60.0
LOST_HOLD = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


def lock_ttl() -> float:
    """Seconds without a heartbeat after which a lock counts as left by a dead run."""
    configured = os.environ.get(TTL_ENV, "").strip()
    try:
        return max(1.0, float(configured)) if configured else DEFAULT_TTL_SECONDS
    except ValueError as exc:
        raise ValueError(f"{TTL_ENV} must be a number of seconds, not {configured!r}") from exc


def _refused(exc: ClientError) -> bool:
    """A conditional write lost: someone else's version is there."""
    return str(exc.response.get("Error", {}).get("Code")) in LOST_HOLD


class RemoteLock:
    """A held lock object: keeps its heartbeat and can tell whether it is still held."""

    def __init__(self, url: S3Url, holder: Holder, ttl: float):
        self.url, self.key, self.holder, self.ttl = url, url.key(LOCK_NAME), holder, ttl
        self._etag: str | None = None
        self._lost = False
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True)

    def _body(self) -> bytes:
        beat = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return json.dumps({**asdict(self.holder), "ttl": self.ttl, "heartbeat": beat}).encode()

    def try_take(self, say: Callable[[str], None]) -> bool:
        """Create the lock object, or take over one whose holder's heartbeat stopped."""
        try:
            answer = client().put_object(
                Bucket=self.url.bucket, Key=self.key, Body=self._body(), IfNoneMatch="*"
            )
        except ClientError as exc:
            if not _refused(exc):
                raise
        else:
            self._etag = answer["ETag"]
            return True
        found = read_lock(self.url)
        if found is None or found[2] <= found[1]:
            return False  # released meanwhile (retry next poll), or alive
        stale_holder, _, age, stale_etag = found
        try:
            answer = client().put_object(
                Bucket=self.url.bucket, Key=self.key, Body=self._body(), IfMatch=stale_etag
            )
        except ClientError as exc:
            if _refused(exc):
                return False  # another waiter took it over first
            raise
        self._etag = answer["ETag"]
        who = stale_holder.describe() if stale_holder else "an unknown run"
        say(
            f"Cleared the writer lock left by {who}, whose heartbeat stopped {age:.0f} s ago;"
            " this run carries on from the last completed write."
        )
        return True

    def start(self) -> None:
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            with self._guard:
                try:
                    answer = client().put_object(
                        Bucket=self.url.bucket, Key=self.key, Body=self._body(), IfMatch=self._etag
                    )
                    self._etag = answer["ETag"]
                except ClientError as exc:
                    if _refused(exc) or "NoSuchKey" in str(exc):
                        self._lost = True
                        return
                except BotoCoreError:
                    pass  # a network blip: the next beat tries again

    def check(self) -> None:
        """Raise unless this run still holds the lock (before anything is pushed)."""
        with self._guard:
            found = read_lock(self.url)
            if self._lost or found is None or found[3] != self._etag:
                raise WriterBusy(
                    f"the writer lock on {self.url} was taken over (this run's heartbeat"
                    f" stopped for over {self.ttl:.0f} s); nothing of this run was published"
                )

    def release(self) -> None:
        """Delete the lock object. If that fails (the network went), the run's work is
        still done: the next run finds the lock stale after ``ttl`` and clears it."""
        self._stop.set()
        if self._beat.is_alive():
            self._beat.join()
        with contextlib.suppress(ClientError, BotoCoreError), self._guard:
            client().delete_object(Bucket=self.url.bucket, Key=self.key, IfMatch=self._etag)


def read_lock(url: S3Url) -> tuple[Holder | None, float, float, str] | None:
    """The lock object's holder, its ttl, its age by the server's clock, and its ETag."""
    with translated(url):
        try:
            answer = client().get_object(Bucket=url.bucket, Key=url.key(LOCK_NAME))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        body = answer["Body"].read()
    server_now = email.utils.parsedate_to_datetime(
        answer["ResponseMetadata"]["HTTPHeaders"]["date"]
    )
    age = (server_now - answer["LastModified"]).total_seconds()
    try:
        content: dict[str, Any] = json.loads(body)
        ttl = float(content.pop("ttl", DEFAULT_TTL_SECONDS))
        content.pop("heartbeat", None)
        holder: Holder | None = Holder(**content)
    except (ValueError, TypeError):
        holder, ttl = None, DEFAULT_TTL_SECONDS
    return holder, ttl, age, answer["ETag"]


# Lock objects this process holds: URL -> (lock, nesting depth); re-entrant like the
# local lock, since ``clusterix run`` holds it when the in-process run asks again.
_held: dict[str, tuple[RemoteLock, int]] = {}
_held_guard = threading.Lock()


@contextlib.contextmanager
def remote_writer_lock(
    location: str,
    *,
    command: str,
    run_id: str | None = None,
    timeout: float | None = None,
    say: Callable[[str], None] = lambda _message: None,
) -> Iterator[RemoteLock]:
    """Hold ``<location>/.writer.lock``; wait up to ``timeout`` seconds for it.

    Raises ``WriterBusy`` when the wait times out and ``StorageError`` when the bucket
    is missing or the credentials are refused.
    """
    url = S3Url.parse(location)
    with _held_guard:
        held = _held.get(str(url))
        if held is not None:
            _held[str(url)] = (held[0], held[1] + 1)
    if held is not None:
        try:
            yield held[0]
        finally:
            _leave(str(url))
        return
    since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    lock = RemoteLock(
        url, Holder(os.getpid(), socket.gethostname(), command, run_id, since), lock_ttl()
    )
    with translated(url):
        _acquire(lock, url, lock_timeout() if timeout is None else timeout, say)
    lock.start()
    with _held_guard:
        _held[str(url)] = (lock, 1)
    try:
        yield lock
    finally:
        _leave(str(url))


def _acquire(lock: RemoteLock, url: S3Url, timeout: float, say: Callable[[str], None]) -> None:
    if lock.try_take(say):
        return
    found = read_lock(url)
    who = found[0].describe() if found and found[0] else "another run"
    if timeout <= 0:
        raise WriterBusy(
            f"{url} is being written by {who}; not waiting"
            f" (set {TIMEOUT_ENV} or --wait to wait for it)."
        )
    say(f"Waiting up to {timeout:.0f} s for {who} to finish writing {url}...")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        if lock.try_take(say):
            return
    raise WriterBusy(f"{url} is still being written by {who} after {timeout:.0f} s; gave up.")


def _leave(key: str) -> None:
    with _held_guard:
        lock, depth = _held[key]
        if depth > 1:
            _held[key] = (lock, depth - 1)
            return
        del _held[key]
    lock.release()
