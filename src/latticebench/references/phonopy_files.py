"""Phonopy calculations: ``phonopy_params.yaml`` (or ``phonopy.yaml`` + ``FORCE_SETS``).

``phonopy.load`` builds the calculation; force constants are produced (full, not compact)
from the forces it finds (``phonopy_params.yaml`` carries them; otherwise ``FORCE_SETS``
beside the yaml file). They are stored with the supercell; the unit cell becomes the document's
structure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latticebench.references.common import (
    Candidate,
    DatasetInfo,
    ImportReport,
    commit,
    make_doc,
    sites_of,
)
from latticebench.references.errors import ImportFileError
from latticebench.references.heavy import (
    FC_DIAGONAL_BAND_EV_PER_A2,
    check_force_constants,
    force_constants_blob,
)

__all__ = ["import_phonopy", "read_phonopy"]


def _structure(cell: Any) -> Any:
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice(cell.cell), list(cell.symbols), cell.scaled_positions)


def read_phonopy(
    path: str | Path,
    *,
    force_sets: str | Path | None = None,
    fc_band: tuple[float, float] = FC_DIAGONAL_BAND_EV_PER_A2,
) -> tuple[Any, Any, Any]:
    """Load a phonopy calculation and produce its full force constants.

    Parameters
    ----------
    path : str or Path
        ``phonopy_params.yaml`` / ``phonopy.yaml`` / ``phonopy_disp.yaml``, or a folder holding
        one of them.
    force_sets : path, optional
        ``FORCE_SETS`` file; default: ``FORCE_SETS`` beside the yaml file, if present.
    fc_band : tuple of float
        Accepted largest on-site force constant, eV/Å².

    Returns
    -------
    unitcell : pymatgen.core.Structure
    supercell : pymatgen.core.Structure
    force_constants : ndarray, shape (N, N, 3, 3)
        eV/Å².

    Raises
    ------
    ImportFileError
        Naming the file for unreadable input, missing forces, non-VASP units or force
        constants that fail the checks.
    """
    import phonopy

    path = Path(path)
    if path.is_dir():
        for name in ("phonopy_params.yaml", "phonopy.yaml", "phonopy_disp.yaml"):
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise ImportFileError(f"{path}: no phonopy_params.yaml / phonopy.yaml in the folder")
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    sets = Path(force_sets) if force_sets is not None else path.parent / "FORCE_SETS"
    kwargs: dict[str, Any] = {}
    if force_sets is not None or sets.is_file():
        if not sets.is_file():
            raise ImportFileError(f"{sets}: no such file")
        kwargs["force_sets_filename"] = str(sets)
    try:
        ph = phonopy.load(str(path), produce_fc=True, is_compact_fc=False, log_level=0, **kwargs)
    except Exception as exc:
        raise ImportFileError(
            f"{path}: phonopy cannot load it ({type(exc).__name__}: {exc})"
        ) from None
    if ph.force_constants is None:
        raise ImportFileError(
            f"{path}: no forces or force constants (phonopy_params.yaml with forces, or a "
            f"FORCE_SETS file, is needed)"
        )
    calculator = getattr(ph, "calculator", None)
    if calculator not in (None, "vasp"):
        raise ImportFileError(
            f"{path}: calculator {calculator!r} gives force constants in other units than "
            f"eV/Å²; convert the calculation to VASP units first"
        )
    supercell = _structure(ph.supercell)
    try:
        fc = check_force_constants(
            ph.force_constants, len(supercell), where=str(path), band=fc_band
        )
    except ValueError as exc:
        raise ImportFileError(str(exc)) from None
    return _structure(ph.unitcell), supercell, fc


def import_phonopy(
    path: str | Path,
    *,
    compound: str,
    info: DatasetInfo,
    force_sets: str | Path | None = None,
    fc_band: tuple[float, float] = FC_DIAGONAL_BAND_EV_PER_A2,
    update: bool = False,
    store: Any | None = None,
    data_store: Any | None = None,
) -> ImportReport:
    """Import one compound's phonopy force constants (and unit cell).

    Parameters
    ----------
    path : str or Path
        phonopy yaml file or its folder.
    compound : str
    info : DatasetInfo
    force_sets : path, optional
    fc_band : tuple of float
    update : bool
    store, data_store : maggma.core.Store, optional

    Returns
    -------
    ImportReport

    Raises
    ------
    ImportFileError
        Naming the file; nothing is written.
    """
    from pymatgen.core import Composition

    try:
        sites = sites_of(compound)
    except ValueError as exc:
        raise ImportFileError(f"{path}: {exc}") from None
    unitcell, supercell, fc = read_phonopy(path, force_sets=force_sets, fc_band=fc_band)
    expected = sites.composition_40().reduced_composition
    if Composition(unitcell.composition).reduced_composition != expected:
        raise ImportFileError(
            f"{path}: the unit cell is {unitcell.composition.reduced_formula}, but {compound!r} "
            f"is {expected.reduced_formula}"
        )
    blob = force_constants_blob(supercell, fc)
    location = f"phonopy, {len(supercell)}-atom supercell"
    doc = make_doc(
        info,
        str(path),
        location,
        compound=compound,
        halide=sites.X,
        structure=unitcell.as_dict(),
        structure_note="unit cell of the phonopy calculation",
        heavy={"force_constants": blob.blob_id},
    )
    return commit(
        [Candidate(doc, location, [blob])],
        [],
        file=str(path),
        dataset=info.dataset,
        n_records=1,
        update=update,
        store=store,
        data_store=data_store,
    )
