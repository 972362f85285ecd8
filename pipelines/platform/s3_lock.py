"""The one-writer lock when the state directory is ``s3://``: an object made with a
conditional PUT, kept alive by a heartbeat, taken over once its holder's heartbeat is
older than ``CLUSTERIX_LOCK_TTL`` (default 60 s). Why: docs/design/s3-lock.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pipelines.platform.settings import DEFAULT_LOCK_TTL_SECONDS, settings
from pipelines.platform.storage import S3Url, client, translated
from pipelines.platform.writer_lock import (
    LOCK_NAME,
    HeldLocks,
    Holder,
    WriterBusy,
    wait_to_take,
)

LOST_HOLD = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


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
        ttl = float(content.pop("ttl", DEFAULT_LOCK_TTL_SECONDS))
        content.pop("heartbeat", None)
        holder: Holder | None = Holder(**content)
    except (ValueError, TypeError):
        holder, ttl = None, DEFAULT_LOCK_TTL_SECONDS
    return holder, ttl, age, answer["ETag"]


# Lock objects this process holds: URL -> (lock, nesting depth); re-entrant like the
# local lock, since ``clusterix run`` holds it when the in-process run asks again.
_HELD: HeldLocks[str, RemoteLock] = HeldLocks()


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
    held = _HELD.reenter(str(url))
    if held is not None:
        try:
            yield held
        finally:
            _leave(str(url))
        return
    since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    lock = RemoteLock(
        url, Holder(os.getpid(), socket.gethostname(), command, run_id, since), settings().lock_ttl
    )
    with translated(url):
        _acquire(lock, url, settings().lock_timeout if timeout is None else timeout, say)
    lock.start()
    _HELD.hold(str(url), lock)
    try:
        yield lock
    finally:
        _leave(str(url))


def _acquire(lock: RemoteLock, url: S3Url, timeout: float, say: Callable[[str], None]) -> None:
    def holder() -> str:
        found = read_lock(url)
        return found[0].describe() if found and found[0] else "another run"

    wait_to_take(lambda: lock.try_take(say), holder, str(url), timeout, say)


def _leave(key: str) -> None:
    lock = _HELD.leave(key)
    if lock is not None:
        lock.release()
