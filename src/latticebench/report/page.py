"""The report page: its sections as HTML, with the figures each one needs.

:func:`render_page` writes the figures into a folder and returns the HTML that references them
by relative path (``figures/<name>.png``). Metrics and confusion matrices come from
:mod:`latticebench.query`; nothing here computes a benchmark metric of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from latticebench.analysis import StabilityThresholds, regression_metrics
from latticebench.report.assets import SORT_SCRIPT, STYLESHEET
from latticebench.report.data import ExtrasKey, ReportExtras, select_compounds
from latticebench.report.markup import (
    MISSING,
    Cell,
    escape,
    estimate_cell,
    format_number,
    is_missing,
    table,
)
from latticebench.report.style import model_colours

__all__ = ["COMPARISON_METRICS", "SECTION_IDS", "PageOptions", "render_page"]

SECTION_IDS: tuple[str, ...] = (
    "how-to-read",
    "model-comparison",
    "parity",
    "confusion",
    "error-by-class",
    "traces",
    "bands",
    "compounds",
    "decomposition",
)
"""``id`` of every section of a page with results, in order."""

COMPARISON_METRICS: tuple[tuple[str, str, str, bool], ...] = (
    ("regression", "mae", "MAE", False),
    ("regression", "rmse", "RMSE", False),
    ("regression", "spearman", "Spearman ρ", True),
    ("regression", "r2", "R²", True),
    ("stability", "accuracy", "accuracy", True),
    ("stability", "f1", "F1", True),
    ("stability", "mcc", "MCC", True),
    ("anharmonicity_class", "accuracy", "accuracy", True),
    ("anharmonicity_class", "f1", "macro-F1", True),
)
"""Columns of the model-comparison table: (metrics_table group, metric, heading, higher is
better)."""

_GROUP_HEADINGS = (
    ("regression", "σ<sup>A</sup> regression"),
    ("stability", "dynamic stability (positive class: unstable)"),
    ("anharmonicity_class", "anharmonicity class"),
)


@dataclass(frozen=True)
class PageOptions:
    """How the page is made.

    Attributes
    ----------
    title : str
    thresholds : StabilityThresholds
    n_resamples, seed : int
        Bootstrap settings of the confidence intervals.
    max_traces, max_bands : int
        How many compounds get a σ^A(t) figure / a band-structure figure at most.
    """

    title: str
    thresholds: StabilityThresholds
    n_resamples: int = 1000
    seed: int = 0
    max_traces: int = 8
    max_bands: int = 8


def render_page(
    frame: pd.DataFrame,
    figures_dir: Path,
    options: PageOptions,
    extras: Mapping[ExtrasKey, ReportExtras] | None = None,
) -> str:
    """Write the figures into ``figures_dir`` and return the page's HTML.

    Parameters
    ----------
    frame : pandas.DataFrame
        Benchmark rows (:func:`latticebench.query.benchmark_rows`); may be empty.
    figures_dir : Path
        Existing folder named ``figures`` beside the page.
    options : PageOptions
    extras : mapping, optional
        ``(compound, model) -> ReportExtras`` (:func:`latticebench.report.load_extras`).

    Returns
    -------
    str
        A complete HTML document.
    """
    from latticebench import __version__

    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if frame.empty:
        body = _header(frame, options, generated, __version__) + (
            '<section id="no-results"><h2>No results yet</h2><p>The benchmark collection has no '
            "documents for this selection. Run a benchmark (<code>latticebench demo</code> or "
            "<code>latticebench run</code>), then <code>latticebench report</code> again.</p>"
            "</section>"
        )
        return _document(options.title, body)
    builder = _Builder(frame, figures_dir, options, dict(extras or {}))
    body = _header(frame, options, generated, __version__) + builder.sections()
    return _document(options.title, body)


def _document(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="latticebench report">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLESHEET}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n<script>{SORT_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _values(frame: pd.DataFrame, column: str) -> list[str]:
    return sorted({str(value) for value in frame[column] if not is_missing(value)})


def _joined(values: Sequence[str]) -> str:
    return ", ".join(f"<code>{escape(v)}</code>" for v in values) if values else MISSING


def _header(frame: pd.DataFrame, options: PageOptions, generated: str, version: str) -> str:
    facts = [
        ("dataset(s)", _joined(_values(frame, "dataset"))),
        ("models", _joined(_values(frame, "model"))),
        ("protocol id(s)", _joined(_values(frame, "protocol_id"))),
        ("compounds", str(frame["compound"].nunique())),
        ("σ<sup>A</sup> form", _joined(_values(frame, "form"))),
        ("generated", escape(generated)),
        ("latticebench", escape(version)),
    ]
    items = "".join(f"<div><dt>{name}</dt><dd>{value}</dd></div>" for name, value in facts)
    return f'<header><h1>{escape(options.title)}</h1><dl class="facts">{items}</dl></header>'


class _Builder:
    """Builds the sections of a non-empty page (figures written as it goes)."""

    def __init__(
        self,
        frame: pd.DataFrame,
        figures_dir: Path,
        options: PageOptions,
        extras: dict[ExtrasKey, ReportExtras],
    ) -> None:
        self.frame = frame
        self.figures_dir = figures_dir
        self.options = options
        self.thresholds = options.thresholds
        self.extras = extras
        self.models = _values(frame, "model")
        self.colours = model_colours(self.models)
        self._names: set[str] = set()

    def sections(self) -> str:
        return "\n".join(
            [
                self._how_to_read(),
                self._comparison(),
                self._parity(),
                self._confusion(),
                self._error_by_class(),
                self._traces(),
                self._bands(),
                self._compounds(),
                self._decomposition(),
            ]
        )

    # -- figures ------------------------------------------------------------------------------

    def _figure(self, figure, stem: str, alt: str, caption: str = "") -> str:
        from latticebench.report.figures import save_figure

        name = self._file_name(stem)
        saved = save_figure(figure, self.figures_dir / name)
        caption_html = f"<figcaption>{caption}</figcaption>" if caption else ""
        return (
            f'<figure><img src="figures/{name}" width="{saved.width}" height="{saved.height}" '
            f'alt="{escape(alt)}">{caption_html}</figure>'
        )

    def _file_name(self, stem: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:60] or "figure"
        name, counter = f"{slug}.png", 1
        while name in self._names:
            counter += 1
            name = f"{slug}-{counter}.png"
        self._names.add(name)
        return name

    # -- sections -----------------------------------------------------------------------------

    def _how_to_read(self) -> str:
        t = self.thresholds
        return f"""<section id="how-to-read"><h2>How to read this report</h2>
<p>The anharmonicity score σ<sup>A</sup> (Knoop <i>et al.</i>, Phys. Rev. Materials 4, 083809
(2020)) measures how much of the force on the atoms during molecular dynamics at 300 K is not
explained by the harmonic force constants Φ:
σ<sup>A</sup> = √(Σ<sub>t,I,α</sub> (F<sup>A</sup><sub>I,α</sub>(t))²) /
√(Σ<sub>t,I,α</sub> F<sub>I,α</sub>(t)²), with F<sup>A</sup> = F − F<sup>(2)</sup> and
F<sup>(2)</sup> = −Φu (the <code>rms</code> form); the reference study's <code>std</code> form
divides the standard deviations instead. The form compared here is given above; MLIP and DFT
values are always in the same form.</p>
<p>Dynamically stable at 300 K: σ<sup>A</sup> ≤ {format_number(t.stable_max, 2)}.
Anharmonicity classes: weak ≤ {format_number(t.weak_max, 2)} &lt; moderate ≤
{format_number(t.moderate_max, 2)} &lt; strong ≤ {format_number(t.strong_max, 2)} &lt; unstable.
Numbers in brackets are 95% bootstrap percentile intervals over compounds
({self.options.n_resamples} resamples, seed {self.options.seed}). Stability precision, recall and
F1 treat <i>unstable</i> as the positive class; confusion matrices have DFT in rows and the MLIP
in columns. The harmonic criterion (no imaginary modes at 0 K) is listed beside σ<sup>A</sup>:
the two disagree for many perovskites, and that disagreement is itself a result.
A dash (—) marks a missing value.</p></section>"""

    def _comparison(self) -> str:
        from latticebench.query import metrics_table

        metrics = metrics_table(
            self.frame,
            by=["model"],
            thresholds=self.thresholds,
            n_resamples=self.options.n_resamples,
            seed=self.options.seed,
        )
        lookup = {
            (str(r.model), r.group, r.metric): (r.value, r.low, r.high)
            for r in metrics.itertuples(index=False)
        }
        best: dict[tuple[str, str], float] = {}
        for group, metric, _, higher in COMPARISON_METRICS:
            values = [
                lookup[(m, group, metric)][0] for m in self.models if (m, group, metric) in lookup
            ]
            values = [v for v in values if np.isfinite(v)]
            if len(values) > 1:
                best[(group, metric)] = max(values) if higher else min(values)
        rows = []
        for model in self.models:
            mine = self.frame[self.frame["model"] == model]
            usable = int(mine[["sigma_dft", "sigma_mlip"]].notna().all(axis=1).sum())
            cells = [self._model_cell(model), Cell(f"{usable}", repr(float(usable)), css="num")]
            for group, metric, _, _ in COMPARISON_METRICS:
                value, low, high = lookup.get((model, group, metric), (None, None, None))
                top = best.get((group, metric))
                cells.append(estimate_cell(value, low, high, best=top is not None and value == top))
            rows.append(cells)
        spans = [
            (name, sum(g == group for g, *_ in COMPARISON_METRICS))
            for group, name in _GROUP_HEADINGS
        ]
        header = [
            [("", 1), ("", 1), *spans],
            [("model", 1), ("n", 1), *[(heading, 1) for *_, heading, _ in COMPARISON_METRICS]],
        ]
        note = (
            '<p class="note">n: compounds with both σ<sup>A</sup> values; a model with fewer '
            "than two has no scores. Bold: the best model in the column.</p>"
        )
        return (
            '<section id="model-comparison"><h2>Model comparison</h2>'
            + table(header, rows, css="comparison", table_id="comparison-table")
            + note
            + "</section>"
        )

    def _parity(self) -> str:
        from latticebench.report.figures import parity_figure

        values = self.frame[["sigma_dft", "sigma_mlip"]].to_numpy(dtype=float, na_value=np.nan)
        errors = self.frame["sigma_se_mlip"].to_numpy(dtype=float, na_value=np.nan)
        top = np.nanmax(
            np.concatenate([values.ravel(), values[:, 1] + np.nan_to_num(errors), [0.0]])
        )
        limit = float(max(self.thresholds.stable_max * 1.25, top * 1.05))
        figures = [
            self._figure(
                parity_figure(
                    self.frame[self.frame["model"] == model], model, self.thresholds, limit=limit
                ),
                f"parity-{model}",
                f"Parity plot of MLIP against DFT σA for model {model}",
            )
            for model in self.models
        ]
        return (
            '<section id="parity"><h2>σ<sup>A</sup>: MLIP against DFT</h2>'
            "<p>One point per compound, coloured and shaped by halide; error bars: the MLIP's "
            "block-averaging standard error where known. Dashed lines: the stability threshold; "
            "shaded: the two quadrants where MLIP and DFT disagree on stability.</p>"
            f'<div class="grid">{"".join(figures)}</div></section>'
        )

    def _confusion(self) -> str:
        from latticebench.query import confusion_matrices
        from latticebench.report.figures import confusion_figure

        usable = self.frame.dropna(subset=["sigma_dft", "sigma_mlip"])
        matrices = confusion_matrices(usable, self.thresholds)
        parts = []
        for model in self.models:
            per_model = matrices.get(model)
            if per_model is None:
                parts.append(
                    f'<p class="note">{escape(model)}: no compound with both σ<sup>A</sup>.</p>'
                )
                continue
            alt = f"Confusion matrices of model {model} (rows DFT, columns MLIP): " + "; ".join(
                f"{group} labels {per_model[group]['labels']} counts {per_model[group]['matrix']}"
                for group in ("stability", "anharmonicity_class")
            )
            parts.append(
                self._figure(confusion_figure(per_model, model), f"confusion-{model}", alt)
            )
        return (
            '<section id="confusion"><h2>Confusion matrices</h2>'
            "<p>Rows: DFT label; columns: MLIP label; numbers: compounds.</p>"
            f'<div class="grid wide">{"".join(parts)}</div></section>'
        )

    def _error_by_class(self) -> str:
        from latticebench.report.figures import error_by_class_figure

        usable = self.frame.dropna(subset=["sigma_dft", "sigma_mlip"])
        if usable.empty:
            content = '<p class="note">No compound has both σ<sup>A</sup> values.</p>'
        else:
            content = self._figure(
                error_by_class_figure(usable, self.models, self.colours, self.thresholds),
                "error-by-class",
                "Error of the MLIP σA per DFT anharmonicity class, per model",
            )
        return (
            '<section id="error-by-class"><h2>Error by DFT anharmonicity class</h2>'
            "<p>σ<sup>A</sup><sub>MLIP</sub> − σ<sup>A</sup><sub>DFT</sub> per compound, grouped "
            "by the class of the DFT value; boxes: quartiles and median, whiskers: 1.5 IQR.</p>"
            f"{content}</section>"
        )

    def _traces(self) -> str:
        from latticebench.report.figures import trace_figure

        have = {key for key, item in self.extras.items() if item.sigma_traces}
        compounds = self._pick({c for c, _ in have}, self.options.max_traces)
        parts = []
        for compound in compounds:
            per_model = {
                m: self.extras[(compound, m)] for m in self.models if (compound, m) in have
            }
            parts.append(
                self._figure(
                    trace_figure(
                        compound,
                        per_model,
                        self.colours,
                        self.thresholds,
                        self._sigma_dft(compound),
                    ),
                    f"trace-{compound}",
                    f"sigma A per MD frame for {compound}",
                )
            )
        if parts:
            content = f'<div class="grid">{"".join(parts)}</div>'
        else:
            content = (
                '<p class="note">No σ<sup>A</sup>(t) traces: they come from the anharmonicity '
                "jobs' outputs in the job store, which were not loaded or hold none.</p>"
            )
        shown = f" ({len(compounds)} of {len({c for c, _ in have})} compounds)" if parts else ""
        return (
            f'<section id="traces"><h2>σ<sup>A</sup>(t) during MD{shown}</h2>'
            "<p>σ<sup>A</sup> of every production frame; the time-averaged DFT value and the "
            f"stability threshold as horizontal lines.</p>{content}</section>"
        )

    def _bands(self) -> str:
        from latticebench.report.figures import band_figure

        with_reference = {
            c for (c, _), item in self.extras.items() if item.reference_band is not None
        }
        with_band = {c for (c, _), item in self.extras.items() if item.band is not None}
        chosen = self._pick(with_reference, self.options.max_bands)
        chosen += self._pick(with_band - with_reference, self.options.max_bands - len(chosen))
        parts = []
        for compound in chosen:
            per_model = {
                m: self.extras[(compound, m)]
                for m in self.models
                if (compound, m) in self.extras
                and (
                    self.extras[(compound, m)].band is not None
                    or self.extras[(compound, m)].reference_band is not None
                )
            }
            kind = "MLIP and DFT" if compound in with_reference else "MLIP"
            parts.append(
                self._figure(
                    band_figure(compound, per_model, self.colours),
                    f"bands-{compound}",
                    f"{kind} phonon band structure of {compound}",
                )
            )
        content = "".join(parts) or (
            '<p class="note">No band structures: they come from the phonon jobs\' outputs in the '
            "job store, which were not loaded or hold none.</p>"
        )
        return (
            '<section id="bands"><h2>Phonon bands: MLIP against DFT</h2>'
            "<p>Harmonic frequencies along the band path; the DFT reference (dashed black) where "
            f"the benchmark has one, the MLIP alone otherwise.</p>{content}"
            f"{self._phonon_errors()}</section>"
        )

    def _phonon_errors(self) -> str:
        rows = self.frame.dropna(subset=["omega_squared_rmse_THz2"])
        if rows.empty:
            return ""
        body = [
            [
                Cell.text(r.compound),
                self._model_cell(r.model),
                Cell.number(r.omega_squared_rmse_THz2),
                Cell.number(r.group_velocity_rmse_THz_A),
            ]
            for r in rows.itertuples(index=False)
        ]
        header = [
            [
                ("compound", 1),
                ("model", 1),
                ("ω² RMSE (THz²)", 1),
                ("group-velocity RMSE (THz·Å)", 1),
            ]
        ]
        return "<h3>Phonon errors against the reference</h3>" + table(header, body, sortable=True)

    def _compounds(self) -> str:
        rows = []
        ordered = self.frame.sort_values(["compound", "model"], kind="stable")
        for r in ordered.itertuples(index=False):
            stability_differs = _differs(r.stable_dft, r.stable_mlip)
            class_differs = _differs(r.class_dft, r.class_mlip)
            sigma = format_number(r.sigma_mlip)
            if sigma != MISSING and not is_missing(r.sigma_se_mlip):
                sigma += f' <span class="ci">± {format_number(r.sigma_se_mlip)}</span>'
            rows.append(
                [
                    Cell.text(r.compound),
                    Cell.text(r.halide),
                    Cell.number(r.sigma_dft),
                    self._model_cell(r.model),
                    Cell(
                        sigma,
                        None if is_missing(r.sigma_mlip) else repr(float(r.sigma_mlip)),
                        "num",
                    ),
                    Cell.number(r.sigma_error),
                    Cell.text(_stability(r.stable_dft)),
                    Cell.text(
                        _stability(r.stable_mlip),
                        css="differs" if stability_differs else None,
                        title="disagrees with DFT" if stability_differs else None,
                    ),
                    Cell.text(r.class_dft),
                    Cell.text(
                        r.class_mlip,
                        css="differs" if class_differs else None,
                        title="disagrees with DFT" if class_differs else None,
                    ),
                    Cell.text(_stability(r.harmonically_stable)),
                    Cell.number(r.lowest_frequency_THz, 2),
                ]
            )
        header = [
            [
                ("compound", 1),
                ("halide", 1),
                ("σ<sup>A</sup> DFT", 1),
                ("model", 1),
                ("σ<sup>A</sup> MLIP", 1),
                ("Δσ<sup>A</sup>", 1),
                ("stability DFT", 1),
                ("stability MLIP", 1),
                ("class DFT", 1),
                ("class MLIP", 1),
                ("harmonic (0 K)", 1),
                ("lowest ω (THz)", 1),
            ]
        ]
        return (
            '<section id="compounds"><h2>Per compound</h2>'
            "<p>Click a column name to sort. Highlighted: MLIP label differs from DFT. "
            "Harmonic (0 K): stable when the MLIP phonons have no imaginary mode; lowest ω "
            "negative = imaginary.</p>"
            + table(header, rows, css="compounds", sortable=True, table_id="compound-table")
            + self._failures()
            + "</section>"
        )

    def _failures(self) -> str:
        failed = self.frame.dropna(subset=["failure_reason"])
        if failed.empty:
            return ""
        items = "".join(
            f"<li>{escape(str(r.compound))} × {escape(str(r.model))}: "
            f"{escape(str(r.failure_reason))}</li>"
            for r in failed.sort_values(["compound", "model"], kind="stable").itertuples()
        )
        return (
            f'<p class="note">No MLIP σ<sup>A</sup> for {len(failed)} (compound, model) '
            f'pair(s), because a step failed:</p><ul class="failures">{items}</ul>'
        )

    def _decomposition(self) -> str:
        columns = ["sigma_reference_rescored", "sigma_force_only", "sigma_force_and_hessian"]
        rows = self.frame.dropna(subset=columns, how="all")
        heading = '<section id="decomposition"><h2>Error decomposition</h2>'
        if rows.empty:
            return (
                heading + '<p class="note">No decomposition: it needs reference AIMD frames to '
                "rescore with the MLIP.</p></section>"
            )
        body = [
            [
                Cell.text(r.compound),
                self._model_cell(r.model),
                Cell.number(r.sigma_reference_rescored),
                Cell.number(r.sigma_force_only),
                Cell.number(r.sigma_force_and_hessian),
                Cell.number(r.sigma_mlip),
                Cell.number(r.force_rmse_eV_per_A),
            ]
            for r in rows.sort_values(["compound", "model"]).itertuples(index=False)
        ]
        header = [
            [("", 2), ("σ<sup>A</sup> from: frames / forces / Φ", 4), ("", 1)],
            [
                ("compound", 1),
                ("model", 1),
                ("DFT / DFT / DFT", 1),
                ("DFT / MLIP / DFT", 1),
                ("DFT / MLIP / MLIP", 1),
                ("MLIP / MLIP / MLIP", 1),
                ("force RMSE (eV/Å)", 1),
            ],
        ]
        return (
            heading
            + "<p>σ<sup>A</sup> with its ingredients crossed between DFT and the MLIP: the second "
            "column isolates the force error, the third adds the force-constant (Hessian) error, "
            "the fourth is the full MLIP prediction (adds the configurations sampled by MLIP MD). "
            "Force RMSE: MLIP against DFT forces on the DFT frames.</p>"
            + table(header, body, css="decomposition")
            + self._decomposition_summary(rows)
            + "</section>"
        )

    def _decomposition_summary(self, rows: pd.DataFrame) -> str:
        body = []
        for model in self.models:
            mine = rows[rows["model"] == model]
            reference = mine["sigma_reference_rescored"]
            cells = [self._model_cell(model)]
            for column in ("sigma_force_only", "sigma_force_and_hessian", "sigma_mlip"):
                pair = pd.concat([reference, mine[column]], axis=1).dropna()
                mae = (
                    regression_metrics(
                        pair.iloc[:, 0].to_numpy(float), pair.iloc[:, 1].to_numpy(float)
                    )["mae"]
                    if len(pair) >= 2
                    else None
                )
                cells.append(Cell.number(mae))
            cells.append(Cell(str(len(mine)), css="num"))
            body.append(cells)
        header = [
            [
                ("model", 1),
                ("force only", 1),
                ("force + Hessian", 1),
                ("full MLIP", 1),
                ("compounds", 1),
            ]
        ]
        return (
            "<h3>Mean absolute deviation from the reference σ<sup>A</sup> (DFT / DFT / DFT)</h3>"
            + table(header, body)
            + '<p class="note">Shown when a model has at least two decomposed compounds.</p>'
        )

    # -- helpers ------------------------------------------------------------------------------

    def _model_cell(self, model: str) -> Cell:
        colour = self.colours.get(str(model), "#777777")
        return Cell(
            f'<span class="swatch" style="background:{colour}"></span>{escape(model)}',
            css="model",
        )

    def _sigma_dft(self, compound: str) -> float | None:
        values = self.frame.loc[self.frame["compound"] == compound, "sigma_dft"].dropna()
        return float(values.iloc[0]) if len(values) else None

    def _pick(self, compounds: set[str], limit: int) -> list[str]:
        if limit <= 0 or not compounds:
            return []
        return select_compounds(self.frame[self.frame["compound"].isin(compounds)], limit)


def _stability(value: object) -> str | None:
    if is_missing(value):
        return None
    return "stable" if bool(value) else "unstable"


def _differs(dft: object, mlip: object) -> bool:
    return not is_missing(dft) and not is_missing(mlip) and dft != mlip
