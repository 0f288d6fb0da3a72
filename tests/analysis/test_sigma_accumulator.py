"""The streaming accumulator reproduces the one-shot σ^A numbers."""

from __future__ import annotations

import numpy as np
import pytest

from latticebench.analysis.displacements import harmonic_forces
from latticebench.analysis.modes import mode_frequencies_and_vectors
from latticebench.analysis.sigma import (
    SigmaAccumulator,
    SigmaResult,
    block_standard_error,
    sigma_a,
    sigma_a_by_label,
    sigma_a_per_frame,
    sigma_a_per_mode,
)

CHUNKS = [1, 7, 3, 13, 2, 9, 5]  # 40 frames in uneven pieces


@pytest.fixture
def trajectory(rng):
    """Forces with a harmonic part plus cubic anharmonicity; (40, 10, 3) eV/Å."""
    from tests.analysis.toy_systems import random_asr_force_constants

    n_frames, n_atoms = sum(CHUNKS), 10
    phi = random_asr_force_constants(n_atoms, rng)
    u = 0.2 * rng.normal(size=(n_frames, n_atoms, 3))
    F2 = harmonic_forces(u, phi)
    forces = F2 + 2.0 * u**2 - 0.4 * u**3 + 0.05 * rng.normal(size=u.shape)
    masses = rng.uniform(10.0, 200.0, size=n_atoms)
    labels = {
        "element": np.array(["Cs", "Cs", "Ag", "Bi", "Br", "Br", "Br", "Br", "Br", "Br"]),
        "site": np.array(["8c", "8c", "4a", "4b", "24e", "24e", "24e", "24e", "24e", "24e"]),
    }
    return forces, F2, phi, masses, labels


def feed(accumulator, forces, F2):
    start = 0
    for size in CHUNKS:
        accumulator.add(forces[start : start + size], F2[start : start + size])
        start += size
    assert accumulator.n_frames == forces.shape[0]
    return accumulator


@pytest.mark.parametrize("form", ["rms", "std"])
def test_accumulator_equals_one_shot_with_uneven_chunks(trajectory, form):
    forces, F2, phi, masses, labels = trajectory
    accumulator = SigmaAccumulator.from_force_constants(phi, masses, labels=labels, n_blocks=6)
    accumulator = feed(accumulator, forces, F2)  # 40 frames in 6 blocks: 7, 7, 7, 7, 6, 6
    result = accumulator.result(form=form)
    assert result.form == form
    assert result.n_frames == 40
    assert result.n_atoms == 10
    assert result.value == pytest.approx(sigma_a(forces, F2, form=form), rel=1e-12)
    np.testing.assert_allclose(
        result.per_frame, sigma_a_per_frame(forces, F2, form=form), rtol=1e-12
    )
    for name, values in labels.items():
        expected = sigma_a_by_label(forces, F2, values, form=form)
        assert list(result.by_label[name]) == list(expected)
        for label, value in expected.items():
            assert result.by_label[name][label] == pytest.approx(value, rel=1e-12)
    frequencies, mode_sigma = sigma_a_per_mode(forces, F2, phi, masses, form=form)
    np.testing.assert_array_equal(result.mode_frequencies_thz, frequencies)
    np.testing.assert_array_equal(np.isnan(result.mode_sigma), np.isnan(mode_sigma))
    np.testing.assert_allclose(result.mode_sigma, mode_sigma, rtol=1e-12)
    assert result.standard_error == pytest.approx(
        block_standard_error(forces, F2, n_blocks=6, form=form), rel=1e-12
    )
    assert result.by_element is result.by_label["element"]
    assert result.by_site is result.by_label["site"]
    assert result.per_mode[1] is result.mode_sigma


def test_accumulator_is_exact_for_a_single_chunk_and_reusable(trajectory):
    forces, F2, *_ = trajectory
    accumulator = SigmaAccumulator()
    accumulator.add(forces[:30], F2[:30])
    first = accumulator.result("std")
    assert first.value == pytest.approx(sigma_a(forces[:30], F2[:30], form="std"), rel=1e-12)
    accumulator.add(forces[30:], F2[30:])
    assert accumulator.result("std").value == pytest.approx(
        sigma_a(forces, F2, form="std"), rel=1e-12
    )
    assert first.n_frames == 30  # earlier results are not changed by later chunks


def test_std_form_survives_a_large_common_offset(trajectory):
    forces, F2, *_ = trajectory
    offset = 1.0e5  # eV/Å: raw Σx² − (Σx)²/n would lose ~all significant digits here
    shifted = forces + offset
    accumulator = feed(SigmaAccumulator(n_blocks=4), shifted, F2)
    result = accumulator.result("std")
    assert result.value == pytest.approx(sigma_a(shifted, F2, form="std"), rel=1e-10)
    np.testing.assert_allclose(
        result.per_frame, sigma_a_per_frame(shifted, F2, form="std"), rtol=1e-10
    )
    assert result.standard_error == pytest.approx(
        block_standard_error(shifted, F2, n_blocks=4, form="std"), rel=1e-9
    )
    # The naive one-pass formula is what the accumulator must avoid:
    x = (shifted - F2).ravel()
    naive_var = np.sum(x**2) / x.size - (np.sum(x) / x.size) ** 2
    assert abs(naive_var - np.var(x)) / np.var(x) > 1e-10


def test_short_runs_have_no_standard_error_and_empty_accumulators_refuse(trajectory):
    forces, F2, *_ = trajectory
    accumulator = SigmaAccumulator(n_blocks=5)
    with pytest.raises(ValueError, match="no frames added"):
        accumulator.result()
    accumulator.add(forces[:4], F2[:4])
    assert accumulator.result().standard_error is None


def test_accumulator_rejects_inconsistent_chunks_without_changing_state(trajectory):
    forces, F2, phi, masses, labels = trajectory
    accumulator = SigmaAccumulator(labels=labels)
    accumulator.add(forces[:5], F2[:5])
    with pytest.raises(ValueError, match=r"chunk starting at frame 5 has 9 atoms"):
        accumulator.add(forces[5:8, :9], F2[5:8, :9])
    bad = forces[5:8].copy()
    bad[1, 3, 2] = np.nan
    with pytest.raises(ValueError, match=r"chunk starting at frame 5: forces .* frame 6, atom 3"):
        accumulator.add(bad, F2[5:8])
    assert accumulator.n_frames == 5
    assert accumulator.result().value == pytest.approx(sigma_a(forces[:5], F2[:5]), rel=1e-12)
    with pytest.raises(
        ValueError, match=r"labels\['site'\] is for 3 atoms, but earlier inputs for 10"
    ):
        SigmaAccumulator(labels={"element": labels["element"], "site": ["8c"] * 3})
    _, vectors = mode_frequencies_and_vectors(phi, masses)
    with pytest.raises(ValueError, match="needs masses, eigenvectors and frequencies_thz"):
        SigmaAccumulator(masses=masses, eigenvectors=vectors)
    with pytest.raises(ValueError, match="n_blocks must be an integer >= 2"):
        SigmaAccumulator(n_blocks=1)


def test_result_serialises_to_strict_json_and_back(trajectory):
    import json

    forces, F2, phi, masses, labels = trajectory
    accumulator = SigmaAccumulator.from_force_constants(phi, masses, labels=labels)
    result = feed(accumulator, forces, F2).result("std")
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["mode_sigma"].count(None) == 3  # the translations' NaN
    back = SigmaResult.from_dict(data)
    np.testing.assert_array_equal(back.mode_sigma, result.mode_sigma)  # NaN restored
    np.testing.assert_array_equal(back.mode_frequencies_thz, result.mode_frequencies_thz)
    assert back.by_label == result.by_label
    assert back.standard_error == result.standard_error
    assert (back.form, back.n_frames, back.n_atoms) == ("std", 40, 10)
