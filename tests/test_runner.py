"""Planning and running a study locally on the embedded store."""

from __future__ import annotations

import pytest

from latticebench.runner import plan_study, run_study
from latticebench.stores import BENCHMARKS_COLLECTION, get_store
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


def _count():
    store = get_store(BENCHMARKS_COLLECTION)
    store.connect()
    try:
        return store.count()
    finally:
        store.close()


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


def test_a_failing_job_is_reported_with_its_reason(tmp_path):
    broken = tmp_path / "broken.model"
    broken.write_bytes(b"not a model")
    result = run_study(_spec(broken, names=("Cs2AgBiBr6",)))
    assert result.completed == []
    ((name, reason),) = result.failed.items()
    assert name.startswith("Cs2AgBiBr6")
    assert reason.startswith("mlip relax") and "could not load" in reason
    assert _count() == 0
