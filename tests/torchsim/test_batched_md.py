"""Batched Andersen MD (torch-sim backend) against the ASE engine, and its isolation of failures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from latticebench.anharmonicity import SigmaReference, accumulate_sigma
from latticebench.md import HealthLimits, MDParameters, MDRun, TrajectoryReader, read_checkpoint
from latticebench.torchsim import BatchedMDRun, BatchEntry, HarmonicModel, HarmonicReference
from tests.jobs.harmonic import HarmonicCalculator

FIELDS = ["step", "positions", "forces", "temperature", "potential_energy", "kinetic_energy"]


def _parameters(seed: int, **changes) -> MDParameters:
    values = {
        "seed": seed,
        "equilibration_steps": 20,
        "production_steps": 60,
        "record_interval": 2,
        "checkpoint_interval": 20,
    }
    return MDParameters(**(values | changes))


def _entries(systems, root, **changes) -> list[BatchEntry]:
    return [
        BatchEntry(f"system-{i}", root / f"batched-{i}", atoms, _parameters(100 + i, **changes))
        for i, (atoms, _) in enumerate(systems)
    ]


def _model(systems, **kwargs):
    return HarmonicModel(
        [HarmonicReference(atoms.get_positions(), atoms.cell.array, phi) for atoms, phi in systems],
        **kwargs,
    )


def _solo(atoms, phi, directory, parameters):
    """The ASE engine's run of one system alone."""
    calculator = HarmonicCalculator(phi, atoms.get_positions(), atoms.cell.array)
    status = MDRun(directory, atoms, parameters).run(calculator)
    return status, TrajectoryReader(directory).read(FIELDS)


def _assert_same_frames(mine, theirs, atol=1e-10):
    np.testing.assert_array_equal(mine["step"], theirs["step"])
    for name in FIELDS[1:]:
        np.testing.assert_allclose(mine[name], theirs[name], rtol=0, atol=atol, err_msg=name)


def test_batched_run_reproduces_each_system_run_alone_by_the_ase_engine(harmonic_systems, tmp_path):
    entries = _entries(harmonic_systems, tmp_path)
    statuses = BatchedMDRun(entries).run(_model(harmonic_systems))

    for entry, (atoms, phi) in zip(entries, harmonic_systems, strict=True):
        assert statuses[entry.key].state == "completed"
        assert statuses[entry.key].n_frames == 30
        solo_dir = tmp_path / f"solo-{entry.key}"
        _, solo = _solo(atoms, phi, solo_dir, entry.parameters)
        mine = TrajectoryReader(entry.directory).read(FIELDS)
        # same seed, same algorithm, same random draws: the same trajectory up to round-off
        _assert_same_frames(mine, solo)
        assert np.ptp(mine["temperature"]) > 10.0  # the thermostat did act: frames differ
        # the checkpoints are interchangeable: same generator state, same momenta
        ours, theirs = read_checkpoint(entry.directory), read_checkpoint(solo_dir)
        assert ours.rng_state == theirs.rng_state
        np.testing.assert_allclose(ours.momenta, theirs.momenta, rtol=0, atol=1e-10)


def test_a_paused_batch_resumes_exactly_and_the_ase_engine_can_finish_it(
    harmonic_systems, tmp_path
):
    entries = _entries(harmonic_systems, tmp_path)
    model = _model(harmonic_systems)
    paused = BatchedMDRun(entries).run(model, max_steps=33)
    assert {s.state for s in paused.values()} == {"paused"}
    assert {s.checkpoint_step for s in paused.values()} == {33}

    # the first system continues in the ASE engine, the others in a new batch
    atoms, phi = harmonic_systems[0]
    MDRun.open(entries[0].directory).run(
        HarmonicCalculator(phi, atoms.get_positions(), atoms.cell.array)
    )
    resumed = BatchedMDRun(entries[1:]).run(_model(harmonic_systems[1:]))
    assert {s.state for s in resumed.values()} == {"completed"}

    for entry, (atoms, phi) in zip(entries, harmonic_systems, strict=True):
        _, solo = _solo(atoms, phi, tmp_path / f"solo-{entry.key}", entry.parameters)
        _assert_same_frames(TrajectoryReader(entry.directory).read(FIELDS), solo)


def test_sigma_of_a_batched_harmonic_run_vanishes(harmonic_systems, tmp_path):
    entries = _entries(harmonic_systems, tmp_path, production_steps=100)
    BatchedMDRun(entries).run(_model(harmonic_systems))

    for entry, (atoms, phi) in zip(entries, harmonic_systems, strict=True):
        reference = SigmaReference(
            positions=atoms.get_positions(),
            cell=atoms.cell.array,
            force_constants=phi,
            masses=atoms.get_masses(),
            labels={"element": atoms.get_chemical_symbols()},
        )
        accumulator = reference.accumulator(n_blocks=5, with_modes=False)
        chunks = (
            (c["positions"], c["forces"])
            for c in TrajectoryReader(entry.directory).iter_chunks(["positions", "forces"])
        )
        accumulate_sigma([accumulator], reference, chunks)
        result = accumulator.result(form="std")
        assert result.n_frames == 50
        assert result.value < 1e-8


def test_sigma_check_detects_systems_swapped_in_the_fan_out(harmonic_systems, tmp_path):
    """The σ^A gate is sharp: with another stiffness the same frames give σ^A of order 1."""
    entries = _entries(harmonic_systems[:1], tmp_path, production_steps=40)
    BatchedMDRun(entries).run(_model(harmonic_systems[:1]))
    atoms, phi = harmonic_systems[0]
    wrong = SigmaReference(
        positions=atoms.get_positions(),
        cell=atoms.cell.array,
        force_constants=0.5 * phi,
        masses=atoms.get_masses(),
        labels={"element": atoms.get_chemical_symbols()},
    )
    accumulator = wrong.accumulator(n_blocks=4, with_modes=False)
    frames = TrajectoryReader(entries[0].directory).read(["positions", "forces"])
    accumulate_sigma([accumulator], wrong, [(frames["positions"], frames["forces"])])
    assert accumulator.result(form="std").value == pytest.approx(0.5, rel=1e-6)


def test_batched_nvt_samples_the_canonical_temperature_distribution(tmp_path):
    """Kinetic energies of 3N−3 degrees of freedom at temperature T follow Gamma((3N−3)/2, k_B T).

    12 small harmonic crystals (8 atoms: 21 degrees of freedom, so broad fluctuations), 300 K,
    Andersen p = 0.5 per step; frames every 10 steps are practically independent.
    """
    from ase import units
    from ase.build import bulk

    from tests.torchsim.conftest import springs

    base = bulk("Si", "diamond", a=5.43, cubic=True)
    systems = [(base.copy(), springs(base, 1.0 + 0.25 * i, 4.0)) for i in range(12)]
    entries = [
        BatchEntry(
            f"si-{i}",
            tmp_path / f"si-{i}",
            atoms,
            MDParameters(
                seed=7 + i,
                equilibration_steps=100,
                production_steps=3000,
                record_interval=10,
                checkpoint_interval=1000,
            ),
        )
        for i, (atoms, _) in enumerate(systems)
    ]
    statuses = BatchedMDRun(entries).run(_model(systems))
    assert {s.state for s in statuses.values()} == {"completed"}
    kinetic = np.concatenate(
        [TrajectoryReader(e.directory).read(["kinetic_energy"])["kinetic_energy"] for e in entries]
    )
    temperature = np.concatenate(
        [TrajectoryReader(e.directory).read(["temperature"])["temperature"] for e in entries]
    )
    dof = 3 * 8 - 3
    kT = units.kB * 300.0
    assert len(kinetic) == 3600
    # mean: expected standard error ≈ 300 K · √(2/21) / √3600 ≈ 1.5 K
    assert temperature.mean() == pytest.approx(300.0, abs=6.0)
    # spread: canonical relative fluctuation √(2/dof) = 0.309
    assert temperature.std() / temperature.mean() == pytest.approx(np.sqrt(2 / dof), rel=0.06)
    # the whole distribution
    test = stats.kstest(kinetic, stats.gamma(a=dof / 2, scale=kT).cdf)
    assert test.pvalue > 1e-3, test
    # and the check can fail: the distribution of twice the temperature is rejected
    assert stats.kstest(kinetic, stats.gamma(a=dof / 2, scale=2 * kT).cdf).pvalue < 1e-10


class _FailsFor:
    """Wrap a batched model so that evaluating ``system_id`` raises after ``calls`` calls."""

    def __init__(self, model, system_id: int, calls: int) -> None:
        self.model, self.system_id, self.calls = model, system_id, calls
        self.device, self.dtype = model.device, model.dtype

    def __call__(self, state):
        from latticebench.torchsim.models import SYSTEM_ID

        self.calls -= 1
        if self.calls < 0 and self.system_id in state.system_extras[SYSTEM_ID].tolist():
            raise RuntimeError(f"no parameters for an element of system {self.system_id}")
        return self.model(state)


def test_a_model_error_stops_only_the_system_it_belongs_to(harmonic_systems, tmp_path):
    entries = _entries(harmonic_systems, tmp_path)
    statuses = BatchedMDRun(entries).run(_FailsFor(_model(harmonic_systems), 1, calls=50))

    failed = statuses["system-1"]
    assert failed.state == "stopped"
    assert "model evaluation failed" in failed.reason
    assert "no parameters for an element of system 1" in failed.reason
    assert "step 50" in failed.reason
    assert failed.checkpoint_step == 40  # its frames up to the last checkpoint are kept
    assert TrajectoryReader(entries[1].directory).read(["step"])["step"].max() == 40
    for i in (0, 2):
        atoms, phi = harmonic_systems[i]
        assert statuses[entries[i].key].state == "completed"
        _, solo = _solo(atoms, phi, tmp_path / f"solo-{i}", entries[i].parameters)
        _assert_same_frames(TrajectoryReader(entries[i].directory).read(FIELDS), solo)


def test_an_exploding_system_is_stopped_or_restarted_while_the_others_go_on(
    harmonic_systems, tmp_path
):
    atoms, phi = harmonic_systems[2]
    unstable = [*harmonic_systems[:2], (atoms, -40 * phi)]  # Φ < 0: the crystal flies apart
    limits = HealthLimits(max_temperature_factor=3.0)
    entries = _entries(unstable, tmp_path, health=limits)

    statuses = BatchedMDRun(entries).run(_model(unstable))
    stopped = statuses["system-2"]
    assert stopped.state == "stopped"
    assert stopped.issue.kind == "temperature_runaway"
    for i in (0, 1):
        atoms_i, phi_i = harmonic_systems[i]
        _, solo = _solo(atoms_i, phi_i, tmp_path / f"solo-{i}", entries[i].parameters)
        _assert_same_frames(TrajectoryReader(entries[i].directory).read(FIELDS), solo)

    # with halvings allowed the run is restarted from its checkpoint at 0.5 and 0.25 fs
    again = _entries(unstable, tmp_path / "halving", health=limits)
    statuses = BatchedMDRun(again, max_timestep_halvings=2).run(_model(unstable))
    assert statuses["system-2"].state == "stopped"
    assert [c.new for c in statuses["system-2"].corrections] == [0.5, 0.25]
    assert all("time step halved" in c.reason for c in statuses["system-2"].corrections)
    assert statuses["system-0"].state == statuses["system-1"].state == "completed"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"thermostat": "langevin"}, "Andersen thermostat only"),
        ({"key": "dup"}, "unique keys"),
    ],
)
def test_bad_batches_are_refused_naming_the_entry(harmonic_systems, tmp_path, change, message):
    entries = _entries(harmonic_systems, tmp_path)
    if "thermostat" in change:
        entries[1] = BatchEntry(
            entries[1].key,
            entries[1].directory,
            entries[1].atoms,
            entries[1].parameters.model_copy(update=change),
        )
    else:
        entries = [BatchEntry("dup", e.directory, e.atoms, e.parameters) for e in entries]
    with pytest.raises(ValueError, match=message) as info:
        BatchedMDRun(entries)
    if "thermostat" in change:
        assert "system-1" in str(info.value)
    with pytest.raises(ValueError, match="at least one system"):
        BatchedMDRun([])
