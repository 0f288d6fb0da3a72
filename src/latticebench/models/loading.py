"""The one place that loads models: resolve, load once per process, attach provenance."""

from __future__ import annotations

import os
import threading
from collections import Counter
from typing import Literal

from latticebench.models.checkpoints import resolve_checkpoint
from latticebench.models.loaded import LoadedModel
from latticebench.settings import get_settings

__all__ = ["clear_model_cache", "detect_device", "load_count", "load_model"]

Dtype = Literal["float64", "float32"]

_CACHE: dict[tuple[str, str, str, str, str | None], LoadedModel] = {}
_LOADS: Counter[tuple[str, str, str, str, str | None]] = Counter()
_LOCK = threading.Lock()


def detect_device(device: str | None = None) -> str:
    """Choose the torch device.

    Parameters
    ----------
    device : str, optional
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default from settings (``auto``).

    Returns
    -------
    str
        ``"cuda"`` when ``auto`` and a CUDA device is available, else ``"cpu"``; explicit values
        are returned unchanged.
    """
    choice = device or get_settings().device
    if choice != "auto":
        return choice
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(
    model: str | os.PathLike[str],
    *,
    dtype: Dtype = "float64",
    device: str | None = None,
    head: str | None = None,
) -> LoadedModel:
    """Load a model by catalog name or checkpoint path, once per process.

    Parameters
    ----------
    model : str or PathLike
        Catalog name (``latticebench models list``) or path to a MACE checkpoint.
    dtype : {"float64", "float32"}
        Floating-point type; float64 is the default for force constants and relaxations.
        CHGNet runs in float32 whatever is asked (the record says so).
    device : str, optional
        Torch device; default from settings (``auto``: cuda if available).
    head : str, optional
        Output head of a multi-head MACE model.

    Returns
    -------
    LoadedModel
        The same object for the same (checkpoint, dtype, device, head) within a process.

    Raises
    ------
    latticebench.models.ModelNotFoundError
        Checkpoint not on disk and not downloadable; the message says where it looked.
    latticebench.models.ModelLoadError
        Checkpoint present but unreadable as its model family.
    """
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    checkpoint = resolve_checkpoint(model)
    resolved_device = detect_device(device)
    key = (checkpoint.family, str(checkpoint.path), dtype, resolved_device, head)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        loaded: LoadedModel
        if checkpoint.family == "chgnet":
            from latticebench.models.chgnet_backend import ChgnetModel

            loaded = ChgnetModel(checkpoint, resolved_device, dtype)
        else:
            from latticebench.models.mace_backend import MaceModel

            loaded = MaceModel(checkpoint, resolved_device, dtype, head)
        _LOADS[key] += 1
        _CACHE[key] = loaded
        return loaded


def load_count(model: str | os.PathLike[str] | None = None) -> int:
    """How many times models were actually loaded from disk in this process.

    Parameters
    ----------
    model : str or PathLike, optional
        Count only loads of this checkpoint (name or path); default all.

    Returns
    -------
    int
    """
    if model is None:
        return sum(_LOADS.values())
    path = str(resolve_checkpoint(model).path)
    return sum(n for key, n in _LOADS.items() if key[1] == path)


def clear_model_cache() -> None:
    """Forget every loaded model (frees memory; the next load reads the file again)."""
    with _LOCK:
        _CACHE.clear()
