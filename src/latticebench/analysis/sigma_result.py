"""The resolved anharmonicity score of one trajectory as an immutable value object."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latticebench.analysis._types import SigmaForm
from latticebench.analysis._validation import check_form

__all__ = ["SigmaResult"]


@dataclass(frozen=True, eq=False)
class SigmaResult:
    """σ^A of one trajectory and its resolved forms, all in the same ``form``.

    Attributes
    ----------
    value : float
        Structural σ^A over all frames, atoms and Cartesian components (dimensionless).
    form : {"rms", "std"}
        Definition used for every number in this object: ``"rms"`` = √ΣF^A² / √ΣF² (Knoop et
        al. 2020), ``"std"`` = std(F^A) / std(F) (mean-subtracted, the reference study's code).
    n_frames : int
        Number of frames.
    n_atoms : int
        Atoms per frame.
    per_frame : numpy.ndarray, shape (n_frames,)
        σ^A(t) of every frame (NaN where all forces of a frame vanish).
    by_label : dict of str to dict of str to float
        σ^A restricted to the atoms of each label, per labelling; by convention the labellings
        ``"element"`` (chemical symbols) and ``"site"`` (Wyckoff/site labels).
    mode_frequencies_thz : numpy.ndarray or None, shape (3N,)
        Supercell mode frequencies, THz (imaginary negative), when modes were given.
    mode_sigma : numpy.ndarray or None, shape (3N,)
        σ^A_s per mode (NaN for the three rigid translations).
    standard_error : float or None
        Block-averaging standard error of ``value``; None with fewer frames than blocks.
    n_blocks : int
        Number of contiguous time blocks used for ``standard_error``.
    """

    value: float
    form: SigmaForm
    n_frames: int
    n_atoms: int
    per_frame: np.ndarray
    by_label: dict[str, dict[str, float]] = field(default_factory=dict)
    mode_frequencies_thz: np.ndarray | None = None
    mode_sigma: np.ndarray | None = None
    standard_error: float | None = None
    n_blocks: int = 5

    def __post_init__(self) -> None:
        check_form(self.form)
        per_frame = _frozen_array(self.per_frame)
        if per_frame.shape != (self.n_frames,):
            raise ValueError(f"per_frame must have shape ({self.n_frames},), got {per_frame.shape}")
        object.__setattr__(self, "per_frame", per_frame)
        if (self.mode_frequencies_thz is None) != (self.mode_sigma is None):
            raise ValueError("mode_frequencies_thz and mode_sigma must be given together")
        if self.mode_sigma is not None:
            frequencies = _frozen_array(self.mode_frequencies_thz)
            sigma = _frozen_array(self.mode_sigma)
            if frequencies.shape != sigma.shape or frequencies.shape != (3 * self.n_atoms,):
                raise ValueError(
                    f"mode_frequencies_thz and mode_sigma must both have shape "
                    f"({3 * self.n_atoms},), got {frequencies.shape} and {sigma.shape}"
                )
            object.__setattr__(self, "mode_frequencies_thz", frequencies)
            object.__setattr__(self, "mode_sigma", sigma)
        by_label = {
            str(name): {str(k): float(v) for k, v in values.items()}
            for name, values in self.by_label.items()
        }
        object.__setattr__(self, "by_label", by_label)

    @property
    def by_element(self) -> dict[str, float] | None:
        """σ^A per chemical element (the ``"element"`` labelling), or None."""
        return self.by_label.get("element")

    @property
    def by_site(self) -> dict[str, float] | None:
        """σ^A per site (the ``"site"`` labelling), or None."""
        return self.by_label.get("site")

    @property
    def per_mode(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(mode_frequencies_thz, mode_sigma)``, both shape (3N,), or None without modes."""
        if self.mode_sigma is None:
            return None
        return self.mode_frequencies_thz, self.mode_sigma

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (lists and floats; NaN becomes None)."""
        return {
            "value": _plain(self.value),
            "form": self.form,
            "n_frames": int(self.n_frames),
            "n_atoms": int(self.n_atoms),
            "per_frame": _plain_list(self.per_frame),
            "by_label": {
                name: {label: _plain(v) for label, v in values.items()}
                for name, values in self.by_label.items()
            },
            "mode_frequencies_thz": _plain_list(self.mode_frequencies_thz),
            "mode_sigma": _plain_list(self.mode_sigma),
            "standard_error": _plain(self.standard_error),
            "n_blocks": int(self.n_blocks),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SigmaResult:
        """Rebuild a result from :meth:`to_dict` output (None becomes NaN in arrays)."""

        def array(values: Any) -> np.ndarray | None:
            if values is None:
                return None
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

        value = data["value"]
        return cls(
            value=math.nan if value is None else float(value),
            form=data["form"],
            n_frames=int(data["n_frames"]),
            n_atoms=int(data["n_atoms"]),
            per_frame=array(data["per_frame"]),
            by_label={
                name: {k: math.nan if v is None else v for k, v in values.items()}
                for name, values in data.get("by_label", {}).items()
            },
            mode_frequencies_thz=array(data.get("mode_frequencies_thz")),
            mode_sigma=array(data.get("mode_sigma")),
            standard_error=data.get("standard_error"),
            n_blocks=int(data.get("n_blocks", 5)),
        )


def _frozen_array(values: Any) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


def _plain(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _plain_list(values: np.ndarray | None) -> list[float | None] | None:
    if values is None:
        return None
    return [_plain(v) for v in values.tolist()]
