"""Pydantic documents stored by latticebench (units in every field description)."""

from __future__ import annotations

from latticebench.schemas.reference import (
    HEAVY_PARTS,
    FieldUpdate,
    ReferenceDoc,
    ReferenceSource,
    UpdateRecord,
)

__all__ = ["HEAVY_PARTS", "FieldUpdate", "ReferenceDoc", "ReferenceSource", "UpdateRecord"]
