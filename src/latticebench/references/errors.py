"""Import errors: every message names the file and the row, record, frame or field."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BadRecord", "BadRecordsError", "ImportFileError"]


class ImportFileError(ValueError):
    """A whole file cannot be imported (not SQLite, truncated XML, missing columns, ...)."""


@dataclass(frozen=True)
class BadRecord:
    """One record that cannot be imported.

    Attributes
    ----------
    location : str
        Where in the file, e.g. ``"line 17"``, ``"row id=5"``, ``"frame 12"``.
    reason : str
        Why, naming the field.
    compound : str or None
        The compound the record is about, when known.
    """

    location: str
    reason: str
    compound: str | None = None

    def __str__(self) -> str:
        who = f" ({self.compound})" if self.compound else ""
        return f"{self.location}{who}: {self.reason}"


class BadRecordsError(ValueError):
    """Records of a file are bad and the import is all-or-nothing: nothing was written.

    Attributes
    ----------
    file : str
    bad : list of BadRecord
    """

    def __init__(self, file: str, bad: list[BadRecord], n_records: int) -> None:
        self.file = file
        self.bad = list(bad)
        self.n_records = n_records
        shown = "\n".join(f"  {b}" for b in self.bad[:20])
        more = f"\n  ... and {len(self.bad) - 20} more" if len(self.bad) > 20 else ""
        super().__init__(
            f"{file}: {len(self.bad)} of {n_records} record(s) are bad; nothing was imported "
            f"(use skip_bad / --skip-bad to import the good ones):\n{shown}{more}"
        )
