"""An ASE calculator with purely harmonic forces F = -Φu around reference positions."""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from latticebench.analysis import harmonic_forces, minimum_image_displacements


class HarmonicCalculator(Calculator):
    """E = ½ uᵀΦu, F = -Φu with minimum-image displacements u from ``reference`` (Å, eV/Å²)."""

    implemented_properties = ("energy", "forces", "free_energy")

    def __init__(self, force_constants, reference, cell, nan_at_call: int | None = None):
        super().__init__()
        self.force_constants = np.asarray(force_constants, dtype=float)
        self.reference = np.asarray(reference, dtype=float)
        self.cell = np.asarray(cell, dtype=float)
        self.nan_at_call = nan_at_call
        self.calls = 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.calls += 1
        u = minimum_image_displacements(self.atoms.positions, self.reference, self.cell)
        forces = harmonic_forces(u, self.force_constants)
        if self.nan_at_call is not None and self.calls >= self.nan_at_call:
            forces = forces * np.nan
        energy = -0.5 * float(np.sum(u * forces))
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}
