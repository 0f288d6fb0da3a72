"""Calculators that misbehave on purpose (on top of the MD tests' harmonic crystal)."""

from __future__ import annotations

from ase.calculators.calculator import all_changes

from tests.md.calculators import HarmonicLattice


class OutOfMemoryOnCalls(HarmonicLattice):
    """Harmonic lattice that raises torch's out-of-memory error on the given (0-based) calls."""

    def __init__(self, reference, oom_calls, message="CUDA out of memory. Tried to allocate 2 GiB"):
        super().__init__(reference)
        self.oom_calls = set(oom_calls)
        self.message = message

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        import torch

        call = self.n_calls
        if call in self.oom_calls:
            self.n_calls += 1
            raise torch.OutOfMemoryError(self.message)
        super().calculate(atoms, properties, system_changes)


class FailsOnCall(HarmonicLattice):
    """Harmonic lattice that raises an ordinary error on one call (not something to correct)."""

    def __init__(self, reference, call):
        super().__init__(reference)
        self.fail_call = call

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        if self.n_calls == self.fail_call:
            self.n_calls += 1
            raise ValueError("the model could not evaluate this structure")
        super().calculate(atoms, properties, system_changes)
