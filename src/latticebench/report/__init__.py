"""The HTML benchmark report: figures and tables of MLIP against DFT σ^A and phonons.

Examples
--------
>>> from latticebench.query import load_benchmarks
>>> from latticebench.report import write_report
>>> frame = load_benchmarks(dataset="hdp-chemmater-2022")  # doctest: +SKIP
>>> write_report(frame, "report")  # doctest: +SKIP
PosixPath('report/index.html')

Modules
-------
data
    Loading σ^A(t) traces and phonon bands from the JobStore; thresholds and reference bands
    from the benchmark documents.
figures
    The matplotlib figures.
page, markup, assets, style
    The HTML page, its helpers, stylesheet and palette.
writer
    :func:`write_report`.
"""

from latticebench.report.data import (
    BandPath,
    BenchmarkAnnotations,
    ReportExtras,
    annotations_from_docs,
    load_annotations,
    load_extras,
    select_compounds,
)
from latticebench.report.writer import DEFAULT_TITLE, write_report

__all__ = [
    "DEFAULT_TITLE",
    "BandPath",
    "BenchmarkAnnotations",
    "ReportExtras",
    "annotations_from_docs",
    "load_annotations",
    "load_extras",
    "select_compounds",
    "write_report",
]
