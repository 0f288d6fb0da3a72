"""Compound name → ordered cubic (Fm-3m) halide double perovskite A2 B B' X6.

The conventional cell has 40 atoms: A on 8c (1/4, 1/4, 1/4), B on 4a (0, 0, 0), B' on 4b
(1/2, 1/2, 1/2) and X on 24e (x, 0, 0); the primitive (FCC) cell has 10. Names follow the four
patterns of the published database (see DESIGN.md §2):

=============  ============  =================================================================
pattern        example       meaning
=============  ============  =================================================================
A2 B B' X6     Cs2AgBiBr6    the element with count 2 is A; the two single elements are B, B'
B A2 B' X6     CsK2AlBr6     A = K (count 2); the other single element (Cs) sits on a B site
A3 B' X6       Cs3BiBr6      A2 (A)(B') X6: the A element also occupies a B site
A B X3         CsAuBr3       A2 B2 X6 with the same element on B and B' (mixed valence)
=============  ============  =================================================================

The initial geometry comes from Shannon ionic radii with A⁺, X⁻ and one B⁺ / one B'³⁺: each
octahedron gets its ideal bond length, ``a = 2 (r_B + r_B' + 2 r_X)`` and ``x = (r_B + r_X) / a``;
when the A cation is too large for that cell (tolerance factor > 1) the cell is expanded so that
the A–X distance is ``r_A + r_X``. The MLIP relaxation decides the rest.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pymatgen.core import Element, Lattice, Structure

__all__ = [
    "HALIDES",
    "CompoundNameError",
    "DoublePerovskiteSites",
    "as_structure",
    "build_double_perovskite",
    "parse_compound",
]

HALIDES = ("F", "Cl", "Br", "I")
"""Elements accepted on the X site of a name-built structure."""

# Site elements of the published database (DESIGN.md §2); used to decide which B is monovalent.
_MONOVALENT_B = frozenset({"Pd", "Li", "Na", "K", "Rb", "Cs", "Cu", "Ag", "Au", "Hg", "In", "Tl"})
_TRIVALENT_B = frozenset(
    {
        "Pd", "Ir", "Pr", "Rh", "Ru", "La", "Mo", "Nd", "Ni", "Nb", "Lu", "Ce", "Mn", "Co",
        "Cr", "Dy", "Er", "Sc", "Ta", "Tb", "Eu", "Y", "Al", "Gd", "Ga", "In", "As", "Sb",
        "Bi", "Fe", "Sm", "Ti", "Tl", "Tm", "V", "Au",
    }
)  # fmt: skip

_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*)")
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9,
          "X": 10, "XI": 11, "XII": 12, "XIV": 14}  # fmt: skip

Pattern = Literal["A2BB'X6", "BA2B'X6", "A3B'X6", "ABX3"]

WYCKOFF = {"A": "8c", "B": "4a", "B'": "4b", "X": "24e"}
"""Wyckoff letter of each site of the ordered double perovskite (origin on B)."""


class CompoundNameError(ValueError):
    """A compound name that is not one of the four double-perovskite patterns."""


@dataclass(frozen=True)
class DoublePerovskiteSites:
    """Which element sits on which site of A2 B B' X6.

    Attributes
    ----------
    name : str
        The compound name as given.
    pattern : str
        One of ``"A2BB'X6"``, ``"BA2B'X6"``, ``"A3B'X6"``, ``"ABX3"``.
    A, B, B_prime, X : str
        Element symbols; ``B`` is the site assumed monovalent (4a), ``B_prime`` trivalent (4b).
    """

    name: str
    pattern: Pattern
    A: str
    B: str
    B_prime: str
    X: str

    @property
    def formula(self) -> str:
        """Reduced formula of the 40-atom cell (pymatgen convention)."""
        return self.composition_40().reduced_formula

    def composition_40(self):
        """Composition of the 40-atom conventional cell (A8 B4 B'4 X24).

        Returns
        -------
        pymatgen.core.Composition
        """
        from pymatgen.core import Composition

        counts: dict[str, float] = {}
        for element, n in ((self.A, 8), (self.B, 4), (self.B_prime, 4), (self.X, 24)):
            counts[element] = counts.get(element, 0) + n
        return Composition(counts)


_FCC_TRANSLATIONS = np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]])


def _fcc_orbit(representatives: list[list[float]]) -> np.ndarray:
    """All F-centred copies of the given fractional positions, shape (4 * n, 3)."""
    reps = np.asarray(representatives, dtype=float)
    return (reps[:, None, :] + _FCC_TRANSLATIONS[None, :, :]).reshape(-1, 3)


_ORBIT_4A = _fcc_orbit([[0.0, 0.0, 0.0]])
_ORBIT_4B = _fcc_orbit([[0.5, 0.5, 0.5]])
_ORBIT_8C = _fcc_orbit([[0.25, 0.25, 0.25], [0.75, 0.75, 0.75]])


def _orbit_24e(x: float) -> np.ndarray:
    """Fractional positions of Wyckoff 24e (x, 0, 0) in Fm-3m, shape (24, 3)."""
    return _fcc_orbit([[x, 0, 0], [-x, 0, 0], [0, x, 0], [0, -x, 0], [0, 0, x], [0, 0, -x]])


def _tokens(name: str) -> list[tuple[str, int]]:
    stripped = name.strip()
    if not stripped:
        raise CompoundNameError("empty compound name")
    matches = list(_TOKEN.finditer(stripped))
    consumed = "".join(m.group(0) for m in matches)
    if consumed != stripped:
        raise CompoundNameError(
            f"cannot parse compound name {name!r}: expected element symbols with counts, "
            f"e.g. 'Cs2AgBiBr6'"
        )
    tokens: list[tuple[str, int]] = []
    seen: set[str] = set()
    for m in matches:
        symbol, count = m.group(1), int(m.group(2) or 1)
        if not Element.is_valid_symbol(symbol):
            raise CompoundNameError(f"unknown element {symbol!r} in compound name {name!r}")
        if symbol in seen:
            raise CompoundNameError(
                f"element {symbol!r} appears twice in {name!r}; write each element once "
                f"(e.g. 'Cs3BiBr6' rather than 'Cs2CsBiBr6')"
            )
        if count == 0:
            raise CompoundNameError(f"element {symbol!r} has count 0 in {name!r}")
        seen.add(symbol)
        tokens.append((symbol, count))
    return tokens


def _monovalent_first(b1: str, b2: str) -> tuple[str, str]:
    """Order two B-site elements as (monovalent, trivalent) for the geometry guess."""

    def score(mono: str, tri: str) -> int:
        return int(mono in _MONOVALENT_B) + int(tri in _TRIVALENT_B)

    return (b1, b2) if score(b1, b2) >= score(b2, b1) else (b2, b1)


def parse_compound(name: str) -> DoublePerovskiteSites:
    """Assign the elements of a compound name to the A, B, B' and X sites.

    Parameters
    ----------
    name : str
        Compound name in one of the four patterns (module docstring).

    Returns
    -------
    DoublePerovskiteSites

    Raises
    ------
    CompoundNameError
        For unparseable names, unknown elements, a non-halide X or counts that fit no pattern;
        the message names the offending element or pattern.
    """
    tokens = _tokens(name)
    counts = [c for _, c in tokens]
    symbols = [s for s, _ in tokens]
    x_symbol, x_count = tokens[-1]
    if x_symbol not in HALIDES:
        raise CompoundNameError(
            f"X-site element {x_symbol!r} of {name!r} is not a halide {HALIDES}; build such a "
            f"structure yourself and pass a pymatgen Structure"
        )
    if len(tokens) == 4 and x_count == 6 and sorted(counts[:3]) == [1, 1, 2]:
        a_index = counts.index(2)
        singles = [s for i, s in enumerate(symbols[:3]) if i != a_index]
        b, b_prime = _monovalent_first(*singles)
        pattern: Pattern = "A2BB'X6" if a_index == 0 else "BA2B'X6"
        return DoublePerovskiteSites(name, pattern, symbols[a_index], b, b_prime, x_symbol)
    if len(tokens) == 3 and counts == [3, 1, 6]:
        return DoublePerovskiteSites(name, "A3B'X6", symbols[0], symbols[0], symbols[1], x_symbol)
    if len(tokens) == 3 and counts == [1, 1, 3]:
        return DoublePerovskiteSites(name, "ABX3", symbols[0], symbols[1], symbols[1], x_symbol)
    pattern_text = " ".join(f"{s}{c if c > 1 else ''}" for s, c in tokens)
    raise CompoundNameError(
        f"{name!r} ({pattern_text}) fits none of the double-perovskite patterns "
        f"A2 B B' X6, B A2 B' X6, A3 B' X6, A B X3"
    )


def _shannon_radius(symbol: str, oxidation: int, coordination: int) -> float:
    """Shannon ionic radius in Å, with the nearest tabulated coordination as fallback.

    Falls back to pymatgen's tabulated ionic radius for that charge, then to the average ionic
    radius, then to the atomic radius, so that every element gets a finite number.
    """
    element = Element(symbol)
    table = element.data.get("Shannon radii", {}).get(str(oxidation), {})
    if table:
        cn = min(
            (k for k in table if k.rstrip("SQPY") in _ROMAN),
            key=lambda k: (abs(_ROMAN[k.rstrip("SQPY")] - coordination), k != k.rstrip("SQPY")),
        )
        spins = table[cn]
        entry = spins.get("High Spin") or spins.get("") or next(iter(spins.values()))
        return float(entry["ionic_radius"])
    ionic = element.ionic_radii.get(oxidation)
    if ionic:
        return float(ionic)
    if element.average_ionic_radius:
        return float(element.average_ionic_radius)
    return float(element.atomic_radius)


def initial_geometry(sites: DoublePerovskiteSites) -> tuple[float, float]:
    """Initial cubic lattice parameter and X coordinate from ionic radii.

    Parameters
    ----------
    sites : DoublePerovskiteSites

    Returns
    -------
    a : float
        Conventional cubic lattice parameter in Å.
    x : float
        Fractional coordinate of X on 24e (x, 0, 0), dimensionless.
    """
    r_a = _shannon_radius(sites.A, 1, 12)
    r_b = _shannon_radius(sites.B, 1, 6)
    r_bp = _shannon_radius(sites.B_prime, 3, 6)
    r_x = _shannon_radius(sites.X, -1, 6)
    a_octahedra = 2.0 * (r_b + r_bp + 2.0 * r_x)
    x = (r_b + r_x) / a_octahedra
    # A-X distance for A at (1/4,1/4,1/4) and X at (x,0,0): a * sqrt((1/4 - x)^2 + 1/8)
    a_site = (r_a + r_x) / math.sqrt((0.25 - x) ** 2 + 0.125)
    return max(a_octahedra, a_site), x


def build_double_perovskite(
    compound: str | DoublePerovskiteSites,
    *,
    primitive: bool = False,
    lattice_parameter: float | None = None,
    x: float | None = None,
) -> Structure:
    """Build the ordered Fm-3m double perovskite of a compound.

    Parameters
    ----------
    compound : str or DoublePerovskiteSites
        Compound name (e.g. ``"Cs2AgBiBr6"``) or its parsed sites.
    primitive : bool
        Return the 10-atom primitive (FCC) cell instead of the 40-atom conventional cell.
    lattice_parameter : float, optional
        Conventional cubic lattice parameter in Å; default from ionic radii.
    x : float, optional
        X fractional coordinate on 24e; default from ionic radii.

    Returns
    -------
    Structure
        Sites ordered A, B, B', X. Site properties ``"site"`` (A, B, B', X) and ``"wyckoff"``
        (8c, 4a, 4b, 24e) label each atom.
    """
    sites = compound if isinstance(compound, DoublePerovskiteSites) else parse_compound(compound)
    a_guess, x_guess = initial_geometry(sites)
    a = float(lattice_parameter if lattice_parameter is not None else a_guess)
    x_x = float(x if x is not None else x_guess)
    if a <= 0:
        raise ValueError(f"lattice_parameter must be positive, got {a}")
    if not 0.0 < x_x < 0.5:
        raise ValueError(f"x must lie in (0, 1/2), got {x_x}")

    orbits = (
        ("A", sites.A, _ORBIT_8C),
        ("B", sites.B, _ORBIT_4A),
        ("B'", sites.B_prime, _ORBIT_4B),
        ("X", sites.X, _orbit_24e(x_x)),
    )
    species = [symbol for _, symbol, orbit in orbits for _ in orbit]
    labels = [label for label, _, orbit in orbits for _ in orbit]
    coords = np.mod(np.concatenate([orbit for _, _, orbit in orbits]), 1.0)
    structure = Structure(
        Lattice.cubic(a),
        species,
        coords,
        site_properties={"site": labels, "wyckoff": [WYCKOFF[s] for s in labels]},
    )
    if len(structure) != 40:  # pragma: no cover - guards the orbit sizes above
        raise RuntimeError(f"built {len(structure)} atoms for {sites.name}, expected 40")
    if primitive:
        return _primitive_cell(structure)
    return structure


def _primitive_cell(conventional: Structure) -> Structure:
    """The 10-atom FCC primitive cell of a 40-atom conventional cell, labels kept."""
    a = conventional.lattice.a
    fcc = Lattice(0.5 * a * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]))
    frac = fcc.get_fractional_coords(conventional.cart_coords)
    wrapped = np.mod(np.round(frac, 10), 1.0)
    keep: list[int] = []
    seen: list[np.ndarray] = []
    for i, f in enumerate(wrapped):
        if not any(np.allclose(np.mod(f - g + 0.5, 1.0) - 0.5, 0.0, atol=1e-6) for g in seen):
            seen.append(f)
            keep.append(i)
    return Structure(
        fcc,
        [conventional[i].species_string for i in keep],
        wrapped[keep],
        site_properties={k: [v[i] for i in keep] for k, v in conventional.site_properties.items()},
    )


def as_structure(obj: object, *, primitive: bool = False) -> Structure:
    """Turn a compound name, structure file, pymatgen Structure or ASE Atoms into a Structure.

    Parameters
    ----------
    obj : str, Path, Structure or ase.Atoms
        A compound name (built with :func:`build_double_perovskite`), a path to a structure file
        readable by pymatgen (POSCAR, CIF, extxyz, ...), or a structure object.
    primitive : bool
        For compound names only: build the 10-atom primitive cell.

    Returns
    -------
    Structure
        A copy; the input is never modified.

    Raises
    ------
    CompoundNameError
        For a string that is neither an existing file nor a valid compound name.
    TypeError
        For other object types.
    """
    if isinstance(obj, Structure):
        return obj.copy()
    try:
        from ase import Atoms
    except ImportError:  # pragma: no cover - ase is a core dependency
        Atoms = ()  # type: ignore[assignment]
    if Atoms and isinstance(obj, Atoms):
        from pymatgen.io.ase import AseAtomsAdaptor

        return AseAtomsAdaptor.get_structure(obj)
    if isinstance(obj, Path) or (isinstance(obj, str) and Path(obj).is_file()):
        path = Path(obj)
        if not path.is_file():
            raise FileNotFoundError(f"structure file {path} does not exist")
        try:
            return Structure.from_file(path)
        except Exception as exc:
            raise ValueError(f"could not read a structure from {path}: {exc}") from exc
    if isinstance(obj, str):
        return build_double_perovskite(obj, primitive=primitive)
    raise TypeError(
        f"cannot make a structure from {type(obj).__name__}; give a compound name, a file path, "
        f"a pymatgen Structure or an ase.Atoms"
    )
