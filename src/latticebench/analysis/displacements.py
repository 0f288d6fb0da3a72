"""Periodic displacements from reference positions and the harmonic forces they imply.

Conventions: Cartesian positions in Å, cells with lattice vectors as rows (ASE / pymatgen /
phonopy convention, ``r = f @ cell`` for fractional coordinates ``f``), force constants in
phonopy's full layout ``Φ[i, j, α, β] = ∂²E / ∂u_iα ∂u_jβ`` in eV/Å².
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from latticebench.analysis._validation import float_array

__all__ = [
    "cell_heights",
    "force_constants_matrix",
    "harmonic_forces",
    "minimum_image_displacements",
]


def cell_heights(cell: ArrayLike) -> np.ndarray:
    """Distances between opposite faces of a cell.

    Parameters
    ----------
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors as rows, Å.

    Returns
    -------
    numpy.ndarray, shape (3,) or (n_frames, 3)
        ``h_k = V / |a_l × a_m|``, Å: the height of the cell over the face spanned by the two
        lattice vectors other than ``a_k``.
    """
    cells = _cells(cell, "cell")
    volume = np.abs(np.linalg.det(cells))
    areas = np.stack(
        [
            np.linalg.norm(np.cross(cells[..., 1, :], cells[..., 2, :]), axis=-1),
            np.linalg.norm(np.cross(cells[..., 2, :], cells[..., 0, :]), axis=-1),
            np.linalg.norm(np.cross(cells[..., 0, :], cells[..., 1, :]), axis=-1),
        ],
        axis=-1,
    )
    return volume[..., None] / areas


def minimum_image_displacements(
    positions: ArrayLike, reference: ArrayLike, cell: ArrayLike
) -> np.ndarray:
    """Displacement of every atom from the nearest periodic image of its reference position.

    The fractional difference ``(positions − reference) · cell⁻¹`` is reduced by its nearest
    integer and mapped back to Cartesian coordinates. This is exact — the result is the shortest
    of all periodic images, whatever image the input position is in — whenever the true
    displacement is shorter than half the smallest cell height (see :func:`cell_heights`): then
    every fractional component has magnitude below 1/2, and every other image is longer because
    a non-zero lattice vector is at least one cell height long. Thermal displacements in MD of a
    supercell (≈0.1–0.5 Å against heights of ≳10 Å) are far inside this bound. For longer
    displacements in strongly skewed cells the rounded image need not be the shortest one.

    Parameters
    ----------
    positions : array_like, shape (n_frames, n_atoms, 3) or (n_atoms, 3)
        Cartesian positions, Å, wrapped into the cell or not.
    reference : array_like, shape (n_atoms, 3)
        Cartesian reference (equilibrium) positions, Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors as rows, Å; one cell for all frames or one per frame (per-frame cells
        need 3-D ``positions`` with the same number of frames).

    Returns
    -------
    numpy.ndarray
        Displacements ``u``, Å, same shape as ``positions``.

    Raises
    ------
    ValueError
        Mismatched shapes, non-finite values (frame and atom named) or a singular cell.
    """
    pos = float_array(positions, "positions", ndims=(2, 3))
    ref = float_array(reference, "reference", ndims=(2,))
    cells = _cells(cell, "cell")
    if pos.shape[-1] != 3 or ref.shape[-1] != 3:
        raise ValueError(
            f"positions and reference need 3 Cartesian components, got shapes {pos.shape} "
            f"and {ref.shape}"
        )
    if pos.shape[-2] != ref.shape[0]:
        raise ValueError(
            f"positions have {pos.shape[-2]} atoms (shape {pos.shape}) but reference has "
            f"{ref.shape[0]} (shape {ref.shape})"
        )
    if cells.ndim == 3 and (pos.ndim != 3 or pos.shape[0] != cells.shape[0]):
        raise ValueError(
            f"per-frame cells of shape {cells.shape} need positions of shape "
            f"({cells.shape[0]}, n_atoms, 3), got {pos.shape}"
        )
    inverse = _inverse_cells(cells)
    delta = pos - ref
    # Row-vector convention: r = f @ cell, so f = r @ cell⁻¹; matmul broadcasts over frames.
    fractional = delta @ inverse
    fractional -= np.rint(fractional)
    return fractional @ cells


def force_constants_matrix(force_constants: ArrayLike) -> np.ndarray:
    """Reshape full force constants Φ (N, N, 3, 3) into the (3N, 3N) matrix ``Φ[3i+α, 3j+β]``.

    Parameters
    ----------
    force_constants : array_like, shape (N, N, 3, 3)
        Full force constants (phonopy's layout), eV/Å².

    Returns
    -------
    numpy.ndarray, shape (3N, 3N)
        eV/Å², C-contiguous float64.

    Raises
    ------
    ValueError
        Any other shape; compact force constants (n_primitive, N, 3, 3) get a hint.
    """
    phi = float_array(force_constants, "force_constants", ndims=(4,))
    n_rows, n_atoms = phi.shape[0], phi.shape[1]
    if phi.shape[2:] != (3, 3):
        raise ValueError(f"force_constants must have shape (N, N, 3, 3), got {phi.shape}")
    if n_rows != n_atoms:
        raise ValueError(
            f"force_constants must be full, shape (N, N, 3, 3), got {phi.shape}; compact "
            "force constants (n_primitive, N, 3, 3) need to be expanded first (phonopy: "
            "produce_force_constants without compact_fc, or compact_fc_to_full_fc)"
        )
    return np.ascontiguousarray(phi.transpose(0, 2, 1, 3).reshape(3 * n_atoms, 3 * n_atoms))


def harmonic_forces(displacements: ArrayLike, force_constants: ArrayLike) -> np.ndarray:
    """Harmonic forces ``F⁽²⁾ = −Φ u`` for a whole trajectory as one matrix product.

    Parameters
    ----------
    displacements : array_like, shape (n_frames, N, 3) or (N, 3)
        Displacements from the reference positions, Å.
    force_constants : array_like, shape (N, N, 3, 3)
        Full force constants ``Φ[i, j, α, β] = ∂²E/∂u_iα ∂u_jβ``, eV/Å².

    Returns
    -------
    numpy.ndarray
        ``F⁽²⁾_iα = −Σ_jβ Φ[i, j, α, β] u_jβ``, eV/Å, same shape as ``displacements``.

    Raises
    ------
    ValueError
        Shapes that do not fit together (both named) or non-finite values.
    """
    u = float_array(displacements, "displacements", ndims=(2, 3))
    if u.shape[-1] != 3:
        raise ValueError(f"displacements must have shape (n_frames, N, 3) or (N, 3), got {u.shape}")
    phi = force_constants_matrix(force_constants)
    n_atoms = u.shape[-2]
    if phi.shape[0] != 3 * n_atoms:
        raise ValueError(
            f"displacements have {n_atoms} atoms (shape {u.shape}) but force_constants are "
            f"for {phi.shape[0] // 3} atoms (shape {np.shape(force_constants)})"
        )
    U = u.reshape(-1, 3 * n_atoms)
    return -(U @ phi.T).reshape(u.shape)


def _cells(cell: ArrayLike, name: str) -> np.ndarray:
    cells = float_array(cell, name, ndims=(2, 3))
    if cells.shape[-2:] != (3, 3):
        raise ValueError(f"{name} must have shape (3, 3) or (n_frames, 3, 3), got {cells.shape}")
    return cells


def _inverse_cells(cells: np.ndarray) -> np.ndarray:
    determinants = np.atleast_1d(np.linalg.det(cells))
    scale = np.atleast_1d(np.prod(np.linalg.norm(cells, axis=-1), axis=-1))
    singular = np.abs(determinants) <= 1e-12 * scale
    if singular.any():
        where = f" (frame {int(np.flatnonzero(singular)[0])})" if cells.ndim == 3 else ""
        raise ValueError(f"cell{where} is singular: its lattice vectors are linearly dependent")
    return np.linalg.inv(cells)
