"""Output document of one MD run."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from latticebench.md.parameters import MDParameters
from latticebench.schemas.provenance import Provenance

__all__ = ["MDDoc"]


class MDDoc(BaseModel):
    """One NVT MD run in the phonon supercell.

    The trajectory itself (positions and forces of every recorded frame) stays in chunked HDF5
    files under ``directory``; the per-frame scalar series go to the "data" store.
    """

    compound: str | None = Field(default=None, description="Compound name, when known.")
    run_index: int = Field(description="Index of this independent run (0-based).")
    seed: int = Field(description="Seed of the initial velocities and the thermostat.")
    directory: str = Field(description="Absolute path of the run directory (HDF5 chunks).")
    state: str = Field(
        description="'completed', or 'paused' (wall time ran out; a continuation job resumes)."
    )
    reason: str | None = Field(default=None, description="Why the run stopped, if it did.")
    step: int = Field(description="Last global step reached.")
    n_frames: int = Field(description="Production frames committed to disk.")
    n_frames_expected: int = Field(description="Production frames the parameters ask for.")
    corrections: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "Every correction of the run, oldest first, each {step, field, old, new, reason}: "
            "MD parameter changes on restarts (e.g. timestep_fs halved after a health stop) and "
            "device changes of the supervisor (e.g. cuda → cpu after running out of memory)."
        ),
    )
    wall_time_s: float = Field(description="Wall time of the last call (s).")
    temperature_mean_K: float | None = Field(
        default=None, description="Mean instantaneous temperature over production (K)."
    )
    temperature_std_K: float | None = Field(
        default=None, description="Standard deviation of the temperature over production (K)."
    )
    series: dict[str, list[float]] = Field(
        default_factory=dict,
        description=(
            "Per production frame: 'step', 'time_fs' (fs), 'temperature_K' (K), "
            "'potential_energy_eV' (eV)."
        ),
    )
    parameters: MDParameters = Field(
        description="MD parameters the run was started with (seed included)."
    )
    effective_parameters: MDParameters | None = Field(
        default=None,
        description="MD parameters in force at the end, after the corrections (None: unknown).",
    )
    dtype: str = Field(description="Model floating-point type during MD.")
    device: str | None = Field(
        default=None, description="Torch device of the model in the last segment."
    )
    started_from_step: int = Field(
        default=0,
        description="Global step of the checkpoint this job continued from (0: a fresh start).",
    )
    segments: int = Field(
        default=0, description="Supervised segments (custodian jobs) run by this job (count)."
    )
    custodian_log: list[dict[str, Any]] = Field(
        default_factory=list,
        description="custodian's record of this job: per segment, handler, errors and actions.",
    )
    provenance: Provenance = Field(description="Model, protocol, seeds and package versions.")
