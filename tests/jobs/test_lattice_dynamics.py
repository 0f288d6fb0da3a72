"""LatticeDynamicsMaker end to end, and σ^A in the harmonic limit."""

from __future__ import annotations

import numpy as np
import pytest
from jobflow import JobStore, run_locally
from maggma.stores import MemoryStore

from latticebench.anharmonicity import SigmaReference, accumulate_sigma
from latticebench.flows.lattice_dynamics import LatticeDynamicsMaker
from latticebench.jobs.anharmonicity import reference_from_phonons
from latticebench.md import MDParameters, MDRun
from latticebench.schemas.anharmonicity import AnharmonicityDoc
from latticebench.settings import override_settings
from tests.jobs.conftest import SHORT_PROTOCOL
from tests.jobs.harmonic import HarmonicCalculator


def _run_flow(model, protocol, job_store, tmp_path, compound="Cs2AgBiBr6"):
    """Run the flow; return it and the output of each job by name."""
    with override_settings(data_dir=tmp_path / "data"):
        flow = LatticeDynamicsMaker(model=str(model), protocol=protocol, device="cpu").make(
            compound
        )
        responses = run_locally(
            flow, store=job_store, create_folders=True, root_dir=tmp_path / "jobs", log=False
        )
    assert len(responses) == len(flow.jobs), "a job failed"
    by_name = {job.name: responses[job.uuid][1].output for job in flow.jobs}
    return flow, by_name


def _assert_filled(doc, skip=()):
    for name, value in doc:
        if name in skip:
            continue
        assert value is not None, f"{type(doc).__name__}.{name} is None"


@pytest.fixture(scope="module")
def tiny_flow(tiny_mace_path, tmp_path_factory):
    """One run of the whole flow with the tiny MACE model, shared by the tests of this module."""
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    flow, docs = _run_flow(
        tiny_mace_path, SHORT_PROTOCOL, store, tmp_path_factory.mktemp("tiny-flow")
    )
    return flow, docs, store


def test_tiny_mace_end_to_end(tiny_flow):
    flow, docs, job_store = tiny_flow
    short_protocol = SHORT_PROTOCOL
    relax, phonon = docs["mlip relax"], docs["mlip phonons"]
    md0, md1, sigma = docs["mlip md 0"], docs["mlip md 1"], docs["anharmonicity"]
    assert isinstance(sigma, AnharmonicityDoc)
    for doc in (relax, phonon, md0, md1):
        _assert_filled(doc, skip={"reason"})
    _assert_filled(sigma, skip={"failure_reason"})
    assert relax.space_group_after == 225
    assert phonon.supercell.num_sites == 40
    assert md0.seed != md1.seed and md0.state == md1.state == "completed"
    assert md0.n_frames == md1.n_frames == 40 == len(md0.series["temperature_K"])
    assert sigma.n_frames == 80 and sigma.complete and 0 < sigma.sigma < 5
    assert sigma.sigma == sigma.sigma_std  # the headline form is the reference study's
    assert len(sigma.sigma_per_frame) == 2 and len(sigma.sigma_per_frame[0]) == 40
    assert set(sigma.by_element) == {"Cs", "Ag", "Bi", "Br"}
    assert set(sigma.by_site) == {"A", "B", "B'", "X"}
    assert len(sigma.mode_sigma) == 120 and sum(v is None for v in sigma.mode_sigma) == 3
    assert sigma.thresholds["stable_max"] == 1.0
    assert sigma.stable == (sigma.sigma <= 1.0)
    # provenance everywhere: same protocol id, the model's sha256, seeds on MD and σ
    ids = {doc.provenance.protocol_id for doc in docs.values()}
    assert ids == {short_protocol.protocol_id}
    assert {doc.provenance.model.checkpoint_sha256 for doc in docs.values()} == {
        relax.provenance.model.checkpoint_sha256
    }
    assert sigma.provenance.seeds == short_protocol.md_seeds()
    # no main document carries a trajectory or force constants
    for job in flow.jobs:
        stored = job_store.query_one({"uuid": job.uuid}, load=False)["output"]
        for field in ("force_constants", "band", "series", "sigma_per_frame", "mode_sigma"):
            if field in stored:
                assert "blob_uuid" in stored[field], f"{job.name}.{field} not in the data store"


def test_harmonic_forces_give_zero_sigma_across_periodic_boundaries(tiny_flow, tmp_path):
    _, docs, _ = tiny_flow
    reference = reference_from_phonons(docs["mlip phonons"])
    # MD whose forces are exactly -Φu (the stored Φ), hot enough to move atoms a lot
    calc = HarmonicCalculator(reference.force_constants, reference.positions, reference.cell)
    atoms = docs["mlip phonons"].supercell.to_ase_atoms()
    params = MDParameters(
        seed=5,
        temperature_K=600,
        equilibration_steps=0,
        production_steps=60,
        checkpoint_interval=20,
    )
    run = MDRun(tmp_path / "harmonic-md", atoms, params)
    assert run.run(calc).state == "completed"
    frames = run.trajectory().read(["positions", "forces"])
    positions, forces = frames["positions"], frames["forces"]
    # the B atom at the origin sits on the cell boundary: wrapping moves some coordinates by a
    # whole lattice vector, i.e. atoms crossed the periodic boundary
    frac = positions @ np.linalg.inv(reference.cell)
    wrapped = np.mod(frac, 1.0) @ reference.cell
    assert np.any(np.abs(wrapped - positions) > 1.0)
    for trajectory in (positions, wrapped):
        acc = reference.accumulator(n_blocks=5)
        accumulate_sigma([acc], reference, [(trajectory, forces)])
        for form in ("rms", "std"):
            assert acc.result(form=form).value < 1e-8


def test_reference_labels_and_masses_follow_the_supercell(tiny_flow):
    _, docs, _ = tiny_flow
    reference = reference_from_phonons(docs["mlip phonons"])
    assert isinstance(reference, SigmaReference)
    symbols = reference.labels["element"]
    masses = dict(zip(symbols, reference.masses, strict=True))
    assert masses["Ag"] == pytest.approx(107.8682, abs=1e-3)
    assert masses["Br"] == pytest.approx(79.904, abs=1e-3)


@pytest.mark.slow
def test_chgnet_end_to_end_on_cs2agbibr6(job_store, tmp_path):
    _, docs = _run_flow("chgnet-0.3.0", SHORT_PROTOCOL, job_store, tmp_path)
    relax, sigma = docs["mlip relax"], docs["anharmonicity"]
    _assert_filled(sigma, skip={"failure_reason"})
    assert relax.provenance.model.name == "chgnet-0.3.0"
    assert relax.provenance.model.dtype == "float32"
    # CHGNet (PBE-trained) lattice parameter of Cs2AgBiBr6: experiment 11.27 Å, PBE ≈ 11.5 Å
    assert 11.0 < relax.lattice_parameter_A < 11.9
    assert relax.space_group_after == 225
    assert 0.05 < sigma.sigma < 3.0
