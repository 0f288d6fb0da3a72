"""Study specifications: which compounds × which models × which protocol (``workflows/*.yaml``).

Examples
--------
A study file::

    name: demo
    dataset: hdp-chemmater-2022
    compounds:
      spread_per_halide: 2        # 2 per halide, spanning the σ^A classes
    models: [chgnet-0.3.0]
    protocol:
      preset: demo
      overrides: {md: {production_steps: 200}}

>>> spec = StudySpec.from_yaml("workflows/demo.yaml")  # doctest: +SKIP
>>> spec.protocol.build().protocol_id  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from latticebench.protocol import DEMO_PROTOCOL, REFERENCE_PROTOCOL, Protocol

__all__ = [
    "DEMO_STUDY",
    "CompoundSelection",
    "ProtocolSpec",
    "Resources",
    "StudySpec",
    "StudySpecError",
    "select_compounds",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)
_PRESETS = {"reference": REFERENCE_PROTOCOL, "demo": DEMO_PROTOCOL}

# Class centres used to spread a selection over the anharmonicity classes (weak, moderate,
# strong, unstable): the middle of each σ^A interval, and 1.25 for "unstable".
_CLASS_TARGETS = (0.30, 0.625, 0.875, 1.25)


class StudySpecError(ValueError):
    """A study file that cannot be read or validated; the message names file and field."""


class CompoundSelection(BaseModel):
    """Which compounds of the dataset to run. Filters combine (AND); no filter = all."""

    model_config = _STRICT

    names: list[str] | None = Field(default=None, description="Explicit compound names.")
    halides: list[Literal["F", "Cl", "Br", "I"]] | None = Field(
        default=None, description="Keep these X-site halides."
    )
    sigma_min: float | None = Field(default=None, description="Keep reference σ^A ≥ this.")
    sigma_max: float | None = Field(default=None, description="Keep reference σ^A ≤ this.")
    spread_per_halide: int | None = Field(
        default=None,
        ge=1,
        le=8,
        description=(
            "Pick this many compounds per halide, spread over the σ^A classes (Cs on the A site, "
            "the compound nearest each class centre, classes cycled per halide)."
        ),
    )
    limit: int | None = Field(default=None, ge=1, description="At most this many (in order).")


class ProtocolSpec(BaseModel):
    """A protocol preset plus overrides (nested dict merged into the preset)."""

    model_config = _STRICT

    preset: Literal["reference", "demo"] = Field(
        default="reference", description="'reference' (the study's) or 'demo' (reduced)."
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="E.g. {md: {production_steps: 5000}, n_md_runs: 1}."
    )

    def build(self) -> Protocol:
        """The protocol this spec describes.

        Returns
        -------
        Protocol

        Raises
        ------
        StudySpecError
            For overrides that name unknown fields or invalid values.
        """
        base = _PRESETS[self.preset].model_dump()
        merged = _deep_merge(base, self.overrides, path="protocol.overrides")
        try:
            return Protocol.model_validate(merged)
        except ValidationError as exc:
            raise StudySpecError(f"invalid protocol overrides: {exc}") from exc


class Resources(BaseModel):
    """Where and how the model jobs run."""

    model_config = _STRICT

    device: str = Field(default="auto", description="Torch device for model jobs.")
    batch_size: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Structures per forward pass (default: as many as the batch memory budget holds, "
            "setting batch_memory_gb)."
        ),
    )
    md_backend: Literal["ase", "torchsim"] = Field(
        default="ase",
        description=(
            "'ase': one supervised MD job per run; 'torchsim': per model, one batched MD job "
            "holding every compound's runs (MACE models, Andersen; needs the 'gpu' extra)."
        ),
    )
    md_batch_size: int | None = Field(
        default=None,
        ge=1,
        description="With md_backend 'torchsim': MD runs integrated together (default: all).",
    )
    gpu_category: str = Field(default="gpu", description="FireWorks category of model-heavy jobs.")
    cpu_category: str = Field(default="cpu", description="FireWorks category of light jobs.")


class StudySpec(BaseModel):
    """A benchmark study: dataset × compound selection × models × protocol × resources."""

    model_config = _STRICT

    name: str = Field(description="Study name (used in flow and workflow names).")
    dataset: str = Field(
        default="hdp-chemmater-2022", description="Reference dataset id in the references store."
    )
    import_bundled: bool = Field(
        default=True,
        description="Import the bundled reference table first when the dataset is that table.",
    )
    compounds: CompoundSelection = Field(default_factory=CompoundSelection)
    models: list[str] = Field(min_length=1, description="Model names or checkpoint paths.")
    protocol: ProtocolSpec = Field(default_factory=ProtocolSpec)
    resources: Resources = Field(default_factory=Resources)

    @model_validator(mode="after")
    def _unique_models(self) -> StudySpec:
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"models listed twice: {self.models}")
        return self

    @classmethod
    def from_yaml(cls, path: str | Path) -> StudySpec:
        """Read and validate a study file.

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        StudySpec

        Raises
        ------
        StudySpecError
            Naming the file and the offending field.
        """
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise StudySpecError(f"cannot read study file {path}: {exc}") from exc
        except yaml.YAMLError as exc:
            raise StudySpecError(f"{path} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise StudySpecError(f"{path}: expected a mapping at the top level")
        try:
            spec = cls.model_validate(data)
            spec.protocol.build()
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise StudySpecError(f"{path}: {problems}") from exc
        except StudySpecError as exc:
            raise StudySpecError(f"{path}: {exc}") from exc
        return spec


def _deep_merge(base: dict[str, Any], overrides: dict[str, Any], *, path: str) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if key not in merged:
            raise StudySpecError(f"{path}.{key}: no such protocol field")
        if isinstance(value, dict) and isinstance(merged[key], dict):
            merged[key] = _deep_merge(merged[key], value, path=f"{path}.{key}")
        else:
            merged[key] = value
    return merged


def select_compounds(
    selection: CompoundSelection, references: Sequence[dict[str, Any]]
) -> list[str]:
    """Apply a selection to reference documents.

    Parameters
    ----------
    selection : CompoundSelection
    references : sequence of dict
        Reference documents with at least ``compound``, ``halide`` and ``sigma_300K``.

    Returns
    -------
    list of str
        Compound names, in the order of ``selection.names`` when given, else sorted by name
        (spread selections: by halide, then class).

    Raises
    ------
    StudySpecError
        When explicitly named compounds are not in the dataset.
    """
    by_name = {doc["compound"]: doc for doc in references}
    if selection.names is not None:
        missing = [name for name in selection.names if name not in by_name]
        if missing:
            raise StudySpecError(f"compounds not in the dataset: {', '.join(missing)}")
        candidates = [by_name[name] for name in selection.names]
    else:
        candidates = sorted(by_name.values(), key=lambda doc: doc["compound"])

    def keep(doc: dict[str, Any]) -> bool:
        sigma = doc.get("sigma_300K")
        if selection.halides is not None and doc.get("halide") not in selection.halides:
            return False
        if selection.sigma_min is not None and (sigma is None or sigma < selection.sigma_min):
            return False
        return not (
            selection.sigma_max is not None and (sigma is None or sigma > selection.sigma_max)
        )

    kept = [doc for doc in candidates if keep(doc)]
    if selection.spread_per_halide is not None:
        kept = _spread(kept, selection.spread_per_halide)
    names = [doc["compound"] for doc in kept]
    return names[: selection.limit] if selection.limit is not None else names


def _spread(docs: list[dict[str, Any]], per_halide: int) -> list[dict[str, Any]]:
    """Per halide, the Cs-based compounds nearest successive class centres."""
    from latticebench.structures import parse_compound

    chosen: list[dict[str, Any]] = []
    for h_index, halide in enumerate(("F", "Cl", "Br", "I")):
        pool = [
            doc
            for doc in docs
            if doc.get("halide") == halide
            and doc.get("sigma_300K") is not None
            and parse_compound(doc["compound"]).A == "Cs"
        ]
        picked: list[dict[str, Any]] = []
        for k in range(per_halide):
            target = _CLASS_TARGETS[(2 * h_index + k) % len(_CLASS_TARGETS)]
            remaining = [doc for doc in pool if doc not in picked]
            if not remaining:
                break
            picked.append(
                min(remaining, key=lambda d: (abs(d["sigma_300K"] - target), d["compound"]))
            )
        chosen.extend(picked)
    return chosen


DEMO_STUDY = StudySpec(
    name="demo",
    compounds=CompoundSelection(spread_per_halide=2),
    models=["chgnet-0.3.0"],
    protocol=ProtocolSpec(preset="demo"),
)
"""The offline demo: 8 compounds (2 per halide, spread over the σ^A classes) × CHGNet 0.3.0
(weights ship with chgnet) × the reduced demo protocol; ``workflows/demo.yaml`` is this study."""
