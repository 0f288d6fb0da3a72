"""Protocol parameters of each step, and the protocol id that every result carries.

A :class:`Protocol` bundles the physics parameters of relaxation, phonons, molecular dynamics and
the σ^A analysis. Its canonical JSON (without the display name and the MD seed, which is recorded
separately with every run) hashes to :attr:`Protocol.protocol_id`; two results with equal ids were
computed with the same physics.

The defaults are the reference study's (DESIGN.md §2): Fm-3m-constrained relaxation to
1e-3 eV/Å in float64; 2×2×2 supercell of the 40-atom cell with 0.01 Å displacements; NVT at 300 K,
Andersen collision probability 0.5, 1 fs, 10,000 production steps, 2 independent runs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from latticebench.analysis.metrics import StabilityThresholds
from latticebench.md.parameters import MDParameters
from latticebench.msonable import ParameterModel

__all__ = [
    "DEMO_PROTOCOL",
    "REFERENCE_PROTOCOL",
    "PhononParameters",
    "Protocol",
    "RelaxParameters",
    "SigmaParameters",
]


class RelaxParameters(ParameterModel):
    """Symmetry-constrained relaxation of cell and positions."""

    fmax_eV_per_A: float = Field(
        default=1e-3, gt=0, description="Convergence: largest force (eV/Å) and stress·volume/atom."
    )
    max_steps: int = Field(default=1000, gt=0, description="Optimizer step limit (steps).")
    optimizer: Literal["BFGS", "FIRE", "LBFGS"] = Field(
        default="BFGS", description="ASE optimizer."
    )
    dtype: Literal["float64", "float32"] = Field(
        default="float64", description="Model floating-point type."
    )
    symprec_A: float = Field(
        default=1e-3, gt=0, description="Symmetry tolerance (Å) for keeping the space group."
    )
    relax_cell: bool = Field(default=True, description="Relax the lattice parameter too.")


class PhononParameters(ParameterModel):
    """Finite-displacement harmonic phonons with phonopy."""

    supercell: tuple[int, int, int] = Field(
        default=(2, 2, 2), description="Supercell multiples of the 40-atom conventional cell."
    )
    displacement_A: float = Field(default=0.01, gt=0, description="Displacement amplitude (Å).")
    dtype: Literal["float64", "float32"] = Field(
        default="float64", description="Model floating-point type for the displaced supercells."
    )
    mesh: tuple[int, int, int] = Field(
        default=(8, 8, 8), description="q-point mesh on the primitive reciprocal cell."
    )
    band_points: int = Field(default=51, ge=2, description="q-points per band-path segment.")
    symmetrize_force_constants: bool = Field(
        default=True,
        description=(
            "Impose translational invariance and index symmetry on Φ (phonopy's "
            "symmetrize_force_constants); removes the acoustic-sum-rule drift of noisy models."
        ),
    )
    imaginary_threshold_THz: float = Field(
        default=-0.1,
        le=0,
        description=(
            "A mode counts as imaginary when its frequency (THz, imaginary negative) is below "
            "this; the small tolerance ignores the numerically ±ε acoustic modes near Γ."
        ),
    )

    @field_validator("supercell", "mesh")
    @classmethod
    def _positive(cls, value: tuple[int, int, int]) -> tuple[int, int, int]:
        if min(value) < 1:
            raise ValueError(f"all entries must be ≥ 1, got {value}")
        return value


class SigmaParameters(ParameterModel):
    """The σ^A analysis of MD frames."""

    headline_form: Literal["rms", "std"] = Field(
        default="std",
        description=(
            "Which σ^A form is the headline value: 'std' = std(F^A)/std(F) (the reference "
            "study's code), 'rms' = Knoop's sqrt(Σ(F^A)²/ΣF²). Both are always computed."
        ),
    )
    frame_stride: int = Field(
        default=1, ge=1, description="Use every n-th recorded production frame."
    )
    n_blocks: int = Field(default=5, ge=2, description="Blocks for the block-averaged error.")
    stable_max: float = Field(default=1.0, gt=0, description="Stable at T if σ^A ≤ this.")
    weak_max: float = Field(default=0.5, gt=0, description="Weakly anharmonic if σ^A ≤ this.")
    moderate_max: float = Field(default=0.75, gt=0, description="Moderate if σ^A ≤ this.")
    strong_max: float = Field(default=1.0, gt=0, description="Strong if σ^A ≤ this, else unstable.")

    @model_validator(mode="after")
    def _ordered(self) -> SigmaParameters:
        self.thresholds()  # raises for thresholds out of order
        return self

    def thresholds(self) -> StabilityThresholds:
        """The stability and class thresholds as the analysis package takes them.

        Returns
        -------
        latticebench.analysis.StabilityThresholds
        """
        return StabilityThresholds(
            stable_max=self.stable_max,
            weak_max=self.weak_max,
            moderate_max=self.moderate_max,
            strong_max=self.strong_max,
        )


class Protocol(ParameterModel):
    """Everything that determines the physics of one lattice-dynamics calculation."""

    name: str = Field(default="reference-study", description="Display name (not hashed).")
    relax: RelaxParameters = Field(default_factory=RelaxParameters)
    phonons: PhononParameters = Field(default_factory=PhononParameters)
    md: MDParameters = Field(default_factory=lambda: MDParameters(seed=20251018))
    md_dtype: Literal["float64", "float32"] = Field(
        default="float32", description="Model floating-point type during MD."
    )
    n_md_runs: int = Field(default=2, ge=1, description="Independent MD runs (seeds differ).")
    sigma: SigmaParameters = Field(default_factory=SigmaParameters)

    def hashed_parameters(self) -> dict[str, Any]:
        """The parameters that define the protocol id (name and MD seed left out).

        Returns
        -------
        dict
            JSON-able nested dict.
        """
        data = self.model_dump(mode="json", exclude={"name"})
        data["md"].pop("seed", None)
        return data

    @property
    def protocol_id(self) -> str:
        """Short stable hash of :meth:`hashed_parameters`, e.g. ``"lbp-1a2b3c4d5e6f"``."""
        text = json.dumps(self.hashed_parameters(), sort_keys=True, separators=(",", ":"))
        return "lbp-" + hashlib.sha256(text.encode()).hexdigest()[:12]

    def md_seeds(self) -> list[int]:
        """Seeds of the independent MD runs: ``md.seed + run index``.

        Returns
        -------
        list of int
        """
        return [self.md.seed + i for i in range(self.n_md_runs)]


REFERENCE_PROTOCOL = Protocol()
"""The reference study's protocol (DESIGN.md §2)."""

DEMO_PROTOCOL = Protocol(
    name="demo",
    relax=RelaxParameters(fmax_eV_per_A=2e-3, max_steps=300, dtype="float32"),
    phonons=PhononParameters(dtype="float32", mesh=(6, 6, 6), band_points=21),
    md=MDParameters(
        seed=20251018,
        equilibration_steps=50,
        production_steps=200,
        checkpoint_interval=50,
    ),
    n_md_runs=1,
)
"""A reduced but honest protocol for the offline demo: real relax, real 2×2×2 phonons, short MD."""
