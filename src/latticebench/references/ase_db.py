"""The published database as an ASE SQLite file (``double_halide_pv.db``).

Rows carry key-value pairs ``uid`` = ``'dpv_<compound>'``, ``sigma_300K_single`` (σ^A at
300 K, the source group's std definition), ``formation_energy`` (eV/atom) and
``sigma_mode_averaged_300K`` (σ-weighted mode frequency, THz), and the structure. A row without
``sigma_300K_single`` (or with NaN there) is a bad record, reported with its row id, never
silently kept without σ.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from latticebench.references.bundled import HDP_CHEMMATER_2022
from latticebench.references.common import (
    Candidate,
    DatasetInfo,
    ImportReport,
    collect_records,
    commit,
    finite_float,
    make_doc,
    sites_of,
)
from latticebench.references.errors import ImportFileError

__all__ = ["PUBLISHED_DB_INFO", "import_ase_db", "read_ase_db_records"]

SQLITE_MAGIC = b"SQLite format 3\x00"

PUBLISHED_DB_INFO = DatasetInfo(
    dataset=HDP_CHEMMATER_2022.dataset,
    level_of_theory=HDP_CHEMMATER_2022.level_of_theory,
    citation=HDP_CHEMMATER_2022.citation,
    doi=HDP_CHEMMATER_2022.doi,
    sigma_definition="std",
)
"""Defaults for the published database: same dataset as the bundled table, no selection note
(the database holds every computed compound)."""


def _check_sqlite(path: Path) -> None:
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        raise ImportFileError(
            f"{path}: not an SQLite database (an ASE .db file starts with 'SQLite format 3'; "
            f"this one starts with {head[:16]!r})"
        )


def read_ase_db_records(
    path: str | Path, info: DatasetInfo, *, uid_prefix: str = "dpv_"
) -> tuple[list[Candidate], list[Any], int]:
    """Read an ASE SQLite database in the published schema (no store is touched).

    Parameters
    ----------
    path : str or Path
    info : DatasetInfo
    uid_prefix : str
        Prefix of the ``uid`` key before the compound name.

    Returns
    -------
    good : list of Candidate
    bad : list of BadRecord
    n_records : int

    Raises
    ------
    ImportFileError
        If the file is not an SQLite database, not an ASE database, or empty.
    """
    import ase.db
    from pymatgen.core import Composition
    from pymatgen.io.ase import AseAtomsAdaptor

    path = Path(path)
    _check_sqlite(path)
    try:
        rows = list(ase.db.connect(str(path), type="db", create_indices=False).select())
    except Exception as exc:
        raise ImportFileError(f"{path}: not a readable ASE database ({exc})") from exc
    if not rows:
        raise ImportFileError(f"{path}: the database has no rows")

    def builders() -> Iterator[tuple[str, str | None, Any]]:
        for row in rows:
            location = f"row id={row.id}"
            pairs = dict(row.key_value_pairs)
            uid = pairs.get("uid")
            compound = (
                uid[len(uid_prefix) :]
                if isinstance(uid, str) and uid.startswith(uid_prefix)
                else None
            )

            def build(row: Any = row, pairs: dict = pairs, uid: Any = uid) -> Candidate:
                location = f"row id={row.id}"
                if not isinstance(uid, str) or not uid.startswith(uid_prefix):
                    raise ValueError(f"uid {uid!r} is not '{uid_prefix}<compound>'")
                name = uid[len(uid_prefix) :]
                sites = sites_of(name)
                if "sigma_300K_single" not in pairs:
                    raise ValueError("no sigma_300K_single key: the row has no σ^A(300 K)")
                values: dict[str, Any] = {
                    "sigma_300K": finite_float(pairs["sigma_300K_single"], "sigma_300K_single")
                }
                if "formation_energy" in pairs:
                    values["formation_energy_eV_per_atom"] = finite_float(
                        pairs["formation_energy"], "formation_energy"
                    )
                if "sigma_mode_averaged_300K" in pairs:
                    values["sigma_weighted_frequency_THz"] = finite_float(
                        pairs["sigma_mode_averaged_300K"], "sigma_mode_averaged_300K"
                    )
                structure = AseAtomsAdaptor.get_structure(row.toatoms())
                expected = sites.composition_40().reduced_composition
                if Composition(structure.composition).reduced_composition != expected:
                    raise ValueError(
                        f"structure has composition {structure.composition.reduced_formula}, "
                        f"but {name!r} is {expected.reduced_formula}"
                    )
                doc = make_doc(
                    info,
                    str(path),
                    location,
                    compound=name,
                    halide=sites.X,
                    structure=structure.as_dict(),
                    structure_note="structure of the ASE database row",
                    **values,
                )
                return Candidate(doc, location)

            yield location, compound, build

    return collect_records(builders())


def import_ase_db(
    path: str | Path,
    *,
    info: DatasetInfo = PUBLISHED_DB_INFO,
    uid_prefix: str = "dpv_",
    update: bool = False,
    skip_bad: bool = False,
    store: Any | None = None,
) -> ImportReport:
    """Import an ASE SQLite database in the published schema.

    Parameters
    ----------
    path : str or Path
    info : DatasetInfo
        Dataset id and metadata; default: the published database (Chem. Mater. 2022).
    uid_prefix : str
        Prefix of ``uid`` before the compound name.
    update : bool
        Apply changed values (recorded) instead of refusing them.
    skip_bad : bool
        Import the good rows when some are bad.
    store : maggma.core.Store, optional

    Returns
    -------
    ImportReport

    Raises
    ------
    ImportFileError
        For a file that is not an SQLite/ASE database.
    BadRecordsError
        For bad rows without ``skip_bad`` (nothing written).
    """
    good, bad, n = read_ase_db_records(path, info, uid_prefix=uid_prefix)
    return commit(
        good,
        bad,
        file=str(path),
        dataset=info.dataset,
        n_records=n,
        update=update,
        skip_bad=skip_bad,
        store=store,
    )
