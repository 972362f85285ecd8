"""The settings: one object read from the environment, each limit checked when used."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.platform.settings import Settings


def test_unset_settings_take_their_defaults():
    settings = Settings.from_environment({})
    assert (settings.raw, settings.assets, settings.state) == ("raw", "assets", "state")
    assert settings.raw_dir == Path("raw").resolve()
    assert settings.project_dir is None
    assert settings.keep_snapshots is None
    assert settings.ingest_chunks == 1
    assert settings.run_retention_days == 90
    assert settings.lock_timeout == 3600.0
    assert settings.lock_ttl == 60.0


def test_the_project_folder_comes_from_the_environment_and_the_old_name_is_refused(tmp_path):
    chosen = Settings.from_environment({"CLUSTERIX_PROJECT_DIR": str(tmp_path)})
    assert chosen.project_dir == tmp_path.resolve()
    old = Settings.from_environment({"CLUSTERIX_REFERENCE_DIR": str(tmp_path)})
    with pytest.raises(ValueError, match="CLUSTERIX_REFERENCE_DIR is now CLUSTERIX_PROJECT_DIR"):
        _ = old.project_dir


def test_the_environment_sets_each_directory_and_limit(tmp_path):
    settings = Settings.from_environment(
        {
            "CLUSTERIX_RAW_DIR": str(tmp_path / "drop"),
            "CLUSTERIX_STATE_DIR": "s3://bucket/state",
            "CLUSTERIX_KEEP_SNAPSHOTS": "3",
            "CLUSTERIX_INGEST_CHUNKS": " 2 ",
            "CLUSTERIX_RUN_RETENTION_DAYS": "0",
            "CLUSTERIX_LOCK_TIMEOUT": "-5",
            "CLUSTERIX_LOCK_TTL": "0.1",
        }
    )
    assert settings.raw_dir == tmp_path / "drop"
    assert settings.state == "s3://bucket/state"
    assert settings.assets == "assets"
    assert (settings.keep_snapshots, settings.ingest_chunks, settings.run_retention_days) == (
        3,
        2,
        0,
    )
    assert (settings.lock_timeout, settings.lock_ttl) == (0.0, 1.0)  # floored


def test_a_resource_overrides_only_the_locations_it_sets():
    settings = Settings.from_environment(
        {"CLUSTERIX_RAW_DIR": "in", "CLUSTERIX_KEEP_SNAPSHOTS": "2"}
    )
    moved = settings.overriding(assets="elsewhere")
    assert (moved.raw, moved.assets, moved.state) == ("in", "elsewhere", "state")
    assert moved.keep_snapshots == 2


@pytest.mark.parametrize(
    ("name", "value", "limit", "message"),
    [
        ("CLUSTERIX_KEEP_SNAPSHOTS", "0", "keep_snapshots", "must be at least 1, not 0"),
        ("CLUSTERIX_INGEST_CHUNKS", "0", "ingest_chunks", "must be at least 1, not 0"),
        ("CLUSTERIX_RUN_RETENTION_DAYS", "ninety", "run_retention_days", "whole number"),
        ("CLUSTERIX_LOCK_TIMEOUT", "soon", "lock_timeout", "a number of seconds, not 'soon'"),
    ],
)
def test_a_bad_limit_fails_when_used_naming_its_variable(name, value, limit, message):
    settings = Settings.from_environment({name: value})
    assert settings.raw == "raw"  # the rest of the settings are still usable
    with pytest.raises(ValueError, match=f"{name} .*{message}"):
        getattr(settings, limit)
