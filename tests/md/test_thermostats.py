"""Thermostat sanity on an exactly harmonic 27-atom crystal.

Statistics used for the bands. With the centre of mass fixed the kinetic energy has
f = 3N - 3 = 78 quadratic degrees of freedom, so in the canonical ensemble the instantaneous
temperature T = 2 E_kin / (f k_B) has mean T0 and standard deviation T0 sqrt(2/f) (chi-squared
with f degrees of freedom). Frames are correlated over a time tau, which inflates the variance
of the mean by the statistical inefficiency g = 1 + 2 tau / Δ for frame spacing Δ; we take tau
conservatively as the velocity memory of the thermostat: dt / p for Andersen (a velocity
component survives a step with probability 1 - p) and 1 / γ for Langevin. The mean of n frames
must then lie within 4 standard errors, 4 T0 sqrt(2/f) sqrt(g/n), of T0 (two-sided p ≈ 6e-5).

The band is tight enough to fail: the same data are rejected for a target 10 % off, and NVE
started from the ideal lattice (thermostat off) equilibrates at about half the initial
temperature (harmonic equipartition), far outside the band.
"""

from __future__ import annotations

import numpy as np

from latticebench.md import HealthLimits, MDParameters, MDRun, TrajectoryReader
from tests.md.calculators import HarmonicLattice

TARGET_K = 300.0
RECORD_INTERVAL = 5  # fs between frames, with dt = 1 fs


def run_temperatures(directory, crystal, **changes) -> np.ndarray:
    parameters = MDParameters(
        seed=2024,
        temperature_K=TARGET_K,
        equilibration_steps=1000,
        production_steps=6000,
        record_interval=RECORD_INTERVAL,
        checkpoint_interval=1000,
        health=HealthLimits(distance_check_interval=1000),
        **changes,
    )
    status = MDRun(directory, crystal, parameters).run(HarmonicLattice(crystal))
    assert status.state == "completed"
    return TrajectoryReader(directory).read("temperature")["temperature"]


def canonical_band(target_K: float, n_atoms: int, n_frames: int, tau_fs: float) -> float:
    """Half-width (K) of the 4-standard-error band of the mean temperature."""
    dof = 3 * n_atoms - 3
    inefficiency = 1 + 2 * tau_fs / RECORD_INTERVAL
    return 4 * target_K * np.sqrt(2 / dof) * np.sqrt(inefficiency / n_frames)


def mean_within_band(temperatures: np.ndarray, target_K: float, band_K: float) -> bool:
    return abs(temperatures.mean() - target_K) <= band_K


def test_andersen_samples_the_canonical_temperature(crystal, tmp_path):
    temperatures = run_temperatures(tmp_path, crystal, thermostat="andersen")
    assert temperatures.size == 1200
    band = canonical_band(TARGET_K, len(crystal), temperatures.size, tau_fs=1.0 / 0.5)
    assert band < 0.035 * TARGET_K
    assert mean_within_band(temperatures, TARGET_K, band), (temperatures.mean(), band)
    assert not mean_within_band(temperatures, 1.1 * TARGET_K, band)
    assert not mean_within_band(temperatures, 0.9 * TARGET_K, band)
    # canonical fluctuations: relative standard error of a standard deviation ≈ sqrt(g / 2n)
    expected_std = TARGET_K * np.sqrt(2 / (3 * len(crystal) - 3))
    tolerance = 4 * np.sqrt((1 + 2 * 2.0 / RECORD_INTERVAL) / (2 * temperatures.size))
    assert abs(temperatures.std() / expected_std - 1) < tolerance


def test_langevin_samples_the_canonical_temperature(crystal, tmp_path):
    friction_per_fs = 0.1
    temperatures = run_temperatures(
        tmp_path, crystal, thermostat="langevin", langevin_friction_per_fs=friction_per_fs
    )
    band = canonical_band(TARGET_K, len(crystal), temperatures.size, tau_fs=1 / friction_per_fs)
    assert band < 0.05 * TARGET_K
    assert mean_within_band(temperatures, TARGET_K, band), (temperatures.mean(), band)
    assert not mean_within_band(temperatures, 1.1 * TARGET_K, band)
    assert not mean_within_band(temperatures, 0.9 * TARGET_K, band)


def test_without_thermostat_the_same_check_fails(crystal, tmp_path):
    """Andersen with p = 0 is plain NVE: from the ideal lattice half the kinetic energy flows
    into the springs, so the crystal settles near T0 / 2 and misses any sensible band."""
    temperatures = run_temperatures(tmp_path, crystal, andersen_probability=0.0)
    band = canonical_band(TARGET_K, len(crystal), temperatures.size, tau_fs=1.0 / 0.5)
    assert not mean_within_band(temperatures, TARGET_K, band)
    assert temperatures.mean() < 0.75 * TARGET_K
