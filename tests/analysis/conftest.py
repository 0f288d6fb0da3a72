"""Fixtures of the analysis tests: seeded random generators and model systems."""

from __future__ import annotations

import numpy as np
import pytest

from tests.analysis.toy_systems import PairLattice, fcc_pair_lattice


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, fresh for every test."""
    return np.random.default_rng(20240607)


@pytest.fixture(scope="module")
def pair_lattice() -> PairLattice:
    """27-atom FCC supercell with an anharmonic nearest-neighbour pair potential."""
    return fcc_pair_lattice(repeat=3, a=4.0)


@pytest.fixture(scope="module")
def anharmonic_trajectory(pair_lattice):
    """Displacements (12, 27, 3) Å, exact forces and exact Φ of the pair lattice."""
    generator = np.random.default_rng(7)
    u = 0.15 * generator.normal(size=(12, pair_lattice.n_atoms, 3))
    u -= u.mean(axis=1, keepdims=True)
    return u, pair_lattice.forces(u), pair_lattice.hessian()
