"""Submit a study to a FireWorks LaunchPad: plan → flows → workflows, routed and duplicate-safe.

The plan is :func:`latticebench.runner.plan_study` (it imports the bundled reference table when
the study asks, selects the compounds, and leaves out every benchmark key that already has a
finished benchmark document). Each (compound × model) flow becomes one FireWorks workflow whose
metadata carries the benchmark key, so a second submission can tell what is already on the
LaunchPad:

* a key whose workflow is waiting, ready, reserved, running or paused is skipped;
* a key whose only workflows are FIZZLED, DEFUSED, ARCHIVED or COMPLETED is submitted again as
  a new workflow (the old one stays; ``lpad rerun_fws`` would rerun it instead, reusing its MD
  checkpoints). A COMPLETED workflow reaches this check only when its benchmark document
  records a failed step: σ^A and the comparison run after a fizzled MLIP job, so FireWorks
  calls the workflow COMPLETED although the MD firework FIZZLED.

Each job travels as jobflow's own ``JobFiretask`` (the Makers' pydantic parameters serialise
through :class:`latticebench.msonable.ParameterModel`). The jobs carry no JobStore: each
worker uses its own (``latticebench launch`` sets it
from the worker's ``LATTICEBENCH_*`` settings, plain ``rlaunch`` from ``~/.jobflow.yaml``), so no
database credentials are written to the LaunchPad.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from latticebench.flows.benchmark import benchmark_key
from latticebench.hpc.launchpad import ensure_initialized
from latticebench.hpc.routing import route_flow

if TYPE_CHECKING:
    from fireworks import LaunchPad

    from latticebench.runner import StudyPlan
    from latticebench.schemas.reference import ReferenceDoc
    from latticebench.study import StudySpec

__all__ = [
    "ACTIVE_STATES",
    "RESUBMITTABLE_STATES",
    "SkippedKey",
    "SubmissionReport",
    "SubmittedWorkflow",
    "key_string",
    "submit_study",
    "workflow_metadata",
    "workflow_states",
]

ACTIVE_STATES = frozenset({"WAITING", "READY", "RESERVED", "RUNNING", "PAUSED"})
"""Workflow states that count as queued or running: their key is not submitted again."""

RESUBMITTABLE_STATES = frozenset({"FIZZLED", "DEFUSED", "ARCHIVED", "COMPLETED"})
"""Workflow states after which a key without a finished benchmark document may be submitted
again (COMPLETED: the workflow ran to its end but recorded a failed step)."""


def key_string(key: tuple[str, ...]) -> str:
    """The benchmark key as stored in workflow metadata: ``dataset|compound|model|protocol_id``."""
    return "|".join(key)


def workflow_metadata(study: str, key: tuple[str, ...]) -> dict[str, Any]:
    """Metadata of the workflow of one benchmark key.

    Parameters
    ----------
    study : str
        Study name.
    key : tuple of str
        (dataset, compound, model, protocol id).

    Returns
    -------
    dict
        ``study``, ``dataset``, ``compound``, ``model``, ``protocol_id`` and
        ``benchmark_key`` (:func:`key_string`); queryable with
        ``lpad get_wflows -q '{"metadata.model": ...}'``.
    """
    dataset, compound, model, protocol_id = key
    return {
        "study": study,
        "dataset": dataset,
        "compound": compound,
        "model": model,
        "protocol_id": protocol_id,
        "benchmark_key": key_string(key),
    }


def workflow_states(launchpad: LaunchPad, keys: list[tuple[str, ...]]) -> dict[str, list[str]]:
    """States of the workflows already on the LaunchPad for some benchmark keys.

    Parameters
    ----------
    launchpad : fireworks.LaunchPad
    keys : list of tuple

    Returns
    -------
    dict of str to list of str
        :func:`key_string` → states of its workflows (oldest first); keys without any are left
        out.
    """
    wanted = [key_string(key) for key in keys]
    states: dict[str, list[str]] = {}
    cursor = launchpad.workflows.find(
        {"metadata.benchmark_key": {"$in": wanted}},
        {"metadata.benchmark_key": 1, "state": 1, "created_on": 1},
    ).sort("created_on", 1)
    for doc in cursor:
        recorded = doc["metadata"]["benchmark_key"]
        # a batched (torch-sim) workflow computes several keys and lists them all
        for key in recorded if isinstance(recorded, list) else [recorded]:
            if key in wanted:
                states.setdefault(key, []).append(doc["state"])
    return states


@dataclass(frozen=True)
class SubmittedWorkflow:
    """A workflow added (or, in a dry run, that would be added).

    Attributes
    ----------
    key : tuple of str
        (dataset, compound, model, protocol id).
    name : str
        Workflow name.
    categories : dict of str to int
        Fireworks per category.
    previous_states : tuple of str
        States of earlier workflows of the key (all resubmittable), oldest first.
    fw_ids : tuple of int
        LaunchPad ids of its fireworks (empty in a dry run).
    """

    key: tuple[str, ...]
    name: str
    categories: dict[str, int]
    previous_states: tuple[str, ...] = ()
    fw_ids: tuple[int, ...] = ()

    @property
    def n_fireworks(self) -> int:
        """Number of fireworks of the workflow."""
        return sum(self.categories.values())


@dataclass(frozen=True)
class SkippedKey:
    """A benchmark key that was not submitted, and why (``benchmark document`` or a state)."""

    key: tuple[str, ...]
    reason: str


@dataclass
class SubmissionReport:
    """What :func:`submit_study` added or skipped.

    Attributes
    ----------
    study : str
    protocol_id : str
    dry_run : bool
    launchpad_checked : bool
        False for a dry run without a LaunchPad (queued workflows could not be checked).
    submitted : list of SubmittedWorkflow
    skipped : list of SkippedKey
    """

    study: str
    protocol_id: str
    dry_run: bool
    launchpad_checked: bool
    submitted: list[SubmittedWorkflow] = field(default_factory=list)
    skipped: list[SkippedKey] = field(default_factory=list)

    @property
    def n_fireworks(self) -> int:
        """Fireworks added (or that would be added)."""
        return sum(wf.n_fireworks for wf in self.submitted)

    def categories(self) -> Counter[str]:
        """Fireworks per category over all submitted workflows."""
        total: Counter[str] = Counter()
        for wf in self.submitted:
            total.update(wf.categories)
        return total


def submit_study(
    spec: StudySpec, launchpad: LaunchPad | None, *, dry_run: bool = False
) -> SubmissionReport:
    """Add the workflows of a study's missing benchmark keys to a LaunchPad.

    Parameters
    ----------
    spec : StudySpec
    launchpad : fireworks.LaunchPad or None
        None only for a dry run (then queued workflows are not checked).
    dry_run : bool
        Build and route everything, add nothing.

    Returns
    -------
    SubmissionReport

    Raises
    ------
    ValueError
        When ``launchpad`` is None outside a dry run.
    latticebench.study.StudySpecError
        From planning (no reference documents, unknown compounds).
    """
    from jobflow.managers.fireworks import flow_to_workflow

    from latticebench.runner import plan_study

    if launchpad is None and not dry_run:
        raise ValueError("submitting needs a LaunchPad (only a dry run can go without)")
    plan = plan_study(spec)
    protocol_id = plan.protocol.protocol_id
    report = SubmissionReport(
        study=spec.name,
        protocol_id=protocol_id,
        dry_run=dry_run,
        launchpad_checked=launchpad is not None,
    )
    report.skipped.extend(SkippedKey(tuple(key), "benchmark document") for key in plan.done)
    keys = [benchmark_key(r.dataset, r.compound, model, protocol_id) for r, model in plan.todo]
    existing = workflow_states(launchpad, keys) if launchpad is not None else {}
    resources = spec.resources
    if launchpad is not None and not dry_run:
        ensure_initialized(launchpad)
    if resources.md_backend == "torchsim":
        _submit_batched(spec, plan, keys, existing, launchpad, dry_run, report)
        return report
    flows = plan.flows()
    for (reference, model), key, flow in zip(plan.todo, keys, flows, strict=True):
        if flow.name != f"{reference.compound} × {model}":
            raise RuntimeError(f"plan and flows disagree: {flow.name!r} for {key}")
        states = existing.get(key_string(key), [])
        active = [state for state in states if state in ACTIVE_STATES]
        if active:
            report.skipped.append(SkippedKey(key, f"workflow {active[-1]}"))
            continue
        categories = route_flow(
            flow, gpu_category=resources.gpu_category, cpu_category=resources.cpu_category
        )
        name = f"{spec.name}: {flow.name}"
        workflow = flow_to_workflow(flow, name=name, metadata=workflow_metadata(spec.name, key))
        fw_ids: tuple[int, ...] = ()
        if not dry_run:
            mapping = launchpad.add_wf(workflow)  # type: ignore[union-attr]
            fw_ids = tuple(sorted(mapping.values()))
        report.submitted.append(
            SubmittedWorkflow(key, name, dict(categories), tuple(states), fw_ids)
        )
    return report


def _submit_batched(
    spec: StudySpec,
    plan: StudyPlan,
    keys: list[tuple[str, ...]],
    existing: dict[str, list[str]],
    launchpad: LaunchPad | None,
    dry_run: bool,
    report: SubmissionReport,
) -> None:
    """Submit with the torch-sim MD backend: one workflow per model, its MD in one batch.

    The compounds of a model share the batched MD job, so they share one workflow (FireWorks
    links only fireworks of one workflow). Its metadata lists every benchmark key it computes
    (``metadata.benchmark_key`` is then a list, matched by the same ``$in`` query), so
    resubmitting skips each key that is active in any workflow, batched or not.
    """
    from jobflow.managers.fireworks import flow_to_workflow

    resources = spec.resources
    todo: dict[str, list[tuple[ReferenceDoc, tuple[str, ...], tuple[str, ...]]]] = {}
    for (reference, model), key in zip(plan.todo, keys, strict=True):
        states = tuple(existing.get(key_string(key), []))
        active = [state for state in states if state in ACTIVE_STATES]
        if active:
            report.skipped.append(SkippedKey(key, f"workflow {active[-1]}"))
            continue
        todo.setdefault(model, []).append((reference, key, states))
    for model, items in todo.items():
        flow = plan.batched_flow(model, [reference for reference, _, _ in items])
        categories = route_flow(
            flow, gpu_category=resources.gpu_category, cpu_category=resources.cpu_category
        )
        name = f"{spec.name}: {flow.name}"
        metadata = workflow_metadata(spec.name, items[0][1])
        metadata.update(
            compound=[key[1] for _, key, _ in items],
            benchmark_key=[key_string(key) for _, key, _ in items],
            md_backend="torchsim",
        )
        workflow = flow_to_workflow(flow, name=name, metadata=metadata)
        fw_ids: tuple[int, ...] = ()
        if not dry_run:
            mapping = launchpad.add_wf(workflow)  # type: ignore[union-attr]
            fw_ids = tuple(sorted(mapping.values()))
        for _, key, states in items:
            report.submitted.append(SubmittedWorkflow(key, name, dict(categories), states, fw_ids))
