"""Symmetry-constrained relaxation (latticebench.relax) against an independent E(a) scan."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from latticebench.relax import relax_atoms


def test_relaxed_lattice_parameter_is_the_minimum_of_an_independent_scan():
    start = bulk("Cu", "fcc", a=3.80, cubic=True)
    result = relax_atoms(start, EMT(), fmax=1e-4, max_steps=200)
    assert result.converged
    a_relaxed = result.atoms.cell.lengths()[0]
    # independent: E(a) on a fine grid around the minimum, parabola vertex
    grid = np.linspace(3.55, 3.65, 21)
    energies = []
    for a in grid:
        atoms = bulk("Cu", "fcc", a=a, cubic=True)
        atoms.calc = EMT()
        energies.append(atoms.get_potential_energy())
    c2, c1, _ = np.polyfit(grid, energies, 2)
    assert a_relaxed == pytest.approx(-c1 / (2 * c2), abs=2e-3)
    assert result.space_group_before == result.space_group_after == 225
    assert result.max_force_eV_per_A < 1e-4
    assert np.abs(result.stress_GPa).max() < 0.05
    assert result.atoms.calc is None and start.cell.lengths()[0] == pytest.approx(3.80)


def _emt_double_perovskite(a: float, x: float):
    """Fm-3m double-perovskite frame with EMT elements (A=Cu, B=Ag, B'=Au, X=Al)."""
    from latticebench.jobs.common import structure_to_atoms
    from latticebench.structures import build_double_perovskite

    structure = build_double_perovskite("Cs2AgBiBr6", lattice_parameter=a, x=x)
    structure.replace_species({"Cs": "Cu", "Bi": "Au", "Br": "Al"})
    return structure_to_atoms(structure)


def test_free_wyckoff_coordinate_relaxes_to_the_minimum_of_a_scan():
    start = _emt_double_perovskite(a=9.0, x=0.24)
    result = relax_atoms(start, EMT(), fmax=1e-4, max_steps=500, relax_cell=False)
    assert result.converged
    assert result.space_group_before == result.space_group_after == 225
    al = [i for i, s in enumerate(result.atoms.get_chemical_symbols()) if s == "Al"]
    frac = result.atoms.get_scaled_positions()[al]
    # the 24e site (x, 0, 0): its largest coordinate is x or 1 - x
    x_relaxed = min(np.abs(frac - np.round(frac)).max(axis=1))
    assert x_relaxed != pytest.approx(0.24, abs=1e-3)  # it moved
    # independent: energy of ideal frames on an x grid, parabola through the lowest points
    grid = np.linspace(x_relaxed - 0.01, x_relaxed + 0.01, 11)
    energies = []
    for x in grid:
        atoms = _emt_double_perovskite(a=9.0, x=x)
        atoms.calc = EMT()
        energies.append(atoms.get_potential_energy())
    c2, c1, _ = np.polyfit(grid, energies, 2)
    assert c2 > 0
    assert x_relaxed == pytest.approx(-c1 / (2 * c2), abs=2e-4)


def test_non_convergence_is_recorded_not_raised():
    start = bulk("Cu", "fcc", a=3.9, cubic=True)
    result = relax_atoms(start, EMT(), fmax=1e-6, max_steps=2)
    assert result.converged is False
    assert result.steps == 2
    assert np.isfinite(result.energy_eV)


def test_unknown_optimizer_is_rejected():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        relax_atoms(bulk("Cu", cubic=True), EMT(), optimizer="SD")
