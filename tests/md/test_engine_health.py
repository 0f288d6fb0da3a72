"""Health checks inside a run: each stops it at the right step with its reason recorded, and
everything committed up to the last checkpoint stays intact (no partial files)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latticebench.md import HealthLimits, MDRun, TrajectoryReader, read_checkpoint
from latticebench.md.trajectory import FRAME_FIELDS, committed_chunk_indices
from tests.md.calculators import CollidingPair, HarmonicLattice, NaNOnCalls
from tests.md.conftest import short_parameters

# Andersen at p = 0.5 per step is so strongly damped that instabilities grow over thousands of
# steps; a weak coupling lets them show within a few tens of steps.
WEAK_COUPLING = 0.01


def assert_committed_prefix_intact(directory, reference_directory, checkpoint_step):
    """Frames on disk == the healthy reference run's frames up to the checkpoint; nothing else."""
    checkpoint = read_checkpoint(directory)
    assert checkpoint.step == checkpoint_step
    assert committed_chunk_indices(directory) == list(range(checkpoint.n_chunks))
    assert not list(directory.glob("*.tmp"))
    frames = TrajectoryReader(directory).read()
    reference = TrajectoryReader(reference_directory).read()
    keep = reference["step"] <= checkpoint_step
    assert len(frames["step"]) == checkpoint.n_frames == keep.sum()
    for name in FRAME_FIELDS:
        np.testing.assert_array_equal(frames[name], reference[name][keep], err_msg=name)


@pytest.mark.parametrize("nan_step", [57, 58])  # not recorded / recorded production steps
def test_nan_forces_stop_the_run_at_that_step(crystal, tmp_path, nan_step):
    parameters = short_parameters()  # checkpoints after steps 20, 45, 70, ...
    MDRun(tmp_path / "reference", crystal, parameters).run(HarmonicLattice(crystal))
    directory = tmp_path / "nan"
    # a fresh run's calculation call c evaluates the positions of step c
    status = MDRun(directory, crystal, parameters).run(NaNOnCalls(crystal, {nan_step}))
    assert status.state == "stopped"
    assert status.step == nan_step
    assert status.checkpoint_step == 45
    assert status.issue.kind == "non_finite_forces"
    assert status.issue.step == nan_step
    assert "non-finite forces" in status.reason
    assert f"step {nan_step}" in status.reason
    assert "indices 3" in status.reason
    on_disk = json.loads((directory / "status.json").read_text())
    assert on_disk["state"] == "stopped"
    assert on_disk["issue"] == {
        "kind": "non_finite_forces",
        "step": nan_step,
        "message": status.reason,
    }
    assert_committed_prefix_intact(directory, tmp_path / "reference", 45)


def test_temperature_runaway_stops_at_the_first_step_above_the_limit(crystal, tmp_path):
    exploding = {"spring": 0.0, "site_spring": -1.0}  # every site is a potential maximum
    loose = short_parameters(
        andersen_probability=WEAK_COUPLING,
        equilibration_steps=0,
        production_steps=300,
        record_interval=1,
        checkpoint_interval=40,
        health=HealthLimits(max_temperature_factor=1e9, min_distance_A=1e-6),
    )
    MDRun(tmp_path / "reference", crystal, loose).run(HarmonicLattice(crystal, **exploding))
    temperatures = TrajectoryReader(tmp_path / "reference").read(["step", "temperature"])
    above = temperatures["step"][temperatures["temperature"] > 5 * 300.0]
    assert above.size, "the exploding crystal never exceeded 5 x 300 K"
    first = int(above[0])
    assert 40 < first < 300

    strict = loose.model_copy(
        update={"health": HealthLimits(max_temperature_factor=5.0, min_distance_A=1e-6)}
    )
    directory = tmp_path / "runaway"
    status = MDRun(directory, crystal, strict).run(HarmonicLattice(crystal, **exploding))
    assert (status.state, status.step, status.issue.kind) == (
        "stopped",
        first,
        "temperature_runaway",
    )
    assert f"temperature runaway at step {first}" in status.reason
    assert "exceeds 5 x 300 K = 1500 K" in status.reason
    assert_committed_prefix_intact(directory, tmp_path / "reference", (first - 1) // 40 * 40)


@pytest.mark.parametrize("interval", [1, 4])
def test_atoms_too_close_stop_at_the_first_checked_step(crystal, tmp_path, interval):
    loose = short_parameters(
        andersen_probability=WEAK_COUPLING,
        equilibration_steps=0,
        production_steps=80,
        record_interval=1,
        checkpoint_interval=10,
        health=HealthLimits(max_temperature_factor=1e9, min_distance_A=1e-6),
    )
    MDRun(tmp_path / "reference", crystal, loose).run(CollidingPair(crystal))
    reference = TrajectoryReader(tmp_path / "reference").read(["step", "positions"])
    probe = crystal.copy()
    closest = []
    for positions in reference["positions"]:
        probe.positions = positions
        distances = probe.get_all_distances(mic=True)
        closest.append(distances[np.triu_indices(len(probe), 1)].min())
    closest = np.array(closest)
    checked = reference["step"] % interval == 0
    first = int(reference["step"][checked & (closest < 0.5)][0])
    assert 10 < first < 80

    strict = loose.model_copy(
        update={
            "health": HealthLimits(
                max_temperature_factor=1e9, min_distance_A=0.5, distance_check_interval=interval
            )
        }
    )
    directory = tmp_path / "collision"
    status = MDRun(directory, crystal, strict).run(CollidingPair(crystal))
    assert (status.state, status.step, status.issue.kind) == ("stopped", first, "atoms_too_close")
    assert f"atoms too close at step {first}: atoms 0 and 1 are" in status.reason
    assert_committed_prefix_intact(directory, tmp_path / "reference", (first - 1) // 10 * 10)
