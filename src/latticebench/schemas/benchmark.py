"""The benchmark document: one per (dataset, compound, model, protocol id).

It joins the MLIP results of a lattice-dynamics flow with the DFT reference of the same
compound, in a collection of its own (``benchmarks``), keyed by :data:`BENCHMARK_KEY`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from latticebench.schemas.provenance import Provenance

__all__ = [
    "BENCHMARK_KEY",
    "BenchmarkDoc",
    "DecompositionRows",
    "MLIPSummary",
    "PhononErrors",
    "ReferenceSummary",
]

BENCHMARK_KEY: tuple[str, ...] = ("dataset", "compound", "model", "protocol_id")
"""Natural key of the ``benchmarks`` collection."""


class ReferenceSummary(BaseModel):
    """What the DFT reference says about the compound."""

    sigma: float | None = Field(default=None, description="Reference σ^A at T (dimensionless).")
    sigma_definition: str = Field(
        default="unspecified", description="'std', 'rms' or 'unspecified' (which σ^A form)."
    )
    temperature_K: float = Field(default=300.0, description="Temperature of the reference σ^A (K).")
    stable: bool | None = Field(default=None, description="σ^A ≤ stable_max.")
    anharmonicity_class: str | None = Field(
        default=None, description="'weak', 'moderate', 'strong' or 'unstable'."
    )
    level_of_theory: str | None = Field(default=None, description="E.g. 'DFT PBE (VASP)'.")
    citation: str | None = Field(default=None, description="Where the reference comes from.")


class MLIPSummary(BaseModel):
    """What the MLIP lattice-dynamics flow gives for the compound."""

    sigma: float | None = Field(
        default=None, description="MLIP σ^A in the reference's form (dimensionless)."
    )
    form: str = Field(description="σ^A form of ``sigma``: 'std' or 'rms'.")
    sigma_std: float | None = Field(default=None, description="σ^A, std(F^A)/std(F).")
    sigma_rms: float | None = Field(default=None, description="σ^A, Knoop's rms form.")
    standard_error: float | None = Field(
        default=None, description="Block-averaging standard error of the headline σ^A."
    )
    stable: bool | None = Field(default=None, description="σ^A ≤ stable_max.")
    anharmonicity_class: str | None = Field(default=None, description="Class of ``sigma``.")
    harmonically_stable: bool | None = Field(
        default=None, description="No imaginary harmonic modes (0 K criterion)."
    )
    lowest_frequency_THz: float | None = Field(
        default=None, description="Lowest harmonic frequency (THz; negative = imaginary)."
    )
    imaginary_mode_fraction: float | None = Field(
        default=None, description="Fraction of mesh modes below the imaginary threshold."
    )
    lattice_parameter_A: float | None = Field(default=None, description="Relaxed a (Å).")
    relax_converged: bool | None = Field(default=None, description="Relaxation reached fmax.")
    md_complete: bool | None = Field(default=None, description="Every MD run finished.")
    n_frames: int | None = Field(default=None, description="MD frames used for σ^A.")
    failure_reason: str | None = Field(default=None, description="Why σ^A is missing, if it is.")


class DecompositionRows(BaseModel):
    """The reference study's error decomposition (DESIGN.md §2), all σ^A in the same form.

    Rows: configurations / forces on them / Φ.
    """

    form: str = Field(description="σ^A form of every row: 'std' or 'rms'.")
    sigma_reference: float = Field(description="DFT frames / DFT forces / DFT Φ.")
    sigma_force_only: float = Field(description="DFT frames / MLIP forces / DFT Φ.")
    sigma_force_and_hessian: float = Field(description="DFT frames / MLIP forces / MLIP Φ.")
    sigma_full: float | None = Field(
        default=None, description="MLIP MD frames / MLIP forces / MLIP Φ (the MLIP prediction)."
    )
    n_frames: int = Field(description="DFT frames rescored.")
    force_rmse_eV_per_A: float = Field(description="RMSE of MLIP vs DFT forces (eV/Å).")
    force_mae_eV_per_A: float = Field(description="MAE of MLIP vs DFT forces (eV/Å).")
    force_rmse_by_element: dict[str, float] = Field(
        default_factory=dict, description="Force RMSE per element (eV/Å)."
    )
    force_mae_by_element: dict[str, float] = Field(
        default_factory=dict, description="Force MAE per element (eV/Å)."
    )


class PhononErrors(BaseModel):
    """MLIP vs reference harmonic phonons on the same band path."""

    omega_squared_rmse_THz2: float = Field(description="RMSE of signed ω² (THz²).")
    group_velocity_rmse_THz_A: float | None = Field(
        default=None, description="RMSE of group velocities (THz·Å)."
    )
    n_qpoints: int = Field(description="q-points compared.")
    source: str = Field(description="What was compared, e.g. 'force constants at DFT geometry'.")


class BenchmarkDoc(BaseModel):
    """One compound × one model × one protocol, compared with one reference dataset."""

    dataset: str = Field(description="Reference dataset id.")
    compound: str = Field(description="Compound name.")
    model: str = Field(description="Model name (catalog name or checkpoint file name).")
    protocol_id: str = Field(description="Protocol id of the MLIP calculation.")
    halide: str | None = Field(default=None, description="X-site element, when known.")
    reference: ReferenceSummary = Field(description="The DFT side.")
    mlip: MLIPSummary = Field(description="The MLIP side.")
    sigma_error: float | None = Field(
        default=None, description="MLIP σ^A − reference σ^A (same form, dimensionless)."
    )
    stability_agrees: bool | None = Field(
        default=None, description="MLIP and reference agree on stable/unstable."
    )
    class_agrees: bool | None = Field(
        default=None, description="MLIP and reference agree on the anharmonicity class."
    )
    decomposition: DecompositionRows | None = Field(
        default=None, description="Error decomposition, when the reference has AIMD frames."
    )
    phonon_errors: PhononErrors | None = Field(
        default=None, description="Phonon errors, when the reference has Φ or a band structure."
    )
    thresholds: dict[str, float] = Field(description="Classification thresholds used.")
    job_uuids: dict[str, str] = Field(
        default_factory=dict,
        description="uuids of the joined jobs (relax, phonons, anharmonicity, ...).",
    )
    provenance: Provenance = Field(description="Model, protocol, seeds, package versions.")
    extra: dict[str, Any] = Field(default_factory=dict, description="Further annotations.")
