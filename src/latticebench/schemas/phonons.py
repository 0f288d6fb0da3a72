"""Output document of the phonon job."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure

from latticebench.protocol import PhononParameters
from latticebench.schemas.provenance import Provenance

__all__ = ["PhononDoc"]


class PhononDoc(BaseModel):
    """Finite-displacement harmonic phonons of one structure with one model.

    Heavy fields (``force_constants``, ``band``, ``phonopy_params_yaml``) live in the JobStore's
    "data" store; the document keeps references to them.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    compound: str | None = Field(default=None, description="Compound name, when known.")
    structure: Structure = Field(description="Unit cell the phonons were computed for.")
    supercell_matrix: list[list[int]] = Field(
        description="Supercell matrix (3×3) of the unit cell."
    )
    primitive_matrix: list[list[float]] = Field(
        description="Primitive matrix (3×3) phonopy used for bands and the compact Φ."
    )
    supercell: Structure = Field(
        description=(
            "Phonopy supercell in phonopy's atom order: the reference positions R⁰ (Å) that index "
            "the force constants; MD for σ^A runs in this cell."
        )
    )
    displacement_A: float = Field(description="Displacement amplitude (Å).")
    n_displacements: int = Field(description="Number of displaced supercells evaluated.")
    force_constants: list[Any] = Field(
        description=(
            "Compact force constants Φ[p, j, α, β] in eV/Å², "
            "shape (n_primitive, n_supercell, 3, 3)."
        )
    )
    p2s_map: list[int] = Field(description="Supercell index of each primitive-cell atom.")
    symmetrized: bool = Field(description="Whether the acoustic sum rule was imposed on Φ.")
    mesh: dict[str, Any] = Field(
        description=(
            "Irreducible Γ-centred mesh: 'mesh' (3 ints), 'qpoints' (n_q×3, reduced), 'weights' "
            "(n_q), 'frequencies' (n_q×n_bands, THz)."
        )
    )
    band: dict[str, Any] = Field(
        description=(
            "High-symmetry path: 'qpoints' (n_q×3), 'distances' (n_q, 1/Å), 'frequencies' "
            "(n_q×n_bands, THz), 'group_velocities' (n_q×n_bands×3, THz·Å), 'segment_sizes', "
            "'labels'."
        )
    )
    gamma_frequencies_THz: list[float] = Field(description="Frequencies at Γ (THz).")
    lowest_frequency_THz: float = Field(
        description="Lowest frequency on mesh and band path (THz; negative = imaginary)."
    )
    imaginary_mode_fraction: float = Field(
        description="Fraction of mesh modes below the imaginary threshold (dimensionless)."
    )
    imaginary_threshold_THz: float = Field(description="Threshold used for imaginary modes (THz).")
    harmonically_stable: bool = Field(
        description="No imaginary modes on mesh or band path (the 0 K harmonic criterion)."
    )
    phonopy_params_yaml: str = Field(
        description="phonopy_params.yaml text (cells, displacements, forces, Φ) for phonopy.load."
    )
    parameters: PhononParameters = Field(description="Phonon parameters used.")
    provenance: Provenance = Field(description="Model, protocol and package versions.")
