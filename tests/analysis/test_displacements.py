"""Minimum-image displacements and harmonic forces."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from latticebench.analysis.displacements import (
    cell_heights,
    force_constants_matrix,
    harmonic_forces,
    minimum_image_displacements,
)
from tests.analysis.toy_systems import SKEWED_CELL, random_asr_force_constants, wrap_into_cell


def brute_force_nearest_image(delta: np.ndarray, cell: np.ndarray, reach: int = 2) -> np.ndarray:
    """Shortest of delta + n·cell over all integer n with |n_k| ≤ reach, one vector at a time."""
    best = delta.copy()
    for index in np.ndindex(delta.shape[:-1]):
        candidates = [
            delta[index] + np.array(n) @ cell
            for n in itertools.product(range(-reach, reach + 1), repeat=3)
        ]
        best[index] = min(candidates, key=np.linalg.norm)
    return best


def test_cell_heights_of_a_box_and_of_a_skewed_cell():
    np.testing.assert_allclose(cell_heights(np.diag([3.0, 4.0, 5.0])), [3.0, 4.0, 5.0])
    heights = cell_heights(SKEWED_CELL)
    volume = abs(np.linalg.det(SKEWED_CELL))
    reciprocal = np.linalg.inv(SKEWED_CELL).T  # rows b_k with a_j · b_k = δ_jk
    # h_k = 1/|b_k| is an independent formula for the face-to-face distance.
    np.testing.assert_allclose(heights, 1.0 / np.linalg.norm(reciprocal, axis=1), rtol=1e-13)
    np.testing.assert_allclose(heights[2], volume / np.linalg.norm(np.cross(*SKEWED_CELL[:2])))


def test_wrapped_positions_give_the_true_displacement_in_a_skewed_cell(rng):
    n_frames, n_atoms = 6, 20
    reference = rng.uniform(0.0, 1.0, size=(n_atoms, 3))
    reference[:8, 0] = rng.uniform(0.0, 0.01, size=8)  # on the face x = 0
    reference[8:14, 1] = rng.uniform(0.99, 1.0, size=6)  # on the face y = 1
    reference = reference @ SKEWED_CELL
    u = 0.4 * rng.normal(size=(n_frames, n_atoms, 3))
    unwrapped = reference + u
    positions = wrap_into_cell(unwrapped, SKEWED_CELL)
    crossed = np.any(np.abs(positions - unwrapped) > 1.0, axis=-1)
    assert crossed.sum() > 10, "the test must include atoms that crossed the boundary"
    result = minimum_image_displacements(positions, reference, SKEWED_CELL)
    assert result.shape == u.shape
    np.testing.assert_allclose(result, u, rtol=0, atol=1e-12)


def test_result_is_the_nearest_image_and_independent_of_the_image(rng):
    n_frames, n_atoms = 4, 10
    reference = rng.uniform(size=(n_atoms, 3)) @ SKEWED_CELL
    half_height = 0.5 * cell_heights(SKEWED_CELL).min()
    directions = rng.normal(size=(n_frames, n_atoms, 3))
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    u = directions * rng.uniform(0.0, 0.98 * half_height, size=(n_frames, n_atoms, 1))
    shifts = rng.integers(-3, 4, size=(n_frames, n_atoms, 3))
    positions = reference + u + shifts @ SKEWED_CELL
    result = minimum_image_displacements(positions, reference, SKEWED_CELL)
    np.testing.assert_allclose(result, u, atol=1e-11)
    np.testing.assert_allclose(
        result, brute_force_nearest_image(positions - reference, SKEWED_CELL, reach=4), atol=1e-11
    )


def test_single_frame_and_per_frame_cells(rng):
    n_frames, n_atoms = 5, 7
    cells = SKEWED_CELL * (1.0 + 0.02 * rng.normal(size=(n_frames, 1, 1)))
    reference = rng.uniform(size=(n_atoms, 3)) @ SKEWED_CELL
    u = 0.3 * rng.normal(size=(n_frames, n_atoms, 3))
    shifts = rng.integers(-2, 3, size=(n_frames, n_atoms, 3))
    positions = reference + u + np.einsum("tin,tnk->tik", shifts, cells)
    np.testing.assert_allclose(
        minimum_image_displacements(positions, reference, cells), u, atol=1e-11
    )
    single = minimum_image_displacements(positions[2], reference, cells[2])
    assert single.shape == (n_atoms, 3)
    np.testing.assert_allclose(single, u[2], atol=1e-11)
    same_cell = np.broadcast_to(SKEWED_CELL, (n_frames, 3, 3))
    np.testing.assert_array_equal(
        minimum_image_displacements(positions, reference, same_cell),
        minimum_image_displacements(positions, reference, SKEWED_CELL),
    )


def test_displacement_errors_name_the_problem(rng):
    reference = rng.uniform(size=(4, 3))
    positions = np.repeat(reference[None], 3, axis=0)
    with pytest.raises(ValueError, match=r"positions have 4 atoms .* reference has 5"):
        minimum_image_displacements(positions, rng.uniform(size=(5, 3)), SKEWED_CELL)
    with pytest.raises(ValueError, match="singular"):
        minimum_image_displacements(positions, reference, np.diag([1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match=r"frame 1\)"):
        cells = np.stack([SKEWED_CELL, np.zeros((3, 3)), SKEWED_CELL])
        minimum_image_displacements(positions, reference, cells)
    with pytest.raises(ValueError, match=r"per-frame cells of shape \(2, 3, 3\)"):
        minimum_image_displacements(positions, reference, np.stack([SKEWED_CELL] * 2))
    bad = positions.copy()
    bad[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"positions .* frame 2, atom 1, component x"):
        minimum_image_displacements(bad, reference, SKEWED_CELL)


def test_harmonic_forces_equal_a_per_frame_loop(rng):
    n_frames, n_atoms = 5, 9
    phi = rng.normal(size=(n_atoms, n_atoms, 3, 3))  # deliberately not symmetric
    u = rng.normal(size=(n_frames, n_atoms, 3))
    expected = np.zeros_like(u)
    for t in range(n_frames):
        for i in range(n_atoms):
            for j in range(n_atoms):
                expected[t, i] -= phi[i, j] @ u[t, j]
    np.testing.assert_allclose(harmonic_forces(u, phi), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(harmonic_forces(u[3], phi), expected[3], rtol=1e-12, atol=1e-12)


def test_harmonic_forces_of_a_rigid_translation_vanish_with_the_sum_rule(rng):
    phi = random_asr_force_constants(6, rng)
    translation = np.broadcast_to(np.array([0.3, -0.2, 0.7]), (2, 6, 3))
    np.testing.assert_allclose(harmonic_forces(translation, phi), 0.0, atol=1e-12)


def test_force_constants_matrix_layout(rng):
    phi = rng.normal(size=(4, 4, 3, 3))
    matrix = force_constants_matrix(phi)
    assert matrix.shape == (12, 12)
    assert matrix[3 * 2 + 1, 3 * 3 + 0] == phi[2, 3, 1, 0]
    assert matrix[3 * 0 + 2, 3 * 1 + 2] == phi[0, 1, 2, 2]


def test_harmonic_force_shape_errors(rng):
    u = rng.normal(size=(2, 4, 3))
    with pytest.raises(ValueError, match=r"4 atoms \(shape \(2, 4, 3\)\).*5 atoms"):
        harmonic_forces(u, np.zeros((5, 5, 3, 3)))
    with pytest.raises(ValueError, match="compact"):
        harmonic_forces(u, np.zeros((1, 4, 3, 3)))
    with pytest.raises(ValueError, match="force_constants must be 4-D"):
        harmonic_forces(u, np.zeros((4, 4, 9)))
    with pytest.raises(ValueError, match=r"\(n_frames, N, 3\)"):
        harmonic_forces(np.zeros((2, 4, 2)), np.zeros((4, 4, 3, 3)))
