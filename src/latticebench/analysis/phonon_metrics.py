"""Scalar summaries of harmonic phonons and their differences between two models.

Frequencies are in THz with imaginary modes as negative numbers (phonopy's convention), arrays
of shape (n_q, n_bands); group velocities in THz·Å, shape (n_q, n_bands, 3).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from latticebench.analysis._validation import float_array

__all__ = [
    "gamma_frequencies",
    "group_velocity_rmse",
    "imaginary_mode_fraction",
    "lowest_frequency",
    "omega_squared_rmse",
    "signed_omega_squared",
]


def lowest_frequency(frequencies: ArrayLike) -> float:
    """Lowest frequency of all q-points and bands.

    Parameters
    ----------
    frequencies : array_like, shape (n_q, n_bands) or (n_bands,)
        Frequencies, THz (imaginary negative).

    Returns
    -------
    float
        Minimum frequency, THz; negative when the structure has imaginary modes.
    """
    return float(np.min(_frequencies(frequencies, "frequencies")))


def imaginary_mode_fraction(frequencies: ArrayLike, *, threshold_thz: float = -0.1) -> float:
    """Fraction of all (q, band) modes with frequency below ``threshold_thz``.

    The threshold is slightly negative because the acoustic modes at and near Γ come out of a
    finite-displacement calculation as ±ε (numerical noise of order 0.01 THz, more when the
    acoustic sum rule is not imposed) and must not count as instabilities.

    Parameters
    ----------
    frequencies : array_like, shape (n_q, n_bands) or (n_bands,)
        Frequencies, THz (imaginary negative).
    threshold_thz : float
        Modes with ν < threshold_thz count as imaginary, THz.

    Returns
    -------
    float
        Fraction in [0, 1].
    """
    nu = _frequencies(frequencies, "frequencies")
    return float(np.count_nonzero(nu < threshold_thz) / nu.size)


def gamma_frequencies(
    qpoints: ArrayLike, frequencies: ArrayLike, *, tol: float = 1e-8
) -> np.ndarray:
    """Frequencies at the Γ point.

    A q-point is Γ when it differs from (0, 0, 0) by a reciprocal lattice vector, i.e. when every
    reduced coordinate is within ``tol`` of an integer. When Γ appears several times (a band path
    through Γ twice) the first occurrence is returned.

    Parameters
    ----------
    qpoints : array_like, shape (n_q, 3)
        q-points in reduced coordinates of the reciprocal lattice.
    frequencies : array_like, shape (n_q, n_bands)
        Frequencies, THz.
    tol : float
        Tolerance on each reduced coordinate.

    Returns
    -------
    numpy.ndarray, shape (n_bands,)
        Frequencies at Γ, THz.

    Raises
    ------
    ValueError
        Mismatched shapes, or no q-point is Γ.
    """
    q = float_array(qpoints, "qpoints", ndims=(2,))
    nu = float_array(frequencies, "frequencies", ndims=(2,))
    if q.shape[1] != 3 or q.shape[0] != nu.shape[0]:
        raise ValueError(
            f"qpoints must have shape (n_q, 3) matching frequencies (n_q, n_bands), got "
            f"{q.shape} and {nu.shape}"
        )
    is_gamma = np.all(np.abs(q - np.rint(q)) <= tol, axis=1)
    if not is_gamma.any():
        raise ValueError(f"none of the {q.shape[0]} q-points is Gamma (tolerance {tol})")
    return nu[int(np.flatnonzero(is_gamma)[0])].copy()


def signed_omega_squared(frequencies: ArrayLike) -> np.ndarray:
    """``sign(ν) ν²`` — the eigenvalue scale, with imaginary modes negative.

    Parameters
    ----------
    frequencies : array_like, any shape
        Frequencies ν, THz.

    Returns
    -------
    numpy.ndarray, same shape
        Signed squared frequencies, THz².
    """
    nu = np.asarray(frequencies, dtype=np.float64)
    return np.sign(nu) * nu**2


def omega_squared_rmse(freq_a: ArrayLike, freq_b: ArrayLike) -> float:
    """Root-mean-square difference of signed ω² between two models on the same q-points.

    Bands are sorted ascending at every q-point before the comparison, so band crossings
    reordered by band connection do not count as differences.

    Parameters
    ----------
    freq_a, freq_b : array_like, shape (n_q, n_bands)
        Frequencies of the two models, THz (imaginary negative).

    Returns
    -------
    float
        RMSE of ``sign(ν) ν²`` over all q-points and bands, THz².

    Raises
    ------
    ValueError
        The two arrays differ in shape (both shapes named).
    """
    a = _frequencies(freq_a, "freq_a")
    b = _frequencies(freq_b, "freq_b")
    if a.shape != b.shape:
        raise ValueError(f"freq_a and freq_b must have the same shape, got {a.shape} and {b.shape}")
    difference = signed_omega_squared(np.sort(a, axis=-1)) - signed_omega_squared(
        np.sort(b, axis=-1)
    )
    return float(np.sqrt(np.mean(difference**2)))


def group_velocity_rmse(gv_a: ArrayLike, gv_b: ArrayLike) -> float:
    """Root-mean-square difference of group velocities over all q-points, bands and components.

    Group velocities of degenerate bands are not unique; compare paths that avoid degeneracies
    or accept their contribution.

    Parameters
    ----------
    gv_a, gv_b : array_like, shape (n_q, n_bands, 3)
        Group velocities of the two models, THz·Å.

    Returns
    -------
    float
        RMSE, THz·Å.
    """
    a = float_array(gv_a, "gv_a", ndims=(3,))
    b = float_array(gv_b, "gv_b", ndims=(3,))
    if a.shape != b.shape or a.shape[-1] != 3:
        raise ValueError(
            f"gv_a and gv_b must both have shape (n_q, n_bands, 3), got {a.shape} and {b.shape}"
        )
    return float(np.sqrt(np.mean((a - b) ** 2)))


def _frequencies(values: ArrayLike, name: str) -> np.ndarray:
    nu = float_array(values, name, ndims=(1, 2))
    if nu.size == 0:
        raise ValueError(f"{name} is empty (shape {nu.shape})")
    return nu
