"""torch-sim models: batched MACE forces against mace's ASE calculator, the harmonic model."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from latticebench.md import HealthLimits, MDParameters, MDRun, TrajectoryReader
from latticebench.models import load_model
from latticebench.structures import build_double_perovskite
from latticebench.torchsim import (
    BatchedMDRun,
    BatchEntry,
    HarmonicModel,
    HarmonicReference,
    predict_batched,
    torchsim_model,
)


def _mixed_structures(seed: int = 3):
    """Different sizes and chemistries, rattled, some atoms moved out of the cell."""
    rng = np.random.default_rng(seed)
    perovskite = build_double_perovskite("Cs2AgBiBr6")
    from pymatgen.io.ase import AseAtomsAdaptor

    structures = [
        AseAtomsAdaptor.get_atoms(perovskite),
        bulk("NaCl", "rocksalt", a=5.64, cubic=True).repeat(2),
        bulk("Si", "diamond", a=5.43),
        bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 1, 1)),
    ]
    for atoms in structures:
        atoms.rattle(0.08, rng=rng)
        shifts = rng.integers(-1, 2, size=(len(atoms), 3))  # unwrapped positions, as in MD
        atoms.positions += shifts @ atoms.cell.array
    return structures


def test_batched_mace_forces_equal_the_ase_calculator_in_float64(tiny_mace_path):
    loaded = load_model(tiny_mace_path, dtype="float64", device="cpu")
    structures = _mixed_structures()
    batched = predict_batched(torchsim_model(loaded), structures)
    calc = loaded.calculator()
    for atoms, energy, forces in zip(structures, batched.energies, batched.forces, strict=True):
        work = atoms.copy()
        work.calc = calc
        expected = work.get_forces()
        assert np.abs(expected).max() > 0.1  # non-trivial forces
        np.testing.assert_allclose(forces, expected, rtol=0, atol=1e-5)
        assert energy == pytest.approx(work.get_potential_energy(), abs=1e-8)
    # batch boundaries do not matter
    one_by_one = predict_batched(torchsim_model(loaded), structures, batch_size=1)
    for a, b in zip(batched.forces, one_by_one.forces, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_torchsim_model_is_built_once_per_loaded_model(tiny_mace_path):
    loaded = load_model(tiny_mace_path, dtype="float64", device="cpu")
    assert torchsim_model(loaded) is torchsim_model(loaded)


def test_chgnet_is_refused_with_a_pointer_to_the_ase_backend():
    loaded = load_model("chgnet-0.3.0", dtype="float32", device="cpu")
    with pytest.raises(ValueError, match="ASE MD backend"):
        torchsim_model(loaded)


def test_batched_mace_md_reproduces_the_ase_engine(tiny_mace_path, tmp_path):
    """Two different cells MD'd together with a MACE model = each alone with mace's calculator."""
    loaded = load_model(tiny_mace_path, dtype="float64", device="cpu")
    cells = [
        bulk("NaCl", "rocksalt", a=5.64, cubic=True),
        bulk("Si", "diamond", a=5.43, cubic=True),
    ]
    parameters = MDParameters(
        seed=5,
        timestep_fs=0.25,
        equilibration_steps=2,
        production_steps=6,
        record_interval=2,
        checkpoint_interval=4,
        health=HealthLimits(max_temperature_factor=1e6, min_distance_A=0.1),
    )
    entries = [
        BatchEntry(f"cell-{i}", tmp_path / f"batched-{i}", atoms, parameters)
        for i, atoms in enumerate(cells)
    ]
    statuses = BatchedMDRun(entries).run(torchsim_model(loaded))
    assert {s.state for s in statuses.values()} == {"completed"}
    for i, atoms in enumerate(cells):
        MDRun(tmp_path / f"solo-{i}", atoms, parameters).run(loaded.calculator())
        mine = TrajectoryReader(tmp_path / f"batched-{i}").read(["positions", "forces"])
        theirs = TrajectoryReader(tmp_path / f"solo-{i}").read(["positions", "forces"])
        assert np.abs(theirs["forces"]).max() > 1e-2
        np.testing.assert_allclose(mine["positions"], theirs["positions"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(mine["forces"], theirs["forces"], rtol=0, atol=1e-7)


def test_harmonic_model_forces_and_errors():
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    n = len(atoms)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3 * n, 3 * n))
    matrix = a @ a.T
    phi = matrix.reshape(n, 3, n, 3).transpose(0, 2, 1, 3)  # the project's (N, N, 3, 3) layout
    model = HarmonicModel([HarmonicReference(atoms.get_positions(), atoms.cell.array, phi)])
    moved = atoms.copy()
    u = rng.normal(scale=0.05, size=(n, 3))
    moved.positions += u + atoms.cell.array[0]  # one lattice vector away: same displacement
    result = predict_batched(model, [moved])
    np.testing.assert_allclose(result.forces[0], -(matrix @ u.ravel()).reshape(n, 3), atol=1e-12)
    assert result.energies[0] == pytest.approx(0.5 * u.ravel() @ matrix @ u.ravel(), rel=1e-12)
    unsymmetric = a.reshape(n, 3, n, 3).transpose(0, 2, 1, 3)
    with pytest.raises(ValueError, match="not symmetric"):
        HarmonicModel([HarmonicReference(atoms.get_positions(), atoms.cell.array, unsymmetric)])
    with pytest.raises(ValueError, match="do not fit 4 atoms"):
        HarmonicModel([HarmonicReference(atoms.get_positions(), atoms.cell.array, phi[:2, :2])])
    with pytest.raises(ValueError, match="reference 0: force_constants must be 4-D"):
        HarmonicModel([HarmonicReference(atoms.get_positions(), atoms.cell.array, matrix)])
