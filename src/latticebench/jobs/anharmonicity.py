"""The anharmonicity job: σ^A of the MD runs against the phonon job's force constants."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from jobflow import Maker, job

from latticebench import phonons
from latticebench.analysis import SigmaResult, anharmonicity_class, is_stable
from latticebench.anharmonicity import SigmaReference, accumulate_sigma, strided
from latticebench.jobs.common import make_provenance
from latticebench.md import TrajectoryReader
from latticebench.protocol import Protocol, SigmaParameters
from latticebench.schemas.anharmonicity import AnharmonicityDoc
from latticebench.schemas.md import MDDoc
from latticebench.schemas.phonons import PhononDoc

__all__ = ["AnharmonicityMaker", "reference_from_phonons"]


def reference_from_phonons(phonon: PhononDoc) -> SigmaReference:
    """The harmonic reference (R⁰, cell, full Φ, masses, labels) of a phonon document.

    Parameters
    ----------
    phonon : PhononDoc

    Returns
    -------
    SigmaReference
    """
    rebuilt = phonons.phonopy_with_force_constants(
        phonon.structure,
        phonon.supercell_matrix,
        phonon.primitive_matrix,
        np.asarray(phonon.force_constants, dtype=float),
        with_symmetry=False,  # only Φ compact → full and the masses are needed here
    )
    supercell = phonon.supercell
    labels = {"element": [site.specie.symbol for site in supercell]}
    if "site" in supercell.site_properties:
        labels["site"] = [str(x) for x in supercell.site_properties["site"]]
    return SigmaReference(
        positions=supercell.cart_coords,
        cell=supercell.lattice.matrix,
        force_constants=phonons.full_force_constants(rebuilt),
        masses=np.asarray(rebuilt.supercell.masses, dtype=float),
        labels=labels,
    )


def _trajectory_chunks(directory: str):
    path = Path(directory)
    if not path.is_dir():
        raise FileNotFoundError(
            f"MD run directory {path} is not visible on this host; the anharmonicity job must run "
            f"where the MD job's files are (a shared filesystem on clusters)"
        )
    reader = TrajectoryReader(path)
    for chunk in reader.iter_chunks(["positions", "forces"]):
        yield chunk["positions"], chunk["forces"]


def _plain(values: np.ndarray | None) -> list[float | None]:
    if values is None:
        return []
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


@dataclass
class AnharmonicityMaker(Maker):
    """σ^A (both forms, resolved per frame, element, site and mode) and the stability verdicts.

    Parameters
    ----------
    name : str
        Job name.
    parameters : SigmaParameters
        Headline form, frame stride, blocks for the error, thresholds.
    with_modes : bool
        Compute the per-mode σ^A (diagonalises the 3N×3N supercell dynamical matrix).
    protocol : Protocol or None
        The whole protocol this step belongs to (provenance).
    """

    name: str = "anharmonicity"
    parameters: SigmaParameters = field(default_factory=SigmaParameters)
    with_modes: bool = True
    protocol: Protocol | None = None

    @job(
        output_schema=AnharmonicityDoc,
        data=["sigma_per_frame", "mode_frequencies_THz", "mode_sigma"],
    )
    def make(
        self,
        phonon: PhononDoc | None,
        md_runs: list[MDDoc | None],
        compound: str | None = None,
    ) -> AnharmonicityDoc:
        """Compute σ^A of the MD runs with the force constants of ``phonon``.

        Parameters
        ----------
        phonon : PhononDoc or None
            Supplies R⁰ (its supercell), Φ and the harmonic verdict; None when the phonon job
            failed (a flow may let this job run after failed parents).
        md_runs : list of MDDoc or None
            Runs in that same supercell; their committed frames are read from disk. None marks
            a run whose job failed (e.g. MD that kept exploding).
        compound : str, optional

        Returns
        -------
        AnharmonicityDoc
            With ``sigma=None`` and ``failure_reason`` when there is nothing to analyse.
        """
        p = self.parameters
        thresholds = p.thresholds()
        protocol = self.protocol or Protocol(sigma=p)
        runs = [run for run in md_runs if run is not None]
        common = {
            "compound": compound,
            "temperature_K": runs[0].parameters.temperature_K
            if runs
            else protocol.md.temperature_K,
            "form": p.headline_form,
            "n_runs": len(md_runs),
            "frame_stride": p.frame_stride,
            "complete": len(runs) == len(md_runs) and all(run.state == "completed" for run in runs),
            "md_states": ["failed" if run is None else run.state for run in md_runs],
            "thresholds": thresholds.as_dict(),
            "harmonically_stable": None if phonon is None else phonon.harmonically_stable,
            "lowest_frequency_THz": None if phonon is None else phonon.lowest_frequency_THz,
            "parameters": p,
            "provenance": make_provenance(
                None if phonon is None else phonon.provenance.model,
                protocol,
                seeds=[run.seed for run in runs],
            ),
        }
        if phonon is None:
            return AnharmonicityDoc(
                n_frames=0, failure_reason="the phonon job did not finish", **common
            )
        reference = reference_from_phonons(phonon)
        combined = reference.accumulator(n_blocks=p.n_blocks, with_modes=self.with_modes)
        per_run: list[SigmaResult | None] = []
        per_frame: list[list[float]] = []
        for run in runs:
            if run.n_frames == 0:
                per_run.append(None)
                continue
            mine = reference.accumulator(n_blocks=p.n_blocks, with_modes=False)
            chunks = strided(_trajectory_chunks(run.directory), p.frame_stride)
            accumulate_sigma([combined, mine], reference, chunks)
            result = mine.result(form=p.headline_form)
            per_run.append(result)
            per_frame.append(_plain(result.per_frame))  # type: ignore[arg-type]
        if combined.n_frames == 0:
            reasons = "; ".join(
                f"run {i}: {'the MD job did not finish' if r is None else r.reason or r.state}"
                for i, r in enumerate(md_runs)
            )
            return AnharmonicityDoc(
                n_frames=0, failure_reason=f"no MD frames to analyse ({reasons})", **common
            )
        headline = combined.result(form=p.headline_form)
        other = combined.result(form="rms" if p.headline_form == "std" else "std")
        by_form = {headline.form: headline, other.form: other}
        sigma = headline.value
        return AnharmonicityDoc(
            sigma=sigma,
            sigma_std=by_form["std"].value,
            sigma_rms=by_form["rms"].value,
            standard_error=headline.standard_error,
            sigma_per_run=[None if r is None else r.value for r in per_run],
            by_element=headline.by_label.get("element", {}),
            by_site=headline.by_label.get("site", {}),
            n_frames=headline.n_frames,
            stable=bool(is_stable(sigma, thresholds)),
            anharmonicity_class=str(anharmonicity_class(sigma, thresholds)),
            sigma_per_frame=per_frame,
            mode_frequencies_THz=_plain(headline.mode_frequencies_thz),  # type: ignore[arg-type]
            mode_sigma=_plain(headline.mode_sigma),
            **common,
        )
