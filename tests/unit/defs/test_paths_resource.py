"""Where a run reads and writes: one resource, configured from environment variables."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import configured_paths
from pipelines.platform import settings as config


def _paths_at_run_start(resource) -> tuple[Path, Path, Path]:
    with dg.build_resources({"paths": resource}) as built:
        return built.paths.raw, built.paths.assets, built.paths.state


def test_set_directories_are_environment_variables_read_when_a_run_starts(tmp_path, monkeypatch):
    for name in (config.RAW_DIR_ENV, config.ASSETS_DIR_ENV, config.STATE_DIR_ENV):
        monkeypatch.setenv(name, str(tmp_path / "at-load"))
    resource = configured_paths()
    # The UI shows the variable's name, not a value frozen when the code was loaded.
    assert isinstance(resource.raw_dir, dg.EnvVar)
    assert resource.raw_dir.env_var_name == config.RAW_DIR_ENV
    monkeypatch.setenv(config.RAW_DIR_ENV, str(tmp_path / "drop"))
    raw, assets, state = _paths_at_run_start(resource)
    assert raw == tmp_path / "drop"
    assert assets == state == tmp_path / "at-load"


def test_unset_directories_take_their_defaults_when_a_run_starts(tmp_path, monkeypatch):
    for name in (config.RAW_DIR_ENV, config.ASSETS_DIR_ENV, config.STATE_DIR_ENV):
        monkeypatch.delenv(name, raising=False)
    resource = configured_paths()
    assert resource.raw_dir is None
    assert _paths_at_run_start(resource) == (
        config.raw_dir(),
        config.assets_dir(),
        config.state_dir(),
    )
    monkeypatch.setenv(config.STATE_DIR_ENV, str(tmp_path / "state"))
    assert _paths_at_run_start(resource)[2] == tmp_path / "state"
