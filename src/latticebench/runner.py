"""Plan a study against the stores, and run it locally (``latticebench run`` / ``demo``).

Planning reads the reference documents of the study's dataset, applies the compound
selection, and leaves out every (dataset, compound, model, protocol id) that already has a
benchmark document, so re-running a study reuses finished work. The same plan feeds FireWorks
submission (``latticebench.hpc``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jobflow import Flow, run_locally

from latticebench.flows.benchmark import BenchmarkMaker, benchmark_key
from latticebench.protocol import Protocol
from latticebench.references import HDP_CHEMMATER_2022, import_bundled
from latticebench.schemas.benchmark import BENCHMARK_KEY
from latticebench.schemas.reference import ReferenceDoc
from latticebench.settings import get_settings
from latticebench.study import StudySpec, StudySpecError, select_compounds

__all__ = ["StudyPlan", "StudyRun", "batched_flow_name", "plan_study", "run_study"]

logger = logging.getLogger(__name__)


@dataclass
class StudyPlan:
    """What a study will compute.

    Attributes
    ----------
    spec : StudySpec
    protocol : Protocol
    references : list of ReferenceDoc
        The selected compounds' reference documents.
    todo : list of (ReferenceDoc, str)
        (reference, model) pairs without a benchmark document yet.
    done : list of tuple
        Benchmark keys with a finished result (reused).
    """

    spec: StudySpec
    protocol: Protocol
    references: list[ReferenceDoc]
    todo: list[tuple[ReferenceDoc, str]]
    done: list[tuple[str, ...]]

    def maker(self) -> BenchmarkMaker:
        """The benchmark maker of this study."""
        resources = self.spec.resources
        return BenchmarkMaker(
            name=self.spec.name,
            models=list(self.spec.models),
            protocol=self.protocol,
            device=None if resources.device == "auto" else resources.device,
            batch_size=resources.batch_size,
            md_backend=resources.md_backend,
            md_batch_size=resources.md_batch_size,
        )

    def flows(self) -> list[Flow]:
        """The flows still to do, in plan order.

        Returns
        -------
        list of jobflow.Flow
            With the ASE MD backend one flow per (compound, model), named
            ``"<compound> × <model>"``; with the torch-sim backend one flow per model holding
            the batched MD job and every compound's sub-flow (they share that job), named
            ``"<n> compounds × <model> (batched MD)"``.
        """
        if self.spec.resources.md_backend != "torchsim":
            flow = self.maker().make(self.references, skip=self.done)
            return list(flow.jobs)
        flows = []
        for model in self.spec.models:
            references = [reference for reference, m in self.todo if m == model]
            if references:
                flows.append(self.batched_flow(model, references))
        return flows

    def batched_flow(self, model: str, references: list[ReferenceDoc]) -> Flow:
        """The torch-sim backend's flow of one model: its batched MD jobs and every sub-flow.

        Parameters
        ----------
        model : str
        references : list of ReferenceDoc
            The compounds to compute with it.

        Returns
        -------
        jobflow.Flow
            Named by :func:`batched_flow_name`.
        """
        flow = replace(self.maker(), models=[model]).make(references, skip=self.done)
        flow.name = batched_flow_name(len(references), model)
        return flow


def batched_flow_name(n_compounds: int, model: str) -> str:
    """Name of the flow of one model's compounds with the torch-sim MD backend."""
    return f"{n_compounds} compounds × {model} (batched MD)"


def _reference_docs(dataset: str, names: list[str] | None = None) -> list[dict[str, Any]]:
    from latticebench.stores import REFERENCES_COLLECTION, get_store

    store = get_store(REFERENCES_COLLECTION)
    store.connect()
    try:
        criteria: dict[str, Any] = {"dataset": dataset}
        if names is not None:
            criteria["compound"] = {"$in": names}
        return [
            {k: v for k, v in doc.items() if k != "_id"} for doc in store.query(criteria=criteria)
        ]
    finally:
        store.close()


def _existing_keys(dataset: str, models: list[str], protocol_id: str) -> set[tuple[str, ...]]:
    from latticebench.stores import BENCHMARKS_COLLECTION, get_store

    store = get_store(BENCHMARKS_COLLECTION)
    store.connect()
    try:
        # only finished results are reused; a document that records a failed MLIP step
        # (mlip.sigma missing) is computed again
        docs = store.query(
            criteria={
                "dataset": dataset,
                "protocol_id": protocol_id,
                "model": {"$in": models},
                "mlip.sigma": {"$ne": None},
            },
            properties=list(BENCHMARK_KEY),
        )
        return {tuple(doc[k] for k in BENCHMARK_KEY) for doc in docs}
    finally:
        store.close()


def plan_study(spec: StudySpec, *, force: bool = False) -> StudyPlan:
    """Resolve a study spec against the stores.

    Parameters
    ----------
    spec : StudySpec
    force : bool
        Plan every pair, even those with a finished benchmark document (it will be updated).
        Pairs whose document records a failed MLIP step are always planned again.

    Returns
    -------
    StudyPlan

    Raises
    ------
    StudySpecError
        When the dataset has no reference documents or named compounds are missing.
    """
    if spec.import_bundled and spec.dataset == HDP_CHEMMATER_2022.dataset:
        report = import_bundled()
        logger.info("bundled reference table: %s", report.summary())
    docs = _reference_docs(spec.dataset)
    if not docs:
        raise StudySpecError(
            f"dataset {spec.dataset!r} has no reference documents in the references store; "
            f"import it first (latticebench import ...)"
        )
    names = select_compounds(spec.compounds, docs)
    by_name = {doc["compound"]: doc for doc in docs}
    references = [ReferenceDoc.from_document(by_name[name]) for name in names]
    protocol = spec.protocol.build()
    existing = set() if force else _existing_keys(spec.dataset, spec.models, protocol.protocol_id)
    todo: list[tuple[ReferenceDoc, str]] = []
    done: list[tuple[str, ...]] = []
    for reference in references:
        for model in spec.models:
            key = benchmark_key(reference.dataset, reference.compound, model, protocol.protocol_id)
            if key in existing:
                done.append(key)
            else:
                todo.append((reference, model))
    return StudyPlan(spec, protocol, references, todo, done)


@dataclass
class StudyRun:
    """Outcome of :func:`run_study`.

    Attributes
    ----------
    plan : StudyPlan
    completed : list of str
        ``"compound × model"`` flows that finished.
    failed : dict of str to str
        Flows that did not finish: the failing job's name and its error.
    wall_time_s : float
    """

    plan: StudyPlan
    completed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    wall_time_s: float = 0.0


class _JobFailures(logging.Handler):
    """Collect the last line of the tracebacks jobflow logs for failed jobs."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.messages: list[str] = []
        self._logger = logging.getLogger("jobflow.managers.local")
        self._level = self._logger.level
        self._propagate = self._logger.propagate

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "failed with exception" in text:
            lines = [line for line in text.strip().splitlines() if line.strip()]
            self.messages.append(lines[-1].strip() if lines else text)

    def __enter__(self) -> _JobFailures:
        self._logger.addHandler(self)
        self._logger.setLevel(logging.INFO)
        self._logger.propagate = False  # collect, don't print jobflow's progress lines
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)
        self._logger.propagate = self._propagate


def run_study(
    spec: StudySpec,
    *,
    force: bool = False,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> StudyRun:
    """Run a study locally (``jobflow.run_locally``) on the configured stores.

    Parameters
    ----------
    spec : StudySpec
    force : bool
        Recompute pairs that already have a benchmark document.
    on_progress : callable, optional
        Called as ``on_progress(finished, total, label)`` before each flow (label = the flow
        about to run) and once at the end (label ``""``).

    Returns
    -------
    StudyRun
    """
    from latticebench.hpc.routing import iter_jobs
    from latticebench.stores import get_job_store

    start = time.perf_counter()
    plan = plan_study(spec, force=force)
    flows = plan.flows()
    result = StudyRun(plan)
    job_store = get_job_store()
    root = get_settings().runs_dir / "jobs"
    root.mkdir(parents=True, exist_ok=True)
    for index, flow in enumerate(flows):
        if on_progress:
            on_progress(index, len(flows), flow.name)
        with _JobFailures() as failures:
            responses = run_locally(
                flow, store=job_store, create_folders=True, root_dir=Path(root), log=False
            )
        missing = [job.name for job in iter_jobs(flow) if job.uuid not in responses]
        if missing:
            reason = failures.messages[0] if failures.messages else "did not run"
            result.failed[flow.name] = f"{missing[0]}: {reason}"
            logger.warning("%s did not finish: %s", flow.name, result.failed[flow.name])
        else:
            result.completed.append(flow.name)
    if on_progress:
        on_progress(len(flows), len(flows), "")
    result.wall_time_s = time.perf_counter() - start
    return result
