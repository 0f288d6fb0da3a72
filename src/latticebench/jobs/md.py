"""The MD job: one checkpointed NVT run in the phonon supercell (resumes if restarted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from jobflow import CURRENT_JOB, Maker, job
from pymatgen.core import Structure

from latticebench.jobs.common import make_provenance, structure_to_atoms
from latticebench.md import MDParameters, MDRun, read_checkpoint
from latticebench.models import load_model
from latticebench.protocol import Protocol
from latticebench.schemas.md import MDDoc
from latticebench.settings import get_settings

__all__ = ["MDMaker", "md_run_directory"]


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
    """NVT molecular dynamics of a supercell with an MLIP (Andersen or Langevin).

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
    """

    name: str = "mlip md"
    model: str = "mace-mpa-0-medium"
    parameters: MDParameters = field(default_factory=lambda: MDParameters(seed=0))
    dtype: Literal["float32", "float64"] = "float32"
    device: str | None = None
    protocol: Protocol | None = None

    @job(output_schema=MDDoc, data=["series"])
    def make(
        self,
        supercell: Structure,
        seed: int | None = None,
        run_index: int = 0,
        compound: str | None = None,
    ) -> MDDoc:
        """Run (or resume) one MD run; a health-check stop is recorded, not raised.

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
        MDDoc
        """
        parameters = self.parameters
        if seed is not None:
            parameters = parameters.model_copy(update={"seed": int(seed)})
        directory = md_run_directory(str(run_index))
        loaded = load_model(self.model, dtype=self.dtype, device=self.device)
        if read_checkpoint(directory) is not None:
            run = MDRun.open(directory)
        else:
            run = MDRun(directory, structure_to_atoms(supercell), parameters)
        status = run.run(loaded.calculator())
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
        protocol = self.protocol or Protocol(md=parameters, md_dtype=self.dtype)
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
            corrections=[c.to_dict() for c in status.corrections],
            wall_time_s=status.wall_time_s,
            temperature_mean_K=temperature_mean,
            temperature_std_K=temperature_std,
            series=series,
            parameters=parameters,
            dtype=self.dtype,
            provenance=make_provenance(loaded.record, protocol, seeds=[parameters.seed]),
        )
