"""Tables of reference values: CSV files with a column mapping and declared units.

A CSV importer maps schema fields to column names (identity by default) and converts declared
units to the schema's (:mod:`latticebench.references.units`). Every column must be used: a
column that maps to no field is an error (a misspelt header would otherwise be ignored),
unless it is listed in ``ignore_columns``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from latticebench.references.common import (
    Candidate,
    DatasetInfo,
    ImportReport,
    collect_records,
    commit,
    finite_float,
    make_doc,
    sites_of,
)
from latticebench.references.errors import ImportFileError
from latticebench.references.units import FIELD_QUANTITY, QUANTITY_ALIASES, conversion_factor

__all__ = ["TABLE_FIELDS", "import_csv", "read_csv_records"]

TABLE_FIELDS = ("compound", "halide", *FIELD_QUANTITY)
"""ReferenceDoc fields a table column can map to."""

MISSING_MISMATCH = -1.0
"""Value the source table uses for an octahedral mismatch outside its validity range."""


def _resolve_mapping(
    name: str, header: list[str], mapping: dict[str, str] | None, ignore: set[str]
) -> dict[str, str]:
    """Field -> column, checked against the header."""
    mapping = {QUANTITY_ALIASES.get(k, k): v for k, v in (mapping or {}).items()}
    unknown_fields = sorted(set(mapping) - set(TABLE_FIELDS))
    if unknown_fields:
        raise ImportFileError(
            f"{name}: cannot map to unknown field(s) {unknown_fields}; fields: {list(TABLE_FIELDS)}"
        )
    resolved = dict(mapping)
    for field_name in TABLE_FIELDS:
        if field_name not in resolved and field_name in header:
            resolved[field_name] = field_name
    missing = [f"{column!r} (for {f})" for f, column in resolved.items() if column not in header]
    if "compound" not in resolved:
        missing.insert(0, "'compound' (map it with compound=<column>)")
    if missing:
        raise ImportFileError(
            f"{name}: missing column(s) {', '.join(missing)}; the header has {header}"
        )
    used = set(resolved.values()) | ignore
    unused = [c for c in header if c not in used]
    if unused:
        raise ImportFileError(
            f"{name}: column(s) {unused} map to no field; map them (FIELD=column) or ignore "
            f"them (ignore_columns / --ignore)"
        )
    return resolved


def read_csv_records(
    path: str | Path,
    info: DatasetInfo,
    *,
    mapping: dict[str, str] | None = None,
    units: dict[str, str] | None = None,
    ignore_columns: list[str] | tuple[str, ...] = (),
    display_name: str | None = None,
) -> tuple[list[Candidate], list[Any], int]:
    """Read a CSV file into candidate reference documents (no store is touched).

    Parameters
    ----------
    path : str or Path
    info : DatasetInfo
    mapping : dict, optional
        Field (or alias ``energy``/``frequency``) -> column name; unmapped fields whose
        name is a column are read from it.
    units : dict, optional
        Field (or alias) -> unit of its column, e.g. ``{"energy": "meV/atom"}``.
    ignore_columns : sequence of str
        Columns to leave unread.
    display_name : str, optional
        Name of the file in messages and sources (default: the path).

    Returns
    -------
    good : list of Candidate
    bad : list of BadRecord
    n_records : int

    Raises
    ------
    ImportFileError
        For an unreadable file, missing or unknown columns, or undeclared units.
    """
    path = Path(path)
    name = display_name or str(path)
    factors = {}
    for field_name, unit in (units or {}).items():
        try:
            factors[QUANTITY_ALIASES.get(field_name, field_name)] = conversion_factor(
                field_name, unit
            )
        except ValueError as exc:
            raise ImportFileError(f"{name}: {exc}") from None
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            rows = [(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise ImportFileError(f"{name}: no such file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ImportFileError(f"{name}: not a readable CSV text file ({exc})") from None
    if not header or not any(header):
        raise ImportFileError(f"{name}: empty file (no header row)")
    if len(set(header)) != len(header):
        raise ImportFileError(f"{name}: repeated column names in the header {header}")
    if not rows:
        raise ImportFileError(f"{name}: no data rows")
    resolved = _resolve_mapping(name, header, mapping, set(ignore_columns))
    index = {field_name: header.index(column) for field_name, column in resolved.items()}
    not_read = sorted(set(factors) - set(resolved))
    if not_read:
        raise ImportFileError(f"{name}: units declared for field(s) {not_read} not in the file")

    def builders() -> Iterator[tuple[str, str | None, Any]]:
        for line, row in rows:
            location = f"line {line}"
            cells = [c.strip() for c in row]
            compound = cells[index["compound"]] if len(cells) > index["compound"] else None

            def build(cells: list[str] = cells, location: str = location) -> Candidate:
                if len(cells) != len(header):
                    raise ValueError(f"{len(cells)} cells for {len(header)} columns")
                values: dict[str, Any] = {}
                compound = cells[index["compound"]]
                sites = sites_of(compound)
                for field_name, i in index.items():
                    if field_name in ("compound", "halide"):
                        continue
                    column = f"column {header[i]!r}"
                    number = finite_float(cells[i], column) * factors.get(field_name, 1.0)
                    if field_name == "octahedral_mismatch" and number == MISSING_MISMATCH:
                        continue
                    values[field_name] = number
                if "halide" in index and cells[index["halide"]] != sites.X:
                    raise ValueError(
                        f"column {header[index['halide']]!r} says halide "
                        f"{cells[index['halide']]!r}, but {compound!r} has X = {sites.X!r}"
                    )
                doc = make_doc(info, name, location, compound=compound, halide=sites.X, **values)
                return Candidate(doc, location)

            yield location, compound, build

    return collect_records(builders())


def import_csv(
    path: str | Path,
    *,
    dataset: str,
    mapping: dict[str, str] | None = None,
    units: dict[str, str] | None = None,
    ignore_columns: list[str] | tuple[str, ...] = (),
    level_of_theory: str | None = None,
    citation: str | None = None,
    doi: str | None = None,
    selection_note: str | None = None,
    sigma_definition: str | None = "unspecified",
    update: bool = False,
    skip_bad: bool = False,
    store: Any | None = None,
) -> ImportReport:
    """Import a CSV table of reference values into the ``references`` collection.

    Parameters
    ----------
    path : str or Path
    dataset : str
        Dataset id of every row.
    mapping, units, ignore_columns
        See :func:`read_csv_records`.
    level_of_theory, citation, doi, selection_note : str, optional
        Stored in every document.
    sigma_definition : {"rms", "std", "unspecified"}
        Definition of the σ column's values.
    update : bool
        Apply changed values to stored documents (recorded), instead of refusing them.
    skip_bad : bool
        Import the good rows when some are bad (default: nothing is written).
    store : maggma.core.Store, optional
        Default: the configured ``references`` store.

    Returns
    -------
    ImportReport

    Raises
    ------
    ImportFileError
        For whole-file problems (missing columns, unknown units, not CSV).
    BadRecordsError
        For bad rows without ``skip_bad`` (nothing written).
    """
    info = DatasetInfo(
        dataset=dataset,
        level_of_theory=level_of_theory,
        citation=citation,
        doi=doi,
        selection_note=selection_note,
        sigma_definition=sigma_definition,
    )
    good, bad, n = read_csv_records(
        path, info, mapping=mapping, units=units, ignore_columns=ignore_columns
    )
    return commit(
        good,
        bad,
        file=str(path),
        dataset=dataset,
        n_records=n,
        update=update,
        skip_bad=skip_bad,
        store=store,
    )
