"""Import torch-sim on demand, with an install hint when the ``gpu`` extra is missing."""

from __future__ import annotations

from types import ModuleType

__all__ = ["TorchSimUnavailableError", "require_torch_sim"]


class TorchSimUnavailableError(ImportError):
    """torch-sim (``torch-sim-atomistic``) is not installed."""


def require_torch_sim() -> ModuleType:
    """Return the ``torch_sim`` module.

    Returns
    -------
    module
        ``torch_sim``, imported after ``mace`` (mace must precede e3nn, which torch-sim's MACE
        wrapper pulls in).

    Raises
    ------
    TorchSimUnavailableError
        When torch-sim is not installed; the message says how to install it.
    """
    try:
        import mace.calculators  # noqa: F401  # mace must be imported before e3nn
        import torch_sim
    except ImportError as exc:
        raise TorchSimUnavailableError(
            "the torch-sim backend needs the optional extra 'gpu': "
            "pip install 'latticebench[gpu]' (torch-sim-atomistic); "
            f"import failed with: {exc}"
        ) from exc
    return torch_sim
