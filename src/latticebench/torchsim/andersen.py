"""The Andersen thermostat of the reference protocol for batched systems, in torch.

torch-sim ships Langevin, Nosé-Hoover and velocity-rescaling thermostats but no Andersen; this
module adds it. One call of :func:`andersen_step` advances every system of a batch by one time
step with exactly the algorithm of ASE's ``Andersen.step`` (ASE 3.29, ``fixcm=True``) that the
ASE engine (:mod:`latticebench.md.dynamics`) uses:

1. add a random centre-of-mass velocity (width √(k_B T / M)), then half a force kick;
2. redraw each velocity component with probability p from Maxwell-Boltzmann (width √(k_B T / m));
3. remove the centre-of-mass velocity, drift the positions by v Δt and put the centre of mass
   back where it was; recompute v from the actual displacement;
4. evaluate the forces, add the second half kick and remove the centre-of-mass velocity again.

Each system keeps its own ``numpy.random.Generator`` (PCG64, seeded from its ``MDParameters``)
and draws its random numbers in ASE's order (3 + 3 for the centre-of-mass kick, N×3 + N×3 for
the Box-Muller velocities, N×3 for the collision test). A batched run therefore reproduces, system
by system, the trajectory the ASE engine computes alone with the same seed, and its checkpoints
(positions, momenta, generator state) are interchangeable with the ASE engine's.

Units are ASE's throughout: positions Å, masses amu, time in ASE units (``fs * ase.units.fs``),
velocities Å per ASE time unit, forces eV/Å, k_B T in eV.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["AndersenNoise", "BatchLayout", "andersen_step", "draw_andersen_noise"]


@dataclass(frozen=True)
class BatchLayout:
    """How atoms of a batch belong to systems.

    Attributes
    ----------
    system_idx : torch.Tensor
        System index of every atom, shape (n_atoms,), long, non-decreasing.
    masses : torch.Tensor
        Atomic masses in amu, shape (n_atoms, 1) (broadcasts over x, y, z).
    total_masses : torch.Tensor
        Mass of each system in amu, shape (n_systems, 1).
    """

    system_idx: torch.Tensor
    masses: torch.Tensor
    total_masses: torch.Tensor

    @classmethod
    def from_masses(cls, masses: Sequence[np.ndarray], *, device: torch.device) -> BatchLayout:
        """Layout of systems with the given per-atom masses (amu), in batch order."""
        counts = [len(m) for m in masses]
        system_idx = torch.repeat_interleave(
            torch.arange(len(counts), device=device), torch.tensor(counts, device=device)
        )
        flat = torch.as_tensor(np.concatenate(masses), dtype=torch.float64, device=device)
        totals = torch.zeros(len(counts), dtype=torch.float64, device=device)
        totals.index_add_(0, system_idx, flat)
        return cls(system_idx, flat[:, None], totals[:, None])

    @property
    def n_systems(self) -> int:
        """Number of systems."""
        return len(self.total_masses)

    def per_system_sum(self, values: torch.Tensor) -> torch.Tensor:
        """Sum of per-atom rows over each system: shape (n_atoms, k) → (n_systems, k)."""
        out = torch.zeros(
            (self.n_systems, values.shape[1]), dtype=values.dtype, device=values.device
        )
        return out.index_add_(0, self.system_idx, values)

    def centre_of_mass_velocity(self, velocities: torch.Tensor) -> torch.Tensor:
        """Per-system centre-of-mass velocity broadcast to atoms, shape (n_atoms, 3)."""
        return (self.per_system_sum(self.masses * velocities) / self.total_masses)[self.system_idx]

    def centre_of_mass(self, positions: torch.Tensor) -> torch.Tensor:
        """Per-system centre of mass (Å), shape (n_systems, 3)."""
        return self.per_system_sum(self.masses * positions) / self.total_masses


@dataclass(frozen=True)
class AndersenNoise:
    """The random numbers of one Andersen step for every atom of a batch.

    Attributes
    ----------
    com_velocity : torch.Tensor
        Random centre-of-mass velocity of each atom's system, shape (n_atoms, 3).
    velocities : torch.Tensor
        Maxwell-Boltzmann velocities offered to the collisions, shape (n_atoms, 3).
    collide : torch.Tensor
        Which velocity components are redrawn, bool, shape (n_atoms, 3).
    """

    com_velocity: torch.Tensor
    velocities: torch.Tensor
    collide: torch.Tensor


def _boltzmann(rng: np.random.Generator, width: np.ndarray | float, size) -> np.ndarray:
    """Box-Muller normal deviates scaled by ``width``, drawn as ASE's Andersen draws them."""
    x = rng.random(size=size)
    y = rng.random(size=size)
    return width * np.cos(2 * np.pi * x) * (-2 * np.log(1 - y)) ** 0.5


def draw_andersen_noise(
    rngs: Sequence[np.random.Generator],
    masses: Sequence[np.ndarray],
    kT_eV: Sequence[float],
    probabilities: Sequence[float],
    *,
    device: torch.device,
) -> AndersenNoise:
    """Draw one step's random numbers for every system, each from its own generator.

    Parameters
    ----------
    rngs : sequence of numpy.random.Generator
        One generator per system (advanced by 6 + 9 N draws each).
    masses : sequence of np.ndarray
        Per-atom masses (amu) of each system, shapes (N_i,).
    kT_eV : sequence of float
        k_B T of each system's thermostat (eV).
    probabilities : sequence of float
        Andersen collision probability per velocity component and step, per system.
    device : torch.device
        Where the returned tensors live.

    Returns
    -------
    AndersenNoise
    """
    com, velocities, collide = [], [], []
    for rng, m, kT, p in zip(rngs, masses, kT_eV, probabilities, strict=True):
        n = len(m)
        kick = _boltzmann(rng, (kT / m.sum()) ** 0.5, 3)
        com.append(np.broadcast_to(kick, (n, 3)))
        velocities.append(_boltzmann(rng, (kT / np.repeat(m, 3).reshape(n, 3)) ** 0.5, (n, 3)))
        collide.append(rng.random(size=(n, 3)) <= p)
    return AndersenNoise(
        com_velocity=torch.as_tensor(np.concatenate(com), device=device),
        velocities=torch.as_tensor(np.concatenate(velocities), device=device),
        collide=torch.as_tensor(np.concatenate(collide), device=device),
    )


def andersen_step(
    positions: torch.Tensor,
    momenta: torch.Tensor,
    forces: torch.Tensor,
    layout: BatchLayout,
    dt: torch.Tensor,
    noise: AndersenNoise,
    evaluate: Callable[[torch.Tensor], torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Advance every system of a batch by one Andersen NVT step.

    Parameters
    ----------
    positions, momenta, forces : torch.Tensor
        State at the start of the step, float64, shape (n_atoms, 3): Å, amu Å / ASE time, eV/Å.
    layout : BatchLayout
        Masses and system membership.
    dt : torch.Tensor
        Time step of each atom's system in ASE time units, shape (n_atoms, 1).
    noise : AndersenNoise
        This step's random numbers (:func:`draw_andersen_noise`).
    evaluate : callable
        Forces (eV/Å, float64, shape (n_atoms, 3)) at new positions.

    Returns
    -------
    tuple of torch.Tensor
        Positions, momenta and forces after the step.
    """
    m = layout.masses
    v = momenta / m + noise.com_velocity
    v = v + 0.5 * forces / m * dt
    v = torch.where(noise.collide, noise.velocities, v)
    old_com = layout.centre_of_mass(positions)
    v = v - layout.centre_of_mass_velocity(v)
    moved = positions + v * dt
    moved = moved + (old_com - layout.centre_of_mass(moved))[layout.system_idx]
    v = (moved - positions) / dt
    new_forces = evaluate(moved)
    v = v + 0.5 * new_forces / m * dt
    v = v - layout.centre_of_mass_velocity(v)
    return moved, v * m, new_forces
