"""Supercell normal modes and the per-mode σ^A."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latticebench.analysis.displacements import force_constants_matrix, harmonic_forces
from latticebench.analysis.modes import (
    THZ_PER_SQRT_EV_PER_A2_AMU,
    mode_frequencies_and_vectors,
    translation_mode_mask,
)
from latticebench.analysis.phonon_metrics import signed_omega_squared
from latticebench.analysis.sigma import sigma_a_per_mode
from tests.analysis.toy_systems import (
    diatomic_omega_squared,
    diatomic_ring,
    random_asr_force_constants,
)

RING = {"n_cells": 6, "m1": 35.45, "m2": 132.9, "k": 1.7}


def test_thz_conversion_agrees_with_phonopy():
    from phonopy.physical_units import get_physical_units

    phonopy_value = get_physical_units().DefaultToTHz
    # phonopy still uses the 1986 atomic mass unit (1.6605402e-27 kg); CODATA 2018/2022 differ
    # by 2.4e-7 relative in the mass, i.e. 1.2e-7 in the frequency.
    assert abs(THZ_PER_SQRT_EV_PER_A2_AMU / phonopy_value - 1.0) < 5e-7
    assert abs(THZ_PER_SQRT_EV_PER_A2_AMU / 15.633302 - 1.0) < 5e-7


def test_diatomic_ring_frequencies_match_the_analytic_dispersion():
    phi, masses = diatomic_ring(**RING)
    frequencies, _ = mode_frequencies_and_vectors(phi, masses)
    assert frequencies.shape == (36,)
    assert np.all(np.diff(frequencies) >= 0)
    expected = diatomic_omega_squared(**RING) * THZ_PER_SQRT_EV_PER_A2_AMU**2
    np.testing.assert_allclose(signed_omega_squared(frequencies), expected, rtol=1e-10, atol=1e-10)
    # the optical branch top at q = 0: ω² = 2k (1/m1 + 1/m2)
    top = math.sqrt(2 * RING["k"] * (1 / RING["m1"] + 1 / RING["m2"])) * THZ_PER_SQRT_EV_PER_A2_AMU
    assert frequencies[-1] == pytest.approx(top, rel=1e-12)


def test_eigenvectors_are_orthonormal_eigenvectors_of_the_dynamical_matrix(rng):
    phi, masses = diatomic_ring(**RING)
    _, vectors = mode_frequencies_and_vectors(phi, masses)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(36), atol=1e-12)
    inv_sqrt_m = np.repeat(masses**-0.5, 3)
    dynamical = force_constants_matrix(phi) * np.outer(inv_sqrt_m, inv_sqrt_m)
    eigenvalues = signed_omega_squared(mode_frequencies_and_vectors(phi, masses)[0])
    eigenvalues /= THZ_PER_SQRT_EV_PER_A2_AMU**2
    np.testing.assert_allclose(dynamical @ vectors, vectors * eigenvalues, atol=1e-12)


def test_imaginary_modes_are_negative():
    phi, masses = diatomic_ring(**RING)
    frequencies, _ = mode_frequencies_and_vectors(-phi, masses)  # an unstable "crystal"
    positive, _ = mode_frequencies_and_vectors(phi, masses)
    np.testing.assert_allclose(frequencies, -positive[::-1], atol=1e-6)
    assert frequencies[0] < -1.0


def test_translation_modes_are_found_even_among_soft_modes(rng):
    n_atoms = 8
    masses = rng.uniform(10, 200, size=n_atoms)
    phi = random_asr_force_constants(n_atoms, rng)
    frequencies, vectors = mode_frequencies_and_vectors(phi, masses)
    mask = translation_mode_mask(vectors, masses)
    assert mask.sum() == 3
    np.testing.assert_allclose(frequencies[mask], 0.0, atol=1e-5)
    # Shift the spectrum so that optic modes straddle zero (a soft, unstable lattice): the
    # translations remain the modes with ν = 0 exactly, and they must still be the ones found.
    inv_sqrt_m = np.repeat(masses**-0.5, 3)
    dynamical = force_constants_matrix(phi) * np.outer(inv_sqrt_m, inv_sqrt_m)
    optic = np.linalg.eigvalsh(dynamical)[3:]
    shifted = dynamical - np.median(optic) * (np.eye(3 * n_atoms) - _translations(masses))
    shifted_phi = shifted / np.outer(inv_sqrt_m, inv_sqrt_m)
    shifted_phi = shifted_phi.reshape(n_atoms, 3, n_atoms, 3).transpose(0, 2, 1, 3)
    frequencies, vectors = mode_frequencies_and_vectors(shifted_phi, masses)
    mask = translation_mode_mask(vectors, masses)
    assert np.sum(frequencies < 0) > 5
    np.testing.assert_allclose(frequencies[mask], 0.0, atol=1e-5)
    assert np.all(~mask[:3]), "the lowest modes are now unstable optic modes, not translations"


def _translations(masses: np.ndarray) -> np.ndarray:
    """Projector onto the mass-weighted rigid translations, (3N, 3N)."""
    basis = np.zeros((3 * len(masses), 3))
    for alpha in range(3):
        basis[alpha::3, alpha] = np.sqrt(masses) / np.sqrt(masses.sum())
    return basis @ basis.T


@pytest.mark.parametrize("form", ["std", "rms"])
def test_per_mode_sigma_of_harmonic_forces_is_zero(rng, form):
    phi, masses = diatomic_ring(**RING)
    u = 0.1 * rng.normal(size=(40, 12, 3))
    forces = -np.einsum("ijab,tjb->tia", phi, u)
    frequencies, sigma = sigma_a_per_mode(forces, harmonic_forces(u, phi), phi, masses, form=form)
    assert np.isnan(sigma).sum() == 3
    assert np.all(np.abs(frequencies[np.isnan(sigma)]) < 1e-5)
    assert np.nanmax(sigma) < 1e-10


@pytest.mark.parametrize("form", ["std", "rms"])
def test_per_mode_sigma_matches_explicit_projection_loops(
    pair_lattice, anharmonic_trajectory, rng, form
):
    u, forces, phi = anharmonic_trajectory
    masses = rng.uniform(20.0, 140.0, size=pair_lattice.n_atoms)
    F2 = harmonic_forces(u, phi)
    frequencies, sigma = sigma_a_per_mode(forces, F2, phi, masses, form=form)
    reference_frequencies, vectors = mode_frequencies_and_vectors(phi, masses)
    np.testing.assert_array_equal(frequencies, reference_frequencies)
    n_frames, n_atoms = u.shape[:2]
    translations = set(np.flatnonzero(translation_mode_mask(vectors, masses)).tolist())
    assert np.all(np.abs(frequencies[list(translations)]) < 1e-5)
    for s in range(3 * n_atoms):
        if s in translations:
            assert math.isnan(sigma[s])
            continue
        p_F, p_A = [], []
        for t in range(n_frames):
            total_F = total_A = 0.0
            for i in range(n_atoms):
                for alpha in range(3):
                    weight = vectors[3 * i + alpha, s] / math.sqrt(masses[i])
                    total_F += forces[t, i, alpha] * weight
                    total_A += (forces[t, i, alpha] - F2[t, i, alpha]) * weight
            p_F.append(total_F)
            p_A.append(total_A)
        p_F, p_A = np.array(p_F), np.array(p_A)
        if form == "std":
            expected = np.sqrt(np.mean((p_A - p_A.mean()) ** 2) / np.mean((p_F - p_F.mean()) ** 2))
        else:
            expected = np.sqrt(np.sum(p_A**2) / np.sum(p_F**2))
        assert sigma[s] == pytest.approx(expected, rel=1e-9), f"mode {s}"


def test_mode_input_errors():
    phi, masses = diatomic_ring(**RING)
    with pytest.raises(ValueError, match=r"masses must have shape \(12,\)"):
        mode_frequencies_and_vectors(phi, masses[:5])
    bad = masses.copy()
    bad[4] = 0.0
    with pytest.raises(ValueError, match=r"masses\[4\] = 0.0 amu is not positive"):
        mode_frequencies_and_vectors(phi, bad)
    with pytest.raises(ValueError, match="force_constants are for 12 atoms"):
        sigma_a_per_mode(np.ones((3, 5, 3)), np.zeros((3, 5, 3)), phi, masses)
