"""Small helpers shared by the jobs: structure conversion and provenance stamps."""

from __future__ import annotations

from typing import Any

from ase import Atoms
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from latticebench.models.record import ModelRecord
from latticebench.protocol import Protocol
from latticebench.schemas.provenance import Provenance

__all__ = ["atoms_to_structure", "make_provenance", "structure_to_atoms"]


def structure_to_atoms(structure: Structure) -> Atoms:
    """Plain ASE atoms (positions, cell, pbc) of a pymatgen structure; site properties dropped."""
    atoms = AseAtomsAdaptor.get_atoms(structure)
    return Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell[:], pbc=True)


def atoms_to_structure(atoms: Atoms, like: Structure | None = None) -> Structure:
    """A pymatgen structure of ASE atoms, carrying over the site properties of ``like``.

    Parameters
    ----------
    atoms : ase.Atoms
    like : Structure, optional
        Structure with the same sites in the same order whose site properties are copied.

    Returns
    -------
    Structure
    """
    structure = Structure(
        atoms.cell[:], atoms.get_chemical_symbols(), atoms.positions, coords_are_cartesian=True
    )
    if like is not None and len(like) == len(structure):
        for key, values in like.site_properties.items():
            structure.add_site_property(key, list(values))
    return structure


def make_provenance(
    model: ModelRecord | None,
    protocol: Protocol | dict[str, Any] | None,
    *,
    seeds: list[int] | None = None,
    reference_dataset: str | None = None,
) -> Provenance:
    """Build the provenance block of a document.

    Parameters
    ----------
    model : ModelRecord or None
    protocol : Protocol, its ``model_dump()`` dict, or None
    seeds : list of int, optional
    reference_dataset : str, optional

    Returns
    -------
    Provenance
    """
    if isinstance(protocol, dict):
        protocol = Protocol.model_validate(protocol)
    return Provenance(
        model=model,
        protocol_id=None if protocol is None else protocol.protocol_id,
        protocol={} if protocol is None else protocol.hashed_parameters(),
        seeds=list(seeds or []),
        reference_dataset=reference_dataset,
    )
