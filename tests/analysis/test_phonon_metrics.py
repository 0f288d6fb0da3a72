"""Phonon summaries and model-versus-model phonon errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latticebench.analysis.phonon_metrics import (
    gamma_frequencies,
    group_velocity_rmse,
    imaginary_mode_fraction,
    lowest_frequency,
    omega_squared_rmse,
    signed_omega_squared,
)

FREQUENCIES = np.array(
    [
        [-0.05, 0.0, 0.03, 2.0],  # Γ: acoustic noise ±ε
        [-1.2, -0.1, 1.5, 3.0],  # an unstable zone-boundary mode; -0.1 is not below -0.1
        [-0.1000001, 0.8, 1.9, 3.1],
    ]
)


def test_lowest_frequency_and_imaginary_fraction():
    assert lowest_frequency(FREQUENCIES) == -1.2
    assert imaginary_mode_fraction(FREQUENCIES) == pytest.approx(2 / 12)
    assert imaginary_mode_fraction(FREQUENCIES, threshold_thz=0.0) == pytest.approx(4 / 12)
    assert imaginary_mode_fraction(FREQUENCIES, threshold_thz=-2.0) == 0.0


def test_gamma_frequencies_find_gamma_and_its_periodic_images():
    qpoints = np.array([[0.5, 0.0, 0.5], [1e-10, 0.0, -1e-10], [0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(gamma_frequencies(qpoints, FREQUENCIES), FREQUENCIES[1])
    images = np.array([[0.5, 0.0, 0.5], [0.25, 0.0, 0.0], [1.0, -1.0, 0.0]])
    np.testing.assert_array_equal(gamma_frequencies(images, FREQUENCIES), FREQUENCIES[2])
    with pytest.raises(ValueError, match=r"none of the 3 q-points is Gamma"):
        gamma_frequencies(qpoints[[0, 2, 2]], FREQUENCIES)
    with pytest.raises(ValueError, match=r"got \(2, 3\) and \(3, 4\)"):
        gamma_frequencies(qpoints[:2], FREQUENCIES)


def test_signed_omega_squared_keeps_the_sign():
    np.testing.assert_array_equal(signed_omega_squared([-2.0, 0.0, 3.0]), [-4.0, 0.0, 9.0])


def test_omega_squared_rmse_against_a_hand_computation():
    a = np.array([[2.0, 1.0], [-1.0, 3.0]])
    b = np.array([[1.0, 2.0], [3.0, 1.0]])  # the same modes in other band orders
    # sorted signed ω²: a → [[1, 4], [-1, 9]], b → [[1, 4], [1, 9]]; differences 0, 0, -2, 0
    assert omega_squared_rmse(a, b) == pytest.approx(math.sqrt(4 / 4), rel=1e-15)
    assert omega_squared_rmse(a, a) == 0.0
    with pytest.raises(ValueError, match=r"got \(2, 2\) and \(2, 3\)"):
        omega_squared_rmse(a, np.zeros((2, 3)))


def test_group_velocity_rmse(rng):
    gv = rng.normal(size=(5, 6, 3))
    delta = rng.normal(size=gv.shape)
    expected = math.sqrt(sum(float(x) ** 2 for x in delta.ravel()) / delta.size)
    assert group_velocity_rmse(gv, gv + delta) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match=r"got \(5, 6, 3\) and \(5, 5, 3\)"):
        group_velocity_rmse(gv, gv[:, :5])
