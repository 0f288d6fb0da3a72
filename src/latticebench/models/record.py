"""The provenance record every loaded model carries into result documents."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ModelRecord"]


class ModelRecord(BaseModel):
    """Which model produced a result, exactly.

    Two results with equal records came from the same weights, evaluated in the same
    floating-point type.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Catalog name, or the checkpoint's file name for a local file.")
    family: Literal["mace", "chgnet"] = Field(description="Package family that evaluates it.")
    package: str = Field(description="Python distribution that evaluates the model.")
    package_version: str = Field(description="Version of that distribution.")
    checkpoint_path: str = Field(description="Absolute path of the checkpoint file loaded.")
    checkpoint_sha256: str = Field(
        description="SHA-256 of the checkpoint file (hex), as `sha256sum` prints it."
    )
    source: str = Field(
        description=(
            "Where the checkpoint was found: path, model_dir, mace_cache, package, download."
        )
    )
    dtype: Literal["float32", "float64"] = Field(
        description="Floating-point type the model was evaluated in."
    )
    device: str = Field(description="Torch device it ran on, e.g. 'cpu' or 'cuda:0'.")
    head: str | None = Field(default=None, description="Output head of a multi-head MACE model.")
    license: str | None = Field(default=None, description="Licence of the weights, when known.")
