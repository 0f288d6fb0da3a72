"""The comparison job: join MLIP results with the reference and upsert a benchmark document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobflow import Maker, job

from latticebench.analysis import anharmonicity_class, is_stable
from latticebench.decomposition import form_for
from latticebench.jobs.common import make_provenance
from latticebench.protocol import Protocol
from latticebench.schemas.anharmonicity import AnharmonicityDoc
from latticebench.schemas.benchmark import (
    BENCHMARK_KEY,
    BenchmarkDoc,
    DecompositionRows,
    MLIPSummary,
    ReferenceSummary,
)
from latticebench.schemas.rescore import RescoreDoc

__all__ = ["CompareMaker", "build_benchmark_doc", "save_benchmark"]


def build_benchmark_doc(
    *,
    reference: dict[str, Any],
    model: str,
    protocol: Protocol,
    relax: dict[str, Any],
    phonon: dict[str, Any],
    sigma: AnharmonicityDoc | None,
    rescore: RescoreDoc | None = None,
    job_uuids: dict[str, str] | None = None,
) -> BenchmarkDoc:
    """Join the MLIP results of one compound with its reference.

    Failed MLIP steps are recorded, not dropped: a ``None`` input (a job that did not finish)
    or a σ^A document with a ``failure_reason`` gives ``mlip.sigma=None`` and the reason.

    Parameters
    ----------
    reference : dict
        Reference document fields: ``dataset``, ``compound``, ``sigma_300K``,
        ``sigma_definition``, ``sigma_temperature_K``, ``halide``, ``level_of_theory``,
        ``citation``.
    model : str
    protocol : Protocol
    relax : dict
        ``lattice_parameter_A``, ``converged`` of the relaxation.
    phonon : dict
        ``imaginary_mode_fraction`` of the phonon job.
    sigma : AnharmonicityDoc or None
        The MLIP's σ^A; None when the anharmonicity job did not finish.
    rescore : RescoreDoc, optional
        Decomposition rows 1–3 on the reference frames.
    job_uuids : dict of str to str, optional

    Returns
    -------
    BenchmarkDoc
    """
    thresholds = protocol.sigma.thresholds()
    form = form_for(reference.get("sigma_definition"), protocol.sigma.headline_form)
    if sigma is None:
        sigma = _missing_sigma(protocol, reference.get("compound"))
    mlip_sigma = sigma.sigma_std if form == "std" else sigma.sigma_rms
    ref_sigma = reference.get("sigma_300K")

    def verdicts(value: float | None) -> tuple[bool | None, str | None]:
        if value is None:
            return None, None
        return bool(is_stable(value, thresholds)), str(anharmonicity_class(value, thresholds))

    ref_stable, ref_class = verdicts(ref_sigma)
    mlip_stable, mlip_class = verdicts(mlip_sigma)
    decomposition = None
    if rescore is not None:
        rows = rescore.rows[form]
        decomposition = DecompositionRows(
            form=form,
            sigma_reference=rows["sigma_reference"],
            sigma_force_only=rows["sigma_force_only"],
            sigma_force_and_hessian=rows["sigma_force_and_hessian"],
            sigma_full=mlip_sigma,
            n_frames=rescore.n_frames,
            force_rmse_eV_per_A=rescore.force_rmse_eV_per_A,
            force_mae_eV_per_A=rescore.force_mae_eV_per_A,
            force_rmse_by_element=rescore.force_rmse_by_element,
            force_mae_by_element=rescore.force_mae_by_element,
        )
    both = ref_sigma is not None and mlip_sigma is not None
    return BenchmarkDoc(
        dataset=reference["dataset"],
        compound=reference["compound"],
        model=model,
        protocol_id=protocol.protocol_id,
        halide=reference.get("halide"),
        reference=ReferenceSummary(
            sigma=ref_sigma,
            sigma_definition=reference.get("sigma_definition") or "unspecified",
            temperature_K=reference.get("sigma_temperature_K") or 300.0,
            stable=ref_stable,
            anharmonicity_class=ref_class,
            level_of_theory=reference.get("level_of_theory"),
            citation=reference.get("citation"),
        ),
        mlip=MLIPSummary(
            sigma=mlip_sigma,
            form=form,
            sigma_std=sigma.sigma_std,
            sigma_rms=sigma.sigma_rms,
            standard_error=sigma.standard_error if form == sigma.form else None,
            stable=mlip_stable,
            anharmonicity_class=mlip_class,
            harmonically_stable=sigma.harmonically_stable,
            lowest_frequency_THz=sigma.lowest_frequency_THz,
            imaginary_mode_fraction=phonon.get("imaginary_mode_fraction"),
            lattice_parameter_A=relax.get("lattice_parameter_A"),
            relax_converged=relax.get("converged"),
            md_complete=sigma.complete,
            n_frames=sigma.n_frames,
            failure_reason=sigma.failure_reason,
        ),
        sigma_error=(mlip_sigma - ref_sigma) if both else None,
        stability_agrees=(mlip_stable == ref_stable) if both else None,
        class_agrees=(mlip_class == ref_class) if both else None,
        decomposition=decomposition,
        phonon_errors=rescore.phonon_errors if rescore is not None else None,
        thresholds=thresholds.as_dict(),
        job_uuids=dict(job_uuids or {}),
        provenance=make_provenance(
            sigma.provenance.model,
            protocol,
            seeds=sigma.provenance.seeds,
            reference_dataset=reference["dataset"],
        ),
    )


def _missing_sigma(protocol: Protocol, compound: str | None) -> AnharmonicityDoc:
    """A σ^A document that says the anharmonicity job did not finish."""
    return AnharmonicityDoc(
        compound=compound,
        temperature_K=protocol.md.temperature_K,
        form=protocol.sigma.headline_form,
        n_frames=0,
        n_runs=protocol.n_md_runs,
        frame_stride=protocol.sigma.frame_stride,
        complete=False,
        md_states=[],
        failure_reason="the anharmonicity job did not finish",
        thresholds=protocol.sigma.thresholds().as_dict(),
        parameters=protocol.sigma,
        provenance=make_provenance(None, protocol),
    )


def save_benchmark(doc: BenchmarkDoc, store=None) -> None:
    """Upsert a benchmark document under its natural key (a re-run updates, never duplicates).

    A forced re-run of an existing key replaces its values and records the change in the
    document's ``updates`` history.

    Parameters
    ----------
    doc : BenchmarkDoc
    store : maggma Store, optional
        Default: the ``benchmarks`` collection of the configured stores.
    """
    from latticebench.stores import BENCHMARKS_COLLECTION, get_store, upsert_documents

    store = store if store is not None else get_store(BENCHMARKS_COLLECTION)
    store.connect()
    try:
        upsert_documents(
            store,
            [doc.model_dump(mode="json")],
            BENCHMARK_KEY,
            update=True,
            source="compare job",
        )
    finally:
        store.close()


@dataclass
class CompareMaker(Maker):
    """Build the benchmark document of one compound × model and store it.

    Parameters
    ----------
    name : str
        Job name.
    protocol : Protocol
        The protocol of the MLIP flow (thresholds, headline form, protocol id).
    """

    name: str = "compare with reference"
    protocol: Protocol = field(default_factory=Protocol)

    @job(output_schema=BenchmarkDoc)
    def make(
        self,
        reference: dict[str, Any],
        model: str,
        relax: dict[str, Any],
        phonon: dict[str, Any],
        sigma: AnharmonicityDoc | None,
        rescore: RescoreDoc | None = None,
        job_uuids: dict[str, str] | None = None,
    ) -> BenchmarkDoc:
        """Join, then upsert into the ``benchmarks`` collection.

        Parameters
        ----------
        reference, model, relax, phonon, sigma, rescore, job_uuids
            See :func:`build_benchmark_doc`.

        Returns
        -------
        BenchmarkDoc
        """
        doc = build_benchmark_doc(
            reference=reference,
            model=model,
            protocol=self.protocol,
            relax=relax,
            phonon=phonon,
            sigma=sigma,
            rescore=rescore,
            job_uuids=job_uuids,
        )
        save_benchmark(doc)
        return doc
