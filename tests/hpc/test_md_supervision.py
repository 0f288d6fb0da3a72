"""custodian-supervised MD: exploding runs, out of memory, wall time, the trajectory validator."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from latticebench.hpc.md_handlers import (
    ExplodingMDHandler,
    NonFiniteFramesValidator,
    find_non_finite_frame,
    read_supervision_state,
)
from latticebench.hpc.md_supervision import (
    MDSupervisionError,
    MDWalltimeError,
    SupervisionParameters,
    is_out_of_memory,
    supervise_md,
)
from latticebench.md import HealthLimits, MDRun, read_checkpoint, read_status
from tests.hpc.calculators import FailsOnCall, OutOfMemoryOnCalls
from tests.md.calculators import CollidingPair, HarmonicLattice, NaNOnCalls, simple_cubic
from tests.md.conftest import short_parameters

SEGMENT = SupervisionParameters(segment_steps=40)
WEAK_COUPLING = 0.01  # Andersen probability that lets an unstable crystal heat up


def _frames(directory):
    return MDRun.open(directory).trajectory().read(["step", "time_fs", "positions", "forces"])


def _reference_run(tmp_path, crystal, parameters):
    """The same run without any fault (one call, no supervision)."""
    run = MDRun(tmp_path / "reference", crystal, parameters)
    assert run.run(HarmonicLattice(crystal)).state == "completed"
    return _frames(tmp_path / "reference")


def test_nan_at_step_k_halves_the_timestep_and_resumes_from_the_checkpoint(tmp_path):
    crystal = simple_cubic()
    parameters = short_parameters()  # checkpoints at 20, 45, 70, ...; frames every 2 steps
    calc = NaNOnCalls(crystal, nan_calls={57})  # call c of a fresh run evaluates step c
    outcome = supervise_md(
        tmp_path / "run", crystal, parameters, lambda device: calc, supervision=SEGMENT
    )

    assert outcome.status.state == "completed"
    assert outcome.status.n_frames == parameters.n_frames == 60
    [correction] = outcome.corrections
    assert correction["field"] == "timestep_fs"
    assert (correction["old"], correction["new"]) == (1.0, 0.5)
    assert correction["step"] == 45  # the last checkpoint before step 57
    assert "non-finite forces at step 57" in correction["reason"]
    assert outcome.custodian_log[0]["corrections"][0]["handler"] == "ExplodingMDHandler"
    assert json.loads((tmp_path / "run" / "custodian.json").read_text())  # custodian's own log

    frames = _frames(tmp_path / "run")
    reference = _reference_run(tmp_path, crystal, parameters)
    # one frame per recorded step, none twice: steps 22, 24, ..., 140
    assert np.array_equal(frames["step"], np.arange(22, 141, 2))
    # resumed from the checkpoint at step 45: everything before it is the uninterrupted run
    before = frames["step"] <= 45
    assert np.array_equal(frames["positions"][before], reference["positions"][before])
    assert not np.allclose(frames["positions"][~before], reference["positions"][~before])
    # after the restart a step lasts 0.5 fs
    assert np.allclose(np.diff(frames["time_fs"][frames["step"] >= 46]), 1.0)
    assert frames["time_fs"][-1] == pytest.approx(45 * 1.0 + (140 - 45) * 0.5)


def test_always_nan_fails_after_the_halving_limit_with_the_reason(tmp_path):
    crystal = simple_cubic()
    calc = NaNOnCalls(crystal, nan_calls=range(30, 10_000))
    with pytest.raises(MDSupervisionError) as caught:
        supervise_md(
            tmp_path / "run", crystal, short_parameters(), lambda d: calc, supervision=SEGMENT
        )
    error = caught.value
    assert "non-finite forces" in error.reason
    assert "after 3 of 3 allowed timestep halvings" in error.reason
    assert "1 → 0.5 → 0.25 → 0.125 fs" in error.reason
    assert error.to_dict()["directory"] == str(tmp_path / "run")
    checkpoint = read_checkpoint(tmp_path / "run")
    assert [c.new for c in checkpoint.corrections] == [0.5, 0.25, 0.125]
    assert checkpoint.parameters.timestep_fs == 0.125
    # the limit is kept in the run directory: a rerun gives up at once, halving nothing more
    with pytest.raises(MDSupervisionError, match="3 of 3"):
        supervise_md(
            tmp_path / "run", crystal, short_parameters(), lambda d: calc, supervision=SEGMENT
        )
    assert len(read_checkpoint(tmp_path / "run").corrections) == 3


def test_no_halving_allowed_fails_at_the_first_stop(tmp_path):
    crystal = simple_cubic()
    calc = NaNOnCalls(crystal, nan_calls={33})
    strict = SupervisionParameters(segment_steps=40, max_timestep_halvings=0)
    with pytest.raises(MDSupervisionError, match="after 0 of 0 allowed"):
        supervise_md(
            tmp_path / "run", crystal, short_parameters(), lambda d: calc, supervision=strict
        )
    assert read_checkpoint(tmp_path / "run").corrections == ()


@pytest.mark.parametrize(
    ("make_calculator", "limits", "words"),
    [
        (
            lambda atoms: HarmonicLattice(atoms, spring=0.0, site_spring=-1.0),  # sites are maxima
            HealthLimits(max_temperature_factor=5.0, min_distance_A=1e-6),
            "temperature runaway",
        ),
        (
            lambda atoms: CollidingPair(atoms),  # atoms 0 and 1 pulled together
            HealthLimits(max_temperature_factor=1e9, min_distance_A=0.5),
            "atoms too close",
        ),
    ],
)
def test_other_explosions_are_corrected_then_fail_clearly(tmp_path, make_calculator, limits, words):
    crystal = simple_cubic()
    calc = make_calculator(crystal)
    parameters = short_parameters(
        andersen_probability=WEAK_COUPLING,
        equilibration_steps=0,
        production_steps=1600,
        checkpoint_interval=20,
        health=limits,
    )
    supervision = SupervisionParameters(segment_steps=400, max_timestep_halvings=2)
    with pytest.raises(MDSupervisionError) as caught:
        supervise_md(tmp_path / "run", crystal, parameters, lambda d: calc, supervision=supervision)
    assert words in caught.value.reason
    assert (
        "after 2 of 2 allowed timestep halvings (time step 1 → 0.5 → 0.25 fs)"
        in caught.value.reason
    )
    corrections = read_checkpoint(tmp_path / "run").corrections
    assert [c.field for c in corrections] == ["timestep_fs", "timestep_fs"]
    assert all(words.replace(" ", "_") in c.reason for c in corrections)
    # each halving restarted from the last checkpoint before the stop, later and later
    assert 0 < corrections[0].step < corrections[1].step


def test_out_of_memory_continues_on_the_fallback_device(tmp_path):
    crystal = simple_cubic()
    gpu = OutOfMemoryOnCalls(crystal, oom_calls={50})
    cpu = HarmonicLattice(crystal)
    asked = []

    def calculator_for(device):
        asked.append(device)
        return {"cuda": gpu, "cpu": cpu}[device]

    parameters = short_parameters()
    outcome = supervise_md(
        tmp_path / "run", crystal, parameters, calculator_for, device="cuda", supervision=SEGMENT
    )
    assert asked == ["cuda", "cpu"]
    assert outcome.status.state == "completed"
    assert outcome.status.n_frames == parameters.n_frames
    assert outcome.device == "cpu"
    [correction] = outcome.corrections
    assert correction["field"] == "device"
    assert (correction["old"], correction["new"]) == ("cuda", "cpu")
    assert correction["step"] == 45  # continued from the checkpoint before the failing call
    assert "CUDA out of memory" in correction["reason"]
    assert read_supervision_state(tmp_path / "run").device == "cpu"
    assert not (tmp_path / "run" / "md_error.json").exists()
    # the physics did not change: the frames equal the uninterrupted run's
    frames = _frames(tmp_path / "run")
    assert np.array_equal(
        frames["positions"], _reference_run(tmp_path, crystal, parameters)["positions"]
    )


def test_out_of_memory_on_the_fallback_device_fails(tmp_path):
    crystal = simple_cubic()
    calc = OutOfMemoryOnCalls(crystal, oom_calls=range(10, 10_000))
    with pytest.raises(MDSupervisionError, match=r"out of memory on cpu .* no other device"):
        supervise_md(
            tmp_path / "run",
            crystal,
            short_parameters(),
            lambda d: calc,
            device="cpu",
            supervision=SEGMENT,
        )


def test_other_calculator_errors_propagate_unchanged(tmp_path):
    crystal = simple_cubic()
    calc = FailsOnCall(crystal, call=12)
    with pytest.raises(ValueError, match="could not evaluate"):
        supervise_md(
            tmp_path / "run", crystal, short_parameters(), lambda d: calc, supervision=SEGMENT
        )
    assert read_checkpoint(tmp_path / "run") is not None  # resumable


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB"), True),
        (RuntimeError("MPS backend out of memory"), True),
        (RuntimeError("expected scalar type Float"), False),
        (MemoryError(), False),
    ],
)
def test_out_of_memory_recognition(exc, expected):
    assert is_out_of_memory(exc) is expected


def test_walltime_pauses_at_a_checkpoint_and_a_later_call_completes(tmp_path, fake_clock):
    crystal = simple_cubic()
    parameters = short_parameters()
    supervision = SupervisionParameters(segment_steps=40, walltime_margin_s=0.0)
    calc = HarmonicLattice(crystal)
    # clock readings: check (estimate 0) → segment start → segment end (1 s for 40 steps) →
    # check: now + 1 s estimate passes the deadline 4.5 s after the start
    deadline = fake_clock.now + 4.5
    first = supervise_md(
        tmp_path / "run", crystal, parameters, lambda d: calc,
        supervision=supervision, deadline=deadline, clock=fake_clock,
    )  # fmt: skip
    assert first.walltime_paused and first.segments == 1
    assert first.status.state == "paused"
    assert read_checkpoint(tmp_path / "run").step == 40
    assert first.status.n_frames == 10

    second = supervise_md(
        tmp_path / "run", crystal, parameters, lambda d: calc, supervision=supervision
    )
    assert second.started_from_step == 40
    assert second.status.state == "completed" and not second.walltime_paused
    assert second.status.n_frames == parameters.n_frames
    frames = _frames(tmp_path / "run")
    assert np.array_equal(frames["step"], np.arange(22, 141, 2))
    assert np.array_equal(
        frames["positions"], _reference_run(tmp_path, crystal, parameters)["positions"]
    )


def test_no_walltime_left_raises_and_leaves_the_run_resumable(tmp_path, fake_clock):
    crystal = simple_cubic()
    calc = HarmonicLattice(crystal)
    with pytest.raises(MDWalltimeError, match="resumable from step 0"):
        supervise_md(
            tmp_path / "run",
            crystal,
            short_parameters(),
            lambda d: calc,
            deadline=fake_clock.now + 30,
            clock=fake_clock,
        )  # fmt: skip  (the default margin of 60 s does not fit)
    outcome = supervise_md(tmp_path / "run", crystal, short_parameters(), lambda d: calc)
    assert outcome.status.state == "completed"


def test_validator_rejects_a_finished_run_with_non_finite_forces(tmp_path):
    crystal = simple_cubic()
    calc = HarmonicLattice(crystal)
    outcome = supervise_md(tmp_path / "run", crystal, short_parameters(), lambda d: calc)
    assert outcome.status.state == "completed"
    assert not NonFiniteFramesValidator().check(str(tmp_path / "run"))
    # damage one committed frame (e.g. a faulty copy): chunk 1, its third frame
    with h5py.File(tmp_path / "run" / "traj_000001.h5", "r+") as handle:
        forces = handle["forces"][()]
        forces[2, 5, 1] = np.inf
        handle["forces"][...] = forces
        bad_step = int(handle["step"][2])
    assert find_non_finite_frame(tmp_path / "run")[1] == bad_step
    assert NonFiniteFramesValidator().check(str(tmp_path / "run"))
    with pytest.raises(
        MDSupervisionError, match=rf"non-finite forces \(frame \d+, step {bad_step}\)"
    ):
        supervise_md(tmp_path / "run", crystal, short_parameters(), lambda d: calc)


def test_exploding_handler_ignores_runs_that_did_not_stop(tmp_path):
    crystal = simple_cubic()
    run = MDRun(tmp_path / "run", crystal, short_parameters())
    run.run(HarmonicLattice(crystal), max_steps=30)
    assert read_status(tmp_path / "run").state == "paused"
    assert not ExplodingMDHandler().check(str(tmp_path / "run"))
    with pytest.raises(ValueError, match="max_halvings"):
        ExplodingMDHandler(max_halvings=-1)
