"""The MD job under custodian, through the model registry and jobflow (tiny MACE checkpoints)."""

from __future__ import annotations

import numpy as np
import pytest
from jobflow import JobStore, run_locally
from maggma.stores import MemoryStore

from latticebench.hpc.md_supervision import MDSupervisionError, SupervisionParameters
from latticebench.jobs.md import MDMaker
from latticebench.md import MDParameters, TrajectoryReader
from latticebench.schemas.md import MDDoc
from latticebench.structures import build_double_perovskite
from tests.hpc.faulty_mace import write_faulty_mace

PARAMETERS = MDParameters(
    seed=3, temperature_K=150, equilibration_steps=10, production_steps=40, checkpoint_interval=10
)
"""40-atom cell, 50 steps: checkpoints at steps 10, 20, 30, 40, 50; 40 frames."""


@pytest.fixture
def supercell():
    return build_double_perovskite("Cs2AgBiBr6")


def _run(maker, supercell, tmp_path):
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    job = maker.make(supercell, run_index=0, compound="Cs2AgBiBr6")
    responses = run_locally(job, store=store, root_dir=tmp_path / "jobs", log=False)
    return job, responses, store


def test_nan_forces_at_step_k_are_corrected_and_recorded_in_the_document(
    tiny_mace_path, supercell, tmp_path
):
    # forward pass 26 evaluates step 25 (pass 1 is step 0): NaN there, the checkpoint is step 20
    model = write_faulty_mace(tiny_mace_path, tmp_path / "nan-at-25.model", nan_calls={26})
    maker = MDMaker(model=str(model), parameters=PARAMETERS, device="cpu")
    job, responses, store = _run(maker, supercell, tmp_path)
    doc = responses[job.uuid][1].output
    assert isinstance(doc, MDDoc)
    assert doc.state == "completed"
    assert doc.n_frames == doc.n_frames_expected == 40
    [correction] = doc.corrections
    assert correction["field"] == "timestep_fs" and correction["step"] == 20
    assert (correction["old"], correction["new"]) == (1.0, 0.5)
    assert "non-finite forces at step 25" in correction["reason"]
    assert doc.parameters.timestep_fs == 1.0 and doc.effective_parameters.timestep_fs == 0.5
    assert doc.custodian_log[0]["corrections"][0]["handler"] == "ExplodingMDHandler"
    assert doc.device == "cpu" and doc.provenance.model.device == "cpu"
    # the stored document carries the corrections too
    stored = store.query_one({"uuid": job.uuid})
    assert stored["output"]["corrections"][0]["new"] == 0.5
    frames = TrajectoryReader(doc.directory).read(["step", "forces"])
    assert np.array_equal(frames["step"], np.arange(11, 51))
    assert np.isfinite(frames["forces"]).all()


def test_always_nan_makes_the_job_fail_with_the_reason(tiny_mace_path, supercell, tmp_path):
    model = write_faulty_mace(tiny_mace_path, tmp_path / "nan.model", always_nan=True)
    maker = MDMaker(
        model=str(model),
        parameters=PARAMETERS,
        device="cpu",
        supervision=SupervisionParameters(max_timestep_halvings=2),
    )
    job = maker.make(supercell)
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    store.connect()
    with pytest.raises(MDSupervisionError, match="after 2 of 2 allowed timestep halvings"):
        job.run(store)


def test_walltime_pause_replaces_the_job_with_its_continuation(
    tiny_mace_path, supercell, tmp_path, monkeypatch, fake_clock
):
    from latticebench.hpc import md_supervision

    # every clock reading advances 1 s; a segment (start and end readings) "takes" 1 s, so with
    # a 4.5 s budget and no margin each job runs one 20-step segment, then hands over
    monkeypatch.setattr(md_supervision, "current_time", fake_clock)
    monkeypatch.setenv("LATTICEBENCH_MD_WALLTIME_S", "4.5")
    maker = MDMaker(
        model=str(tiny_mace_path),
        parameters=PARAMETERS,
        device="cpu",
        supervision=SupervisionParameters(segment_steps=20, walltime_margin_s=0.0),
    )
    maker.name = "mlip md 0"
    job, responses, store = _run(maker, supercell, tmp_path)
    # 50 steps in segments of 20: the job and two continuations under the same uuid
    assert sorted(responses[job.uuid]) == [1, 2, 3]
    first, second, last = (responses[job.uuid][i].output for i in (1, 2, 3))
    assert (first.state, first.step, first.started_from_step) == ("paused", 20, 0)
    assert (second.state, second.step, second.started_from_step) == ("paused", 40, 20)
    assert (last.state, last.step, last.started_from_step) == ("completed", 50, 40)
    assert first.directory == last.directory
    assert last.n_frames == 40 and len(last.series["step"]) == 40
    assert responses[job.uuid][2].replace is not None  # continued again
    # a reference to the job's output resolves to the finished run
    resolved = job.output.resolve(store)
    assert resolved.state == "completed" and resolved.n_frames == 40
    names = {doc["name"] for doc in store.query({"uuid": job.uuid}, properties=["name"])}
    assert names == {"mlip md 0"}


def test_walltime_continuations_on_fireworks_stay_gpu_jobs_and_finish(
    tiny_mace_path, supercell, tmp_path, monkeypatch, fake_clock, embedded_backend, embedded_workers
):
    from jobflow.managers.fireworks import JobFiretask, flow_to_workflow

    from latticebench.hpc import md_supervision
    from latticebench.hpc.launchpad import ensure_initialized, open_launchpad
    from latticebench.hpc.routing import route_flow
    from latticebench.hpc.workers import launch, load_fworker
    from latticebench.stores import get_job_store

    monkeypatch.setattr(md_supervision, "current_time", fake_clock)
    monkeypatch.setenv("LATTICEBENCH_MD_WALLTIME_S", "4.5")  # one 20-step segment per job
    maker = MDMaker(
        model=str(tiny_mace_path),
        parameters=PARAMETERS,
        device="cpu",
        supervision=SupervisionParameters(segment_steps=20, walltime_margin_s=0.0),
    )
    job = maker.make(supercell, run_index=0)
    route_flow(job)
    with open_launchpad(embedded_backend.launchpad_file) as pad:
        ensure_initialized(pad)
        pad.add_wf(flow_to_workflow(job))
        launch("rapidfire", load_fworker(embedded_workers["gpu"]), pad, launch_dir=tmp_path / "l")
        fireworks = [pad.get_fw_by_id(i) for i in sorted(pad.get_fw_ids())]
    # the job and its two continuations (FireWorks detours), all gpu, jobflow's own task
    assert [fw.state for fw in fireworks] == ["COMPLETED"] * 3
    assert {fw.spec["_category"] for fw in fireworks} == {"gpu"}
    assert all(isinstance(fw.tasks[0], JobFiretask) for fw in fireworks)
    store = get_job_store()
    store.connect()
    docs = sorted(store.query({"uuid": job.uuid}), key=lambda d: d["index"])
    assert [(d["index"], d["output"]["state"]) for d in docs] == [
        (1, "paused"),
        (2, "paused"),
        (3, "completed"),
    ]
    assert docs[-1]["output"]["n_frames"] == 40 and docs[-1]["output"]["started_from_step"] == 40
