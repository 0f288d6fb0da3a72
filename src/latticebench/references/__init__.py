"""DFT reference data: importers into the ``references`` collection and heavy-part loaders."""

from __future__ import annotations

from latticebench.references.ase_db import PUBLISHED_DB_INFO, import_ase_db
from latticebench.references.bundled import HDP_CHEMMATER_2022, import_bundled
from latticebench.references.common import DatasetInfo, ImportReport
from latticebench.references.errors import BadRecord, BadRecordsError, ImportFileError
from latticebench.references.heavy import (
    AimdFrames,
    MissingHeavyPartError,
    load_aimd_frames,
    load_band,
    load_force_constants,
)
from latticebench.references.phonopy_files import import_phonopy
from latticebench.references.tables import import_csv
from latticebench.references.trajectory import import_trajectory
from latticebench.references.vasp import import_vasp_aimd

__all__ = [
    "HDP_CHEMMATER_2022",
    "PUBLISHED_DB_INFO",
    "AimdFrames",
    "BadRecord",
    "BadRecordsError",
    "DatasetInfo",
    "ImportFileError",
    "ImportReport",
    "MissingHeavyPartError",
    "import_ase_db",
    "import_bundled",
    "import_csv",
    "import_phonopy",
    "import_trajectory",
    "import_vasp_aimd",
    "load_aimd_frames",
    "load_band",
    "load_force_constants",
]
