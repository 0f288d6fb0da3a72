"""Small numerical helpers: guarded division and mergeable moments (Chan et al. 1979)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


def safe_ratio(numerator: ArrayLike, denominator: ArrayLike) -> np.ndarray:
    """``numerator / denominator`` with NaN (and no warning) where the denominator is zero."""
    denominator = np.asarray(denominator, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.divide(numerator, denominator)
    return np.where(denominator == 0.0, np.nan, ratio)


def check_blocks(n_blocks: int, n_frames: int) -> None:
    """Raise ValueError unless ``n_blocks`` is an integer >= 2 and at most ``n_frames``."""
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, int | np.integer) or n_blocks < 2:
        raise ValueError(f"n_blocks must be an integer >= 2, got {n_blocks!r}")
    if n_frames < n_blocks:
        raise ValueError(f"{n_frames} frames cannot be split into {n_blocks} blocks")


@dataclass(frozen=True)
class Moments:
    """Count, mean, centred sum of squares and raw sum of squares of a set of numbers.

    Attributes are scalars or arrays of one common shape (one set per element). Merging uses the
    pairwise update of Chan, Golub & LeVeque, which never subtracts two large sums, so a large
    common offset of the data does not destroy the variance.
    """

    count: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    sumsq: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, axis: int | tuple[int, ...] | None) -> Moments:
        """Moments of ``values`` reduced over ``axis`` (None: all entries), two-pass."""
        mean = np.mean(values, axis=axis)
        count = np.full(np.shape(mean), values.size / max(np.size(mean), 1), dtype=np.float64)
        centred = values - (mean if axis is None else np.expand_dims(mean, axis))
        return cls(
            count=count,
            mean=mean,
            m2=np.sum(centred**2, axis=axis),
            sumsq=np.sum(values**2, axis=axis),
        )

    def merge(self, other: Moments) -> Moments:
        """Moments of the union of the two sets."""
        count = self.count + other.count
        delta = other.mean - self.mean
        return Moments(
            count=count,
            mean=self.mean + delta * (other.count / count),
            m2=self.m2 + other.m2 + delta**2 * (self.count * other.count / count),
            sumsq=self.sumsq + other.sumsq,
        )

    @classmethod
    def combine(
        cls, count: np.ndarray, mean: np.ndarray, m2: np.ndarray, sumsq: np.ndarray
    ) -> Moments:
        """Moments of the union of the groups along axis 0 of the given per-group arrays."""
        total = np.sum(count, axis=0)
        grand_mean = np.sum(count * mean, axis=0) / total
        return cls(
            count=total,
            mean=grand_mean,
            m2=np.sum(m2, axis=0) + np.sum(count * (mean - grand_mean) ** 2, axis=0),
            sumsq=np.sum(sumsq, axis=0),
        )

    def variance(self) -> np.ndarray:
        """Population variance (ddof = 0)."""
        return self.m2 / self.count
