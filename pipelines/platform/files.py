"""Files written whole or not at all, and the temporary files of interrupted writes.

A file is always either the previous complete version or the new complete version:
every write goes to a temporary name in the same folder and is renamed into place. The
temporary name carries the writer's process id, so a file a killed run left behind is
recognised as abandoned and removed by the next. A write that fails raises
:class:`PublishError` naming the file and the cause in one line, so a full disk reads as
such rather than as a stack of framework frames.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

# A temporary file whose writer cannot be identified is abandoned after this long
# (the writes it stands for take well under a second).
STALE_AFTER_SECONDS = 3600
_TEMP_NAME = re.compile(r"^\..+\.tmp$")
_WRITER = re.compile(r"\.pid(\d+)\.")


def temp_prefix(target: Path) -> str:
    """The prefix of a temporary file for ``target``: hidden, naming the writing process."""
    return f".{target.name}.pid{os.getpid()}."


# Called with the target of every atomic write just before it is renamed into place.
# Crash tests set it to fail at the n-th write of a real run; nothing else does.
fault_hook: Callable[[Path], None] | None = None


class PublishError(OSError):
    """A published file could not be written; the message names it and the cause."""


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it into place on success."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise PublishError(f"could not write {target}: {_cause(exc)}") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes owner-only files; published files are for BI users too.
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        if fault_hook is not None:
            fault_hook(target)
        os.replace(tmp_path, target)
    except PublishError:
        raise
    except OSError as exc:
        raise PublishError(f"could not write {target}: {_cause(exc)}") from exc
    finally:
        tmp_path.unlink(missing_ok=True)


def _cause(exc: OSError) -> str:
    """The operating system's reason, without the repeated file name."""
    return exc.strerror or str(exc) or type(exc).__name__


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(target: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(tmp)`` and move the result to ``target`` only if it succeeded."""
    with atomic_path(target) as tmp:
        write(tmp)
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
