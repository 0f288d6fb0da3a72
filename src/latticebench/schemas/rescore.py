"""Output document of the rescoring job (MLIP forces and Φ on the reference's frames)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from latticebench.schemas.benchmark import PhononErrors
from latticebench.schemas.provenance import Provenance

__all__ = ["RescoreDoc"]


class RescoreDoc(BaseModel):
    """Decomposition rows 1–3 in both σ^A forms, force errors and phonon errors."""

    dataset: str = Field(description="Reference dataset id.")
    compound: str = Field(description="Compound name.")
    rows: dict[str, dict[str, float]] = Field(
        description=(
            "{form: {sigma_reference, sigma_force_only, sigma_force_and_hessian}} for form in "
            "'std', 'rms' (dimensionless)."
        )
    )
    n_frames: int = Field(description="Reference frames rescored.")
    force_rmse_eV_per_A: float = Field(description="RMSE of MLIP vs reference forces (eV/Å).")
    force_mae_eV_per_A: float = Field(description="MAE of MLIP vs reference forces (eV/Å).")
    force_rmse_by_element: dict[str, float] = Field(description="Force RMSE per element (eV/Å).")
    force_mae_by_element: dict[str, float] = Field(description="Force MAE per element (eV/Å).")
    phonon_errors: PhononErrors | None = Field(
        default=None, description="MLIP vs reference phonons on the same band path."
    )
    provenance: Provenance = Field(description="Model, protocol and package versions.")
