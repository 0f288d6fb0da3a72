"""``latticebench report``: from the stores to index.html."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from latticebench.cli import app
from tests.report.html_page import parse_report
from tests.report.synthetic import MODELS, PROTOCOL

runner = CliRunner()

BENCHMARK_KEY = ["dataset", "compound", "model", "protocol_id"]


def _fake_stores(monkeypatch, benchmarks, job_store):
    """Point the store factories at in-memory stores."""
    import latticebench.stores as module

    monkeypatch.setattr(
        module, "get_store", lambda collection: {"benchmarks": benchmarks}[collection]
    )
    monkeypatch.setattr(module, "get_job_store", lambda: job_store)
    return module


@pytest.fixture
def benchmark_store(synthetic_store):
    from maggma.stores import MemoryStore

    store = MemoryStore(key="compound")
    store.connect()
    store.update([d.model_dump(mode="json") for d in synthetic_store[1].docs], key=BENCHMARK_KEY)
    return store


def _index_from(output: str) -> Path:
    lines = [line for line in output.splitlines() if line.endswith("index.html")]
    assert lines, output
    return Path(lines[-1].strip())


def test_report_command_writes_the_page_from_the_stores(
    monkeypatch, tmp_path, synthetic_store, benchmark_store
):
    _fake_stores(monkeypatch, benchmark_store, synthetic_store[0])
    result = runner.invoke(
        app, ["report", "--output", str(tmp_path / "out"), "--bootstrap-resamples", "20"]
    )
    assert result.exit_code == 0, result.output
    index = _index_from(result.output)
    assert index == (tmp_path / "out" / "index.html").resolve()
    page = parse_report(index)
    assert [row[0] for row in page.table("comparison-table").rows] == sorted(MODELS)
    assert any(i["src"].startswith("figures/trace-") for i in page.images)
    assert any(i["alt"].startswith("MLIP and DFT phonon band") for i in page.images)
    assert "(20 resamples, seed 0)" in page.text


def test_filters_reach_the_query(monkeypatch, tmp_path, synthetic_store, benchmark_store):
    _fake_stores(monkeypatch, benchmark_store, synthetic_store[0])
    result = runner.invoke(
        app,
        [
            "report",
            "-o",
            str(tmp_path),
            "--model",
            MODELS[0],
            "--model",
            MODELS[1],
            "--protocol-id",
            PROTOCOL,
            "--bootstrap-resamples",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = parse_report(_index_from(result.output)).table("comparison-table").rows
    assert [row[0] for row in rows] == sorted(MODELS[:2])


def test_no_matching_results_gives_the_empty_page(
    monkeypatch, tmp_path, synthetic_store, benchmark_store
):
    _fake_stores(monkeypatch, benchmark_store, synthetic_store[0])
    result = runner.invoke(app, ["report", "-o", str(tmp_path), "--dataset", "no-such-set"])
    assert result.exit_code == 0, result.output
    assert "no benchmark results match" in result.output
    assert "No results yet" in parse_report(_index_from(result.output)).text


def test_default_output_is_under_the_data_dir(
    monkeypatch, synthetic_store, benchmark_store, isolated_environment
):
    _fake_stores(monkeypatch, benchmark_store, synthetic_store[0])
    result = runner.invoke(app, ["report", "--dataset", "no-such-set"])
    assert result.exit_code == 0, result.output
    assert _index_from(result.output) == (isolated_environment / "data" / "report" / "index.html")


def test_open_hands_the_file_uri_to_the_browser(
    monkeypatch, tmp_path, synthetic_store, benchmark_store
):
    _fake_stores(monkeypatch, benchmark_store, synthetic_store[0])
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    result = runner.invoke(app, ["report", "-o", str(tmp_path), "--dataset", "x", "--open"])
    assert result.exit_code == 0, result.output
    assert opened == [(tmp_path / "index.html").resolve().as_uri()]


def test_mixed_protocols_fail_with_a_clear_message(
    monkeypatch, tmp_path, synthetic_store, benchmark_store
):
    extra = [
        {**d.model_dump(mode="json"), "protocol_id": "proto-other"}
        for d in synthetic_store[1].docs[:2]
    ]
    benchmark_store.update(extra, key=BENCHMARK_KEY)
    _fake_stores(monkeypatch, benchmark_store, synthetic_store[0])
    result = runner.invoke(app, ["report", "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert "error:" in result.output and "proto-other" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "index.html").exists()


def test_store_errors_are_reported_without_traceback(monkeypatch, tmp_path, benchmark_store):
    module = _fake_stores(monkeypatch, benchmark_store, None)

    def unreachable(collection):
        raise module.StoreError("cannot reach MongoDB at mongodb://host:27017")

    module.get_store = unreachable
    result = runner.invoke(app, ["report", "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert "error: cannot reach MongoDB at mongodb://host:27017" in result.output


def test_report_from_the_configured_embedded_stores(tmp_path, isolated_environment):
    """End to end through the real store layer (runs once latticebench.stores is present)."""
    stores = pytest.importorskip("latticebench.stores")
    import warnings

    from jobflow import Flow, job, run_locally

    from tests.report.synthetic import COMPOUNDS, anharmonicity_output, make_docs, sigma_runs

    name = COMPOUNDS[0][0]
    made = job(anharmonicity_output, data="sigma_per_frame")(sigma_runs(MODELS[0], 0), name)
    job_store = stores.get_job_store()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        run_locally(Flow([made]), store=job_store, root_dir=tmp_path, log=False)
    benchmarks = stores.get_store("benchmarks")
    benchmarks.connect()
    try:
        benchmarks.update(
            [
                d.model_dump(mode="json")
                for d in make_docs({(name, MODELS[0]): {"anharmonicity": made.uuid}})
            ],
            key=BENCHMARK_KEY,
        )
    finally:
        benchmarks.close()
    result = runner.invoke(
        app, ["report", "-o", str(tmp_path / "out"), "--bootstrap-resamples", "20"]
    )
    assert result.exit_code == 0, result.output
    page = parse_report(_index_from(result.output))
    assert [row[0] for row in page.table("comparison-table").rows] == sorted(MODELS)
    traces = [i for i in page.images if i["src"].startswith("figures/trace-")]
    assert [i["alt"] for i in traces] == [f"sigma A per MD frame for {name}"]
