"""The archive of every file version, and the temporary files of interrupted writes.

Every version a partner submitted is kept under its SHA-256, so that every published
figure traces to exact bytes. The bytes archived are the very bytes that were hashed
and parsed (never the file re-read later, which a sync tool may have replaced).

Files are written under a temporary name in the target folder and renamed into place,
so two runs writing the same version at once never mix their bytes. The temporary
name carries the writer's process id: a run killed half-way leaves a temporary file
that the next run recognises as abandoned and removes.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

# A temporary file whose writer cannot be identified is abandoned after this long
# (the writes it stands for take well under a second).
STALE_AFTER_SECONDS = 3600
_TEMP_NAME = re.compile(r"^\..+\.tmp$")
_WRITER = re.compile(r"\.pid(\d+)\.")


def temp_prefix(target: Path) -> str:
    """The prefix of a temporary file for ``target``: hidden, naming the writing process."""
    return f".{target.name}.pid{os.getpid()}."


def archive_bytes(data: bytes, sha256: str, suffix: str, archive_dir: Path) -> Path:
    """Keep the exact bytes of a file version once, named by its SHA-256."""
    target = archive_dir / sha256[:2] / f"{sha256}{suffix.lower()}"
    if target.is_file() and target.stat().st_size == len(data):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(name, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
    return target


def _writer_alive(name: str) -> bool | None:
    """Whether the process named in a temporary file's name still runs (None: unnamed)."""
    match = _WRITER.search(name)
    if match is None:
        return None
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_stale_temp_files(folder: Path, now: float | None = None) -> list[Path]:
    """Remove the temporary files that interrupted writes left under ``folder``.

    A temporary file is abandoned when the process named in it has ended, or, for one
    that names none, when it is older than :data:`STALE_AFTER_SECONDS`. A write in
    progress (its process alive, or its file fresh) is left alone.
    """
    if not folder.is_dir():
        return []
    now = time.time() if now is None else now
    removed = []
    for path in folder.rglob(".*.tmp"):
        if not _TEMP_NAME.match(path.name) or not path.is_file():
            continue
        alive = _writer_alive(path.name)
        try:
            old = now - path.stat().st_mtime > STALE_AFTER_SECONDS
        except FileNotFoundError:
            continue
        if alive is False or old:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            removed.append(path)
    return removed
