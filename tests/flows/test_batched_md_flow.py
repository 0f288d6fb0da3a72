"""The benchmark flow with the torch-sim MD backend: one batched job, one MD document per run.

Same seeds, same algorithm: the batched backend must give the same σ^A as the ASE backend, and
a compound whose phonon job fails must not take the batch down.
"""

from __future__ import annotations

import pytest
from jobflow import run_locally

from latticebench.flows.benchmark import BenchmarkMaker
from latticebench.hpc.routing import route_flow
from latticebench.protocol import RelaxParameters
from latticebench.schemas.reference import ReferenceDoc
from latticebench.settings import override_settings
from latticebench.stores import get_job_store
from tests.jobs.conftest import SHORT_PROTOCOL

pytest.importorskip("torch_sim", reason="the torch-sim backend needs the 'gpu' extra")

# float64 MD so that both backends agree to round-off; a short relax (its result is not the point)
PROTOCOL = SHORT_PROTOCOL.model_copy(
    update={
        "md_dtype": "float64",
        "relax": RelaxParameters(max_steps=3, fmax_eV_per_A=5e-3),
        "md": SHORT_PROTOCOL.md.model_copy(
            update={"equilibration_steps": 4, "production_steps": 12, "checkpoint_interval": 8}
        ),
    }
)
COMPOUNDS = ("Cs2AgBiBr6", "Cs2NaInCl6")


def _references():
    return [ReferenceDoc(dataset="d", compound=c, sigma_300K=0.5) for c in COMPOUNDS]


def _run(maker, root, name):
    flow = maker.make(_references())
    with override_settings(data_dir=root / name):
        responses = run_locally(
            flow, store=get_job_store(), create_folders=True, root_dir=root / name, log=False
        )
    names = {job.uuid: job.name for job in _jobs(flow)}
    return flow, [
        (names[uuid], response[1].output)
        for uuid, response in responses.items()
        if uuid in names and response[1].output is not None
    ]


def _jobs(flow):
    from latticebench.hpc.routing import iter_jobs

    return list(iter_jobs(flow))


@pytest.mark.slow
def test_torchsim_backend_gives_the_ase_backends_results(tiny_mace_path, tmp_path):
    common = {"models": [str(tiny_mace_path)], "protocol": PROTOCOL, "device": "cpu"}
    batched_flow, batched = _run(
        BenchmarkMaker(**common, md_backend="torchsim"), tmp_path, "torchsim"
    )
    _, ase = _run(BenchmarkMaker(**common), tmp_path, "ase")

    jobs = _jobs(batched_flow)
    batch_jobs = [j for j in jobs if j.name.startswith("mlip batched md")]
    assert len(batch_jobs) == 1  # every compound's runs in one job
    assert route_flow(batched_flow)["gpu"] >= 1
    assert {j.config.manager_config["_category"] for j in batch_jobs} == {"gpu"}

    for compound in COMPOUNDS:
        sigma_b = _output(batched, "anharmonicity", compound)
        sigma_a = _output(ase, "anharmonicity", compound)
        assert sigma_b.n_frames == sigma_a.n_frames == PROTOCOL.n_md_runs * PROTOCOL.md.n_frames
        assert sigma_b.sigma == pytest.approx(sigma_a.sigma, rel=1e-8, abs=1e-10)
        assert sigma_b.sigma_per_run == pytest.approx(sigma_a.sigma_per_run, rel=1e-8)
        # one MD document per run, with the ASE backend's content
        docs_b = _md_docs(batched, compound)
        docs_a = _md_docs(ase, compound)
        assert [d.run_index for d in docs_b] == list(range(PROTOCOL.n_md_runs))
        for b, a in zip(docs_b, docs_a, strict=True):
            assert b.state == a.state == "completed"
            assert b.seed == a.seed
            assert b.series["temperature_K"] == pytest.approx(a.series["temperature_K"], rel=1e-9)
            assert b.provenance.model.checkpoint_sha256 == a.provenance.model.checkpoint_sha256


def _output(outputs, role, compound):
    matches = [v for name, v in outputs if name == role and v.compound == compound]
    assert len(matches) == 1, (role, compound, sorted(outputs))
    return matches[0]


def _md_docs(outputs, compound):
    docs = [v for name, v in outputs if name.startswith("mlip md ") and v.compound == compound]
    return sorted(docs, key=lambda d: d.run_index)


@pytest.mark.parametrize(
    ("batch_size", "expected"), [(None, [6]), (4, [4, 2]), (2, [2, 2, 2]), (1, [2, 2, 2])]
)
def test_md_batch_size_groups_whole_compounds_into_batched_jobs(batch_size, expected):
    """``md_batch_size`` runs per GPU job; the 2 runs of a compound are never split."""
    maker = BenchmarkMaker(
        models=["m"], protocol=PROTOCOL, md_backend="torchsim", md_batch_size=batch_size
    )
    compounds = (*COMPOUNDS, "Cs2KBiCl6")
    flow = maker.make([ReferenceDoc(dataset="d", compound=c, sigma_300K=0.5) for c in compounds])
    batches = [j for j in _jobs(flow) if j.name.startswith("mlip batched md")]
    assert [len(j.function_args[0]) for j in batches] == expected
    seen = [run["compound"] for j in batches for run in j.function_args[0]]
    assert sorted(set(seen)) == sorted(compounds)
    for job in batches:
        mine = [run["compound"] for run in job.function_args[0]]
        assert all(mine.count(c) == PROTOCOL.n_md_runs for c in set(mine))
