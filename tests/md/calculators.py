"""Small, fast, deterministic test systems and calculators for the MD engine tests.

All calculators are stateless functions of the positions (no neighbour-list history), so a
resumed run sees bit-identical forces to an uninterrupted one.
"""

from __future__ import annotations

import time
from itertools import combinations

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

ARGON_MASS = 39.948  # amu
LATTICE_A = 3.0  # Å


def simple_cubic(n: int = 3, a: float = LATTICE_A) -> Atoms:
    """n×n×n simple-cubic crystal of argon-mass atoms (27 atoms for n=3), periodic."""
    grid = np.stack(np.meshgrid(*(np.arange(n),) * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    return Atoms(f"Ar{n**3}", positions=grid * a, cell=np.eye(3) * n * a, pbc=True)


def minimum_image(vectors: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Shortest periodic images of displacement vectors (rows) in a periodic cell."""
    fractional = vectors @ np.linalg.inv(cell)
    fractional -= np.round(fractional)
    return fractional @ cell


def nearest_neighbour_bonds(reference: Atoms) -> np.ndarray:
    """Pairs (i < j) of nearest neighbours of the reference lattice, shape (n_bonds, 2)."""
    distances = reference.get_all_distances(mic=True)
    nearest = distances[distances > 0].min()
    pairs = [(i, j) for i, j in combinations(range(len(reference)), 2)]
    return np.array([p for p in pairs if distances[p] < 1.01 * nearest])


class HarmonicLattice(Calculator):
    """Exactly harmonic crystal around reference sites R: u = minimum image of (r - R),

    E = k/2 Σ_bonds |u_i - u_j|² + k_site/2 Σ_i |u_i|²  (eV),   F = -dE/dr  (eV/Å).

    ``spring`` k and ``site_spring`` k_site are in eV/Å². A negative ``site_spring`` makes every
    site a maximum: an exploding crystal.
    """

    implemented_properties = ("energy", "forces")

    def __init__(self, reference: Atoms, spring: float = 1.0, site_spring: float = 0.0):
        super().__init__()
        self.reference_positions = reference.get_positions()
        self.reference_cell = reference.cell.array.copy()
        self.bonds = nearest_neighbour_bonds(reference)
        self.spring = spring
        self.site_spring = site_spring
        self.n_calls = 0

    def displacements(self, positions: np.ndarray) -> np.ndarray:
        return minimum_image(positions - self.reference_positions, self.reference_cell)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.n_calls += 1
        u = self.displacements(self.atoms.get_positions())
        i, j = self.bonds.T
        stretch = u[i] - u[j]
        energy = 0.5 * self.spring * np.sum(stretch**2) + 0.5 * self.site_spring * np.sum(u**2)
        forces = -self.site_spring * u
        np.add.at(forces, i, -self.spring * stretch)
        np.add.at(forces, j, self.spring * stretch)
        self.results = {"energy": float(energy), "forces": forces}


class NaNOnCalls(HarmonicLattice):
    """Harmonic lattice whose forces on atom 3 are NaN on the given (0-based) calculation calls.

    In a fresh run call c evaluates the positions of global step c.
    """

    def __init__(self, reference: Atoms, nan_calls, **kwargs):
        super().__init__(reference, **kwargs)
        self.nan_calls = set(nan_calls)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        call = self.n_calls
        super().calculate(atoms, properties, system_changes)
        if call in self.nan_calls:
            self.results["forces"][3] = np.nan


class CollidingPair(HarmonicLattice):
    """Harmonic lattice plus a zero-rest-length spring (``pair_spring`` eV/Å²) pulling atoms 0, 1
    together (minimum image): they collide head-on within a few tens of fs."""

    def __init__(self, reference: Atoms, pair_spring: float = 5.0, **kwargs):
        super().__init__(reference, **kwargs)
        self.pair_spring = pair_spring

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        positions = self.atoms.get_positions()
        separation = minimum_image(positions[0] - positions[1], self.reference_cell)
        self.results["energy"] += 0.5 * self.pair_spring * float(separation @ separation)
        self.results["forces"][0] -= self.pair_spring * separation
        self.results["forces"][1] += self.pair_spring * separation


class SlowHarmonicLattice(HarmonicLattice):
    """Harmonic lattice that sleeps ``delay_s`` seconds per calculation (for kill tests)."""

    def __init__(self, reference: Atoms, delay_s: float, **kwargs):
        super().__init__(reference, **kwargs)
        self.delay_s = delay_s

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        time.sleep(self.delay_s)
        super().calculate(atoms, properties, system_changes)
