"""``latticebench launch``: refuses category-less workers, runs only its category."""

from __future__ import annotations

from fireworks import Firework, ScriptTask, Workflow
from typer.testing import CliRunner

from latticebench.cli import app
from latticebench.hpc.launchpad import ensure_initialized, open_launchpad
from tests.hpc.fixtures import embedded_backend, embedded_workers  # noqa: F401

runner = CliRunner()


def _add_jobs(lp):
    with open_launchpad(lp) as pad:
        ensure_initialized(pad)
        jobs = [
            Firework(
                ScriptTask.from_str("true"), name=f"{category} job", spec={"_category": category}
            )
            for category in ("gpu", "cpu")
        ]
        pad.add_wf(Workflow(jobs))
        return {
            doc["name"]: doc["fw_id"] for doc in pad.fireworks.find({}, {"name": 1, "fw_id": 1})
        }


def _states(lp):
    with open_launchpad(lp) as pad:
        return {
            doc["name"]: doc["state"] for doc in pad.fireworks.find({}, {"name": 1, "state": 1})
        }


def test_a_worker_without_a_category_is_refused(embedded_backend, embedded_workers):  # noqa: F811
    lp = str(embedded_backend.launchpad_file)
    _add_jobs(lp)
    for mode in ("rapidfire", "singleshot"):
        result = runner.invoke(app, ["launch", mode, "-w", str(embedded_workers["none"]), "-l", lp])
        assert result.exit_code == 1
        assert "worker 'test-none'" in result.output and "has no category" in result.output
        assert "every job" in result.output
    assert set(_states(lp).values()) == {"READY"}  # nothing ran


def test_a_cpu_worker_runs_only_cpu_jobs(embedded_backend, embedded_workers, tmp_path):  # noqa: F811
    lp = str(embedded_backend.launchpad_file)
    ids = _add_jobs(lp)
    cpu = str(embedded_workers["cpu"])
    result = runner.invoke(
        app, ["launch", "rapidfire", "-w", cpu, "-l", lp, "--launch-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert _states(lp) == {"cpu job": "COMPLETED", "gpu job": "READY"}
    refused = runner.invoke(
        app, ["launch", "singleshot", "-w", cpu, "-l", lp, "--fw-id", str(ids["gpu job"])]
    )
    assert refused.exit_code == 1
    assert f"firework {ids['gpu job']} belongs to category 'gpu'" in refused.output
    assert _states(lp)["gpu job"] == "READY"


def test_missing_worker_file(tmp_path):
    result = runner.invoke(app, ["launch", "rapidfire", "-w", str(tmp_path / "w.yaml")])
    assert result.exit_code == 1
    assert "w.yaml does not exist" in result.output
