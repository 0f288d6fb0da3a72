"""Symmetry-constrained relaxation of cell and positions with an ASE calculator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import spglib
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.constraints import FixSymmetry
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS, FIRE, LBFGS
from ase.units import GPa
from threadpoolctl import threadpool_limits

__all__ = ["RelaxResult", "relax_atoms", "space_group_number"]

_OPTIMIZERS = {"BFGS": BFGS, "FIRE": FIRE, "LBFGS": LBFGS}


def space_group_number(atoms: Atoms, symprec: float = 1e-3) -> int:
    """International space-group number found by spglib.

    Parameters
    ----------
    atoms : ase.Atoms
    symprec : float
        Distance tolerance in Å.

    Returns
    -------
    int
        1–230, or 0 when spglib finds none.
    """
    cell = (atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers)
    dataset = spglib.get_symmetry_dataset(cell, symprec=symprec)
    return 0 if dataset is None else int(dataset.number)


@dataclass(frozen=True)
class RelaxResult:
    """Outcome of :func:`relax_atoms`.

    Attributes
    ----------
    atoms : ase.Atoms
        Relaxed structure (no calculator attached).
    energy_eV : float
        Total energy of the relaxed structure (eV).
    max_force_eV_per_A : float
        Largest atomic force norm at the end (eV/Å).
    stress_GPa : np.ndarray
        Final stress, Voigt order (xx, yy, zz, yz, xz, xy), shape (6,), GPa.
    steps : int
        Optimizer steps taken.
    converged : bool
        Whether the optimizer reached ``fmax`` within ``max_steps``.
    space_group_before, space_group_after : int
        spglib space-group numbers of the input and the result.
    """

    atoms: Atoms
    energy_eV: float
    max_force_eV_per_A: float
    stress_GPa: np.ndarray
    steps: int
    converged: bool
    space_group_before: int
    space_group_after: int


def relax_atoms(
    atoms: Atoms,
    calculator: Calculator,
    *,
    fmax: float = 1e-3,
    max_steps: int = 1000,
    optimizer: str = "BFGS",
    symprec: float = 1e-3,
    relax_cell: bool = True,
) -> RelaxResult:
    """Relax positions (and the cell) while keeping the space group (ASE ``FixSymmetry``).

    Parameters
    ----------
    atoms : ase.Atoms
        Starting structure; not modified.
    calculator : ase.calculators.calculator.Calculator
    fmax : float
        Convergence threshold in eV/Å on forces (and on the stress term of the cell filter).
    max_steps : int
        Step limit; reaching it without convergence is recorded, not raised.
    optimizer : {"BFGS", "FIRE", "LBFGS"}
    symprec : float
        Symmetry tolerance in Å for the constraint and for the space-group check.
    relax_cell : bool
        Relax the cell with ``FrechetCellFilter`` (symmetry-constrained: cubic stays cubic).

    Returns
    -------
    RelaxResult
    """
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}, got {optimizer!r}")
    work = atoms.copy()
    work.calc = calculator
    before = space_group_number(work, symprec)
    work.set_constraint(FixSymmetry(work, symprec=symprec))
    target = FrechetCellFilter(work) if relax_cell else work
    opt = _OPTIMIZERS[optimizer](target, logfile=None)
    # The optimizer's and the cell filter's linear algebra is on tiny matrices (3×3 logm/expm,
    # a (3N+9)² Hessian); multi-threaded OpenBLAS there only fights torch's OpenMP threads for
    # the cores (measured: a 3×3 expm_frechet takes 0.1 ms alone, 5-10 ms right after a torch
    # call). One BLAS thread cut the relax's non-model time 3.5× (benchmarks/RESULTS.md);
    # torch's own threads (libgomp) are not affected.
    with threadpool_limits(limits=1, user_api="blas"):
        converged = bool(opt.run(fmax=fmax, steps=max_steps))
    forces = work.get_forces()
    energy = float(work.get_potential_energy())
    stress = np.asarray(work.get_stress(voigt=True), dtype=float) / GPa
    work.set_constraint()
    relaxed = Atoms(numbers=work.numbers, positions=work.positions, cell=work.cell[:], pbc=work.pbc)
    return RelaxResult(
        atoms=relaxed,
        energy_eV=energy,
        max_force_eV_per_A=float(np.linalg.norm(forces, axis=1).max()),
        stress_GPa=stress,
        steps=int(opt.nsteps),
        converged=converged,
        space_group_before=before,
        space_group_after=space_group_number(relaxed, symprec),
    )
