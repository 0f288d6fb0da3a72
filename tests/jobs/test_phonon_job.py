"""The phonon job: Φ against an independent central-difference Hessian; exported file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import phonopy
import pytest
from jobflow import run_locally

from latticebench import phonons
from latticebench.jobs.phonons import PhononMaker
from latticebench.models import load_model
from latticebench.protocol import PhononParameters
from latticebench.structures import build_double_perovskite


def test_force_constants_match_finite_difference_hessian(tiny_mace_path, job_store, tmp_path):
    structure = build_double_perovskite("Cs2AgBiBr6", lattice_parameter=11.3)
    maker = PhononMaker(
        model=str(tiny_mace_path),
        device="cpu",
        parameters=PhononParameters(supercell=(1, 1, 1), mesh=(3, 3, 3), band_points=5),
    )
    job = maker.make(structure, compound="Cs2AgBiBr6")
    responses = run_locally(job, store=job_store, create_folders=True, root_dir=tmp_path, log=False)
    doc = responses[job.uuid][1].output
    fc = np.asarray(doc.force_constants)
    assert fc.shape == (10, 40, 3, 3)  # compact: primitive (10 atoms) × supercell
    assert doc.n_displacements == 5
    # independent central differences of the same model at the same geometry
    model = load_model(tiny_mace_path, device="cpu", dtype="float64")
    calc = model.calculator()
    supercell = doc.supercell
    h = 0.01
    worst, scale = 0.0, 0.0
    for p, i in enumerate(doc.p2s_map):
        for alpha in range(3):
            forces = []
            for sign in (1.0, -1.0):
                atoms = supercell.to_ase_atoms()
                atoms.positions[i, alpha] += sign * h
                atoms.calc = calc
                forces.append(atoms.get_forces())
            row = -(forces[0] - forces[1]) / (2 * h)
            worst = max(worst, np.abs(fc[p, :, alpha, :] - row).max())
            scale = max(scale, np.abs(row).max())
    assert scale > 0.05
    assert worst / scale < 1e-3
    # imaginary modes are results: this random-weight model has some, and nothing aborted
    assert doc.lowest_frequency_THz < doc.imaginary_threshold_THz
    assert doc.harmonically_stable is False
    assert 0 < doc.imaginary_mode_fraction <= 1
    # the exported phonopy_params.yaml reads back to the stored band frequencies
    exported = next(Path(tmp_path).rglob("phonopy_params.yaml"))
    loaded = phonopy.load(exported)
    loaded.run_qpoints(doc.band["qpoints"])
    np.testing.assert_allclose(
        loaded.qpoints.frequencies, np.asarray(doc.band["frequencies"]), atol=1e-6
    )
    gamma = phonons.gamma_frequencies(loaded)
    assert gamma == pytest.approx(doc.gamma_frequencies_THz, abs=1e-6)
    # heavy fields went to the data store
    stored = job_store.query_one({"uuid": job.uuid}, load=False)
    assert "blob_uuid" in stored["output"]["force_constants"]
    assert "blob_uuid" in stored["output"]["band"]
