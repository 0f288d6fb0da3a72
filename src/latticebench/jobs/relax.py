"""The relaxation job: symmetry-constrained MLIP relaxation of cell and positions."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Maker, job
from pymatgen.core import Structure

from latticebench.jobs.common import atoms_to_structure, make_provenance, structure_to_atoms
from latticebench.models import load_model
from latticebench.protocol import Protocol, RelaxParameters
from latticebench.relax import relax_atoms
from latticebench.schemas.relax import RelaxDoc

__all__ = ["RelaxMaker"]


@dataclass
class RelaxMaker(Maker):
    """Relax a structure with an MLIP, keeping its space group (Fm-3m stays Fm-3m).

    Parameters
    ----------
    name : str
        Job name.
    model : str
        Catalog name or checkpoint path (see ``latticebench models list``).
    parameters : RelaxParameters
        fmax (eV/Å), step limit, optimizer, dtype, symmetry tolerance (Å).
    device : str or None
        Torch device; None = settings (auto).
    protocol : Protocol or None
        The whole protocol this step belongs to (for provenance); None records a protocol made of
        the defaults plus these relax parameters.
    """

    name: str = "mlip relax"
    model: str = "mace-mpa-0-medium"
    parameters: RelaxParameters = field(default_factory=RelaxParameters)
    device: str | None = None
    protocol: Protocol | None = None

    @job(output_schema=RelaxDoc)
    def make(self, structure: Structure, compound: str | None = None) -> RelaxDoc:
        """Relax ``structure``; non-convergence is recorded in the document, not raised.

        Parameters
        ----------
        structure : Structure
        compound : str, optional
            Name recorded in the document.

        Returns
        -------
        RelaxDoc
        """
        p = self.parameters
        loaded = load_model(self.model, dtype=p.dtype, device=self.device)
        result = relax_atoms(
            structure_to_atoms(structure),
            loaded.calculator(),
            fmax=p.fmax_eV_per_A,
            max_steps=p.max_steps,
            optimizer=p.optimizer,
            symprec=p.symprec_A,
            relax_cell=p.relax_cell,
        )
        relaxed = atoms_to_structure(result.atoms, like=structure)
        protocol = self.protocol or Protocol(relax=p)
        return RelaxDoc(
            compound=compound,
            structure=relaxed,
            input_structure=structure,
            lattice_parameter_A=float(relaxed.lattice.a),
            volume_per_atom_A3=float(relaxed.volume / len(relaxed)),
            energy_eV=result.energy_eV,
            energy_per_atom_eV=result.energy_eV / len(relaxed),
            max_force_eV_per_A=result.max_force_eV_per_A,
            stress_GPa=[float(x) for x in result.stress_GPa],
            steps=result.steps,
            converged=result.converged,
            space_group_before=result.space_group_before,
            space_group_after=result.space_group_after,
            parameters=p,
            provenance=make_provenance(loaded.record, protocol),
        )
