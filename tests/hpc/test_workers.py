"""Workers: a category is required, a cpu worker never pulls a gpu job, settings come along."""

from __future__ import annotations

import os

import jobflow
import pytest
import yaml
from fireworks import Firework, FWorker, ScriptTask, Workflow

from latticebench.hpc.launchpad import ensure_initialized, open_launchpad
from latticebench.hpc.workers import (
    WorkerConfigurationError,
    launch,
    load_fworker,
    worker_environment,
    worker_session,
)
from latticebench.settings import get_settings
from tests.hpc.fixtures import write_worker


@pytest.mark.parametrize("category", [None, "", [], ["gpu", ""]])
def test_a_worker_without_a_category_is_refused_with_a_message(tmp_path, category):
    path = write_worker(tmp_path / "w.yaml", "laptop", category)
    with pytest.raises(WorkerConfigurationError) as caught:
        load_fworker(path)
    message = str(caught.value)
    assert "'laptop'" in message and str(path) in message
    assert "has no category" in message and "every job" in message and "GPU" in message
    assert "category: gpu" in message


@pytest.mark.parametrize("category", ["gpu", "cpu", ["gpu", "cpu"]])
def test_workers_with_a_category_load(tmp_path, category):
    worker = load_fworker(write_worker(tmp_path / "w.yaml", "node", category))
    assert worker.category == category and worker.name == "node"


def test_missing_or_broken_worker_files_name_the_file(tmp_path):
    with pytest.raises(WorkerConfigurationError, match=r"worker file .*nope.yaml does not exist"):
        load_fworker(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("category: [gpu\n")
    with pytest.raises(WorkerConfigurationError, match=r"cannot read worker file .*broken.yaml"):
        load_fworker(broken)


def test_launch_refuses_a_category_less_worker_object(embedded_backend):
    with (
        open_launchpad(embedded_backend.launchpad_file) as pad,
        pytest.raises(WorkerConfigurationError, match="has no category"),
    ):
        launch("rapidfire", FWorker(name="anything"), pad)


def _independent_jobs(pad):
    """One gpu and one cpu firework, no dependencies: both ready at once."""
    ensure_initialized(pad)
    gpu = Firework(ScriptTask.from_str("echo gpu"), name="gpu job", spec={"_category": "gpu"})
    cpu = Firework(ScriptTask.from_str("echo cpu"), name="cpu job", spec={"_category": "cpu"})
    pad.add_wf(Workflow([gpu, cpu]))
    by_name = {doc["name"]: doc["fw_id"] for doc in pad.fireworks.find({}, {"name": 1, "fw_id": 1})}
    return by_name["gpu job"], by_name["cpu job"]


def test_a_cpu_worker_never_pulls_a_gpu_job(embedded_backend, embedded_workers, tmp_path):
    with open_launchpad(embedded_backend.launchpad_file) as pad:
        gpu_id, cpu_id = _independent_jobs(pad)
        launch("rapidfire", load_fworker(embedded_workers["cpu"]), pad, launch_dir=tmp_path / "c")
        assert pad.get_fw_by_id(cpu_id).state == "COMPLETED"
        assert pad.get_fw_by_id(gpu_id).state == "READY"
        # asking for the gpu job by id does not help either (FireWorks itself would run it)
        with pytest.raises(WorkerConfigurationError, match="belongs to category 'gpu'"):
            launch("singleshot", load_fworker(embedded_workers["cpu"]), pad, fw_id=gpu_id)
        assert pad.get_fw_by_id(gpu_id).state == "READY"
        launch("rapidfire", load_fworker(embedded_workers["gpu"]), pad, launch_dir=tmp_path / "g")
        assert pad.get_fw_by_id(gpu_id).state == "COMPLETED"
        ran_on = {doc["fw_id"]: doc["fworker"]["name"] for doc in pad.launches.find({})}
    assert ran_on == {cpu_id: "test-cpu", gpu_id: "test-gpu"}


def test_worker_environment_exports_latticebench_settings_only(monkeypatch):
    monkeypatch.setenv("SCRATCH", "/scratch/me")
    worker = FWorker(
        name="node",
        category="gpu",
        env={
            "LATTICEBENCH_DATA_DIR": "${SCRATCH}/latticebench",
            "LATTICEBENCH_MODEL_DIR": "~/models",
            "LATTICEBENCH_MONGODB_URI": "mongodb://db.example.org:27017/?authSource=admin",
            "vasp_cmd": "srun vasp_std",  # FireWorks env for firetasks: not exported
        },
    )
    assert worker_environment(worker) == {
        "LATTICEBENCH_DATA_DIR": "/scratch/me/latticebench",
        "LATTICEBENCH_MODEL_DIR": os.path.expanduser("~/models"),
        "LATTICEBENCH_MONGODB_URI": "mongodb://db.example.org:27017/?authSource=admin",
    }
    unset = FWorker(name="node", category="gpu", env={"LATTICEBENCH_DATA_DIR": "$NOT_SET_XYZ/d"})
    with pytest.raises(WorkerConfigurationError, match="NOT_SET_XYZ"):
        worker_environment(unset)


def test_worker_session_sets_settings_and_job_store_then_restores(tmp_path):
    before_store = jobflow.SETTINGS.JOB_STORE
    before_dir = get_settings().data_dir
    worker = FWorker(
        name="node",
        category="cpu",
        env={"LATTICEBENCH_DATA_DIR": str(tmp_path / "worker-data"), "LATTICEBENCH_DEVICE": "cpu"},
    )
    with worker_session(worker) as store:
        assert get_settings().data_dir == tmp_path / "worker-data"
        assert get_settings().device == "cpu"
        assert jobflow.SETTINGS.JOB_STORE is store
        assert store.docs_store.database_path == str(tmp_path / "worker-data" / "store")
    assert jobflow.SETTINGS.JOB_STORE is before_store
    assert get_settings().data_dir == before_dir
    assert "LATTICEBENCH_DEVICE" not in os.environ


def test_shipped_worker_files_have_categories():
    from tests.hpc.fixtures import ROOT

    gpu = load_fworker(ROOT / "my_fworker.yaml")
    cpu = load_fworker(ROOT / "launchers" / "my_fworker_cpu.yaml")
    assert (gpu.category, cpu.category) == ("gpu", "cpu")
    for worker in (gpu, cpu):
        assert {"LATTICEBENCH_MODEL_DIR", "LATTICEBENCH_DEVICE", "LATTICEBENCH_DATA_DIR"} <= set(
            worker.env
        )
    assert gpu.env["LATTICEBENCH_DEVICE"] == "cuda" and cpu.env["LATTICEBENCH_DEVICE"] == "cpu"
    raw = yaml.safe_load((ROOT / "my_fworker.yaml").read_text())
    assert "password" not in str(raw).lower()
