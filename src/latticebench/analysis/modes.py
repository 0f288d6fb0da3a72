"""Normal modes of a supercell from its force constants (the Γ point of the supercell).

The eigenvectors of the mass-weighted supercell dynamical matrix ``D = Φ / √(m_i m_j)`` are the
phonon modes of every q-point commensurate with the supercell, folded onto its Γ point.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import constants

from latticebench.analysis._validation import float_array
from latticebench.analysis.displacements import force_constants_matrix

__all__ = [
    "THZ_PER_SQRT_EV_PER_A2_AMU",
    "inverse_sqrt_masses",
    "mode_frequencies_and_vectors",
    "translation_mode_mask",
]

THZ_PER_SQRT_EV_PER_A2_AMU: float = (
    math.sqrt(constants.electron_volt / (constants.angstrom**2 * constants.atomic_mass))
    / (2.0 * math.pi)
    / 1.0e12
)
"""Frequency in THz of an eigenvalue of 1 eV/(Å² amu): ``√(eV/(Å² amu)) / 2π`` ≈ 15.6333 THz.

Derived from the CODATA values in :mod:`scipy.constants` (phonopy's ``DefaultToTHz``).
"""


def mode_frequencies_and_vectors(
    force_constants: ArrayLike, masses: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and eigenvectors of the mass-weighted supercell dynamical matrix.

    ``D[3i+α, 3j+β] = Φ[i, j, α, β] / √(m_i m_j)`` is symmetrised (``(D + Dᵀ)/2``; finite-
    displacement force constants are symmetric only up to noise) and diagonalised.

    Parameters
    ----------
    force_constants : array_like, shape (N, N, 3, 3)
        Full force constants, eV/Å².
    masses : array_like, shape (N,)
        Atomic masses, amu.

    Returns
    -------
    frequencies_thz : numpy.ndarray, shape (3N,)
        ``sign(λ) √|λ|`` converted to THz for the eigenvalues λ of D; imaginary modes are
        negative. Sorted ascending.
    eigenvectors : numpy.ndarray, shape (3N, 3N)
        Orthonormal eigenvectors of D as columns (``eigenvectors[:, s]`` belongs to
        ``frequencies_thz[s]``); row ``3i+α`` is atom i, Cartesian component α. Within a
        degenerate set of modes the basis is arbitrary.
    """
    phi = force_constants_matrix(force_constants)
    inv_sqrt_m = inverse_sqrt_masses(masses, phi.shape[0] // 3)
    dynamical = phi * inv_sqrt_m[:, None] * inv_sqrt_m[None, :]
    dynamical = 0.5 * (dynamical + dynamical.T)
    eigenvalues, eigenvectors = np.linalg.eigh(dynamical)
    frequencies = np.sign(eigenvalues) * np.sqrt(np.abs(eigenvalues)) * THZ_PER_SQRT_EV_PER_A2_AMU
    return frequencies, eigenvectors


def translation_mode_mask(eigenvectors: ArrayLike, masses: ArrayLike) -> np.ndarray:
    """Mark the three modes that are rigid translations of the whole supercell.

    A rigid translation along α has mass-weighted eigenvector ``e_iα ∝ √m_i``. Each mode's
    weight in that three-dimensional subspace is ``w_s = Σ_α (Σ_i √m_i e_iα,s)² / Σ_i m_i``;
    the weights of an orthonormal basis add up to 3, and with the acoustic sum rule the three
    translations have ``w = 1`` and every other mode ``w = 0``. The three modes of largest
    weight are marked. This is more robust than a frequency window: soft or unstable optic
    modes of perovskites can lie arbitrarily close to 0 THz, and force constants that violate the
    acoustic sum rule push the translations away from it.

    Parameters
    ----------
    eigenvectors : array_like, shape (3N, 3N)
        Orthonormal mass-weighted eigenvectors as columns.
    masses : array_like, shape (N,)
        Atomic masses, amu.

    Returns
    -------
    numpy.ndarray of bool, shape (3N,)
        True for the three translation modes.
    """
    vectors = float_array(eigenvectors, "eigenvectors", ndims=(2,))
    n_modes = vectors.shape[0]
    if vectors.shape != (n_modes, n_modes) or n_modes % 3:
        raise ValueError(f"eigenvectors must have shape (3N, 3N), got {vectors.shape}")
    sqrt_m = 1.0 / inverse_sqrt_masses(masses, n_modes // 3)
    # Σ_i √m_i e_iα,s for α = x, y, z → (3, 3N)
    overlaps = np.einsum("i,iab->ab", sqrt_m[::3], vectors.reshape(n_modes // 3, 3, n_modes))
    weights = np.sum(overlaps**2, axis=0) / np.sum(sqrt_m[::3] ** 2)
    mask = np.zeros(n_modes, dtype=bool)
    mask[np.argsort(weights)[-3:]] = True
    return mask


def inverse_sqrt_masses(masses: ArrayLike, n_atoms: int) -> np.ndarray:
    """Validated ``1/√m`` (amu^-1/2) of ``n_atoms`` positive masses, each repeated 3×: shape (3N,).

    Raises
    ------
    ValueError
        Wrong shape, or a mass that is not positive and finite (its index named).
    """
    m = float_array(masses, "masses", ndims=(1,))
    if m.shape != (n_atoms,):
        raise ValueError(f"masses must have shape ({n_atoms},) for {n_atoms} atoms, got {m.shape}")
    if (m <= 0).any():
        first = int(np.flatnonzero(m <= 0)[0])
        raise ValueError(f"masses[{first}] = {m[first]} amu is not positive")
    return np.repeat(1.0 / np.sqrt(m), 3)
