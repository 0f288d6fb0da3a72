"""Andersen NVT MD of many systems in one batch on one device, checkpointed per system.

Every system (a compound's supercell, one MD run of it) keeps its own run directory in exactly
the layout of :class:`latticebench.md.MDRun` — ``checkpoint.h5``, ``traj_static.h5``,
``traj_XXXXXX.h5`` chunks, ``status.json`` — so the σ^A job, :class:`~latticebench.md.MDRun`
itself (``open``, resume, ``restart_from_checkpoint``) and every reader work on it unchanged.
The systems share each force evaluation: one batched call of a torch-sim model per step.

Isolation: a system whose health check fires (non-finite forces, temperature runaway, atoms
too close) or whose model evaluation raises is taken out of the batch — stopped with its reason,
or restarted from its last checkpoint with half the time step while halvings are left — and the
others go on. Out-of-memory errors propagate (the caller splits the batch; everything up to each
system's last checkpoint is on disk, and the next call resumes from there).

The thermostat is :mod:`latticebench.torchsim.andersen`: with the same seed a system's batched
trajectory is the one the ASE engine computes for it alone, up to floating-point round-off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch_sim as ts
from ase import Atoms, units

from latticebench.md.checkpoint import Checkpoint
from latticebench.md.dynamics import kinetic_temperature, rng_from_state
from latticebench.md.engine import MDRun, RunProgress, check_health, record_frame
from latticebench.md.health import HealthIssue, check_forces, check_min_distance, check_temperature
from latticebench.md.parameters import MDParameters
from latticebench.md.status import MDStatus
from latticebench.md.trajectory import ChunkBuffer
from latticebench.torchsim.andersen import BatchLayout, andersen_step, draw_andersen_noise
from latticebench.torchsim.models import SYSTEM_ID

__all__ = ["BatchEntry", "BatchedMDRun"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchEntry:
    """One system of a batched MD run.

    Attributes
    ----------
    key : str
        Unique name within the batch (e.g. ``"Cs2AgBiBr6/run-0"``); statuses are keyed by it.
    directory : str or Path
        The system's run directory (created; an existing checkpoint is resumed).
    atoms : ase.Atoms
        Starting structure (positions Å, cell Å, masses amu), no constraints.
    parameters : MDParameters
        Its protocol; the thermostat must be ``"andersen"``.
    """

    key: str
    directory: str | Path
    atoms: Atoms
    parameters: MDParameters


@dataclass
class _System:
    """Bookkeeping of one system while the batch runs."""

    entry: BatchEntry
    run: MDRun
    checkpoint: Checkpoint
    progress: RunProgress
    rng: np.random.Generator
    buffer: ChunkBuffer
    masses: np.ndarray
    positions: np.ndarray
    momenta: np.ndarray
    halvings: int = 0
    done: bool = False  # completed, stopped, or replaced by its restart

    @classmethod
    def at_checkpoint(cls, entry: BatchEntry, run: MDRun, checkpoint: Checkpoint) -> _System:
        return cls(
            entry=entry,
            run=run,
            checkpoint=checkpoint,
            progress=RunProgress.at(checkpoint),
            rng=rng_from_state(checkpoint.rng_state),
            buffer=ChunkBuffer(len(entry.atoms)),
            masses=entry.atoms.get_masses(),
            positions=np.array(checkpoint.positions, dtype=float),
            momenta=np.array(checkpoint.momenta, dtype=float),
        )

    @property
    def parameters(self) -> MDParameters:
        return self.checkpoint.parameters

    def atoms_at(self, positions: np.ndarray) -> Atoms:
        atoms = self.entry.atoms.copy()
        atoms.set_constraint()
        atoms.calc = None
        atoms.set_positions(positions, apply_constraint=False)
        return atoms


@dataclass
class _Batch:
    """Device tensors of the systems currently integrated together."""

    systems: list[_System]
    layout: BatchLayout
    state: ts.SimState
    dt: torch.Tensor
    positions: torch.Tensor
    momenta: torch.Tensor
    forces: torch.Tensor = field(init=False)
    energies: torch.Tensor = field(init=False)
    last_positions: torch.Tensor = field(init=False)

    def bounds(self) -> np.ndarray:
        return np.cumsum([0] + [len(s.masses) for s in self.systems])


class BatchedMDRun:
    """Andersen NVT MD of several systems in one batch (see the module docstring).

    Parameters
    ----------
    entries : sequence of BatchEntry
        The systems; keys and directories must be unique.
    max_timestep_halvings : int
        Health stops per system corrected by restarting from its last checkpoint with half
        the time step (each correction is recorded in the checkpoint); 0 stops at once.

    Raises
    ------
    ValueError
        For an empty batch, duplicate keys or directories, a thermostat other than Andersen,
        or an entry that :class:`~latticebench.md.MDRun` rejects (the message names its key).
    """

    def __init__(self, entries: Sequence[BatchEntry], *, max_timestep_halvings: int = 0) -> None:
        if not entries:
            raise ValueError("a batched MD run needs at least one system")
        if max_timestep_halvings < 0:
            raise ValueError(f"max_timestep_halvings must be >= 0, got {max_timestep_halvings}")
        keys = [entry.key for entry in entries]
        directories = [Path(entry.directory).resolve() for entry in entries]
        for label, values in (("keys", keys), ("directories", directories)):
            repeated = sorted({str(v) for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"batch entries must have unique {label}; repeated: {repeated}")
        self.entries = list(entries)
        self._index = {entry.key: i for i, entry in enumerate(self.entries)}
        self.max_timestep_halvings = max_timestep_halvings
        self._runs: dict[str, MDRun] = {}
        for entry in self.entries:
            if entry.parameters.thermostat != "andersen":
                raise ValueError(
                    f"batch entry {entry.key!r}: the torch-sim backend integrates the Andersen "
                    f"thermostat only, got {entry.parameters.thermostat!r} (use the ASE backend)"
                )
            try:
                self._runs[entry.key] = MDRun(entry.directory, entry.atoms, entry.parameters)
            except ValueError as exc:
                raise ValueError(f"batch entry {entry.key!r}: {exc}") from exc

    # ------------------------------------------------------------------ the run
    def run(
        self,
        model: torch.nn.Module,
        *,
        max_steps: int | None = None,
        deadline: float | None = None,
    ) -> dict[str, MDStatus]:
        """Run (or resume) every system until it completes, stops, or the call pauses.

        Parameters
        ----------
        model : torch_sim.models.interface.ModelInterface
            Energies (eV) and forces (eV/Å) of a batched state; systems carry the per-system
            extra :data:`~latticebench.torchsim.models.SYSTEM_ID` (their index in ``entries``).
        max_steps : int, optional
            Integration steps in this call; then every running system is checkpointed and
            reported ``"paused"``.
        deadline : float, optional
            Unix time (``time.time()``, s) after which the call checkpoints and pauses.

        Returns
        -------
        dict of str to MDStatus
            One status per entry key (also written to each ``status.json``).

        Raises
        ------
        torch.OutOfMemoryError
            When the batch does not fit on the device (nothing committed is lost).
        """
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 or None, got {max_steps}")
        started = time.perf_counter()
        statuses: dict[str, MDStatus] = {}
        waiting: list[_System] = []
        for entry in self.entries:
            run = self._runs[entry.key]
            checkpoint = run.start_or_resume()
            system = _System.at_checkpoint(entry, run, checkpoint)
            if system.progress.step >= checkpoint.parameters.total_steps:
                statuses[entry.key] = run.report(
                    checkpoint, system.progress, "completed", None, None, started
                )
            else:
                waiting.append(system)

        batch = self._start(waiting, model, statuses, started)
        steps_done = 0
        pause_reason: str | None = None
        while batch is not None:
            if max_steps is not None and steps_done >= max_steps:
                pause_reason = f"paused after max_steps={max_steps} steps in this call"
                break
            if deadline is not None and time.time() >= deadline:
                pause_reason = "paused before the wall-time deadline"
                break
            saved = [s.rng.bit_generator.state for s in batch.systems]
            noise = draw_andersen_noise(
                [s.rng for s in batch.systems],
                [s.masses for s in batch.systems],
                [units.kB * s.parameters.temperature_K for s in batch.systems],
                [s.parameters.andersen_probability for s in batch.systems],
                device=batch.positions.device,
            )
            try:
                positions, momenta, forces = andersen_step(
                    batch.positions,
                    batch.momenta,
                    batch.forces,
                    batch.layout,
                    batch.dt,
                    noise,
                    partial(self._evaluate, batch, model),
                )
            except torch.OutOfMemoryError:
                raise
            except Exception as exc:
                for system, state in zip(batch.systems, saved, strict=True):
                    system.rng.bit_generator.state = state
                survivors = self._drop_failing(batch, model, exc, statuses, started)
                self._sync_host(batch, survivors)
                batch = self._start(survivors, model, statuses, started)
                continue
            steps_done += 1
            batch.positions, batch.momenta, batch.forces = positions, momenta, forces
            restarted = self._after_step(batch, statuses, started)
            if restarted or any(s.done for s in batch.systems):
                keep = [s for s in batch.systems if not s.done]
                self._sync_host(batch, keep)
                batch = self._start(keep + restarted, model, statuses, started)

        if batch is not None:
            self._sync_host(batch, batch.systems)
            for system in batch.systems:
                self._pause(system, pause_reason or "paused", statuses, started)
        return {entry.key: statuses[entry.key] for entry in self.entries}

    # ------------------------------------------------------------------ batch assembly
    def _start(
        self,
        systems: list[_System],
        model: torch.nn.Module,
        statuses: dict[str, MDStatus],
        started: float,
    ) -> _Batch | None:
        """Assemble ``systems`` into a batch and evaluate their forces; None when empty.

        Systems whose evaluation raises or whose starting state is unhealthy are stopped (or
        restarted with a halved time step) and the batch is assembled without them.
        """
        while systems:
            batch = self._assemble(systems, model)
            try:
                batch.forces = self._evaluate(batch, model, batch.positions)
            except torch.OutOfMemoryError:
                raise
            except Exception as exc:
                systems = self._drop_failing(batch, model, exc, statuses, started)
                continue
            restarted = self._check_start(batch, statuses, started)
            keep = [s for s in systems if not s.done]
            if not restarted and len(keep) == len(systems):
                return batch
            systems = keep + restarted
        return None

    def _assemble(self, systems: list[_System], model: torch.nn.Module) -> _Batch:
        device = torch.device(model.device)
        atoms = [s.atoms_at(s.positions) for s in systems]
        state = ts.initialize_state(atoms, device, torch.float64)
        ids = [self._index[s.entry.key] for s in systems]
        state.system_extras[SYSTEM_ID] = torch.tensor(ids, dtype=torch.long, device=device)
        layout = BatchLayout.from_masses([s.masses for s in systems], device=device)
        dt = torch.tensor(
            [s.parameters.timestep_fs * units.fs for s in systems],
            dtype=torch.float64,
            device=device,
        )[layout.system_idx][:, None]
        return _Batch(
            systems=systems,
            layout=layout,
            state=state,
            dt=dt,
            positions=torch.as_tensor(
                np.concatenate([s.positions for s in systems]), device=device
            ),
            momenta=torch.as_tensor(np.concatenate([s.momenta for s in systems]), device=device),
        )

    @staticmethod
    def _evaluate(batch: _Batch, model: torch.nn.Module, positions: torch.Tensor) -> torch.Tensor:
        """Forces (eV/Å, float64) at ``positions``; energies are kept on the batch."""
        batch.last_positions = positions
        batch.state.positions = positions
        out = model(batch.state)
        batch.energies = out["energy"].detach().to(torch.float64)
        return out["forces"].detach().to(torch.float64)

    def _drop_failing(
        self,
        batch: _Batch,
        model: torch.nn.Module,
        error: Exception,
        statuses: dict[str, MDStatus],
        started: float,
    ) -> list[_System]:
        """Find the systems whose model evaluation raises, stop them, return the others.

        Each system is evaluated alone at the positions of the failed batched call. If none
        fails alone, the error belongs to the batch as a whole and is raised again.
        """
        positions = batch.last_positions.detach().cpu().numpy()
        bounds = batch.bounds()
        survivors: list[_System] = []
        failed = 0
        for i, system in enumerate(batch.systems):
            alone = self._assemble([system], model)
            try:
                self._evaluate(
                    alone, model, alone.positions.new_tensor(positions[bounds[i] : bounds[i + 1]])
                )
            except torch.OutOfMemoryError:
                raise
            except Exception as exc:
                failed += 1
                reason = (
                    f"model evaluation failed at step {system.progress.step + 1}: "
                    f"{type(exc).__name__}: {exc}"
                )
                logger.warning("batched MD: %s stopped: %s", system.entry.key, reason)
                system.buffer.clear()
                system.done = True
                statuses[system.entry.key] = system.run.report(
                    system.checkpoint, system.progress, "stopped", reason, None, started
                )
            else:
                survivors.append(system)
        if failed == 0:
            raise error
        return survivors

    # ------------------------------------------------------------------ per-step bookkeeping
    def _check_start(
        self, batch: _Batch, statuses: dict[str, MDStatus], started: float
    ) -> list[_System]:
        """Health of the starting states (as the ASE engine checks before its first step)."""
        forces = batch.forces.cpu().numpy()
        bounds = batch.bounds()
        restarted = []
        for i, system in enumerate(batch.systems):
            atoms = system.atoms_at(system.positions)
            atoms.set_momenta(system.momenta, apply_constraint=False)
            issue = check_health(
                atoms,
                forces[bounds[i] : bounds[i + 1]],
                system.progress.step,
                system.parameters,
                check_distance=True,
            )
            if issue is not None:
                restarted += self._on_issue(system, issue, statuses, started)
        return restarted

    def _after_step(
        self, batch: _Batch, statuses: dict[str, MDStatus], started: float
    ) -> list[_System]:
        """Advance every system's counters; check, record and checkpoint as its protocol says.

        Returns the systems restarted from their checkpoint with a halved time step.
        """
        kinetic = self._kinetic_energies(batch)
        finite = torch.isfinite(batch.forces).all(dim=1, keepdim=True).to(torch.float64)
        n_bad = (
            batch.layout.per_system_sum(1.0 - finite).squeeze(1).cpu().numpy()
        )  # one host sync per step
        for system in batch.systems:
            system.progress.step += 1
            system.progress.time_fs += system.parameters.timestep_fs
        needs_host = any(
            n_bad[i] > 0 or self._needs_host(system) for i, system in enumerate(batch.systems)
        )
        if needs_host:
            positions = batch.positions.cpu().numpy()
            forces = batch.forces.cpu().numpy()
            momenta = batch.momenta.cpu().numpy()
            energies = batch.energies.cpu().numpy()
        bounds = batch.bounds()
        restarted: list[_System] = []
        for i, system in enumerate(batch.systems):
            p = system.parameters
            step = system.progress.step
            n = len(system.masses)
            temperature = kinetic_temperature(float(kinetic[i]), n)
            mine = slice(bounds[i], bounds[i + 1])
            if n_bad[i] > 0:
                issue: HealthIssue | None = check_forces(forces[mine], step)
            else:
                issue = check_temperature(temperature, p.temperature_K, p.health, step)
            if issue is None and needs_host:
                issue = self._record(
                    system,
                    step,
                    float(kinetic[i]),
                    positions[mine],
                    forces[mine],
                    float(energies[i]),
                )
            if issue is not None:
                restarted += self._on_issue(system, issue, statuses, started)
                continue
            if needs_host and (p.is_checkpoint(step) or step >= p.total_steps):
                system.checkpoint = system.run.commit(
                    system.checkpoint,
                    positions[mine],
                    momenta[mine],
                    system.rng,
                    system.buffer,
                    system.progress,
                )
            if step >= p.total_steps:
                system.done = True
                statuses[system.entry.key] = system.run.report(
                    system.checkpoint, system.progress, "completed", None, None, started
                )
        return restarted

    @staticmethod
    def _record(
        system: _System,
        step: int,
        kinetic: float,
        positions: np.ndarray,
        forces: np.ndarray,
        energy: float,
    ) -> HealthIssue | None:
        """The distance check when due, then the production frame when due."""
        p = system.parameters
        if step % p.health.distance_check_interval == 0:
            issue = check_min_distance(system.atoms_at(positions), p.health, step)
            if issue is not None:
                return issue
        if not p.is_recorded(step):
            return None
        return record_frame(system.buffer, system.progress, positions, forces, energy, kinetic)

    @staticmethod
    def _needs_host(system: _System) -> bool:
        """Whether this step's bookkeeping of ``system`` reads positions or forces."""
        p = system.parameters
        step = system.progress.step
        return (
            p.is_recorded(step)
            or p.is_checkpoint(step)
            or step >= p.total_steps
            or step % p.health.distance_check_interval == 0
        )

    @staticmethod
    def _kinetic_energies(batch: _Batch) -> np.ndarray:
        """Kinetic energy of each system (eV), shape (n_systems,)."""
        per_atom = (batch.momenta**2 / batch.layout.masses).sum(dim=1, keepdim=True)
        return 0.5 * batch.layout.per_system_sum(per_atom).squeeze(1).cpu().numpy()

    def _on_issue(
        self,
        system: _System,
        issue: HealthIssue,
        statuses: dict[str, MDStatus],
        started: float,
    ) -> list[_System]:
        """Stop ``system``, or restart it from its checkpoint with half the time step."""
        system.buffer.clear()
        system.done = True
        key = system.entry.key
        if system.halvings < self.max_timestep_halvings:
            new_timestep = system.parameters.timestep_fs / 2
            logger.warning(
                "batched MD: %s: %s; restarting from step %d with time step %g fs",
                key,
                issue.message,
                system.checkpoint.step,
                new_timestep,
            )
            run = MDRun.restart_from_checkpoint(
                system.run.directory,
                reason=f"{issue.message}; time step halved (torch-sim batch)",
                timestep_fs=new_timestep,
            )
            self._runs[key] = run
            again = _System.at_checkpoint(system.entry, run, run.start_or_resume())
            again.halvings = system.halvings + 1
            return [again]
        logger.warning("batched MD: %s stopped: %s", key, issue.message)
        statuses[key] = system.run.report(
            system.checkpoint, system.progress, "stopped", issue.message, issue, started
        )
        return []

    @staticmethod
    def _sync_host(batch: _Batch, systems: list[_System]) -> None:
        """Copy the device state of ``systems`` (members of ``batch``) to their host arrays."""
        wanted = {id(s) for s in systems}
        positions = batch.positions.cpu().numpy()
        momenta = batch.momenta.cpu().numpy()
        bounds = batch.bounds()
        for i, system in enumerate(batch.systems):
            if id(system) in wanted:
                system.positions = positions[bounds[i] : bounds[i + 1]].copy()
                system.momenta = momenta[bounds[i] : bounds[i + 1]].copy()

    @staticmethod
    def _pause(system: _System, reason: str, statuses: dict[str, MDStatus], started: float) -> None:
        """Checkpoint a running system and report it paused."""
        if system.progress.checkpoint_step != system.progress.step:
            system.checkpoint = system.run.commit(
                system.checkpoint,
                system.positions,
                system.momenta,
                system.rng,
                system.buffer,
                system.progress,
            )
        statuses[system.entry.key] = system.run.report(
            system.checkpoint,
            system.progress,
            "paused",
            f"{reason}; resumable from step {system.progress.step}",
            None,
            started,
        )
