"""``ReferenceDoc``: one compound's DFT reference data in one dataset.

Stored in the ``references`` collection under the natural key (``dataset``, ``compound``).
Light fields (σ^A, energies, descriptors, citation) live in the document; heavy parts (force
constants, AIMD frames, phonon bands) live in the "data" store and the document holds their
blob ids in :attr:`ReferenceDoc.heavy`. :mod:`latticebench.references.heavy` writes and reads
those parts.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "HEAVY_PARTS",
    "FieldUpdate",
    "HeavyPart",
    "ReferenceDoc",
    "ReferenceSource",
    "SigmaDefinition",
    "UpdateRecord",
]

SigmaDefinition = Literal["rms", "std", "unspecified"]
HeavyPart = Literal["force_constants", "aimd", "band"]
HEAVY_PARTS: tuple[str, ...] = get_args(HeavyPart)
"""Names of the heavy parts a reference document may point to."""

DEFAULT_SIGMA_TEMPERATURE_K = 300.0


class ReferenceSource(BaseModel):
    """Where a document's values were read from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(description="Path of the file or folder imported (as given).")
    location: str | None = Field(
        default=None,
        description="Row, record id or frame range inside the file, e.g. 'row 17' or 'id=5'.",
    )

    def __str__(self) -> str:
        return f"{self.file} ({self.location})" if self.location else self.file


class FieldUpdate(BaseModel):
    """One field changed by a later import."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="Field name; 'heavy.aimd' for a heavy part.")
    old: Any = Field(default=None, description="Value before the change (None: absent).")
    new: Any = Field(default=None, description="Value after the change.")


class UpdateRecord(BaseModel):
    """One entry of a document's change history."""

    model_config = ConfigDict(extra="forbid")

    when: _dt.datetime = Field(description="Time of the change (UTC).")
    source: str = Field(description="The import that made the change (file, command).")
    changes: list[FieldUpdate] = Field(description="Fields changed, with old and new values.")


class ReferenceDoc(BaseModel):
    """DFT reference data for one compound of one dataset.

    Every value is optional except the key (``dataset``, ``compound``): an import may bring
    only a table row (σ^A and descriptors), only AIMD frames and force constants, or both;
    later imports extend the stored document.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)

    dataset: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:+-]*$",
        description="Dataset id, e.g. 'hdp-chemmater-2022' (letters, digits, . _ : + -).",
    )
    compound: str = Field(
        min_length=1, description="Compound name as in the source, e.g. 'Cs2AgBiBr6'."
    )
    structure: dict[str, Any] | None = Field(
        default=None,
        description=(
            "DFT structure as a pymatgen Structure dict (lattice and Cartesian positions in Å); "
            "see structure_note for which structure it is."
        ),
    )
    structure_note: str | None = Field(
        default=None,
        description="What the structure is, e.g. 'relaxed cell from the database row'.",
    )
    sigma_300K: float | None = Field(
        default=None,
        ge=0.0,
        description=(
            "Anharmonicity score σ^A at sigma_temperature_K, dimensionless (the name keeps the "
            "database's label; the temperature is sigma_temperature_K)."
        ),
    )
    sigma_definition: SigmaDefinition | None = Field(
        default=None,
        description=(
            "How σ^A was computed: 'rms' = sqrt(Σ(F^A)²)/sqrt(ΣF²); 'std' = std(F^A)/std(F) "
            "over the flattened trajectory (mean-subtracted); 'unspecified' when unknown. Set "
            "to 'unspecified' when sigma_300K is given without a definition."
        ),
    )
    sigma_temperature_K: float | None = Field(
        default=None,
        gt=0.0,
        description="Temperature of the AIMD run that σ^A comes from, in K (300 when omitted).",
    )
    formation_energy_eV_per_atom: float | None = Field(
        default=None, description="DFT formation energy in eV/atom."
    )
    sigma_weighted_frequency_THz: float | None = Field(
        default=None,
        description=(
            "σ-weighted mode frequency (the database's sigma_mode_averaged_300K), THz; "
            "negative where imaginary (unstable) modes dominate the average."
        ),
    )
    halide: Literal["F", "Cl", "Br", "I"] | None = Field(
        default=None, description="X-site halide element of the compound."
    )
    tolerance_factor: float | None = Field(
        default=None, description="Generalised Goldschmidt tolerance factor, dimensionless."
    )
    octahedral_factor: float | None = Field(
        default=None, description="(r_B + r_B') / (2 r_X), dimensionless."
    )
    octahedral_mismatch: float | None = Field(
        default=None,
        ge=0.0,
        description=(
            "|r_B - r_B'| / (2 r_X), dimensionless; None where the source marked the geometry "
            "outside its validity range (-1 in the source table)."
        ),
    )
    level_of_theory: str | None = Field(
        default=None, description="e.g. 'DFT PBE (VASP) AIMD at 300 K'."
    )
    citation: str | None = Field(default=None, description="Publication to cite for the data.")
    doi: str | None = Field(
        default=None,
        pattern=r"^10\.\d{4,9}/\S+$",
        description="DOI of that publication, e.g. '10.1021/acs.chemmater.2c01779'.",
    )
    selection_note: str | None = Field(
        default=None,
        description="How the dataset's compounds were selected (what the source left out).",
    )
    source: ReferenceSource | None = Field(
        default=None, description="File and row/record/frames the document was first read from."
    )
    heavy: dict[HeavyPart, str] = Field(
        default_factory=dict,
        description=(
            "Blob ids in the data store: 'force_constants' (Φ (N,N,3,3) eV/Å², supercell and "
            "reference positions Å), 'aimd' (positions and forces (n_frames,N,3) in Å and eV/Å, "
            "cells (n_frames,3,3) Å, energies (n_frames,) eV, symbols, temperature K, time step "
            "fs), 'band' (q-points, distances, frequencies (n_q,n_bands) THz, optional group "
            "velocities THz·Å)."
        ),
    )
    updates: list[UpdateRecord] = Field(
        default_factory=list, description="History of changes made by later imports."
    )
    last_updated: _dt.datetime | None = Field(
        default=None, description="Time of the last write (UTC), set by the store."
    )

    @model_validator(mode="after")
    def _sigma_context(self) -> ReferenceDoc:
        if self.sigma_300K is not None:
            if self.sigma_definition is None:
                object.__setattr__(self, "sigma_definition", "unspecified")
            if self.sigma_temperature_K is None:
                object.__setattr__(self, "sigma_temperature_K", DEFAULT_SIGMA_TEMPERATURE_K)
        return self

    @property
    def key(self) -> tuple[str, str]:
        """The natural key (dataset, compound)."""
        return (self.dataset, self.compound)

    def to_document(self) -> dict[str, Any]:
        """The payload to upsert: set fields only, without history and bookkeeping.

        Returns
        -------
        dict
            JSON/BSON-ready; fields that are None and an empty ``heavy`` are left out, so a
            partial import never erases stored values.
        """
        doc = self.model_dump(mode="json", exclude_none=True, exclude={"updates", "last_updated"})
        if not doc.get("heavy"):
            doc.pop("heavy", None)
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ReferenceDoc:
        """Validate a document read from the store (``_id`` is dropped).

        Parameters
        ----------
        doc : dict

        Returns
        -------
        ReferenceDoc
        """
        return cls.model_validate({k: v for k, v in doc.items() if k != "_id"})

    def get_structure(self) -> Structure | None:
        """The structure as a pymatgen ``Structure`` (None when the document has none)."""
        if self.structure is None:
            return None
        from pymatgen.core import Structure

        return Structure.from_dict(self.structure)
