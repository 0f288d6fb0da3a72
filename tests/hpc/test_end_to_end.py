"""End to end on an embedded LaunchPad: submit the demo study, run GPU and CPU workers, report.

Everything goes through the command line (typer's CliRunner, in this process): ``submit``,
``launch rapidfire`` with a cpu worker, a gpu worker and a cpu worker again, ``status`` and
``report``. With LATTICEBENCH_TEST_MONGODB_URI set, the same runs with the LaunchPad and the
stores on that server.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from latticebench.cli import app
from latticebench.hpc.launchpad import open_launchpad
from latticebench.stores import BENCHMARKS_COLLECTION, connected_store, get_store
from tests.hpc.fixtures import tiny_study, write_study

pytestmark = pytest.mark.slow

runner = CliRunner()


def _cli(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def _fireworks(launchpad_file):
    with open_launchpad(launchpad_file) as pad:
        fireworks = list(pad.fireworks.find({}, {"fw_id": 1, "name": 1, "state": 1, "spec": 1}))
        launches = {
            doc["fw_id"]: doc["fworker"]["category"]
            for doc in pad.launches.find({}, {"fw_id": 1, "fworker": 1})
        }
        workflows = list(pad.workflows.find({}, {"metadata": 1, "state": 1, "nodes": 1}))
    return fireworks, launches, workflows


def test_demo_study_on_gpu_and_cpu_workers(backend, workers, tiny_mace_path, tmp_path):
    spec = tiny_study(tiny_mace_path, limit=2)
    study = write_study(tmp_path / "study.yaml", spec)
    lp = backend.launchpad_file

    dry = _cli("submit", study, "--dry-run", "--launchpad", lp)
    assert "would add 2 workflow(s)" in dry
    assert _fireworks(lp)[0] == []  # a dry run adds nothing

    first = _cli("submit", study, "--launchpad", lp)
    fireworks, _, workflows = _fireworks(lp)
    # per compound: relax, phonons, 1 MD run (gpu); anharmonicity, compare (cpu)
    assert "added 2 workflow(s), 10 firework(s) (cpu 4, gpu 6)" in first
    assert len(fireworks) == 10 and len(workflows) == 2
    categories = {fw["name"]: fw["spec"]["_category"] for fw in fireworks}
    assert categories == {
        "mlip relax": "gpu",
        "mlip phonons": "gpu",
        "mlip md 0": "gpu",
        "anharmonicity": "cpu",
        "compare with reference": "cpu",
    }
    protocol_id = spec.protocol.build().protocol_id
    compounds = sorted(wf["metadata"]["compound"] for wf in workflows)
    for wf in workflows:
        meta = wf["metadata"]
        assert (meta["study"], meta["model"], meta["protocol_id"]) == (
            "demo",
            str(tiny_mace_path),
            protocol_id,
        )
        assert meta["benchmark_key"] == "|".join(
            ("hdp-chemmater-2022", meta["compound"], str(tiny_mace_path), protocol_id)
        )
    if backend.store_file is not None:  # FireWorks' file mode: the LaunchPad is on disk
        assert len(json.loads(backend.store_file.read_text())["latticebench_test"]["fireworks"])

    again = _cli("submit", study, "--launchpad", lp)
    assert "added 0 workflow(s), 0 firework(s)" in again
    assert "skipped 2: workflow READY" in again
    assert len(_fireworks(lp)[0]) == 10

    # a cpu worker first: nothing of its category is ready, and it takes no gpu job
    _cli("launch", "rapidfire", "-w", workers["cpu"], "-l", lp, "--max-loops", 1, "--sleep", 1,
         "--launch-dir", tmp_path / "cpu-1")  # fmt: skip
    fireworks, launches, _ = _fireworks(lp)
    assert launches == {}

    _cli("launch", "rapidfire", "-w", workers["gpu"], "-l", lp, "--launch-dir", tmp_path / "gpu")
    fireworks, launches, _ = _fireworks(lp)
    states = {(fw["name"], fw["state"]) for fw in fireworks}
    assert {state for name, state in states if name.startswith("mlip")} == {"COMPLETED"}
    assert {state for name, state in states if not name.startswith("mlip")} == {"READY", "WAITING"}

    _cli("launch", "rapidfire", "-w", workers["cpu"], "-l", lp, "--launch-dir", tmp_path / "cpu-2")
    fireworks, launches, workflows = _fireworks(lp)
    assert {fw["state"] for fw in fireworks} == {"COMPLETED"}
    assert {wf["state"] for wf in workflows} == {"COMPLETED"}
    # every firework ran on a worker of its own category
    assert {fw["fw_id"]: fw["spec"]["_category"] for fw in fireworks} == launches

    with connected_store(get_store(BENCHMARKS_COLLECTION)) as store:
        benchmarks = list(store.query({"protocol_id": protocol_id}))
    assert sorted(doc["compound"] for doc in benchmarks) == compounds
    assert all(doc["model"] == str(tiny_mace_path) for doc in benchmarks)
    assert all(doc["mlip"]["sigma"] is not None for doc in benchmarks)

    done = _cli("submit", study, "--launchpad", lp)
    assert "added 0 workflow(s)" in done and "skipped 2: benchmark document" in done

    status = _cli("status", "--launchpad", lp)
    assert "hdp-chemmater-2022" in status and "1813" in status
    assert protocol_id in status and "completed" in status
    assert "failed firework" not in status

    out = tmp_path / "report"
    _cli("report", "--output", out, "--bootstrap-resamples", 20)
    page = (out / "index.html").read_text()
    for compound in compounds:
        assert compound in page
