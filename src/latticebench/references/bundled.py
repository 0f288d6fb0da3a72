"""The bundled table: DFT σ^A(300 K) of 1,813 halide double perovskites (Chem. Mater. 2022).

``src/latticebench/data/hdp_dft_sigma_300K.csv`` ships with the package (see the README
there). :func:`import_bundled` stores it as dataset ``hdp-chemmater-2022`` with the citation,
DOI, the selection note and the σ definition of the source group's code.

The documents carry no structure: the table has none, and an ideal Fm-3m cell guessed from
ionic radii (:func:`latticebench.structures.build_double_perovskite`) is not DFT data, so it does
not belong in a *reference* document; build it from the compound name where it is needed.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from typing import Any

from latticebench.references.common import DatasetInfo, ImportReport, commit
from latticebench.references.tables import read_csv_records

__all__ = ["BUNDLED_FILE", "HDP_CHEMMATER_2022", "import_bundled"]

BUNDLED_FILE = "hdp_dft_sigma_300K.csv"
"""File name of the table inside the package ``latticebench.data``."""

HDP_CHEMMATER_2022 = DatasetInfo(
    dataset="hdp-chemmater-2022",
    level_of_theory="DFT PBE (VASP) AIMD at 300 K",
    citation=(
        'J. Yang et al., "Mapping the Room-Temperature Dynamic Stabilities of Inorganic Halide '
        'Double Perovskites", Chem. Mater. 2022'
    ),
    doi="10.1021/acs.chemmater.2c01779",
    selection_note=(
        "Figure data of the source's analysis notebook: compounds with sigma >= 2 and compounds "
        "lacking a formation energy or a sigma were dropped (1,813 of ~2,000 compounds; none "
        "with sigma >= 2)."
    ),
    sigma_definition="std",  # futuremat AnharmonicScore: std(F^A)/std(F), flattened trajectory
)
"""Metadata of the published database (J. Yang et al., Chem. Mater. 2022)."""


def import_bundled(
    *,
    update: bool = False,
    skip_bad: bool = False,
    store: Any | None = None,
) -> ImportReport:
    """Import the bundled 1,813-compound table into the ``references`` collection.

    Parameters
    ----------
    update : bool
        Apply changed values (recorded) instead of refusing them.
    skip_bad : bool
        Import good rows even if some are bad.
    store : maggma.core.Store, optional
        Default: the configured ``references`` store.

    Returns
    -------
    ImportReport
        A second import reports 0 inserted and 0 updated.
    """
    display = f"latticebench.data/{BUNDLED_FILE}"
    with as_file(files("latticebench.data") / BUNDLED_FILE) as path:
        good, bad, n = read_csv_records(path, HDP_CHEMMATER_2022, display_name=display)
    return commit(
        good,
        bad,
        file=display,
        dataset=HDP_CHEMMATER_2022.dataset,
        n_records=n,
        update=update,
        skip_bad=skip_bad,
        store=store,
    )
