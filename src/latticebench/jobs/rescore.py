"""The rescoring job: MLIP forces and Φ on the reference's own frames and geometry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from ase import Atoms
from jobflow import Maker, job

from latticebench import phonons
from latticebench.analysis import group_velocity_rmse, omega_squared_rmse
from latticebench.decomposition import decompose_sigma
from latticebench.jobs.common import make_provenance
from latticebench.models import load_model
from latticebench.protocol import PhononParameters, Protocol
from latticebench.references import load_aimd_frames, load_force_constants
from latticebench.schemas.benchmark import PhononErrors
from latticebench.schemas.reference import ReferenceDoc
from latticebench.schemas.rescore import RescoreDoc

__all__ = ["RescoreMaker", "fetch_reference"]


def fetch_reference(dataset: str, compound: str) -> tuple[ReferenceDoc, object]:
    """The reference document of (dataset, compound) and the data store of its heavy parts.

    Parameters
    ----------
    dataset, compound : str

    Returns
    -------
    (ReferenceDoc, maggma Store)
        The data store is connected; close it when done.

    Raises
    ------
    LookupError
        When the references collection has no such document.
    """
    from latticebench.stores import REFERENCES_COLLECTION, get_data_store, get_store

    references = get_store(REFERENCES_COLLECTION)
    references.connect()
    try:
        doc = references.query_one({"dataset": dataset, "compound": compound})
    finally:
        references.close()
    if doc is None:
        raise LookupError(f"no reference document for dataset {dataset!r}, compound {compound!r}")
    data_store = get_data_store()
    data_store.connect()
    return ReferenceDoc.from_document(doc), data_store


@dataclass
class RescoreMaker(Maker):
    """Evaluate an MLIP on reference (DFT) AIMD frames and at the reference geometry.

    Gives decomposition rows 1–3 (σ^A with reference Φ and reference forces; with reference Φ
    and MLIP forces; with MLIP Φ and MLIP forces), the force errors per element, and the phonon
    errors of MLIP Φ against reference Φ on the same band path. MLIP Φ is computed at the
    reference supercell, atom order kept, so that every row uses the same R⁰.

    Parameters
    ----------
    name : str
        Job name.
    model : str
        Catalog name or checkpoint path.
    phonon_parameters : PhononParameters
        Displacement (Å), dtype, band points and symmetrisation for MLIP Φ.
    dtype : {"float64", "float32"}
        Model floating-point type for the forces on the frames.
    device : str or None
    batch_size : int or None
        Frames per forward pass; None = as many as the batch memory budget holds (setting
        ``batch_memory_gb``).
    protocol : Protocol or None
        For provenance.
    """

    name: str = "mlip rescore"
    model: str = "mace-mpa-0-medium"
    phonon_parameters: PhononParameters = field(default_factory=PhononParameters)
    dtype: Literal["float64", "float32"] = "float64"
    device: str | None = None
    batch_size: int | None = None
    protocol: Protocol | None = None

    @job(output_schema=RescoreDoc)
    def make(self, dataset: str, compound: str) -> RescoreDoc:
        """Rescore the reference of (dataset, compound).

        Parameters
        ----------
        dataset, compound : str

        Returns
        -------
        RescoreDoc
        """
        reference, data_store = fetch_reference(dataset, compound)
        try:
            frames = load_aimd_frames(reference, data_store)
            supercell, fc_reference = load_force_constants(reference, data_store)
        finally:
            data_store.close()
        symbols = [site.specie.symbol for site in supercell]
        if frames.symbols != symbols:
            raise ValueError(
                f"{dataset}/{compound}: the AIMD frames' atoms ({frames.n_atoms}) are not those "
                f"of the force-constant supercell ({len(symbols)}) in the same order"
            )
        loaded = load_model(self.model, dtype=self.dtype, device=self.device)
        snapshots = [
            Atoms(symbols=symbols, positions=pos, cell=cell, pbc=True)
            for pos, cell in zip(frames.positions, frames.cells, strict=True)
        ]
        mlip_forces = np.stack(loaded.predict(snapshots, batch_size=self.batch_size).forces)

        p = self.phonon_parameters
        fc_model = load_model(self.model, dtype=p.dtype, device=self.device)
        mlip_phonon = phonons.make_phonopy(supercell, (1, 1, 1))
        displaced = phonons.displaced_supercells(mlip_phonon, p.displacement_A)
        forces = fc_model.predict(displaced, batch_size=self.batch_size).forces
        phonons.produce_force_constants(
            mlip_phonon, forces, symmetrize=p.symmetrize_force_constants
        )
        fc_mlip = phonons.full_force_constants(mlip_phonon)

        result = decompose_sigma(
            positions=frames.positions,
            cells=frames.cells,
            reference_positions=supercell.cart_coords,
            reference_forces=frames.forces,
            mlip_forces=mlip_forces,
            reference_force_constants=fc_reference,
            mlip_force_constants=fc_mlip,
            symbols=symbols,
        )
        reference_phonon = phonons.make_phonopy(supercell, (1, 1, 1))
        reference_phonon.force_constants = fc_reference
        band_reference = phonons.band_structure(reference_phonon, p.band_points)
        band_mlip = phonons.band_structure(mlip_phonon, p.band_points)
        return RescoreDoc(
            dataset=dataset,
            compound=compound,
            rows=result.rows,
            n_frames=result.n_frames,
            force_rmse_eV_per_A=result.force_rmse,
            force_mae_eV_per_A=result.force_mae,
            force_rmse_by_element=result.force_rmse_by_element,
            force_mae_by_element=result.force_mae_by_element,
            phonon_errors=PhononErrors(
                omega_squared_rmse_THz2=omega_squared_rmse(
                    band_mlip.frequencies, band_reference.frequencies
                ),
                group_velocity_rmse_THz_A=group_velocity_rmse(
                    band_mlip.group_velocities, band_reference.group_velocities
                ),
                n_qpoints=len(band_reference.qpoints),
                source="MLIP Φ vs reference Φ at the reference geometry, same band path",
            ),
            provenance=make_provenance(
                loaded.record, self.protocol or Protocol(phonons=p), reference_dataset=dataset
            ),
        )
