"""MACE models: loading with a dtype guard, and batched forces through mace's own data path."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version

import numpy as np
from ase import Atoms

from latticebench.models.checkpoints import ResolvedCheckpoint, sha256_file
from latticebench.models.loaded import LoadedModel, Predictions
from latticebench.models.record import ModelRecord

__all__ = ["MaceModel", "ModelLoadError", "preserve_torch_default_dtype"]

# Memory per edge of a MACE energy-and-forces pass, in numbers of the model's dtype:
# MACE_NUMBERS_PER_WIDTH × message width + MACE_NUMBERS_PER_EDGE. Measured with
# benchmarks/calibrate_batch_memory.py (2 CPU cores, torch 2.14 CPU, mace-torch 0.3.16) on
# random-weight models (build_random_mace: max_ell=2, 2 interactions, r_max 5 Å): peak-RSS
# growth of one pass over one rattled 320-atom Cs2AgBiBr6 supercell (3,840 edges), divided by
# the edges and the dtype's size:
#   channels 8 (width 240), float64:    52 MB ->  1,700 numbers/edge
#   channels 64 (width 1,920), float64: 224 MB -> 7,290;  float32: 119 MB -> 7,770
#   channels 128 (width 3,840), float64: 499 MB -> 16,250
# A single structure is the costliest case per edge: batches of 2 and 4 grow less than in
# proportion (128 channels: 793 and 1,349 MB, a fixed cost of about 220 MB per pass), so the
# fit to the single-structure figures, 4 × width + 800, errs on the safe side for batches.
MACE_NUMBERS_PER_WIDTH = 4.0
MACE_NUMBERS_PER_EDGE = 800.0
MACE_FALLBACK_WIDTH = 1920


class ModelLoadError(RuntimeError):
    """A checkpoint exists but cannot be loaded as the model family it should be."""


@contextmanager
def preserve_torch_default_dtype() -> Iterator[None]:
    """Restore torch's global default dtype on exit, also when the body raises.

    MACE (like several MLIP packages) changes ``torch.get_default_dtype()`` while loading;
    without this guard a float64 load would silently turn later float32 code into float64.
    """
    import torch

    saved = torch.get_default_dtype()
    try:
        yield
    finally:
        torch.set_default_dtype(saved)


class MaceModel(LoadedModel):
    """A MACE checkpoint loaded on one device in one floating-point type.

    Parameters
    ----------
    checkpoint : ResolvedCheckpoint
    device : str
        Torch device string.
    dtype : {"float64", "float32"}
    head : str, optional
        Output head for multi-head models (default: the model's default head).
    """

    def __init__(
        self, checkpoint: ResolvedCheckpoint, device: str, dtype: str, head: str | None = None
    ) -> None:
        import mace.calculators  # noqa: F401  # mace must be imported before e3nn
        from mace.calculators import MACECalculator

        with preserve_torch_default_dtype():
            try:
                calc = MACECalculator(
                    model_paths=str(checkpoint.path),
                    device=device,
                    default_dtype=dtype,
                    **({"head": head} if head else {}),
                )
            except Exception as exc:
                raise ModelLoadError(
                    f"could not load {checkpoint.path} as a MACE model: {type(exc).__name__}: {exc}"
                ) from exc
        self._calc = calc
        self._model = calc.models[0]
        self._device = device
        self._dtype = dtype
        self._head = calc.head if isinstance(calc.head, str) else None
        self.record = ModelRecord(
            name=checkpoint.name,
            family="mace",
            package="mace-torch",
            package_version=version("mace-torch"),
            checkpoint_path=str(checkpoint.path),
            checkpoint_sha256=sha256_file(checkpoint.path),
            source=checkpoint.source,
            dtype=dtype,  # type: ignore[arg-type]
            device=str(calc.device),
            head=self._head,
            license=checkpoint.spec.license if checkpoint.spec else None,
        )

    @property
    def cutoff(self) -> float:
        """Radial cutoff of the model in Å."""
        return float(self._calc.r_max)

    @property
    def message_width(self) -> int | None:
        """Numbers per edge in the messages of all interaction layers together.

        The sum over interaction blocks of the dimension of the edge tensor product's output
        (``conv_tp.irreps_out``): e.g. 1,920 for 64 channels with ``max_ell=2`` and two
        interactions. None when the model has no such blocks.
        """
        try:
            return int(sum(block.conv_tp.irreps_out.dim for block in self._model.interactions))
        except (AttributeError, TypeError):
            return None

    @property
    def bytes_per_edge(self) -> float:
        """Memory (bytes) per edge of a forward and backward pass, estimated from the model size.

        ``itemsize × (MACE_NUMBERS_PER_WIDTH × message_width + MACE_NUMBERS_PER_EDGE)``, fitted
        to the peak-RSS growth of CPU evaluations of 320-atom Cs2AgBiBr6 supercells
        (``benchmarks/calibrate_batch_memory.py``; numbers in the constants' comments). A
        model without ``conv_tp`` blocks counts as 64 channels, ``max_ell=2``.
        """
        itemsize = 8 if self._dtype == "float64" else 4
        width = self.message_width or MACE_FALLBACK_WIDTH
        return float(itemsize * (MACE_NUMBERS_PER_WIDTH * width + MACE_NUMBERS_PER_EDGE))

    @property
    def torch_module(self):
        """The loaded MACE ``torch.nn.Module`` (shared by calculators and batched backends)."""
        return self._model

    def calculator(self):
        """Return a MACECalculator sharing this model's weights.

        Returns
        -------
        mace.calculators.MACECalculator
        """
        from mace.calculators import MACECalculator

        with preserve_torch_default_dtype():
            return MACECalculator(
                models=self._model,
                device=self._device,
                default_dtype=self._dtype,
                **({"head": self._head} if self._head else {}),
            )

    def predict(self, structures: Sequence[Atoms], batch_size: int | None = None) -> Predictions:
        """Energies and forces of many structures, ``batch_size`` graphs per forward pass.

        Parameters
        ----------
        structures : sequence of ase.Atoms
        batch_size : int or None
            Graphs per forward pass; None = as many as the memory budget holds
            (:meth:`~latticebench.models.LoadedModel.chunks`).

        Returns
        -------
        Predictions
            Energies in eV, forces in eV/Å (float64 arrays whatever the model dtype).
        """
        import torch
        from mace import data as mace_data
        from mace.tools import torch_geometric, torch_tools

        calc = self._calc
        keyspec = mace_data.KeySpecification(info_keys={}, arrays_keys={})
        energies: list[float] = []
        forces: list[np.ndarray] = []
        with preserve_torch_default_dtype(), torch_tools.default_dtype(self._dtype):
            for start, stop in self.chunks(structures, batch_size):
                chunk = structures[start:stop]
                graphs = [
                    mace_data.AtomicData.from_config(
                        mace_data.config_from_atoms(
                            atoms, key_specification=keyspec, head_name=calc.head
                        ),
                        z_table=calc.z_table,
                        cutoff=calc.r_max,
                        heads=calc.available_heads,
                    )
                    for atoms in chunk
                ]
                batch = torch_geometric.Batch.from_data_list(graphs).to(calc.device)
                out = self._model(batch.to_dict(), compute_stress=False, training=False)
                energy = out["energy"].detach().to(torch.float64).cpu().numpy()
                force = out["forces"].detach().to(torch.float64).cpu().numpy()
                ptr = batch.ptr.cpu().numpy()
                energies.extend(float(e) for e in energy)
                forces.extend(force[ptr[i] : ptr[i + 1]].copy() for i in range(len(chunk)))
        return Predictions(np.array(energies), forces)
