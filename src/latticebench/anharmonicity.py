"""σ^A of trajectories read chunk by chunk, against the force constants of a reference supercell.

Glue between trajectory sources (MD run directories, DFT frames) and the pure
:class:`latticebench.analysis.SigmaAccumulator`: minimum-image displacements from the reference
positions, harmonic forces ``-Φu`` for each chunk as one matrix product, accumulation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import numpy as np

from latticebench.analysis import (
    SigmaAccumulator,
    force_constants_matrix,
    minimum_image_displacements,
    mode_frequencies_and_vectors,
)

__all__ = ["SigmaReference", "accumulate_sigma", "strided"]


class SigmaReference:
    """The harmonic reference of σ^A: equilibrium positions, cell, Φ and atom labels.

    Parameters
    ----------
    positions : np.ndarray
        Reference (equilibrium) positions R⁰, shape (N, 3), Å.
    cell : np.ndarray
        Supercell, rows are lattice vectors, shape (3, 3), Å.
    force_constants : np.ndarray
        Full supercell force constants, shape (N, N, 3, 3), eV/Å².
    masses : np.ndarray
        Atomic masses, shape (N,), amu (for the per-mode σ).
    labels : mapping of str to sequence of str
        Atom labellings, e.g. ``{"element": [...], "site": [...]}``, each of length N.
    """

    def __init__(
        self,
        positions: np.ndarray,
        cell: np.ndarray,
        force_constants: np.ndarray,
        masses: np.ndarray,
        labels: Mapping[str, Iterable[str]],
    ) -> None:
        self.positions = np.asarray(positions, dtype=float)
        self.cell = np.asarray(cell, dtype=float)
        self.force_constants = np.asarray(force_constants, dtype=float)
        self.masses = np.asarray(masses, dtype=float)
        self.labels = {name: list(values) for name, values in labels.items()}
        n = len(self.positions)
        if self.force_constants.shape != (n, n, 3, 3):
            raise ValueError(
                f"force constants have shape {self.force_constants.shape}, expected "
                f"({n}, {n}, 3, 3) for {n} reference positions"
            )
        self._modes: tuple[np.ndarray, np.ndarray] | None = None
        self._matrix: np.ndarray | None = None

    @property
    def modes(self) -> tuple[np.ndarray, np.ndarray]:
        """Supercell mode frequencies (3N,) THz and eigenvectors (3N, 3N), computed once."""
        if self._modes is None:
            self._modes = mode_frequencies_and_vectors(self.force_constants, self.masses)
        return self._modes

    def accumulator(self, *, n_blocks: int, with_modes: bool = True) -> SigmaAccumulator:
        """A fresh accumulator with this reference's labels (and modes).

        Parameters
        ----------
        n_blocks : int
        with_modes : bool

        Returns
        -------
        SigmaAccumulator
        """
        if not with_modes:
            return SigmaAccumulator(labels=self.labels, n_blocks=n_blocks)
        frequencies, vectors = self.modes
        return SigmaAccumulator(
            labels=self.labels,
            masses=self.masses,
            eigenvectors=vectors,
            frequencies_thz=frequencies,
            n_blocks=n_blocks,
        )

    def harmonic_forces(self, positions: np.ndarray) -> np.ndarray:
        """Harmonic forces -Φu for frames at ``positions`` (n, N, 3) Å; eV/Å, same shape.

        Φ is reshaped to its (3N, 3N) matrix once per reference, not once per chunk (a copy of
        7 MB and a finiteness check for the 320-atom supercell).
        """
        displacements = minimum_image_displacements(positions, self.positions, self.cell)
        if self._matrix is None:
            self._matrix = force_constants_matrix(self.force_constants)
        n = self._matrix.shape[0]
        flat = displacements.reshape(-1, n)
        return -(flat @ self._matrix.T).reshape(displacements.shape)


def strided(
    chunks: Iterable[tuple[np.ndarray, np.ndarray]], stride: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Keep every ``stride``-th frame of a chunked trajectory (global frame index).

    Parameters
    ----------
    chunks : iterable of (positions, forces)
        Arrays of shape (n_chunk, N, 3).
    stride : int

    Yields
    ------
    (positions, forces)
        The kept frames of each chunk (chunks left empty are skipped).
    """
    offset = 0
    for positions, forces in chunks:
        first = (-offset) % stride
        keep = slice(first, None, stride)
        offset += len(positions)
        if len(positions[keep]):
            yield positions[keep], forces[keep]


def accumulate_sigma(
    accumulators: Iterable[SigmaAccumulator],
    reference: SigmaReference,
    chunks: Iterable[tuple[np.ndarray, np.ndarray]],
) -> int:
    """Feed chunks of (positions, forces) into one or more accumulators.

    Parameters
    ----------
    accumulators : iterable of SigmaAccumulator
        Each receives every chunk (e.g. a per-run and a combined accumulator).
    reference : SigmaReference
    chunks : iterable of (positions (n, N, 3) Å, forces (n, N, 3) eV/Å)

    Returns
    -------
    int
        Frames added.
    """
    targets = list(accumulators)
    total = 0
    for positions, forces in chunks:
        harmonic = reference.harmonic_forces(positions)
        for accumulator in targets:
            accumulator.add(forces, harmonic)
        total += len(positions)
    return total
