"""Heavy parts of reference documents: force constants, AIMD frames, phonon bands.

Each part is one content-addressed blob in the data store (:func:`latticebench.stores.put_arrays`);
the :class:`~latticebench.schemas.ReferenceDoc` holds its id in ``heavy[<part>]``. Blobs carry
physics only (no file paths), so importing equal data from anywhere gives the same id.

=================  ============================================================================
part               arrays (units)
=================  ============================================================================
force_constants    ``force_constants`` (N, N, 3, 3) eV/Å², ``lattice`` (3, 3) Å (rows are
                   lattice vectors), ``positions`` (N, 3) Cartesian Å (the reference positions
                   R⁰ Φ was computed at), ``numbers`` (N,) atomic numbers
aimd               ``positions`` / ``forces`` (n_frames, N, 3) Cartesian Å / eV/Å, ``cells``
                   (n_frames, 3, 3) Å, ``numbers`` (N,), ``run_index`` (n_frames,) which run a
                   frame belongs to, ``energies`` (n_frames,) eV when every frame has one; meta
                   ``temperature_K``, ``time_step_fs``
band               ``q_points`` (n_q, 3) reduced, ``distances`` (n_q,) 1/Å, ``frequencies``
                   (n_q, n_bands) THz, optional ``group_velocities`` (n_q, n_bands, 3) THz·Å;
                   meta ``labels``
=================  ============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from latticebench.stores import array_blob_id, load_blob, put_arrays

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from latticebench.schemas import ReferenceDoc

__all__ = [
    "FC_DIAGONAL_BAND_EV_PER_A2",
    "AimdFrames",
    "MissingHeavyPartError",
    "PendingBlob",
    "aimd_blob",
    "band_blob",
    "check_force_constants",
    "force_constants_blob",
    "load_aimd_frames",
    "load_band",
    "load_force_constants",
]

FC_DIAGONAL_BAND_EV_PER_A2 = (0.5, 100.0)
"""Accepted range, in eV/Å², of the largest |element| of the on-site blocks Φ_ii.

Halide double perovskites have on-site force constants of roughly 1-30 eV/Å² (soft A-site
cations ~1, stiff B-X bonds of fluorides ~20-30). Values in eV/nm² are 100 times larger, in
kJ/mol/Å² ~96 times larger and in Hartree/Bohr² ~97 times smaller than in eV/Å², so a file in
those units falls outside this band and is refused instead of silently mis-scaled.
"""


class MissingHeavyPartError(KeyError):
    """A reference document without the requested heavy part."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class PendingBlob:
    """Arrays that become a blob in the data store when their document is written.

    Attributes
    ----------
    part : str
        Heavy part name (``"force_constants"``, ``"aimd"``, ``"band"``).
    arrays : dict of str to ndarray
    meta : dict
    """

    part: str
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def blob_id(self) -> str:
        """The content hash the blob will have."""
        return array_blob_id(self.arrays, kind=self.part, meta=self.meta)

    def put(self, data_store: Any) -> str:
        """Write the blob (once; equal content is stored once) and return its id."""
        return put_arrays(data_store, self.arrays, kind=self.part, meta=self.meta)


@dataclass
class AimdFrames:
    """Frames of an ab initio MD trajectory of one supercell.

    Attributes
    ----------
    symbols : list of str
        Chemical symbol of each of the N atoms.
    positions : ndarray, shape (n_frames, N, 3)
        Cartesian positions in Å.
    forces : ndarray, shape (n_frames, N, 3)
        Forces in eV/Å.
    cells : ndarray, shape (n_frames, 3, 3)
        Lattice vectors (rows) in Å.
    energies : ndarray, shape (n_frames,), or None
        Total (free) energies in eV; None when the source has none.
    temperature_K : float or None
        Thermostat temperature in K.
    time_step_fs : float or None
        MD time step in fs.
    run_index : ndarray, shape (n_frames,)
        Index of the run (file) each frame comes from, 0-based.
    """

    symbols: list[str]
    positions: np.ndarray
    forces: np.ndarray
    cells: np.ndarray
    energies: np.ndarray | None = None
    temperature_K: float | None = None
    time_step_fs: float | None = None
    run_index: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.symbols = [str(s) for s in self.symbols]
        self.positions = np.asarray(self.positions, dtype=float)
        self.forces = np.asarray(self.forces, dtype=float)
        self.cells = np.asarray(self.cells, dtype=float)
        n_frames, n_atoms = self.positions.shape[:2] if self.positions.ndim == 3 else (0, 0)
        if self.positions.ndim != 3 or self.positions.shape[2] != 3 or n_frames == 0:
            raise ValueError(
                f"positions must have shape (n_frames>0, N, 3), got {self.positions.shape}"
            )
        if len(self.symbols) != n_atoms:
            raise ValueError(f"{len(self.symbols)} symbols for {n_atoms} atoms")
        if self.forces.shape != self.positions.shape:
            raise ValueError(
                f"forces have shape {self.forces.shape}, positions {self.positions.shape}"
            )
        if self.cells.shape != (n_frames, 3, 3):
            raise ValueError(f"cells must have shape ({n_frames}, 3, 3), got {self.cells.shape}")
        if self.energies is not None:
            self.energies = np.asarray(self.energies, dtype=float)
            if self.energies.shape != (n_frames,):
                raise ValueError(
                    f"energies must have shape ({n_frames},), got {self.energies.shape}"
                )
        if self.run_index is None:
            self.run_index = np.zeros(n_frames, dtype=np.int64)
        self.run_index = np.asarray(self.run_index, dtype=np.int64)
        if self.run_index.shape != (n_frames,):
            raise ValueError(f"run_index must have shape ({n_frames},)")
        for name in ("positions", "forces", "cells", "energies"):
            value = getattr(self, name)
            if value is not None and not np.isfinite(value).all():
                frame = int(np.argwhere(~np.isfinite(value))[0][0])
                raise ValueError(f"{name} of frame {frame} is not finite (NaN or inf)")

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.positions.shape[0])

    @property
    def n_atoms(self) -> int:
        """Number of atoms N of the supercell."""
        return int(self.positions.shape[1])


def _numbers(symbols: list[str]) -> np.ndarray:
    from ase.data import atomic_numbers

    unknown = sorted({s for s in symbols if s not in atomic_numbers or s == "X"})
    if unknown:
        raise ValueError(f"unknown element symbol(s) {unknown}")
    return np.array([atomic_numbers[s] for s in symbols], dtype=np.int64)


def _symbols(numbers: np.ndarray) -> list[str]:
    from ase.data import chemical_symbols

    return [chemical_symbols[int(z)] for z in numbers]


def check_force_constants(
    force_constants: np.ndarray,
    n_atoms: int,
    *,
    where: str,
    band: tuple[float, float] = FC_DIAGONAL_BAND_EV_PER_A2,
) -> np.ndarray:
    """Refuse force constants of the wrong shape, with NaN, or in the wrong units.

    Parameters
    ----------
    force_constants : ndarray, shape (N, N, 3, 3)
        Full force constants in eV/Å².
    n_atoms : int
        Number of atoms N of the supercell they belong to.
    where : str
        File name for the messages.
    band : tuple of float
        Accepted range of the largest |element| of the on-site blocks Φ_ii, eV/Å².

    Returns
    -------
    ndarray, shape (N, N, 3, 3)
        The force constants as float64.

    Raises
    ------
    ValueError
        Naming ``where`` and the shape, the first non-finite entry, or the magnitude.
    """
    fc = np.asarray(force_constants, dtype=float)
    if fc.shape != (n_atoms, n_atoms, 3, 3):
        raise ValueError(
            f"{where}: force constants have shape {fc.shape}, but the supercell has {n_atoms} "
            f"atoms, so (N, N, 3, 3) = ({n_atoms}, {n_atoms}, 3, 3) is expected"
        )
    bad = ~np.isfinite(fc)
    if bad.any():
        i, j, a, b = (int(x) for x in np.argwhere(bad)[0])
        raise ValueError(
            f"{where}: {int(bad.sum())} force-constant value(s) are NaN or infinite "
            f"(first: atoms {i}, {j}, components {a}, {b})"
        )
    onsite = np.abs(fc[np.arange(n_atoms), np.arange(n_atoms)]).max(axis=(1, 2))
    largest = float(onsite.max())
    low, high = band
    if not low <= largest <= high:
        atom = int(onsite.argmax())
        raise ValueError(
            f"{where}: the largest on-site force constant |Φ_ii| is {largest:.4g} (atom {atom}), "
            f"outside the {low:g}-{high:g} eV/Å² expected for these halides; the file is probably "
            f"in other units (eV/nm² gives ~100x, Hartree/Bohr² ~1/97x the eV/Å² values)"
        )
    return fc


def force_constants_blob(supercell: Structure, force_constants: np.ndarray) -> PendingBlob:
    """The force-constants part of a reference document.

    Parameters
    ----------
    supercell : pymatgen.core.Structure
        Supercell with the reference positions R⁰ (N atoms).
    force_constants : ndarray, shape (N, N, 3, 3)
        Full force constants in eV/Å² (checked with :func:`check_force_constants` first).

    Returns
    -------
    PendingBlob
    """
    return PendingBlob(
        "force_constants",
        {
            "force_constants": np.asarray(force_constants, dtype=np.float64),
            "lattice": np.asarray(supercell.lattice.matrix, dtype=np.float64),
            "positions": np.asarray(supercell.cart_coords, dtype=np.float64),
            "numbers": np.asarray(supercell.atomic_numbers, dtype=np.int64),
        },
        {"units": {"force_constants": "eV/Å^2", "positions": "Å (Cartesian)", "lattice": "Å"}},
    )


def aimd_blob(frames: AimdFrames) -> PendingBlob:
    """The AIMD part of a reference document.

    Parameters
    ----------
    frames : AimdFrames

    Returns
    -------
    PendingBlob
    """
    arrays = {
        "positions": frames.positions,
        "forces": frames.forces,
        "cells": frames.cells,
        "numbers": _numbers(frames.symbols),
        "run_index": frames.run_index,
    }
    if frames.energies is not None:
        arrays["energies"] = frames.energies
    meta = {
        "temperature_K": frames.temperature_K,
        "time_step_fs": frames.time_step_fs,
        "units": {"positions": "Å", "forces": "eV/Å", "cells": "Å", "energies": "eV"},
    }
    return PendingBlob("aimd", arrays, meta)


def band_blob(
    q_points: np.ndarray,
    distances: np.ndarray,
    frequencies_THz: np.ndarray,
    *,
    group_velocities: np.ndarray | None = None,
    labels: list[str] | None = None,
) -> PendingBlob:
    """The phonon-band part of a reference document.

    Parameters
    ----------
    q_points : ndarray, shape (n_q, 3)
        Reduced coordinates of the q-points.
    distances : ndarray, shape (n_q,)
        Path length in 1/Å.
    frequencies_THz : ndarray, shape (n_q, n_bands)
        Frequencies in THz (imaginary ones negative).
    group_velocities : ndarray, shape (n_q, n_bands, 3), optional
        In THz·Å.
    labels : list of str, optional
        High-symmetry point labels along the path.

    Returns
    -------
    PendingBlob

    Raises
    ------
    ValueError
        For inconsistent shapes or non-finite values.
    """
    q = np.asarray(q_points, dtype=float)
    d = np.asarray(distances, dtype=float)
    f = np.asarray(frequencies_THz, dtype=float)
    if q.ndim != 2 or q.shape[1] != 3 or d.shape != (q.shape[0],) or f.ndim != 2:
        raise ValueError(
            f"band shapes do not fit: q_points {q.shape}, distances {d.shape}, "
            f"frequencies {f.shape} (expected (n_q, 3), (n_q,), (n_q, n_bands))"
        )
    if f.shape[0] != q.shape[0]:
        raise ValueError(f"{f.shape[0]} rows of frequencies for {q.shape[0]} q-points")
    arrays = {"q_points": q, "distances": d, "frequencies": f}
    if group_velocities is not None:
        v = np.asarray(group_velocities, dtype=float)
        if v.shape != (*f.shape, 3):
            raise ValueError(f"group_velocities must have shape {(*f.shape, 3)}, got {v.shape}")
        arrays["group_velocities"] = v
    for name, value in arrays.items():
        if not np.isfinite(value).all():
            raise ValueError(f"band {name} holds NaN or infinite values")
    meta = {
        "labels": list(labels or []),
        "units": {"frequencies": "THz", "distances": "1/Å", "group_velocities": "THz·Å"},
    }
    return PendingBlob("band", arrays, meta)


def _blob_id(doc: ReferenceDoc | dict[str, Any], part: str) -> str:
    heavy = doc.get("heavy", {}) if isinstance(doc, dict) else doc.heavy
    key = (doc.get("dataset"), doc.get("compound")) if isinstance(doc, dict) else doc.key
    blob_id = (heavy or {}).get(part)
    if not blob_id:
        raise MissingHeavyPartError(
            f"reference (dataset={key[0]!r}, compound={key[1]!r}) has no {part.replace('_', ' ')}"
            f"; import them (latticebench import vasp / phonopy / trajectory)"
        )
    return blob_id


def load_force_constants(
    doc: ReferenceDoc | dict[str, Any], data_store: Any
) -> tuple[Structure, np.ndarray]:
    """The supercell and full force constants of a reference document.

    Parameters
    ----------
    doc : ReferenceDoc or dict
        A reference document (model or stored dict).
    data_store : maggma.core.Store
        The data store holding its blobs.

    Returns
    -------
    supercell : pymatgen.core.Structure
        N atoms at the reference positions R⁰ (Å).
    force_constants : ndarray, shape (N, N, 3, 3)
        Φ in eV/Å², float64.

    Raises
    ------
    MissingHeavyPartError
        If the document has no force constants.
    """
    from pymatgen.core import Lattice, Structure

    arrays = load_blob(data_store, _blob_id(doc, "force_constants")).arrays
    supercell = Structure(
        Lattice(arrays["lattice"]),
        _symbols(arrays["numbers"]),
        arrays["positions"],
        coords_are_cartesian=True,
    )
    return supercell, arrays["force_constants"]


def load_aimd_frames(doc: ReferenceDoc | dict[str, Any], data_store: Any) -> AimdFrames:
    """The AIMD frames of a reference document.

    Parameters
    ----------
    doc : ReferenceDoc or dict
    data_store : maggma.core.Store

    Returns
    -------
    AimdFrames

    Raises
    ------
    MissingHeavyPartError
        If the document has no AIMD frames.
    """
    blob = load_blob(data_store, _blob_id(doc, "aimd"))
    a = blob.arrays
    return AimdFrames(
        symbols=_symbols(a["numbers"]),
        positions=a["positions"],
        forces=a["forces"],
        cells=a["cells"],
        energies=a.get("energies"),
        temperature_K=blob.meta.get("temperature_K"),
        time_step_fs=blob.meta.get("time_step_fs"),
        run_index=a["run_index"],
    )


def load_band(doc: ReferenceDoc | dict[str, Any], data_store: Any) -> dict[str, Any]:
    """The phonon band of a reference document.

    Parameters
    ----------
    doc : ReferenceDoc or dict
    data_store : maggma.core.Store

    Returns
    -------
    dict
        ``q_points`` (n_q, 3), ``distances`` (n_q,) 1/Å, ``frequencies`` (n_q, n_bands) THz,
        ``group_velocities`` (n_q, n_bands, 3) THz·Å or None, ``labels`` list of str.

    Raises
    ------
    MissingHeavyPartError
        If the document has no band.
    """
    blob = load_blob(data_store, _blob_id(doc, "band"))
    return {
        "q_points": blob.arrays["q_points"],
        "distances": blob.arrays["distances"],
        "frequencies": blob.arrays["frequencies"],
        "group_velocities": blob.arrays.get("group_velocities"),
        "labels": list(blob.meta.get("labels", [])),
    }
