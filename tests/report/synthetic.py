"""Synthetic benchmark documents and job-store outputs with known values.

Classes and stability labels are assigned here with plain comparisons against the thresholds
(independently of latticebench.analysis), so tests can check the report's counts against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from latticebench.schemas.benchmark import (
    BenchmarkDoc,
    DecompositionRows,
    MLIPSummary,
    ReferenceSummary,
)
from latticebench.schemas.provenance import Provenance

DATASET = "hdp-test"
PROTOCOL = "proto-abc123"
NASTY_MODEL = 'tiny<script>alert(1)</script>&"$x$".model'
MODELS = ("chgnet-0.3.0", "mace-mpa-0-medium", NASTY_MODEL)

# 12 compounds: name, halide, DFT sigma (None: the reference lacks it).
COMPOUNDS: tuple[tuple[str, str, float | None], ...] = (
    ("Cs2AgBiBr6", "Br", 0.21),
    ("Cs2NaInCl6", "Cl", 0.34),
    ("Cs2KAlF6", "F", 0.47),
    ("Cs2AgInI6", "I", 0.52),
    ("Rb2NaScCl6", "Cl", 0.61),
    ("K2NaAlF6", "F", 0.70),
    ("Cs2CuBiBr6", "Br", 0.79),
    ("Cs2TlBiI6", "I", 0.88),
    ("Cs2AuScCl6", "Cl", 0.97),
    ("Cs3BiBr6", "Br", 1.12),
    ("CsAuBr3", "Br", 1.34),
    ("Li2NaGaF6", "F", None),
)

# Per-model additive errors cycling over compounds; the third model has one missing sigma.
OFFSETS = {
    MODELS[0]: (0.05, -0.04, 0.12, -0.10, 0.02, 0.08, -0.15, 0.20, 0.06, -0.25, 0.05, 0.0),
    MODELS[1]: (0.01, 0.02, -0.03, 0.04, -0.02, 0.01, 0.03, -0.05, 0.02, 0.04, -0.03, 0.0),
    MODELS[2]: (0.30, -0.10, 0.25, 0.30, -0.20, 0.35, 0.22, -0.30, 0.40, -0.50, 0.10, 0.0),
}
MISSING_MLIP = {(MODELS[2], "Cs2KAlF6")}

THRESHOLDS = {"stable_max": 1.0, "weak_max": 0.5, "moderate_max": 0.75, "strong_max": 1.0}
REFERENCE_BAND_COMPOUND = "Cs2AgBiBr6"
DECOMPOSED = ("Cs2AgBiBr6", "Cs2NaInCl6", "Cs2KAlF6", "Cs2AgInI6")


def klass(sigma: float, t: dict[str, float] = THRESHOLDS) -> str:
    """Anharmonicity class by plain comparisons (≤ inclusive)."""
    if sigma <= t["weak_max"]:
        return "weak"
    if sigma <= t["moderate_max"]:
        return "moderate"
    if sigma <= t["strong_max"]:
        return "strong"
    return "unstable"


def mlip_sigma(model: str, index: int) -> float | None:
    """The MLIP sigma of compound ``index`` for ``model`` (None when missing)."""
    name, _, dft = COMPOUNDS[index]
    if (model, name) in MISSING_MLIP:
        return None
    base = dft if dft is not None else 0.66
    return round(base + OFFSETS[model][index], 6)


def fcc_band(shift: float = 0.0) -> dict:
    """A small FCC-like band dict: 3 segments Γ-X | K-Γ-L (a break between X and K), 3 bands."""
    gamma, x, k, l_point = (
        np.zeros(3),
        np.array([0.5, 0.0, 0.5]),
        np.array([0.375, 0.375, 0.75]),
        np.array([0.5, 0.5, 0.5]),
    )
    segments = [(gamma, x), (k, gamma), (gamma, l_point)]
    qpoints, distances, start = [], [], 0.0
    for a, b in segments:
        t = np.linspace(0.0, 1.0, 6)
        path = a + t[:, None] * (b - a)
        step = np.linalg.norm(b - a)
        qpoints.append(path)
        distances.append(start + t * step)
        start += step
    q = np.concatenate(qpoints)
    d = np.concatenate(distances)
    freqs = np.stack([np.sin(3 * d) * 2 + shift, 3 + np.cos(2 * d) + shift, 5 + d + shift], axis=1)
    freqs[0, 0] = -0.3  # an imaginary mode at Γ
    return {
        "qpoints": q.tolist(),
        "distances": d.tolist(),
        "frequencies": freqs.tolist(),
        "segment_sizes": [6, 6, 6],
        "labels": ["$\\Gamma$", "$\\mathrm{X}$", "$\\mathrm{K}$", "$\\Gamma$", "$\\mathrm{L}$"],
    }


def sigma_runs(model: str, index: int) -> list[list[float]]:
    """Two runs of σ^A(t) (40 frames each) for a compound, deterministic."""
    rng = np.random.default_rng(1000 * MODELS.index(model) + index)
    centre = mlip_sigma(model, index) or 0.5
    return [list(centre + 0.05 * rng.standard_normal(40)) for _ in range(2)]


@dataclass
class Synthetic:
    """The documents and what was put in the job store."""

    docs: list[BenchmarkDoc]
    traces: dict[tuple[str, str], list[list[float]]] = field(default_factory=dict)
    bands: dict[tuple[str, str], dict] = field(default_factory=dict)


def make_docs(job_uuids: dict[tuple[str, str], dict[str, str]] | None = None) -> list[BenchmarkDoc]:
    """3 models × 12 compounds of benchmark documents with known values."""
    job_uuids = job_uuids or {}
    docs = []
    for model in MODELS:
        for index, (name, halide, dft) in enumerate(COMPOUNDS):
            mlip = mlip_sigma(model, index)
            decomposition = None
            if name in DECOMPOSED and model != MODELS[2] and dft is not None:
                decomposition = DecompositionRows(
                    form="std",
                    sigma_reference=dft + 0.001,
                    sigma_force_only=dft + 0.3 * OFFSETS[model][index],
                    sigma_force_and_hessian=dft + 0.8 * OFFSETS[model][index],
                    sigma_full=mlip,
                    n_frames=50,
                    force_rmse_eV_per_A=0.05 + 0.01 * index,
                    force_mae_eV_per_A=0.04,
                )
            extra = {}
            if name == REFERENCE_BAND_COMPOUND:
                extra["reference_band"] = fcc_band(shift=0.2)
            docs.append(
                BenchmarkDoc(
                    dataset=DATASET,
                    compound=name,
                    model=model,
                    protocol_id=PROTOCOL,
                    halide=halide,
                    reference=ReferenceSummary(
                        sigma=dft,
                        sigma_definition="std",
                        stable=None if dft is None else dft <= THRESHOLDS["stable_max"],
                        anharmonicity_class=None if dft is None else klass(dft),
                    ),
                    mlip=MLIPSummary(
                        sigma=mlip,
                        form="std",
                        sigma_std=mlip,
                        standard_error=None if mlip is None or index % 3 == 0 else 0.02,
                        stable=None if mlip is None else mlip <= THRESHOLDS["stable_max"],
                        anharmonicity_class=None if mlip is None else klass(mlip),
                        harmonically_stable=index % 2 == 0,
                        lowest_frequency_THz=-0.5 if index % 2 else 0.8 + index / 10,
                        failure_reason="MD exploded" if mlip is None else None,
                    ),
                    sigma_error=None if mlip is None or dft is None else mlip - dft,
                    decomposition=decomposition,
                    thresholds=dict(THRESHOLDS),
                    job_uuids=job_uuids.get((name, model), {}),
                    provenance=Provenance(protocol_id=PROTOCOL),
                    extra=extra,
                )
            )
    return docs


def anharmonicity_output(sigma_per_frame: list[list[float]], compound: str) -> dict:
    """Body of the stand-in anharmonicity job (σ^A(t) goes to the "data" store)."""
    return {"compound": compound, "sigma_per_frame": sigma_per_frame}


def phonon_output(band: dict, compound: str) -> dict:
    """Body of the stand-in phonon job."""
    return {"compound": compound, "band": band}


def build_job_store(root_dir, *, traces_for=range(4), bands_for=range(2)) -> tuple:
    """Run stand-in jobs with ``run_locally`` into a JobStore over MemoryStores.

    Returns
    -------
    (JobStore, Synthetic)
        The store (connected) and the documents whose ``job_uuids`` point at the jobs.
    """
    from jobflow import Flow, JobStore, job, run_locally
    from maggma.stores import MemoryStore

    anharmonicity_job = job(anharmonicity_output, data="sigma_per_frame")
    phonon_job = job(phonon_output, data="band")
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    jobs, uuids, traces, bands = [], {}, {}, {}
    for model in MODELS:
        for index in traces_for:
            name = COMPOUNDS[index][0]
            runs = sigma_runs(model, index)
            j = anharmonicity_job(runs, name)
            jobs.append(j)
            uuids.setdefault((name, model), {})["anharmonicity"] = j.uuid
            traces[(name, model)] = runs
        if model == NASTY_MODEL:
            continue
        for index in bands_for:
            name = COMPOUNDS[index][0]
            band = fcc_band(shift=0.1 * (MODELS.index(model) + 1))
            j = phonon_job(band, name)
            jobs.append(j)
            uuids.setdefault((name, model), {})["phonons"] = j.uuid
            bands[(name, model)] = band
    run_locally(Flow(jobs), store=store, root_dir=root_dir, log=False, ensure_success=True)
    store.connect()
    return store, Synthetic(make_docs(uuids), traces, bands)
