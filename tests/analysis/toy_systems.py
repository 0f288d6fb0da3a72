"""Model systems with exactly known forces, force constants and modes for the analysis tests.

Everything here is written independently of ``latticebench.analysis`` (plain loops and einsum),
so the tests compare the package against a separate computation.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

SKEWED_CELL = np.array([[9.0, 0.0, 0.0], [3.1, 8.2, 0.0], [1.7, 2.3, 8.6]])
"""A triclinic cell (Å, rows = lattice vectors); smallest height ≈ 7.8 Å."""


def translation_projector(n_atoms: int) -> np.ndarray:
    """Projector (3N, 3N) onto the complement of the three rigid translations."""
    basis = np.zeros((3 * n_atoms, 3))
    for alpha in range(3):
        basis[alpha::3, alpha] = 1.0 / np.sqrt(n_atoms)
    return np.eye(3 * n_atoms) - basis @ basis.T


def random_asr_force_constants(n_atoms: int, rng: np.random.Generator) -> np.ndarray:
    """Random symmetric positive semi-definite Φ (N, N, 3, 3), eV/Å², obeying the sum rule.

    A random SPD matrix is projected onto the complement of rigid translations, so that
    Σ_j Φ[i, j] = 0 exactly and the only zero eigenvalues are the three translations.
    """
    m = rng.normal(size=(3 * n_atoms, 3 * n_atoms))
    spd = m @ m.T / (3 * n_atoms) + 0.5 * np.eye(3 * n_atoms)
    p = translation_projector(n_atoms)
    phi = p @ spd @ p
    phi = 0.5 * (phi + phi.T)
    return phi.reshape(n_atoms, 3, n_atoms, 3).transpose(0, 2, 1, 3).copy()


def wrap_into_cell(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Cartesian positions mapped into the cell [0, 1)³ in fractional coordinates."""
    fractional = positions @ np.linalg.inv(cell)
    return (fractional - np.floor(fractional)) @ cell


@dataclass(frozen=True)
class PairLattice:
    """FCC lattice of identical atoms bound by a nearest-neighbour anharmonic pair potential.

    ``V(r) = k/2 (r − r0)² + c3 (r − r0)³ + c4 (r − r0)⁴`` with r0 the neighbour distance, so
    the reference is an exact equilibrium and Φ below is the exact Hessian there.
    """

    cell: np.ndarray  # (3, 3) Å, supercell of the FCC primitive cell (non-orthogonal)
    reference: np.ndarray  # (N, 3) Å
    pairs: list[tuple[int, int, np.ndarray]]  # (i, j, R_j + L − R_i) in Å
    r0: float
    k: float = 3.0
    c3: float = -4.0
    c4: float = 6.0

    @property
    def n_atoms(self) -> int:
        return len(self.reference)

    def pair_force(self, r: float) -> float:
        """dV/dr, eV/Å."""
        x = r - self.r0
        return self.k * x + 3 * self.c3 * x**2 + 4 * self.c4 * x**3

    def forces(self, displacements: np.ndarray) -> np.ndarray:
        """Exact forces (n_frames, N, 3), eV/Å, for unwrapped displacements (n_frames, N, 3)."""
        out = np.zeros_like(displacements)
        for t in range(displacements.shape[0]):
            for i, j, bond in self.pairs:
                vector = bond + displacements[t, j] - displacements[t, i]
                r = float(np.linalg.norm(vector))
                f = self.pair_force(r) * vector / r
                out[t, i] += f
                out[t, j] -= f
        return out

    def hessian(self) -> np.ndarray:
        """Exact Φ (N, N, 3, 3) at the reference, eV/Å² (V'(r0) = 0, so only V''(r0) r̂r̂ᵀ)."""
        n = self.n_atoms
        phi = np.zeros((n, n, 3, 3))
        for i, j, bond in self.pairs:
            unit = bond / np.linalg.norm(bond)
            block = self.k * np.outer(unit, unit)
            phi[i, i] += block
            phi[j, j] += block
            phi[i, j] -= block
            phi[j, i] -= block
        return phi


def fcc_pair_lattice(repeat: int = 3, a: float = 4.0) -> PairLattice:
    """``repeat³`` copies of the FCC primitive cell (lattice constant ``a`` Å) with neighbours."""
    primitive = 0.5 * a * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    cell = repeat * primitive
    reference = np.array(
        [np.array(n) @ primitive for n in itertools.product(range(repeat), repeat=3)]
    )
    r0 = a / np.sqrt(2.0)
    pairs = []
    for i, j in itertools.combinations(range(len(reference)), 2):
        for shift in itertools.product((-1, 0, 1), repeat=3):
            bond = reference[j] + np.array(shift) @ cell - reference[i]
            if abs(np.linalg.norm(bond) - r0) < 1e-9:
                pairs.append((i, j, bond))
    return PairLattice(cell=cell, reference=reference, pairs=pairs, r0=r0)


def diatomic_ring(n_cells: int, m1: float, m2: float, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Force constants (N, N, 3, 3) and masses (N,) of a periodic ring of alternating masses.

    Nearest neighbours are joined by isotropic springs ``k/2 |u_i − u_{i+1}|²`` (eV/Å²), so
    every Cartesian direction is an independent diatomic chain.
    """
    n = 2 * n_cells
    phi = np.zeros((n, n, 3, 3))
    for i in range(n):
        j = (i + 1) % n
        phi[i, i] += k * np.eye(3)
        phi[j, j] += k * np.eye(3)
        phi[i, j] -= k * np.eye(3)
        phi[j, i] -= k * np.eye(3)
    masses = np.array([m1 if i % 2 == 0 else m2 for i in range(n)])
    return phi, masses


def diatomic_omega_squared(n_cells: int, m1: float, m2: float, k: float) -> np.ndarray:
    """Analytic ω² (eV/(Å² amu)) of :func:`diatomic_ring` at the commensurate q, each ×3, sorted.

    ω²_± = k (1/m1 + 1/m2) ± k √((1/m1 + 1/m2)² − 4 sin²(q a / 2) / (m1 m2)), q a = 2π n / n_cells.
    """
    qa = 2.0 * np.pi * np.arange(n_cells) / n_cells
    s = 1.0 / m1 + 1.0 / m2
    root = np.sqrt(s**2 - 4.0 * np.sin(qa / 2.0) ** 2 / (m1 * m2))
    branches = np.concatenate([k * (s - root), k * (s + root)])
    return np.sort(np.repeat(branches, 3))
