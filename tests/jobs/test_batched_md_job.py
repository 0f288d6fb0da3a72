"""The batched MD job (torch-sim backend): fan-out documents, isolation, wall-time hand-over."""

from __future__ import annotations

import itertools
import types

import pytest
from ase.build import bulk
from jobflow import Flow, JobStore, run_locally
from maggma.stores import MemoryStore
from pymatgen.io.ase import AseAtomsAdaptor

from latticebench.jobs.batched_md import BatchedMDMaker, md_run_document
from latticebench.md import HealthLimits, MDParameters, TrajectoryReader
from latticebench.schemas.md import MDDoc

pytest.importorskip("torch_sim", reason="the torch-sim backend needs the 'gpu' extra")

PARAMETERS = MDParameters(
    seed=0,
    timestep_fs=0.5,
    equilibration_steps=4,
    production_steps=16,
    checkpoint_interval=4,
    health=HealthLimits(max_temperature_factor=1e3, min_distance_A=0.1),
)


def _runs():
    si = AseAtomsAdaptor.get_structure(bulk("Si", "diamond", a=5.43, cubic=True))
    nacl = AseAtomsAdaptor.get_structure(bulk("NaCl", "rocksalt", a=5.64, cubic=True))
    return [
        {"compound": "Si", "run_index": 0, "seed": 1, "supercell": si},
        {"compound": "NaCl", "run_index": 0, "seed": 2, "supercell": nacl},
        {"compound": "Broken", "run_index": 0, "seed": 3, "supercell": None},
    ]


def _flow(maker):
    batch = maker.make(_runs())
    fanned = [md_run_document(batch.output, run["compound"], 0, maker.dtype) for run in _runs()]
    return batch, fanned, Flow([batch, *fanned])


def _store():
    return JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})


def test_one_document_per_run_and_a_missing_supercell_fails_only_its_own(tiny_mace_path, tmp_path):
    maker = BatchedMDMaker(
        model=str(tiny_mace_path), parameters=PARAMETERS, dtype="float64", device="cpu"
    )
    batch, fanned, flow = _flow(maker)
    responses = run_locally(flow, store=_store(), root_dir=tmp_path / "jobs", log=False)

    summary = responses[batch.uuid][1].output
    assert summary["runs"]["Broken/run-0"]["state"] == "missing"
    assert {summary["runs"][k]["state"] for k in ("Si/run-0", "NaCl/run-0")} == {"completed"}
    assert summary["model"]["checkpoint_path"] == str(tiny_mace_path)
    si, nacl, broken = fanned
    assert broken.uuid not in responses  # its fan-out job failed, the others did not
    for job, compound, n_atoms, seed in ((si, "Si", 8, 1), (nacl, "NaCl", 8, 2)):
        doc = responses[job.uuid][1].output
        assert isinstance(doc, MDDoc)
        assert (doc.compound, doc.seed, doc.state) == (compound, seed, "completed")
        assert doc.n_frames == doc.n_frames_expected == 16
        assert len(doc.series["temperature_K"]) == 16
        assert doc.provenance.model.checkpoint_path == str(tiny_mace_path)
        frames = TrajectoryReader(doc.directory).read(["positions"])["positions"]
        assert frames.shape == (16, n_atoms, 3)


def test_the_wall_time_hands_the_batch_over_to_its_continuation(
    tiny_mace_path, tmp_path, monkeypatch
):
    import latticebench.jobs.batched_md as job_module
    import latticebench.torchsim.batched_md as engine_module

    ticks = itertools.count(1_000_000.0, 1.0)  # every clock reading advances one second
    fake = types.SimpleNamespace(time=lambda: next(ticks), perf_counter=lambda: 0.0)
    monkeypatch.setattr(job_module, "time", fake)
    monkeypatch.setattr(engine_module, "time", fake)
    monkeypatch.setenv("LATTICEBENCH_MD_WALLTIME_S", "8.5")
    maker = BatchedMDMaker(
        model=str(tiny_mace_path),
        parameters=PARAMETERS,
        dtype="float64",
        device="cpu",
        walltime_margin_s=0.0,
    )
    batch, fanned, flow = _flow(maker)
    responses = run_locally(flow, store=_store(), root_dir=tmp_path / "jobs", log=False)

    outputs = [responses[batch.uuid][i].output for i in sorted(responses[batch.uuid])]
    assert len(outputs) >= 3  # 20 steps, a few steps per job: continued more than once
    assert outputs[0]["runs"]["Si/run-0"]["state"] == "paused"
    assert outputs[-1]["runs"]["Si/run-0"]["state"] == "completed"
    starts = [o["runs"]["Si/run-0"]["started_from_step"] for o in outputs]
    assert starts == sorted(starts) and starts[0] == 0 and starts[-1] > 0
    doc = responses[fanned[0].uuid][1].output
    assert doc.state == "completed" and doc.n_frames == 16
    steps = TrajectoryReader(doc.directory).read(["step"])["step"]
    assert list(steps) == list(range(5, 21))  # nothing lost or repeated across hand-overs
