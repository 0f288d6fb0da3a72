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
    (1-based, counted per loaded instance), on every pass when ``always_nan``, or on every pass
    while its weights are in ``nan_dtype`` (e.g. "float32": the MD, not the float64 relaxation)."""

    def forward(self, *args, **kwargs):
        output = super().forward(*args, **kwargs)
        self.n_calls = getattr(self, "n_calls", 0) + 1
        dtype = str(next(self.parameters()).dtype).removeprefix("torch.")
        if self.always_nan or self.n_calls in self.nan_calls or dtype == self.nan_dtype:
            output["forces"] = output["forces"] * float("nan")
        return output


def write_faulty_mace(
    tiny_model: Path,
    target: Path,
    *,
    nan_calls=(),
    always_nan: bool = False,
    nan_dtype: str | None = None,
) -> Path:
    """Copy the tiny MACE checkpoint to ``target`` as a :class:`FaultyMACE`."""
    import torch

    model = torch.load(tiny_model, weights_only=False)
    model.__class__ = FaultyMACE
    model.nan_calls = set(nan_calls)
    model.always_nan = always_nan
    model.nan_dtype = nan_dtype
    model.n_calls = 0
    torch.save(model, target)
    return target
