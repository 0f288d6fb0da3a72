"""Models as torch-sim ``ModelInterface`` objects: loaded MACE models and a harmonic model."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch_sim.models.interface import ModelInterface

from latticebench.analysis import force_constants_matrix
from latticebench.models.mace_backend import preserve_torch_default_dtype

if TYPE_CHECKING:
    from torch_sim.state import SimState

    from latticebench.models import LoadedModel

__all__ = ["SYSTEM_ID", "HarmonicModel", "HarmonicReference", "torchsim_model"]

SYSTEM_ID = "latticebench_system_id"
"""Name of the per-system extra (long tensor, shape (n_systems,)) that tells a model which of
its reference systems each system of a batched state is; set by :class:`BatchedMDRun`."""

_WRAPPED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def torchsim_model(loaded: LoadedModel, *, compute_stress: bool = False) -> ModelInterface:
    """The torch-sim model of a loaded MACE model, sharing its weights (no reload).

    Parameters
    ----------
    loaded : LoadedModel
        A MACE model from :func:`latticebench.models.load_model` (any dtype and device).
    compute_stress : bool
        Also return stresses (NVT MD and static forces do not need them).

    Returns
    -------
    torch_sim.models.interface.ModelInterface
        mace-torch's own torch-sim wrapper on the loaded module, in the loaded dtype and on the
        loaded device; the same object for the same loaded model and ``compute_stress``.

    Raises
    ------
    ValueError
        For model families torch-sim cannot run here (CHGNet: use the ASE backend).
    TorchSimUnavailableError
        When torch-sim is not installed.
    """
    family = loaded.record.family
    if family != "mace":
        raise ValueError(
            f"the torch-sim backend runs MACE models; {loaded.record.name!r} is a {family} "
            "model: use the ASE MD backend (md_backend='ase') for it"
        )
    cached = _WRAPPED.get(loaded, {})
    if compute_stress in cached:
        return cached[compute_stress]
    from torch_sim.models.mace import MaceModel as TorchSimMace

    with preserve_torch_default_dtype():
        wrapped = TorchSimMace(
            loaded.torch_module,  # type: ignore[attr-defined]
            device=torch.device(loaded.record.device),
            dtype=getattr(torch, loaded.record.dtype),
            compute_forces=True,
            compute_stress=compute_stress,
            **({"head": loaded.record.head} if loaded.record.head else {}),
        )
    _WRAPPED.setdefault(loaded, {})[compute_stress] = wrapped
    return wrapped


@dataclass(frozen=True)
class HarmonicReference:
    """The harmonic potential of one system.

    Attributes
    ----------
    positions : np.ndarray
        Equilibrium positions R⁰ in Å, shape (N, 3).
    cell : np.ndarray
        Lattice vectors as rows in Å, shape (3, 3).
    force_constants : np.ndarray
        Full Φ in eV/Å², shape (N, N, 3, 3) (phonopy's layout, as everywhere in latticebench),
        symmetric.
    """

    positions: np.ndarray
    cell: np.ndarray
    force_constants: np.ndarray


class HarmonicModel(ModelInterface):
    """A batched harmonic model: E = ½ uᵀΦu and F = −Φu per system.

    u is the minimum-image displacement of each atom from its reference position. Systems of a
    batched state are matched to ``references`` through the per-system extra
    :data:`SYSTEM_ID` when present (set by :class:`BatchedMDRun`), else by their order.
    With the same Φ as the σ^A analysis it gives F^A = F − F^harm = 0, i.e. σ^A = 0: the
    end-to-end check of batched MD and its fan-out.

    Parameters
    ----------
    references : sequence of HarmonicReference
        One per system.
    device : str
        Torch device.
    dtype : {"float64", "float32"}

    Raises
    ------
    ValueError
        For no references, or force constants that do not fit or are not symmetric.
    """

    def __init__(
        self,
        references: Sequence[HarmonicReference],
        *,
        device: str = "cpu",
        dtype: str = "float64",
    ) -> None:
        super().__init__()
        if not references:
            raise ValueError("HarmonicModel needs at least one reference system")
        self._device = torch.device(device)
        self._dtype = getattr(torch, dtype)
        self._compute_forces = True
        self._compute_stress = False
        self._memory_scales_with = "n_atoms"
        self._references: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        for index, reference in enumerate(references):
            n = len(reference.positions)
            try:
                phi = force_constants_matrix(reference.force_constants)
            except ValueError as exc:
                raise ValueError(f"reference {index}: {exc}") from exc
            if phi.shape != (3 * n, 3 * n):
                raise ValueError(
                    f"reference {index}: force constants for {phi.shape[0] // 3} atoms do not "
                    f"fit {n} atoms"
                )
            if not np.allclose(phi, phi.T, rtol=0, atol=1e-10 * max(1.0, np.abs(phi).max())):
                raise ValueError(f"reference {index}: force constants are not symmetric")
            r0, cell, matrix = (
                torch.as_tensor(np.asarray(a, dtype=float), device=self._device).to(self._dtype)
                for a in (reference.positions, reference.cell, phi)
            )
            self._references.append((r0, cell, matrix))

    def forward(self, state: SimState, **_: Any) -> dict[str, torch.Tensor]:
        """Energies (eV, shape (n_systems,)) and forces (eV/Å, shape (n_atoms, 3))."""
        positions = state.positions.to(self._device, self._dtype)
        counts = torch.bincount(state.system_idx, minlength=state.n_systems).tolist()
        ids = (
            state.system_extras[SYSTEM_ID].tolist()
            if SYSTEM_ID in state.system_extras
            else list(range(state.n_systems))
        )
        energies, forces = [], []
        for chunk, system_id in zip(torch.split(positions, counts), ids, strict=True):
            r0, cell, phi = self._references[int(system_id)]
            if chunk.shape != r0.shape:
                raise ValueError(
                    f"system {system_id} has {len(chunk)} atoms, its reference {len(r0)}"
                )
            fractional = torch.linalg.solve(cell.T, (chunk - r0).T).T
            u = ((fractional - torch.round(fractional)) @ cell).reshape(-1)
            phi_u = phi @ u
            energies.append(0.5 * torch.dot(u, phi_u))
            forces.append(-phi_u.reshape(-1, 3))
        return {"energy": torch.stack(energies), "forces": torch.cat(forces)}
