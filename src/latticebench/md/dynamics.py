"""ASE integrators, initial velocities and the reproducible random generator behind them.

Randomness: one ``numpy.random.Generator`` (PCG64) seeded with ``MDParameters.seed`` first draws
the initial Maxwell-Boltzmann momenta and is then handed to the ASE thermostat as its ``rng``.
In ASE 3.29, ``Andersen.step`` draws ``rng.random(size=3)`` twice (Box-Muller pair for a
centre-of-mass kick) and then ``rng.random(size=(N, 3))`` three times (two for the Box-Muller
velocities, one for the collision test of each velocity component); ``Langevin.step`` draws
``rng.standard_normal(size=(N, 3))`` twice. All draws of a step happen inside that step, so
the generator's ``bit_generator.state`` saved after step ``s`` is exactly what step ``s + 1``
needs: restoring it (with bit-exact positions and momenta) continues the uninterrupted
trajectory.

The centre of mass is kept fixed (Andersen: its own ``fixcm=True``; Langevin: ASE's ``FixCom``
constraint with ``fixcm=False``, as ASE >= 3.28 recommends), so the kinetic energy has
``3N - 3`` degrees of freedom and the temperature is ``2 E_kin / ((3N - 3) k_B)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ase import Atoms
    from ase.md.md import MolecularDynamics

    from latticebench.md.parameters import MDParameters

__all__ = [
    "build_dynamics",
    "degrees_of_freedom",
    "initial_momenta",
    "kinetic_temperature",
    "make_rng",
    "rng_from_state",
    "rng_state",
]

_BIT_GENERATOR = "PCG64"


def make_rng(seed: int) -> np.random.Generator:
    """Return the run's random generator: PCG64 seeded with ``seed``."""
    return np.random.Generator(np.random.PCG64(seed))


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """JSON-able state of ``rng`` (integers only), for the checkpoint."""
    return rng.bit_generator.state


def rng_from_state(state: dict[str, Any]) -> np.random.Generator:
    """Rebuild a generator from :func:`rng_state` output.

    Raises
    ------
    ValueError
        When the state does not belong to a PCG64 generator.
    """
    if state.get("bit_generator") != _BIT_GENERATOR:
        raise ValueError(
            f"random state of bit generator {state.get('bit_generator')!r}, "
            f"expected {_BIT_GENERATOR!r}"
        )
    bit_generator = np.random.PCG64()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def degrees_of_freedom(n_atoms: int) -> int:
    """Kinetic degrees of freedom with the centre of mass fixed: ``3N - 3``."""
    return 3 * n_atoms - 3


def kinetic_temperature(kinetic_energy_eV: float, n_atoms: int) -> float:
    """Instantaneous temperature (K) from the kinetic energy (eV) of N atoms, COM fixed."""
    from ase import units

    return 2.0 * kinetic_energy_eV / (degrees_of_freedom(n_atoms) * units.kB)


def initial_momenta(atoms: Atoms, temperature_K: float, rng: np.random.Generator) -> np.ndarray:
    """Maxwell-Boltzmann momenta at ``temperature_K`` with zero total momentum.

    Parameters
    ----------
    atoms : ase.Atoms
        Supplies the masses; not modified.
    temperature_K : float
        Temperature of the distribution (K).
    rng : numpy.random.Generator
        Source of the normal deviates (advanced by 3N draws).

    Returns
    -------
    numpy.ndarray, shape (N, 3)
        Momenta (ASE units, amu Å / ASE time). Every atom's velocity is shifted by the same
        vector so that the total momentum vanishes; the expected kinetic energy is then
        ``(3N - 3) k_B T / 2``.
    """
    from ase.md.velocitydistribution import Stationary, thermalize_momenta

    scratch = atoms.copy()
    scratch.set_constraint()
    thermalize_momenta(scratch, temperature_K, rng=rng)
    Stationary(scratch, preserve_temperature=False)
    return scratch.get_momenta()


def build_dynamics(
    atoms: Atoms, parameters: MDParameters, rng: np.random.Generator
) -> MolecularDynamics:
    """Create the ASE NVT integrator for ``atoms`` (with its calculator attached).

    Parameters
    ----------
    atoms : ase.Atoms
        Structure with momenta and calculator; for Langevin a ``FixCom`` constraint is set on it.
    parameters : MDParameters
        Thermostat, temperature (K), time step (fs), Andersen probability, friction (1/fs).
    rng : numpy.random.Generator
        The thermostat's random generator (its state is checkpointed by the caller).

    Returns
    -------
    ase.md.md.MolecularDynamics
        An ``Andersen`` or ``Langevin`` object; advance it with ``dyn.step(forces)``.
    """
    from ase import units

    timestep = parameters.timestep_fs * units.fs
    if parameters.thermostat == "andersen":
        from ase.md.andersen import Andersen

        return Andersen(
            atoms,
            timestep,
            temperature_K=parameters.temperature_K,
            andersen_prob=parameters.andersen_probability,
            fixcm=True,
            rng=rng,
        )
    from ase.constraints import FixCom
    from ase.md.langevin import Langevin

    atoms.set_constraint(FixCom())
    return Langevin(
        atoms,
        timestep,
        temperature_K=parameters.temperature_K,
        friction=parameters.langevin_friction_per_fs / units.fs,
        fixcm=False,
        rng=rng,
    )
