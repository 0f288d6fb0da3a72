"""The error decomposition of σ^A (DESIGN.md §2) on reference (DFT) frames.

Rows, each σ^A over the same reference frames:

============================  =================  =========  ===========================
configurations                forces on them     Φ          isolates
============================  =================  =========  ===========================
reference (DFT) AIMD frames   reference          reference  the reference σ^A
reference AIMD frames         MLIP (re-scored)   reference  force error alone
reference AIMD frames         MLIP               MLIP       force + Hessian error
MLIP MD frames                MLIP               MLIP       the full MLIP prediction
============================  =================  =========  ===========================

The last row comes from the MLIP's own MD (the anharmonicity job); this module computes the
first three and the force errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latticebench.analysis import SigmaAccumulator, SigmaForm, harmonic_forces
from latticebench.analysis import minimum_image_displacements as min_image

__all__ = ["DecompositionResult", "decompose_sigma", "force_errors"]


@dataclass(frozen=True)
class DecompositionResult:
    """Rows 1–3 of the decomposition in both σ^A forms, and the force errors.

    Attributes
    ----------
    rows : dict
        ``{form: {"sigma_reference", "sigma_force_only", "sigma_force_and_hessian"}}`` for
        form in ("std", "rms").
    n_frames : int
    force_rmse, force_mae : float
        MLIP vs reference forces over all frames, atoms, components (eV/Å).
    force_rmse_by_element, force_mae_by_element : dict of str to float
        Same, per element (eV/Å).
    """

    rows: dict[str, dict[str, float]]
    n_frames: int
    force_rmse: float
    force_mae: float
    force_rmse_by_element: dict[str, float]
    force_mae_by_element: dict[str, float]


def force_errors(
    reference: np.ndarray, predicted: np.ndarray, symbols: list[str]
) -> tuple[float, float, dict[str, float], dict[str, float]]:
    """RMSE and MAE of predicted forces, overall and per element.

    Parameters
    ----------
    reference, predicted : np.ndarray
        Forces (n_frames, N, 3), eV/Å.
    symbols : list of str
        Element of each of the N atoms.

    Returns
    -------
    rmse, mae : float
        eV/Å.
    rmse_by_element, mae_by_element : dict of str to float
        eV/Å.
    """
    diff = np.asarray(predicted, dtype=float) - np.asarray(reference, dtype=float)
    names = np.asarray(symbols)
    rmse_by, mae_by = {}, {}
    for element in dict.fromkeys(symbols):
        part = diff[:, names == element]
        rmse_by[element] = float(np.sqrt(np.mean(part**2)))
        mae_by[element] = float(np.mean(np.abs(part)))
    return float(np.sqrt(np.mean(diff**2))), float(np.mean(np.abs(diff))), rmse_by, mae_by


def decompose_sigma(
    *,
    positions: np.ndarray,
    cells: np.ndarray,
    reference_positions: np.ndarray,
    reference_forces: np.ndarray,
    mlip_forces: np.ndarray,
    reference_force_constants: np.ndarray,
    mlip_force_constants: np.ndarray,
    symbols: list[str],
) -> DecompositionResult:
    """σ^A rows 1–3 of the decomposition on the same frames.

    Parameters
    ----------
    positions : np.ndarray
        Reference frames, (n_frames, N, 3) Å.
    cells : np.ndarray
        (3, 3) or per frame (n_frames, 3, 3) Å.
    reference_positions : np.ndarray
        Equilibrium positions R⁰ of both Φ, (N, 3) Å.
    reference_forces, mlip_forces : np.ndarray
        Forces on the frames, (n_frames, N, 3) eV/Å.
    reference_force_constants, mlip_force_constants : np.ndarray
        Full Φ of both methods at R⁰, (N, N, 3, 3) eV/Å².
    symbols : list of str
        Elements of the N atoms.

    Returns
    -------
    DecompositionResult
    """
    u = min_image(positions, reference_positions, cells)
    harmonic_reference = harmonic_forces(u, reference_force_constants)
    harmonic_mlip = harmonic_forces(u, mlip_force_constants)
    combos = {
        "sigma_reference": (reference_forces, harmonic_reference),
        "sigma_force_only": (mlip_forces, harmonic_reference),
        "sigma_force_and_hessian": (mlip_forces, harmonic_mlip),
    }
    rows: dict[str, dict[str, float]] = {"std": {}, "rms": {}}
    for name, (forces, harmonic) in combos.items():
        accumulator = SigmaAccumulator()
        accumulator.add(forces, harmonic)
        for form in ("std", "rms"):
            rows[form][name] = accumulator.result(form=form).value
    rmse, mae, rmse_by, mae_by = force_errors(reference_forces, mlip_forces, symbols)
    return DecompositionResult(
        rows=rows,
        n_frames=len(positions),
        force_rmse=rmse,
        force_mae=mae,
        force_rmse_by_element=rmse_by,
        force_mae_by_element=mae_by,
    )


def form_for(definition: str | None, default: SigmaForm = "std") -> SigmaForm:
    """The σ^A form to compare with a reference whose definition is ``definition``.

    Parameters
    ----------
    definition : {"std", "rms", "unspecified"} or None
    default : {"std", "rms"}
        Used when the reference does not say.

    Returns
    -------
    {"std", "rms"}
    """
    return definition if definition in ("std", "rms") else default  # type: ignore[return-value]
