"""Relax → phonons → N MD runs → σ^A for one (structure, model)."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Flow, Job, Maker
from pymatgen.core import Structure

from latticebench.jobs.anharmonicity import AnharmonicityMaker
from latticebench.jobs.md import MDMaker
from latticebench.jobs.phonons import PhononMaker
from latticebench.jobs.relax import RelaxMaker
from latticebench.protocol import REFERENCE_PROTOCOL, Protocol
from latticebench.structures import as_structure

__all__ = ["LatticeDynamicsJobs", "LatticeDynamicsMaker"]


@dataclass(frozen=True)
class LatticeDynamicsJobs:
    """The jobs of one lattice-dynamics flow, by role."""

    relax: Job
    phonons: Job
    md_runs: list[Job]
    anharmonicity: Job

    @property
    def all(self) -> list[Job]:
        """Every job in execution order."""
        return [self.relax, self.phonons, *self.md_runs, self.anharmonicity]


@dataclass
class LatticeDynamicsMaker(Maker):
    """The lattice-dynamics flow of one structure with one MLIP.

    Jobs: ``relax`` (Fm-3m kept) → ``phonons`` (2×2×2 finite displacements) → ``md`` ×
    ``protocol.n_md_runs`` (NVT in the phonon supercell, distinct seeds) → ``anharmonicity``.
    The flow's output is the anharmonicity document.

    Parameters
    ----------
    name : str
        Flow name prefix.
    model : str
        Catalog name or checkpoint path.
    protocol : Protocol
        Physics parameters of every step (default: the reference study's).
    device : str or None
        Torch device for the model jobs; None = settings (auto).
    batch_size : int or None
        Displaced supercells per forward pass in the phonon job; None = as many as the batch
        memory budget holds (setting ``batch_memory_gb``).
    with_modes : bool
        Per-mode σ^A in the anharmonicity job.
    """

    name: str = "lattice dynamics"
    model: str = "mace-mpa-0-medium"
    protocol: Protocol = field(default_factory=lambda: REFERENCE_PROTOCOL)
    device: str | None = None
    batch_size: int | None = None
    with_modes: bool = True

    def make(self, structure: Structure | str, compound: str | None = None) -> Flow:
        """Build the flow; its output is the anharmonicity document.

        Parameters
        ----------
        structure : Structure or str
            A structure, or a compound name (built as the Fm-3m double perovskite).
        compound : str, optional
            Name recorded in every document.

        Returns
        -------
        jobflow.Flow
        """
        jobs = self.make_jobs(structure, compound)
        compound = jobs.anharmonicity.function_kwargs.get("compound")
        return Flow(
            jobs.all, output=jobs.anharmonicity.output, name=f"{self.name} {compound} {self.model}"
        )

    def harmonic_jobs(
        self, structure: Structure | str, compound: str | None = None
    ) -> tuple[str, Job, Job]:
        """The relax and phonon jobs (the part before MD).

        Parameters
        ----------
        structure : Structure or str
            A structure, or a compound name (built as the Fm-3m double perovskite).
        compound : str, optional
            Name recorded in every document (default: the name given as ``structure``, else
            the reduced formula).

        Returns
        -------
        tuple of (str, Job, Job)
            The compound name, the relax job and the phonon job.
        """
        if compound is None:
            compound = structure if isinstance(structure, str) else None
        start = as_structure(structure)
        compound = compound or start.composition.reduced_formula
        p = self.protocol
        relax = RelaxMaker(
            model=self.model, parameters=p.relax, device=self.device, protocol=p
        ).make(start, compound=compound)
        phonon = PhononMaker(
            model=self.model,
            parameters=p.phonons,
            device=self.device,
            batch_size=self.batch_size,
            protocol=p,
        ).make(relax.output.structure, compound=compound)
        return compound, relax, phonon

    def md_jobs(self, phonon: Job, compound: str) -> list[Job]:
        """The MD runs of one compound, each its own supervised job (the ASE backend).

        Parameters
        ----------
        phonon : Job
            The phonon job; the runs start from its supercell.
        compound : str

        Returns
        -------
        list of Job
            One per seed of ``protocol.md_seeds()``, named ``"mlip md <index>"``.
        """
        p = self.protocol
        md_maker = MDMaker(
            model=self.model, parameters=p.md, dtype=p.md_dtype, device=self.device, protocol=p
        )
        runs = []
        for index, seed in enumerate(p.md_seeds()):
            run = md_maker.make(
                phonon.output.supercell, seed=seed, run_index=index, compound=compound
            )
            run.name = f"{md_maker.name} {index}"
            runs.append(run)
        return runs

    def anharmonicity_job(self, phonon: Job, md_outputs: list, compound: str) -> Job:
        """The σ^A job of a compound from its phonon job and the outputs of its MD runs.

        Parameters
        ----------
        phonon : Job
        md_outputs : list
            Output references of the MD documents (from either backend).
        compound : str

        Returns
        -------
        Job
        """
        p = self.protocol
        return AnharmonicityMaker(parameters=p.sigma, with_modes=self.with_modes, protocol=p).make(
            phonon.output, md_outputs, compound=compound
        )

    def make_jobs(
        self, structure: Structure | str, compound: str | None = None
    ) -> LatticeDynamicsJobs:
        """Build the jobs of the flow (for makers that wire more jobs onto them).

        Parameters
        ----------
        structure : Structure or str
            A structure, or a compound name (built as the Fm-3m double perovskite).
        compound : str, optional
            Name recorded in every document (default: the name given as ``structure``, else
            the reduced formula).

        Returns
        -------
        LatticeDynamicsJobs
        """
        compound, relax, phonon = self.harmonic_jobs(structure, compound)
        runs = self.md_jobs(phonon, compound)
        sigma = self.anharmonicity_job(phonon, [run.output for run in runs], compound)
        return LatticeDynamicsJobs(relax=relax, phonons=phonon, md_runs=runs, anharmonicity=sigma)
