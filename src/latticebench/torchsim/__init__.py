"""torch-sim backend (optional extra ``gpu``): batched multi-compound MD and static evaluation.

Many compounds share one GPU: their structures are concatenated into one torch-sim
``SimState``, every force evaluation is one batched model call, and the results are fanned out
to one run directory (and later one document) per compound.

Public API::

    require_torch_sim()        import torch_sim or fail with how to install it
    torchsim_model(loaded)     a loaded MACE model as a torch-sim ModelInterface
    HarmonicModel              batched harmonic forces F = -Φ u (validation, tests)
    predict_batched(...)       energies and forces of many structures, batched
    BatchedMDRun, BatchEntry   Andersen NVT MD of many systems at once, checkpointed per system

Examples
--------
>>> from latticebench.models import load_model
>>> from latticebench.torchsim import BatchEntry, BatchedMDRun, torchsim_model
>>> model = torchsim_model(load_model("mace-mpa-0-medium", dtype="float32"))  # doctest: +SKIP
>>> entries = [BatchEntry(name, f"runs/{name}", atoms, parameters) for name, atoms in cells]
>>> statuses = BatchedMDRun(entries).run(model)  # doctest: +SKIP
"""

from latticebench.torchsim.availability import TorchSimUnavailableError, require_torch_sim

require_torch_sim()  # a clear install hint instead of a bare ImportError below

from latticebench.torchsim.batched_md import BatchedMDRun, BatchEntry  # noqa: E402
from latticebench.torchsim.models import (  # noqa: E402
    HarmonicModel,
    HarmonicReference,
    torchsim_model,
)
from latticebench.torchsim.static import predict_batched  # noqa: E402

__all__ = [
    "BatchEntry",
    "BatchedMDRun",
    "HarmonicModel",
    "HarmonicReference",
    "TorchSimUnavailableError",
    "predict_batched",
    "require_torch_sim",
    "torchsim_model",
]
