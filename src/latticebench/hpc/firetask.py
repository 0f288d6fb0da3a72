"""A FireWorks task that carries its jobflow Job as a JSON string (safe for pydantic fields).

jobflow's ``JobFiretask`` serialises its Job with monty's *non-strict* ``jsanitize``, which turns
a pydantic model into its ``str()``; our Makers hold pydantic parameters (protocol, relax, phonon
and MD parameters), so a plain ``JobFiretask`` reaches the worker with ``parameters`` as a string.
FireWorks also decodes and re-encodes fireworks whenever it updates a workflow (on a parent's
completion, ``lpad rerun_fws``, ``detect_lostruns --rerun``), in whatever process does it.

:class:`JsonJobFiretask` therefore stores the Job encoded *strictly* (pydantic models as
``@module``/``@class`` dicts) inside a JSON string, which FireWorks never decodes. On the worker it
decodes the Job and runs it through jobflow's own ``JobFiretask``; workflows the job creates at
run time (an MD run continued after a wall-time pause) are encoded the same way.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fireworks import FiretaskBase, FWAction, explicit_serialize

if TYPE_CHECKING:
    from fireworks import Workflow
    from jobflow import Job

__all__ = ["JsonJobFiretask", "decode_job", "encode_job", "encode_workflow_jobs"]


def encode_job(job: Job) -> str:
    """The Job as a JSON string, pydantic fields included (monty's strict encoding).

    Parameters
    ----------
    job : jobflow.Job

    Returns
    -------
    str
    """
    from monty.json import jsanitize

    return json.dumps(jsanitize(job.as_dict(), strict=True, enum_values=True, allow_bson=True))


def decode_job(text: str) -> Job:
    """Inverse of :func:`encode_job`.

    Parameters
    ----------
    text : str

    Returns
    -------
    jobflow.Job
    """
    from monty.json import MontyDecoder

    return MontyDecoder().process_decoded(json.loads(text))


def encode_workflow_jobs(workflow: Workflow) -> Workflow:
    """Replace every jobflow ``JobFiretask`` of a workflow by a :class:`JsonJobFiretask` (in place).

    Parameters
    ----------
    workflow : fireworks.Workflow
        E.g. from ``jobflow.managers.fireworks.flow_to_workflow``.

    Returns
    -------
    fireworks.Workflow
        The same workflow.

    Raises
    ------
    ValueError
        For a JobFiretask that names a JobStore: workers use their own (no credentials on the
        LaunchPad).
    """
    from jobflow.managers.fireworks import JobFiretask

    for firework in workflow.fws:
        tasks = []
        for task in firework.tasks:
            if isinstance(task, JobFiretask):
                if task.get("store") is not None:
                    raise ValueError(
                        f"firework {firework.name!r} embeds a JobStore; submit without one"
                    )
                task = JsonJobFiretask(job=encode_job(task["job"]))
            tasks.append(task)
        firework.tasks = tasks
    return workflow


@explicit_serialize
class JsonJobFiretask(FiretaskBase):
    """Run a jobflow Job stored as a JSON string, with the worker's JobStore.

    Other Parameters
    ----------------
    job : str
        :func:`encode_job` of the Job.
    """

    required_params = ("job",)

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        """Decode the Job and run it as jobflow's ``JobFiretask`` would.

        Parameters
        ----------
        fw_spec : dict

        Returns
        -------
        fireworks.FWAction
            jobflow's action, with the workflows it adds encoded like this one.
        """
        from jobflow.managers.fireworks import JobFiretask

        inner = JobFiretask(job=decode_job(self["job"]), store=None)
        for attribute in ("fw_id", "launchpad"):  # set by the rocket (_add_launchpad_and_fw_id)
            if hasattr(self, attribute):
                setattr(inner, attribute, getattr(self, attribute))
        action = inner.run_task(fw_spec)
        for workflow in [*(action.detours or []), *(action.additions or [])]:
            encode_workflow_jobs(workflow)
        return action
