"""MD of many compounds in one GPU batch (torch-sim backend), fanned out to one document each.

:class:`BatchedMDMaker` makes one job that integrates the MD runs of many compounds together
(:class:`latticebench.torchsim.BatchedMDRun`: one batched model call per step). Its output is a
light summary per run; :func:`md_run_document` jobs (one per compound and run) turn each run
directory into the same :class:`~latticebench.schemas.md.MDDoc` the single-compound
:class:`~latticebench.jobs.md.MDMaker` stores, so the σ^A and comparison jobs downstream do not
know which backend ran.

A failing compound does not take the batch down: its run is stopped with the reason (or
restarted with a halved time step, as custodian does for the ASE backend), the others finish,
and its fan-out job fails with :class:`~latticebench.hpc.md_supervision.MDSupervisionError` —
exactly what the ASE backend's MD job does — so the benchmark document records the failure.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jobflow import CURRENT_JOB, Maker, Response, job
from pymatgen.core import Structure

from latticebench.jobs.common import structure_to_atoms
from latticebench.jobs.md import md_document, md_run_directory
from latticebench.md import MDParameters, MDStatus, read_checkpoint, read_status
from latticebench.models import ModelRecord, detect_device, load_model
from latticebench.protocol import Protocol
from latticebench.schemas.md import MDDoc

__all__ = ["BatchedMDMaker", "batched_run_key", "md_run_document"]


def batched_run_key(compound: str, run_index: int) -> str:
    """Key of one MD run inside a batch: ``"<compound>/run-<index>"``."""
    return f"{compound}/run-{run_index}"


def _directory_name(key: str) -> str:
    """A file-system-safe directory name for a run key."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key)


@dataclass
class BatchedMDMaker(Maker):
    """NVT MD (Andersen) of many compounds' supercells in one batch on one device.

    Parameters
    ----------
    name : str
        Job name.
    model : str
        Catalog name or checkpoint path of a MACE model (torch-sim runs MACE models).
    parameters : MDParameters
        The MD protocol (each run gets its own seed); the thermostat must be Andersen.
    dtype : {"float32", "float64"}
        Model floating-point type during MD (the integrator itself runs in float64).
    device : str or None
        Torch device; None = settings (auto: cuda when available).
    protocol : Protocol or None
        The protocol these runs belong to (provenance).
    max_timestep_halvings : int
        Health stops per run corrected by restarting from its checkpoint with half the time
        step.
    max_systems_per_batch : int or None
        Runs integrated together; None = all of them. When the device runs out of memory the
        batch is split in halves and each half resumes from its checkpoints.
    walltime_margin_s : float
        Wall time kept free before ``LATTICEBENCH_MD_WALLTIME_S`` / ``SLURM_JOB_END_TIME``;
        the job then checkpoints every run and replaces itself with its continuation.
    """

    name: str = "mlip batched md"
    model: str = "mace-mpa-0-medium"
    parameters: MDParameters = field(default_factory=lambda: MDParameters(seed=0))
    dtype: Literal["float32", "float64"] = "float32"
    device: str | None = None
    protocol: Protocol | None = None
    max_timestep_halvings: int = 3
    max_systems_per_batch: int | None = None
    walltime_margin_s: float = 60.0

    @job
    def make(self, runs: list[dict[str, Any]]) -> dict[str, Any] | Response:
        """Run (or resume) every MD run of the batch.

        Parameters
        ----------
        runs : list of dict
            One per run: ``compound`` (str), ``run_index`` (int), ``seed`` (int) and
            ``supercell`` (Structure, or None when the job that makes it failed; such a run is
            listed as missing).

        Returns
        -------
        dict or jobflow.Response
            ``{"model": ModelRecord dict, "runs": {key: summary}}`` with, per run key
            (:func:`batched_run_key`), its directory, state, reason, step, frames, seed, and
            the start step of this call; a Response replacing this job with its continuation
            when the wall time ran out.
        """
        from latticebench.hpc.walltime import walltime_deadline
        from latticebench.torchsim import BatchEntry, torchsim_model

        started = time.time()
        device = detect_device(self.device)
        loaded = load_model(self.model, dtype=self.dtype, device=device)
        model = torchsim_model(loaded)
        root = md_run_directory("batched")  # stable across reruns: the job uuid survives
        summaries: dict[str, dict[str, Any]] = {}
        entries: list[BatchEntry] = []
        for run in runs:
            key = batched_run_key(run["compound"], int(run["run_index"]))
            if key in summaries:
                raise ValueError(f"run {key!r} appears twice in the batch")
            directory = root / _directory_name(key)
            parameters = self.parameters.model_copy(update={"seed": int(run["seed"])})
            summaries[key] = {
                "compound": run["compound"],
                "run_index": int(run["run_index"]),
                "seed": parameters.seed,
                "directory": str(directory.resolve()),
                "parameters": parameters.model_dump(mode="json"),
                "state": "missing",
                "reason": "the job that makes its supercell did not finish",
            }
            if run.get("supercell") is None:
                continue
            checkpoint = read_checkpoint(directory)
            summaries[key]["started_from_step"] = checkpoint.step if checkpoint else 0
            supercell = run["supercell"]
            if isinstance(supercell, dict):
                supercell = Structure.from_dict(supercell)
            entries.append(BatchEntry(key, directory, structure_to_atoms(supercell), parameters))

        deadline = walltime_deadline(started)
        if deadline is not None:
            deadline -= self.walltime_margin_s
        statuses = self._run_batches(entries, model, deadline)
        paused = False
        for key, status in statuses.items():
            paused |= status.state == "paused"
            summaries[key] |= {
                "state": status.state,
                "reason": status.reason,
                "step": status.step,
                "n_frames": status.n_frames,
            }
        output = {"model": loaded.record.model_dump(mode="json"), "runs": summaries}
        if paused:
            continuation = self.make(runs)
            current = CURRENT_JOB.job
            continuation.name = current.name if current is not None else self.name
            return Response(output=output, replace=continuation)
        return output

    def _run_batches(
        self, entries: list[Any], model: Any, deadline: float | None
    ) -> dict[str, MDStatus]:
        """Run ``entries`` in batches of at most ``max_systems_per_batch``; halve on OOM."""
        from latticebench.hpc.md_supervision import is_out_of_memory
        from latticebench.torchsim import BatchedMDRun

        size = self.max_systems_per_batch or max(len(entries), 1)
        statuses: dict[str, MDStatus] = {}
        pending = [entries[i : i + size] for i in range(0, len(entries), size)]
        while pending:
            group = pending.pop(0)
            try:
                statuses |= BatchedMDRun(
                    group, max_timestep_halvings=self.max_timestep_halvings
                ).run(model, deadline=deadline)
            except Exception as exc:
                if not is_out_of_memory(exc) or len(group) == 1:
                    raise
                half = len(group) // 2
                pending[:0] = [group[:half], group[half:]]
        return statuses


@job(data=["series"])
def md_run_document(
    batch: dict[str, Any],
    compound: str,
    run_index: int,
    dtype: str,
    protocol: Protocol | None = None,
) -> MDDoc:
    """The MD document of one run of a batch (the fan-out of :class:`BatchedMDMaker`).

    Parameters
    ----------
    batch : dict
        Output of the batched job.
    compound : str
    run_index : int
    dtype : str
        Model floating-point type of the batch.
    protocol : Protocol or None

    Returns
    -------
    MDDoc
        Built from the run directory exactly as the single-compound MD job builds it.

    Raises
    ------
    latticebench.hpc.md_supervision.MDSupervisionError
        When the run did not complete (stopped by a health check or a model error, or never
        started because its supercell is missing): the job fails like the ASE backend's MD
        job, and the σ^A and comparison jobs record the reason.
    """
    from latticebench.hpc.md_supervision import MDSupervisionError

    key = batched_run_key(compound, run_index)
    summary = batch["runs"][key]
    directory = Path(summary["directory"])
    if summary["state"] != "completed":
        raise MDSupervisionError(
            f"MD run {key} in the torch-sim batch {summary['state']}: {summary['reason']}",
            directory=directory,
            step=summary.get("step"),
        )
    status = read_status(directory)
    if status is None:  # pragma: no cover - a completed run always writes its status
        raise MDSupervisionError(f"{directory} has no status.json", directory=directory)
    parameters = MDParameters.model_validate(summary["parameters"])
    return md_document(
        directory,
        parameters,
        status,
        ModelRecord.model_validate(batch["model"]),
        dtype=dtype,
        protocol=protocol,
        run_index=run_index,
        compound=compound,
        corrections=[c.to_dict() for c in status.corrections],
        started_from_step=int(summary.get("started_from_step", 0)),
        segments=1,
        custodian_log=[],
    )
