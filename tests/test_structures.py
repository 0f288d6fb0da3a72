"""Compound name -> Fm-3m double perovskite."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pytest
import spglib
from ase import Atoms
from pymatgen.core import Structure

from latticebench.structures import (
    CompoundNameError,
    as_structure,
    build_double_perovskite,
    initial_geometry,
    parse_compound,
)


def _symmetry(structure: Structure):
    cell = (
        structure.lattice.matrix,
        structure.frac_coords,
        [site.specie.Z for site in structure],
    )
    return spglib.get_symmetry_dataset(cell, symprec=1e-3)


def _expected_counts(name: str) -> Counter:
    sites = parse_compound(name)
    counts: Counter = Counter()
    for element, n in ((sites.A, 8), (sites.B, 4), (sites.B_prime, 4), (sites.X, 24)):
        counts[element] += n
    return counts


def test_every_published_compound_builds(reference_csv):
    with reference_csv.open() as handle:
        names = [row["compound"] for row in csv.DictReader(handle)]
    assert len(names) == 1813
    patterns = Counter()
    for name in names:
        sites = parse_compound(name)
        patterns[sites.pattern] += 1
        structure = build_double_perovskite(name)
        assert len(structure) == 40, name
        dataset = _symmetry(structure)
        assert dataset.number == 225, f"{name}: space group {dataset.number}"
        # composition as the pattern implies
        counts = Counter(site.specie.symbol for site in structure)
        assert counts == _expected_counts(name), name
        labels = structure.site_properties["site"]
        wyckoff = np.array(dataset.wyckoffs)
        by_label = {
            lab: set(wyckoff[[i for i, x in enumerate(labels) if x == lab]]) for lab in labels
        }
        assert by_label["A"] == {"c"}, name
        assert by_label["X"] == {"e"}, name
        assert {*by_label["B"], *by_label["B'"]} == {"a", "b"}, name
        assert len(by_label["B"]) == len(by_label["B'"]) == 1, name
        distances = structure.distance_matrix + np.eye(40) * 1e3
        assert distances.min() > 1.5, f"{name}: atoms {distances.min():.2f} Å apart"
    # all four naming patterns occur in the database
    assert set(patterns) == {"A2BB'X6", "BA2B'X6", "A3B'X6", "ABX3"}


@pytest.mark.parametrize(
    ("name", "pattern", "a", "b", "b_prime", "x"),
    [
        ("Cs2AgBiBr6", "A2BB'X6", "Cs", "Ag", "Bi", "Br"),
        ("Cs2BiAgBr6", "A2BB'X6", "Cs", "Ag", "Bi", "Br"),  # order of B, B' does not matter
        ("CsK2AlBr6", "BA2B'X6", "K", "Cs", "Al", "Br"),
        ("Cs3BiBr6", "A3B'X6", "Cs", "Cs", "Bi", "Br"),
        ("CsAuBr3", "ABX3", "Cs", "Au", "Au", "Br"),
    ],
)
def test_patterns_assign_sites(name, pattern, a, b, b_prime, x):
    sites = parse_compound(name)
    assert (sites.pattern, sites.A, sites.B, sites.B_prime, sites.X) == (
        pattern,
        a,
        b,
        b_prime,
        x,
    )


def test_geometry_follows_ionic_radii():
    # Shannon: Ag+ (VI) 1.15, Bi3+ (VI) 1.03, Br- (VI) 1.96 Å
    a, x = initial_geometry(parse_compound("Cs2AgBiBr6"))
    assert a == pytest.approx(2 * (1.15 + 1.03 + 2 * 1.96))
    assert x == pytest.approx((1.15 + 1.96) / a)
    structure = build_double_perovskite("Cs2AgBiBr6")
    ag = next(s for s in structure if s.specie.symbol == "Ag")
    bi = next(s for s in structure if s.specie.symbol == "Bi")
    br = [s for s in structure if s.specie.symbol == "Br"]
    assert min(ag.distance(s) for s in br) == pytest.approx(1.15 + 1.96)
    assert min(bi.distance(s) for s in br) == pytest.approx(1.03 + 1.96)


def test_large_a_cation_expands_the_cell():
    # Cs+ (XII, 1.88 Å) with small Li+/Al3+ fluoride octahedra: the A-X contact sets the cell
    a, _ = initial_geometry(parse_compound("Cs2LiAlF6"))
    structure = build_double_perovskite("Cs2LiAlF6")
    cs = next(s for s in structure if s.specie.symbol == "Cs")
    f = [s for s in structure if s.specie.symbol == "F"]
    assert min(cs.distance(s) for s in f) == pytest.approx(1.88 + 1.33)
    assert a > 2 * (0.76 + 0.535 + 2 * 1.33)


def test_primitive_cell_has_ten_atoms_and_same_symmetry():
    conventional = build_double_perovskite("Cs2AgBiBr6")
    primitive = build_double_perovskite("Cs2AgBiBr6", primitive=True)
    assert len(primitive) == 10
    assert _symmetry(primitive).number == 225
    assert primitive.volume == pytest.approx(conventional.volume / 4)
    assert primitive.composition.reduced_formula == conventional.composition.reduced_formula
    assert Counter(primitive.site_properties["wyckoff"]) == {"8c": 2, "4a": 1, "4b": 1, "24e": 6}


def test_explicit_lattice_parameter_and_x():
    structure = build_double_perovskite("Cs2AgBiBr6", lattice_parameter=11.27, x=0.249)
    assert structure.lattice.abc == pytest.approx((11.27, 11.27, 11.27))
    assert _symmetry(structure).number == 225


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Cs2AgQqBr6", "unknown element 'Qq'"),
        ("Cs2AgBiO6", "X-site element 'O'"),
        ("Cs2AgBiBr5", "fits none of the double-perovskite patterns"),
        ("Cs2Ag2BiBr6", "fits none"),
        ("cs2agbibr6", "cannot parse"),
        ("Cs2AgBi-Br6", "cannot parse"),
        ("Cs2CsBiBr6", "appears twice"),
        ("", "empty"),
    ],
)
def test_bad_names_are_explained(name, fragment):
    with pytest.raises(CompoundNameError, match=fragment):
        parse_compound(name)


def test_as_structure_accepts_every_input_kind(tmp_path):
    reference = build_double_perovskite("Cs2NaInCl6")
    from_name = as_structure("Cs2NaInCl6")
    assert from_name.matches(reference)
    from_structure = as_structure(reference)
    assert from_structure is not reference and from_structure == reference
    atoms = Atoms(
        [s.specie.symbol for s in reference],
        positions=reference.cart_coords,
        cell=reference.lattice.matrix,
        pbc=True,
    )
    assert as_structure(atoms).matches(reference)
    path = tmp_path / "POSCAR"
    reference.to(filename=str(path), fmt="poscar")
    assert as_structure(path).matches(reference)
    assert as_structure(str(path)).matches(reference)
    with pytest.raises(FileNotFoundError):
        as_structure(tmp_path / "missing.cif")
    with pytest.raises(TypeError, match="cannot make a structure from int"):
        as_structure(42)
