"""phonopy plumbing (latticebench.phonons) against independent finite differences and phonopy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import phonopy
import pytest
import yaml

from latticebench import phonons
from latticebench.models import load_model
from latticebench.structures import build_double_perovskite


@pytest.fixture(scope="module")
def cell():
    return build_double_perovskite("Cs2AgBiBr6", lattice_parameter=11.3)


@pytest.fixture(scope="module")
def model(tiny_mace_path):
    return load_model(tiny_mace_path, device="cpu", dtype="float64")


@pytest.fixture(scope="module")
def phonon_1x1x1(cell, model):
    phonon = phonons.make_phonopy(cell, (1, 1, 1))
    displaced = phonons.displaced_supercells(phonon, 0.01)
    forces = model.predict([phonons.perfect_supercell(phonon), *displaced]).forces
    return phonon, forces


def _central_difference_rows(model, atoms, rows, h=0.01):
    """Independent Φ[i, j, α, β] = -(F_jβ(+h e_iα) - F_jβ(-h e_iα)) / 2h for atoms i in rows."""
    calc = model.calculator()
    out = np.zeros((len(rows), len(atoms), 3, 3))
    for k, i in enumerate(rows):
        for alpha in range(3):
            forces = []
            for sign in (1.0, -1.0):
                work = atoms.copy()
                work.positions[i, alpha] += sign * h
                work.calc = calc
                forces.append(work.get_forces())
            out[k, :, alpha, :] = -(forces[0] - forces[1]) / (2 * h)
    return out


def test_force_constants_match_a_central_difference_hessian(phonon_1x1x1, model):
    phonon, forces = phonon_1x1x1
    assert len(forces) - 1 == len(phonon.supercells_with_displacements)
    compact = phonons.produce_force_constants(phonon, forces[1:])
    rows = [int(i) for i in phonon.primitive.p2s_map]
    assert compact.shape == (len(rows), 40, 3, 3)
    reference = _central_difference_rows(model, phonons.perfect_supercell(phonon), rows)
    scale = np.abs(reference).max()
    assert scale > 0.05  # a model with real curvature, not a flat one
    assert np.abs(compact - reference).max() / scale < 1e-3
    # symmetrising (ASR + symmetry projection) stays within the same tolerance
    symmetrized = phonons.produce_force_constants(phonon, forces[1:], symmetrize=True)
    assert np.abs(symmetrized - reference).max() / scale < 1e-3
    # and satisfies the acoustic sum rule: Σ_j Φ[i, j] = 0
    full = phonons.full_force_constants(phonon)
    assert np.abs(full.sum(axis=1)).max() < 1e-8 * scale * 40


def test_residual_forces_cancel_in_phonopys_displacement_set(phonon_1x1x1):
    # the ideal-radii cell is not relaxed (F0 != 0), yet adding any force pattern that is
    # the same in every displaced cell leaves Φ unchanged: ± displacements cancel it
    phonon, forces = phonon_1x1x1
    assert np.abs(forces[0]).max() > 1e-2
    plain = phonons.produce_force_constants(phonon, forces[1:])
    shifted = phonons.produce_force_constants(phonon, [f - forces[0] for f in forces[1:]])
    np.testing.assert_allclose(shifted, plain, atol=1e-10)


def test_full_and_rebuilt_force_constants_give_the_same_frequencies(phonon_1x1x1, cell):
    phonon, forces = phonon_1x1x1
    compact = phonons.produce_force_constants(phonon, forces[1:])
    full = phonons.full_force_constants(phonon)
    assert full.shape == (40, 40, 3, 3)
    np.testing.assert_allclose(full[phonon.primitive.p2s_map], compact)
    gamma = phonons.gamma_frequencies(phonon)
    for fc in (compact, full):
        rebuilt = phonons.phonopy_with_force_constants(
            cell, phonon.supercell_matrix, phonon.primitive_matrix, fc
        )
        np.testing.assert_allclose(phonons.gamma_frequencies(rebuilt), gamma, atol=1e-10)
    with pytest.raises(ValueError, match="do not fit a supercell of 40 atoms"):
        phonons.phonopy_with_force_constants(
            cell, phonon.supercell_matrix, phonon.primitive_matrix, full[:, :20]
        )


def test_bad_forces_are_rejected(phonon_1x1x1):
    phonon, forces = phonon_1x1x1
    bad = [f.copy() for f in forces[1:]]
    bad[0][3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        phonons.produce_force_constants(phonon, bad)
    with pytest.raises(ValueError, match="expected"):
        phonons.produce_force_constants(phonon, forces[1:-1])


def test_exported_yaml_reads_back_in_phonopy_and_its_command_line(phonon_1x1x1, tmp_path: Path):
    phonon, forces = phonon_1x1x1
    phonons.produce_force_constants(phonon, forces[1:], symmetrize=True)
    mesh = phonons.mesh_frequencies(phonon, (4, 4, 4))
    band = phonons.band_structure(phonon, 11)
    gamma = phonons.gamma_frequencies(phonon)
    path = phonons.export_phonopy_params(phonon, tmp_path / "phonopy_params.yaml")
    loaded = phonopy.load(path)  # phonopy's defaults, symmetrisation included
    assert phonons.mesh_frequencies(loaded, (4, 4, 4)).frequencies == pytest.approx(
        mesh.frequencies, abs=1e-6
    )
    assert phonons.band_structure(loaded, 11).frequencies == pytest.approx(
        band.frequencies, abs=1e-6
    )
    qpoints = " ".join(" ".join(f"{x:.12f}" for x in q) for q in [[0, 0, 0], band.qpoints[5]])
    cli = Path(sys.executable).with_name("phonopy-load")
    result = subprocess.run(
        [str(cli), path.name, "--qpoints", qpoints],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    written = yaml.safe_load((tmp_path / "qpoints.yaml").read_text())["phonon"]
    cli_frequencies = np.array([[b["frequency"] for b in q["band"]] for q in written])
    assert cli_frequencies[0] == pytest.approx(gamma, abs=1e-6)
    assert cli_frequencies[1] == pytest.approx(band.frequencies[5], abs=1e-6)


def test_supercell_keeps_site_labels_in_phonopy_order(cell):
    phonon = phonons.make_phonopy(cell, (2, 2, 2))
    supercell = phonons.supercell_structure(phonon, cell)
    assert len(supercell) == 320
    symbols = [s.specie.symbol for s in supercell]
    labels = supercell.site_properties["site"]
    expected = {"Cs": "A", "Ag": "B", "Bi": "B'", "Br": "X"}
    assert all(expected[s] == lab for s, lab in zip(symbols, labels, strict=True))
    np.testing.assert_allclose(supercell.lattice.matrix, 2 * cell.lattice.matrix)


def test_rebuilding_without_symmetry_expands_compact_force_constants_identically():
    """The σ^A job skips phonopy's symmetry search: compact → full Φ must not change."""
    from latticebench.structures import build_double_perovskite

    structure = build_double_perovskite("Cs2NaInCl6")
    template = phonons.make_phonopy(structure, (2, 2, 2))
    compact = np.random.default_rng(1).normal(
        size=(len(template.primitive), len(template.supercell), 3, 3)
    )
    args = (structure, template.supercell_matrix, template.primitive_matrix, compact)
    with_symmetry = phonons.phonopy_with_force_constants(*args)
    without = phonons.phonopy_with_force_constants(*args, with_symmetry=False)
    full = phonons.full_force_constants(without)
    np.testing.assert_array_equal(full, phonons.full_force_constants(with_symmetry))
    np.testing.assert_array_equal(without.supercell.masses, with_symmetry.supercell.masses)
    # each row of the full matrix is a lattice translate of a compact row: a real expansion
    assert not np.allclose(full[1], full[0])
