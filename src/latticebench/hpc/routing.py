"""Which FireWorks category each job of a flow goes to (GPU workers or CPU workers).

Model-heavy jobs (they load an MLIP and evaluate it many times: relaxation, phonons, MD,
rescoring) go to the GPU category; light jobs (σ^A from stored trajectories, the comparison with
the reference, any job without a maker) go to the CPU category. The decision is made here, by the
class of the :class:`jobflow.Maker` that made each job, never inside the jobs themselves.

jobflow's ``flow_to_workflow`` copies ``job.config.manager_config`` into the FireWork spec, so a
job routed here carries ``spec["_category"]`` on the LaunchPad, and a job that replaces itself at
run time (an MD run continued after a walltime pause) passes its category on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobflow import Flow, Job, Maker

__all__ = ["category_of", "iter_jobs", "model_heavy_makers", "route_flow"]


def iter_jobs(flow: Flow | Job) -> Iterator[Job]:
    """Every job of a flow, nested flows included (depth first, in flow order).

    Parameters
    ----------
    flow : jobflow.Flow or jobflow.Job

    Yields
    ------
    jobflow.Job
    """
    from jobflow import Flow

    if not isinstance(flow, Flow):
        yield flow
        return
    for item in flow.jobs:
        yield from iter_jobs(item)


def model_heavy_makers() -> tuple[type[Maker], ...]:
    """The maker classes whose jobs evaluate an MLIP (they belong on a GPU).

    Returns
    -------
    tuple of type
        ``RelaxMaker``, ``PhononMaker``, ``MDMaker``, ``BatchedMDMaker``, ``RescoreMaker``.
    """
    from latticebench.jobs.batched_md import BatchedMDMaker
    from latticebench.jobs.md import MDMaker
    from latticebench.jobs.phonons import PhononMaker
    from latticebench.jobs.relax import RelaxMaker
    from latticebench.jobs.rescore import RescoreMaker

    return (RelaxMaker, PhononMaker, MDMaker, BatchedMDMaker, RescoreMaker)


def category_of(job: Job, *, gpu_category: str = "gpu", cpu_category: str = "cpu") -> str:
    """The FireWorks category a job should run in.

    Parameters
    ----------
    job : jobflow.Job
    gpu_category, cpu_category : str
        Category names of the model-heavy and of the light jobs.

    Returns
    -------
    str
        ``gpu_category`` when the job was made by a model-heavy maker, else ``cpu_category``.
    """
    maker = job.maker
    if maker is not None and isinstance(maker, model_heavy_makers()):
        return gpu_category
    return cpu_category


def route_flow(
    flow: Flow | Job, *, gpu_category: str = "gpu", cpu_category: str = "cpu"
) -> Counter[str]:
    """Set ``_category`` in the manager config of every job of a flow (in place).

    Parameters
    ----------
    flow : jobflow.Flow or jobflow.Job
        Nested flows are walked.
    gpu_category, cpu_category : str
        Category names (non-empty: a FireWork without a category runs on any worker).

    Returns
    -------
    collections.Counter
        Number of jobs per category.

    Raises
    ------
    ValueError
        For an empty category name.
    """
    for name, value in (("gpu_category", gpu_category), ("cpu_category", cpu_category)):
        if not value or not value.strip():
            raise ValueError(f"{name} must be a non-empty category name, got {value!r}")
    counts: Counter[str] = Counter()
    for job in iter_jobs(flow):
        category = category_of(job, gpu_category=gpu_category, cpu_category=cpu_category)
        config = dict(job.config.manager_config)
        config["_category"] = category
        job.config.manager_config = config
        counts[category] += 1
    return counts
