"""HPC execution: FireWorks submission with GPU/CPU routing, workers, custodian-supervised MD.

Modules (names are imported lazily, so ``import latticebench.hpc`` stays cheap)::

    routing          category_of, route_flow: model-heavy jobs → "gpu", light jobs → "cpu"
    launchpad        load_launchpad, open_launchpad, close_launchpad (MongoDB or mongomock file)
    submission       submit_study: plan → flows → workflows → LaunchPad, duplicate-safe
    monitoring       store_summary, workflow_states_by_model, failed_fireworks
    workers          load_fworker (refuses category-less workers), worker_session, launch
    walltime         walltime_deadline: LATTICEBENCH_MD_WALLTIME_S / SLURM_JOB_END_TIME
    md_handlers      custodian handlers (exploding MD, out of memory) and validator
    md_supervision   supervise_md: MD as custodian jobs over checkpointed segments
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "category_of": "routing",
    "iter_jobs": "routing",
    "model_heavy_makers": "routing",
    "route_flow": "routing",
    "LaunchPadError": "launchpad",
    "close_launchpad": "launchpad",
    "find_launchpad_file": "launchpad",
    "load_launchpad": "launchpad",
    "open_launchpad": "launchpad",
    "SubmissionReport": "submission",
    "submit_study": "submission",
    "workflow_states": "submission",
    "FailedFirework": "monitoring",
    "StoreSummary": "monitoring",
    "failed_fireworks": "monitoring",
    "store_summary": "monitoring",
    "workflow_states_by_model": "monitoring",
    "WorkerConfigurationError": "workers",
    "launch": "workers",
    "load_fworker": "workers",
    "worker_session": "workers",
    "walltime_deadline": "walltime",
    "ExplodingMDHandler": "md_handlers",
    "NonFiniteFramesValidator": "md_handlers",
    "OutOfMemoryHandler": "md_handlers",
    "MDSupervisionError": "md_supervision",
    "MDWalltimeError": "md_supervision",
    "SupervisedRun": "md_supervision",
    "SupervisionParameters": "md_supervision",
    "supervise_md": "md_supervision",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'latticebench.hpc' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"latticebench.hpc.{module}"), name)
    globals()[name] = value
    return value
