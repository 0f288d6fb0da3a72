"""MDRun: step numbering, frame contents, initial velocities, exact pause/resume, clean-up."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import units
from ase.constraints import FixAtoms
from ase.md.andersen import Andersen

from latticebench.md import MDRun, MDStatus, TrajectoryReader, read_checkpoint
from latticebench.md.dynamics import degrees_of_freedom
from latticebench.md.trajectory import FRAME_FIELDS, chunk_path
from tests.md.calculators import HarmonicLattice, NaNOnCalls
from tests.md.conftest import short_parameters


def run_to_end(directory, atoms, parameters, **calculator_kwargs) -> MDStatus:
    return MDRun(directory, atoms, parameters).run(HarmonicLattice(atoms, **calculator_kwargs))


def assert_same_frames(directory_a, directory_b):
    a, b = TrajectoryReader(directory_a).read(), TrajectoryReader(directory_b).read()
    for name in FRAME_FIELDS:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_step_numbering_and_no_equilibration_frames(crystal, tmp_path):
    parameters = short_parameters(
        equilibration_steps=25,
        production_steps=60,
        record_interval=3,
        checkpoint_interval=10,
        timestep_fs=0.5,
    )
    status = run_to_end(tmp_path, crystal, parameters)
    assert (status.state, status.step, status.n_frames) == ("completed", 85, 20)
    reader = TrajectoryReader(tmp_path)
    np.testing.assert_array_equal(reader.steps, np.arange(28, 86, 3))
    np.testing.assert_allclose(reader.read("time_fs")["time_fs"], 0.5 * reader.steps, atol=1e-12)
    # production checkpoints after steps 35, 45, ..., 85 -> six chunks of 3, 3, 4, 3, 3, 4 frames
    assert [len(c["step"]) for c in reader.iter_chunks("step")] == [3, 3, 4, 3, 3, 4]
    assert read_checkpoint(tmp_path).n_chunks == 6


def test_frames_are_coherent_snapshots(crystal, tmp_path):
    """Positions, forces, energies and temperature of a frame all belong to the same step."""
    run_to_end(tmp_path, crystal, short_parameters())
    frames = TrajectoryReader(tmp_path).read()
    calculator = HarmonicLattice(crystal)
    probe = crystal.copy()
    masses = crystal.get_masses()
    for index in (0, 17, len(frames["step"]) - 1):
        probe.positions = frames["positions"][index]
        probe.calc = calculator
        np.testing.assert_array_equal(frames["forces"][index], probe.get_forces())
        assert frames["potential_energy"][index] == probe.get_potential_energy()
    expected_temperature = 2 * frames["kinetic_energy"] / (3 * len(crystal) - 3) / units.kB
    np.testing.assert_allclose(frames["temperature"], expected_temperature, rtol=1e-14)
    assert degrees_of_freedom(len(crystal)) == 78
    centre = np.einsum("i,tij->tj", masses, frames["positions"]) / masses.sum()
    np.testing.assert_allclose(centre, np.broadcast_to(centre[0], centre.shape), atol=1e-10)
    assert np.all(frames["kinetic_energy"] > 0)


def test_first_step_reproduced_with_ase_and_an_independent_generator(crystal, tmp_path):
    """Initial velocities: Maxwell-Boltzmann from the seed, zero total momentum; then the same
    generator drives ASE's Andersen thermostat."""
    parameters = short_parameters(equilibration_steps=0, production_steps=1, record_interval=1)
    run_to_end(tmp_path, crystal, parameters)
    frame = TrajectoryReader(tmp_path).read()

    rng = np.random.default_rng(parameters.seed)
    masses = crystal.get_masses()
    momenta = rng.standard_normal((len(crystal), 3)) * np.sqrt(masses * units.kB * 300.0)[:, None]
    momenta -= masses[:, None] * (momenta.sum(axis=0) / masses.sum())
    atoms = crystal.copy()
    atoms.set_momenta(momenta)
    atoms.calc = HarmonicLattice(crystal)
    dynamics = Andersen(atoms, units.fs, temperature_K=300.0, andersen_prob=0.5, rng=rng)
    forces = dynamics.step()
    np.testing.assert_allclose(frame["positions"][0], atoms.positions, rtol=0, atol=1e-13)
    np.testing.assert_allclose(frame["forces"][0], forces, rtol=0, atol=1e-12)
    assert frame["kinetic_energy"][0] == pytest.approx(atoms.get_kinetic_energy(), rel=1e-12)


@pytest.mark.parametrize("thermostat", ["andersen", "langevin"])
def test_paused_segments_reproduce_the_uninterrupted_run_bitwise(crystal, tmp_path, thermostat):
    parameters = short_parameters(thermostat=thermostat)
    reference = run_to_end(tmp_path / "reference", crystal, parameters)
    assert reference.state == "completed"
    states = []
    while not states or states[-1].state != "completed":
        run = MDRun(tmp_path / "segments", crystal, parameters)
        states.append(run.run(HarmonicLattice(crystal), max_steps=37))
    assert [s.state for s in states] == ["paused", "paused", "paused", "completed"]
    assert [s.step for s in states] == [37, 74, 111, 140]
    assert (
        states[0].reason == "paused after max_steps=37 steps in this call; resumable from step 37"
    )
    reader = TrajectoryReader(tmp_path / "segments")
    assert reader.n_frames == parameters.n_frames == 60
    np.testing.assert_array_equal(reader.steps, np.arange(22, 141, 2))
    assert_same_frames(tmp_path / "reference", tmp_path / "segments")


def test_status_json_is_the_returned_status(crystal, tmp_path):
    status = MDRun(tmp_path, crystal, short_parameters()).run(
        HarmonicLattice(crystal), max_steps=50
    )
    on_disk = json.loads((tmp_path / "status.json").read_text())
    assert on_disk == status.to_dict()
    assert MDStatus.from_dict(on_disk) == status
    assert (on_disk["state"], on_disk["step"], on_disk["checkpoint_step"]) == ("paused", 50, 50)
    assert on_disk["n_frames"] == 15  # production steps 22, 24, ..., 50
    assert on_disk["n_frames_expected"] == 60


def test_resume_discards_uncounted_chunks_and_tmp_files(crystal, tmp_path):
    parameters = short_parameters()
    run_to_end(tmp_path / "reference", crystal, parameters)
    directory = tmp_path / "killed"
    status = MDRun(directory, crystal, parameters).run(HarmonicLattice(crystal), max_steps=70)
    n_chunks = read_checkpoint(directory).n_chunks
    # what a kill between a chunk commit and its checkpoint, or during writes, leaves behind
    chunk_path(directory, n_chunks).write_bytes(b"chunk that no checkpoint counts")
    (directory / "traj_000009.h5.tmp").write_bytes(b"half")
    (directory / "checkpoint.h5.tmp").write_bytes(b"half")
    assert status.state == "paused"
    assert MDRun(directory, crystal, parameters).run(HarmonicLattice(crystal)).state == "completed"
    assert_same_frames(tmp_path / "reference", directory)
    assert not list(directory.glob("traj_*.tmp"))


def test_a_completed_run_is_not_run_again(crystal, tmp_path):
    run_to_end(tmp_path, crystal, short_parameters())
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("traj_*.h5")}
    calculator = HarmonicLattice(crystal)
    status = MDRun(tmp_path, crystal, short_parameters()).run(calculator)
    assert (status.state, status.step, status.n_frames) == ("completed", 140, 60)
    assert calculator.n_calls == 0
    assert before == {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("traj_*.h5")}


def test_calculator_exception_keeps_the_last_checkpoint(crystal, tmp_path):
    class Failing(HarmonicLattice):
        def calculate(self, *args, **kwargs):
            if self.n_calls == 60:
                raise RuntimeError("CUDA out of memory (simulated)")
            super().calculate(*args, **kwargs)

    parameters = short_parameters()
    run_to_end(tmp_path / "reference", crystal, parameters)
    directory = tmp_path / "failing"
    with pytest.raises(RuntimeError, match="out of memory"):
        MDRun(directory, crystal, parameters).run(Failing(crystal))
    checkpoint = read_checkpoint(directory)
    assert checkpoint.step == 45  # checkpoints after 20 (end of equilibration), 45, 70, ...
    assert TrajectoryReader(directory).n_frames == checkpoint.n_frames == 12
    assert not list(directory.glob("*.tmp"))
    MDRun(directory, crystal, parameters).run(HarmonicLattice(crystal))
    assert_same_frames(tmp_path / "reference", directory)


def test_open_continues_from_the_directory_alone(crystal, tmp_path):
    parameters = short_parameters()
    run_to_end(tmp_path / "reference", crystal, parameters)
    MDRun(tmp_path / "run", crystal, parameters).run(HarmonicLattice(crystal), max_steps=30)
    reopened = MDRun.open(tmp_path / "run")
    assert reopened.parameters == parameters
    assert reopened.atoms.get_chemical_symbols() == crystal.get_chemical_symbols()
    assert reopened.run(HarmonicLattice(crystal)).state == "completed"
    assert_same_frames(tmp_path / "reference", tmp_path / "run")
    with pytest.raises(FileNotFoundError, match="no MD checkpoint"):
        MDRun.open(tmp_path / "empty")


def test_a_directory_of_another_run_is_refused(crystal, tmp_path):
    MDRun(tmp_path, crystal, short_parameters()).run(HarmonicLattice(crystal), max_steps=5)
    with pytest.raises(ValueError, match=r"parameters differ .*\['seed'\]"):
        MDRun(tmp_path, crystal, short_parameters(seed=8))
    moved = crystal.copy()
    moved.positions[4] += 0.1
    with pytest.raises(ValueError, match="starting positions differ"):
        MDRun(tmp_path, moved, short_parameters())


def test_unusable_atoms_are_refused(crystal, tmp_path):
    with pytest.raises(ValueError, match="at least 2 atoms"):
        MDRun(tmp_path, crystal[:1], short_parameters())
    constrained = crystal.copy()
    constrained.set_constraint(FixAtoms([0]))
    with pytest.raises(ValueError, match="constraints"):
        MDRun(tmp_path, constrained, short_parameters())
    with pytest.raises(ValueError, match="max_steps"):
        MDRun(tmp_path, crystal, short_parameters()).run(HarmonicLattice(crystal), max_steps=0)


def test_nan_on_a_non_recorded_step_before_production_is_caught(crystal, tmp_path):
    status = MDRun(tmp_path, crystal, short_parameters()).run(NaNOnCalls(crystal, {7}))
    assert (status.state, status.step, status.checkpoint_step, status.n_frames) == (
        "stopped",
        7,
        0,
        0,
    )
    assert read_checkpoint(tmp_path).step == 0
    assert not list(tmp_path.glob("traj_0*.h5"))
