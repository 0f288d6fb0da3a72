"""What a study stands at: local store contents, workflow states per model, failures and why.

FireWorks keeps a failed launch's reason in ``launches.action.stored_data``: ``_message`` ("runtime
error during task"), ``_exception._stacktrace`` (the traceback text) and ``_exception._details``
(the exception's ``to_dict()`` when it has one, as :class:`MDSupervisionError` does).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fireworks import LaunchPad

    from latticebench.settings import LatticebenchSettings

__all__ = [
    "FailedFirework",
    "StoreSummary",
    "failed_fireworks",
    "failure_reason",
    "store_summary",
    "workflow_states_by_model",
]


@dataclass(frozen=True)
class StoreSummary:
    """Document counts of the configured stores.

    Attributes
    ----------
    location : str
        Password-free description of where the documents live.
    references : dict of str to int
        Reference documents per dataset.
    benchmarks : dict of (str, str) to int
        Benchmark documents per (model, protocol id).
    """

    location: str
    references: dict[str, int]
    benchmarks: dict[tuple[str, str], int]


def store_summary(settings: LatticebenchSettings | None = None) -> StoreSummary:
    """Count reference documents per dataset and benchmark documents per model and protocol.

    Parameters
    ----------
    settings : LatticebenchSettings, optional
        Defaults to the process settings.

    Returns
    -------
    StoreSummary
    """
    from latticebench.stores import (
        BENCHMARKS_COLLECTION,
        REFERENCES_COLLECTION,
        connected_store,
        get_store,
        store_description,
    )

    with connected_store(get_store(REFERENCES_COLLECTION, settings)) as store:
        location = store_description(store)
        references = Counter(doc.get("dataset") for doc in store.query(properties=["dataset"]))
    with connected_store(get_store(BENCHMARKS_COLLECTION, settings)) as store:
        benchmarks = Counter(
            (doc.get("model"), doc.get("protocol_id"))
            for doc in store.query(properties=["model", "protocol_id"])
        )
    return StoreSummary(
        location, dict(sorted(references.items())), dict(sorted(benchmarks.items()))
    )


def workflow_states_by_model(launchpad: LaunchPad) -> dict[str, Counter[str]]:
    """Workflow states per model of the latticebench workflows on a LaunchPad.

    Parameters
    ----------
    launchpad : fireworks.LaunchPad

    Returns
    -------
    dict of str to collections.Counter
        Model → state → number of workflows (models sorted by name).
    """
    states: dict[str, Counter[str]] = {}
    for doc in launchpad.workflows.find(
        {"metadata.benchmark_key": {"$exists": True}}, {"metadata.model": 1, "state": 1}
    ):
        states.setdefault(doc["metadata"]["model"], Counter())[doc["state"]] += 1
    return dict(sorted(states.items()))


@dataclass(frozen=True)
class FailedFirework:
    """A fizzled firework and the reason its last launch stored.

    Attributes
    ----------
    fw_id : int
    name : str
        Firework (job) name, e.g. ``"mlip md 0"``.
    workflow : str
        Workflow name, e.g. ``"demo: Cs2AgBiBr6 × mace-mpa-0-medium"``.
    model, compound : str or None
        From the workflow metadata (None for workflows not submitted by latticebench).
    reason : str
    """

    fw_id: int
    name: str
    workflow: str
    model: str | None
    compound: str | None
    reason: str


def failure_reason(stored_data: dict[str, Any] | None) -> str:
    """The reason a failed launch stored, in one line.

    Parameters
    ----------
    stored_data : dict or None
        ``launch["action"]["stored_data"]``.

    Returns
    -------
    str
        ``_exception._details.reason`` when the exception provided one, else the last line of the
        stored traceback, else ``_message``, else ``"no reason stored"``.
    """
    if not stored_data:
        return "no reason stored"
    exception = stored_data.get("_exception") or {}
    details = exception.get("_details")
    if isinstance(details, dict) and details.get("reason"):
        return str(details["reason"])
    lines = [line.strip() for line in str(exception.get("_stacktrace") or "").splitlines()]
    lines = [line for line in lines if line]
    if lines:
        return lines[-1]
    return str(stored_data.get("_message") or "no reason stored")


def failed_fireworks(launchpad: LaunchPad, limit: int | None = None) -> list[FailedFirework]:
    """Fizzled fireworks with the reason of their last launch, by firework id.

    Parameters
    ----------
    launchpad : fireworks.LaunchPad
    limit : int, optional
        At most this many.

    Returns
    -------
    list of FailedFirework
    """
    cursor = launchpad.fireworks.find(
        {"state": "FIZZLED"}, {"fw_id": 1, "name": 1, "launches": 1}
    ).sort("fw_id", 1)
    fireworks = list(cursor.limit(limit) if limit else cursor)
    if not fireworks:
        return []
    ids = [fw["fw_id"] for fw in fireworks]
    by_fw: dict[int, dict[str, Any]] = {}
    for wf in launchpad.workflows.find(
        {"nodes": {"$in": ids}}, {"nodes": 1, "name": 1, "metadata": 1}
    ):
        for fw_id in wf["nodes"]:
            by_fw[fw_id] = wf
    failed = []
    for fw in fireworks:
        launch_ids = fw.get("launches") or []
        launch = (
            launchpad.launches.find_one({"launch_id": launch_ids[-1]}, {"action": 1})
            if launch_ids
            else None
        )
        action = (launch or {}).get("action") or {}
        wf = by_fw.get(fw["fw_id"], {})
        metadata = wf.get("metadata") or {}
        failed.append(
            FailedFirework(
                fw_id=fw["fw_id"],
                name=fw.get("name", ""),
                workflow=wf.get("name", ""),
                model=metadata.get("model"),
                # a batched (torch-sim) workflow lists its compounds; the reason names the run
                compound=compound
                if isinstance(compound := metadata.get("compound"), str)
                else None,
                reason=failure_reason(action.get("stored_data")),
            )
        )
    return failed
