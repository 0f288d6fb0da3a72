"""The provenance block every result document carries."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import BaseModel, Field

from latticebench.models.record import ModelRecord

__all__ = ["Provenance", "package_versions"]

_TRACKED_PACKAGES = (
    "latticebench",
    "numpy",
    "ase",
    "pymatgen",
    "phonopy",
    "spglib",
    "torch",
    "mace-torch",
    "chgnet",
    "jobflow",
)


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a result.

    Returns
    -------
    dict of str to str
        Distribution name to version; absent packages are left out.
    """
    found: dict[str, str] = {}
    for name in _TRACKED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


class Provenance(BaseModel):
    """Which model, code, protocol and seeds produced a result."""

    model: ModelRecord | None = Field(
        default=None,
        description="The MLIP (weights sha256, dtype, device); None for pure analysis.",
    )
    protocol_id: str | None = Field(
        default=None, description="Hash of the protocol parameters (see latticebench.protocol)."
    )
    protocol: dict[str, Any] = Field(
        default_factory=dict, description="The hashed protocol parameters, units as in Protocol."
    )
    seeds: list[int] = Field(default_factory=list, description="Random seeds used (MD runs).")
    reference_dataset: str | None = Field(
        default=None, description="Id of the DFT reference dataset compared with, if any."
    )
    package_versions: dict[str, str] = Field(
        default_factory=package_versions, description="Versions of the packages used."
    )
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC), description="When the document was made (UTC)."
    )
