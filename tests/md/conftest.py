"""Fixtures of the MD engine tests: a 27-atom harmonic crystal and short-run parameters."""

from __future__ import annotations

import pytest

from latticebench.md import HealthLimits, MDParameters
from tests.md.calculators import simple_cubic


@pytest.fixture
def crystal():
    """27-atom simple-cubic crystal (a = 3 Å, argon masses)."""
    return simple_cubic()


def short_parameters(**changes) -> MDParameters:
    """A short Andersen run: 20 equilibration + 120 production steps, frames every 2 steps,
    checkpoints every 25 steps, distance checks every 5 steps."""
    values = {
        "seed": 7,
        "equilibration_steps": 20,
        "production_steps": 120,
        "record_interval": 2,
        "checkpoint_interval": 25,
        "health": HealthLimits(distance_check_interval=5),
    }
    values.update(changes)
    return MDParameters(**values)
