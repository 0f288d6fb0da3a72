"""Submitting a study: routed workflows tagged with their benchmark key, never twice."""

from __future__ import annotations

import pytest

from latticebench.hpc.launchpad import open_launchpad
from latticebench.hpc.submission import key_string, submit_study, workflow_states
from latticebench.stores import BENCHMARKS_COLLECTION, connected_store, get_store
from tests.hpc.fixtures import tiny_study


@pytest.fixture
def study(tiny_mace_path):
    return tiny_study(tiny_mace_path, limit=2)


def _keys(report):
    return [wf.key for wf in report.submitted]


def test_dry_run_without_a_launchpad_adds_nothing_and_says_so(study):
    report = submit_study(study, None, dry_run=True)
    assert report.dry_run and not report.launchpad_checked
    assert len(report.submitted) == 2 and report.n_fireworks == 10
    assert report.categories() == {"gpu": 6, "cpu": 4}
    assert all(wf.fw_ids == () for wf in report.submitted)
    with pytest.raises(ValueError, match="needs a LaunchPad"):
        submit_study(study, None)


def test_submission_tags_workflows_and_never_adds_a_key_twice(study, embedded_backend):
    protocol_id = study.protocol.build().protocol_id
    with open_launchpad(embedded_backend.launchpad_file) as pad:
        first = submit_study(study, pad)
        assert [len(wf.fw_ids) for wf in first.submitted] == [5, 5]
        keys = _keys(first)
        assert all(key[2] == study.models[0] and key[3] == protocol_id for key in keys)
        for wf in first.submitted:
            doc = pad.workflows.find_one({"nodes": wf.fw_ids[0]})
            dataset, compound, model, protocol = wf.key
            assert doc["metadata"] == {
                "study": "demo",
                "dataset": dataset,
                "compound": compound,
                "model": model,
                "protocol_id": protocol,
                "benchmark_key": key_string(wf.key),
            }
            assert doc["name"] == f"demo: {compound} × {model}"
        assert workflow_states(pad, keys) == {key_string(k): ["READY"] for k in keys}

        second = submit_study(study, pad)
        assert second.submitted == [] and pad.fireworks.count_documents({}) == 10
        assert [(s.key, s.reason) for s in second.skipped] == [(k, "workflow READY") for k in keys]

        # a renamed study with the same keys is the same work
        renamed = study.model_copy(update={"name": "again"})
        assert submit_study(renamed, pad).submitted == []


def test_defused_or_archived_keys_are_resubmitted(study, embedded_backend):
    with open_launchpad(embedded_backend.launchpad_file) as pad:
        first = submit_study(study, pad)
        defused, archived = first.submitted
        pad.defuse_wf(defused.fw_ids[0])
        pad.archive_wf(archived.fw_ids[0])
        again = submit_study(study, pad)
        assert {wf.key: wf.previous_states for wf in again.submitted} == {
            defused.key: ("DEFUSED",),
            archived.key: ("ARCHIVED",),
        }
        assert pad.fireworks.count_documents({}) == 20
        third = submit_study(study, pad)
        assert third.submitted == []  # the new workflows are READY


def test_keys_with_a_finished_benchmark_document_are_skipped(study, embedded_backend):
    planned = submit_study(study, None, dry_run=True)
    done_key, failed_key = (wf.key for wf in planned.submitted)
    fields = ["dataset", "compound", "model", "protocol_id"]
    finished = {**dict(zip(fields, done_key, strict=True)), "mlip": {"sigma": 0.21}}
    # a document that records a failed MLIP step is not a result to keep
    failed = {**dict(zip(fields, failed_key, strict=True)), "mlip": {"sigma": None}}
    with connected_store(get_store(BENCHMARKS_COLLECTION)) as store:
        store.update([finished, failed], key=fields)
    with open_launchpad(embedded_backend.launchpad_file) as pad:
        report = submit_study(study, pad)
    assert _keys(report) == [failed_key]
    assert [(s.key, s.reason) for s in report.skipped] == [(done_key, "benchmark document")]


def _batched(study):
    resources = study.resources.model_copy(update={"md_backend": "torchsim"})
    return study.model_copy(update={"resources": resources})


def test_torchsim_backend_submits_one_workflow_per_model_listing_every_key(study, embedded_backend):
    batched = _batched(study)
    with open_launchpad(embedded_backend.launchpad_file) as pad:
        first = submit_study(batched, pad)
        keys = _keys(first)
        assert len(keys) == 2
        # both compounds in one workflow: relax + phonon each, one batched MD job, one MD
        # document job per run, σ^A and comparison each
        assert len({wf.fw_ids for wf in first.submitted}) == 1
        assert len(first.submitted[0].fw_ids) == 2 * 2 + 1 + 2 + 2 * 2
        doc = pad.workflows.find_one({"nodes": first.submitted[0].fw_ids[0]})
        assert doc["metadata"]["benchmark_key"] == [key_string(k) for k in keys]
        assert doc["metadata"]["compound"] == [k[1] for k in keys]
        assert doc["name"] == f"demo: 2 compounds × {study.models[0]} (batched MD)"
        names = [fw["name"] for fw in pad.fireworks.find({"fw_id": {"$in": list(doc["nodes"])}})]
        assert names.count(f"mlip batched md {study.models[0]}") == 1
        categories = {
            fw["name"]: fw["spec"]["_category"]
            for fw in pad.fireworks.find({"fw_id": {"$in": list(doc["nodes"])}})
        }
        assert categories[f"mlip batched md {study.models[0]}"] == "gpu"
        assert categories["mlip md 0"] == "cpu"  # the fan-out reads files: light work
        assert workflow_states(pad, keys) == {key_string(k): ["READY"] for k in keys}

        # neither backend adds a key that a batched workflow already computes
        assert submit_study(batched, pad).submitted == []
        assert submit_study(study, pad).submitted == []
