"""Shared pieces of the torch-sim backend tests: harmonic crystals (the project's spring Φ)."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from pymatgen.io.ase import AseAtomsAdaptor

from tests.references.helpers import spring_force_constants

pytest.importorskip("torch_sim", reason="the torch-sim backend needs the 'gpu' extra")


def springs(atoms: Atoms, k: float, cutoff: float) -> np.ndarray:
    """Full Φ (N, N, 3, 3) eV/Å² of central springs k (eV/Å²) between atoms within cutoff (Å)."""
    return spring_force_constants(AseAtomsAdaptor.get_structure(atoms), k=k, cutoff=cutoff)


HARMONIC_CRYSTALS = (
    # (structure, spring constant eV/Å², spring cutoff Å): first and second neighbours where
    # needed so that Φ is positive definite apart from the three translations
    (bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2), 1.5, 3.0),
    (bulk("NaCl", "rocksalt", a=5.6, cubic=True).repeat((2, 2, 1)), 0.8, 4.2),
    (bulk("Si", "diamond", a=5.43, cubic=True), 2.5, 4.0),
)


@pytest.fixture
def harmonic_systems() -> list[tuple[Atoms, np.ndarray]]:
    """Three harmonic crystals of different sizes, elements and stiffness: (atoms, Φ (N,N,3,3))."""
    return [(atoms.copy(), springs(atoms, k, cutoff)) for atoms, k, cutoff in HARMONIC_CRYSTALS]
