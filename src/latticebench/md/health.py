"""Health checks that stop an exploding MD run: non-finite forces, temperature runaway, collisions.

Each check returns ``None`` when the state is healthy, else a :class:`HealthIssue` that names the
step and what went wrong. The engine runs :func:`check_forces` and :func:`check_temperature` on
every step (they cost one pass over the arrays) and :func:`check_min_distance` every
``distance_check_interval`` steps (a neighbour search).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from ase import Atoms

    from latticebench.md.parameters import HealthLimits

__all__ = [
    "HealthIssue",
    "IssueKind",
    "check_forces",
    "check_min_distance",
    "check_temperature",
]

IssueKind = Literal["non_finite_forces", "temperature_runaway", "atoms_too_close"]


@dataclass(frozen=True)
class HealthIssue:
    """Why a run was stopped.

    Attributes
    ----------
    kind : {"non_finite_forces", "temperature_runaway", "atoms_too_close"}
        Which check fired.
    step : int
        Global step index at which it fired (the state after that many integration steps).
    message : str
        Human-readable explanation with the offending numbers.
    """

    kind: IssueKind
    step: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (``kind``, ``step``, ``message``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HealthIssue:
        """Inverse of :meth:`to_dict`."""
        return cls(kind=data["kind"], step=int(data["step"]), message=str(data["message"]))


def check_forces(forces: np.ndarray, step: int) -> HealthIssue | None:
    """Flag NaN or infinite forces.

    Parameters
    ----------
    forces : numpy.ndarray, shape (N, 3)
        Forces (eV/Å) evaluated on the positions of ``step``.
    step : int
        Global step index of those positions.

    Returns
    -------
    HealthIssue or None
        A ``"non_finite_forces"`` issue naming the affected atoms, or None.
    """
    finite = np.isfinite(forces)
    if finite.all():
        return None
    bad_atoms = np.flatnonzero(~finite.all(axis=1))
    shown = ", ".join(str(i) for i in bad_atoms[:5]) + (", ..." if bad_atoms.size > 5 else "")
    return HealthIssue(
        kind="non_finite_forces",
        step=step,
        message=(f"non-finite forces at step {step} on {bad_atoms.size} atom(s) (indices {shown})"),
    )


def check_temperature(
    temperature_K: float, target_K: float, limits: HealthLimits, step: int
) -> HealthIssue | None:
    """Flag an instantaneous temperature above ``max_temperature_factor`` × target.

    Parameters
    ----------
    temperature_K : float
        Instantaneous kinetic temperature (K) at ``step``.
    target_K : float
        Thermostat target temperature (K).
    limits : HealthLimits
        Supplies ``max_temperature_factor``.
    step : int
        Global step index.

    Returns
    -------
    HealthIssue or None
        A ``"temperature_runaway"`` issue, or None. A NaN temperature counts as a runaway.
    """
    ceiling = limits.max_temperature_factor * target_K
    if temperature_K <= ceiling:
        return None
    return HealthIssue(
        kind="temperature_runaway",
        step=step,
        message=(
            f"temperature runaway at step {step}: instantaneous temperature {temperature_K:.6g} K "
            f"exceeds {limits.max_temperature_factor:g} x {target_K:g} K = {ceiling:.6g} K"
        ),
    )


def check_min_distance(atoms: Atoms, limits: HealthLimits, step: int) -> HealthIssue | None:
    """Flag two atoms (periodic images included) closer than ``min_distance_A``.

    Parameters
    ----------
    atoms : ase.Atoms
        Current structure; positions may lie outside the cell (they are not wrapped).
    limits : HealthLimits
        Supplies ``min_distance_A`` (Å).
    step : int
        Global step index.

    Returns
    -------
    HealthIssue or None
        An ``"atoms_too_close"`` issue naming the closest pair, or None.
    """
    from ase.neighborlist import neighbor_list

    first, second, distance = neighbor_list("ijd", atoms, limits.min_distance_A)
    if distance.size == 0:
        return None
    closest = int(np.argmin(distance))
    i, j = sorted((int(first[closest]), int(second[closest])))
    return HealthIssue(
        kind="atoms_too_close",
        step=step,
        message=(
            f"atoms too close at step {step}: atoms {i} and {j} are {distance[closest]:.4f} Å "
            f"apart (limit {limits.min_distance_A:g} Å)"
        ),
    )
