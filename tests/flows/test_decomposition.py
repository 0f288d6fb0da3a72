"""The error decomposition with a synthetic reference: a second model stands in for DFT.

The "DFT" model's own lattice-dynamics flow produces the reference: its relaxed cell and force
constants (imported from the phonon job's phonopy_params.yaml) and its MD frames with forces
(imported from an extxyz file). The benchmark then runs an MLIP against that reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from jobflow import run_locally

from latticebench.flows.benchmark import BenchmarkMaker
from latticebench.flows.lattice_dynamics import LatticeDynamicsMaker
from latticebench.md import TrajectoryReader
from latticebench.models import load_model
from latticebench.references import DatasetInfo, import_phonopy, import_trajectory
from latticebench.schemas.reference import ReferenceDoc
from latticebench.settings import override_settings
from latticebench.stores import (
    REFERENCE_KEY,
    REFERENCES_COLLECTION,
    get_job_store,
    get_store,
    upsert_documents,
)
from tests.conftest import build_tiny_mace
from tests.jobs.conftest import SHORT_PROTOCOL

COMPOUND = "Cs2AgBiBr6"
# float64 everywhere, so that "same calculator" means the same numbers to round-off
PROTOCOL = SHORT_PROTOCOL.model_copy(update={"md_dtype": "float64"})
INFO = DatasetInfo(dataset="synthetic", level_of_theory="tiny MACE standing in for DFT")


def _outputs(flow, responses):
    return {job.name: responses[job.uuid][1].output for job in flow.jobs if job.uuid in responses}


@pytest.fixture(scope="module")
def world(tmp_path_factory, tiny_mace_path):
    """A data dir holding the synthetic reference, and the two models."""
    root = tmp_path_factory.mktemp("decomposition")
    dft_model = build_tiny_mace(root / "dft.model", seed=1)
    with override_settings(data_dir=root / "data"):
        maker = LatticeDynamicsMaker(model=str(dft_model), protocol=PROTOCOL, device="cpu")
        start = maker.make_jobs(COMPOUND).relax.function_args[0]
        flow = maker.make(start, compound=COMPOUND)
        responses = run_locally(
            flow, store=get_job_store(), create_folders=True, root_dir=root / "ref", log=False
        )
        docs = _outputs(flow, responses)
        assert len(docs) == len(flow.jobs), "the reference flow failed"
        sigma = docs["anharmonicity"]
        # the reference document: σ, then the relaxed cell + Φ and the frames from files
        upsert_documents(
            get_store(REFERENCES_COLLECTION),
            [
                ReferenceDoc(
                    dataset=INFO.dataset,
                    compound=COMPOUND,
                    sigma_300K=sigma.sigma_std,
                    sigma_definition="std",
                    sigma_temperature_K=sigma.temperature_K,
                    halide="Br",
                ).to_document()
            ],
            REFERENCE_KEY,
            source="test",
        )
        report = import_phonopy(
            next((root / "ref").rglob("phonopy_params.yaml")),
            compound=COMPOUND,
            info=INFO,
            fc_band=(0.05, 100.0),  # random-weight model: softer than real halides
        )
        assert report.counts["updated"] == 1, report.summary()
        frames = []
        for run in (docs["mlip md 0"], docs["mlip md 1"]):
            data = TrajectoryReader(Path(run.directory)).read(["positions", "forces"])
            for positions, forces in zip(data["positions"], data["forces"], strict=True):
                atoms = docs["mlip phonons"].supercell.to_ase_atoms()
                atoms.positions = positions
                atoms.calc = SinglePointCalculator(atoms, forces=forces)
                frames.append(atoms)
        write(root / "aimd.traj", frames)  # ASE's binary format keeps full precision
        report = import_trajectory(root / "aimd.traj", compound=COMPOUND, info=INFO)
        assert report.counts["updated"] == 1, report.summary()
    return {"root": root, "dft_model": dft_model, "mlip_model": tiny_mace_path, "sigma": sigma}


def _benchmark(world, model):
    with override_settings(data_dir=world["root"] / "data"):
        references = get_store(REFERENCES_COLLECTION)
        references.connect()
        reference = ReferenceDoc.from_document(
            references.query_one({"dataset": "synthetic", "compound": COMPOUND})
        )
        references.close()
        assert {"aimd", "force_constants"} <= set(reference.heavy)
        flow = BenchmarkMaker(models=[str(model)], protocol=PROTOCOL, device="cpu").make(
            [reference]
        )
        responses = run_locally(
            flow,
            store=get_job_store(),
            create_folders=True,
            root_dir=world["root"] / f"bench-{Path(model).stem}",
            log=False,
        )
        docs = _outputs(flow.jobs[0], responses)
    assert "compare with reference" in docs, f"benchmark flow failed: ran {sorted(docs)}"
    return docs


def test_same_calculator_gives_four_equal_rows(world):
    docs = _benchmark(world, world["dft_model"])
    rows = docs["compare with reference"].decomposition
    assert rows is not None and rows.form == "std"
    values = [rows.sigma_reference, rows.sigma_force_only, rows.sigma_force_and_hessian]
    values.append(rows.sigma_full)
    assert values == pytest.approx([world["sigma"].sigma_std] * 4, abs=1e-8)
    assert rows.force_rmse_eV_per_A < 1e-8
    assert docs["compare with reference"].sigma_error == pytest.approx(0.0, abs=1e-8)


def test_different_calculator_force_only_row_matches_independent_computation(world):
    docs = _benchmark(world, world["mlip_model"])
    rows = docs["compare with reference"].decomposition
    assert rows.sigma_reference == pytest.approx(world["sigma"].sigma_std, abs=1e-8)
    # independent: MLIP forces frame by frame through the ASE calculator, harmonic forces from
    # the reference Φ with explicit loops over frames, σ = std(F - F2) / std(F)
    import phonopy
    from ase.io import read

    from latticebench.phonons import full_force_constants

    frames = read(world["root"] / "aimd.traj", index=":")
    reference_phonon = phonopy.load(next((world["root"] / "ref").rglob("phonopy_params.yaml")))
    fc = full_force_constants(reference_phonon)
    r0 = reference_phonon.supercell.positions
    cell = reference_phonon.supercell.cell
    calc = load_model(world["mlip_model"], device="cpu", dtype="float64").calculator()
    n = len(r0)
    phi = fc.transpose(0, 2, 1, 3).reshape(3 * n, 3 * n)
    anharmonic, total = [], []
    for atoms in frames:
        frac = np.linalg.solve(cell.T, (atoms.positions - r0).T).T
        u = (frac - np.round(frac)) @ cell
        harmonic = -(phi @ u.reshape(-1)).reshape(n, 3)
        probe = atoms.copy()
        probe.calc = calc
        forces = probe.get_forces()
        anharmonic.append(forces - harmonic)
        total.append(forces)
    expected = np.std(np.array(anharmonic)) / np.std(np.array(total))
    assert rows.sigma_force_only == pytest.approx(expected, abs=1e-8)
    assert abs(rows.sigma_force_only - rows.sigma_reference) > 1e-3  # the models differ
    dft_forces = np.array([a.get_forces() for a in frames])
    assert rows.force_rmse_eV_per_A == pytest.approx(
        float(np.sqrt(np.mean((np.array(total) - dft_forces) ** 2))), rel=1e-10
    )
    errors = docs["compare with reference"].phonon_errors
    assert errors is not None and errors.omega_squared_rmse_THz2 > 0
