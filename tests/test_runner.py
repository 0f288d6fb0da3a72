"""Planning and running a study locally on the embedded store."""

from __future__ import annotations

import pytest

from latticebench.runner import plan_study, run_study
from latticebench.stores import BENCHMARKS_COLLECTION, connected_store, get_store
from latticebench.study import StudySpec, StudySpecError

TINY_OVERRIDES = {
    "relax": {"max_steps": 5, "dtype": "float64"},
    "phonons": {"supercell": [1, 1, 1], "mesh": [3, 3, 3], "band_points": 5},
    "md": {"equilibration_steps": 5, "production_steps": 10, "checkpoint_interval": 5},
    "n_md_runs": 1,
}


def _spec(model, names=("Cs2AgBiBr6", "Cs2NaInCl6")):
    return StudySpec.model_validate(
        {
            "name": "test",
            "models": [str(model)],
            "compounds": {"names": list(names)},
            "protocol": {"preset": "demo", "overrides": TINY_OVERRIDES},
            "resources": {"device": "cpu"},
        }
    )


def _documents():
    with connected_store(get_store(BENCHMARKS_COLLECTION)) as store:
        return list(store.query())


def _count():
    return len(_documents())


def test_running_a_study_twice_reuses_and_never_duplicates(tiny_mace_path):
    spec = _spec(tiny_mace_path)
    seen = []
    first = run_study(spec, on_progress=lambda done, total, label: seen.append((done, total)))
    assert not first.failed and len(first.completed) == 2
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    assert _count() == 2
    second = run_study(spec)
    assert second.completed == [] and len(second.plan.done) == 2 and not second.plan.todo
    assert _count() == 2
    # forced: recomputed, still one document per key
    forced = run_study(_spec(tiny_mace_path, names=("Cs2AgBiBr6",)), force=True)
    assert len(forced.completed) == 1
    assert _count() == 2


def test_plan_reports_the_bundled_table_and_missing_compounds(tiny_mace_path):
    plan = plan_study(_spec(tiny_mace_path, names=("CsAuBr3",)))
    assert [r.compound for r in plan.references] == ["CsAuBr3"]
    assert plan.references[0].sigma_300K is not None and len(plan.todo) == 1
    with pytest.raises(StudySpecError, match="not in the dataset"):
        plan_study(_spec(tiny_mace_path, names=("Cs2AgQqBr6",)))


def test_a_failing_job_is_reported_recorded_and_retried(tmp_path):
    broken = tmp_path / "broken.model"
    broken.write_bytes(b"not a model")
    spec = _spec(broken, names=("Cs2AgBiBr6",))
    result = run_study(spec)
    assert result.completed == []
    ((name, reason),) = result.failed.items()
    assert name.startswith("Cs2AgBiBr6")
    assert reason.startswith("mlip relax") and "could not load" in reason
    # the compound is not silently missing: its document says what failed
    (doc,) = _documents()
    assert doc["mlip"]["sigma"] is None
    assert doc["mlip"]["failure_reason"] == "the phonon job did not finish"
    assert doc["reference"]["sigma"] is not None and doc["sigma_error"] is None
    # a failed result is not reused: the next run tries again, still one document
    again = plan_study(spec)
    assert len(again.todo) == 1 and again.done == []
    run_study(spec)
    assert _count() == 1


def test_md_that_keeps_exploding_is_recorded_as_such(tiny_mace_path, tmp_path):
    from tests.hpc.faulty_mace import write_faulty_mace

    # NaN forces whenever the model runs in float32, i.e. in the MD only
    faulty = write_faulty_mace(tiny_mace_path, tmp_path / "faulty.model", nan_dtype="float32")
    spec = _spec(faulty, names=("Cs2AgBiBr6",))
    overrides = {**TINY_OVERRIDES, "phonons": {**TINY_OVERRIDES["phonons"], "dtype": "float64"}}
    spec = spec.model_copy(
        update={"protocol": spec.protocol.model_copy(update={"overrides": overrides})}
    )
    result = run_study(spec)
    ((_, reason),) = result.failed.items()
    assert reason.startswith("mlip md 0")
    (doc,) = _documents()
    assert doc["mlip"]["sigma"] is None
    assert (
        doc["mlip"]["failure_reason"]
        == "no MD frames to analyse (run 0: the MD job did not finish)"
    )
    assert doc["mlip"]["harmonically_stable"] is not None  # the phonons did finish
    assert doc["mlip"]["md_complete"] is False


def test_a_study_with_the_torchsim_backend_runs_each_models_compounds_in_one_batch(
    tiny_mace_path,
):
    pytest.importorskip("torch_sim", reason="the torch-sim backend needs the 'gpu' extra")
    data = _spec(tiny_mace_path).model_dump(mode="json")
    data["resources"]["md_backend"] = "torchsim"
    spec = StudySpec.model_validate(data)
    plan = plan_study(spec)
    flows = plan.flows()
    assert [flow.name for flow in flows] == [f"2 compounds × {tiny_mace_path} (batched MD)"]
    result = run_study(spec)
    assert not result.failed and result.completed == [flows[0].name]
    documents = _documents()
    assert sorted(d["compound"] for d in documents) == ["Cs2AgBiBr6", "Cs2NaInCl6"]
    assert all(d["mlip"]["sigma"] is not None for d in documents)
    # finished work is reused whatever the backend
    assert not plan_study(spec).todo and not plan_study(_spec(tiny_mace_path)).todo
