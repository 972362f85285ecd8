"""Failures of the surroundings, not of the data or the code, said in one line.

An unreachable database, a read-only or full disk: the operator needs to know which
thing to fix, not a Python traceback. Everything else is left to raise, since a bug
should show where it is.
"""

from __future__ import annotations

import errno

DATABASE_MODULES = ("psycopg", "sqlalchemy", "dagster_postgres")
DISK_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


class OperationalError(RuntimeError):
    """A failure of the surroundings whose message is already the one line to show
    (object storage raises its refusals as these)."""


def root_cause(exc: BaseException) -> str:
    """The first line of the innermost cause: the driver's or kernel's own words."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _disk_error(exc: BaseException) -> OSError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in DISK_ERRNOS:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def operational_error(exc: BaseException) -> str | None:
    """One line saying what in the surroundings failed, or None for any other error."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OperationalError):
            return f"{seen}; files already published were left as they were"
        seen = seen.__cause__ or seen.__context__
    if type(exc).__module__.startswith(DATABASE_MODULES):
        return f"cannot open the Dagster instance's database: {root_cause(exc)}"
    disk = _disk_error(exc)
    if disk is not None:
        where = f" {disk.filename}" if disk.filename else ""
        return (
            f"cannot write{where}: {DISK_ERRNOS[disk.errno]}; files already published"
            " were left as they were"
        )
    return None
