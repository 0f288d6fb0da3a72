"""σ^A of a long MD trajectory: our vectorised, chunked analysis vs a per-frame loop.

The trajectory is synthetic but shaped like a production run: the Cs2AgBiBr6 supercell
(40-atom cell repeated ``--atoms-repeat`` times along each axis, 320 atoms by default), force
constants Φ from a nearest-neighbour spring model (symmetric, positive semidefinite, acoustic sum
rule exact), thermal displacements of about 0.1 Å with positions wrapped into the cell (so the
minimum-image convention matters), and forces F = −Φu plus an anharmonic part (an on-site cubic
force and random noise).

Two implementations compute the same numbers — σ^A in both forms (``"std"`` and ``"rms"``), per
frame, per element and per Wyckoff site, and the block standard error:

* vectorised: :class:`latticebench.anharmonicity.SigmaReference` and
  :func:`latticebench.anharmonicity.accumulate_sigma` feeding a
  :class:`latticebench.analysis.SigmaAccumulator` with chunks of ``--chunk`` frames, exactly as
  the anharmonicity job reads an MD run (one chunk per checkpoint, 100 frames by default);
* per-frame loop (written here): for each frame the minimum-image displacement, ``F⁽²⁾ = −Φu``
  as one matrix-vector product with the (3N, 3N) matrix, and running sums of F, F², F^A, F^A²
  over the frame and over each label's atoms.

Prints the timings, the largest relative difference of all the numbers and, last, the speed-up
(loop time ÷ vectorised time). Nothing asserts on time. ``--modes`` adds a row for the
vectorised analysis with per-mode σ^A as well (the job's combined accumulator; the loop has no
counterpart, so it is not part of the ratio).

Usage::

    .venv/bin/python benchmarks/bench_sigma.py [--frames 10000] [--atoms-repeat 2] [--modes]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from latticebench.analysis import SigmaResult
from latticebench.anharmonicity import SigmaReference, accumulate_sigma
from latticebench.structures import build_double_perovskite

FORMS = ("std", "rms")


@dataclass(frozen=True)
class Trajectory:
    """A synthetic MD trajectory with its harmonic reference.

    Attributes
    ----------
    positions : numpy.ndarray, shape (n_frames, N, 3)
        Cartesian positions wrapped into the cell, Å.
    forces : numpy.ndarray, shape (n_frames, N, 3)
        Total forces, eV/Å.
    reference : SigmaReference
        Equilibrium positions R⁰, cell, Φ (N, N, 3, 3) eV/Å², masses, element and site labels.
    """

    positions: np.ndarray
    forces: np.ndarray
    reference: SigmaReference


def spring_force_constants(
    positions: np.ndarray,
    neighbours: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    stiffness: float = 3.0,
    decay: float = 0.5,
    transverse: float = 0.15,
) -> np.ndarray:
    """Force constants of pair springs between neighbours (all periodic images summed).

    Each pair (i, j) at vector r = R_j − R_i contributes the 3×3 block
    ``K = k(|r|) (r̂r̂ᵀ + t (1 − r̂r̂ᵀ))`` with ``k(d) = stiffness · exp(−(d − d_min)/decay)``:
    ``Φ[i, j] −= K`` and ``Φ[i, i] += K``. The result is symmetric, positive semidefinite (a sum
    of pair energies ½ Δuᵀ K Δu) and obeys the acoustic sum rule Σ_j Φ[i, j] = 0 exactly.

    Parameters
    ----------
    positions : numpy.ndarray, shape (N, 3)
        Cartesian positions, Å (only N is used; the vectors come with ``neighbours``).
    neighbours : tuple of numpy.ndarray
        ``(i, j, vectors)``: directed pairs (each pair in both directions), shapes (P,), (P,)
        and (P, 3) with ``vectors`` in Å.
    stiffness : float
        Longitudinal spring constant of the shortest pair, eV/Å².
    decay : float
        Length over which the spring constant falls by a factor e, Å.
    transverse : float
        Transverse-to-longitudinal stiffness ratio t.

    Returns
    -------
    numpy.ndarray, shape (N, N, 3, 3)
        Φ in phonopy's full layout, eV/Å².
    """
    centre, other, vectors = neighbours
    distances = np.linalg.norm(vectors, axis=1)
    k = stiffness * np.exp(-(distances - distances.min()) / decay)
    unit = vectors / distances[:, None]
    longitudinal = unit[:, :, None] * unit[:, None, :]
    blocks = k[:, None, None] * (longitudinal + transverse * (np.eye(3) - longitudinal))
    n_atoms = len(positions)
    phi = np.zeros((n_atoms, n_atoms, 3, 3))
    np.add.at(phi, (centre, other), -blocks)
    np.add.at(phi, (centre, centre), blocks)
    return phi


def synthetic_trajectory(
    n_frames: int,
    repeat: int,
    *,
    amplitude: float = 0.1,
    cubic: float = 50.0,
    noise: float = 0.2,
    cutoff: float = 5.0,
    seed: int = 0,
) -> Trajectory:
    """Build the benchmark's supercell, force constants and trajectory.

    Parameters
    ----------
    n_frames : int
        Frames of the trajectory.
    repeat : int
        Repetitions of the 40-atom Cs2AgBiBr6 cell along each axis (N = 40 · repeat³).
    amplitude : float
        Standard deviation of each displacement component, Å.
    cubic : float
        On-site cubic anharmonic force −κ u³ per component, κ in eV/Å⁴.
    noise : float
        Random anharmonic force, as a fraction of the standard deviation of the harmonic force.
    cutoff : float
        Neighbour cutoff of the spring model, Å.
    seed : int
        Seed of the random generator.

    Returns
    -------
    Trajectory
    """
    structure = build_double_perovskite("Cs2AgBiBr6") * repeat
    centre, other, images, _ = structure.get_neighbor_list(r=cutoff)
    cart = structure.cart_coords
    vectors = (
        structure.lattice.get_cartesian_coords(structure.frac_coords[other] + images) - cart[centre]
    )
    phi = spring_force_constants(cart, (centre, other, vectors))
    reference = SigmaReference(
        positions=cart,
        cell=structure.lattice.matrix,
        force_constants=phi,
        masses=np.array([site.specie.atomic_mass for site in structure], dtype=float),
        labels={
            "element": [site.specie.symbol for site in structure],
            "site": [str(label) for label in structure.site_properties["site"]],
        },
    )
    rng = np.random.default_rng(seed)
    n_atoms = len(structure)
    matrix = phi.transpose(0, 2, 1, 3).reshape(3 * n_atoms, 3 * n_atoms)
    cell = reference.cell
    inverse = np.linalg.inv(cell)
    positions = np.empty((n_frames, n_atoms, 3))
    forces = np.empty((n_frames, n_atoms, 3))
    noise_scale = None
    for start in range(0, n_frames, 1000):
        stop = min(start + 1000, n_frames)
        u = amplitude * rng.normal(size=(stop - start, n_atoms, 3))
        harmonic = -(u.reshape(stop - start, -1) @ matrix.T).reshape(u.shape)
        if noise_scale is None:
            noise_scale = noise * float(np.std(harmonic))
        forces[start:stop] = harmonic - cubic * u**3 + noise_scale * rng.normal(size=u.shape)
        fractional = (cart + u) @ inverse
        positions[start:stop] = (fractional - np.floor(fractional)) @ cell
    return Trajectory(positions=positions, forces=forces, reference=reference)


def chunks(
    positions: np.ndarray, forces: np.ndarray, size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (positions, forces) in consecutive chunks of ``size`` frames, as a reader would."""
    for start in range(0, len(positions), size):
        yield positions[start : start + size], forces[start : start + size]


def vectorised_sigma(
    trajectory: Trajectory, chunk: int, n_blocks: int, with_modes: bool = False
) -> dict[str, SigmaResult]:
    """σ^A through the anharmonicity job's own code path.

    Parameters
    ----------
    trajectory : Trajectory
    chunk : int
        Frames per chunk.
    n_blocks : int
        Blocks of the standard error.
    with_modes : bool
        Also the per-mode σ^A (diagonalises the 3N×3N dynamical matrix first).

    Returns
    -------
    dict of str to SigmaResult
        One result per form, ``"std"`` and ``"rms"``.
    """
    reference = trajectory.reference
    if with_modes:
        reference = SigmaReference(
            reference.positions,
            reference.cell,
            reference.force_constants,
            reference.masses,
            reference.labels,
        )  # a fresh copy so the mode diagonalisation is timed every time
    accumulator = reference.accumulator(n_blocks=n_blocks, with_modes=with_modes)
    accumulate_sigma(
        [accumulator], reference, chunks(trajectory.positions, trajectory.forces, chunk)
    )
    return {form: accumulator.result(form=form) for form in FORMS}


@dataclass(frozen=True)
class LoopResult:
    """What the per-frame loop computes, in both forms.

    Attributes
    ----------
    value : dict of str to float
        σ^A per form.
    per_frame : dict of str to numpy.ndarray, shape (n_frames,)
        σ^A(t) per form.
    by_label : dict of str to dict of str to dict of str to float
        ``by_label[form][labelling][label]``.
    standard_error : dict of str to float
        Block standard error per form.
    """

    value: dict[str, float]
    per_frame: dict[str, np.ndarray]
    by_label: dict[str, dict[str, dict[str, float]]]
    standard_error: dict[str, float]


def _sigma_from_sums(sums: np.ndarray, form: str) -> np.ndarray:
    """σ^A from sums (..., 5) = (count, ΣF, ΣF², ΣF^A, Σ(F^A)²) over any set of entries."""
    count, f, f2, fa, fa2 = np.moveaxis(sums, -1, 0)
    if form == "rms":
        return np.sqrt(fa2 / f2)
    variance_fa = fa2 / count - (fa / count) ** 2
    variance_f = f2 / count - (f / count) ** 2
    return np.sqrt(variance_fa / variance_f)


def loop_sigma(
    positions: np.ndarray,
    forces: np.ndarray,
    reference_positions: np.ndarray,
    cell: np.ndarray,
    force_constants: np.ndarray,
    labels: Mapping[str, list[str]],
    n_blocks: int,
) -> LoopResult:
    """σ^A with a Python loop over frames: one matrix-vector product and a few sums per frame.

    Parameters
    ----------
    positions, forces : numpy.ndarray, shape (n_frames, N, 3)
        Å and eV/Å.
    reference_positions : numpy.ndarray, shape (N, 3)
        R⁰, Å.
    cell : numpy.ndarray, shape (3, 3)
        Lattice vectors as rows, Å.
    force_constants : numpy.ndarray, shape (N, N, 3, 3)
        Φ, eV/Å².
    labels : mapping of str to list of str
        Per-atom labellings (e.g. element, site).
    n_blocks : int
        Contiguous time blocks of the standard error.

    Returns
    -------
    LoopResult
    """
    n_frames, n_atoms, _ = positions.shape
    matrix = force_constants.transpose(0, 2, 1, 3).reshape(3 * n_atoms, 3 * n_atoms)
    inverse = np.linalg.inv(cell)
    groups = {
        name: {
            label: np.flatnonzero(np.asarray(values) == label) for label in dict.fromkeys(values)
        }
        for name, values in labels.items()
    }
    frame_sums = np.zeros((n_frames, 5))
    label_sums = {
        name: {label: np.zeros(5) for label in members} for name, members in groups.items()
    }
    for t in range(n_frames):
        fractional = (positions[t] - reference_positions) @ inverse
        fractional -= np.rint(fractional)
        u = fractional @ cell
        f = forces[t]
        fa = f + (matrix @ u.reshape(-1)).reshape(n_atoms, 3)
        flat_f, flat_fa = f.reshape(-1), fa.reshape(-1)
        frame_sums[t] = (
            flat_f.size,
            flat_f.sum(),
            flat_f @ flat_f,
            flat_fa.sum(),
            flat_fa @ flat_fa,
        )
        for name, members in groups.items():
            for label, atoms in members.items():
                g_f, g_fa = f[atoms].reshape(-1), fa[atoms].reshape(-1)
                label_sums[name][label] += (g_f.size, g_f.sum(), g_f @ g_f, g_fa.sum(), g_fa @ g_fa)
    totals = frame_sums.sum(axis=0)
    blocks = np.array_split(np.arange(n_frames), n_blocks)
    block_sums = np.array([frame_sums[idx].sum(axis=0) for idx in blocks])
    value, per_frame, by_label, standard_error = {}, {}, {}, {}
    for form in FORMS:
        value[form] = float(_sigma_from_sums(totals, form))
        per_frame[form] = _sigma_from_sums(frame_sums, form)
        by_label[form] = {
            name: {label: float(_sigma_from_sums(s, form)) for label, s in sums.items()}
            for name, sums in label_sums.items()
        }
        block_sigma = _sigma_from_sums(block_sums, form)
        standard_error[form] = float(np.std(block_sigma, ddof=1) / np.sqrt(n_blocks))
    return LoopResult(value, per_frame, by_label, standard_error)


def max_relative_difference(vectorised: Mapping[str, SigmaResult], loop: LoopResult) -> float:
    """Largest |a − b| / |b| over every number both implementations report."""
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    for form in FORMS:
        result = vectorised[form]
        pairs.append((np.array(result.value), np.array(loop.value[form])))
        pairs.append((np.asarray(result.per_frame), loop.per_frame[form]))
        pairs.append((np.array(result.standard_error), np.array(loop.standard_error[form])))
        for name, values in loop.by_label[form].items():
            for label, expected in values.items():
                pairs.append((np.array(result.by_label[name][label]), np.array(expected)))
    return max(float(np.max(np.abs(a - b) / np.abs(b))) for a, b in pairs)


def best_time[T](function: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Best wall time (s) of ``repeat`` calls and the last call's result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000, help="MD frames")
    parser.add_argument(
        "--atoms-repeat", type=int, default=2, help="repeats of the 40-atom cell per axis"
    )
    parser.add_argument("--chunk", type=int, default=100, help="frames per chunk (vectorised)")
    parser.add_argument("--blocks", type=int, default=5, help="blocks of the standard error")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions (best is kept)")
    parser.add_argument(
        "--modes", action="store_true", help="also time the vectorised run with per-mode σ^A"
    )
    args = parser.parse_args()

    start = time.perf_counter()
    trajectory = synthetic_trajectory(args.frames, args.atoms_repeat)
    setup = time.perf_counter() - start
    reference = trajectory.reference
    n_frames, n_atoms, _ = trajectory.positions.shape
    phi = reference.force_constants
    asymmetry = float(np.max(np.abs(phi - phi.transpose(1, 0, 3, 2))))
    sum_rule = float(np.max(np.abs(phi.sum(axis=1))))

    t_vectorised, vectorised = best_time(
        lambda: vectorised_sigma(trajectory, args.chunk, args.blocks), args.repeat
    )
    t_loop, loop = best_time(
        lambda: loop_sigma(
            trajectory.positions,
            trajectory.forces,
            reference.positions,
            reference.cell,
            phi,
            reference.labels,
            args.blocks,
        ),
        args.repeat,
    )
    t_modes = None
    if args.modes:
        t_modes, _ = best_time(
            lambda: vectorised_sigma(trajectory, args.chunk, args.blocks, with_modes=True),
            args.repeat,
        )
    difference = max_relative_difference(vectorised, loop)

    headline = vectorised["std"]
    print(
        f"supercell: Cs2AgBiBr6 x{args.atoms_repeat}^3 = {n_atoms} atoms; {n_frames} frames; "
        f"chunks of {args.chunk} frames; {args.blocks} blocks; set-up {setup:.1f} s"
    )
    print(
        f"force constants: |Φ - Φᵀ| ≤ {asymmetry:.1e}, |Σ_j Φ_ij| ≤ {sum_rule:.1e} eV/Å²; "
        f"σ^A std = {headline.value:.4f} ± {headline.standard_error:.4f}, "
        f"rms = {vectorised['rms'].value:.4f}; by element: "
        + ", ".join(f"{k} {v:.3f}" for k, v in headline.by_label["element"].items())
    )
    print(f"{'implementation':<46} {'time (s)':>9} {'frames/s':>10}")
    rows = [
        ("vectorised (SigmaAccumulator over chunks)", t_vectorised),
        ("per-frame loop (matrix-vector product + sums)", t_loop),
    ]
    if t_modes is not None:
        rows.append(("vectorised with per-mode σ^A (not in ratio)", t_modes))
    for name, seconds in rows:
        print(f"{name:<46} {seconds:>9.2f} {n_frames / seconds:>10.0f}")
    print(
        "max relative difference (σ^A, per frame, per element/site, standard error; "
        f"both forms): {difference:.1e}"
    )
    print(f"speed-up (per-frame loop / vectorised): {t_loop / t_vectorised:.1f} x")


if __name__ == "__main__":
    main()
