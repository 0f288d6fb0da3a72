"""MLIP model registry: named models, checkpoint resolution, loading once per process.

Examples
--------
>>> from latticebench.models import load_model
>>> model = load_model("chgnet-0.3.0", device="cpu")  # doctest: +SKIP
>>> model.record.checkpoint_sha256  # doctest: +SKIP
'...'
>>> atoms.calc = model.calculator()  # doctest: +SKIP
"""

from latticebench.models.catalog import (
    CATALOG,
    REFERENCE_STUDY_MODELS,
    ModelSpec,
    UnknownModelError,
    get_spec,
)
from latticebench.models.checkpoints import (
    ModelNotFoundError,
    ResolvedCheckpoint,
    fetch_checkpoint,
    mace_cache_dir,
    resolve_checkpoint,
    sha256_file,
)
from latticebench.models.loaded import LoadedModel, Predictions
from latticebench.models.loading import clear_model_cache, detect_device, load_count, load_model
from latticebench.models.mace_backend import ModelLoadError, preserve_torch_default_dtype
from latticebench.models.record import ModelRecord

__all__ = [
    "CATALOG",
    "REFERENCE_STUDY_MODELS",
    "LoadedModel",
    "ModelLoadError",
    "ModelNotFoundError",
    "ModelRecord",
    "ModelSpec",
    "Predictions",
    "ResolvedCheckpoint",
    "UnknownModelError",
    "clear_model_cache",
    "detect_device",
    "fetch_checkpoint",
    "get_spec",
    "load_count",
    "load_model",
    "mace_cache_dir",
    "preserve_torch_default_dtype",
    "resolve_checkpoint",
    "sha256_file",
]
