"""Object storage: ``s3://bucket/prefix`` raw, assets and state directories.

The pipeline's core works on local folders (archive, states, Parquet, workbooks,
DuckDB). Rather than teach every module a second file system, a directory given as an
``s3://`` URL is worked on through a *working copy*: a local folder (under
``CLUSTERIX_CACHE_DIR``, else the user's cache folder) keyed by the URL. A run pulls
the copy before it starts and pushes what changed when it ends (``core/sync.py``), under
the writer lock, which is what makes pull-run-push safe against a second writer.

Pulling and pushing compare against a record of what the copy held at the last sync
(key, size, ETag, and the local size and modification time), so a run after one
changed workbook transfers one workbook, not the bucket.

Credentials, region and endpoint are boto3's: the standard ``AWS_*`` variables,
``AWS_ENDPOINT_URL`` included, or a profile. boto3 is imported only when a location is
remote: it costs ~0.4 s, which every process loading the code location would pay.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.platform.failures import OperationalError

SCHEME = "s3://"
CACHE_ENV = "CLUSTERIX_CACHE_DIR"
MANIFEST = "manifest.json"
HISTORY = "history/"
TRANSFER_THREADS = 8
# Never synced: the local writer, steps and set-up locks (the S3 lock is an object of its
# own) and the temporary files of atomic writes a killed run may have left.
LOCAL_ONLY = re.compile(r"(^|/)(\.writer\.lock|\.writer\.steps|\.setup\.lock|\..*\.tmp)$")
ACCESS_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
    "ExpiredToken",
    "AccessDenied",
    "403",
}


class StorageError(OperationalError):
    """Object storage refused or could not be reached; the message says which and why."""


@dataclass(frozen=True)
class S3Url:
    """A bucket and a key prefix (without its trailing slash; empty for the whole bucket)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, location: str) -> S3Url:
        bucket, _, prefix = location.removeprefix(SCHEME).partition("/")
        if not bucket:
            raise StorageError(f"{location} names no bucket: write s3://bucket/prefix")
        return cls(bucket, prefix.strip("/"))

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def relative(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}".rstrip("/")


def is_remote(location: str | os.PathLike[str] | None) -> bool:
    return location is not None and str(location).startswith(SCHEME)


def cache_root() -> Path:
    """Where working copies live: ``CLUSTERIX_CACHE_DIR``, else ``$XDG_CACHE_HOME/clusterix``."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "clusterix"


def working_copy(location: str, purpose: str = "run") -> Path:
    """The local folder standing for ``location``; ``purpose`` keeps the sensor's copy
    apart from a run's, since the daemon may pull while a run is working."""
    url = S3Url.parse(location)
    digest = hashlib.sha256(str(url).encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{url.bucket}-{url.prefix}").strip("-")[:60]
    return cache_root() / f"{slug}-{digest}" / purpose


def local_dir(location: str) -> Path:
    """The folder the pipeline works in for ``location``: itself, or its working copy."""
    return working_copy(location) if is_remote(location) else Path(location).resolve()


@functools.lru_cache(maxsize=8)
def _client(_environment: tuple[str | None, ...]) -> Any:
    import boto3
    from botocore.config import Config

    # Few retries and short connect timeouts: an unreachable endpoint should be said
    # within seconds, not after botocore's minutes of back-off.
    config = Config(
        retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60
    )
    return boto3.session.Session().client("s3", config=config)


def client() -> Any:
    """An S3 client for the current ``AWS_*`` environment (cached while it is unchanged)."""
    names = (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_PROFILE",
    )
    return _client(tuple(os.environ.get(name) for name in names))


def storage_error(exc: Exception, url: S3Url | str) -> StorageError:
    """One line for an S3 failure: a missing bucket, refused credentials, no endpoint."""
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return StorageError(
            f"no credentials for {url}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            " (or AWS_PROFILE)"
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), error.get("Message") or ""
        bucket = url.bucket if isinstance(url, S3Url) else S3Url.parse(str(url)).bucket
        if code in ("NoSuchBucket", "404") and "Key" not in error:
            return StorageError(f"the bucket '{bucket}' of {url} does not exist")
        if code in ACCESS_CODES:
            return StorageError(
                f"object storage refused access to {url} ({code}): check AWS_ACCESS_KEY_ID,"
                " AWS_SECRET_ACCESS_KEY and the bucket's permissions"
            )
        return StorageError(f"object storage failed on {url}: {code} {message}".strip())
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "the AWS endpoint")
    return StorageError(f"cannot reach object storage ({endpoint}) for {url}: {exc}")


@contextlib.contextmanager
def translated(url: S3Url | str) -> Iterator[None]:
    """Raise boto's errors as one-line :class:`StorageError`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise storage_error(exc, url) from exc


@dataclass(frozen=True)
class Remote:
    size: int
    etag: str
    modified: float


def listing(url: S3Url) -> dict[str, Remote]:
    """Every object under the prefix, by path relative to it (one LIST per 1,000 objects).

    Listing is strongly consistent on S3 (since December 2020), so an object written
    before the listing started is in it.
    """
    found: dict[str, Remote] = {}
    prefix = f"{url.prefix}/" if url.prefix else ""
    with translated(url):
        pages = client().get_paginator("list_objects_v2").paginate(Bucket=url.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                relative = url.relative(item["Key"])
                if relative and not relative.endswith("/") and not LOCAL_ONLY.search(relative):
                    found[relative] = Remote(
                        item["Size"], item["ETag"], item["LastModified"].timestamp()
                    )
    return found


def read_object(location: str, relative: str) -> bytes | None:
    """One small object's bytes (None when there is none), without a working copy."""
    from botocore.exceptions import ClientError

    url = S3Url.parse(location)
    with translated(url):
        try:
            return client().get_object(Bucket=url.bucket, Key=url.key(relative))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise


def _record_file(local: Path) -> Path:
    return local.parent / f"{local.name}.sync.json"


def _read_record(local: Path) -> dict[str, list]:
    try:
        return json.loads(_record_file(local).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_record(local: Path, record: dict[str, list]) -> None:
    target = _record_file(local)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, sort_keys=True), encoding="utf-8")
    os.replace(tmp, target)


def _local_files(local: Path) -> dict[str, os.stat_result]:
    if not local.is_dir():
        return {}
    return {
        path.relative_to(local).as_posix(): path.stat()
        for path in local.rglob("*")
        if path.is_file() and not LOCAL_ONLY.search(path.relative_to(local).as_posix())
    }


def _unchanged(entry: list | None, info: os.stat_result) -> bool:
    return entry is not None and entry[2:] == [info.st_size, info.st_mtime_ns]


def _parallel(work: Callable[[str], list], keys: Iterable[str]) -> dict[str, list]:
    with ThreadPoolExecutor(TRANSFER_THREADS) as pool:
        keys = list(keys)
        return dict(zip(keys, pool.map(work, keys), strict=True))


def pull(location: str, local: Path | None = None) -> int:
    """Make ``local`` (default: the run's working copy) hold exactly what ``location``
    holds; download only new or changed objects. Returns how many were downloaded."""
    url = S3Url.parse(location)
    local = local or working_copy(location)
    remote = listing(url)
    record = _read_record(local)
    here = _local_files(local)

    def current(relative: str, obj: Remote) -> bool:
        entry = record.get(relative)
        return (
            relative in here
            and _unchanged(entry, here[relative])
            and entry is not None
            and entry[:2] == [obj.size, obj.etag]
        )

    stale = [relative for relative, obj in remote.items() if not current(relative, obj)]

    def download(relative: str) -> list:
        target = local / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.pull.tmp"
        client().download_file(url.bucket, url.key(relative), str(tmp))
        modified = remote[relative].modified
        os.utime(tmp, (modified, modified))  # the sensor sees S3's time, not the download's
        os.replace(tmp, target)
        info = target.stat()
        return [remote[relative].size, remote[relative].etag, info.st_size, info.st_mtime_ns]

    with translated(url):
        fetched = _parallel(download, stale)
    for relative in set(here) - set(remote):
        (local / relative).unlink()
    _remove_empty_folders(local)
    kept = {key: record[key] for key in remote if key not in fetched}
    _write_record(local, {**kept, **fetched})
    return len(fetched)


def _remove_empty_folders(local: Path) -> None:
    """An emptied ``history/<run_id>/`` would otherwise look like a snapshot."""
    if not local.is_dir():
        local.mkdir(parents=True, exist_ok=True)
        return
    for folder in sorted((p for p in local.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()


def fresh_copy(location: str, purpose: str) -> Path:
    """A folder holding what ``location`` holds now: itself, or a working copy of its own
    for ``purpose`` brought up to date (one LIST, plus the downloads of what changed)."""
    if not is_remote(location):
        return Path(location).resolve()
    copy = working_copy(location, purpose)
    pull(location, copy)
    return copy


def publication_rank(relative: str) -> int:
    """Upload order: a snapshot's data, then its manifest, then the stable files, then
    ``manifest.json`` last, so a reader who follows the manifest never meets a file
    that is not there yet. Removals come after all of them."""
    if relative == MANIFEST:
        return 3
    if relative.startswith(HISTORY):
        return 1 if relative.endswith(f"/{MANIFEST}") else 0
    return 2


def push(location: str, local: Path | None = None) -> int:
    """Upload what changed in ``local`` since the last sync, in publication order, then
    remove the objects whose files the run removed. Returns how many were uploaded.

    Each upload is one PUT, which S3 makes visible whole or not at all. Objects written
    by someone else since the pull are never removed: only keys recorded at the pull
    are candidates.
    """
    url = S3Url.parse(location)
    local = local or working_copy(location)
    record = _read_record(local)
    here = _local_files(local)
    changed = [key for key, info in here.items() if not _unchanged(record.get(key), info)]

    def upload(relative: str) -> list:
        path = local / relative
        info = path.stat()
        with path.open("rb") as body:
            etag = client().put_object(Bucket=url.bucket, Key=url.key(relative), Body=body)["ETag"]
        return [info.st_size, etag, info.st_size, info.st_mtime_ns]

    uploaded: dict[str, list] = {}
    with translated(url):
        for rank in sorted({publication_rank(key) for key in changed}):
            batch = [key for key in changed if publication_rank(key) == rank]
            uploaded.update(_parallel(upload, batch))
        removed = sorted(set(record) - set(here))
        for start in range(0, len(removed), 1000):
            objects = [{"Key": url.key(key)} for key in removed[start : start + 1000]]
            answer = client().delete_objects(Bucket=url.bucket, Delete={"Objects": objects})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise StorageError(
                    f"could not remove {first['Key']} from {url}: {first.get('Message', '')}"
                )
    kept = {key: record[key] for key in here if key in record and key not in uploaded}
    _write_record(local, {**kept, **uploaded})
    return len(uploaded)
