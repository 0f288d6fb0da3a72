"""VASP AIMD folders: ``vasprun.xml`` frames, ``SPOSCAR``, force constants, ``CONTCAR``.

``vasprun.xml`` is read with ``xml.etree.ElementTree.iterparse``: each ``<calculation>`` (one
ionic step) is converted to arrays and dropped as soon as it ends, so memory holds the arrays
only, not the XML tree (pymatgen's ``Vasprun`` keeps every step, electronic steps included).
Per frame: lattice ``<structure><crystal><varray name="basis">`` (Å), fractional
``<varray name="positions">`` (converted to Cartesian Å), ``<varray name="forces">`` (eV/Å) and
``<energy><i name="e_fr_energy">`` (free energy TOTEN, eV, the energy the forces belong to).
``POTIM`` (fs) and ``TEBEG`` (K) come from ``<incar>``, else ``<parameters>``. VASP writes MD
positions wrapped into the cell, so stored positions are too; displacements from the reference
positions must be taken with the minimum-image convention (as σ^A requires anyway).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from latticebench.references.common import (
    Candidate,
    DatasetInfo,
    ImportReport,
    commit,
    make_doc,
    sites_of,
)
from latticebench.references.errors import ImportFileError
from latticebench.references.force_constants import read_force_constants_file
from latticebench.references.heavy import (
    FC_DIAGONAL_BAND_EV_PER_A2,
    AimdFrames,
    aimd_blob,
    check_force_constants,
    force_constants_blob,
)

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "MAX_REFERENCE_DISPLACEMENT_A",
    "VasprunFrames",
    "import_vasp_aimd",
    "read_poscar",
    "read_vasprun",
]

MAX_REFERENCE_DISPLACEMENT_A = 1.5
"""Largest distance (Å) of an atom in the first MD frame from its SPOSCAR position.

Thermal displacements at 300 K are ~0.1-0.3 Å; an atom farther than this means the trajectory
and the SPOSCAR list atoms in different orders (or belong to different structures)."""


@dataclass
class VasprunFrames:
    """Frames read from one ``vasprun.xml``.

    Attributes
    ----------
    symbols : list of str
        N chemical symbols.
    positions : ndarray, shape (n_frames, N, 3)
        Cartesian positions, Å.
    forces : ndarray, shape (n_frames, N, 3)
        eV/Å.
    cells : ndarray, shape (n_frames, 3, 3)
        Lattice vectors as rows, Å.
    energies : ndarray, shape (n_frames,), or None
        e_fr_energy in eV; None if any frame lacks it.
    potim_fs : float or None
        Time step POTIM, fs.
    tebeg_K : float or None
        Start temperature TEBEG, K.
    """

    symbols: list[str]
    positions: np.ndarray
    forces: np.ndarray
    cells: np.ndarray
    energies: np.ndarray | None
    potim_fs: float | None
    tebeg_K: float | None


def _vectors(element: ET.Element | None, what: str, where: str) -> np.ndarray:
    if element is None:
        raise ImportFileError(f"{where}: no {what}")
    try:
        return np.array(
            " ".join(v.text or "" for v in element.iter("v")).split(), dtype=float
        ).reshape(-1, 3)
    except ValueError as exc:
        raise ImportFileError(f"{where}: unreadable number in {what} ({exc})") from None


def _scalar(text: str | None) -> float | None:
    try:
        return float((text or "").split()[0])
    except (IndexError, ValueError):
        return None


def read_vasprun(path: str | Path) -> VasprunFrames:
    """Read the ionic steps of a ``vasprun.xml`` incrementally.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    VasprunFrames

    Raises
    ------
    ImportFileError
        For a file that is not a vasprun.xml, is truncated (the message gives the last complete
        frame), lacks forces in a frame, or has no ionic steps.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    symbols: list[str] | None = None
    params: dict[str, dict[str, float | None]] = {"incar": {}, "parameters": {}}
    positions: list[np.ndarray] = []
    forces: list[np.ndarray] = []
    cells: list[np.ndarray] = []
    energies: list[float | None] = []
    stack: list[str] = []
    root: ET.Element | None = None
    try:
        for event, element in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                if root is None:
                    root = element
                    if element.tag != "modeling":
                        raise ImportFileError(
                            f"{path}: not a vasprun.xml (root element <{element.tag}>, "
                            f"expected <modeling>)"
                        )
                stack.append(element.tag)
                continue
            stack.pop()
            tag = element.tag
            if tag == "i" and element.get("name") in ("POTIM", "TEBEG"):
                section = "incar" if "incar" in stack else "parameters"
                params[section].setdefault(element.get("name", ""), _scalar(element.text))
            elif tag == "atominfo" and len(stack) == 1:
                array = element.find("array[@name='atoms']/set")
                if array is None:
                    raise ImportFileError(f"{path}: <atominfo> without the atoms array")
                symbols = [(rc.findtext("c") or "").strip() for rc in array.findall("rc")]
            elif tag == "calculation" and len(stack) == 1:
                frame = len(positions)
                where = f"{path}: frame {frame} (ionic step {frame + 1})"
                structure = element.find("structure")
                if structure is None:
                    raise ImportFileError(f"{where} has no <structure>")
                basis = _vectors(structure.find("crystal/varray[@name='basis']"), "basis", where)
                frac = _vectors(structure.find("varray[@name='positions']"), "positions", where)
                force = element.find("varray[@name='forces']")
                if force is None:
                    raise ImportFileError(f"{where} has no forces")
                f = _vectors(force, "forces", where)
                if basis.shape != (3, 3) or f.shape != frac.shape:
                    raise ImportFileError(
                        f"{where}: {frac.shape[0]} positions, {f.shape[0]} forces, "
                        f"{basis.shape[0]} lattice vectors"
                    )
                positions.append(frac @ basis)
                forces.append(f)
                cells.append(basis)
                energies.append(_scalar(element.findtext("energy/i[@name='e_fr_energy']")))
                if root is not None:
                    root.remove(element)  # keep memory bounded: drop the processed step
    except ET.ParseError as exc:
        line, column = exc.position
        last = (
            f"last complete frame {len(positions) - 1} (ionic step {len(positions)})"
            if positions
            else "no complete frame"
        )
        raise ImportFileError(
            f"{path}: truncated or malformed XML at line {line}, column {column} ({exc.msg}); "
            f"{last}"
        ) from None
    if symbols is None:
        raise ImportFileError(f"{path}: no <atominfo> (not a vasprun.xml?)")
    if not positions:
        raise ImportFileError(f"{path}: no ionic steps (<calculation> blocks)")
    n_atoms = len(symbols)
    for frame, p in enumerate(positions):
        if p.shape[0] != n_atoms:
            raise ImportFileError(
                f"{path}: frame {frame} has {p.shape[0]} atoms, <atominfo> lists {n_atoms}"
            )
    potim = params["incar"].get("POTIM") or params["parameters"].get("POTIM")
    tebeg = params["incar"].get("TEBEG") or params["parameters"].get("TEBEG")
    return VasprunFrames(
        symbols=symbols,
        positions=np.stack(positions),
        forces=np.stack(forces),
        cells=np.stack(cells),
        energies=None if any(e is None for e in energies) else np.array(energies, dtype=float),
        potim_fs=potim,
        tebeg_K=tebeg,
    )


def read_poscar(path: str | Path) -> Structure:
    """A structure from a POSCAR-format file (SPOSCAR, CONTCAR).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    pymatgen.core.Structure

    Raises
    ------
    ImportFileError
        For a missing or unreadable file, or one without element names.
    """
    from pymatgen.io.vasp import Poscar

    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    try:
        return Poscar.from_file(path, check_for_potcar=False, read_velocities=False).structure
    except Exception as exc:
        raise ImportFileError(f"{path}: not a readable POSCAR file ({exc})") from None


def _find(folder: Path, explicit: str | Path | None, names: tuple[str, ...]) -> Path | None:
    if explicit is not None:
        path = Path(explicit)
        path = path if path.is_absolute() or path.exists() else folder / path
        if not path.is_file():
            raise ImportFileError(f"{path}: no such file")
        return path
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None


def _check_composition(symbols: list[str], compound: str, where: str) -> None:
    from pymatgen.core import Composition

    expected = sites_of(compound).composition_40().reduced_composition
    found = Composition("".join(symbols)).reduced_composition
    if found != expected:
        raise ImportFileError(
            f"{where}: atoms make {found.reduced_formula}, but {compound!r} is "
            f"{expected.reduced_formula}"
        )


def _check_frames_match_supercell(
    frames: AimdFrames, supercell: Structure, where: str, sposcar: Path
) -> None:
    symbols = [site.specie.symbol for site in supercell]
    if symbols != frames.symbols:
        raise ImportFileError(
            f"{where}: the atoms ({len(frames.symbols)}) are not those of {sposcar} "
            f"({len(symbols)}) in the same order"
        )
    lattice = np.asarray(supercell.lattice.matrix)
    diff = np.linalg.solve(lattice.T, (frames.positions[0] - supercell.cart_coords).T).T
    diff -= np.round(diff)
    distance = np.linalg.norm(diff @ lattice, axis=1)
    if distance.max() > MAX_REFERENCE_DISPLACEMENT_A:
        atom = int(distance.argmax())
        raise ImportFileError(
            f"{where}: atom {atom} ({symbols[atom]}) of frame 0 is {distance.max():.2f} Å from "
            f"its position in {sposcar} (more than {MAX_REFERENCE_DISPLACEMENT_A} Å): the "
            f"trajectory does not belong to this SPOSCAR"
        )


def import_vasp_aimd(
    folder: str | Path,
    *,
    info: DatasetInfo,
    compound: str | None = None,
    vasprun: list[str | Path] | None = None,
    sposcar: str | Path | None = None,
    force_constants: str | Path | None = None,
    contcar: str | Path | None = None,
    skip_frames: int = 0,
    temperature_K: float | None = None,
    time_step_fs: float | None = None,
    fc_band: tuple[float, float] = FC_DIAGONAL_BAND_EV_PER_A2,
    update: bool = False,
    store: Any | None = None,
    data_store: Any | None = None,
) -> ImportReport:
    """Import one compound's VASP AIMD folder: frames, forces, Φ and structure.

    Parameters
    ----------
    folder : str or Path
        The compound's folder.
    info : DatasetInfo
        Dataset id and metadata.
    compound : str, optional
        Compound name; default: the folder's name.
    vasprun : list of path, optional
        Production runs; default: every ``vasprun*.xml`` in the folder, sorted by name.
    sposcar : path, optional
        Supercell with the reference positions; default ``SPOSCAR`` if present (required
        when force constants are imported).
    force_constants : path, optional
        Default ``force_constants.hdf5``, else ``FORCE_CONSTANTS``, if present.
    contcar : path, optional
        Relaxed cell stored as the document's structure; default ``CONTCAR`` if present.
    skip_frames : int
        Frames dropped from the start of every run (equilibration).
    temperature_K, time_step_fs : float, optional
        Override TEBEG / POTIM from the vasprun.
    fc_band : tuple of float
        Accepted largest on-site force constant, eV/Å² (unit sanity check).
    update : bool
        Apply changed values (recorded) instead of refusing them.
    store, data_store : maggma.core.Store, optional

    Returns
    -------
    ImportReport

    Raises
    ------
    ImportFileError
        Naming the file (and frame) for any unreadable or inconsistent input; nothing is
        written.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ImportFileError(f"{folder}: not a folder")
    compound = compound or folder.resolve().name
    try:
        sites_of(compound)
    except ValueError as exc:
        raise ImportFileError(f"{folder}: {exc} (pass compound=...)") from None
    runs = (
        [_find(folder, p, ()) for p in vasprun]
        if vasprun
        else sorted(p for p in folder.glob("vasprun*.xml") if p.is_file())
    )
    if not runs:
        raise ImportFileError(f"{folder}: no vasprun*.xml")
    if skip_frames < 0:
        raise ValueError(f"skip_frames must be >= 0, got {skip_frames}")

    parts: list[VasprunFrames] = []
    for run in runs:
        frames = read_vasprun(run)
        if frames.symbols != (parts[0].symbols if parts else frames.symbols):
            raise ImportFileError(f"{run}: atoms differ from those of {runs[0]}")
        if skip_frames >= frames.positions.shape[0]:
            raise ImportFileError(
                f"{run}: skip_frames={skip_frames} leaves none of its "
                f"{frames.positions.shape[0]} frames"
            )
        parts.append(frames)
    _check_composition(parts[0].symbols, compound, str(runs[0]))
    keep = slice(skip_frames, None)
    energies = (
        None
        if any(p.energies is None for p in parts)
        else np.concatenate([p.energies[keep] for p in parts])
    )
    try:
        aimd = AimdFrames(
            symbols=parts[0].symbols,
            positions=np.concatenate([p.positions[keep] for p in parts]),
            forces=np.concatenate([p.forces[keep] for p in parts]),
            cells=np.concatenate([p.cells[keep] for p in parts]),
            energies=energies,
            temperature_K=temperature_K if temperature_K is not None else parts[0].tebeg_K,
            time_step_fs=time_step_fs if time_step_fs is not None else parts[0].potim_fs,
            run_index=np.concatenate(
                [np.full(p.positions.shape[0] - skip_frames, i) for i, p in enumerate(parts)]
            ),
        )
    except ValueError as exc:
        raise ImportFileError(f"{runs[0]}: {exc}") from None
    blobs = [aimd_blob(aimd)]

    sposcar_path = _find(folder, sposcar, ("SPOSCAR",))
    fc_path = _find(folder, force_constants, ("force_constants.hdf5", "FORCE_CONSTANTS"))
    if fc_path is not None and sposcar_path is None:
        raise ImportFileError(f"{fc_path}: force constants need the SPOSCAR they belong to")
    if sposcar_path is not None:
        supercell = read_poscar(sposcar_path)
        _check_frames_match_supercell(aimd, supercell, str(runs[0]), sposcar_path)
        if fc_path is not None:
            fc = read_force_constants_file(fc_path, supercell)
            try:
                fc = check_force_constants(fc, len(supercell), where=str(fc_path), band=fc_band)
            except ValueError as exc:
                raise ImportFileError(str(exc)) from None
            blobs.append(force_constants_blob(supercell, fc))

    values: dict[str, Any] = {}
    contcar_path = _find(folder, contcar, ("CONTCAR",))
    if contcar_path is not None:
        structure = read_poscar(contcar_path)
        _check_composition([s.specie.symbol for s in structure], compound, str(contcar_path))
        values["structure"] = structure.as_dict()
        values["structure_note"] = f"{contcar_path.name} of the AIMD folder"
    frames_note = f"{aimd.n_frames} frames from {', '.join(p.name for p in runs)}"
    try:
        doc = make_doc(
            info,
            str(folder),
            frames_note,
            compound=compound,
            halide=sites_of(compound).X,
            heavy={blob.part: blob.blob_id for blob in blobs},
            **values,
        )
    except ValueError as exc:
        raise ImportFileError(f"{folder}: {exc}") from None
    candidate = Candidate(doc, frames_note, blobs)
    return commit(
        [candidate],
        [],
        file=str(folder),
        dataset=info.dataset,
        n_records=1,
        update=update,
        store=store,
        data_store=data_store,
    )
