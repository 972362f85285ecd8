"""A full or read-only assets disk stops ``clusterix run`` with one clear line, and what
was published before stays as it was. The disk is a real, small tmpfs mounted for the
test (which needs root, as in CI); elsewhere the test is skipped with the reason."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# ``clusterix run`` on this checkout's code (a console script runs the installed one).
CLUSTERIX = [sys.executable, "-m", "pipelines.app.cli"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB file system of its own for the assets directory."""
    mount_point = tmp_path / "assets"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _run(tmp_path: Path, assets: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "CLUSTERIX_RAW_DIR": str(tmp_path / "raw"),
        "CLUSTERIX_ASSETS_DIR": str(assets),
        "CLUSTERIX_STATE_DIR": str(tmp_path / "state"),
    }
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [*CLUSTERIX, "run"], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )


def _published(assets: Path) -> dict[str, str]:
    return {
        str(path.relative_to(assets)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(assets.rglob("*"))
        if path.is_file() and path.name != ".filler"
    }


def _fill(disk: Path) -> None:
    with open(disk / ".filler", "wb", buffering=0) as filler:  # nothing left to flush at close
        try:
            while True:
                filler.write(b"\0" * 65536)
        except OSError:
            pass


def test_full_then_read_only_disk_fail_in_one_line_and_keep_what_was_published(
    tmp_path, small_disk
):
    shutil.copytree(REPO / "raw" / "P1", tmp_path / "raw" / "P1")
    first = _run(tmp_path, small_disk)
    assert first.returncode == 0, first.stderr
    published = _published(small_disk)
    assert "submissions.parquet" in published

    _fill(small_disk)
    full = _run(tmp_path, small_disk)

    assert full.returncode == 1
    assert "Traceback" not in full.stderr
    (error,) = [line for line in full.stderr.splitlines() if line.startswith("error:")]
    assert "No space left on device" in error
    assert error.endswith(
        "(nothing was published: the previous tables, report, feedback and data dictionary"
        " are unchanged)"
    )
    assert _published(small_disk) == published

    (small_disk / ".filler").unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    read_only = _run(tmp_path, small_disk)

    assert read_only.returncode == 1
    assert "Traceback" not in read_only.stderr
    (error,) = [line for line in read_only.stderr.splitlines() if line.startswith("error:")]
    assert "Read-only file system" in error
    assert _published(small_disk) == published

    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    again = _run(tmp_path, small_disk)
    assert again.returncode == 0, again.stderr
