"""Exceptions of the storage layer; each message names the store, document or key involved."""

from __future__ import annotations

__all__ = [
    "BlobNotFoundError",
    "DocumentCountError",
    "DocumentTooLargeError",
    "StoreConfigurationError",
    "StoreConnectionError",
    "StoreError",
]


class StoreError(RuntimeError):
    """Base class of latticebench storage errors."""


class StoreConfigurationError(StoreError, ValueError):
    """The settings do not describe a usable store (e.g. store='mongodb' without a URI)."""


class StoreConnectionError(StoreError, ConnectionError):
    """A store could not be reached or opened; the message holds the redacted URI and timeout."""


class DocumentTooLargeError(StoreError, ValueError):
    """A document would exceed MongoDB's BSON size limit (minus a safety margin)."""


class DocumentCountError(StoreError):
    """After a write, the stored documents for the written keys do not match what was sent."""


class BlobNotFoundError(StoreError, KeyError):
    """An array blob id that is not (completely) present in the data store."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""
