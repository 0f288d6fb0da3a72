"""Fixtures for the job tests: a JobStore in memory and a short protocol."""

from __future__ import annotations

import pytest
from jobflow import JobStore
from maggma.stores import MemoryStore

from latticebench.md import MDParameters
from latticebench.protocol import PhononParameters, Protocol, RelaxParameters


@pytest.fixture
def job_store():
    return JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})


SHORT_PROTOCOL = Protocol(
    name="test",
    relax=RelaxParameters(max_steps=30, fmax_eV_per_A=5e-3),
    phonons=PhononParameters(supercell=(1, 1, 1), mesh=(4, 4, 4), band_points=7),
    md=MDParameters(
        seed=11,
        temperature_K=150,
        equilibration_steps=10,
        production_steps=40,
        checkpoint_interval=20,
    ),
    n_md_runs=2,
)
"""Every step real, but small: 40-atom supercell, 2 × 40 MD frames at 150 K."""


@pytest.fixture
def short_protocol():
    """The short protocol (see :data:`SHORT_PROTOCOL`)."""
    return SHORT_PROTOCOL
