"""Batched static evaluation (energies and forces) of many structures through torch-sim."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch_sim as ts
from ase import Atoms

from latticebench.models.loaded import Predictions

if TYPE_CHECKING:
    from torch_sim.models.interface import ModelInterface

__all__ = ["predict_batched"]


def predict_batched(
    model: ModelInterface, structures: Sequence[Atoms], *, batch_size: int | None = None
) -> Predictions:
    """Energies and forces of many structures, ``batch_size`` structures per model call.

    Parameters
    ----------
    model : torch_sim.models.interface.ModelInterface
        E.g. :func:`latticebench.torchsim.torchsim_model` of a loaded MACE model.
    structures : sequence of ase.Atoms
        Any sizes and compositions; positions may lie outside the cell.
    batch_size : int or None
        Structures per call; None evaluates all of them in one call.

    Returns
    -------
    Predictions
        Energies in eV, shape (n_structures,); forces in eV/Å, one (N_i, 3) float64 array per
        structure, in input order.
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if not structures:
        return Predictions(np.zeros(0), [])
    step = batch_size or len(structures)
    energies: list[float] = []
    forces: list[np.ndarray] = []
    for start in range(0, len(structures), step):
        chunk = list(structures[start : start + step])
        state = ts.initialize_state(chunk, model.device, model.dtype)
        out = model(state)  # forces come from autograd: no torch.no_grad() here
        energy = out["energy"].detach().to(torch.float64).cpu().numpy()
        force = out["forces"].detach().to(torch.float64).cpu().numpy()
        bounds = np.cumsum([0] + [len(atoms) for atoms in chunk])
        energies.extend(float(e) for e in energy)
        forces.extend(force[bounds[i] : bounds[i + 1]].copy() for i in range(len(chunk)))
    return Predictions(np.array(energies), forces)
