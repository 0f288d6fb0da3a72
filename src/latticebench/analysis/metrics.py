"""Classification and regression of σ^A: stability classes, scores and bootstrap intervals.

Dynamic stability at 300 K: stable when σ^A ≤ 1.0. Anharmonicity classes of the reference
group: weak ≤ 0.5 < moderate ≤ 0.75 < strong ≤ 1.0 < unstable. The thresholds are configuration
(:class:`StabilityThresholds`) and belong in every stored result (``thresholds.as_dict()``).

The scores follow scikit-learn's definitions (accuracy, precision, recall, F1 with
``zero_division=0``, Matthews correlation in Gorodkin's multiclass form, ``r2_score``) but are
computed with numpy so that the package does not depend on scikit-learn.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from latticebench.analysis._validation import float_array

__all__ = [
    "ANHARMONICITY_CLASSES",
    "STABILITY_LABELS",
    "StabilityThresholds",
    "anharmonicity_class",
    "bootstrap_ci",
    "bootstrap_indices",
    "classification_metrics",
    "confusion_matrix",
    "is_stable",
    "metrics_with_ci",
    "regression_metrics",
    "stability_labels",
]

ANHARMONICITY_CLASSES: tuple[str, ...] = ("weak", "moderate", "strong", "unstable")
"""Anharmonicity classes in increasing σ^A."""

STABILITY_LABELS: tuple[str, ...] = ("stable", "unstable")
"""Labels of the binary dynamic-stability classification."""


@dataclass(frozen=True)
class StabilityThresholds:
    """σ^A thresholds (dimensionless) for stability and anharmonicity classes.

    Attributes
    ----------
    stable_max : float
        Dynamically stable when σ^A ≤ stable_max.
    weak_max : float
        Weakly anharmonic when σ^A ≤ weak_max.
    moderate_max : float
        Moderately anharmonic when weak_max < σ^A ≤ moderate_max.
    strong_max : float
        Strongly anharmonic when moderate_max < σ^A ≤ strong_max; above it "unstable".
    """

    stable_max: float = 1.0
    weak_max: float = 0.5
    moderate_max: float = 0.75
    strong_max: float = 1.0

    def __post_init__(self) -> None:
        values = self.as_dict()
        for name, value in values.items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"threshold {name} must be a positive finite number, got {value}")
        if not self.weak_max <= self.moderate_max <= self.strong_max:
            raise ValueError(
                "thresholds must satisfy weak_max <= moderate_max <= strong_max, got "
                f"{self.weak_max}, {self.moderate_max}, {self.strong_max}"
            )

    def as_dict(self) -> dict[str, float]:
        """Thresholds as a plain dictionary (for result documents)."""
        return asdict(self)


def is_stable(sigma: ArrayLike, thresholds: StabilityThresholds | None = None) -> np.ndarray:
    """Dynamic stability: σ^A ≤ ``thresholds.stable_max``.

    Parameters
    ----------
    sigma : array_like, any shape
        σ^A values (dimensionless, ≥ 0).
    thresholds : StabilityThresholds, optional
        Defaults to ``StabilityThresholds()``.

    Returns
    -------
    numpy.ndarray of bool, same shape as ``sigma``

    Raises
    ------
    ValueError
        A NaN/inf or negative σ^A (its index named).
    """
    thresholds = thresholds or StabilityThresholds()
    return _sigma_values(sigma) <= thresholds.stable_max


def stability_labels(sigma: ArrayLike, thresholds: StabilityThresholds | None = None) -> np.ndarray:
    """``"stable"`` / ``"unstable"`` for every σ^A (see :func:`is_stable`)."""
    return np.where(is_stable(sigma, thresholds), STABILITY_LABELS[0], STABILITY_LABELS[1])


def anharmonicity_class(
    sigma: ArrayLike, thresholds: StabilityThresholds | None = None
) -> np.ndarray:
    """Anharmonicity class of every σ^A: weak ≤ 0.5 < moderate ≤ 0.75 < strong ≤ 1.0 < unstable.

    Parameters
    ----------
    sigma : array_like, any shape
        σ^A values (dimensionless, ≥ 0).
    thresholds : StabilityThresholds, optional
        Defaults to ``StabilityThresholds()``.

    Returns
    -------
    numpy.ndarray of str, same shape as ``sigma``
        One of :data:`ANHARMONICITY_CLASSES` per value.

    Raises
    ------
    ValueError
        A NaN/inf or negative σ^A (its index named).
    """
    thresholds = thresholds or StabilityThresholds()
    values = _sigma_values(sigma)
    edges = [thresholds.weak_max, thresholds.moderate_max, thresholds.strong_max]
    # side="left": a value equal to an edge belongs to the class below it (≤ is inclusive).
    return np.array(ANHARMONICITY_CLASSES)[np.searchsorted(edges, values, side="left")]


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[Any]) -> np.ndarray:
    """Counts of (true, predicted) label pairs: rows true, columns predicted, ``labels`` order.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n,)
        True and predicted labels.
    labels : sequence
        All labels, each once; every entry of ``y_true`` and ``y_pred`` must be one of them.

    Returns
    -------
    numpy.ndarray of int, shape (n_labels, n_labels)
    """
    true_idx, pred_idx = _label_indices(y_true, y_pred, labels)
    n_labels = len(labels)
    counts = np.bincount(true_idx * n_labels + pred_idx, minlength=n_labels * n_labels)
    return counts.reshape(n_labels, n_labels)


def classification_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: Sequence[Any],
    positive: Any | None = None,
) -> dict[str, Any]:
    """Accuracy, precision, recall, F1, Matthews correlation and the confusion matrix.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n,)
        True and predicted labels.
    labels : sequence
        All labels in the order of the confusion matrix.
    positive : optional
        With a positive label, precision/recall/F1 are those of that class (binary, one versus
        the rest); without, they are macro averages over ``labels`` (labels absent from both
        arrays count as 0, like scikit-learn with ``labels=`` and ``zero_division=0``).

    Returns
    -------
    dict
        ``accuracy, precision, recall, f1, mcc`` (floats; a zero division gives 0.0),
        ``confusion`` (list of lists, rows = true, columns = predicted), ``labels``,
        ``average`` ("binary" or "macro"), ``positive`` and ``n``.
    """
    labels = list(labels)
    cm = confusion_matrix(y_true, y_pred, labels).astype(np.float64)
    tp = np.diag(cm)
    predicted = cm.sum(axis=0)
    actual = cm.sum(axis=1)
    precision = _divide(tp, predicted)
    recall = _divide(tp, actual)
    f1 = _divide(2 * tp, predicted + actual)
    if positive is not None:
        if positive not in labels:
            raise ValueError(f"positive label {positive!r} is not one of labels {labels}")
        k = labels.index(positive)
        averaged = (precision[k], recall[k], f1[k])
    else:
        averaged = (precision.mean(), recall.mean(), f1.mean())
    total = cm.sum()
    covariance = tp.sum() * total - predicted @ actual
    scale = math.sqrt((total**2 - predicted @ predicted) * (total**2 - actual @ actual))
    return {
        "accuracy": float(tp.sum() / total),
        "precision": float(averaged[0]),
        "recall": float(averaged[1]),
        "f1": float(averaged[2]),
        "mcc": float(covariance / scale) if scale > 0 else 0.0,
        "confusion": cm.astype(int).tolist(),
        "labels": labels,
        "average": "binary" if positive is not None else "macro",
        "positive": positive,
        "n": int(total),
    }


def regression_metrics(true: ArrayLike, pred: ArrayLike) -> dict[str, float | int]:
    """Mean absolute error, RMSE, Spearman rank correlation and R² of predictions.

    Parameters
    ----------
    true, pred : array_like, shape (n,)
        Reference and predicted values (same unit), n ≥ 2.

    Returns
    -------
    dict
        ``mae``, ``rmse``, ``mean_signed_error`` (mean of pred − true), ``spearman`` (NaN when
        either array is constant), ``r2`` (``1 − SS_res/SS_tot``; for constant ``true`` 1.0 if
        the prediction is perfect else 0.0, like scikit-learn's ``r2_score``) and ``n``.
    """
    from scipy.stats import spearmanr

    y = float_array(true, "true", ndims=(1,))
    p = float_array(pred, "pred", ndims=(1,))
    if y.shape != p.shape:
        raise ValueError(f"true and pred must have the same shape, got {y.shape} and {p.shape}")
    if y.size < 2:
        raise ValueError(f"regression metrics need at least 2 values, got {y.size}")
    error = p - y
    r2 = _r2(ss_res=float(np.sum(error**2)), ss_tot=float(np.sum((y - y.mean()) ** 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: scipy warns and returns NaN
        spearman = float(spearmanr(y, p).statistic)
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mean_signed_error": float(np.mean(error)),
        "spearman": spearman,
        "r2": float(r2),
        "n": int(y.size),
    }


def bootstrap_indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """Row indices of ``n_resamples`` bootstrap resamples of ``n`` rows (with replacement).

    Returns
    -------
    numpy.ndarray of int, shape (n_resamples, n)
        Drawn with ``numpy.random.default_rng(seed)``; the same seed gives the same indices.
    """
    if n < 1:
        raise ValueError("bootstrap needs at least one row")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def bootstrap_ci(
    statistic: Callable[..., float],
    *arrays: ArrayLike,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Point estimate and percentile bootstrap interval of a statistic of paired arrays.

    Rows are resampled with replacement, with the same row indices for every array (pairs stay
    pairs). Resamples on which the statistic is NaN (e.g. a rank correlation of a constant
    resample) are left out of the percentiles.

    Parameters
    ----------
    statistic : callable
        ``statistic(*arrays) -> float``.
    *arrays : array_like
        Arrays with the same length along axis 0.
    n_resamples : int
        Number of bootstrap resamples.
    confidence : float
        Confidence level of the interval, in (0, 1).
    seed : int
        Seed of the resampling; the same seed gives identical numbers.

    Returns
    -------
    tuple of float
        ``(estimate, low, high)``: the statistic of the full data and the percentile interval.
    """
    data = _paired(arrays)
    _check_confidence(confidence)
    estimate = float(statistic(*data))
    indices = bootstrap_indices(len(data[0]), n_resamples, seed)
    values = np.array([float(statistic(*(a[rows] for a in data))) for rows in indices])
    low, high = _percentile_interval(values, confidence)
    return estimate, low, high


def metrics_with_ci(
    true_sigma: ArrayLike,
    pred_sigma: ArrayLike,
    *,
    thresholds: StabilityThresholds | None = None,
    positive: str = "unstable",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Every benchmark metric of predicted against reference σ^A, with bootstrap intervals.

    One set of paired bootstrap resamples (:func:`bootstrap_indices`) is shared by all metrics,
    so every interval comes from the same resampled compound sets.

    Parameters
    ----------
    true_sigma, pred_sigma : array_like, shape (n,)
        Reference (DFT) and predicted (MLIP) σ^A of the same compounds.
    thresholds : StabilityThresholds, optional
        Class thresholds; defaults to ``StabilityThresholds()``.
    positive : {"unstable", "stable"}
        Positive class of the binary stability scores.
    n_resamples, confidence, seed
        See :func:`bootstrap_ci`.

    Returns
    -------
    dict
        ``{"n", "confidence", "n_resamples", "seed", "thresholds",
        "regression": {mae, rmse, mean_signed_error, spearman, r2},
        "stability": {accuracy, precision, recall, f1, mcc, confusion, labels, positive, ...},
        "anharmonicity_class": {... macro averages over the four classes ...}}``; every numeric
        score is ``{"value", "low", "high"}``.
    """
    thresholds = thresholds or StabilityThresholds()
    if positive not in STABILITY_LABELS:
        raise ValueError(f"positive must be one of {STABILITY_LABELS}, got {positive!r}")
    true_values, pred_values = _paired((true_sigma, pred_sigma))
    _check_confidence(confidence)
    true_sigma_values = _sigma_values(true_values, "true_sigma")
    pred_sigma_values = _sigma_values(pred_values, "pred_sigma")

    def all_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, dict[str, Any]]:
        return {
            "regression": regression_metrics(y, p),
            "stability": classification_metrics(
                stability_labels(y, thresholds),
                stability_labels(p, thresholds),
                labels=STABILITY_LABELS,
                positive=positive,
            ),
            "anharmonicity_class": classification_metrics(
                anharmonicity_class(y, thresholds),
                anharmonicity_class(p, thresholds),
                labels=ANHARMONICITY_CLASSES,
            ),
        }

    point = all_metrics(true_sigma_values, pred_sigma_values)
    indices = bootstrap_indices(true_sigma_values.size, n_resamples, seed)
    resampled = [all_metrics(true_sigma_values[r], pred_sigma_values[r]) for r in indices]
    result: dict[str, Any] = {
        "n": int(true_sigma_values.size),
        "confidence": confidence,
        "n_resamples": n_resamples,
        "seed": seed,
        "thresholds": thresholds.as_dict(),
    }
    for group, scores in point.items():
        result[group] = {}
        for key, value in scores.items():
            if isinstance(value, float):
                low, high = _percentile_interval(
                    np.array([r[group][key] for r in resampled]), confidence
                )
                result[group][key] = {"value": value, "low": low, "high": high}
            else:
                result[group][key] = value
    return result


def _r2(*, ss_res: float, ss_tot: float) -> float:
    """1 − SS_res/SS_tot; for a constant reference 1.0 (perfect) or 0.0 (scikit-learn's choice)."""
    if ss_tot > 0:
        return 1.0 - ss_res / ss_tot
    return 1.0 if ss_res == 0 else 0.0


def _sigma_values(sigma: ArrayLike, name: str = "sigma") -> np.ndarray:
    values = np.asarray(sigma, dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0]) if values.ndim else ()
        where = f"{name}[{', '.join(map(str, index))}]" if index else name
        raise ValueError(
            f"{where} = {values[index]} is not a valid sigma^A (must be finite and >= 0)"
        )
    return values


def _label_indices(
    y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray]:
    positions = {label: k for k, label in enumerate(labels)}
    if len(positions) != len(labels):
        raise ValueError(f"labels must be unique, got {list(labels)}")
    true_list = np.asarray(y_true).tolist()
    pred_list = np.asarray(y_pred).tolist()
    if not isinstance(true_list, list) or not isinstance(pred_list, list):
        raise ValueError("y_true and y_pred must be 1-D arrays of labels")
    if len(true_list) != len(pred_list):
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(true_list)} and "
            f"{len(pred_list)}"
        )
    if not true_list:
        raise ValueError("y_true and y_pred are empty")
    indices = []
    for name, values in (("y_true", true_list), ("y_pred", pred_list)):
        try:
            indices.append(np.array([positions[v] for v in values], dtype=np.intp))
        except (KeyError, TypeError):
            first = next(i for i, v in enumerate(values) if _lookup(positions, v) is None)
            raise ValueError(
                f"{name}[{first}] = {values[first]!r} is not one of labels {list(labels)}"
            ) from None
    return indices[0], indices[1]


def _lookup(positions: dict[Any, int], value: Any) -> int | None:
    try:
        return positions.get(value)
    except TypeError:  # unhashable entry
        return None


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise division with 0.0 where the denominator is 0 (``zero_division=0``)."""
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _paired(arrays: Sequence[ArrayLike]) -> list[np.ndarray]:
    if not arrays:
        raise ValueError("bootstrap needs at least one array")
    data = [np.asarray(a) for a in arrays]
    lengths = [a.shape[0] if a.ndim else -1 for a in data]
    if min(lengths) < 1 or len(set(lengths)) != 1:
        raise ValueError(
            f"paired arrays must be non-empty with one common length along axis 0, got "
            f"shapes {[a.shape for a in data]}"
        )
    return data


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = 50.0 * (1.0 - confidence)
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)
