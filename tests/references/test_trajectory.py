"""extxyz / ASE trajectories with forces."""

from __future__ import annotations

import ase.io
import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from pymatgen.io.ase import AseAtomsAdaptor

from latticebench.references import (
    DatasetInfo,
    ImportFileError,
    import_trajectory,
    load_aimd_frames,
)
from latticebench.stores import connect_store, get_data_store
from latticebench.structures import build_double_perovskite
from tests.references.helpers import md_frames, reference, spring_force_constants, store_snapshot

INFO = DatasetInfo(dataset="mlip-check")


def _frames(n=4, *, forces_missing_at=None):
    cell = build_double_perovskite("Cs2NaInCl6")  # 40 atoms
    fc = spring_force_constants(cell)
    positions, forces, energies = md_frames(cell, fc, n, seed=5)
    frames = []
    for t in range(n):
        atoms = AseAtomsAdaptor.get_atoms(cell)
        atoms.set_positions(positions[t])
        if t != forces_missing_at:
            atoms.calc = SinglePointCalculator(atoms, energy=energies[t], forces=forces[t])
        frames.append(atoms)
    return frames, positions, forces, energies


@pytest.mark.parametrize("suffix", [".extxyz", ".traj"])
def test_frames_with_forces_import(tmp_path, suffix):
    frames, positions, forces, energies = _frames()
    path = tmp_path / f"md{suffix}"
    ase.io.write(path, frames)
    report = import_trajectory(path, compound="Cs2NaInCl6", info=INFO, temperature_K=300)
    assert report.counts["inserted"] == 1
    doc = reference("Cs2NaInCl6", "mlip-check")
    stored = load_aimd_frames(doc, connect_store(get_data_store()))
    assert stored.n_frames == 4 and stored.n_atoms == 40 and stored.temperature_K == 300
    printed = {".extxyz": 5e-9, ".traj": 0.0}[suffix]  # extxyz: 8 decimals; traj: binary
    assert np.abs(stored.positions - positions).max() <= printed
    assert np.abs(stored.forces - forces).max() <= printed
    assert np.abs(stored.energies - energies).max() <= printed
    assert doc["source"]["location"] == "4 frames"
    assert (
        import_trajectory(path, compound="Cs2NaInCl6", info=INFO, temperature_K=300).counts[
            "unchanged"
        ]
        == 1
    )


@pytest.mark.parametrize("suffix", [".extxyz", ".traj"])
def test_a_frame_without_forces_is_named(tmp_path, suffix):
    frames, *_ = _frames(forces_missing_at=2)
    path = tmp_path / f"md{suffix}"
    ase.io.write(path, frames)
    with pytest.raises(ImportFileError) as info:
        import_trajectory(path, compound="Cs2NaInCl6", info=INFO)
    assert f"{path}: frame 2 has no forces" in str(info.value)
    assert store_snapshot() == ([], [])


def test_frames_must_keep_their_atoms(tmp_path):
    frames, *_ = _frames()
    forces = frames[3].get_forces()[1:]
    frames[3] = frames[3][1:]  # one atom fewer
    frames[3].calc = SinglePointCalculator(frames[3], energy=0.0, forces=forces)
    path = tmp_path / "md.extxyz"
    ase.io.write(path, frames)
    with pytest.raises(ImportFileError, match="frame 3 has other atoms than frame 0"):
        import_trajectory(path, compound="Cs2NaInCl6", info=INFO)


def test_unknown_elements_and_wrong_compounds(tmp_path):
    frames, *_ = _frames()
    path = tmp_path / "md.extxyz"
    ase.io.write(path, frames)
    with pytest.raises(ImportFileError, match="unknown element 'Nq'"):
        import_trajectory(path, compound="Cs2NqInCl6", info=INFO)
    with pytest.raises(ImportFileError, match="atoms make Cs2NaInCl6, but 'Cs2NaInBr6' is"):
        import_trajectory(path, compound="Cs2NaInBr6", info=INFO)
    assert store_snapshot() == ([], [])


def test_nan_forces_are_refused(tmp_path):
    frames, *_ = _frames()
    forces = frames[1].get_forces()
    forces[7, 2] = np.nan
    frames[1].calc = SinglePointCalculator(frames[1], energy=0.0, forces=forces)
    path = tmp_path / "md.extxyz"
    ase.io.write(path, frames)
    with pytest.raises(ImportFileError, match="forces of frame 1 is not finite"):
        import_trajectory(path, compound="Cs2NaInCl6", info=INFO)
    assert store_snapshot() == ([], [])


def test_unreadable_file(tmp_path):
    path = tmp_path / "md.extxyz"
    path.write_text("40\nnot an extxyz comment line\nCs 0 0\n")
    with pytest.raises(ImportFileError, match=f"{path}: unreadable as extxyz"):
        import_trajectory(path, compound="Cs2NaInCl6", info=INFO)
