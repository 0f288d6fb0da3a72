"""Checkpointed, streaming NVT molecular dynamics over ASE atoms and any ASE calculator.

A run lives in one directory::

    checkpoint.h5      state to continue from (see :mod:`latticebench.md.checkpoint`)
    traj_static.h5     symbols, masses, cell
    traj_XXXXXX.h5     production frames, one file per committed chunk
    status.json        outcome of the last call of :meth:`MDRun.run`

Commit protocol at a checkpoint step: first the buffered frames are written as the next chunk
file (atomically), then the checkpoint that counts that chunk replaces the old one (atomically).
A kill between the two leaves a chunk that no checkpoint counts; it is deleted on resume and
recomputed identically. Frames are only ever committed together with a checkpoint, so "everything
up to the last checkpoint" is exactly what is on disk.

Step numbering is documented in :class:`~latticebench.md.parameters.MDParameters`.

Examples
--------
>>> from ase.build import bulk
>>> from ase.calculators.emt import EMT
>>> atoms = bulk("Cu", cubic=True).repeat(2)
>>> parameters = MDParameters(seed=1, equilibration_steps=100, production_steps=1000)
>>> status = MDRun("run-dir", atoms, parameters).run(EMT())  # doctest: +SKIP
>>> TrajectoryReader("run-dir").read("temperature")["temperature"].mean()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from latticebench.md.checkpoint import (
    CHECKPOINT_FILE,
    Checkpoint,
    Correction,
    phase_of,
    read_checkpoint,
    write_checkpoint,
)
from latticebench.md.dynamics import (
    build_dynamics,
    initial_momenta,
    kinetic_temperature,
    make_rng,
    rng_from_state,
    rng_state,
)
from latticebench.md.health import (
    HealthIssue,
    check_forces,
    check_min_distance,
    check_temperature,
)
from latticebench.md.parameters import MDParameters
from latticebench.md.status import MDStatus, RunState, write_status
from latticebench.md.trajectory import (
    ChunkBuffer,
    TrajectoryReader,
    discard_chunks,
    read_static,
    write_chunk,
    write_static,
)

if TYPE_CHECKING:
    from ase import Atoms
    from ase.calculators.calculator import BaseCalculator

__all__ = ["MDRun", "RunProgress", "TrajectoryReader", "check_health", "record_frame"]

logger = logging.getLogger(__name__)


@dataclass
class RunProgress:
    """Mutable counters of a run loop (global step index, time in fs, committed output).

    Shared by the ASE loop of :class:`MDRun` and the batched torch-sim backend, which drives
    one :class:`MDRun` per system through :meth:`MDRun.start_or_resume`,
    :meth:`MDRun.commit` and :meth:`MDRun.report`.
    """

    step: int
    time_fs: float
    n_chunks: int
    n_frames: int
    checkpoint_step: int

    @classmethod
    def at(cls, checkpoint: Checkpoint) -> RunProgress:
        """Counters of a run standing at ``checkpoint``."""
        return cls(
            step=checkpoint.step,
            time_fs=checkpoint.time_fs,
            n_chunks=checkpoint.n_chunks,
            n_frames=checkpoint.n_frames,
            checkpoint_step=checkpoint.step,
        )


class MDRun:
    """One NVT MD run in ``directory``: start it, resume it, restart it with new parameters.

    Parameters
    ----------
    directory : str or Path
        Run directory (created on the first :meth:`run`).
    atoms : ase.Atoms
        Starting structure (positions Å, cell Å, masses amu), N >= 2 atoms, no constraints.
        Its momenta and calculator are ignored: velocities are drawn from ``parameters.seed``.
    parameters : MDParameters
        Protocol of the run.

    Raises
    ------
    ValueError
        When ``atoms`` is unusable, or when ``directory`` already holds a checkpoint of a
        different run (other structure, or parameters that are neither its initial nor its
        current ones).
    """

    def __init__(self, directory: str | Path, atoms: Atoms, parameters: MDParameters) -> None:
        self.directory = Path(directory)
        _check_atoms(atoms)
        self.atoms = atoms.copy()
        self.atoms.calc = None
        self.parameters = parameters
        existing = read_checkpoint(self.directory)
        if existing is not None:
            self._check_same_run(existing)

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def open(cls, directory: str | Path) -> MDRun:
        """Re-open an existing run from its directory alone.

        Parameters
        ----------
        directory : str or Path
            Run directory holding a checkpoint.

        Returns
        -------
        MDRun
            The run, with its starting structure and initial parameters.

        Raises
        ------
        FileNotFoundError
            When the directory holds no checkpoint.
        """
        from ase import Atoms

        directory = Path(directory)
        checkpoint = read_checkpoint(directory)
        if checkpoint is None:
            raise FileNotFoundError(f"no MD checkpoint ({CHECKPOINT_FILE}) in {directory}")
        static = read_static(directory)
        atoms = Atoms(
            symbols=static["symbols"],
            positions=checkpoint.initial_positions,
            cell=static["cell"],
            pbc=static["pbc"],
            masses=static["masses"],
        )
        return cls(directory, atoms, checkpoint.initial_parameters)

    @classmethod
    def restart_from_checkpoint(
        cls,
        directory: str | Path,
        *,
        reason: str = "restart from the last checkpoint requested",
        **overrides: Any,
    ) -> MDRun:
        """Discard everything after the last checkpoint and continue with changed parameters.

        Every changed parameter is appended to the run's corrections as
        ``{step, field, old, new, reason}`` (``step`` = the checkpoint's step). Call
        :meth:`run` on the returned object to continue.

        Parameters
        ----------
        directory : str or Path
            Run directory holding a checkpoint.
        reason : str, optional
            Why the parameters change (stored with every correction).
        **overrides
            New values of :class:`MDParameters` fields, e.g. ``timestep_fs=0.5``. ``health``
            may be a :class:`HealthLimits` or a dict of the limits to change.

        Returns
        -------
        MDRun
            The run, ready to continue from its checkpoint.

        Raises
        ------
        FileNotFoundError
            When there is no checkpoint.
        ValueError
            For unknown fields, a changed ``seed``, or a change that contradicts work already
            done (``equilibration_steps`` or ``record_interval`` once production has begun,
            ``production_steps`` below the steps already done).
        """
        directory = Path(directory)
        checkpoint = read_checkpoint(directory)
        if checkpoint is None:
            raise FileNotFoundError(
                f"no MD checkpoint ({CHECKPOINT_FILE}) in {directory}: nothing to restart"
            )
        old = checkpoint.parameters
        new = _apply_overrides(old, overrides)
        _check_restart_allowed(checkpoint, new)
        changes = _differences(old.model_dump(mode="json"), new.model_dump(mode="json"))
        corrections = checkpoint.corrections + tuple(
            Correction(step=checkpoint.step, field=name, old=before, new=after, reason=reason)
            for name, before, after in changes
        )
        removed = discard_chunks(directory, checkpoint.n_chunks)
        if removed:
            logger.info("discarded %d file(s) written after the checkpoint", len(removed))
        write_checkpoint(directory, replace(checkpoint, parameters=new, corrections=corrections))
        return cls.open(directory)

    # ------------------------------------------------------------------ queries
    @property
    def checkpoint(self) -> Checkpoint | None:
        """The last committed checkpoint, or None before the first :meth:`run`."""
        return read_checkpoint(self.directory)

    def trajectory(self) -> TrajectoryReader:
        """Reader over the production frames committed with the current checkpoint."""
        checkpoint = read_checkpoint(self.directory)
        n_chunks = checkpoint.n_chunks if checkpoint is not None else None
        return TrajectoryReader(self.directory, n_chunks=n_chunks)

    # ------------------------------------------------------------------ the run
    def run(self, calculator: BaseCalculator, *, max_steps: int | None = None) -> MDStatus:
        """Run (or resume) until production is complete, a health check fires, or a pause.

        Parameters
        ----------
        calculator : ase.calculators.calculator.BaseCalculator
            Energies (eV) and forces (eV/Å); attached to a private copy of the atoms.
        max_steps : int, optional
            Do at most this many integration steps in this call, then checkpoint and return
            ``"paused"``. Default: no limit.

        Returns
        -------
        MDStatus
            Also written to ``status.json``. If a checkpoint exists the run continues from it;
            a completed run returns at once. An exception raised by the calculator propagates,
            leaving the last checkpoint and its frames as they were.
        """
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 or None, got {max_steps}")
        started = time.perf_counter()
        checkpoint = self.start_or_resume()
        parameters = checkpoint.parameters
        progress = RunProgress.at(checkpoint)
        if progress.step >= parameters.total_steps:
            return self.report(checkpoint, progress, "completed", None, None, started)

        atoms = self._atoms_at(checkpoint)
        atoms.calc = calculator
        rng = rng_from_state(checkpoint.rng_state)
        dynamics = build_dynamics(atoms, parameters, rng)
        buffer = ChunkBuffer(len(atoms))

        forces = atoms.get_forces(md=True)
        issue = check_health(atoms, forces, progress.step, parameters, check_distance=True)
        steps_done = 0
        while (
            issue is None
            and progress.step < parameters.total_steps
            and (max_steps is None or steps_done < max_steps)
        ):
            forces = dynamics.step(forces)
            progress.step += 1
            progress.time_fs += parameters.timestep_fs
            steps_done += 1
            step = progress.step
            issue = check_health(
                atoms,
                forces,
                step,
                parameters,
                check_distance=step % parameters.health.distance_check_interval == 0,
            )
            if issue is None and parameters.is_recorded(step):
                issue = self._record(buffer, atoms, forces, progress)
            if issue is None and parameters.is_checkpoint(step):
                checkpoint = self._commit_atoms(checkpoint, atoms, rng, buffer, progress)

        if issue is not None:
            buffer.clear()
            logger.warning("MD stopped: %s", issue.message)
            return self.report(checkpoint, progress, "stopped", issue.message, issue, started)
        if progress.checkpoint_step != progress.step:
            checkpoint = self._commit_atoms(checkpoint, atoms, rng, buffer, progress)
        if progress.step >= parameters.total_steps:
            return self.report(checkpoint, progress, "completed", None, None, started)
        reason = (
            f"paused after max_steps={max_steps} steps in this call; "
            f"resumable from step {progress.step}"
        )
        return self.report(checkpoint, progress, "paused", reason, None, started)

    # ------------------------------------------------------------------ building blocks
    def start_or_resume(self) -> Checkpoint:
        """The checkpoint to continue from: the last one, or a new step-0 one.

        A new run draws its Maxwell-Boltzmann velocities from ``parameters.seed`` and writes
        the static trajectory data; a resumed run loses the chunk files that no checkpoint
        counts (written after the last checkpoint by a killed process).

        Returns
        -------
        Checkpoint
        """
        checkpoint = read_checkpoint(self.directory)
        if checkpoint is None:
            return self._initialise()
        removed = discard_chunks(self.directory, checkpoint.n_chunks)
        if removed:
            logger.info("resuming: discarded %s", ", ".join(p.name for p in removed))
        return checkpoint

    # ------------------------------------------------------------------ internals
    def _initialise(self) -> Checkpoint:
        """Draw initial velocities, write the static trajectory data and the step-0 checkpoint."""
        rng = make_rng(self.parameters.seed)
        momenta = initial_momenta(self.atoms, self.parameters.temperature_K, rng)
        discard_chunks(self.directory, 0)
        write_static(
            self.directory,
            self.atoms.get_chemical_symbols(),
            self.atoms.get_masses(),
            self.atoms.cell.array,
            self.atoms.pbc,
        )
        checkpoint = Checkpoint(
            step=0,
            phase=phase_of(0, self.parameters),
            time_fs=0.0,
            n_chunks=0,
            n_frames=0,
            positions=self.atoms.get_positions(),
            momenta=momenta,
            rng_state=rng_state(rng),
            parameters=self.parameters,
            initial_parameters=self.parameters,
            initial_positions=self.atoms.get_positions(),
        )
        write_checkpoint(self.directory, checkpoint)
        return checkpoint

    def _atoms_at(self, checkpoint: Checkpoint) -> Atoms:
        """A private copy of the structure at the checkpoint's positions and momenta."""
        atoms = self.atoms.copy()
        atoms.set_constraint()
        atoms.set_positions(checkpoint.positions, apply_constraint=False)
        atoms.set_momenta(checkpoint.momenta, apply_constraint=False)
        return atoms

    @staticmethod
    def _record(
        buffer: ChunkBuffer, atoms: Atoms, forces: np.ndarray, progress: RunProgress
    ) -> HealthIssue | None:
        """Append the current state as a production frame (or report a non-finite energy)."""
        return record_frame(
            buffer,
            progress,
            atoms.get_positions(),
            forces,
            float(atoms.get_potential_energy()),
            float(atoms.get_kinetic_energy()),
        )

    def _commit_atoms(
        self,
        previous: Checkpoint,
        atoms: Atoms,
        rng: np.random.Generator,
        buffer: ChunkBuffer,
        progress: RunProgress,
    ) -> Checkpoint:
        """:meth:`commit` with positions and momenta taken from ``atoms``."""
        return self.commit(
            previous, atoms.get_positions(), atoms.get_momenta(), rng, buffer, progress
        )

    def commit(
        self,
        previous: Checkpoint,
        positions: np.ndarray,
        momenta: np.ndarray,
        rng: np.random.Generator,
        buffer: ChunkBuffer,
        progress: RunProgress,
    ) -> Checkpoint:
        """Write the buffered frames as the next chunk, then the checkpoint that counts it.

        Parameters
        ----------
        previous : Checkpoint
            The checkpoint being replaced (supplies parameters, corrections, initial state).
        positions : np.ndarray, shape (N, 3)
            Positions (Å) at ``progress.step``.
        momenta : np.ndarray, shape (N, 3)
            Momenta (ASE units, amu Å / ASE time) at ``progress.step``.
        rng : numpy.random.Generator
            The thermostat's generator, in the state the next step needs.
        buffer : ChunkBuffer
            Frames recorded since the last checkpoint; emptied.
        progress : RunProgress
            Updated in place (chunk and frame counts, checkpoint step).

        Returns
        -------
        Checkpoint
            The checkpoint just written.
        """
        if len(buffer):
            write_chunk(self.directory, progress.n_chunks, buffer.arrays())
            progress.n_chunks += 1
            progress.n_frames += len(buffer)
            buffer.clear()
        checkpoint = replace(
            previous,
            step=progress.step,
            phase=phase_of(progress.step, previous.parameters),
            time_fs=progress.time_fs,
            n_chunks=progress.n_chunks,
            n_frames=progress.n_frames,
            positions=np.asarray(positions, dtype=float),
            momenta=np.asarray(momenta, dtype=float),
            rng_state=rng_state(rng),
        )
        write_checkpoint(self.directory, checkpoint)
        progress.checkpoint_step = progress.step
        return checkpoint

    def report(
        self,
        checkpoint: Checkpoint,
        progress: RunProgress,
        state: RunState,
        reason: str | None,
        issue: HealthIssue | None,
        started: float,
    ) -> MDStatus:
        """Build the status, write ``status.json`` and return it.

        Parameters
        ----------
        checkpoint : Checkpoint
            The last committed checkpoint.
        progress : RunProgress
            Where the loop stands.
        state : {"completed", "stopped", "paused"}
        reason : str or None
        issue : HealthIssue or None
        started : float
            ``time.perf_counter()`` at the start of this call (for ``wall_time_s``).

        Returns
        -------
        MDStatus
        """
        status = MDStatus(
            state=state,
            reason=reason,
            issue=issue,
            step=issue.step if issue is not None else progress.step,
            checkpoint_step=progress.checkpoint_step,
            n_frames=progress.n_frames,
            n_frames_expected=checkpoint.parameters.n_frames,
            corrections=list(checkpoint.corrections),
            wall_time_s=time.perf_counter() - started,
        )
        write_status(self.directory, status)
        return status

    def _check_same_run(self, checkpoint: Checkpoint) -> None:
        """Refuse to resume a directory that holds a different run."""
        static = read_static(self.directory)
        problems = []
        if static["symbols"] != self.atoms.get_chemical_symbols():
            problems.append("chemical symbols differ")
        elif not np.allclose(static["masses"], self.atoms.get_masses(), rtol=0, atol=1e-8):
            problems.append("masses differ")
        if not np.allclose(static["cell"], self.atoms.cell.array, rtol=0, atol=1e-8):
            problems.append("cells differ")
        if not np.array_equal(static["pbc"], self.atoms.pbc):
            problems.append("periodic boundary conditions differ")
        if checkpoint.initial_positions.shape != self.atoms.positions.shape or not np.allclose(
            checkpoint.initial_positions, self.atoms.positions, rtol=0, atol=1e-8
        ):
            problems.append("starting positions differ")
        if self.parameters not in (checkpoint.initial_parameters, checkpoint.parameters):
            fields = [
                name
                for name, _, _ in _differences(
                    checkpoint.initial_parameters.model_dump(mode="json"),
                    self.parameters.model_dump(mode="json"),
                )
            ]
            problems.append(f"parameters differ from the run's initial ones in {fields}")
        if problems:
            raise ValueError(
                f"{self.directory} already holds a different MD run ({'; '.join(problems)}); "
                "use another directory, MDRun.open() to continue it, or "
                "MDRun.restart_from_checkpoint() to change its parameters"
            )


def record_frame(
    buffer: ChunkBuffer,
    progress: RunProgress,
    positions: np.ndarray,
    forces: np.ndarray,
    potential_energy: float,
    kinetic_energy: float,
) -> HealthIssue | None:
    """Append the state at ``progress.step`` as a production frame, unless its energy is bad.

    Parameters
    ----------
    buffer : ChunkBuffer
        Frames waiting for the next checkpoint.
    progress : RunProgress
        Supplies the step and time (fs).
    positions, forces : np.ndarray
        Shape (N, 3): Å and eV/Å.
    potential_energy, kinetic_energy : float
        eV.

    Returns
    -------
    HealthIssue or None
        A ``"non_finite_forces"`` issue when the potential energy is NaN or infinite (nothing
        is appended), else None.
    """
    if not np.isfinite(potential_energy):
        return HealthIssue(
            kind="non_finite_forces",
            step=progress.step,
            message=f"non-finite potential energy ({potential_energy}) at step {progress.step}",
        )
    buffer.append(
        step=progress.step,
        time_fs=progress.time_fs,
        positions=positions,
        forces=forces,
        potential_energy=potential_energy,
        kinetic_energy=kinetic_energy,
        temperature=kinetic_temperature(kinetic_energy, len(positions)),
    )
    return None


def _check_atoms(atoms: Atoms) -> None:
    """Reject structures the engine cannot integrate."""
    if len(atoms) < 2:
        raise ValueError(f"NVT MD needs at least 2 atoms (3N - 3 > 0), got {len(atoms)}")
    if atoms.constraints:
        raise ValueError(
            f"atoms carry constraints {atoms.constraints}; the MD engine sets its own "
            "(centre of mass fixed) and accepts unconstrained atoms only"
        )
    masses = atoms.get_masses()
    if not np.all(masses > 0):
        raise ValueError(f"atom {int(np.argmin(masses))} has non-positive mass {masses.min()} amu")
    if not np.all(np.isfinite(atoms.positions)):
        raise ValueError("atoms have non-finite positions")


def check_health(
    atoms: Atoms,
    forces: np.ndarray,
    step: int,
    parameters: MDParameters,
    *,
    check_distance: bool,
) -> HealthIssue | None:
    """Run the per-step checks (forces, temperature) and, when asked, the closest-pair check.

    Parameters
    ----------
    atoms : ase.Atoms
        Positions and momenta at ``step``.
    forces : np.ndarray, shape (N, 3)
        Forces at ``step`` (eV/Å).
    step : int
    parameters : MDParameters
        Target temperature and health limits.
    check_distance : bool
        Also run the (neighbour-list) closest-pair check.

    Returns
    -------
    HealthIssue or None
    """
    issue = check_forces(forces, step)
    if issue is None:
        temperature = kinetic_temperature(float(atoms.get_kinetic_energy()), len(atoms))
        issue = check_temperature(temperature, parameters.temperature_K, parameters.health, step)
    if issue is None and check_distance:
        issue = check_min_distance(atoms, parameters.health, step)
    return issue


def _apply_overrides(old: MDParameters, overrides: dict[str, Any]) -> MDParameters:
    """Return ``old`` with ``overrides`` applied and validated."""
    unknown = sorted(set(overrides) - set(MDParameters.model_fields))
    if unknown:
        raise ValueError(
            f"unknown MD parameters {unknown}; known: {sorted(MDParameters.model_fields)}"
        )
    if "seed" in overrides and overrides["seed"] != old.seed:
        raise ValueError(
            "seed cannot change on a restart: the thermostat continues from the random state "
            "saved in the checkpoint"
        )
    merged = old.model_dump()
    for name, value in overrides.items():
        if isinstance(value, BaseModel):
            merged[name] = value.model_dump()
        elif name == "health" and isinstance(value, dict):
            merged[name] = {**merged[name], **value}
        else:
            merged[name] = value
    return MDParameters.model_validate(merged)


def _check_restart_allowed(checkpoint: Checkpoint, new: MDParameters) -> None:
    """Refuse parameter changes that contradict the work already committed."""
    old = checkpoint.parameters
    step = checkpoint.step
    if new.equilibration_steps != old.equilibration_steps and step >= min(
        old.equilibration_steps, new.equilibration_steps
    ):
        raise ValueError(
            f"equilibration_steps cannot change from {old.equilibration_steps} to "
            f"{new.equilibration_steps} at step {step}: the phase boundary would move past "
            "work already done"
        )
    if new.record_interval != old.record_interval and step > old.equilibration_steps:
        raise ValueError(
            f"record_interval cannot change at step {step}: production has begun "
            f"(step {old.equilibration_steps} ended equilibration)"
        )
    if new.total_steps < step:
        raise ValueError(
            f"production_steps={new.production_steps} ends at step {new.total_steps}, before the "
            f"checkpoint at step {step}"
        )


def _differences(
    old: dict[str, Any], new: dict[str, Any], prefix: str = ""
) -> list[tuple[str, Any, Any]]:
    """``(dotted field, old value, new value)`` for every leaf that differs."""
    changes: list[tuple[str, Any, Any]] = []
    for name in old.keys() | new.keys():
        before, after = old.get(name), new.get(name)
        if isinstance(before, dict) and isinstance(after, dict):
            changes += _differences(before, after, f"{prefix}{name}.")
        elif before != after:
            changes.append((f"{prefix}{name}", before, after))
    return sorted(changes, key=lambda change: change[0])
