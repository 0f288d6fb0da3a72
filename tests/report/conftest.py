"""Fixtures of the report tests: synthetic benchmark documents, a JobStore, a written report."""

from __future__ import annotations

import warnings

import pytest

from latticebench.query import benchmark_rows
from tests.report.synthetic import build_job_store, make_docs

N_RESAMPLES = 200
"""Bootstrap resamples of the report tests (keeps the folder fast; the CI maths is the same)."""


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory):
    """(JobStore, Synthetic): stand-in job outputs and the documents that point at them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # jobflow's own deprecation notice
        warnings.filterwarnings("ignore", "Some jobs are not connected", UserWarning)
        return build_job_store(tmp_path_factory.mktemp("jobs"))


@pytest.fixture(scope="module")
def frame(synthetic_store):
    """Benchmark rows of the synthetic documents (3 models × 12 compounds)."""
    return benchmark_rows(synthetic_store[1].docs)


@pytest.fixture
def plain_frame():
    """Benchmark rows without job uuids."""
    return benchmark_rows(make_docs())
