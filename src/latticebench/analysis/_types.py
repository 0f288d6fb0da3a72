"""Type aliases shared by the analysis modules."""

from __future__ import annotations

from typing import Literal

SigmaForm = Literal["rms", "std"]
"""Which σ^A definition: ``"rms"`` (Knoop et al. 2020) or ``"std"`` (mean-subtracted)."""
