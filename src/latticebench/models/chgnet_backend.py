"""CHGNet models: weights from the chgnet package (offline), batched prediction."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence
from importlib.metadata import version

import numpy as np
from ase import Atoms

from latticebench.models.checkpoints import ResolvedCheckpoint, sha256_file
from latticebench.models.loaded import LoadedModel, Predictions
from latticebench.models.mace_backend import ModelLoadError, preserve_torch_default_dtype
from latticebench.models.record import ModelRecord

__all__ = ["ChgnetModel"]

logger = logging.getLogger(__name__)

# Bytes per atom-graph edge (6 Å) of CHGNet 0.3.0 computing energy and forces in float32.
# Measured (2 CPU cores, torch 2.14 CPU, chgnet 0.4.2) as the peak-RSS growth of one batched
# pass over rattled 320-atom Cs2AgBiBr6 supercells (5,110 edges each):
# * benchmarks/calibrate_batch_memory.py (0.05 Å rattle), 1, 2, 4 cells: 254, 514, 1,054 MB,
#   49,700-51,600 B/edge, straight-line slope 52,300 B/edge, no fixed cost (-16 MB);
# * benchmarks/bench_batching.py (0.08 Å, AIMD-like), 8 cells: 2,317 MB, 56,700 B/edge (more
#   bond-graph angles within 3 Å in the more distorted frames).
# The constant takes the larger figure.
CHGNET_BYTES_PER_EDGE = 57_000.0


def _on_demand_calculator_class():
    """CHGNetCalculator whose prediction task follows the requested properties."""
    from chgnet.model.dynamics import CHGNetCalculator

    class OnDemandCHGNetCalculator(CHGNetCalculator):
        def calculate(self, atoms=None, properties=None, system_changes=None, task=None):
            if task is None and properties is not None:
                wanted = set(properties)
                task = (
                    "ef"
                    + ("s" if "stress" in wanted else "")
                    + ("m" if "magmoms" in wanted else "")
                )
            super().calculate(atoms, properties, system_changes, task=task or "efsm")

    return OnDemandCHGNetCalculator


class ChgnetModel(LoadedModel):
    """A CHGNet version shipped with the chgnet package.

    CHGNet evaluates in float32 only (its graph code fixes the dtype); a request for float64
    is logged and the record says float32.

    Parameters
    ----------
    checkpoint : ResolvedCheckpoint
    device : str
    dtype : str
        Requested dtype; only ``"float32"`` is honoured.
    """

    def __init__(self, checkpoint: ResolvedCheckpoint, device: str, dtype: str) -> None:
        from chgnet.model import CHGNet

        if dtype != "float32":
            logger.warning("CHGNet runs in float32 only; %s was requested", dtype)
        assert checkpoint.spec is not None and checkpoint.spec.chgnet_version is not None
        with preserve_torch_default_dtype(), contextlib.redirect_stdout(io.StringIO()):
            try:
                self._model = CHGNet.load(
                    model_name=checkpoint.spec.chgnet_version,
                    use_device=device,
                    verbose=False,
                    check_cuda_mem=False,
                )
            except Exception as exc:
                raise ModelLoadError(
                    f"could not load CHGNet {checkpoint.spec.chgnet_version} from "
                    f"{checkpoint.path}: {type(exc).__name__}: {exc}"
                ) from exc
        self._device = device
        self.record = ModelRecord(
            name=checkpoint.name,
            family="chgnet",
            package="chgnet",
            package_version=version("chgnet"),
            checkpoint_path=str(checkpoint.path),
            checkpoint_sha256=sha256_file(checkpoint.path),
            source=checkpoint.source,
            dtype="float32",
            device=device,
            license=checkpoint.spec.license,
        )

    @property
    def cutoff(self) -> float:
        """Radius (Å) of CHGNet's atom graph (6 Å for the shipped versions)."""
        return float(self._model.graph_converter.atom_graph_cutoff)

    @property
    def bytes_per_edge(self) -> float:
        """Memory (bytes) per atom-graph edge of an energy-and-forces pass (float32).

        ``CHGNET_BYTES_PER_EDGE``: the slope of the peak-RSS growth over atom-graph edges of
        CPU evaluations of 320-atom Cs2AgBiBr6 supercells
        (``benchmarks/calibrate_batch_memory.py``; numbers beside the constant). It includes
        the bond graph (angles within 3 Å), which grows in proportion for a given structure
        type; denser structures have more angles per edge.
        """
        return CHGNET_BYTES_PER_EDGE

    def calculator(self):
        """Return a CHGNet ASE calculator sharing this model's weights.

        It computes only what ASE asks for: stress (an extra strain derivative; measured 1.6×
        the cost of energy and forces for a 320-atom cell on 2 CPU cores) only when
        ``get_stress`` is called, so MD and phonons run at force-only cost.

        Returns
        -------
        chgnet.model.dynamics.CHGNetCalculator
        """
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its device; the record has it
            return _on_demand_calculator_class()(
                model=self._model, use_device=self._device, check_cuda_mem=False
            )

    def predict(self, structures: Sequence[Atoms], batch_size: int | None = None) -> Predictions:
        """Energies and forces of many structures with CHGNet's batched ``predict_structure``.

        Parameters
        ----------
        structures : sequence of ase.Atoms
        batch_size : int or None
            Structures per forward pass; None = as many as the memory budget holds
            (:meth:`~latticebench.models.LoadedModel.chunks`).

        Returns
        -------
        Predictions
            Total energies in eV (CHGNet predicts eV/atom; multiplied here), forces in eV/Å.
        """
        from pymatgen.io.ase import AseAtomsAdaptor

        if not structures:
            return Predictions(np.zeros(0), [])
        energies: list[float] = []
        forces: list[np.ndarray] = []
        for start, stop in self.chunks(structures, batch_size):
            chunk = structures[start:stop]
            results = self._model.predict_structure(
                [AseAtomsAdaptor.get_structure(atoms) for atoms in chunk],
                task="ef",
                batch_size=len(chunk),
            )
            if isinstance(results, dict):
                results = [results]
            for result, atoms in zip(results, chunk, strict=True):
                energies.append(float(result["e"]) * len(atoms))
                forces.append(np.asarray(result["f"], dtype=float))
        return Predictions(np.array(energies), forces)
