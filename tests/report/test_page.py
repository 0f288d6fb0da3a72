"""The written report: files, sections, numbers, escaping, missing values, safe rewriting."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from latticebench import __version__
from latticebench.analysis import StabilityThresholds
from latticebench.query import benchmark_rows, metrics_table
from latticebench.report import annotations_from_docs, load_extras, write_report
from latticebench.report.page import COMPARISON_METRICS, SECTION_IDS
from tests.report.conftest import N_RESAMPLES
from tests.report.html_page import parse_report, png_size
from tests.report.synthetic import (
    COMPOUNDS,
    DATASET,
    DECOMPOSED,
    MISSING_MLIP,
    MODELS,
    NASTY_MODEL,
    OFFSETS,
    PROTOCOL,
    REFERENCE_BAND_COMPOUND,
    THRESHOLDS,
    klass,
    make_docs,
    mlip_sigma,
)

DFT = {name: sigma for name, _, sigma in COMPOUNDS}


@pytest.fixture(scope="module")
def report(tmp_path_factory, synthetic_store, frame):
    """The full report of the synthetic benchmark (3 models × 12 compounds), parsed."""
    store, synthetic = synthetic_store
    annotations = annotations_from_docs(synthetic.docs)
    extras = load_extras(store, frame, reference_bands=annotations.reference_bands)
    directory = tmp_path_factory.mktemp("report")
    index = write_report(
        frame,
        directory,
        extras=extras,
        title="Synthetic <benchmark> & friends",
        thresholds=annotations.thresholds,
        n_resamples=N_RESAMPLES,
    )
    return index, parse_report(index), extras


def _pairs(thresholds: dict[str, float] = THRESHOLDS):
    """(model, DFT class, MLIP class, DFT stable, MLIP stable) of every usable row."""
    out = []
    for model in MODELS:
        for index, (_, _, dft) in enumerate(COMPOUNDS):
            mlip = mlip_sigma(model, index)
            if dft is None or mlip is None:
                continue
            stable_max = thresholds["stable_max"]
            out.append(
                (
                    model,
                    klass(dft, thresholds),
                    klass(mlip, thresholds),
                    dft <= stable_max,
                    mlip <= stable_max,
                )
            )
    return out


def test_index_and_every_figure_exist_and_are_referenced_relatively(report):
    index, page, _ = report
    assert index.name == "index.html" and index.is_file()
    sources = [image["src"] for image in page.images]
    assert len(sources) == len(set(sources)) >= 10
    for image in page.images:
        src = image["src"]
        assert src.startswith("figures/") and ".." not in src and "://" not in src
        path = index.parent / src
        width, height = png_size(path)
        # Saved at 150 dpi, shown at 100 CSS px per inch: the file is 1.5× the display size.
        assert abs(width - 1.5 * int(image["width"])) <= 1
        assert abs(height - 1.5 * int(image["height"])) <= 1
        assert image["alt"]
    on_disk = {p.name for p in (index.parent / "figures").glob("*.png")}
    assert on_disk == {Path(s).name for s in sources}  # nothing stale, nothing missing
    assert not list(index.parent.glob(".report-staging-*"))


def test_no_figure_is_cut_off_at_its_edges(report):
    """Nothing dark touches a figure's border: titles, labels and legends fit inside."""
    from matplotlib.image import imread

    index, page, _ = report
    for image in page.images:
        pixels = imread(index.parent / image["src"])[..., :3].mean(axis=2)
        border = np.concatenate([pixels[:2].ravel(), pixels[-2:].ravel()])
        border = np.concatenate([border, pixels[:, :2].ravel(), pixels[:, -2:].ravel()])
        assert border.min() > 0.5, image["src"]


def test_every_section_is_present_in_order(report):
    _, page, _ = report
    assert page.section_ids == list(SECTION_IDS)


def test_header_names_dataset_models_protocol_counts_and_version(report):
    index, page, _ = report
    assert page.h1 == "Synthetic <benchmark> & friends"
    text = page.text
    for expected in (DATASET, PROTOCOL, *MODELS, f"compounds {len(COMPOUNDS)}", __version__):
        assert expected in text
    assert re.search(r"generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text)
    assert "weak ≤ 0.50 < moderate ≤ 0.75 < strong ≤ 1.00 < unstable" in text
    assert "σA ≤ 1.00" in text
    assert "<title>Synthetic &lt;benchmark&gt; &amp; friends</title>" in index.read_text()


def test_no_nan_and_data_strings_are_escaped(report):
    index, page, _ = report
    raw = index.read_text(encoding="utf-8")
    assert not re.search(r"\bnan\b", page.text, re.IGNORECASE)
    assert not re.search(r"\bNone\b", page.text)
    assert NASTY_MODEL not in raw
    assert html.escape(NASTY_MODEL, quote=True) in raw
    assert "<script>alert" not in raw
    assert page.script_count == 1  # the page's own sorting script, nothing from the data
    assert NASTY_MODEL in page.text  # and it reads correctly once unescaped


def test_comparison_table_equals_metrics_table(report, frame):
    _, page, _ = report
    table = page.table("comparison-table")
    expected = metrics_table(
        frame,
        by=["model"],
        thresholds=StabilityThresholds(**THRESHOLDS),
        n_resamples=N_RESAMPLES,
        seed=0,
    )
    assert [row[0] for row in table.rows] == sorted(MODELS)
    usable = {m: sum(p[0] == m for p in _pairs()) for m in MODELS}
    assert usable == {MODELS[0]: 11, MODELS[1]: 11, MODELS[2]: 10}
    number = r"(-?\d+\.\d{3})"
    for row in table.rows:
        model = row[0]
        assert int(row[1]) == usable[model]
        for cell, (group, metric, _, _) in zip(row[2:], COMPARISON_METRICS, strict=True):
            match = re.fullmatch(rf"{number} \[{number}, {number}\]", cell)
            assert match, cell
            want = expected[
                (expected["model"] == model)
                & (expected["group"] == group)
                & (expected["metric"] == metric)
            ].iloc[0]
            for shown, value in zip(match.groups(), (want.value, want.low, want.high), strict=True):
                assert abs(float(shown) - value) <= 0.0005 + 1e-12, (model, metric)


def test_comparison_table_marks_the_best_model(report):
    _, page, _ = report
    table = page.table("comparison-table")
    mae_column = 2
    bold = [
        row[0]
        for row, attrs in zip(table.rows, table.row_attrs, strict=True)
        if "best" in attrs[mae_column].get("class", "")
    ]
    # mace-mpa has the smallest offsets by construction.
    assert max(abs(x) for x in OFFSETS[MODELS[1]]) < min(
        max(abs(x) for x in OFFSETS[m]) for m in (MODELS[0], MODELS[2])
    )
    assert bold == [MODELS[1]]


def test_confusion_counts_match_an_independent_count(report):
    _, page, _ = report
    from latticebench.analysis import ANHARMONICITY_CLASSES

    alts = {image["alt"] for image in page.images if image["alt"].startswith("Confusion")}
    assert len(alts) == len(MODELS)
    for model in MODELS:
        pairs = [p for p in _pairs() if p[0] == model]
        stability = [
            [
                sum(1 for p in pairs if p[3] == (t == "stable") and p[4] == (q == "stable"))
                for q in ("stable", "unstable")
            ]
            for t in ("stable", "unstable")
        ]
        classes = [
            [sum(1 for p in pairs if p[1] == t and p[2] == q) for q in ANHARMONICITY_CLASSES]
            for t in ANHARMONICITY_CLASSES
        ]
        (alt,) = [a for a in alts if f"model {model} " in a]
        assert f"stability labels ['stable', 'unstable'] counts {stability}" in alt
        assert f"counts {classes}" in alt
        assert sum(map(sum, classes)) == len(pairs)


def test_per_compound_table_rows_labels_and_missing_values(report):
    _, page, _ = report
    table = page.table("compound-table")
    assert table.header[0][:5] == ["compound", "halide", "σA DFT", "model", "σA MLIP"]
    assert len(table.rows) == len(MODELS) * len(COMPOUNDS)
    for row, attrs in zip(table.rows, table.row_attrs, strict=True):
        compound, _, sigma_dft, model, sigma_mlip, error = row[:6]
        index = [c[0] for c in COMPOUNDS].index(compound)
        mlip = mlip_sigma(model, index)
        dft = DFT[compound]
        assert sigma_dft == ("—" if dft is None else f"{dft:.3f}")
        assert sigma_mlip.split(" ±")[0] == ("—" if mlip is None else f"{mlip:.3f}")
        if dft is None or mlip is None:
            assert error == "—"
        else:
            assert abs(float(error) - (mlip - dft)) <= 0.0005 + 1e-12
        differs = "differs" in attrs[7].get("class", "")
        assert differs == (dft is not None and mlip is not None and (dft <= 1.0) != (mlip <= 1.0))
    missing_rows = [r for r in table.rows if (r[3], r[0]) in MISSING_MLIP]
    assert len(missing_rows) == 1 and missing_rows[0][7] == "—" and missing_rows[0][9] == "—"
    # the failed pair is named with its reason, not silently missing
    ((model, compound),) = MISSING_MLIP
    assert "No MLIP σA for 1 (compound, model) pair(s), because a step failed" in page.text
    assert f"{compound} × {model}: MD exploded" in page.text


def test_decomposition_rows_and_summary(report):
    _, page, _ = report
    (table,) = [t for t in page.tables if "decomposition" in t.classes]
    decomposed = {(c, m) for c in DECOMPOSED for m in MODELS[:2]}
    assert {(r[0], r[1]) for r in table.rows} == decomposed
    for compound, model, reference, force_only, hessian, full, rmse in table.rows:
        index = [c[0] for c in COMPOUNDS].index(compound)
        offset = OFFSETS[model][index]
        dft = DFT[compound]
        for shown, value in (
            (reference, dft + 0.001),
            (force_only, dft + 0.3 * offset),
            (hessian, dft + 0.8 * offset),
            (full, mlip_sigma(model, index)),
            (rmse, 0.05 + 0.01 * index),
        ):
            assert abs(float(shown) - value) <= 0.0005 + 1e-12


def test_traces_and_bands_sections(report, frame):
    _, page, extras = report
    traced = {c for (c, _), item in extras.items() if item.sigma_traces}
    traces = [i for i in page.images if i["src"].startswith("figures/trace-")]
    assert len(traces) == len(traced) >= 2
    bands = {i["alt"] for i in page.images if i["src"].startswith("figures/bands-")}
    assert f"MLIP and DFT phonon band structure of {REFERENCE_BAND_COMPOUND}" in bands


def test_empty_frame_says_no_results(tmp_path):
    index = write_report(benchmark_rows([]), tmp_path / "empty")
    page = parse_report(index)
    assert page.section_ids == ["no-results"]
    assert "No results yet" in page.text
    assert page.images == []
    assert (tmp_path / "empty" / "figures").is_dir()


def test_custom_thresholds_change_labels_and_text(tmp_path, plain_frame):
    custom = {"stable_max": 1.2, "weak_max": 0.4, "moderate_max": 0.6, "strong_max": 1.2}
    one_model = plain_frame[plain_frame["model"] == MODELS[0]]
    index = write_report(one_model, tmp_path, thresholds=custom, n_resamples=20, max_traces=0)
    page = parse_report(index)
    assert "weak ≤ 0.40 < moderate ≤ 0.60 < strong ≤ 1.20 < unstable" in page.text
    pairs = [p for p in _pairs(custom) if p[0] == MODELS[0]]
    stable_stable = sum(1 for p in pairs if p[3] and p[4])
    (alt,) = [i["alt"] for i in page.images if i["alt"].startswith("Confusion")]
    assert f"counts [[{stable_stable}," in alt
    assert stable_stable != sum(1 for p in _pairs() if p[0] == MODELS[0] and p[3] and p[4])


def test_rewrite_replaces_previous_report_and_keeps_other_files(tmp_path, plain_frame):
    first = plain_frame[plain_frame["model"] == MODELS[0]]
    second = plain_frame[plain_frame["model"] == MODELS[1]]
    (tmp_path / "notes.txt").write_text("mine")
    write_report(first, tmp_path, n_resamples=20)
    old = {p.name for p in (tmp_path / "figures").glob("*.png")}
    index = write_report(second, tmp_path, n_resamples=20)
    new = {p.name for p in (tmp_path / "figures").glob("*.png")}
    assert any("chgnet" in name for name in old)
    assert not any("chgnet" in name for name in new)
    assert {Path(i["src"]).name for i in parse_report(index).images} == new
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "index.html", "notes.txt"]


def test_foreign_files_are_not_overwritten(tmp_path, plain_frame):
    (tmp_path / "index.html").write_text("<html>someone else's page</html>")
    with pytest.raises(FileExistsError, match="not written by latticebench"):
        write_report(plain_frame.iloc[0:0], tmp_path)
    assert (tmp_path / "index.html").read_text() == "<html>someone else's page</html>"
    other = tmp_path / "other"
    (other / "figures").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="figures"):
        write_report(plain_frame.iloc[0:0], other)


def test_a_failure_leaves_the_previous_report_intact(tmp_path, plain_frame, monkeypatch):
    index = write_report(plain_frame.iloc[0:0], tmp_path)
    before = index.read_text()

    def broken(frame, figures_dir, options, extras=None):
        (figures_dir / "half.png").write_bytes(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr("latticebench.report.writer.render_page", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(plain_frame, tmp_path)
    assert index.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "index.html"]
    assert not (tmp_path / "figures" / "half.png").exists()


def test_bad_input_is_refused_with_a_clear_message(tmp_path, plain_frame):
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['sigma_dft'\]"):
        write_report(plain_frame.drop(columns=["sigma_dft"]), tmp_path / "a")
    with pytest.raises(ValueError, match="threshold stable_max must be a positive"):
        write_report(plain_frame, tmp_path / "b", thresholds={**THRESHOLDS, "stable_max": -1})
    with pytest.raises(ValueError, match="not valid"):
        write_report(plain_frame, tmp_path / "c", thresholds={"stable": 1.0})
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_documents_round_trip_to_the_same_page_numbers(tmp_path):
    """Rows built from stored dicts (as load_benchmarks gets them) give the same table."""
    docs = [doc.model_dump(mode="json") for doc in make_docs()]
    frame = benchmark_rows(docs)
    index = write_report(frame[frame["model"] == MODELS[1]], tmp_path, n_resamples=20)
    row = parse_report(index).table("comparison-table").rows[0]
    assert row[0] == MODELS[1] and row[1] == "11"


SCREENSHOT = Path(__file__).resolve().parents[2] / "scripts" / "screenshot-report"


@pytest.mark.slow
@pytest.mark.skipif(
    not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")),
    reason="no Chromium on this machine (apt-get install -y chromium)",
)
def test_page_renders_in_headless_chromium(report, tmp_path):
    """The screenshot script renders the page, figures included (their colours are on it)."""
    from matplotlib.image import imread

    index, _, _ = report
    out = tmp_path / "shot.png"
    done = subprocess.run(
        [str(SCREENSHOT), str(index.parent), str(out), "1400", "2400"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pixels = imread(out)[..., :3]
    assert pixels.shape[:2] == (2400, 1400)
    # The darkest blue of the confusion matrices (matplotlib's "Blues" top, #08306b) only
    # exists inside the PNG figures: seeing it proves the <img> files loaded.
    dark_blue = np.array([8, 48, 107]) / 255
    assert (np.abs(pixels - dark_blue).max(axis=2) < 0.03).sum() > 500
