"""The named models latticebench knows: published MACE foundation models and CHGNet.

A named model is a :class:`ModelSpec`; a local MACE checkpoint is used by passing its path
instead of a name. The URLs are the ones the MACE authors publish (the same table as
``mace.calculators.foundations_models.mace_mp_urls``; a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CATALOG", "REFERENCE_STUDY_MODELS", "ModelSpec", "UnknownModelError", "get_spec"]

Family = Literal["mace", "chgnet"]

_MACE_RELEASES = "https://github.com/ACEsuit/mace-mp/releases/download"
_MACE_FOUNDATIONS = "https://github.com/ACEsuit/mace-foundations/releases/download"
_ASL = "Academic Software License (https://github.com/gabor1/ASL)"


class UnknownModelError(KeyError):
    """A model name that is neither in the catalog nor an existing checkpoint file."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown model"


@dataclass(frozen=True)
class ModelSpec:
    """A published model that latticebench can resolve by name.

    Attributes
    ----------
    name : str
        Canonical name (``latticebench models list`` shows it).
    family : {"mace", "chgnet"}
        Which package evaluates it.
    description : str
        One line: architecture size and training data.
    url : str or None
        Where the checkpoint is published (None when the weights ship inside a package).
    mace_key : str or None
        The name ``mace.calculators.mace_mp(model=...)`` accepts for it.
    license : str
        Licence of the weights.
    dtypes : tuple of str
        Floating-point types the model can be evaluated in; the first is its native type.
    aliases : tuple of str
        Other spellings accepted (matched case-insensitively).
    """

    name: str
    family: Family
    description: str
    url: str | None = None
    mace_key: str | None = None
    license: str = "MIT"
    dtypes: tuple[str, ...] = ("float64", "float32")
    aliases: tuple[str, ...] = ()

    @property
    def filename(self) -> str | None:
        """Checkpoint file name as published (the last part of the URL)."""
        return None if self.url is None else self.url.rsplit("/", 1)[-1]

    @property
    def chgnet_version(self) -> str | None:
        """For CHGNet models: the version string ``CHGNet.load(model_name=...)`` takes."""
        return self.name.removeprefix("chgnet-") if self.family == "chgnet" else None


def _mace(
    name: str,
    description: str,
    url: str,
    mace_key: str,
    license: str = "MIT",
    aliases: tuple[str, ...] = (),
) -> ModelSpec:
    return ModelSpec(name, "mace", description, url, mace_key, license, aliases=aliases)


_SPECS: tuple[ModelSpec, ...] = (
    # The four MACE variants of the reference study (PCCP 2026, arXiv 2510.18178).
    _mace(
        "mace-mp-0b3-medium",
        "MACE-MP-0b3 medium: MPtrj (PBE/PBE+U), improved high-pressure stability",
        f"{_MACE_RELEASES}/mace_mp_0b3/mace-mp-0b3-medium.model",
        "medium-0b3",
    ),
    _mace(
        "mace-mpa-0-medium",
        "MACE-MPA-0 medium: MPtrj + sAlex (PBE/PBE+U), 3.5M structures",
        f"{_MACE_RELEASES}/mace_mpa_0/mace-mpa-0-medium.model",
        "medium-mpa-0",
    ),
    _mace(
        "mace-omat-0-medium",
        "MACE-OMAT-0 medium: OMat24 (PBE/PBE+U), 100M structures",
        f"{_MACE_RELEASES}/mace_omat_0/mace-omat-0-medium.model",
        "medium-omat-0",
        license=_ASL,
    ),
    _mace(
        "MACE-matpes-pbe-omat-ft",
        "MACE-MATPES-PBE-0: OMAT-0 fine-tuned on MatPES (PBE, no +U)",
        f"{_MACE_FOUNDATIONS}/mace_matpes_0/MACE-matpes-pbe-omat-ft.model",
        "mace-matpes-pbe-0",
        license=_ASL,
        aliases=("mace-matpes-pbe-0",),
    ),
    # Other published MACE foundation models.
    _mace(
        "mace-mp-0-small",
        "MACE-MP-0 small: MPtrj (PBE/PBE+U)",
        f"{_MACE_RELEASES}/mace_mp_0/2023-12-10-mace-128-L0_energy_epoch-249.model",
        "small",
    ),
    _mace(
        "mace-mp-0-medium",
        "MACE-MP-0 medium: MPtrj (PBE/PBE+U)",
        f"{_MACE_RELEASES}/mace_mp_0/2023-12-03-mace-128-L1_epoch-199.model",
        "medium",
    ),
    _mace(
        "mace-mp-0-large",
        "MACE-MP-0 large: MPtrj (PBE/PBE+U)",
        f"{_MACE_RELEASES}/mace_mp_0/MACE_MPtrj_2022.9.model",
        "large",
    ),
    _mace(
        "mace-mp-0b-medium",
        "MACE-MP-0b medium: MPtrj (PBE/PBE+U), core repulsion",
        f"{_MACE_RELEASES}/mace_mp_0b/mace_agnesi_medium.model",
        "medium-0b",
    ),
    _mace(
        "mace-mp-0b2-medium",
        "MACE-MP-0b2 medium: MPtrj (PBE/PBE+U), density-agnesi stress",
        f"{_MACE_RELEASES}/mace_mp_0b2/mace-medium-density-agnesi-stress.model",
        "medium-0b2",
    ),
    _mace(
        "mace-omat-0-small",
        "MACE-OMAT-0 small: OMat24 (PBE/PBE+U)",
        f"{_MACE_RELEASES}/mace_omat_0/mace-omat-0-small.model",
        "small-omat-0",
        license=_ASL,
    ),
    _mace(
        "MACE-matpes-r2scan-omat-ft",
        "MACE-MATPES-r2SCAN-0: OMAT-0 fine-tuned on MatPES (r2SCAN)",
        f"{_MACE_FOUNDATIONS}/mace_matpes_0/MACE-matpes-r2scan-omat-ft.model",
        "mace-matpes-r2scan-0",
        license=_ASL,
        aliases=("mace-matpes-r2scan-0",),
    ),
    # CHGNet: the weights ship inside the chgnet package, so these run offline.
    ModelSpec(
        "chgnet-0.3.0",
        "chgnet",
        "CHGNet 0.3.0: MPtrj (PBE/PBE+U), weights shipped with the chgnet package",
        dtypes=("float32",),
    ),
    ModelSpec(
        "chgnet-0.2.0",
        "chgnet",
        "CHGNet 0.2.0: MPtrj (PBE/PBE+U), weights shipped with the chgnet package",
        dtypes=("float32",),
    ),
)

CATALOG: dict[str, ModelSpec] = {spec.name: spec for spec in _SPECS}
"""Named models by canonical name."""

REFERENCE_STUDY_MODELS: tuple[str, ...] = (
    "MACE-matpes-pbe-omat-ft",
    "mace-mpa-0-medium",
    "mace-mp-0b3-medium",
    "mace-omat-0-medium",
)
"""The four MACE variants benchmarked in the reference study."""

_LOOKUP: dict[str, ModelSpec] = {
    key.lower(): spec for spec in _SPECS for key in (spec.name, *spec.aliases)
}


def get_spec(name: str) -> ModelSpec:
    """Return the catalog entry of a model name (case-insensitive, aliases accepted).

    Parameters
    ----------
    name : str
        A canonical name or alias, e.g. ``"mace-mpa-0-medium"``.

    Returns
    -------
    ModelSpec

    Raises
    ------
    UnknownModelError
        With the list of known names.
    """
    try:
        return _LOOKUP[name.strip().lower()]
    except KeyError:
        known = ", ".join(CATALOG)
        raise UnknownModelError(
            f"unknown model {name!r}: not a file and not a named model. Known names: {known}. "
            f"A local MACE checkpoint can be given by its path."
        ) from None
