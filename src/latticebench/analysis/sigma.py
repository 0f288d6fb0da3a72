"""Anharmonicity score σ^A (Knoop, Purcell, Scheffler, Carbogno, PRMaterials 4, 083809 (2020)).

For frames t of a supercell with DFT/MLIP forces F and harmonic forces F⁽²⁾ = −Φu from the force
constants Φ at the reference positions, the anharmonic force is F^A = F − F⁽²⁾ and

* ``form="rms"`` (Knoop et al.): σ^A = √(Σ (F^A)²) / √(Σ F²),
* ``form="std"`` (the reference study's code): σ^A = std(F^A) / std(F), mean-subtracted,

with the sums/standard deviations over the selected frames, atoms and Cartesian components.
Resolved forms restrict the selection (per frame, per label) or project on the supercell's
normal modes (per mode). Forces in eV/Å; σ^A is dimensionless.

:class:`SigmaAccumulator` gives the same numbers for trajectories read in chunks.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from latticebench.analysis._numerics import check_blocks, safe_ratio
from latticebench.analysis._types import SigmaForm
from latticebench.analysis._validation import (
    as_frames,
    atom_selection,
    check_form,
    matching_frames,
    site_labels,
)
from latticebench.analysis.modes import (
    inverse_sqrt_masses,
    mode_frequencies_and_vectors,
    translation_mode_mask,
)
from latticebench.analysis.sigma_result import SigmaResult
from latticebench.analysis.sigma_stream import SigmaAccumulator

__all__ = [
    "SigmaAccumulator",
    "SigmaForm",
    "SigmaResult",
    "block_standard_error",
    "mode_frequencies_and_vectors",
    "project_on_modes",
    "sigma_a",
    "sigma_a_by_label",
    "sigma_a_per_frame",
    "sigma_a_per_mode",
    "sigma_a_result",
]


def sigma_a(
    forces: ArrayLike,
    harmonic_forces: ArrayLike,
    *,
    form: SigmaForm = "rms",
    atoms: ArrayLike | None = None,
) -> float:
    """Structural σ^A over all frames, the selected atoms and the three Cartesian components.

    Parameters
    ----------
    forces : array_like, shape (n_frames, N, 3) or (N, 3)
        Forces F, eV/Å.
    harmonic_forces : array_like, same shape as ``forces``
        Harmonic forces F⁽²⁾ = −Φu, eV/Å.
    form : {"rms", "std"}
        ``"rms"``: √Σ(F^A)² / √ΣF²; ``"std"``: std(F^A) / std(F).
    atoms : array_like or None
        Boolean mask of shape (N,) or integer indices selecting atoms; None for all.

    Returns
    -------
    float
        σ^A (dimensionless).

    Raises
    ------
    ValueError
        Bad shapes or values, an empty selection, or vanishing forces (σ^A undefined).
    """
    check_form(form)
    F, F2 = matching_frames(forces, harmonic_forces)
    selected = atom_selection(atoms, F.shape[1])
    F_sel = F[:, selected, :]
    FA_sel = F_sel - F2[:, selected, :]
    numerator, denominator = _spread(FA_sel, form), _spread(F_sel, form)
    if denominator == 0.0:
        raise ValueError(
            f"sigma^A ({form}) is undefined: the selected forces have zero "
            f"{'norm' if form == 'rms' else 'standard deviation'}"
        )
    return float(numerator / denominator)


def sigma_a_per_frame(
    forces: ArrayLike, harmonic_forces: ArrayLike, *, form: SigmaForm = "rms"
) -> np.ndarray:
    """σ^A(t) of every frame over all atoms and components.

    Parameters
    ----------
    forces, harmonic_forces : array_like, shape (n_frames, N, 3)
        Forces and harmonic forces, eV/Å.
    form : {"rms", "std"}
        See :func:`sigma_a`.

    Returns
    -------
    numpy.ndarray, shape (n_frames,)
        σ^A(t); NaN for a frame whose forces have zero norm (``"rms"``) or spread (``"std"``).
    """
    check_form(form)
    F, F2 = matching_frames(forces, harmonic_forces)
    flat_F = F.reshape(F.shape[0], -1)
    flat_FA = flat_F - F2.reshape(F.shape[0], -1)
    if form == "rms":
        return safe_ratio(np.sqrt(np.sum(flat_FA**2, axis=1)), np.sqrt(np.sum(flat_F**2, axis=1)))
    return safe_ratio(np.std(flat_FA, axis=1), np.std(flat_F, axis=1))


def sigma_a_by_label(
    forces: ArrayLike,
    harmonic_forces: ArrayLike,
    labels: ArrayLike,
    *,
    form: SigmaForm = "rms",
) -> dict[str, float]:
    """σ^A restricted to the atoms of each label (element symbol, Wyckoff/site label, ...).

    For ``form="rms"`` the labels recombine exactly:
    ``σ² = Σ_label σ_label² · ΣF²_label / ΣF²``.

    Parameters
    ----------
    forces, harmonic_forces : array_like, shape (n_frames, N, 3)
        Forces and harmonic forces, eV/Å.
    labels : array_like, shape (N,)
        One label per atom (converted to str).
    form : {"rms", "std"}
        See :func:`sigma_a`.

    Returns
    -------
    dict of str to float
        σ^A per label, labels in order of first appearance; NaN for a label whose forces vanish.
    """
    check_form(form)
    F, F2 = matching_frames(forces, harmonic_forces)
    names = site_labels(labels, F.shape[1])
    result: dict[str, float] = {}
    for label in dict.fromkeys(names.tolist()):
        members = names == label
        F_sel = F[:, members, :]
        numerator = _spread(F_sel - F2[:, members, :], form)
        result[label] = float(safe_ratio(numerator, _spread(F_sel, form)))
    return result


def project_on_modes(forces: ArrayLike, eigenvectors: ArrayLike, masses: ArrayLike) -> np.ndarray:
    """Project mass-weighted forces on normal modes: ``p_s(t) = Σ_iα F_iα(t) / √m_i · e_iα,s``.

    Parameters
    ----------
    forces : array_like, shape (n_frames, N, 3)
        Forces, eV/Å.
    eigenvectors : array_like, shape (3N, 3N)
        Orthonormal mass-weighted eigenvectors as columns.
    masses : array_like, shape (N,)
        Atomic masses, amu.

    Returns
    -------
    numpy.ndarray, shape (n_frames, 3N)
        Projected forces, eV/(Å √amu).
    """
    F = as_frames(forces, "forces")
    vectors = np.asarray(eigenvectors, dtype=np.float64)
    n_coords = 3 * F.shape[1]
    if vectors.shape != (n_coords, n_coords):
        raise ValueError(
            f"eigenvectors must have shape ({n_coords}, {n_coords}) for forces of shape "
            f"{F.shape}, got {vectors.shape}"
        )
    weighted = F.reshape(F.shape[0], n_coords) * inverse_sqrt_masses(masses, F.shape[1])
    return weighted @ vectors


def sigma_a_per_mode(
    forces: ArrayLike,
    harmonic_forces: ArrayLike,
    force_constants: ArrayLike,
    masses: ArrayLike,
    *,
    form: SigmaForm = "std",
) -> tuple[np.ndarray, np.ndarray]:
    """σ^A_s of every normal mode of the supercell (all commensurate q-points).

    Mass-weighted forces F/√m and F^A/√m are projected on each eigenvector e_s of the supercell
    dynamical matrix, and ``σ_s = std_t(F^A·e_s) / std_t(F·e_s)`` (``"std"``) or
    ``√Σ_t (F^A·e_s)² / √Σ_t (F·e_s)²`` (``"rms"``). The three rigid translations (identified
    by :func:`~latticebench.analysis.modes.translation_mode_mask`; their projected force is the
    total force ≈ 0) get NaN. Within a degenerate set of modes the split of σ between the modes
    depends on the arbitrary basis that the eigensolver picks.

    Parameters
    ----------
    forces, harmonic_forces : array_like, shape (n_frames, N, 3)
        Forces and harmonic forces, eV/Å.
    force_constants : array_like, shape (N, N, 3, 3)
        Full force constants Φ, eV/Å², of the reference the harmonic forces were computed with.
    masses : array_like, shape (N,)
        Atomic masses, amu.
    form : {"std", "rms"}
        Definition over time (default ``"std"``, the reference study's choice).

    Returns
    -------
    frequencies_thz : numpy.ndarray, shape (3N,)
        Mode frequencies, THz, ascending (imaginary negative).
    sigma_modes : numpy.ndarray, shape (3N,)
        σ^A_s (NaN for the translations and for modes with vanishing projected force).
    """
    check_form(form)
    F, F2 = matching_frames(forces, harmonic_forces)
    frequencies, vectors = mode_frequencies_and_vectors(force_constants, masses)
    if vectors.shape[0] != 3 * F.shape[1]:
        raise ValueError(
            f"force_constants are for {vectors.shape[0] // 3} atoms but the forces of shape "
            f"{F.shape} have {F.shape[1]}"
        )
    return frequencies, _sigma_on_modes(F, F2, vectors, masses, form)


def block_standard_error(
    forces: ArrayLike,
    harmonic_forces: ArrayLike,
    *,
    n_blocks: int = 5,
    form: SigmaForm = "rms",
) -> float:
    """Standard error of σ^A by block averaging over time.

    The frames are split into ``n_blocks`` contiguous blocks (:func:`numpy.array_split`: when
    the frames do not divide evenly the first blocks get one frame more), σ^A is computed for
    every block, and the standard error is ``std(block σ, ddof=1) / √n_blocks``. Blocks should
    be longer than the force autocorrelation time for the estimate to be meaningful.

    Parameters
    ----------
    forces, harmonic_forces : array_like, shape (n_frames, N, 3)
        Forces and harmonic forces, eV/Å, in time order.
    n_blocks : int
        Number of blocks, at least 2 and at most n_frames.
    form : {"rms", "std"}
        See :func:`sigma_a`.

    Returns
    -------
    float
        Standard error of σ^A (dimensionless).
    """
    check_form(form)
    F, F2 = matching_frames(forces, harmonic_forces)
    check_blocks(n_blocks, F.shape[0])
    block_sigma = [
        sigma_a(F_block, F2_block, form=form)
        for F_block, F2_block in zip(
            np.array_split(F, n_blocks), np.array_split(F2, n_blocks), strict=True
        )
    ]
    return float(np.std(block_sigma, ddof=1) / np.sqrt(n_blocks))


def sigma_a_result(
    forces: ArrayLike,
    harmonic_forces: ArrayLike,
    *,
    form: SigmaForm = "rms",
    labels: dict[str, ArrayLike] | None = None,
    masses: ArrayLike | None = None,
    force_constants: ArrayLike | None = None,
    n_blocks: int = 5,
) -> SigmaResult:
    """Every resolved form of σ^A of an in-memory trajectory, in one :class:`SigmaResult`.

    Parameters
    ----------
    forces, harmonic_forces : array_like, shape (n_frames, N, 3)
        Forces and harmonic forces, eV/Å, in time order.
    form : {"rms", "std"}
        Definition used for every number of the result.
    labels : dict of str to array_like of shape (N,), optional
        Labellings of the atoms, e.g. ``{"element": symbols, "site": wyckoff_labels}``.
    masses : array_like, shape (N,), optional
        Atomic masses, amu; with ``force_constants`` enables the per-mode σ.
    force_constants : array_like, shape (N, N, 3, 3), optional
        Full force constants, eV/Å².
    n_blocks : int
        Blocks for the standard error; with fewer frames than blocks it is None.

    Returns
    -------
    SigmaResult
    """
    check_form(form)
    F, F2 = matching_frames(forces, harmonic_forces)
    if (masses is None) != (force_constants is None):
        raise ValueError("per-mode sigma needs both masses and force_constants")
    frequencies = sigma_modes = None
    if masses is not None:
        frequencies, sigma_modes = sigma_a_per_mode(F, F2, force_constants, masses, form=form)
    standard_error = None
    if F.shape[0] >= n_blocks:
        standard_error = block_standard_error(F, F2, n_blocks=n_blocks, form=form)
    else:
        check_blocks(n_blocks, n_blocks)
    return SigmaResult(
        value=sigma_a(F, F2, form=form),
        form=form,
        n_frames=F.shape[0],
        n_atoms=F.shape[1],
        per_frame=sigma_a_per_frame(F, F2, form=form),
        by_label={
            name: sigma_a_by_label(F, F2, values, form=form)
            for name, values in (labels or {}).items()
        },
        mode_frequencies_thz=frequencies,
        mode_sigma=sigma_modes,
        standard_error=standard_error,
        n_blocks=n_blocks,
    )


def _sigma_on_modes(
    F: np.ndarray, F2: np.ndarray, vectors: np.ndarray, masses: ArrayLike, form: SigmaForm
) -> np.ndarray:
    projected_F = project_on_modes(F, vectors, masses)
    projected_FA = project_on_modes(F - F2, vectors, masses)
    if form == "rms":
        numerator = np.sqrt(np.sum(projected_FA**2, axis=0))
        denominator = np.sqrt(np.sum(projected_F**2, axis=0))
    else:
        numerator, denominator = np.std(projected_FA, axis=0), np.std(projected_F, axis=0)
    sigma = safe_ratio(numerator, denominator)
    sigma[translation_mode_mask(vectors, masses)] = np.nan
    return sigma


def _spread(values: np.ndarray, form: SigmaForm) -> float:
    """√Σx² (``"rms"``) or the population standard deviation (``"std"``) of all entries."""
    if form == "rms":
        return float(np.sqrt(np.sum(values**2)))
    return float(np.std(values))
