"""Streaming σ^A for trajectories read in chunks: the one-shot numbers without holding all frames.

Per chunk only small statistics are kept: for every frame the moments of its F and F^A entries
(O(n_frames) numbers, which the per-frame series and the block standard error need anyway), for
every label and every normal mode running moments merged with the update of Chan et al. Means
and centred sums of squares are merged, never raw sums subtracted, so the ``"std"`` form stays
accurate when the forces carry a large common offset.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from latticebench.analysis._numerics import Moments, check_blocks, safe_ratio
from latticebench.analysis._types import SigmaForm
from latticebench.analysis._validation import (
    check_form,
    float_array,
    matching_frames,
    site_labels,
)
from latticebench.analysis.modes import (
    inverse_sqrt_masses,
    mode_frequencies_and_vectors,
    translation_mode_mask,
)
from latticebench.analysis.sigma_result import SigmaResult

__all__ = ["SigmaAccumulator"]


class SigmaAccumulator:
    """Accumulate σ^A over trajectory chunks; :meth:`result` equals the one-shot functions.

    Parameters
    ----------
    labels : mapping of str to array_like of shape (N,), optional
        Labellings of the atoms, e.g. ``{"element": symbols, "site": wyckoff_labels}``.
    masses : array_like, shape (N,), optional
        Atomic masses, amu; needed with ``eigenvectors``.
    eigenvectors : array_like, shape (3N, 3N), optional
        Mass-weighted supercell eigenvectors as columns (from
        :func:`~latticebench.analysis.modes.mode_frequencies_and_vectors`), for the per-mode σ.
    frequencies_thz : array_like, shape (3N,), optional
        Frequencies belonging to ``eigenvectors``, THz; needed with ``eigenvectors``.
    n_blocks : int
        Contiguous time blocks for the standard error (at least 2).

    Examples
    --------
    >>> acc = SigmaAccumulator(labels={"element": symbols})  # doctest: +SKIP
    >>> for forces, harmonic in chunks:  # doctest: +SKIP
    ...     acc.add(forces, harmonic)
    >>> acc.result(form="std").value  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        labels: Mapping[str, ArrayLike] | None = None,
        masses: ArrayLike | None = None,
        eigenvectors: ArrayLike | None = None,
        frequencies_thz: ArrayLike | None = None,
        n_blocks: int = 5,
    ) -> None:
        check_blocks(n_blocks, n_blocks)
        self.n_blocks = int(n_blocks)
        self._n_atoms: int | None = None
        self._labels: dict[str, np.ndarray] = {}
        for name, values in (labels or {}).items():
            array = np.asarray(values)
            self._claim_atoms(array.shape[0] if array.ndim == 1 else -1, f"labels[{name!r}]")
            self._labels[str(name)] = site_labels(array, self._n_atoms, f"labels[{name!r}]")
        self._modes: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        given = [x is not None for x in (masses, eigenvectors, frequencies_thz)]
        if any(given) and not all(given):
            raise ValueError("per-mode sigma needs masses, eigenvectors and frequencies_thz")
        if all(given):
            self._set_modes(masses, eigenvectors, frequencies_thz)
        self._n_frames = 0
        self._frame_F: list[Moments] = []
        self._frame_FA: list[Moments] = []
        self._label_stats: dict[str, dict[str, tuple[Moments, Moments]]] = {}
        self._mode_stats: tuple[Moments, Moments] | None = None

    @classmethod
    def from_force_constants(
        cls,
        force_constants: ArrayLike,
        masses: ArrayLike,
        *,
        labels: Mapping[str, ArrayLike] | None = None,
        n_blocks: int = 5,
    ) -> SigmaAccumulator:
        """Accumulator with per-mode σ from full force constants (N, N, 3, 3) eV/Å² and masses."""
        frequencies, eigenvectors = mode_frequencies_and_vectors(force_constants, masses)
        return cls(
            labels=labels,
            masses=masses,
            eigenvectors=eigenvectors,
            frequencies_thz=frequencies,
            n_blocks=n_blocks,
        )

    @property
    def n_frames(self) -> int:
        """Number of frames added so far."""
        return self._n_frames

    def add(self, forces: ArrayLike, harmonic_forces: ArrayLike) -> None:
        """Add a chunk of frames (in time order, after those added before).

        Parameters
        ----------
        forces, harmonic_forces : array_like, shape (n_chunk, N, 3) or (N, 3)
            Forces and harmonic forces, eV/Å.

        Raises
        ------
        ValueError
            Shapes that differ from the earlier chunks or the labels/modes, or non-finite values
            (the frame is named by its index in the whole trajectory). Nothing is added then.
        """
        try:
            F, F2 = matching_frames(forces, harmonic_forces, frame_offset=self._n_frames)
        except ValueError as exc:
            raise ValueError(f"chunk starting at frame {self._n_frames}: {exc}") from None
        n_atoms = self._n_atoms
        if n_atoms is not None and F.shape[1] != n_atoms:
            raise ValueError(
                f"chunk starting at frame {self._n_frames} has {F.shape[1]} atoms "
                f"(shape {F.shape}); expected {n_atoms}"
            )
        FA = F - F2
        frame_F = Moments.of(F, axis=(1, 2))
        frame_FA = Moments.of(FA, axis=(1, 2))
        label_updates = {
            name: {
                label: (Moments.of(F[:, members, :], None), Moments.of(FA[:, members, :], None))
                for label, members in _label_groups(names).items()
            }
            for name, names in self._labels.items()
        }
        mode_update = None
        if self._modes is not None:
            _, vectors, inv_sqrt_m, _ = self._modes
            mode_update = tuple(
                Moments.of((x.reshape(x.shape[0], -1) * inv_sqrt_m) @ vectors, axis=0)
                for x in (F, FA)
            )
        # Everything is computed; now commit the chunk.
        self._n_atoms = F.shape[1]
        self._n_frames += F.shape[0]
        self._frame_F.append(frame_F)
        self._frame_FA.append(frame_FA)
        for name, groups in label_updates.items():
            stats = self._label_stats.setdefault(name, {})
            for label, (mF, mFA) in groups.items():
                if label in stats:
                    mF, mFA = stats[label][0].merge(mF), stats[label][1].merge(mFA)
                stats[label] = (mF, mFA)
        if mode_update is not None:
            if self._mode_stats is not None:
                mode_update = (
                    self._mode_stats[0].merge(mode_update[0]),
                    self._mode_stats[1].merge(mode_update[1]),
                )
            self._mode_stats = mode_update

    def result(self, form: SigmaForm = "rms") -> SigmaResult:
        """σ^A and its resolved forms from the frames added so far.

        Parameters
        ----------
        form : {"rms", "std"}
            Definition used for every number of the result (see
            :func:`~latticebench.analysis.sigma.sigma_a`).

        Returns
        -------
        SigmaResult
            ``standard_error`` is None while fewer than ``n_blocks`` frames were added.
        """
        check_form(form)
        if self._n_frames == 0:
            raise ValueError("no frames added: call add() with at least one chunk first")
        frame_F = _concatenate(self._frame_F)
        frame_FA = _concatenate(self._frame_FA)
        per_frame = _ratio(frame_FA, frame_F, form)
        value = float(_ratio(_union(frame_FA), _union(frame_F), form))
        if not np.isfinite(value):
            raise ValueError(f"sigma^A ({form}) is undefined: all forces vanish")
        standard_error = None
        if self._n_frames >= self.n_blocks:
            blocks = np.array_split(np.arange(self._n_frames), self.n_blocks)
            block_sigma = [
                _ratio(_union(frame_FA, idx), _union(frame_F, idx), form) for idx in blocks
            ]
            standard_error = float(np.std(block_sigma, ddof=1) / np.sqrt(self.n_blocks))
        frequencies = mode_sigma = None
        if self._modes is not None and self._mode_stats is not None:
            frequencies, _, _, translations = self._modes
            mode_sigma = _ratio(self._mode_stats[1], self._mode_stats[0], form)
            mode_sigma[translations] = np.nan
        return SigmaResult(
            value=value,
            form=form,
            n_frames=self._n_frames,
            n_atoms=int(self._n_atoms),
            per_frame=per_frame,
            by_label={
                name: {label: float(_ratio(mFA, mF, form)) for label, (mF, mFA) in stats.items()}
                for name, stats in self._label_stats.items()
            },
            mode_frequencies_thz=frequencies,
            mode_sigma=mode_sigma,
            standard_error=standard_error,
            n_blocks=self.n_blocks,
        )

    def _claim_atoms(self, n_atoms: int, what: str) -> None:
        if n_atoms < 1:
            raise ValueError(f"{what} must be a 1-D array with one entry per atom")
        if self._n_atoms is None:
            self._n_atoms = n_atoms
        elif n_atoms != self._n_atoms:
            raise ValueError(
                f"{what} is for {n_atoms} atoms, but earlier inputs for {self._n_atoms}"
            )

    def _set_modes(
        self, masses: ArrayLike, eigenvectors: ArrayLike, frequencies_thz: ArrayLike
    ) -> None:
        m = float_array(masses, "masses", ndims=(1,))
        self._claim_atoms(m.shape[0], "masses")
        n_coords = 3 * m.shape[0]
        vectors = float_array(eigenvectors, "eigenvectors", ndims=(2,))
        frequencies = float_array(frequencies_thz, "frequencies_thz", ndims=(1,))
        if vectors.shape != (n_coords, n_coords) or frequencies.shape != (n_coords,):
            raise ValueError(
                f"for {m.shape[0]} atoms eigenvectors must have shape ({n_coords}, {n_coords}) "
                f"and frequencies_thz ({n_coords},), got {vectors.shape} and {frequencies.shape}"
            )
        translations = translation_mode_mask(vectors, m)
        inv_sqrt_m = inverse_sqrt_masses(m, m.shape[0])
        self._modes = (frequencies.copy(), vectors.copy(), inv_sqrt_m, translations)


def _label_groups(names: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean member masks per label, labels in order of first appearance."""
    return {label: names == label for label in dict.fromkeys(names.tolist())}


def _concatenate(parts: list[Moments]) -> Moments:
    return Moments(
        count=np.concatenate([p.count for p in parts]),
        mean=np.concatenate([p.mean for p in parts]),
        m2=np.concatenate([p.m2 for p in parts]),
        sumsq=np.concatenate([p.sumsq for p in parts]),
    )


def _union(per_frame: Moments, frames: np.ndarray | None = None) -> Moments:
    """Moments of all entries of the selected frames (all frames when None)."""
    select = slice(None) if frames is None else frames
    return Moments.combine(
        per_frame.count[select],
        per_frame.mean[select],
        per_frame.m2[select],
        per_frame.sumsq[select],
    )


def _ratio(anharmonic: Moments, total: Moments, form: SigmaForm) -> np.ndarray:
    """σ from the moments of F^A and F: √(Σx²) ratio or standard-deviation ratio."""
    if form == "rms":
        return safe_ratio(np.sqrt(anharmonic.sumsq), np.sqrt(total.sumsq))
    return safe_ratio(np.sqrt(anharmonic.variance()), np.sqrt(total.variance()))
