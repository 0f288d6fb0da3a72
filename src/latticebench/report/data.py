"""What the report needs beyond the benchmark table: σ^A(t) traces, phonon bands, thresholds.

The benchmark collection holds one summary row per compound × model; the per-frame σ^A(t) and
the band structures live in the jobflow ``JobStore`` outputs of the jobs whose uuids each row
carries (``anharmonicity_job``, ``phonon_job``); the reference band and the classification
thresholds live in the benchmark documents themselves (``extra["reference_band"]``,
``thresholds``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from latticebench.analysis import StabilityThresholds

__all__ = [
    "BandPath",
    "BenchmarkAnnotations",
    "ReportExtras",
    "annotations_from_docs",
    "check_unique_rows",
    "load_annotations",
    "load_extras",
    "select_compounds",
]

ExtrasKey = tuple[str, str]
"""``(compound, model)``."""


@dataclass(frozen=True)
class BandPath:
    """Phonon frequencies along a band path, split into segments.

    Attributes
    ----------
    distances : numpy.ndarray, shape (n_q,)
        Path coordinate of every q-point (1/Å, phonopy's convention), segments concatenated.
    frequencies : numpy.ndarray, shape (n_q, n_bands)
        Frequencies in THz; imaginary modes are negative.
    segment_sizes : tuple of int
        q-points per segment; they sum to ``n_q``.
    labels : tuple of str
        High-symmetry labels as phonopy lists them (segment ends; an extra label at every break
        of the path). May be empty.
    qpoints : numpy.ndarray or None, shape (n_q, 3)
        Reduced q-point coordinates, when known (used to find breaks of the path).
    """

    distances: np.ndarray
    frequencies: np.ndarray
    segment_sizes: tuple[int, ...]
    labels: tuple[str, ...] = ()
    qpoints: np.ndarray | None = None

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], where: str) -> BandPath:
        """Validate a band dictionary (the phonon job's ``band`` field or a reference band).

        Parameters
        ----------
        mapping : mapping
            Keys ``distances`` (n_q,), ``frequencies`` (n_q, n_bands) THz, ``segment_sizes``;
            optional ``labels`` and ``qpoints`` (n_q, 3).
        where : str
            Where the mapping comes from, for error messages.

        Returns
        -------
        BandPath

        Raises
        ------
        ValueError
            A missing key or inconsistent shapes, naming ``where`` and the field.
        """
        if not isinstance(mapping, Mapping):
            raise ValueError(f"{where}: band must be a mapping, got {type(mapping).__name__}")
        for key in ("distances", "frequencies", "segment_sizes"):
            if key not in mapping:
                raise ValueError(f"{where}: band has no field {key!r}")
        distances = _float_array(mapping["distances"], f"{where}: band.distances", ndim=1)
        frequencies = _float_array(mapping["frequencies"], f"{where}: band.frequencies", ndim=2)
        n_q = distances.shape[0]
        if frequencies.shape[0] != n_q:
            raise ValueError(
                f"{where}: band.frequencies has {frequencies.shape[0]} q-points, "
                f"band.distances has {n_q}"
            )
        try:
            sizes = tuple(int(size) for size in mapping["segment_sizes"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: band.segment_sizes must be a list of integers") from exc
        if any(size < 1 for size in sizes) or sum(sizes) != n_q:
            raise ValueError(
                f"{where}: band.segment_sizes {list(sizes)} must be positive and sum to the "
                f"{n_q} q-points"
            )
        qpoints = None
        if mapping.get("qpoints") is not None:
            qpoints = _float_array(mapping["qpoints"], f"{where}: band.qpoints", ndim=2)
            if qpoints.shape != (n_q, 3):
                raise ValueError(
                    f"{where}: band.qpoints has shape {qpoints.shape}, expected ({n_q}, 3)"
                )
        labels = tuple(str(label) for label in (mapping.get("labels") or ()))
        return cls(distances, frequencies, sizes, labels, qpoints)

    def segments(self) -> list[slice]:
        """Index ranges of the segments, in order."""
        ends = np.cumsum(self.segment_sizes)
        return [
            slice(int(end - size), int(end))
            for end, size in zip(ends, self.segment_sizes, strict=True)
        ]

    def tick_labels(self) -> tuple[list[float], list[str]]:
        """Tick positions at the segment ends and their labels.

        phonopy lists one label per segment end and one more at every break of the path (where
        a segment does not start at the previous one's end q-point); labels meeting at a break
        are joined as ``"U|K"``. A break is found from ``qpoints`` when known. When the number of
        labels does not fit the segments, the ticks are returned without labels.

        Returns
        -------
        positions : list of float, length n_segments + 1
            Path coordinates of the segment ends.
        labels : list of str
            Same length as ``positions``, or empty.
        """
        segments = self.segments()
        positions = [float(self.distances[segments[0].start])]
        positions += [float(self.distances[s.stop - 1]) for s in segments]
        breaks = [self._is_break(a, b) for a, b in pairwise(segments)]
        if len(self.labels) != len(segments) + 1 + sum(breaks):
            return positions, []
        names = iter(self.labels)
        out = [next(names)]
        for is_break in [*breaks, False]:
            end = next(names)
            out.append(f"{end}|{next(names)}" if is_break else end)
        return positions, out

    def _is_break(self, previous: slice, following: slice) -> bool:
        if self.qpoints is None:
            return False
        return not np.allclose(self.qpoints[previous.stop - 1], self.qpoints[following.start])


@dataclass(frozen=True)
class ReportExtras:
    """Job-store results of one compound × model that the benchmark table does not hold.

    Attributes
    ----------
    compound, model : str
    sigma_traces : tuple of numpy.ndarray, each shape (n_frames,)
        σ^A(t) per production frame, one array per MD run (dimensionless; NaN allowed).
    band : BandPath or None
        The MLIP phonon band structure.
    reference_band : BandPath or None
        The reference (DFT) band structure on the same path, when the benchmark has one.
    frame_stride : int
        Trace value i belongs to recorded production frame ``i * frame_stride`` (the
        anharmonicity job's ``frame_stride``; 1 when absent).
    """

    compound: str
    model: str
    sigma_traces: tuple[np.ndarray, ...] = ()
    band: BandPath | None = None
    reference_band: BandPath | None = None
    frame_stride: int = 1


@dataclass(frozen=True)
class BenchmarkAnnotations:
    """What the report reads from the benchmark documents besides the table rows.

    Attributes
    ----------
    thresholds : StabilityThresholds or None
        The classification thresholds all documents share (None without documents).
    reference_bands : dict
        ``(compound, model) -> BandPath`` from ``extra["reference_band"]``.
    """

    thresholds: StabilityThresholds | None = None
    reference_bands: dict[ExtrasKey, BandPath] = field(default_factory=dict)


def select_compounds(frame: pd.DataFrame, limit: int) -> list[str]:
    """A few compounds spanning the range of reference σ^A, for traces and bands.

    Parameters
    ----------
    frame : pandas.DataFrame
        Benchmark rows (columns ``compound``, ``sigma_dft``).
    limit : int
        How many at most (≥ 0).

    Returns
    -------
    list of str
        Every compound when there are at most ``limit``. Otherwise, ordered by reference σ^A,
        ``limit`` compounds at evenly spaced ranks (both ends included) among those with a
        reference σ^A; compounds without one only fill up when too few have one.
    """
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if frame.empty or limit == 0:
        return []
    per_compound = frame.groupby("compound", sort=True)["sigma_dft"].first()
    known = per_compound.dropna().sort_values(kind="stable").index.tolist()
    unknown = per_compound[per_compound.isna()].index.tolist()
    if len(known) + len(unknown) <= limit:
        chosen = known + unknown
    elif len(known) >= limit:
        ranks = np.unique(np.round(np.linspace(0, len(known) - 1, limit)).astype(int))
        chosen = [known[i] for i in ranks]
    else:
        chosen = known + unknown[: limit - len(known)]
    return [str(name) for name in chosen]


def load_extras(
    job_store: Any,
    frame: pd.DataFrame,
    *,
    reference_bands: Mapping[ExtrasKey, BandPath] | None = None,
    compounds: Sequence[str] | None = None,
    max_compounds: int = 8,
) -> dict[ExtrasKey, ReportExtras]:
    """Load σ^A(t) traces and phonon bands of a few compounds from a jobflow ``JobStore``.

    Each job output is read with ``job_store.query_one({"uuid": uuid}, load=True)`` (the last
    run of the job), which resolves the blobs jobflow put in the additional ("data") stores.
    A row whose job is not in the store (still running, failed, pruned) is skipped with a
    warning; a malformed output raises.

    Parameters
    ----------
    job_store : jobflow.JobStore
        Connected here if it is not yet; left open.
    frame : pandas.DataFrame
        Benchmark rows (:func:`latticebench.query.benchmark_rows`) with columns ``compound``,
        ``model``, ``sigma_dft``, ``anharmonicity_job``, ``phonon_job``.
    reference_bands : mapping, optional
        ``(compound, model) -> BandPath`` (see :func:`load_annotations`); compounds that have
        one are always included, so the report can compare MLIP and reference bands.
    compounds : sequence of str, optional
        Which compounds to load; default :func:`select_compounds` with ``max_compounds``.
    max_compounds : int
        Default selection size.

    Returns
    -------
    dict
        ``(compound, model) -> ReportExtras`` for every selected row with anything to show.

    Raises
    ------
    ValueError
        Two rows with the same compound and model, or a malformed job output (the job uuid,
        compound, model and field named).
    """
    reference_bands = dict(reference_bands or {})
    if frame.empty:
        return {}
    check_unique_rows(frame)
    if compounds is None:
        chosen = set(select_compounds(frame, max_compounds))
        with_reference = frame[[key in reference_bands for key in _keys(frame)]]
        chosen.update(select_compounds(with_reference, max_compounds))
    else:
        chosen = set(compounds)
    job_store.connect()
    extras: dict[ExtrasKey, ReportExtras] = {}
    for row in frame[frame["compound"].isin(chosen)].itertuples(index=False):
        key = (str(row.compound), str(row.model))
        where = f"compound {key[0]!r}, model {key[1]!r}"
        output = _job_output(job_store, row.anharmonicity_job, where, "anharmonicity")
        traces, stride = (), 1
        if output is not None:
            traces = _sigma_traces(output, where, row.anharmonicity_job)
            stride = _frame_stride(output, where, row.anharmonicity_job)
        output = _job_output(job_store, row.phonon_job, where, "phonon")
        band = None
        if output is not None and output.get("band") is not None:
            band = BandPath.from_mapping(output["band"], f"phonon job {row.phonon_job} ({where})")
        reference = reference_bands.get(key)
        if traces or band is not None or reference is not None:
            extras[key] = ReportExtras(key[0], key[1], traces, band, reference, stride)
    return extras


def annotations_from_docs(docs: Iterable[Mapping[str, Any] | Any]) -> BenchmarkAnnotations:
    """Thresholds and reference bands from benchmark documents.

    Parameters
    ----------
    docs : iterable of dict or BenchmarkDoc
        Documents (or projections with ``compound``, ``model``, ``thresholds`` and
        ``extra.reference_band``).

    Returns
    -------
    BenchmarkAnnotations

    Raises
    ------
    ValueError
        Documents with different thresholds (a report classifies with one set), or a malformed
        reference band (compound and model named).
    """
    thresholds: dict[tuple[tuple[str, float], ...], list[str]] = {}
    bands: dict[ExtrasKey, BandPath] = {}
    for doc in docs:
        record = doc if isinstance(doc, Mapping) else doc.model_dump()
        key = (str(record.get("compound")), str(record.get("model")))
        where = f"benchmark document of compound {key[0]!r}, model {key[1]!r}"
        if record.get("thresholds"):
            frozen = tuple(sorted((str(k), float(v)) for k, v in record["thresholds"].items()))
            thresholds.setdefault(frozen, []).append(f"{key[0]}/{key[1]}")
        reference = (record.get("extra") or {}).get("reference_band")
        if reference is not None:
            bands[key] = BandPath.from_mapping(reference, f"{where}: extra.reference_band")
    if len(thresholds) > 1:
        described = "; ".join(
            f"{dict(values)} (e.g. {names[0]}, {len(names)} documents)"
            for values, names in thresholds.items()
        )
        raise ValueError(
            "benchmark documents use different classification thresholds: "
            f"{described}. Select one protocol or dataset."
        )
    chosen = None
    if thresholds:
        (values,) = thresholds
        try:
            chosen = StabilityThresholds(**dict(values))
        except TypeError as exc:
            raise ValueError(f"benchmark thresholds {dict(values)} are not valid: {exc}") from exc
    return BenchmarkAnnotations(chosen, bands)


def load_annotations(store: Any, frame: pd.DataFrame) -> BenchmarkAnnotations:
    """Read thresholds and reference bands of the rows of ``frame`` from the benchmarks store.

    Parameters
    ----------
    store : maggma Store
        The ``benchmarks`` collection; connected and closed here.
    frame : pandas.DataFrame
        Benchmark rows (columns ``dataset``, ``compound``, ``model``, ``protocol_id``).

    Returns
    -------
    BenchmarkAnnotations
        Empty for an empty frame.
    """
    if frame.empty:
        return BenchmarkAnnotations()
    wanted = set(
        frame[["dataset", "compound", "model", "protocol_id"]].itertuples(index=False, name=None)
    )
    criteria = {
        name: {"$in": sorted({str(value) for value in frame[name].dropna()})}
        for name in ("dataset", "compound", "model", "protocol_id")
    }
    properties = ["dataset", "compound", "model", "protocol_id", "thresholds", "extra"]
    store.connect()
    try:
        docs = [
            doc
            for doc in store.query(criteria=criteria, properties=properties)
            if (doc.get("dataset"), doc.get("compound"), doc.get("model"), doc.get("protocol_id"))
            in wanted
        ]
    finally:
        store.close()
    return annotations_from_docs(docs)


def _keys(frame: pd.DataFrame) -> list[ExtrasKey]:
    return [(str(c), str(m)) for c, m in zip(frame["compound"], frame["model"], strict=True)]


def check_unique_rows(frame: pd.DataFrame) -> None:
    """Raise when a (compound, model) pair has more than one row.

    A report compares one protocol and one dataset: rows of the same compound and model from
    two protocols would be mixed in every metric.

    Raises
    ------
    ValueError
        Naming the first repeated pair and the protocol ids and datasets involved.
    """
    duplicated = frame.duplicated(subset=["compound", "model"], keep=False)
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        ids = sorted({str(v) for v in frame.loc[duplicated, "protocol_id"].dropna()})
        sets = sorted({str(v) for v in frame.loc[duplicated, "dataset"].dropna()})
        raise ValueError(
            f"compound {first['compound']!r} with model {first['model']!r} appears "
            f"{int(duplicated.sum())} times among the rows with repeated pairs (protocol ids "
            f"{ids}, datasets {sets}); select one protocol id and dataset"
        )


def _job_output(job_store: Any, uuid: Any, where: str, kind: str) -> dict[str, Any] | None:
    if uuid is None or (isinstance(uuid, float) and np.isnan(uuid)) or uuid is pd.NA:
        return None
    doc = job_store.query_one({"uuid": str(uuid)}, sort={"index": -1}, load=True)
    if doc is None:
        warnings.warn(
            f"{kind} job {uuid} of {where} is not in the job store; left out of the report",
            stacklevel=3,
        )
        return None
    output = doc.get("output")
    if not isinstance(output, Mapping):
        raise ValueError(f"{kind} job {uuid} ({where}) has no output document")
    return dict(output)


def _sigma_traces(output: Mapping[str, Any], where: str, uuid: Any) -> tuple[np.ndarray, ...]:
    runs = output.get("sigma_per_frame")
    label = f"anharmonicity job {uuid} ({where}): sigma_per_frame"
    if runs is None:
        return ()
    if isinstance(runs, Mapping) and "blob_uuid" in runs:
        raise ValueError(f"{label} is an unresolved data-store reference (query with load=True)")
    if not isinstance(runs, Sequence | np.ndarray) or isinstance(runs, str):
        raise ValueError(f"{label} must be a list of runs, got {type(runs).__name__}")
    if len(runs) and all(_is_number(value) for value in runs):
        runs = [runs]  # a single run stored as a flat list
    return tuple(
        _float_array(run, f"{label}[{i}]", ndim=1, allow_nan=True) for i, run in enumerate(runs)
    )


def _frame_stride(output: Mapping[str, Any], where: str, uuid: Any) -> int:
    stride = output.get("frame_stride", 1)
    if stride is None:
        return 1
    if isinstance(stride, bool) or not isinstance(stride, int | np.integer) or stride < 1:
        raise ValueError(
            f"anharmonicity job {uuid} ({where}): frame_stride must be a positive integer, "
            f"got {stride!r}"
        )
    return int(stride)


def _is_number(value: Any) -> bool:
    return value is None or (
        isinstance(value, int | float | np.number) and not isinstance(value, bool)
    )


def _float_array(values: Any, label: str, *, ndim: int, allow_nan: bool = False) -> np.ndarray:
    try:
        array = np.asarray(
            [np.nan if v is None else v for v in values] if ndim == 1 else values, dtype=float
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label} is not a numeric array of {ndim} dimension(s)") from exc
    if array.ndim != ndim:
        raise ValueError(f"{label} must have {ndim} dimension(s), got shape {array.shape}")
    if not allow_nan and not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{label} has a non-finite value at index {index}")
    return array
