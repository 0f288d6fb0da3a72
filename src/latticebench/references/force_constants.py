"""Read phonopy force-constant files: ``force_constants.hdf5`` and ``FORCE_CONSTANTS`` (text).

Both come full, shape (N, N, 3, 3), or compact, shape (n_prim, N, 3, 3) with the supercell
indices of the primitive atoms (``p2s_map``). Compact force constants are expanded to full ones
with the pure lattice translations of the supercell: if translation t moves atom s to atom j
(and every atom k to perm_t[k]), then Φ[j, perm_t[k]] = Φ[s, k]. Units are phonopy's for VASP,
eV/Å²; a file that declares another ``physical_unit`` is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from latticebench.references.errors import ImportFileError

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = ["expand_compact_force_constants", "read_force_constants_file"]

_ACCEPTED_UNITS = {"ev/angstrom^2", "ev/angstrom2", "ev/å^2", "ev/a^2", "ev/ang^2"}


def _translation_permutations(supercell: Structure, tolerance: float) -> list[np.ndarray]:
    """Permutations of the supercell's atoms under its pure lattice translations.

    Returns a list of integer arrays ``perm`` (N,) with ``perm[i]`` the atom at r_i + t.
    """
    frac = np.asarray(supercell.frac_coords, dtype=float)
    numbers = np.asarray(supercell.atomic_numbers)
    lattice = np.asarray(supercell.lattice.matrix, dtype=float)
    origin = 0
    permutations = []
    for j in np.flatnonzero(numbers == numbers[origin]):
        shift = frac[j] - frac[origin]
        diff = (frac + shift)[:, None, :] - frac[None, :, :]
        diff -= np.round(diff)
        distance = np.linalg.norm(diff @ lattice, axis=-1)
        distance[numbers[:, None] != numbers[None, :]] = np.inf
        perm = distance.argmin(axis=1)
        if (distance[np.arange(len(frac)), perm] < tolerance).all() and len(set(perm)) == len(perm):
            permutations.append(perm)
    return permutations


def expand_compact_force_constants(
    compact: np.ndarray,
    p2s_map: np.ndarray,
    supercell: Structure,
    *,
    where: str,
    tolerance: float = 1e-3,
) -> np.ndarray:
    """Expand compact force constants to the full (N, N, 3, 3) array.

    Parameters
    ----------
    compact : ndarray, shape (n_prim, N, 3, 3)
        Force constants of the primitive atoms, eV/Å².
    p2s_map : ndarray, shape (n_prim,)
        Supercell index of each primitive atom (0-based).
    supercell : pymatgen.core.Structure
        The N-atom supercell (reference positions).
    where : str
        File name for messages.
    tolerance : float
        Distance in Å within which a translated atom must land on an atom of its species.

    Returns
    -------
    ndarray, shape (N, N, 3, 3)

    Raises
    ------
    ImportFileError
        If the shapes disagree or the primitive atoms do not generate the supercell.
    """
    n_atoms = len(supercell)
    p2s = np.asarray(p2s_map, dtype=np.int64).ravel()
    if compact.shape != (len(p2s), n_atoms, 3, 3):
        raise ImportFileError(
            f"{where}: compact force constants have shape {compact.shape}, but with "
            f"{len(p2s)} primitive atoms and a {n_atoms}-atom supercell "
            f"({len(p2s)}, {n_atoms}, 3, 3) is expected"
        )
    if p2s.min() < 0 or p2s.max() >= n_atoms:
        raise ImportFileError(f"{where}: p2s_map {p2s.tolist()} is outside 0..{n_atoms - 1}")
    full = np.zeros((n_atoms, n_atoms, 3, 3))
    filled = np.zeros(n_atoms, dtype=bool)
    for perm in _translation_permutations(supercell, tolerance):
        for p, s in enumerate(p2s):
            j = perm[s]
            if not filled[j]:
                full[j, perm] = compact[p]
                filled[j] = True
    if not filled.all():
        raise ImportFileError(
            f"{where}: the {len(p2s)} primitive atoms of p2s_map do not generate the "
            f"{n_atoms}-atom supercell by lattice translations ({int((~filled).sum())} atoms "
            f"left); does the file belong to this SPOSCAR?"
        )
    return full


def _read_hdf5(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            key = "force_constants" if "force_constants" in handle else "fc2"
            if key not in handle:
                raise ImportFileError(
                    f"{path}: no 'force_constants' dataset (keys: {sorted(handle.keys())})"
                )
            fc = np.asarray(handle[key][()], dtype=float)
            p2s = np.asarray(handle["p2s_map"][()]) if "p2s_map" in handle else None
            if "physical_unit" in handle:
                raw = handle["physical_unit"][()]
                unit = raw[0] if np.ndim(raw) else raw
                unit = unit.decode() if isinstance(unit, bytes) else str(unit)
                if unit.strip().lower().replace(" ", "") not in _ACCEPTED_UNITS:
                    raise ImportFileError(
                        f"{path}: force constants are in {unit!r}; only eV/angstrom^2 is "
                        f"accepted (convert them with phonopy first)"
                    )
    except OSError as exc:
        raise ImportFileError(f"{path}: not a readable HDF5 file ({exc})") from exc
    return fc, p2s


def _read_text(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not a FORCE_CONSTANTS text file ({exc})") from exc
    lines = [line for line in lines if line.strip()]
    try:
        header = [int(x) for x in lines[0].split()]
    except (IndexError, ValueError):
        raise ImportFileError(f"{path}: the first line must hold the array size(s)") from None
    rows, cols = (header[0], header[0]) if len(header) == 1 else header[:2]
    n_blocks = rows * cols
    if len(lines) - 1 < 4 * n_blocks:
        raise ImportFileError(
            f"{path}: truncated: {rows}x{cols} blocks need {4 * n_blocks} lines after the "
            f"header, found {len(lines) - 1} (last complete block {(len(lines) - 1) // 4})"
        )
    body = lines[1 : 1 + 4 * n_blocks]
    try:
        index_lines = np.array([body[4 * b].split()[:2] for b in range(n_blocks)], dtype=int)
        numbers = np.array(
            " ".join(line for k, line in enumerate(body) if k % 4).split(), dtype=float
        )
    except ValueError as exc:
        raise ImportFileError(f"{path}: unreadable number ({exc})") from None
    if numbers.size != 9 * n_blocks:
        raise ImportFileError(f"{path}: expected 3 numbers per line in every 3x3 block")
    fc = numbers.reshape(rows, cols, 3, 3)
    p2s = index_lines[::cols, 0] - 1
    return fc, p2s


def read_force_constants_file(path: str | Path, supercell: Structure) -> np.ndarray:
    """Full force constants from a phonopy hdf5 or text file.

    Parameters
    ----------
    path : str or Path
        ``force_constants.hdf5`` (keys ``force_constants``, optional ``p2s_map`` and
        ``physical_unit``) or ``FORCE_CONSTANTS`` (text); chosen by the suffix ``.hdf5``/``.h5``.
    supercell : pymatgen.core.Structure
        The supercell (SPOSCAR) the force constants belong to.

    Returns
    -------
    ndarray, shape (N, N, 3, 3)
        eV/Å² (not yet sanity-checked; see
        :func:`latticebench.references.heavy.check_force_constants`).

    Raises
    ------
    ImportFileError
        Naming the file, for unreadable, truncated or inconsistent files.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if path.suffix.lower() in (".hdf5", ".h5"):
        fc, p2s = _read_hdf5(path)
    else:
        fc, p2s = _read_text(path)
    n_atoms = len(supercell)
    if fc.ndim != 4 or fc.shape[2:] != (3, 3):
        raise ImportFileError(f"{path}: force constants have shape {fc.shape}, not (n, N, 3, 3)")
    if fc.shape[0] == fc.shape[1] == n_atoms:
        return fc
    if fc.shape[1] == n_atoms and fc.shape[0] < n_atoms:
        if p2s is None:
            raise ImportFileError(
                f"{path}: compact force constants {fc.shape} without a p2s_map dataset"
            )
        return expand_compact_force_constants(fc, p2s, supercell, where=str(path))
    raise ImportFileError(
        f"{path}: force constants have shape {fc.shape}, but the supercell has {n_atoms} atoms, "
        f"so ({n_atoms}, {n_atoms}, 3, 3) (full) or (n_prim, {n_atoms}, 3, 3) (compact) is "
        f"expected"
    )
