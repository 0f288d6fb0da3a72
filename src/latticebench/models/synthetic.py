"""Randomly initialised MACE models built with mace's own classes (tests and benchmarks).

No foundation-model weights can be downloaded offline, so tests and benchmarks build MACE models
with random (seeded) weights and save them exactly like a checkpoint: ``torch.save`` of a pickled
``ScaleShiftMACE``. They load through the same code path as real checkpoints
(:func:`latticebench.models.load_model`). Their energies are meaningless; their cost per force
evaluation follows the architecture (channels, ``max_ell``, interactions, cutoff).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["build_random_mace"]


def build_random_mace(
    path: str | Path,
    *,
    seed: int = 0,
    r_max: float = 5.0,
    channels: int = 8,
    max_ell: int = 2,
    num_interactions: int = 2,
    correlation: int = 2,
    interaction_scale: float = 50.0,
) -> Path:
    """Build a MACE model with random weights and save it like a checkpoint.

    Parameters
    ----------
    path : str or Path
        Where to write the model file.
    seed : int
        Seed of torch's generator for the weights.
    r_max : float
        Radial cutoff in Å.
    channels : int
        Number of scalar and vector channels of the hidden features (``Nx0e+Nx1o``).
        8 gives a tiny model for tests; 64 or 128 are the sizes of small and medium
        foundation models.
    max_ell : int
        Highest spherical-harmonic degree of the edge features.
    num_interactions : int
        Message-passing layers.
    correlation : int
        Body order of the product basis minus one.
    interaction_scale : float
        Scale of the interaction energy (eV) added to the per-element reference energies.

    Returns
    -------
    Path
        ``path``. All elements H..Bi are supported, dtype float64.
    """
    import mace.modules  # mace must be imported before e3nn
    import numpy as np
    import torch
    from e3nn import o3

    from latticebench.models.mace_backend import preserve_torch_default_dtype

    path = Path(path)
    with preserve_torch_default_dtype():
        torch.set_default_dtype(torch.float64)
        torch.manual_seed(seed)
        z = list(range(1, 84))
        block = mace.modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
        model = mace.modules.ScaleShiftMACE(
            r_max=r_max,
            num_bessel=8 if channels > 8 else 6,
            num_polynomial_cutoff=5,
            max_ell=max_ell,
            interaction_cls=block,
            interaction_cls_first=block,
            num_interactions=num_interactions,
            num_elements=len(z),
            hidden_irreps=o3.Irreps(f"{channels}x0e+{channels}x1o"),
            MLP_irreps=o3.Irreps(f"{min(channels, 16)}x0e"),
            atomic_energies=np.linspace(-3.0, -1.0, len(z)),
            avg_num_neighbors=12.0,
            atomic_numbers=z,
            correlation=correlation,
            gate=torch.nn.functional.silu,
            atomic_inter_scale=interaction_scale,
            atomic_inter_shift=0.0,
        )
        torch.save(model, path)
    return path
