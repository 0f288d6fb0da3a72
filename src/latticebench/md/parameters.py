"""Parameters of one NVT molecular-dynamics run: thermostat, lengths, output, health limits.

Everything a run needs to be reproduced lives here, and ``MDParameters.model_dump()`` is plain
JSON (numbers, strings, a nested dict), so a protocol id can be hashed from it.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from latticebench.msonable import ParameterModel

__all__ = ["HealthLimits", "MDParameters"]


class HealthLimits(ParameterModel):
    """When a run counts as exploding and is stopped (see :mod:`latticebench.md.health`)."""

    max_temperature_factor: float = Field(
        default=5.0,
        gt=1.0,
        description=(
            "Stop when the instantaneous temperature (K) exceeds this multiple of the target "
            "temperature (dimensionless). Checked every step."
        ),
    )
    min_distance_A: float = Field(
        default=0.5,
        gt=0.0,
        description=(
            "Stop when two atoms come closer than this distance (Å), periodic images included."
        ),
    )
    distance_check_interval: int = Field(
        default=10,
        ge=1,
        description=(
            "The closest-pair check runs on every step whose global index is a multiple of this "
            "(steps)."
        ),
    )


class MDParameters(ParameterModel):
    """NVT molecular dynamics with velocity Verlet and a stochastic thermostat (ASE).

    Step numbering: step 0 is the starting structure with its Maxwell-Boltzmann velocities;
    steps ``1 .. equilibration_steps`` are equilibration (never written to the trajectory);
    steps ``equilibration_steps + 1 .. equilibration_steps + production_steps`` are production,
    and production step ``s`` is written when ``(s - equilibration_steps) % record_interval == 0``,
    giving ``production_steps // record_interval`` frames.
    """

    temperature_K: float = Field(default=300.0, gt=0.0, description="Target temperature (K).")
    timestep_fs: float = Field(default=1.0, gt=0.0, description="Integration time step (fs).")
    thermostat: Literal["andersen", "langevin"] = Field(
        default="andersen",
        description=(
            "'andersen': ASE Andersen, stochastic collisions that redraw velocity components; "
            "'langevin': ASE Langevin (Vanden-Eijnden-Ciccotti integrator)."
        ),
    )
    andersen_probability: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description=(
            "Andersen collision probability per atom per step (dimensionless; ASE draws it for "
            "each Cartesian velocity component). 0.5 is the reference study's value; 0 switches "
            "the thermostat off (plain NVE velocity Verlet)."
        ),
    )
    langevin_friction_per_fs: float = Field(
        default=0.01, gt=0.0, description="Langevin friction coefficient (1/fs)."
    )
    equilibration_steps: int = Field(
        default=1000, ge=0, description="Steps integrated before production, not recorded (steps)."
    )
    production_steps: int = Field(
        default=10_000, ge=1, description="Steps integrated in production (steps)."
    )
    record_interval: int = Field(
        default=1, ge=1, description="Write every n-th production step to the trajectory (steps)."
    )
    checkpoint_interval: int = Field(
        default=100,
        ge=1,
        description=(
            "Steps between checkpoints, counted from the start of each phase (steps). The "
            "production frames written between two checkpoints form one chunk file on disk."
        ),
    )
    seed: int = Field(
        ge=0,
        description=(
            "Seed of the numpy random generator that draws the initial Maxwell-Boltzmann "
            "velocities and then drives the thermostat."
        ),
    )
    health: HealthLimits = Field(
        default_factory=HealthLimits, description="Limits that stop an exploding run."
    )

    @model_validator(mode="after")
    def _whole_number_of_frames(self) -> Self:
        if self.production_steps % self.record_interval:
            raise ValueError(
                f"production_steps ({self.production_steps}) must be a multiple of "
                f"record_interval ({self.record_interval}) so that the trajectory has a whole "
                "number of frames"
            )
        return self

    @property
    def total_steps(self) -> int:
        """Equilibration plus production steps (steps)."""
        return self.equilibration_steps + self.production_steps

    @property
    def n_frames(self) -> int:
        """Number of production frames the finished trajectory holds."""
        return self.production_steps // self.record_interval

    def is_recorded(self, step: int) -> bool:
        """Whether global step ``step`` is written to the trajectory.

        Parameters
        ----------
        step : int
            Global step index (0 is the starting structure).

        Returns
        -------
        bool
            True for production steps on the ``record_interval`` grid.
        """
        offset = step - self.equilibration_steps
        return 0 < offset <= self.production_steps and offset % self.record_interval == 0

    def is_checkpoint(self, step: int) -> bool:
        """Whether a checkpoint (and a chunk of frames) is committed after global step ``step``.

        Checkpoints fall every ``checkpoint_interval`` steps counted from the start of each phase,
        at the end of equilibration and at the end of production.

        Parameters
        ----------
        step : int
            Global step index.

        Returns
        -------
        bool
            True when the state after this step is checkpointed (never for step 0, whose
            checkpoint is written when the run starts, nor past ``total_steps``).
        """
        n_equil = self.equilibration_steps
        if step <= 0 or step > self.total_steps:
            return False
        if step in (n_equil, self.total_steps):
            return True
        if step < n_equil:
            return step % self.checkpoint_interval == 0
        return (step - n_equil) % self.checkpoint_interval == 0
