"""What every importer shares: dataset metadata, record checks, the all-or-nothing commit.

An importer reads a file into candidate records without touching any store. Each record is
built by a function; an exception while building it (bad value, NaN, unknown element,
unparseable compound name) makes it a :class:`BadRecord` naming its location. Then
:func:`commit`:

1. refuses the whole file if any record is bad, unless ``skip_bad`` (nothing is written);
2. under the store's write lock, classifies every document (insert / unchanged / update /
   refuse, :func:`latticebench.stores.upsert_documents` with ``dry_run``);
3. writes the heavy blobs of the documents about to be written (content-addressed, so a
   re-import writes nothing new);
4. upserts the documents and verifies the stored count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from latticebench.references.errors import BadRecord, BadRecordsError
from latticebench.references.heavy import PendingBlob
from latticebench.schemas import ReferenceDoc, ReferenceSource
from latticebench.stores import (
    REFERENCE_KEY,
    REFERENCES_COLLECTION,
    UpsertReport,
    connect_store,
    get_data_store,
    get_store,
    has_blob,
    store_lock,
    upsert_documents,
)
from latticebench.structures import CompoundNameError, DoublePerovskiteSites, parse_compound

__all__ = [
    "Candidate",
    "DatasetInfo",
    "ImportReport",
    "collect_records",
    "commit",
    "finite_float",
    "make_doc",
    "sites_of",
]


@dataclass(frozen=True)
class DatasetInfo:
    """Metadata shared by every document of one import.

    Attributes
    ----------
    dataset : str
        Dataset id (part of the natural key).
    level_of_theory, citation, doi, selection_note : str or None
        Stored in each document when given (None: left as stored).
    sigma_definition : {"rms", "std", "unspecified"} or None
        Definition of the σ^A values read (None: 'unspecified' when a σ is present).
    """

    dataset: str
    level_of_theory: str | None = None
    citation: str | None = None
    doi: str | None = None
    selection_note: str | None = None
    sigma_definition: str | None = None

    def fields(self) -> dict[str, Any]:
        """The metadata as ReferenceDoc keyword arguments (None values left out)."""
        values = {
            "dataset": self.dataset,
            "level_of_theory": self.level_of_theory,
            "citation": self.citation,
            "doi": self.doi,
            "selection_note": self.selection_note,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class Candidate:
    """One record read from a file, ready to be committed.

    Attributes
    ----------
    doc : ReferenceDoc
    location : str
        Where in the file it was read (for messages).
    blobs : list of PendingBlob
        Heavy parts; their ids are already in ``doc.heavy``.
    """

    doc: ReferenceDoc
    location: str
    blobs: list[PendingBlob] = field(default_factory=list)


@dataclass
class ImportReport:
    """Outcome of importing one file.

    Attributes
    ----------
    file : str
    dataset : str
    n_records : int
        Records read from the file (good and bad).
    upsert : UpsertReport
        What happened to the good records.
    bad : list of BadRecord
        Records skipped (only with ``skip_bad``; otherwise the import raised).
    """

    file: str
    dataset: str
    n_records: int
    upsert: UpsertReport
    bad: list[BadRecord] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """inserted, unchanged, updated, refused, bad."""
        return {**self.upsert.counts, "bad": len(self.bad)}

    def summary(self) -> str:
        """One line: file, dataset and the counts of :attr:`counts`."""
        counts = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        return f"{self.file} -> dataset {self.dataset!r}: {counts}"


def sites_of(compound: str) -> DoublePerovskiteSites:
    """Parse a compound name, with the error message importers show.

    Parameters
    ----------
    compound : str

    Returns
    -------
    DoublePerovskiteSites

    Raises
    ------
    ValueError
        "unparseable compound name ..." with the parser's reason (unknown element, pattern).
    """
    try:
        return parse_compound(compound)
    except CompoundNameError as exc:
        raise ValueError(f"unparseable compound name {compound!r}: {exc}") from None


def finite_float(value: Any, name: str) -> float:
    """A finite float from a cell or key-value pair, or a ValueError naming ``name``.

    Parameters
    ----------
    value : Any
        Number or numeric string.
    name : str
        Column / key name for the message.

    Returns
    -------
    float
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"no value for {name}")
    if isinstance(value, bool):
        raise ValueError(f"{name} is a boolean ({value}), not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r} is not a number") from None
    if number != number:
        raise ValueError(f"{name} is NaN")
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{name} is infinite")
    return number


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors()
        )
    return str(exc)


def collect_records(
    builders: Iterable[tuple[str, str | None, Callable[[], Candidate]]],
) -> tuple[list[Candidate], list[BadRecord], int]:
    """Build candidates, turning every failure into a bad record; flag duplicate compounds.

    Parameters
    ----------
    builders : iterable of (location, compound, build)
        ``build()`` returns a :class:`Candidate` or raises ValueError / TypeError / KeyError /
        pydantic ``ValidationError``.

    Returns
    -------
    good : list of Candidate
    bad : list of BadRecord
        Every occurrence of a compound that appears more than once is bad (which one is right
        cannot be decided), with the other locations named.
    n_records : int
    """
    good: list[Candidate] = []
    bad: list[BadRecord] = []
    seen: dict[str, list[str]] = {}
    n = 0
    for location, compound, build in builders:
        n += 1
        if compound is not None:
            seen.setdefault(compound, []).append(location)
        try:
            candidate = build()
        except (ValueError, TypeError, KeyError, ValidationError) as exc:
            bad.append(BadRecord(location, _reason(exc), compound))
            continue
        good.append(candidate)
    duplicated = {c: locs for c, locs in seen.items() if len(locs) > 1}
    if duplicated:
        for candidate in good:
            locations = duplicated.get(candidate.doc.compound)
            if locations:
                others = ", ".join(loc for loc in locations if loc != candidate.location)
                bad.append(
                    BadRecord(
                        candidate.location,
                        f"compound {candidate.doc.compound!r} appears more than once in the "
                        f"file (also {others})",
                        candidate.doc.compound,
                    )
                )
        good = [c for c in good if c.doc.compound not in duplicated]
    return good, bad, n


def commit(
    candidates: list[Candidate],
    bad: list[BadRecord],
    *,
    file: str,
    dataset: str,
    n_records: int,
    update: bool = False,
    skip_bad: bool = False,
    store: Any | None = None,
    data_store: Any | None = None,
) -> ImportReport:
    """Write the good records of one file, all-or-nothing unless ``skip_bad``.

    Parameters
    ----------
    candidates : list of Candidate
    bad : list of BadRecord
    file : str
        The file imported (for messages and history entries).
    dataset : str
    n_records : int
    update : bool
        Apply changed values (recorded in each document's ``updates`` history).
    skip_bad : bool
        Import the good records even if some are bad (the bad ones are reported).
    store, data_store : maggma.core.Store, optional
        Default: the ``references`` collection and the data store from the settings.

    Returns
    -------
    ImportReport

    Raises
    ------
    BadRecordsError
        If records are bad and ``skip_bad`` is False; nothing is written.
    """
    if bad and not skip_bad:
        raise BadRecordsError(file, bad, n_records)
    store = store if store is not None else get_store(REFERENCES_COLLECTION)
    connect_store(store)
    docs = [c.doc.to_document() for c in candidates]
    options = {"update": update, "source": f"import {file}", "nested": ("heavy",)}
    with store_lock(store):
        plan = upsert_documents(
            store, docs, REFERENCE_KEY, ignore=("source",), dry_run=True, **options
        )
        written = set(plan.written_keys)
        unchanged = set(plan.unchanged)
        blobs = [
            (c.doc.key, blob)
            for c in candidates
            for blob in c.blobs
            if c.doc.key in written or c.doc.key in unchanged
        ]
        if blobs:
            data_store = data_store if data_store is not None else get_data_store()
            connect_store(data_store)
            for key, blob in blobs:
                if key in written or not has_blob(data_store, blob.blob_id):
                    blob.put(data_store)
        result = upsert_documents(store, docs, REFERENCE_KEY, ignore=("source",), **options)
    return ImportReport(
        file=file, dataset=dataset, n_records=n_records, upsert=result, bad=list(bad)
    )


def make_doc(info: DatasetInfo, file: str, location: str, **values: Any) -> ReferenceDoc:
    """A ReferenceDoc with the dataset metadata and the source filled in.

    Parameters
    ----------
    info : DatasetInfo
    file : str
    location : str
    **values
        Record fields (compound, sigma_300K, ...).

    Returns
    -------
    ReferenceDoc
    """
    fields = {**info.fields(), **values}
    if fields.get("sigma_300K") is not None and info.sigma_definition is not None:
        fields.setdefault("sigma_definition", info.sigma_definition)
    return ReferenceDoc(**fields, source=ReferenceSource(file=file, location=location))
