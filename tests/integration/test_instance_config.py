"""The shipped dev Dagster instance configuration: telemetry off, nothing printed about it."""

from __future__ import annotations

import dagster as dg

from pipelines.app.cli import main
from pipelines.platform.instance import dev_config, install_instance
from tests.helpers.dagster import memory_dir
from tests.helpers.workbooks import GOOD_ROWS, make_workbook


def test_clusterix_run_gives_a_bare_dagster_home_the_dev_config(
    dirs, tmp_path, monkeypatch, capfd, caplog
):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    monkeypatch.setenv("HOME", str(tmp_path))  # Dagster keeps user-level telemetry in ~/.dagster
    monkeypatch.delenv("DAGSTER_DISABLE_TELEMETRY", raising=False)
    with memory_dir() as base:
        home = base / "dagster_home"  # does not exist yet, as on a fresh clone
        monkeypatch.setenv("DAGSTER_HOME", str(home))

        assert main(["run"]) == 0
        assert main(["run"]) == 0  # nothing changed: every step after ingest is skipped

        out, err = capfd.readouterr()
        assert out.count("O1.1") == 2  # the scorecard printed each time
        noises = ("dagster.yaml", "Telemetry", "telemetry", "Slack", "Welcome", "emitted no result")
        logged = "\n".join(r.getMessage() for r in caplog.records)  # what a terminal would show
        for noise in noises:
            assert noise not in out + err + logged
        assert (home / "dagster.yaml").read_text() == dev_config()
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert not instance.telemetry_enabled
            assert not instance.nux_enabled
            assert len(instance.get_runs()) == 2
        # no instance id, and no usage log waiting to be uploaded
        assert not (home / ".telemetry").exists() and not (tmp_path / ".dagster").exists()
        logs = home / "logs"
        assert not logs.exists() or all(p.stat().st_size == 0 for p in logs.iterdir())


def test_an_operators_dagster_yaml_is_kept(tmp_path):
    own = tmp_path / "dagster.yaml"
    own.write_text("telemetry:\n  enabled: false\nstorage:\n  sqlite:\n    base_dir: x\n")
    before = own.read_bytes()
    assert install_instance(tmp_path, dev_config()) == own
    assert own.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["dagster.yaml"]  # no temporary file left


def test_an_installed_config_is_refreshed(tmp_path):
    """A copy an earlier version installed (here: naming a storage class that is gone)
    is replaced by the shipped one."""
    earlier = tmp_path / "dagster.yaml"
    earlier.write_text(
        "# CLUSTERIX 2.0: Dagster instance configuration for DEVELOPMENT and the DEMO only.\n"
        "event_log_storage:\n  module: pipelines.instance_storage\n"
    )
    install_instance(tmp_path, dev_config())
    assert earlier.read_text() == dev_config()
    assert [p.name for p in tmp_path.iterdir()] == ["dagster.yaml"]


def test_test_instances_use_the_shipped_config(instance):
    assert not instance.telemetry_enabled
    assert not instance.nux_enabled
    # Dagster's own storage: no class of the project's in the instance.
    assert type(instance.event_log_storage).__module__.startswith("dagster.")
