"""Compounds × models against a DFT reference: lattice dynamics, rescoring, comparison."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from jobflow import Flow, Job, Maker, OnMissing

from latticebench.flows.lattice_dynamics import LatticeDynamicsJobs, LatticeDynamicsMaker
from latticebench.jobs.batched_md import BatchedMDMaker, md_run_document
from latticebench.jobs.compare import CompareMaker
from latticebench.jobs.rescore import RescoreMaker
from latticebench.protocol import REFERENCE_PROTOCOL, Protocol
from latticebench.schemas.reference import ReferenceDoc
from latticebench.structures import build_double_perovskite

__all__ = ["BenchmarkMaker", "benchmark_key"]

_REFERENCE_FIELDS = (
    "dataset",
    "compound",
    "sigma_300K",
    "sigma_definition",
    "sigma_temperature_K",
    "halide",
    "level_of_theory",
    "citation",
)


def benchmark_key(dataset: str, compound: str, model: str, protocol_id: str) -> tuple[str, ...]:
    """Natural key of a benchmark document (see ``BENCHMARK_KEY``)."""
    return (dataset, compound, model, protocol_id)


@dataclass
class BenchmarkMaker(Maker):
    """Benchmark MLIPs against the reference documents of a dataset.

    For every (reference compound, model): the lattice-dynamics flow on the reference structure
    (or the Fm-3m structure built from the name when the reference has none); a rescoring job
    when the reference has AIMD frames and force constants (decomposition rows, force and
    phonon errors); a comparison job that stores the benchmark document. The σ^A and comparison
    jobs run even when an MLIP step fails (e.g. MD that keeps exploding), so the failure is
    recorded in the benchmark document rather than the compound silently missing.

    Parameters
    ----------
    name : str
        Flow name prefix.
    models : list of str
        Catalog names or checkpoint paths.
    protocol : Protocol
    device : str or None
        Torch device of the model jobs.
    batch_size : int or None
        Structures per forward pass (phonons, rescoring); None = as many as the batch memory
        budget holds (setting ``batch_memory_gb``).
    with_modes : bool
        Per-mode σ^A in the anharmonicity jobs.
    md_backend : {"ase", "torchsim"}
        ``"ase"``: one custodian-supervised MD job per run; ``"torchsim"``: per model, one
        batched MD job holding every compound's runs (MACE models, Andersen thermostat; the
        ``gpu`` extra), fanned out to one MD document per run. Same seeds, same trajectories:
        the backend is an execution choice and does not change the protocol id.
    md_batch_size : int or None
        With ``"torchsim"``: MD runs per batched job (one GPU each; a compound's runs stay
        together, so at least one compound per job); None = all runs of a model in one job.
    """

    name: str = "benchmark"
    models: list[str] = field(default_factory=lambda: ["mace-mpa-0-medium"])
    protocol: Protocol = field(default_factory=lambda: REFERENCE_PROTOCOL)
    device: str | None = None
    batch_size: int | None = None
    with_modes: bool = True
    md_backend: Literal["ase", "torchsim"] = "ase"
    md_batch_size: int | None = None

    def make(
        self,
        references: Sequence[ReferenceDoc],
        skip: Collection[tuple[str, ...]] = (),
    ) -> Flow:
        """Build the study flow.

        Parameters
        ----------
        references : sequence of ReferenceDoc
            One per compound to benchmark.
        skip : collection of tuple
            Benchmark keys (dataset, compound, model, protocol id) already done; left out.

        Returns
        -------
        jobflow.Flow
            One sub-flow per (compound, model), named ``"<compound> × <model>"``; its output
            maps ``"compound|model"`` to the benchmark document of each.
        """
        done = {tuple(key) for key in skip}
        protocol_id = self.protocol.protocol_id
        pairs = [
            (reference, model)
            for reference in references
            for model in self.models
            if benchmark_key(reference.dataset, reference.compound, model, protocol_id) not in done
        ]
        harmonic = [self._harmonic(reference, model) for reference, model in pairs]
        if self.md_backend == "torchsim":
            batches, md_runs = self._batched_md(pairs, [phonon for _, phonon in harmonic])
        else:
            batches = []
            md_runs = [
                self._lattice(model).md_jobs(phonon, reference.compound)
                for (reference, model), (_, phonon) in zip(pairs, harmonic, strict=True)
            ]
        subflows, outputs = [], {}
        for (reference, model), (relax, phonon), runs in zip(pairs, harmonic, md_runs, strict=True):
            subflow = self._one(reference, model, relax, phonon, runs)
            subflows.append(subflow)
            outputs[f"{reference.compound}|{model}"] = subflow.output
        return Flow([*batches, *subflows], output=outputs, name=f"{self.name} {protocol_id}")

    def _lattice(self, model: str) -> LatticeDynamicsMaker:
        return LatticeDynamicsMaker(
            model=model,
            protocol=self.protocol,
            device=self.device,
            batch_size=self.batch_size,
            with_modes=self.with_modes,
        )

    def _harmonic(self, reference: ReferenceDoc, model: str) -> tuple[Job, Job]:
        structure = reference.get_structure() or build_double_perovskite(reference.compound)
        _, relax, phonon = self._lattice(model).harmonic_jobs(
            structure, compound=reference.compound
        )
        return relax, phonon

    def _batched_md(
        self, pairs: list[tuple[ReferenceDoc, str]], phonons: list[Job]
    ) -> tuple[list[Job], list[list[Job]]]:
        """Batched MD jobs (one GPU job each) and their fan-out jobs.

        Per model, the compounds are grouped so that each batched job holds at most
        ``md_batch_size`` runs (all runs of a compound stay together); None puts every
        compound of a model in one job. Returns the batched jobs and, per (reference, model)
        pair, its fan-out MD jobs.
        """
        p = self.protocol
        batches: list[Job] = []
        md_runs: list[list[Job]] = [[] for _ in pairs]
        n_runs = len(p.md_seeds())
        per_batch = max(1, (self.md_batch_size or len(pairs) * n_runs) // n_runs)
        for model in self.models:
            mine = [i for i, (_, m) in enumerate(pairs) if m == model]
            for first in range(0, len(mine), per_batch):
                group = mine[first : first + per_batch]
                runs = [
                    {
                        "compound": pairs[i][0].compound,
                        "run_index": index,
                        "seed": seed,
                        "supercell": phonons[i].output.supercell,
                    }
                    for i in group
                    for index, seed in enumerate(p.md_seeds())
                ]
                batch = BatchedMDMaker(
                    model=model, parameters=p.md, dtype=p.md_dtype, device=self.device, protocol=p
                ).make(runs)
                batch.name = f"mlip batched md {model}"
                # a compound whose phonon job failed is listed as missing; the others run
                batch.config.on_missing_references = OnMissing.NONE
                batches.append(batch)
                for i in group:
                    for index in range(n_runs):
                        run = md_run_document(
                            batch.output, pairs[i][0].compound, index, p.md_dtype, p
                        )
                        run.name = f"mlip md {index}"
                        md_runs[i].append(run)
        return batches, md_runs

    def _one(
        self,
        reference: ReferenceDoc,
        model: str,
        relax: Job,
        phonon: Job,
        md_runs: list[Job],
    ) -> Flow:
        sigma = self._lattice(model).anharmonicity_job(
            phonon, [run.output for run in md_runs], reference.compound
        )
        lattice = LatticeDynamicsJobs(
            relax=relax, phonons=phonon, md_runs=md_runs, anharmonicity=sigma
        )
        jobs = lattice.all
        rescore_output = None
        uuids = {
            "relax": lattice.relax.uuid,
            "phonons": lattice.phonons.uuid,
            "anharmonicity": lattice.anharmonicity.uuid,
        }
        if {"aimd", "force_constants"} <= set(reference.heavy):
            rescore = RescoreMaker(
                model=model,
                phonon_parameters=self.protocol.phonons,
                dtype=self.protocol.phonons.dtype,
                device=self.device,
                batch_size=self.batch_size,
                protocol=self.protocol,
            ).make(reference.dataset, reference.compound)
            jobs.append(rescore)
            rescore_output = rescore.output
            uuids["rescore"] = rescore.uuid
        compare = CompareMaker(protocol=self.protocol).make(
            reference=reference.model_dump(mode="json", include=set(_REFERENCE_FIELDS)),
            model=model,
            relax={
                "lattice_parameter_A": lattice.relax.output.lattice_parameter_A,
                "converged": lattice.relax.output.converged,
            },
            phonon={"imaginary_mode_fraction": lattice.phonons.output.imaginary_mode_fraction},
            sigma=lattice.anharmonicity.output,
            rescore=rescore_output,
            job_uuids=uuids,
        )
        jobs.append(compare)
        # a failed MLIP step is a result: σ^A and the comparison still run and record it
        for tolerant in (lattice.anharmonicity, compare):
            tolerant.config.on_missing_references = OnMissing.NONE
        return Flow(jobs, output=compare.output, name=f"{reference.compound} × {model}")
