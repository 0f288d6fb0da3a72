"""Routing by maker class, and jobs that survive FireWorks' serialisation (pydantic fields)."""

from __future__ import annotations

from collections import Counter

import pytest
from fireworks import Firework
from jobflow import Flow, job
from jobflow.managers.fireworks import JobFiretask, flow_to_workflow

from latticebench.flows.benchmark import BenchmarkMaker
from latticebench.hpc.md_supervision import SupervisionParameters
from latticebench.hpc.routing import category_of, iter_jobs, route_flow
from latticebench.jobs.md import MDMaker
from latticebench.md import MDParameters
from latticebench.protocol import DEMO_PROTOCOL
from latticebench.schemas.reference import ReferenceDoc
from latticebench.structures import build_double_perovskite


@job
def plain_job(x):
    return x


def _benchmark_flow(with_aimd: bool) -> Flow:
    heavy = {"aimd": "blob-a", "force_constants": "blob-b"} if with_aimd else {}
    reference = ReferenceDoc(dataset="d", compound="Cs2AgBiBr6", sigma_300K=0.4, heavy=heavy)
    maker = BenchmarkMaker(models=["m1"], protocol=DEMO_PROTOCOL)
    return maker.make([reference])


@pytest.mark.parametrize("with_aimd", [False, True])
def test_model_heavy_jobs_go_to_gpu_light_ones_to_cpu(with_aimd):
    flow = _benchmark_flow(with_aimd)
    counts = route_flow(flow, gpu_category="gpu-a100", cpu_category="cpu-small")
    jobs = list(iter_jobs(flow))
    by_name = {j.name: j.config.manager_config["_category"] for j in jobs}
    expected = {
        "mlip relax": "gpu-a100",
        "mlip phonons": "gpu-a100",
        "mlip md 0": "gpu-a100",  # the demo protocol has one MD run
        "anharmonicity": "cpu-small",
        "compare with reference": "cpu-small",
    }
    if with_aimd:
        expected["mlip rescore"] = "gpu-a100"
    assert by_name == expected
    assert counts == Counter(by_name.values())
    # FireWorks sees the category in each firework's spec
    workflow = flow_to_workflow(flow.jobs[0])
    assert {fw.name: fw.spec["_category"] for fw in workflow.fws} == expected


def test_jobs_without_a_heavy_maker_are_light_and_other_config_is_kept():
    light = plain_job(1)
    light.config.manager_config = {"_priority": 5}
    heavy = MDMaker(model="m").make(build_double_perovskite("Cs2AgBiBr6"))
    assert category_of(light) == "cpu" and category_of(heavy) == "gpu"
    route_flow(Flow([light, Flow([heavy])]))
    assert light.config.manager_config == {"_priority": 5, "_category": "cpu"}
    assert heavy.config.manager_config == {"_category": "gpu"}


@pytest.mark.parametrize("bad", ["", "  "])
def test_empty_category_names_are_refused(bad):
    with pytest.raises(ValueError, match="non-empty category"):
        route_flow(plain_job(1), gpu_category=bad)


def test_jobs_keep_pydantic_parameters_through_firework_serialisation():
    import json

    from monty.json import MontyDecoder

    from latticebench.protocol import Protocol

    parameters = MDParameters(seed=4, timestep_fs=0.5, production_steps=20, record_interval=2)
    maker = MDMaker(
        model="m",
        parameters=parameters,
        supervision=SupervisionParameters(segment_steps=7, oom_fallback_device=None),
        protocol=Protocol(name="x"),
    )
    structure = build_double_perovskite("Cs2AgBiBr6")
    md = maker.make(structure, seed=9)
    md.config.manager_config = {"_category": "gpu"}
    firework = flow_to_workflow(md).fws[0]
    assert isinstance(firework.tasks[0], JobFiretask)
    assert firework.spec["_category"] == "gpu"
    # as FireWorks stores and reloads it (dict and JSON text), any number of times
    for _ in range(2):
        firework = Firework.from_dict(MontyDecoder().decode(json.dumps(firework.to_dict())))
    decoded = firework.tasks[0]["job"]
    assert decoded.uuid == md.uuid
    assert decoded.maker.parameters == parameters
    assert decoded.maker.protocol == Protocol(name="x")
    assert decoded.maker.supervision == SupervisionParameters(
        segment_steps=7, oom_fallback_device=None
    )
    assert decoded.function_kwargs["seed"] == 9
