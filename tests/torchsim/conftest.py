"""Shared pieces of the torch-sim backend tests: harmonic systems and an ASE harmonic calculator."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes

pytest.importorskip("torch_sim", reason="the torch-sim backend needs the 'gpu' extra")


def spring_force_constants(atoms: Atoms, k_eV_per_A2: float = 1.5, cutoff: float = 3.2):
    """Φ (3N, 3N) of central springs between neighbours closer than ``cutoff`` (Å).

    Symmetric, positive semi-definite, acoustic sum rule exact: a physical harmonic crystal.
    """
    from ase.neighborlist import neighbor_list

    n = len(atoms)
    phi = np.zeros((n, 3, n, 3))
    first, second, vectors = neighbor_list("ijD", atoms, cutoff)
    for i, j, d in zip(first, second, vectors, strict=True):
        block = k_eV_per_A2 * np.outer(d, d) / np.dot(d, d)
        phi[i, :, j, :] -= block
        phi[i, :, i, :] += block
    return phi.reshape(3 * n, 3 * n)


class HarmonicCalculator(Calculator):
    """ASE calculator of E = ½ uᵀΦu, F = −Φu (u: minimum-image displacement from R⁰)."""

    implemented_properties = ("energy", "forces")

    def __init__(self, reference: Atoms, phi: np.ndarray) -> None:
        super().__init__()
        self.r0 = reference.get_positions()
        self.cell = reference.cell.array
        self.phi = phi

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        fractional = np.linalg.solve(self.cell.T, (self.atoms.positions - self.r0).T).T
        u = ((fractional - np.round(fractional)) @ self.cell).reshape(-1)
        self.results = {
            "energy": 0.5 * u @ self.phi @ u,
            "forces": -(self.phi @ u).reshape(-1, 3),
        }


HARMONIC_CRYSTALS = (
    # (structure, spring constant eV/Å², spring cutoff Å): first and second neighbours where
    # needed so that Φ is positive definite apart from the three translations
    (bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2), 1.5, 3.0),
    (bulk("NaCl", "rocksalt", a=5.6, cubic=True).repeat((2, 2, 1)), 0.8, 4.2),
    (bulk("Si", "diamond", a=5.43, cubic=True), 2.5, 4.0),
)


@pytest.fixture
def harmonic_systems() -> list[tuple[Atoms, np.ndarray]]:
    """Three harmonic crystals of different sizes, elements and stiffness: (atoms, Φ (3N, 3N))."""
    return [
        (atoms.copy(), spring_force_constants(atoms, k, cutoff))
        for atoms, k, cutoff in HARMONIC_CRYSTALS
    ]
