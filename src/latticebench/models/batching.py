"""Batches sized from a memory budget: edge counts, a budget in bytes, chunk boundaries.

The memory a message-passing MLIP needs to evaluate energies and forces of a structure grows
with the number of neighbour pairs (directed edges) within its cutoff: every interaction layer
keeps per-edge messages for the backward pass. A structure's estimate is therefore

    bytes = edges within the model cutoff × bytes per edge of the model,

and consecutive structures are grouped into one forward pass while the sum of their estimates
stays within the budget (:func:`plan_chunks`). The bytes per edge of each model family are
documented where they are defined (``bytes_per_edge`` of the backends); on CUDA they are
measured on the first chunk (:class:`CudaPeakMemory`).

The budget (:func:`memory_budget`) is ``batch_memory_gb`` from the settings
(``LATTICEBENCH_BATCH_MEMORY_GB``) when set, else :func:`default_budget`:

* CUDA: half of what the device has free (``torch.cuda.mem_get_info``) plus what torch's
  caching allocator holds unused;
* CPU: half of the available RAM (``MemAvailable`` of ``/proc/meminfo``), capped at
  :data:`CPU_BUDGET_CAP_BYTES` = 0.5 GB, which holds one 320-atom Cs2AgBiBr6 supercell of
  CHGNet or of a 64-channel float64 MACE (estimated 0.29 and 0.26 GB) and three in float32.

Why the CPU cap: on CPU, batching large cells buys no speed, only memory. With
``benchmarks/bench_batching.py --batch-size 8 --threads 1`` (2 shared cores), the time one
at a time divided by the time 8 per pass was 0.3-1.2 for 320-atom supercells (CHGNet, MACE-64
float32 and float64, rescoring and phonons; noise of the shared machine included; above 1
would mean batching is faster), while the peak memory grew from 0.14-0.34 GB to 1.0-2.4 GB
for 8 per pass. Small cells do gain: 40-atom cells 8 per pass took
41 instead of 59 ms each with CHGNet, 43 instead of 60 ms with MACE-64 float32 (float64: no
change); at about 30-35 MB each, a dozen of them share a pass within the cap.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

__all__ = [
    "BUDGET_FRACTION",
    "CPU_BUDGET_CAP_BYTES",
    "CudaPeakMemory",
    "available_memory",
    "chunk_end",
    "count_edges",
    "default_budget",
    "edge_counts",
    "fixed_chunks",
    "memory_budget",
    "oversized",
    "plan_chunks",
]

logger = logging.getLogger(__name__)

BUDGET_FRACTION = 0.5
"""Share of the free memory of the device that the default budget uses."""

CPU_BUDGET_CAP_BYTES = 500_000_000
"""Upper bound of the default CPU budget (bytes): one 320-atom supercell per pass for CHGNet."""


def available_memory(device: str) -> int:
    """Memory the device can still give to a forward pass.

    Parameters
    ----------
    device : str
        Torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``...).

    Returns
    -------
    int
        Bytes. CUDA: free device memory plus memory reserved by torch's caching allocator but
        not allocated to tensors. CPU: ``MemAvailable`` of ``/proc/meminfo``, else (other
        systems) free physical pages × page size.
    """
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(device)
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return int(free + cached)
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def default_budget(device: str) -> int:
    """Default batch memory budget of a device (module docstring explains the choice).

    Parameters
    ----------
    device : str
        Torch device string.

    Returns
    -------
    int
        Bytes: ``BUDGET_FRACTION`` × :func:`available_memory`, on CPU at most
        ``CPU_BUDGET_CAP_BYTES``.
    """
    budget = int(BUDGET_FRACTION * available_memory(device))
    if not device.startswith("cuda"):
        budget = min(budget, CPU_BUDGET_CAP_BYTES)
    return max(budget, 1)


def memory_budget(device: str) -> int:
    """Batch memory budget: the ``batch_memory_gb`` setting, else :func:`default_budget`.

    Parameters
    ----------
    device : str
        Torch device string.

    Returns
    -------
    int
        Bytes (1 GB = 10⁹ bytes).
    """
    from latticebench.settings import get_settings

    configured = get_settings().batch_memory_gb
    if configured is not None:
        return max(int(configured * 1e9), 1)
    return default_budget(device)


def count_edges(atoms: Atoms, cutoff: float) -> int:
    """Directed neighbour pairs within ``cutoff`` (periodic images included).

    Parameters
    ----------
    atoms : ase.Atoms
    cutoff : float
        Radius in Å.

    Returns
    -------
    int
        Number of (i, j, image) pairs with 0 < |r_ij| < cutoff; each bond counts twice, as in
        the edge lists of MACE and CHGNet.
    """
    from ase.neighborlist import neighbor_list

    return len(neighbor_list("i", atoms, float(cutoff)))


def _cell_key(atoms: Atoms) -> tuple[bytes, bytes, tuple[bool, ...]]:
    cell = np.round(np.asarray(atoms.cell, dtype=float), 2)
    return atoms.numbers.tobytes(), cell.tobytes(), tuple(bool(p) for p in atoms.pbc)


def edge_counts(structures: Sequence[Atoms], cutoff: float) -> np.ndarray:
    """Edges within ``cutoff`` of each structure, one neighbour list per distinct cell.

    Structures with the same atoms (species, in order) in the same cell (to 0.01 Å) share the
    count of the first of them: AIMD frames and displaced supercells differ from each other by
    displacements of a fraction of an ångström, which changes their edge counts by a few per
    cent (within the margin the budget leaves), while a neighbour list of a 320-atom cell costs
    tens of milliseconds, about what a GPU needs to evaluate it.

    Parameters
    ----------
    structures : sequence of ase.Atoms
    cutoff : float
        Radius in Å.

    Returns
    -------
    np.ndarray
        Edge counts, shape (n_structures,), int64.
    """
    known: dict[tuple[bytes, bytes, tuple[bool, ...]], int] = {}
    counts = np.empty(len(structures), dtype=np.int64)
    for index, atoms in enumerate(structures):
        key = _cell_key(atoms)
        if key not in known:
            known[key] = count_edges(atoms, cutoff)
        counts[index] = known[key]
    return counts


def fixed_chunks(n_structures: int, batch_size: int) -> list[tuple[int, int]]:
    """Chunks of ``batch_size`` consecutive structures (the last one possibly shorter).

    Parameters
    ----------
    n_structures : int
    batch_size : int
        At least 1.

    Returns
    -------
    list of (int, int)
        ``(start, stop)`` index pairs covering ``range(n_structures)`` in order.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    return [
        (start, min(start + batch_size, n_structures))
        for start in range(0, n_structures, batch_size)
    ]


def chunk_end(costs: Sequence[float] | np.ndarray, start: int, budget: float) -> int:
    """End of the chunk that begins at ``start``: as many structures as fit in ``budget``.

    Parameters
    ----------
    costs : sequence of float
        Memory estimate of each structure (bytes, or any unit ``budget`` shares), shape
        (n_structures,).
    start : int
        First structure of the chunk, ``0 <= start < n_structures``.
    budget : float
        What one forward pass may use, > 0, in the unit of ``costs``.

    Returns
    -------
    int
        ``stop`` > ``start``: structures ``start:stop`` sum to at most ``budget``, or
        ``stop = start + 1`` when structure ``start`` alone exceeds it.
    """
    if budget <= 0:
        raise ValueError(f"budget must be positive, got {budget}")
    total = float(costs[start])
    stop = start + 1
    while stop < len(costs) and total + float(costs[stop]) <= budget:
        total += float(costs[stop])
        stop += 1
    return stop


def plan_chunks(costs: Sequence[float] | np.ndarray, budget: float) -> list[tuple[int, int]]:
    """Group consecutive structures into as few chunks as the budget allows.

    Each chunk takes structures in order while the sum of their costs stays within
    ``budget`` (:func:`chunk_end`); a structure that alone costs more than ``budget`` gets a
    chunk of its own (it still runs; :func:`oversized` tells which ones).

    Parameters
    ----------
    costs : sequence of float
        Memory estimate of each structure in bytes, shape (n_structures,).
    budget : float
        Bytes one forward pass may use, > 0.

    Returns
    -------
    list of (int, int)
        ``(start, stop)`` index pairs covering ``range(n_structures)`` in order. For the
        order kept, greedy filling gives the fewest chunks.
    """
    if budget <= 0:
        raise ValueError(f"budget must be positive, got {budget}")
    chunks: list[tuple[int, int]] = []
    start = 0
    while start < len(costs):
        stop = chunk_end(costs, start, budget)
        chunks.append((start, stop))
        start = stop
    return chunks


def oversized(costs: Sequence[float] | np.ndarray, budget: float) -> np.ndarray:
    """Indices of the structures that alone exceed the budget.

    Parameters
    ----------
    costs : sequence of float
        Memory estimates in bytes, shape (n_structures,).
    budget : float
        Bytes.

    Returns
    -------
    np.ndarray
        Indices, shape (n_oversized,).
    """
    return np.flatnonzero(np.asarray(costs, dtype=float) > budget)


class CudaPeakMemory:
    """Peak CUDA memory allocated by torch between :meth:`start` and :meth:`peak_bytes`.

    Parameters
    ----------
    device : str
        A CUDA torch device string.
    """

    def __init__(self, device: str) -> None:
        self.device = device
        self._baseline = 0

    def start(self) -> None:
        """Reset the device's peak statistics and remember what is allocated now."""
        import torch

        torch.cuda.synchronize(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        self._baseline = torch.cuda.memory_allocated(self.device)

    def peak_bytes(self) -> int:
        """Bytes allocated at the peak since :meth:`start`, above what was allocated then."""
        import torch

        torch.cuda.synchronize(self.device)
        return max(int(torch.cuda.max_memory_allocated(self.device)) - self._baseline, 0)
