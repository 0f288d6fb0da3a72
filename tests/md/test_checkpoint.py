"""Checkpoint file: bit-exact round trip (state and random generator), clear errors."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from latticebench.md.checkpoint import (
    CHECKPOINT_FILE,
    Checkpoint,
    CheckpointError,
    Correction,
    read_checkpoint,
    write_checkpoint,
)
from latticebench.md.dynamics import make_rng, rng_from_state, rng_state
from tests.md.conftest import short_parameters


def make_checkpoint(rng_state_dict) -> Checkpoint:
    values = np.random.default_rng(5).normal(size=(3, 5, 3))
    parameters = short_parameters(timestep_fs=0.5)
    return Checkpoint(
        step=45,
        phase="production",
        time_fs=33.25,
        n_chunks=2,
        n_frames=13,
        positions=values[0],
        momenta=values[1],
        rng_state=rng_state_dict,
        parameters=parameters,
        initial_parameters=short_parameters(),
        initial_positions=values[2],
        corrections=(
            Correction(step=25, field="timestep_fs", old=1.0, new=0.5, reason="NaN at step 31"),
        ),
    )


def test_round_trip_is_exact_and_the_generator_continues(tmp_path):
    rng = make_rng(123)
    rng.random(1000)
    original = make_checkpoint(rng_state(rng))
    expected_draws = rng.standard_normal(50)
    write_checkpoint(tmp_path, original)
    loaded = read_checkpoint(tmp_path)
    for name in ("positions", "momenta", "initial_positions"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(original, name))
    for name in (
        "step",
        "phase",
        "time_fs",
        "n_chunks",
        "n_frames",
        "parameters",
        "initial_parameters",
        "corrections",
    ):
        assert getattr(loaded, name) == getattr(original, name), name
    np.testing.assert_array_equal(
        rng_from_state(loaded.rng_state).standard_normal(50), expected_draws
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHECKPOINT_FILE]


def test_no_checkpoint_is_none(tmp_path):
    assert read_checkpoint(tmp_path) is None


def test_corrupt_checkpoint_names_the_file(tmp_path):
    (tmp_path / CHECKPOINT_FILE).write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match=CHECKPOINT_FILE):
        read_checkpoint(tmp_path)


def test_inconsistent_phase_is_rejected(tmp_path):
    write_checkpoint(tmp_path, make_checkpoint(rng_state(make_rng(1))))
    with h5py.File(tmp_path / CHECKPOINT_FILE, "r+") as handle:
        text = handle["metadata"][()].decode().replace('"production"', '"equilibration"')
        del handle["metadata"]
        handle.create_dataset("metadata", data=text)
    with pytest.raises(CheckpointError, match="phase 'equilibration' does not match step 45"):
        read_checkpoint(tmp_path)


def test_foreign_random_state_is_rejected():
    state = np.random.Generator(np.random.MT19937(1)).bit_generator.state
    with pytest.raises(ValueError, match="MT19937"):
        rng_from_state(state)
