"""Pure-numpy science kernel: σ^A, harmonic forces, normal modes, phonon and benchmark metrics.

Arrays in, arrays/numbers/dataclasses out: nothing here imports jobflow, a store, files, or
phonopy/ASE/pymatgen. Units: Å, eV, eV/Å, eV/Å², amu, THz (imaginary frequencies negative).

Modules
-------
displacements
    Minimum-image displacements and harmonic forces ``F⁽²⁾ = −Φu``.
modes
    Normal modes of a supercell from its force constants.
sigma
    The anharmonicity score σ^A and its resolved forms; :class:`SigmaAccumulator` for chunks.
phonon_metrics
    Lowest/imaginary frequencies and model-versus-model phonon errors.
metrics
    Stability classes, classification/regression scores and bootstrap intervals.
"""

from latticebench.analysis.displacements import (
    cell_heights,
    force_constants_matrix,
    harmonic_forces,
    minimum_image_displacements,
)
from latticebench.analysis.metrics import (
    ANHARMONICITY_CLASSES,
    STABILITY_LABELS,
    StabilityThresholds,
    anharmonicity_class,
    bootstrap_ci,
    classification_metrics,
    confusion_matrix,
    is_stable,
    metrics_with_ci,
    regression_metrics,
    stability_labels,
)
from latticebench.analysis.modes import (
    THZ_PER_SQRT_EV_PER_A2_AMU,
    mode_frequencies_and_vectors,
    translation_mode_mask,
)
from latticebench.analysis.phonon_metrics import (
    gamma_frequencies,
    group_velocity_rmse,
    imaginary_mode_fraction,
    lowest_frequency,
    omega_squared_rmse,
    signed_omega_squared,
)
from latticebench.analysis.sigma import (
    SigmaAccumulator,
    SigmaForm,
    SigmaResult,
    block_standard_error,
    project_on_modes,
    sigma_a,
    sigma_a_by_label,
    sigma_a_per_frame,
    sigma_a_per_mode,
    sigma_a_result,
)

__all__ = [
    "ANHARMONICITY_CLASSES",
    "STABILITY_LABELS",
    "THZ_PER_SQRT_EV_PER_A2_AMU",
    "SigmaAccumulator",
    "SigmaForm",
    "SigmaResult",
    "StabilityThresholds",
    "anharmonicity_class",
    "block_standard_error",
    "bootstrap_ci",
    "cell_heights",
    "classification_metrics",
    "confusion_matrix",
    "force_constants_matrix",
    "gamma_frequencies",
    "group_velocity_rmse",
    "harmonic_forces",
    "imaginary_mode_fraction",
    "is_stable",
    "lowest_frequency",
    "metrics_with_ci",
    "minimum_image_displacements",
    "mode_frequencies_and_vectors",
    "omega_squared_rmse",
    "project_on_modes",
    "regression_metrics",
    "sigma_a",
    "sigma_a_by_label",
    "sigma_a_per_frame",
    "sigma_a_per_mode",
    "sigma_a_result",
    "signed_omega_squared",
    "stability_labels",
    "translation_mode_mask",
]
