"""The MD job: one checkpointed NVT run in the phonon supercell under custodian (resumable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from jobflow import CURRENT_JOB, Maker, Response, job
from pymatgen.core import Structure

from latticebench.hpc.md_supervision import SupervisionParameters
from latticebench.jobs.common import make_provenance, structure_to_atoms
from latticebench.md import MDParameters, MDRun
from latticebench.models import detect_device, load_model
from latticebench.protocol import Protocol
from latticebench.schemas.md import MDDoc
from latticebench.settings import get_settings

if TYPE_CHECKING:
    from latticebench.hpc.md_supervision import SupervisedRun
    from latticebench.md import MDStatus
    from latticebench.models import ModelRecord

__all__ = ["MDMaker", "md_document", "md_run_directory"]


def md_run_directory(label: str) -> Path:
    """Directory of an MD run: stable across restarts of the same job.

    Parameters
    ----------
    label : str
        Distinguishes runs of one job (e.g. the run index).

    Returns
    -------
    Path
        ``<data_dir>/runs/md/<job uuid>-<label>`` inside a jobflow job (the uuid survives a
        FireWorks rerun, so a rerun finds the checkpoint), else ``./md-<label>``.
    """
    current = CURRENT_JOB.job
    if current is None:
        return Path.cwd() / f"md-{label}"
    return get_settings().runs_dir / "md" / f"{current.uuid}-{label}"


@dataclass
class MDMaker(Maker):
    """NVT molecular dynamics of a supercell with an MLIP (Andersen or Langevin), supervised.

    The run goes through :func:`latticebench.hpc.md_supervision.supervise_md`: custodian runs
    checkpointed segments, halves the time step when the MD explodes, moves to the fallback
    device when the GPU runs out of memory, and stops at a checkpoint before the wall-time
    budget (``LATTICEBENCH_MD_WALLTIME_S`` / ``SLURM_JOB_END_TIME``) runs out; the job then
    replaces itself with its continuation, which resumes from that checkpoint.

    Parameters
    ----------
    name : str
        Job name.
    model : str
        Catalog name or checkpoint path.
    parameters : MDParameters
        Temperature (K), time step (fs), thermostat, equilibration/production steps, recording
        and checkpoint intervals, seed, health limits.
    dtype : {"float32", "float64"}
        Model floating-point type during MD.
    device : str or None
        Torch device; None = settings (auto).
    protocol : Protocol or None
        The whole protocol this step belongs to (provenance).
    supervision : SupervisionParameters
        Segment length (steps), timestep-halving limit, out-of-memory fallback device, wall-time
        margin (s). Execution settings: they do not change the protocol id.
    """

    name: str = "mlip md"
    model: str = "mace-mpa-0-medium"
    parameters: MDParameters = field(default_factory=lambda: MDParameters(seed=0))
    dtype: Literal["float32", "float64"] = "float32"
    device: str | None = None
    protocol: Protocol | None = None
    supervision: SupervisionParameters = field(default_factory=SupervisionParameters)

    @job(output_schema=MDDoc, data=["series"])
    def make(
        self,
        supercell: Structure,
        seed: int | None = None,
        run_index: int = 0,
        compound: str | None = None,
    ) -> MDDoc | Response:
        """Run (or resume) one MD run under custodian.

        Parameters
        ----------
        supercell : Structure
            Starting (equilibrium) supercell, e.g. the phonon job's supercell.
        seed : int, optional
            Overrides ``parameters.seed``.
        run_index : int
            Index of this independent run.
        compound : str, optional

        Returns
        -------
        MDDoc or jobflow.Response
            The document of the completed run; when the wall time ran out, a Response whose
            output is the paused run's document and which replaces this job with its
            continuation (same uuid, so the same run directory).

        Raises
        ------
        latticebench.hpc.md_supervision.MDSupervisionError
            When the MD keeps exploding after the allowed timestep halvings, runs out of memory
            on the fallback device, or finishes with non-finite forces (the job fails, and
            FireWorks stores the reason with the fizzled launch).
        """
        from latticebench.hpc import md_supervision
        from latticebench.hpc.walltime import walltime_deadline

        started = md_supervision.current_time()
        parameters = self.parameters
        if seed is not None:
            parameters = parameters.model_copy(update={"seed": int(seed)})
        directory = md_run_directory(str(run_index))
        device = detect_device(self.device)

        def calculator_for(chosen: str | None):
            return load_model(self.model, dtype=self.dtype, device=chosen or device).calculator()

        outcome = md_supervision.supervise_md(
            directory,
            structure_to_atoms(supercell),
            parameters,
            calculator_for,
            device=device,
            supervision=self.supervision,
            deadline=walltime_deadline(started),
        )
        loaded = load_model(self.model, dtype=self.dtype, device=outcome.device or device)
        doc = self._document(directory, parameters, outcome, loaded.record, run_index, compound)
        if outcome.walltime_paused:
            continuation = self.make(supercell, seed=seed, run_index=run_index, compound=compound)
            current = CURRENT_JOB.job
            continuation.name = current.name if current is not None else self.name
            return Response(output=doc, replace=continuation)
        return doc

    def _document(
        self,
        directory: Path,
        parameters: MDParameters,
        outcome: SupervisedRun,
        record: ModelRecord,
        run_index: int,
        compound: str | None,
    ) -> MDDoc:
        """The output document of a supervised run."""
        return md_document(
            directory,
            parameters,
            outcome.status,
            record,
            dtype=self.dtype,
            protocol=self.protocol,
            run_index=run_index,
            compound=compound,
            corrections=outcome.corrections,
            started_from_step=outcome.started_from_step,
            segments=outcome.segments,
            custodian_log=outcome.custodian_log,
        )


def md_document(
    directory: Path,
    parameters: MDParameters,
    status: MDStatus,
    record: ModelRecord,
    *,
    dtype: str,
    protocol: Protocol | None,
    run_index: int,
    compound: str | None,
    corrections: list[dict[str, Any]],
    started_from_step: int,
    segments: int,
    custodian_log: list[dict[str, Any]],
) -> MDDoc:
    """The MD document of a run directory, whichever engine wrote it.

    Parameters
    ----------
    directory : Path
        The run directory (checkpoint and trajectory chunks).
    parameters : MDParameters
        The run's initial parameters (with its seed).
    status : MDStatus
        Outcome of the last call.
    record : ModelRecord
        The model that computed the forces.
    dtype : str
        Model floating-point type during MD.
    protocol : Protocol or None
        The protocol the run belongs to (None: one built from ``parameters``).
    run_index : int
    compound : str or None
    corrections : list of dict
        Parameter (and device) changes, oldest first.
    started_from_step : int
        Checkpoint step the last call continued from.
    segments : int
        Segments (custodian jobs, or batched calls) of the last call.
    custodian_log : list of dict
        custodian's corrections per segment (empty without custodian).

    Returns
    -------
    MDDoc
    """
    run = MDRun.open(directory)
    checkpoint = run.checkpoint
    series: dict[str, list[float]] = {}
    temperature_mean = temperature_std = None
    if status.n_frames:
        frames = run.trajectory().read(["step", "time_fs", "temperature", "potential_energy"])
        series = {
            "step": frames["step"].tolist(),
            "time_fs": frames["time_fs"].tolist(),
            "temperature_K": frames["temperature"].tolist(),
            "potential_energy_eV": frames["potential_energy"].tolist(),
        }
        temperature = np.asarray(frames["temperature"])
        temperature_mean, temperature_std = float(temperature.mean()), float(temperature.std())
    protocol = protocol or Protocol(md=parameters, md_dtype=dtype)
    return MDDoc(
        compound=compound,
        run_index=run_index,
        seed=parameters.seed,
        directory=str(Path(directory).resolve()),
        state=status.state,
        reason=status.reason,
        step=status.step,
        n_frames=status.n_frames,
        n_frames_expected=status.n_frames_expected,
        corrections=corrections,
        wall_time_s=status.wall_time_s,
        temperature_mean_K=temperature_mean,
        temperature_std_K=temperature_std,
        series=series,
        parameters=parameters,
        effective_parameters=checkpoint.parameters if checkpoint is not None else parameters,
        dtype=dtype,
        device=record.device,
        started_from_step=started_from_step,
        segments=segments,
        custodian_log=custodian_log,
        provenance=make_provenance(record, protocol, seeds=[parameters.seed]),
    )
