"""The phonon job: all displaced supercells in one job, one model load, batched forces."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from jobflow import Maker, job
from pymatgen.core import Structure

from latticebench import phonons
from latticebench.analysis.phonon_metrics import imaginary_mode_fraction, lowest_frequency
from latticebench.jobs.common import make_provenance
from latticebench.models import load_model
from latticebench.protocol import PhononParameters, Protocol
from latticebench.schemas.phonons import PhononDoc

__all__ = ["PhononMaker"]


@dataclass
class PhononMaker(Maker):
    """Harmonic phonons by finite displacements (phonopy) with an MLIP.

    Parameters
    ----------
    name : str
        Job name.
    model : str
        Catalog name or checkpoint path.
    parameters : PhononParameters
        Supercell, displacement (Å), dtype, q-mesh, band points, ASR symmetrisation, imaginary
        threshold (THz).
    device : str or None
        Torch device; None = settings (auto).
    batch_size : int or None
        Displaced supercells per forward pass (execution detail, not physics); None = as many
        as the batch memory budget holds (setting ``batch_memory_gb``).
    protocol : Protocol or None
        The whole protocol this step belongs to (provenance).
    """

    name: str = "mlip phonons"
    model: str = "mace-mpa-0-medium"
    parameters: PhononParameters = field(default_factory=PhononParameters)
    device: str | None = None
    batch_size: int | None = None
    protocol: Protocol | None = None

    @job(output_schema=PhononDoc, data=["force_constants", "band", "phonopy_params_yaml"])
    def make(self, structure: Structure, compound: str | None = None) -> PhononDoc:
        """Compute force constants, mesh and band-path frequencies of ``structure``.

        Imaginary modes are results, never errors. ``phonopy_params.yaml`` is written to the
        job's working directory.

        Parameters
        ----------
        structure : Structure
            Relaxed unit cell.
        compound : str, optional

        Returns
        -------
        PhononDoc
        """
        p = self.parameters
        loaded = load_model(self.model, dtype=p.dtype, device=self.device)
        phonon = phonons.make_phonopy(structure, p.supercell)
        supercells = phonons.displaced_supercells(phonon, p.displacement_A)
        forces = loaded.predict(supercells, batch_size=self.batch_size).forces
        compact = phonons.produce_force_constants(
            phonon, forces, symmetrize=p.symmetrize_force_constants
        )
        mesh = phonons.mesh_frequencies(phonon, p.mesh)
        band = phonons.band_structure(phonon, p.band_points)
        gamma = phonons.gamma_frequencies(phonon)
        yaml_path = phonons.export_phonopy_params(phonon, Path.cwd() / "phonopy_params.yaml")
        lowest = min(lowest_frequency(mesh.frequencies), lowest_frequency(band.frequencies))
        return PhononDoc(
            compound=compound,
            structure=structure,
            supercell_matrix=np.asarray(phonon.supercell_matrix, dtype=int).tolist(),
            primitive_matrix=np.asarray(phonon.primitive_matrix, dtype=float).tolist(),
            supercell=phonons.supercell_structure(phonon, structure),
            displacement_A=p.displacement_A,
            n_displacements=len(supercells),
            force_constants=compact.tolist(),
            p2s_map=[int(i) for i in phonon.primitive.p2s_map],
            symmetrized=p.symmetrize_force_constants,
            mesh={
                "mesh": list(mesh.mesh),
                "qpoints": mesh.qpoints.tolist(),
                "weights": mesh.weights.tolist(),
                "frequencies": mesh.frequencies.tolist(),
            },
            band={
                "qpoints": band.qpoints.tolist(),
                "distances": band.distances.tolist(),
                "frequencies": band.frequencies.tolist(),
                "group_velocities": band.group_velocities.tolist(),
                "segment_sizes": band.segment_sizes,
                "labels": band.labels,
            },
            gamma_frequencies_THz=gamma.tolist(),
            lowest_frequency_THz=float(lowest),
            imaginary_mode_fraction=float(
                imaginary_mode_fraction(
                    mesh.all_frequencies(), threshold_thz=p.imaginary_threshold_THz
                )
            ),
            imaginary_threshold_THz=p.imaginary_threshold_THz,
            harmonically_stable=bool(lowest >= p.imaginary_threshold_THz),
            phonopy_params_yaml=yaml_path.read_text(),
            parameters=p,
            provenance=make_provenance(loaded.record, self.protocol or Protocol(phonons=p)),
        )
