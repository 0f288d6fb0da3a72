"""Unit conversion of imported columns to the schema's units.

Each convertible :class:`~latticebench.schemas.ReferenceDoc` field has a quantity; a declared
unit is converted with the factors below (CODATA constants from :mod:`scipy.constants`). A
quantity name may stand for its field: ``energy`` → ``formation_energy_eV_per_atom``,
``frequency`` → ``sigma_weighted_frequency_THz``.
"""

from __future__ import annotations

from scipy import constants as _c

__all__ = ["FIELD_QUANTITY", "QUANTITY_ALIASES", "UNIT_FACTORS", "conversion_factor"]

_EV = _c.electron_volt  # J
_MOL = _c.Avogadro
_HARTREE_EV = _c.physical_constants["Hartree energy in eV"][0]

UNIT_FACTORS: dict[str, dict[str, float]] = {
    "energy_per_atom": {
        "eV/atom": 1.0,
        "meV/atom": 1e-3,
        "Ha/atom": _HARTREE_EV,
        "Ry/atom": _HARTREE_EV / 2.0,
        "kJ/mol": 1e3 / _MOL / _EV,
        "kcal/mol": _c.calorie * 1e3 / _MOL / _EV,
    },
    "frequency": {
        "THz": 1.0,
        "GHz": 1e-3,
        "cm-1": _c.c * 100.0 / 1e12,  # 1 cm^-1 = c [cm/s] Hz
        "meV": 1e-3 * _EV / _c.h / 1e12,  # E = h f
    },
    "dimensionless": {"1": 1.0, "": 1.0},
}
"""Factor that multiplies a value in the given unit to give the schema's unit."""

FIELD_QUANTITY: dict[str, str] = {
    "sigma_300K": "dimensionless",
    "formation_energy_eV_per_atom": "energy_per_atom",
    "sigma_weighted_frequency_THz": "frequency",
    "tolerance_factor": "dimensionless",
    "octahedral_factor": "dimensionless",
    "octahedral_mismatch": "dimensionless",
}
"""Quantity of every numeric field an importer reads from a table."""

QUANTITY_ALIASES: dict[str, str] = {
    "energy": "formation_energy_eV_per_atom",
    "frequency": "sigma_weighted_frequency_THz",
}
"""Short names accepted in place of a field name when declaring units."""


def conversion_factor(field: str, unit: str) -> float:
    """Factor converting ``field`` values given in ``unit`` to the schema's unit.

    Parameters
    ----------
    field : str
        Schema field name, or an alias from :data:`QUANTITY_ALIASES`.
    unit : str
        Unit of the input values, e.g. ``"meV/atom"`` or ``"cm-1"`` (``cm^-1`` also accepted).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a field without a unit or an unknown unit; the message lists the accepted units.
    """
    field = QUANTITY_ALIASES.get(field, field)
    if field not in FIELD_QUANTITY:
        raise ValueError(
            f"no unit can be declared for {field!r}; numeric fields: {sorted(FIELD_QUANTITY)} "
            f"(aliases {sorted(QUANTITY_ALIASES)})"
        )
    table = UNIT_FACTORS[FIELD_QUANTITY[field]]
    normalised = unit.strip().replace("^-1", "-1").replace("cm⁻¹", "cm-1")
    if normalised not in table:
        raise ValueError(
            f"unknown unit {unit!r} for {field}; accepted: {', '.join(repr(u) for u in table)}"
        )
    return table[normalised]
