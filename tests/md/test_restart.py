"""restart_from_checkpoint: continue from the last checkpoint with changed parameters."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import units
from ase.md.andersen import Andersen

from latticebench.md import Correction, MDRun, TrajectoryReader, read_checkpoint
from latticebench.md.dynamics import rng_from_state
from latticebench.md.trajectory import FRAME_FIELDS, chunk_path
from tests.md.calculators import HarmonicLattice, NaNOnCalls
from tests.md.conftest import short_parameters

REASON = "non-finite forces at step 57"


@pytest.fixture
def stopped_run(crystal, tmp_path):
    """A run stopped by NaN forces at step 57 (last checkpoint: step 45), and a healthy
    reference run with the same seed."""
    parameters = short_parameters()
    MDRun(tmp_path / "reference", crystal, parameters).run(HarmonicLattice(crystal))
    directory = tmp_path / "run"
    status = MDRun(directory, crystal, parameters).run(NaNOnCalls(crystal, {57}))
    assert (status.state, status.checkpoint_step) == ("stopped", 45)
    return directory, tmp_path / "reference", parameters


def test_halved_timestep_continues_from_the_checkpoint(crystal, stopped_run):
    directory, reference_directory, parameters = stopped_run
    chunk_path(directory, read_checkpoint(directory).n_chunks).write_bytes(b"written after it")
    run = MDRun.restart_from_checkpoint(directory, timestep_fs=0.5, reason=REASON)
    assert not chunk_path(directory, read_checkpoint(directory).n_chunks).exists()

    at_restart = read_checkpoint(directory)
    correction = Correction(step=45, field="timestep_fs", old=1.0, new=0.5, reason=REASON)
    assert at_restart.step == 45
    assert at_restart.parameters.timestep_fs == 0.5
    assert at_restart.initial_parameters == parameters
    assert at_restart.corrections == (correction,)

    status = run.run(HarmonicLattice(crystal))
    assert (status.state, status.n_frames) == ("completed", 60)
    assert status.corrections == [correction]
    assert json.loads((directory / "status.json").read_text())["corrections"] == [
        {"step": 45, "field": "timestep_fs", "old": 1.0, "new": 0.5, "reason": REASON}
    ]

    frames = TrajectoryReader(directory).read()
    np.testing.assert_array_equal(frames["step"], np.arange(22, 141, 2))
    expected_time = np.where(frames["step"] <= 45, frames["step"], 45 + 0.5 * (frames["step"] - 45))
    np.testing.assert_allclose(frames["time_fs"], expected_time, rtol=0, atol=1e-12)
    reference = TrajectoryReader(reference_directory).read()
    before = frames["step"] <= 45
    for name in FRAME_FIELDS:
        np.testing.assert_array_equal(frames[name][before], reference[name][before], err_msg=name)
    assert not np.array_equal(frames["positions"][~before], reference["positions"][~before])

    # independently: one ASE Andersen step of 0.5 fs from the checkpoint's state and generator
    atoms = crystal.copy()
    atoms.positions = at_restart.positions
    atoms.set_momenta(at_restart.momenta)
    atoms.calc = HarmonicLattice(crystal)
    Andersen(
        atoms,
        0.5 * units.fs,
        temperature_K=300.0,
        andersen_prob=0.5,
        rng=rng_from_state(at_restart.rng_state),
    ).step()
    first_new = int(np.flatnonzero(frames["step"] == 46)[0])
    np.testing.assert_allclose(frames["positions"][first_new], atoms.positions, rtol=0, atol=1e-13)


def test_corrections_accumulate_and_nested_limits_are_dotted(crystal, stopped_run):
    directory, _, parameters = stopped_run
    MDRun.restart_from_checkpoint(directory, timestep_fs=0.5, reason=REASON)
    run = MDRun.restart_from_checkpoint(
        directory, health={"min_distance_A": 0.3}, andersen_probability=0.25, reason="second"
    )
    corrections = read_checkpoint(directory).corrections
    assert [(c.field, c.old, c.new, c.reason) for c in corrections] == [
        ("timestep_fs", 1.0, 0.5, REASON),
        ("andersen_probability", 0.5, 0.25, "second"),
        ("health.min_distance_A", 0.5, 0.3, "second"),
    ]
    current = read_checkpoint(directory).parameters
    assert current.health.distance_check_interval == parameters.health.distance_check_interval
    assert run.run(HarmonicLattice(crystal)).state == "completed"
    # the lead's job may rebuild the run with its original parameters: still the same run
    assert MDRun(directory, crystal, parameters).run(HarmonicLattice(crystal)).state == "completed"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"time_step": 0.5}, r"unknown MD parameters \['time_step'\]"),
        ({"seed": 99}, "seed cannot change"),
        ({"record_interval": 4}, "record_interval cannot change at step 45"),
        ({"equilibration_steps": 10}, "equilibration_steps cannot change"),
        ({"production_steps": 20}, "before the checkpoint at step 45"),
        ({"timestep_fs": -1.0}, "timestep_fs"),
    ],
)
def test_contradictory_overrides_are_refused_and_change_nothing(stopped_run, overrides, message):
    directory, _, _ = stopped_run
    before = (directory / "checkpoint.h5").read_bytes()
    with pytest.raises(ValueError, match=message):
        MDRun.restart_from_checkpoint(directory, reason="test", **overrides)
    assert (directory / "checkpoint.h5").read_bytes() == before


def test_equilibration_may_change_before_it_ends(crystal, tmp_path):
    MDRun(tmp_path, crystal, short_parameters()).run(HarmonicLattice(crystal), max_steps=10)
    run = MDRun.restart_from_checkpoint(tmp_path, equilibration_steps=30, reason="longer")
    status = run.run(HarmonicLattice(crystal))
    assert (status.state, status.step, status.n_frames) == ("completed", 150, 60)
    np.testing.assert_array_equal(TrajectoryReader(tmp_path).steps, np.arange(32, 151, 2))


def test_restart_needs_a_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to restart"):
        MDRun.restart_from_checkpoint(tmp_path, timestep_fs=0.5)
