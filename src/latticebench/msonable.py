"""A pydantic base for parameter objects that monty, jobflow and FireWorks serialise faithfully.

jobflow encodes a Job's Maker with monty's ``jsanitize``; in its non-strict mode (the one
jobflow's FireWorks task uses) a pydantic model without ``as_dict`` becomes its ``str()``, and
the worker would receive text instead of parameters. Models deriving from :class:`ParameterModel`
carry ``as_dict``/``from_dict`` with ``@module``/``@class``, so every path round-trips them.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict

__all__ = ["ParameterModel"]


class ParameterModel(BaseModel):
    """Frozen, strict pydantic model that round-trips through monty's JSON encoding."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ``@module`` and ``@class`` (monty's MSONable convention).

        Returns
        -------
        dict
        """
        return {
            "@module": type(self).__module__,
            "@class": type(self).__name__,
            **self.model_dump(mode="json"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild from :meth:`as_dict` output (validated).

        Parameters
        ----------
        data : dict

        Returns
        -------
        ParameterModel
        """
        return cls.model_validate({k: v for k, v in data.items() if not k.startswith("@")})
