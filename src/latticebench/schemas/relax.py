"""Output document of the relaxation job."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure

from latticebench.protocol import RelaxParameters
from latticebench.schemas.provenance import Provenance

__all__ = ["RelaxDoc"]


class RelaxDoc(BaseModel):
    """A symmetry-constrained MLIP relaxation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    compound: str | None = Field(default=None, description="Compound name, when known.")
    structure: Structure = Field(description="Relaxed structure (site labels of the input kept).")
    input_structure: Structure = Field(description="Structure the relaxation started from.")
    lattice_parameter_A: float = Field(description="First lattice parameter a (Å); cubic: a.")
    volume_per_atom_A3: float = Field(description="Volume per atom (Å³).")
    energy_eV: float = Field(description="Total energy of the relaxed cell (eV).")
    energy_per_atom_eV: float = Field(description="Energy per atom (eV/atom).")
    max_force_eV_per_A: float = Field(description="Largest remaining force norm (eV/Å).")
    stress_GPa: list[float] = Field(
        description="Final stress, Voigt (xx, yy, zz, yz, xz, xy), GPa."
    )
    steps: int = Field(description="Optimizer steps taken.")
    converged: bool = Field(description="Whether fmax was reached within max_steps.")
    space_group_before: int = Field(description="spglib space group of the input.")
    space_group_after: int = Field(description="spglib space group of the result.")
    parameters: RelaxParameters = Field(description="Relaxation parameters used.")
    provenance: Provenance = Field(description="Model, protocol and package versions.")
