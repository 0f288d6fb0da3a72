"""phonopy_params.yaml / FORCE_SETS: force constants produced by phonopy from the forces."""

from __future__ import annotations

import numpy as np
import pytest
from phonopy import Phonopy
from phonopy.structure.atoms import PhonopyAtoms
from pymatgen.core import Lattice, Structure

from latticebench.references import (
    DatasetInfo,
    ImportFileError,
    import_phonopy,
    load_force_constants,
)
from latticebench.stores import connect_store, get_data_store
from latticebench.structures import build_double_perovskite
from tests.references.helpers import reference, spring_force_constants, store_snapshot

INFO = DatasetInfo(dataset="dft-phonons", level_of_theory="DFT PBEsol (VASP), 0.01 Å")


def _calculation(scale: float = 1.0):
    """A phonopy calculation of the primitive cell, forces from a harmonic spring model."""
    primitive = build_double_perovskite("Cs2AgBiBr6", primitive=True)
    phonon = Phonopy(
        PhonopyAtoms(
            symbols=[s.specie.symbol for s in primitive],
            cell=primitive.lattice.matrix,
            scaled_positions=primitive.frac_coords,
        ),
        supercell_matrix=2 * np.eye(3, dtype=int),
    )
    cell = phonon.supercell
    supercell = Structure(Lattice(cell.cell), list(cell.symbols), cell.scaled_positions)
    fc = spring_force_constants(supercell) * scale
    phonon.generate_displacements(distance=0.01)
    forces = []
    for displaced in phonon.supercells_with_displacements:
        u = displaced.positions - cell.positions
        u -= np.round(u @ np.linalg.inv(cell.cell)) @ cell.cell
        forces.append(-np.einsum("ijab,jb->ia", fc, u))
    phonon.forces = np.array(forces)
    return phonon, fc


def test_phonopy_params_yaml(tmp_path):
    phonon, fc = _calculation()
    path = tmp_path / "phonopy_params.yaml"
    phonon.save(str(path))
    report = import_phonopy(path, compound="Cs2AgBiBr6", info=INFO)
    assert report.counts["inserted"] == 1
    doc = reference("Cs2AgBiBr6", "dft-phonons")
    supercell, stored = load_force_constants(doc, connect_store(get_data_store()))
    assert len(supercell) == 80 and stored.shape == (80, 80, 3, 3)
    # exact harmonic forces: phonopy's fit reproduces Φ up to its symmetrisation roundoff
    assert np.abs(stored - fc).max() < 1e-8
    assert doc["structure_note"] == "unit cell of the phonopy calculation"
    assert len(Structure.from_dict(doc["structure"])) == 10


def test_phonopy_yaml_with_force_sets(tmp_path):
    phonon, fc = _calculation()
    phonon.save(str(tmp_path / "phonopy_disp.yaml"), settings={"force_sets": False})
    from phonopy.file_IO import write_FORCE_SETS

    write_FORCE_SETS(phonon.dataset, str(tmp_path / "FORCE_SETS"))
    import_phonopy(tmp_path, compound="Cs2AgBiBr6", info=INFO)
    _, stored = load_force_constants(
        reference("Cs2AgBiBr6", "dft-phonons"), connect_store(get_data_store())
    )
    assert np.abs(stored - fc).max() < 1e-6  # FORCE_SETS holds forces with 10 decimals


def test_forces_in_wrong_units_are_refused(tmp_path):
    phonon, _ = _calculation(scale=1 / 97.17)
    path = tmp_path / "phonopy_params.yaml"
    phonon.save(str(path))
    with pytest.raises(ImportFileError, match=r"outside the 0\.5-100 eV/Å²"):
        import_phonopy(path, compound="Cs2AgBiBr6", info=INFO)
    assert store_snapshot() == ([], [])


def test_without_forces(tmp_path):
    phonon, _ = _calculation()
    path = tmp_path / "phonopy_disp.yaml"
    phonon.save(str(path), settings={"force_sets": False})
    with pytest.raises(ImportFileError, match="no forces or force constants"):
        import_phonopy(path, compound="Cs2AgBiBr6", info=INFO)


def test_not_a_phonopy_file(tmp_path):
    path = tmp_path / "phonopy_params.yaml"
    path.write_text("just: [a, yaml, file]\n")
    with pytest.raises(ImportFileError, match=f"{path}: phonopy cannot load it"):
        import_phonopy(path, compound="Cs2AgBiBr6", info=INFO)
