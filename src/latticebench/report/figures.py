"""The report's figures (matplotlib, Agg canvas, no pyplot global state).

Every function builds one :class:`matplotlib.figure.Figure`; :func:`save_figure` writes it as a
PNG at :data:`~latticebench.report.style.SAVE_DPI`. Strings that come from data (model and
compound names, band labels) are shown literally: ``$`` never starts mathtext.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from latticebench.analysis import ANHARMONICITY_CLASSES, StabilityThresholds, anharmonicity_class
from latticebench.report.data import BandPath, ReportExtras
from latticebench.report.style import DISPLAY_DPI, HALIDE_STYLES, SAVE_DPI, halide_style

__all__ = [
    "SavedFigure",
    "band_figure",
    "confusion_figure",
    "error_by_class_figure",
    "parity_figure",
    "save_figure",
    "trace_figure",
]

SIGMA = r"$\sigma^{\mathrm{A}}$"
"""σ^A in mathtext."""


@dataclass(frozen=True)
class SavedFigure:
    """A PNG written for the page.

    Attributes
    ----------
    path : Path
        The file.
    width, height : int
        Display size in CSS pixels (figure inches × DISPLAY_DPI).
    """

    path: Path
    width: int
    height: int


def save_figure(figure: Figure, path: Path) -> SavedFigure:
    """Write ``figure`` as a PNG at SAVE_DPI and return its display size.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    path : Path
        Destination ``*.png``.

    Returns
    -------
    SavedFigure
    """
    width_in, height_in = figure.get_size_inches()
    figure.savefig(path, dpi=SAVE_DPI, format="png", facecolor="white")
    return SavedFigure(path, round(width_in * DISPLAY_DPI), round(height_in * DISPLAY_DPI))


def literal(text: object) -> str:
    """Text that matplotlib shows as is in a legend (``$`` escaped: it never starts mathtext).

    Titles use ``parse_math=False`` instead.
    """
    return str(text).replace("$", r"\$")


def plain_band_label(label: str) -> str:
    r"""A phonopy band label without TeX, e.g. ``'$\Gamma$'`` -> ``'Γ'``.

    ``'$\mathrm{X}$'`` becomes ``'X'``; every ``$`` goes, so a label never starts mathtext.
    """
    text = label.replace("$", "").replace(r"\Gamma", "Γ").replace(r"\mathrm", "")
    return re.sub(r"[{}\\]", "", text) or "?"


def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure


def parity_figure(
    rows: pd.DataFrame, model: str, thresholds: StabilityThresholds, *, limit: float
) -> Figure:
    """MLIP against DFT σ^A of one model, coloured and shaped by halide.

    Parameters
    ----------
    rows : pandas.DataFrame
        The model's benchmark rows (``sigma_dft``, ``sigma_mlip``, ``sigma_se_mlip``,
        ``halide``); rows lacking either σ^A are counted in the title, not drawn.
    model : str
    thresholds : StabilityThresholds
        ``stable_max`` is drawn on both axes; the quadrants where the two stability labels
        disagree are shaded.
    limit : float
        Upper end of both axes (the same for every model, so panels compare).

    Returns
    -------
    matplotlib.figure.Figure
    """
    # Fixed geometry (inches) instead of a layout engine: a square axes with room for a
    # two-line title above and the axis label and legend below, whatever the tick labels.
    width, height, left, bottom, side = 4.0, 4.6, 0.7, 0.95, 3.1
    figure = Figure(figsize=(width, height))
    ax = figure.add_axes((left / width, bottom / height, side / width, side / height))
    usable = rows.dropna(subset=["sigma_dft", "sigma_mlip"])
    cut = thresholds.stable_max
    shade = {"color": "#EEEEEE", "zorder": 0, "linewidth": 0}
    ax.fill_between([0, cut], cut, limit, **shade)
    ax.fill_between([cut, limit], 0, cut, **shade)
    ax.text(0.02 * limit, 0.98 * limit, "MLIP: unstable\nDFT: stable", va="top", fontsize=8)
    ax.text(0.98 * limit, 0.02 * limit, "MLIP: stable\nDFT: unstable", ha="right", fontsize=8)
    ax.plot([0, limit], [0, limit], color="#444444", linewidth=1.0, label="y = x", zorder=1)
    for line in (ax.axvline, ax.axhline):
        line(cut, color="#777777", linestyle="--", linewidth=1.0, zorder=1)
    halides = [h for h in HALIDE_STYLES if (usable["halide"] == h).any()]
    others = usable[~usable["halide"].isin(list(HALIDE_STYLES))]
    groups = [(h, usable[usable["halide"] == h]) for h in halides]
    if len(others):
        groups.append(("other", others))
    for name, group in groups:
        colour, marker = halide_style(name if name != "other" else None)
        errors = group["sigma_se_mlip"].to_numpy(dtype=float, na_value=np.nan)
        ax.errorbar(
            group["sigma_dft"].to_numpy(float),
            group["sigma_mlip"].to_numpy(float),
            yerr=None if np.isnan(errors).all() else np.nan_to_num(errors),
            fmt=marker,
            color=colour,
            markersize=6,
            markeredgecolor="white",
            markeredgewidth=0.6,
            elinewidth=0.9,
            capsize=0,
            label=f"{name} ({len(group)})",
            zorder=3,
        )
    ax.set_xlim(0, limit)
    ax.set_ylim(0, limit)
    ax.set_xlabel(f"{SIGMA} DFT")
    ax.set_ylabel(f"{SIGMA} MLIP")
    missing = len(rows) - len(usable)
    subtitle = f"n = {len(usable)}" + (f" ({missing} lacking a σ value)" if missing else "")
    ax.set_title(f"{model}\n{subtitle}", fontsize=10, parse_math=False)
    figure.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=3,
        fontsize=8,
        frameon=False,
        handletextpad=0.3,
        columnspacing=1.0,
    )
    return figure


def confusion_figure(matrices: Mapping[str, Mapping[str, Sequence]], model: str) -> Figure:
    """Stability (2×2) and anharmonicity-class (4×4) confusion matrices of one model.

    Parameters
    ----------
    matrices : mapping
        ``{"stability": {"labels", "matrix"}, "anharmonicity_class": {...}}`` as returned per
        model by :func:`latticebench.query.confusion_matrices` (rows DFT, columns MLIP).
    model : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = _new_figure(6.0, 3.0)
    axes = figure.subplots(1, 2, width_ratios=[2, 3.2])
    panels = (("stability", "dynamic stability"), ("anharmonicity_class", "anharmonicity class"))
    for ax, (group, title) in zip(axes, panels, strict=True):
        labels = list(matrices[group]["labels"])
        counts = np.asarray(matrices[group]["matrix"], dtype=int).reshape(len(labels), len(labels))
        top = max(int(counts.max()), 1)
        ax.imshow(counts, cmap="Blues", vmin=0, vmax=top)
        for (i, j), value in np.ndenumerate(counts):
            ax.text(
                j,
                i,
                str(value),
                ha="center",
                va="center",
                fontsize=11,
                color="white" if value > 0.55 * top else "black",
            )
        ticks = np.arange(len(labels))
        ax.set_xticks(ticks, labels, rotation=30 if len(labels) > 2 else 0, ha="right")
        ax.set_yticks(ticks, labels)
        if len(labels) == 2:
            ax.set_xticks(ticks, labels, ha="center")
        ax.set_xlabel("MLIP")
        ax.set_ylabel("DFT")
        ax.set_title(title, fontsize=10)
    figure.suptitle(str(model), fontsize=11, parse_math=False)
    return figure


def error_by_class_figure(
    frame: pd.DataFrame,
    models: Sequence[str],
    colours: Mapping[str, str],
    thresholds: StabilityThresholds,
) -> Figure:
    """σ_MLIP − σ_DFT per DFT anharmonicity class: a box and the points per model.

    Parameters
    ----------
    frame : pandas.DataFrame
        Benchmark rows; rows lacking either σ^A are left out.
    models : sequence of str
        Display order.
    colours : mapping
        Model -> colour.
    thresholds : StabilityThresholds
        Classes of the DFT σ^A.

    Returns
    -------
    matplotlib.figure.Figure
    """
    usable = frame.dropna(subset=["sigma_dft", "sigma_mlip"])
    classes = anharmonicity_class(usable["sigma_dft"].to_numpy(float), thresholds)
    errors = usable["sigma_mlip"].to_numpy(float) - usable["sigma_dft"].to_numpy(float)
    model_of = usable["model"].astype(str).to_numpy()
    width = max(6.5, min(12.0, 1.2 + 1.1 * len(ANHARMONICITY_CLASSES) * max(len(models), 1) * 0.6))
    figure = _new_figure(width, 4.2)
    ax = figure.add_subplot()
    slot = 0.8 / max(len(models), 1)
    rng = np.random.default_rng(0)  # fixed jitter: the figure is reproducible
    for i, name in enumerate(ANHARMONICITY_CLASSES):
        for k, model in enumerate(models):
            values = errors[(classes == name) & (model_of == model)]
            if values.size == 0:
                continue
            centre = i - 0.4 + slot * (k + 0.5)
            ax.boxplot(
                values,
                positions=[centre],
                widths=slot * 0.75,
                showfliers=False,
                patch_artist=True,
                boxprops={"facecolor": "none", "edgecolor": colours[model]},
                medianprops={"color": colours[model], "linewidth": 1.5},
                whiskerprops={"color": colours[model]},
                capprops={"color": colours[model]},
            )
            jitter = rng.uniform(-0.25, 0.25, values.size) * slot
            ax.scatter(
                centre + jitter,
                values,
                s=14,
                color=colours[model],
                alpha=0.75 if values.size < 150 else 0.4,
                linewidths=0,
                zorder=3,
            )
    ax.axhline(0.0, color="#444444", linewidth=0.9)
    compounds = usable["compound"].astype(str).to_numpy()
    per_class = [len(set(compounds[classes == name])) for name in ANHARMONICITY_CLASSES]
    ax.set_xticks(
        range(len(ANHARMONICITY_CLASSES)),
        [
            f"{name}\n({n} compound{'s' if n != 1 else ''})"
            for name, n in zip(ANHARMONICITY_CLASSES, per_class, strict=True)
        ],
    )
    ax.set_xlim(-0.5, len(ANHARMONICITY_CLASSES) - 0.5)
    ax.set_xlabel(f"DFT anharmonicity class (of {SIGMA} DFT)")
    ax.set_ylabel(f"{SIGMA} MLIP − {SIGMA} DFT")
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    handles = [Patch(facecolor="none", edgecolor=colours[m], label=literal(m)) for m in models]
    if handles:
        ax.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncols=min(len(handles), 4),
            fontsize=8,
            frameon=False,
        )
    return figure


def trace_figure(
    compound: str,
    extras: Mapping[str, ReportExtras],
    colours: Mapping[str, str],
    thresholds: StabilityThresholds,
    sigma_dft: float | None,
) -> Figure:
    """σ^A(t) of one compound: every model's MD runs, the DFT value and the threshold.

    Parameters
    ----------
    compound : str
    extras : mapping
        Model -> ReportExtras with ``sigma_traces`` (one line per run; runs after the first
        are dashed).
    colours : mapping
        Model -> colour.
    thresholds : StabilityThresholds
    sigma_dft : float or None
        Time-averaged DFT σ^A (a horizontal line) when known.

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = _new_figure(6.2, 3.2)
    ax = figure.add_subplot()
    styles = ("-", "--", ":", "-.")
    n_runs = 0
    for model, item in extras.items():
        for run, trace in enumerate(item.sigma_traces):
            ax.plot(
                np.arange(trace.size) * item.frame_stride,
                trace,
                color=colours[model],
                linestyle=styles[run % len(styles)],
                linewidth=0.9,
                alpha=0.9,
            )
            n_runs = max(n_runs, run + 1)
    handles = [Line2D([], [], color=colours[m], label=literal(m)) for m in extras]
    if sigma_dft is not None and math.isfinite(sigma_dft):
        ax.axhline(sigma_dft, color="black", linestyle="--", linewidth=1.2)
        handles.append(Line2D([], [], color="black", linestyle="--", label=f"DFT {SIGMA}"))
    ax.axhline(thresholds.stable_max, color="#999999", linestyle=":", linewidth=1.2)
    handles.append(
        Line2D([], [], color="#999999", linestyle=":", label="stability threshold"),
    )
    ax.set_ylim(bottom=0)
    ax.set_xlabel("recorded production frame")
    ax.set_ylabel(f"{SIGMA}(t)")
    runs = f" ({n_runs} runs per model: solid, dashed, …)" if n_runs > 1 else ""
    ax.set_title(str(compound) + runs, fontsize=10, parse_math=False)
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


def band_figure(
    compound: str, extras: Mapping[str, ReportExtras], colours: Mapping[str, str]
) -> Figure:
    """Phonon bands of one compound: a panel per model, the reference band beneath in black.

    Parameters
    ----------
    compound : str
    extras : mapping
        Model -> ReportExtras with a ``band`` and/or a ``reference_band``.
    colours : mapping
        Model -> colour.

    Returns
    -------
    matplotlib.figure.Figure
    """
    models = list(extras)
    columns = min(len(models), 3)
    rows = math.ceil(len(models) / columns)
    figure = _new_figure(3.6 * columns + 0.4, 3.3 * rows + 0.3)
    axes = np.atleast_1d(figure.subplots(rows, columns, sharey=True, squeeze=False)).ravel()
    for ax, model in zip(axes[: len(models)], models, strict=True):
        item = extras[model]
        handles = []
        if item.reference_band is not None:
            _draw_band(ax, item.reference_band, color="black", linewidth=1.0, linestyle="--")
            handles.append(Line2D([], [], color="black", linestyle="--", label="DFT reference"))
        if item.band is not None:
            _draw_band(ax, item.band, color=colours[model], linewidth=1.0, linestyle="-")
            handles.append(Line2D([], [], color=colours[model], label="MLIP"))
        shown = item.band if item.band is not None else item.reference_band
        if shown is not None:
            positions, labels = shown.tick_labels()
            for x in positions:
                ax.axvline(x, color="#BBBBBB", linewidth=0.6, zorder=0)
            if labels:
                ax.set_xticks(positions, [plain_band_label(t) for t in labels])
            else:
                ax.set_xticks(positions, [""] * len(positions))
            ax.set_xlim(positions[0], positions[-1])
        ax.axhline(0.0, color="#777777", linewidth=0.6)
        ax.set_title(str(model), fontsize=9, parse_math=False)
        ax.legend(handles=handles, fontsize=7, loc="lower right")
    for ax in axes[len(models) :]:
        ax.set_visible(False)
    for ax in axes[::columns]:
        ax.set_ylabel("frequency (THz)")
    figure.suptitle(
        f"{compound}: phonon bands (negative = imaginary)", fontsize=10, parse_math=False
    )
    return figure


def _draw_band(ax, band: BandPath, **style) -> None:
    for segment in band.segments():
        ax.plot(band.distances[segment], band.frequencies[segment], **style)
