"""A real (tiny) MACE checkpoint that returns NaN forces on chosen forward passes.

The model is the session's tiny ``ScaleShiftMACE`` with its class swapped for a subclass whose
``forward`` counts calls; it is saved with ``torch.save`` and loaded through the model registry
by path like any checkpoint, so the MD job under test is the production code path.
"""

from __future__ import annotations

from pathlib import Path

from mace.modules import ScaleShiftMACE


class FaultyMACE(ScaleShiftMACE):
    """ScaleShiftMACE whose forces are NaN on the forward passes numbered in ``nan_calls``
    (1-based, counted per loaded instance), or on every pass when ``always_nan``."""

    def forward(self, *args, **kwargs):
        output = super().forward(*args, **kwargs)
        self.n_calls = getattr(self, "n_calls", 0) + 1
        if self.always_nan or self.n_calls in self.nan_calls:
            output["forces"] = output["forces"] * float("nan")
        return output


def write_faulty_mace(
    tiny_model: Path, target: Path, *, nan_calls=(), always_nan: bool = False
) -> Path:
    """Copy the tiny MACE checkpoint to ``target`` as a :class:`FaultyMACE`."""
    import torch

    model = torch.load(tiny_model, weights_only=False)
    model.__class__ = FaultyMACE
    model.nan_calls = set(nan_calls)
    model.always_nan = always_nan
    model.n_calls = 0
    torch.save(model, target)
    return target
