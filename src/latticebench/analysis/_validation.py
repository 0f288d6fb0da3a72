"""Input checks shared by the analysis kernels: shapes, dtypes, finiteness, clear messages."""

from __future__ import annotations

from typing import get_args

import numpy as np
from numpy.typing import ArrayLike

from latticebench.analysis._types import SigmaForm


def float_array(
    value: ArrayLike, name: str, *, ndims: tuple[int, ...], check_finite: bool = True
) -> np.ndarray:
    """Return ``value`` as a finite float64 array whose number of dimensions is one of ``ndims``.

    Parameters
    ----------
    value : array_like
        The input.
    name : str
        Argument name used in error messages.
    ndims : tuple of int
        Accepted numbers of dimensions.
    check_finite : bool
        Reject NaN and inf.

    Returns
    -------
    numpy.ndarray
        float64 array (a view when no conversion is needed).

    Raises
    ------
    ValueError
        Wrong number of dimensions, non-numeric content, or a NaN/inf (its index is named).
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from exc
    if array.ndim not in ndims:
        wanted = " or ".join(f"{n}-D" for n in ndims)
        raise ValueError(f"{name} must be {wanted}, got shape {array.shape}")
    if check_finite:
        require_finite(array, name)
    return array


def require_finite(array: np.ndarray, name: str, *, frame_offset: int = 0) -> None:
    """Raise ValueError naming the first index of ``array`` that holds NaN or inf.

    For arrays of frames (3-D: frame, atom, component) the message spells out frame and atom;
    ``frame_offset`` is added to the frame index (chunks of a longer trajectory).
    """
    bad = ~np.isfinite(array)
    if not bad.any():
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    if array.ndim == 3 and array.shape[-1] == 3:
        where = f"frame {index[0] + frame_offset}, atom {index[1]}, component {'xyz'[index[2]]}"
    else:
        where = f"index {index}"
    raise ValueError(f"{name} holds a non-finite value ({array[index]}) at {where}")


def check_form(form: str) -> SigmaForm:
    """Return ``form`` if it is a valid σ^A form, else raise ValueError listing the valid ones."""
    valid = get_args(SigmaForm)
    if form not in valid:
        raise ValueError(f"unknown sigma form {form!r}; expected one of {valid}")
    return form  # type: ignore[return-value]


def as_frames(value: ArrayLike, name: str, *, frame_offset: int = 0) -> np.ndarray:
    """Return forces/displacements as a finite float64 array of shape (n_frames, n_atoms, 3).

    A single frame of shape (n_atoms, 3) is promoted to (1, n_atoms, 3). Non-finite values are
    reported with their frame index plus ``frame_offset``.
    """
    array = float_array(value, name, ndims=(2, 3), check_finite=False)
    if array.ndim == 2:
        array = array[None]
    if array.shape[-1] != 3:
        raise ValueError(
            f"{name} must have shape (n_frames, n_atoms, 3) or (n_atoms, 3), got {array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    require_finite(array, name, frame_offset=frame_offset)
    return array


def matching_frames(
    forces: ArrayLike, harmonic_forces: ArrayLike, *, frame_offset: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (forces, harmonic forces) pair: same shape (n_frames, n_atoms, 3), finite."""
    F = as_frames(forces, "forces", frame_offset=frame_offset)
    F2 = as_frames(harmonic_forces, "harmonic_forces", frame_offset=frame_offset)
    if F.shape != F2.shape:
        raise ValueError(
            f"forces and harmonic_forces must have the same shape, got {F.shape} and {F2.shape}"
        )
    return F, F2


def atom_selection(atoms: ArrayLike | None, n_atoms: int) -> np.ndarray:
    """Turn a boolean mask or an index array into sorted unique integer atom indices.

    Parameters
    ----------
    atoms : array_like or None
        Boolean mask of shape (n_atoms,) or integer indices (negative indices count from the end);
        None selects every atom.
    n_atoms : int
        Number of atoms in the frames.

    Returns
    -------
    numpy.ndarray
        Integer indices, shape (n_selected,), n_selected >= 1.
    """
    if atoms is None:
        return np.arange(n_atoms)
    selection = np.asarray(atoms)
    if selection.ndim != 1:
        raise ValueError(f"atoms must be a 1-D mask or index array, got shape {selection.shape}")
    if selection.dtype == bool:
        if selection.shape[0] != n_atoms:
            raise ValueError(
                f"boolean atoms mask has length {selection.shape[0]} but the frames have "
                f"{n_atoms} atoms"
            )
        indices = np.flatnonzero(selection)
    elif selection.size == 0 or np.issubdtype(selection.dtype, np.integer):
        indices = selection.astype(np.intp)
        out_of_range = (indices < -n_atoms) | (indices >= n_atoms)
        if out_of_range.any():
            first = int(np.flatnonzero(out_of_range)[0])
            raise ValueError(
                f"atoms[{first}] = {indices[first]} is out of range for {n_atoms} atoms"
            )
        indices = np.unique(indices % n_atoms)
    else:
        raise ValueError(f"atoms must be a boolean mask or integer indices, got {selection.dtype}")
    if indices.size == 0:
        raise ValueError("atoms selects no atom")
    return indices


def site_labels(labels: ArrayLike, n_atoms: int, name: str = "labels") -> np.ndarray:
    """Return per-atom labels as an array of str with shape (n_atoms,)."""
    array = np.asarray(labels)
    if array.ndim != 1 or array.shape[0] != n_atoms:
        raise ValueError(f"{name} must have shape ({n_atoms},), got {array.shape}")
    return array.astype(str)
