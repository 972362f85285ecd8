"""The archive of every file version.

Every version a partner submitted is kept under its SHA-256, so that every published
figure traces to exact bytes. The bytes archived are the very bytes that were hashed
and parsed (never the file re-read later, which a sync tool may have replaced).

A version is written under a temporary name in its folder and renamed into place (see
:mod:`pipelines.platform.files`), so two runs writing it at once never mix their bytes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from pipelines.platform.files import temp_prefix


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
