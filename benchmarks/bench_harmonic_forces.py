"""Harmonic forces F⁽²⁾ = −Φu for a whole trajectory: one matrix product vs a per-frame loop.

Run from the repository root with latticebench installed, or from a checkout with
``PYTHONPATH=src python benchmarks/bench_harmonic_forces.py [--atoms 320] [--frames 2000]``.
Prints the timings and their ratios (no assertion on time); checks that the results agree.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from latticebench.analysis.displacements import harmonic_forces


def per_frame_loop(displacements: np.ndarray, force_constants: np.ndarray) -> np.ndarray:
    """The straightforward alternative: one einsum per frame, frames in a Python loop."""
    out = np.empty_like(displacements)
    for t in range(displacements.shape[0]):
        out[t] = -np.einsum("ijab,jb->ia", force_constants, displacements[t])
    return out


def per_frame_matvec(displacements: np.ndarray, force_constants: np.ndarray) -> np.ndarray:
    """A fairer loop: Φ reshaped to (3N, 3N) once, one BLAS matrix-vector product per frame."""
    n_coords = 3 * displacements.shape[1]
    matrix = force_constants.transpose(0, 2, 1, 3).reshape(n_coords, n_coords)
    out = np.empty_like(displacements)
    for t in range(displacements.shape[0]):
        out[t] = -(matrix @ displacements[t].reshape(n_coords)).reshape(-1, 3)
    return out


def best_time(function, *args, repeat: int) -> tuple[float, np.ndarray]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=320, help="atoms in the supercell")
    parser.add_argument("--frames", type=int, default=2000, help="MD frames")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (best is kept)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n = args.atoms
    random = rng.normal(size=(3 * n, 3 * n))
    phi = (random + random.T).reshape(n, 3, n, 3).transpose(0, 2, 1, 3).copy()
    u = 0.1 * rng.normal(size=(args.frames, n, 3))

    t_matrix, f_matrix = best_time(harmonic_forces, u, phi, repeat=args.repeat)
    t_loop, f_loop = best_time(per_frame_loop, u, phi, repeat=max(1, args.repeat // 3))
    t_matvec, f_matvec = best_time(per_frame_matvec, u, phi, repeat=args.repeat)
    difference = max(
        float(np.max(np.abs(f_matrix - f_loop))), float(np.max(np.abs(f_matrix - f_matvec)))
    )

    print(f"supercell: {n} atoms, trajectory: {args.frames} frames")
    print(f"one matrix product (harmonic_forces): {t_matrix * 1e3:10.1f} ms")
    print(f"per-frame einsum loop:                {t_loop * 1e3:10.1f} ms")
    print(f"per-frame matrix-vector loop:         {t_matvec * 1e3:10.1f} ms")
    print(f"speed-up (einsum loop / matrix product): {t_loop / t_matrix:7.1f} x")
    print(f"speed-up (matvec loop / matrix product): {t_matvec / t_matrix:7.1f} x")
    print(f"max |difference| of the forces:       {difference:10.2e} eV/Å")


if __name__ == "__main__":
    main()
