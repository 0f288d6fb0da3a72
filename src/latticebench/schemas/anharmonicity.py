"""Output document of the anharmonicity (σ^A) job."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from latticebench.protocol import SigmaParameters
from latticebench.schemas.provenance import Provenance

__all__ = ["AnharmonicityDoc"]


class AnharmonicityDoc(BaseModel):
    """σ^A at the MD temperature, its resolved forms, and the stability verdicts."""

    compound: str | None = Field(default=None, description="Compound name, when known.")
    temperature_K: float = Field(description="MD temperature (K).")
    form: str = Field(description="Form of the headline value: 'std' or 'rms'.")
    sigma: float | None = Field(
        default=None, description="Headline σ^A over all runs and frames (dimensionless)."
    )
    sigma_std: float | None = Field(default=None, description="σ^A, std(F^A)/std(F).")
    sigma_rms: float | None = Field(default=None, description="σ^A, √Σ(F^A)²/√ΣF² (Knoop).")
    standard_error: float | None = Field(
        default=None, description="Block-averaging standard error of the headline σ^A."
    )
    sigma_per_run: list[float | None] = Field(
        default_factory=list, description="Headline σ^A of each independent run."
    )
    by_element: dict[str, float] = Field(
        default_factory=dict, description="Headline-form σ^A restricted to each element."
    )
    by_site: dict[str, float] = Field(
        default_factory=dict, description="Headline-form σ^A per site (A, B, B', X) when labelled."
    )
    n_frames: int = Field(description="Frames used, all runs together.")
    n_runs: int = Field(description="MD runs used.")
    frame_stride: int = Field(description="Every n-th recorded production frame was used.")
    complete: bool = Field(description="Whether every MD run finished its production.")
    md_states: list[str] = Field(description="Final state of each MD run.")
    failure_reason: str | None = Field(
        default=None, description="Why no σ^A could be computed (no frames), if so."
    )
    stable: bool | None = Field(
        default=None, description="Dynamically stable at T: headline σ^A ≤ stable_max."
    )
    anharmonicity_class: str | None = Field(
        default=None, description="'weak', 'moderate', 'strong' or 'unstable'."
    )
    thresholds: dict[str, float] = Field(description="Classification thresholds used.")
    harmonically_stable: bool | None = Field(
        default=None, description="0 K harmonic criterion from the phonon job (no imaginary modes)."
    )
    lowest_frequency_THz: float | None = Field(
        default=None, description="Lowest harmonic frequency (THz; negative = imaginary)."
    )
    sigma_per_frame: list[list[float]] = Field(
        default_factory=list, description="Headline-form σ^A(t) per run, one value per frame."
    )
    mode_frequencies_THz: list[float] = Field(
        default_factory=list, description="Supercell (commensurate-q) mode frequencies (THz)."
    )
    mode_sigma: list[float | None] = Field(
        default_factory=list, description="Headline-form σ^A per mode (None for translations)."
    )
    parameters: SigmaParameters = Field(description="σ^A parameters used.")
    provenance: Provenance = Field(description="Model, protocol, seeds and package versions.")
    extra: dict[str, Any] = Field(default_factory=dict, description="Further annotations.")
