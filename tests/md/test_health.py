"""Health checks in isolation: they fire exactly at their limits and name the culprits."""

from __future__ import annotations

import numpy as np

from latticebench.md import HealthIssue, HealthLimits
from latticebench.md.health import check_forces, check_min_distance, check_temperature
from tests.md.calculators import simple_cubic


def test_finite_forces_pass_and_non_finite_are_named():
    forces = np.zeros((8, 3))
    assert check_forces(forces, 4) is None
    forces[2, 1] = np.nan
    forces[5, 0] = -np.inf
    issue = check_forces(forces, 17)
    assert issue == HealthIssue(
        kind="non_finite_forces",
        step=17,
        message="non-finite forces at step 17 on 2 atom(s) (indices 2, 5)",
    )
    assert HealthIssue.from_dict(issue.to_dict()) == issue


def test_temperature_limit_is_inclusive_and_nan_counts_as_runaway():
    limits = HealthLimits(max_temperature_factor=5.0)
    assert check_temperature(1500.0, 300.0, limits, 3) is None
    issue = check_temperature(1500.001, 300.0, limits, 3)
    assert issue.kind == "temperature_runaway"
    assert "1500 K" in issue.message
    assert "step 3" in issue.message
    assert check_temperature(float("nan"), 300.0, limits, 9).kind == "temperature_runaway"


def test_close_pair_across_the_periodic_boundary():
    atoms = simple_cubic()  # 27 atoms, a = 3 Å, cell 9 Å; atom 18 sits at (6, 0, 0)
    limits = HealthLimits(min_distance_A=0.5)
    assert check_min_distance(atoms, limits, 0) is None
    atoms.positions[0] = [-0.1, 0.0, 0.0]  # outside the cell, unwrapped
    atoms.positions[18] = [8.75, 0.0, 0.0]  # image at -0.25: 0.15 Å from atom 0
    issue = check_min_distance(atoms, limits, 40)
    assert issue.kind == "atoms_too_close"
    assert "atoms 0 and 18 are 0.1500 Å apart" in issue.message
    assert "step 40" in issue.message
    assert np.isclose(atoms.get_all_distances(mic=True)[0, 18], 0.15)  # independent check
    atoms.positions[18, 0] = 8.35  # 0.55 Å apart: healthy
    assert check_min_distance(atoms, limits, 41) is None
