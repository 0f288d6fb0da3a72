"""σ^A: harmonic limit, periodic-image independence, an analytic anharmonic potential."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from latticebench.analysis.displacements import harmonic_forces, minimum_image_displacements
from latticebench.analysis.sigma import (
    SigmaResult,
    block_standard_error,
    sigma_a,
    sigma_a_by_label,
    sigma_a_per_frame,
    sigma_a_result,
)
from tests.analysis.toy_systems import SKEWED_CELL, random_asr_force_constants, wrap_into_cell

FORMS = ("rms", "std")


def loop_sigma(F, F2, form, frames=None, atoms=None):
    """σ^A from explicit loops over frames, atoms and components (no numpy reductions)."""
    frames = range(F.shape[0]) if frames is None else frames
    atoms = range(F.shape[1]) if atoms is None else atoms
    values_F, values_A = [], []
    for t in frames:
        for i in atoms:
            for alpha in range(3):
                values_F.append(float(F[t, i, alpha]))
                values_A.append(float(F[t, i, alpha] - F2[t, i, alpha]))
    if form == "rms":
        return math.sqrt(sum(x * x for x in values_A)) / math.sqrt(sum(x * x for x in values_F))

    def std(values):
        mean = sum(values) / len(values)
        return math.sqrt(sum((x - mean) ** 2 for x in values) / len(values))

    return std(values_A) / std(values_F)


def loop_harmonic_forces(u, phi):
    F2 = np.zeros_like(u)
    for t in range(u.shape[0]):
        for i in range(u.shape[1]):
            for j in range(u.shape[1]):
                F2[t, i] -= phi[i, j] @ u[t, j]
    return F2


@pytest.fixture
def harmonic_case(rng):
    """Wrapped trajectory of 16 atoms in a skewed cell under F = −Φu, atoms crossing faces."""
    n_frames, n_atoms = 30, 16
    phi = random_asr_force_constants(n_atoms, rng)
    fractional = rng.uniform(size=(n_atoms, 3))
    fractional[:6, 2] = rng.uniform(0.995, 1.0, size=6)
    fractional[6:10, 0] = rng.uniform(0.0, 0.005, size=4)
    reference = fractional @ SKEWED_CELL
    u = 0.25 * rng.normal(size=(n_frames, n_atoms, 3))
    forces = -np.einsum("ijab,tjb->tia", phi, u)
    positions = wrap_into_cell(reference + u, SKEWED_CELL)
    assert np.any(np.abs(positions - (reference + u)) > 1.0)
    return reference, positions, forces, phi


@pytest.mark.parametrize("form", FORMS)
def test_purely_harmonic_forces_give_zero_sigma(harmonic_case, form):
    reference, positions, forces, phi = harmonic_case
    u = minimum_image_displacements(positions, reference, SKEWED_CELL)
    F2 = harmonic_forces(u, phi)
    assert sigma_a(forces, F2, form=form) < 1e-8
    assert np.all(sigma_a_per_frame(forces, F2, form=form) < 1e-8)
    labels = np.array(["Cs", "Ag", "Bi", "Br"])[np.arange(16) % 4]
    assert all(v < 1e-8 for v in sigma_a_by_label(forces, F2, labels, form=form).values())


@pytest.mark.parametrize("form", FORMS)
def test_sigma_does_not_depend_on_the_periodic_image(harmonic_case, rng, form):
    reference, positions, forces, phi = harmonic_case
    shifts = rng.integers(-5, 6, size=positions.shape)
    shifted = positions + shifts @ SKEWED_CELL
    F2_wrapped = harmonic_forces(
        minimum_image_displacements(positions, reference, SKEWED_CELL), phi
    )
    F2_shifted = harmonic_forces(minimum_image_displacements(shifted, reference, SKEWED_CELL), phi)
    np.testing.assert_allclose(F2_shifted, F2_wrapped, atol=1e-10)
    assert sigma_a(forces, F2_shifted, form=form) < 1e-8
    # with anharmonic "forces" (harmonic plus a fixed perturbation) σ is finite and image-blind
    perturbed = forces + 0.3 * rng.normal(size=forces.shape)
    wrapped_sigma = sigma_a(perturbed, F2_wrapped, form=form)
    assert wrapped_sigma > 0.1
    assert sigma_a(perturbed, F2_shifted, form=form) == pytest.approx(wrapped_sigma, rel=1e-10)


@pytest.mark.parametrize("form", FORMS)
def test_analytic_anharmonic_potential_matches_explicit_loops(
    pair_lattice, anharmonic_trajectory, form
):
    u, forces, phi = anharmonic_trajectory
    assert len(pair_lattice.pairs) == pair_lattice.n_atoms * 12 // 2  # FCC: 12 neighbours
    positions = wrap_into_cell(pair_lattice.reference + u, pair_lattice.cell)
    F2 = harmonic_forces(
        minimum_image_displacements(positions, pair_lattice.reference, pair_lattice.cell), phi
    )
    F2_loop = loop_harmonic_forces(u, phi)
    np.testing.assert_allclose(F2, F2_loop, atol=1e-12)
    expected = loop_sigma(forces, F2_loop, form)
    assert 0.05 < expected < 1.0  # a genuinely anharmonic but bound trajectory
    assert sigma_a(forces, F2, form=form) == pytest.approx(expected, rel=1e-10)
    per_frame = sigma_a_per_frame(forces, F2, form=form)
    expected_per_frame = [loop_sigma(forces, F2_loop, form, frames=[t]) for t in range(len(u))]
    np.testing.assert_allclose(per_frame, expected_per_frame, rtol=1e-10)
    atoms = [0, 4, 5, 26]
    mask = np.isin(np.arange(pair_lattice.n_atoms), atoms)
    expected_atoms = loop_sigma(forces, F2_loop, form, atoms=atoms)
    assert sigma_a(forces, F2, form=form, atoms=atoms) == pytest.approx(expected_atoms, rel=1e-10)
    assert sigma_a(forces, F2, form=form, atoms=mask) == pytest.approx(expected_atoms, rel=1e-10)


def test_small_amplitudes_approach_the_harmonic_limit(pair_lattice, anharmonic_trajectory):
    u, _, phi = anharmonic_trajectory
    # F − F⁽²⁾ = O(u²) while F = O(u): σ^A shrinks linearly with the amplitude.
    sigma = [
        sigma_a(pair_lattice.forces(scale * u), harmonic_forces(scale * u, phi))
        for scale in (1e-2, 1e-3)
    ]
    assert sigma[1] < 1e-2
    assert sigma[0] / sigma[1] == pytest.approx(10.0, rel=0.05)


def test_per_label_rms_recombines_exactly(anharmonic_trajectory):
    u, forces, phi = anharmonic_trajectory
    F2 = harmonic_forces(u, phi)
    labels = np.array(["A", "B", "B'", "X", "X"] * 6)[:27]
    by_label = sigma_a_by_label(forces, F2, labels, form="rms")
    assert list(by_label) == ["A", "B", "B'", "X"]  # order of first appearance
    total_sq = np.sum(forces**2)
    recombined = sum(
        by_label[label] ** 2 * np.sum(forces[:, labels == label] ** 2) for label in by_label
    )
    assert recombined / total_sq == pytest.approx(sigma_a(forces, F2) ** 2, rel=1e-12)
    for label, value in sigma_a_by_label(forces, F2, labels, form="std").items():
        atoms = np.flatnonzero(labels == label)
        assert value == pytest.approx(loop_sigma(forces, F2, "std", atoms=atoms), rel=1e-10)


@pytest.mark.parametrize("form", FORMS)
def test_block_standard_error_matches_explicit_blocks(rng, form):
    n_frames, n_atoms = 23, 5  # 23 = 5 + 5 + 5 + 4 + 4
    forces = rng.normal(size=(n_frames, n_atoms, 3)) + 0.2
    F2 = 0.7 * forces + 0.3 * rng.normal(size=forces.shape)
    bounds = [0, 5, 10, 15, 19, 23]
    blocks = [loop_sigma(forces, F2, form, range(a, b)) for a, b in itertools.pairwise(bounds)]
    mean = sum(blocks) / 5
    expected = math.sqrt(sum((b - mean) ** 2 for b in blocks) / 4) / math.sqrt(5)
    assert block_standard_error(forces, F2, n_blocks=5, form=form) == pytest.approx(
        expected, rel=1e-10
    )


def test_rms_and_std_forms_differ_by_the_mean():
    forces = np.array([[[1.0, 2.0, 3.0]], [[2.0, 3.0, 4.0]]])
    F2 = np.array([[[0.5, 2.0, 2.0]], [[2.0, 2.0, 4.5]]])
    # F^A = (0.5, 0, 1, 0, 1, -0.5): ΣF^A² = 2.5, ΣF² = 43; std(F^A) = √(23/72), std(F) = √(17/12)
    assert sigma_a(forces, F2, form="rms") == pytest.approx(math.sqrt(2.5 / 43), rel=1e-14)
    expected_std = math.sqrt((2.5 / 6 - (2.0 / 6) ** 2) / (43 / 6 - 2.5**2))
    assert sigma_a(forces, F2, form="std") == pytest.approx(expected_std, rel=1e-14)


def test_sigma_result_collects_the_one_shot_numbers(anharmonic_trajectory):
    u, forces, phi = anharmonic_trajectory
    F2 = harmonic_forces(u, phi)
    labels = {"element": ["Cs"] * 20 + ["Br"] * 7, "site": np.arange(27) % 3}
    result = sigma_a_result(forces, F2, form="std", labels=labels, n_blocks=4)
    assert result.value == sigma_a(forces, F2, form="std")
    assert result.standard_error == block_standard_error(forces, F2, n_blocks=4, form="std")
    assert result.by_element == sigma_a_by_label(forces, F2, labels["element"], form="std")
    assert set(result.by_site) == {"0", "1", "2"}
    assert result.mode_sigma is None
    assert result.per_mode is None
    with pytest.raises(ValueError, match="read-only"):
        result.per_frame[0] = 1.0
    data = result.to_dict()
    assert isinstance(data["per_frame"], list)
    assert isinstance(data["per_frame"][0], float)
    back = SigmaResult.from_dict(data)
    np.testing.assert_array_equal(back.per_frame, result.per_frame)
    assert back.by_label == result.by_label
    assert back.value == result.value


def test_sigma_input_errors(rng):
    forces = rng.normal(size=(4, 3, 3))
    with pytest.raises(ValueError, match=r"same shape, got \(4, 3, 3\) and \(4, 2, 3\)"):
        sigma_a(forces, forces[:, :2])
    with pytest.raises(ValueError, match="unknown sigma form 'mad'"):
        sigma_a(forces, forces, form="mad")
    with pytest.raises(ValueError, match="selects no atom"):
        sigma_a(forces, forces, atoms=np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match=r"atoms\[1\] = 7 is out of range"):
        sigma_a(forces, forces, atoms=[0, 7])
    with pytest.raises(ValueError, match="undefined"):
        sigma_a(np.zeros((2, 3, 3)), np.zeros((2, 3, 3)))
    bad = forces.copy()
    bad[3, 2, 1] = np.inf
    with pytest.raises(ValueError, match=r"harmonic_forces .* frame 3, atom 2, component y"):
        sigma_a(forces, bad)
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        sigma_a_by_label(forces, forces, ["a", "b"])
    with pytest.raises(ValueError, match="3 frames cannot be split into 5 blocks"):
        block_standard_error(forces[:3], forces[:3])


def test_atom_indices_are_a_set_and_may_count_from_the_end(anharmonic_trajectory):
    u, forces, phi = anharmonic_trajectory
    F2 = harmonic_forces(u, phi)
    expected = loop_sigma(forces, F2, "rms", atoms=[0, 26])
    assert sigma_a(forces, F2, atoms=[-1, 26, 0]) == pytest.approx(expected, rel=1e-12)


def test_per_frame_sigma_is_nan_where_the_forces_vanish(rng):
    forces = rng.normal(size=(3, 4, 3))
    forces[1] = 0.0
    F2 = 0.5 * forces
    for form in FORMS:
        per_frame = sigma_a_per_frame(forces, F2, form=form)
        assert np.isnan(per_frame[1])
        np.testing.assert_allclose(per_frame[[0, 2]], 0.5, rtol=1e-14)
