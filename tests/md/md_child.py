"""Child process of the kill-and-resume test: run MD on the harmonic crystal, slowly.

Usage: python -m tests.md.md_child DIRECTORY PARAMETERS_JSON DELAY_S
"""

from __future__ import annotations

import sys

from latticebench.md import MDParameters, MDRun
from tests.md.calculators import SlowHarmonicLattice, simple_cubic


def main(directory: str, parameters_json: str, delay_s: str) -> None:
    atoms = simple_cubic()
    parameters = MDParameters.model_validate_json(parameters_json)
    calculator = SlowHarmonicLattice(atoms, delay_s=float(delay_s))
    MDRun(directory, atoms, parameters).run(calculator)


if __name__ == "__main__":
    main(*sys.argv[1:4])
