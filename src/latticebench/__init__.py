"""latticebench: where machine-learned interatomic potentials can be trusted for lattice dynamics.

Runs MLIP relax, phonon, MD and anharmonicity jobs as jobflow flows, stores the results in
MongoDB (or an embedded file-backed store) and compares them with DFT reference data.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("latticebench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
