"""Monitoring: failure reasons as FireWorks stores them, store summary."""

from __future__ import annotations

import pytest

from latticebench.hpc.monitoring import failure_reason, store_summary
from latticebench.references import import_bundled


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, "no reason stored"),
        ({"_message": "runtime error during task"}, "runtime error during task"),
        (
            {"_exception": {"_stacktrace": "Traceback...\n  File x\nValueError: bad cell\n\n"}},
            "ValueError: bad cell",
        ),
        (
            {
                "_exception": {
                    "_stacktrace": "...\nX: y",
                    "_details": {"reason": "MD keeps exploding"},
                }
            },
            "MD keeps exploding",
        ),
        ({"_exception": {"_stacktrace": "", "_details": None}, "_message": "m"}, "m"),
    ],
)
def test_failure_reason(stored, expected):
    assert failure_reason(stored) == expected


def test_store_summary_counts_references_and_benchmarks():
    from latticebench.stores import BENCHMARKS_COLLECTION, connected_store, get_store

    empty = store_summary()
    assert empty.references == {} and empty.benchmarks == {}
    import_bundled()
    fields = ["dataset", "compound", "model", "protocol_id"]
    docs = [
        dict(zip(fields, ("hdp-chemmater-2022", compound, model, "lbp-1"), strict=True))
        for compound in ("Cs2AgBiBr6", "Cs2AgBiCl6")
        for model in ("m1", "m2")
    ]
    docs.append(dict(zip(fields, ("hdp-chemmater-2022", "Cs2AgBiBr6", "m1", "lbp-2"), strict=True)))
    with connected_store(get_store(BENCHMARKS_COLLECTION)) as store:
        store.update(docs, key=fields)
    summary = store_summary()
    assert summary.references == {"hdp-chemmater-2022": 1813}
    assert summary.benchmarks == {("m1", "lbp-1"): 2, ("m1", "lbp-2"): 1, ("m2", "lbp-1"): 2}
    assert "store" in summary.location
