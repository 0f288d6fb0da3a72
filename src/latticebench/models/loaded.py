"""A loaded model: an ASE calculator factory plus batched prediction, with its provenance."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from latticebench.models import batching
from latticebench.models.record import ModelRecord
from latticebench.settings import get_settings

__all__ = ["LoadedModel", "Predictions"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Predictions:
    """Energies and forces of a batch of structures.

    Attributes
    ----------
    energies : np.ndarray
        Total energies in eV, shape (n_structures,).
    forces : list of np.ndarray
        Forces in eV/Å, one array of shape (n_atoms_i, 3) per structure.
    """

    energies: np.ndarray
    forces: list[np.ndarray]

    def stacked_forces(self) -> np.ndarray:
        """Forces as one array of shape (n_structures, n_atoms, 3) (equal sizes required)."""
        return np.stack(self.forces)


class LoadedModel(ABC):
    """A model loaded once per process; hand out calculators and evaluate batches.

    Attributes
    ----------
    record : ModelRecord
        Provenance of the weights, dtype and device.
    """

    record: ModelRecord

    @property
    def cutoff(self) -> float:
        """Radius (Å) within which neighbours are edges of the model's graph."""
        raise NotImplementedError(f"{type(self).__name__} does not batch by memory")

    @property
    def bytes_per_edge(self) -> float:
        """Memory (bytes) one edge needs in a forward and backward pass on the CPU.

        The estimate :meth:`chunks` starts from; on CUDA it is replaced by the value measured
        on the first chunk. Each family documents how its figure was measured.
        """
        raise NotImplementedError(f"{type(self).__name__} does not batch by memory")

    def chunks(
        self, structures: Sequence[Atoms], batch_size: int | None = None
    ) -> Iterator[tuple[int, int]]:
        """Consecutive groups of structures to evaluate in one forward pass each.

        With ``batch_size`` given, chunks of that many structures. Without it, chunks sized
        from the memory budget (:func:`latticebench.models.batching.memory_budget`): a
        structure is estimated at ``edges within cutoff × bytes per edge``, and a chunk holds
        consecutive structures while their estimates sum to at most the budget. A structure
        over the budget on its own still runs, alone, and a warning is logged.

        On CUDA, the peak memory torch allocates while the caller evaluates a chunk (between
        two steps of this iterator) is measured, divided by the chunk's edges, and the rest is
        sized from it (the largest value measured so far on this model is kept for later
        calls). On CPU the family's :attr:`bytes_per_edge` is used throughout.

        Parameters
        ----------
        structures : sequence of ase.Atoms
        batch_size : int or None
            Structures per forward pass; None = from the memory budget.

        Yields
        ------
        (int, int)
            ``start, stop`` indices of the next chunk; the chunks cover the structures in
            order.
        """
        if batch_size is not None:
            yield from batching.fixed_chunks(len(structures), int(batch_size))
            return
        if not structures:
            return
        device = self.record.device
        edges = batching.edge_counts(structures, self.cutoff).astype(float)
        budget = batching.memory_budget(device)
        meter = batching.CudaPeakMemory(device) if device.startswith("cuda") else None
        per_edge = self._measured_bytes_per_edge() or self.bytes_per_edge
        too_large = batching.oversized(edges * per_edge, budget)
        if too_large.size:
            # on the CPU with the default budget, one large cell per pass is the plan (batching
            # them buys no speed there); otherwise the user's or the GPU's budget is too small
            default_cpu = device == "cpu" and get_settings().batch_memory_gb is None
            logger.log(
                logging.INFO if default_cpu else logging.WARNING,
                "%d structure(s) need more than the batch memory budget of %.3g GB on their "
                "own (largest: %.3g GB); each runs alone",
                too_large.size,
                budget / 1e9,
                edges[too_large].max() * per_edge / 1e9,
            )
        start = 0
        while start < len(structures):
            per_edge = self._measured_bytes_per_edge() or self.bytes_per_edge
            stop = batching.chunk_end(edges, start, budget / per_edge)
            if meter is not None:
                meter.start()
            yield start, stop
            if meter is not None:
                measured = meter.peak_bytes() / max(edges[start:stop].sum(), 1.0)
                self._record_bytes_per_edge(measured)
            start = stop

    def _measured_bytes_per_edge(self) -> float | None:
        return getattr(self, "_peak_bytes_per_edge", None)

    def _record_bytes_per_edge(self, value: float) -> None:
        previous = self._measured_bytes_per_edge()
        if value > 0:
            self._peak_bytes_per_edge = value if previous is None else max(previous, value)

    @abstractmethod
    def calculator(self) -> Calculator:
        """Return an ASE calculator that shares this model's weights (no reload)."""

    def predict(self, structures: Sequence[Atoms], batch_size: int | None = None) -> Predictions:
        """Energies and forces of many structures.

        The default evaluates one structure at a time through :meth:`calculator`; families
        with a batched forward pass override it.

        Parameters
        ----------
        structures : sequence of ase.Atoms
        batch_size : int or None
            Structures evaluated together in one forward pass (where supported); None = sized
            from the memory budget (:meth:`chunks`).

        Returns
        -------
        Predictions
        """
        calc = self.calculator()
        energies, forces = [], []
        for atoms in structures:
            work = atoms.copy()
            work.calc = calc
            energies.append(work.get_potential_energy())
            forces.append(np.array(work.get_forces(), dtype=float))
        return Predictions(np.array(energies, dtype=float), forces)
