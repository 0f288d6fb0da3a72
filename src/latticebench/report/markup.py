"""Small HTML helpers: escaping, number formatting, tables, figures.

Every string that comes from data passes through :func:`escape`; missing values (None, NaN,
``pandas.NA``) render as :data:`MISSING`, never as "nan".
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MISSING",
    "Cell",
    "escape",
    "estimate_cell",
    "format_number",
    "is_missing",
    "table",
]

MISSING = "—"
"""Shown wherever a value is missing."""


def is_missing(value: Any) -> bool:
    """True for None, NaN and ``pandas.NA``/``NaT``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def escape(value: Any) -> str:
    """HTML-escaped text of a value (quotes included); :data:`MISSING` when missing."""
    return MISSING if is_missing(value) else html.escape(str(value), quote=True)


def format_number(value: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals (ASCII minus), :data:`MISSING` when missing/not finite.

    Parameters
    ----------
    value : float, int or None
    digits : int

    Returns
    -------
    str
    """
    if is_missing(value) or isinstance(value, bool):
        return MISSING
    number = float(value)
    if not math.isfinite(number):
        return MISSING
    text = f"{number:.{digits}f}"
    return "0." + "0" * digits if text == "-0." + "0" * digits else text


@dataclass(frozen=True)
class Cell:
    """One table cell: ready HTML, an optional sort key and CSS class.

    Attributes
    ----------
    html : str
        Escaped content.
    sort : str or None
        ``data-sort`` value (numbers as text); None to sort by the text.
    css : str or None
        Class attribute.
    title : str or None
        Tooltip (escaped here).
    """

    html: str
    sort: str | None = None
    css: str | None = None
    title: str | None = None

    @classmethod
    def number(cls, value: Any, digits: int = 3, css: str | None = None) -> Cell:
        """A numeric cell that sorts by value (missing values sort last)."""
        text = format_number(value, digits)
        key = None if text == MISSING else repr(float(value))
        return cls(text, key, css=" ".join(filter(None, ["num", css])))

    @classmethod
    def text(cls, value: Any, css: str | None = None, title: str | None = None) -> Cell:
        """A text cell (escaped)."""
        return cls(escape(value), css=css, title=title)

    def render(self, tag: str = "td") -> str:
        """The ``<td>`` (or ``tag``) element."""
        attributes = ""
        if self.css:
            attributes += f' class="{self.css}"'
        if self.sort is not None:
            attributes += f' data-sort="{html.escape(self.sort, quote=True)}"'
        if self.title:
            attributes += f' title="{html.escape(self.title, quote=True)}"'
        return f"<{tag}{attributes}>{self.html}</{tag}>"


def estimate_cell(value: Any, low: Any, high: Any, *, digits: int = 3, best: bool = False) -> Cell:
    """``value [low, high]`` with the interval on a second, smaller line.

    Parameters
    ----------
    value, low, high : float or None
        Point estimate and confidence interval.
    digits : int
    best : bool
        Mark the cell as the best of its column (bold).

    Returns
    -------
    Cell
    """
    text = format_number(value, digits)
    if text == MISSING:
        return Cell(MISSING, css="num")
    interval = f"[{format_number(low, digits)}, {format_number(high, digits)}]"
    return Cell(
        f'{text} <span class="ci">{interval}</span>',
        repr(float(value)),
        css="num best" if best else "num",
    )


def table(
    header_rows: Sequence[Sequence[tuple[str, int]]],
    rows: Iterable[Sequence[Cell]],
    *,
    css: str = "",
    sortable: bool = False,
    table_id: str | None = None,
) -> str:
    """An HTML table inside a horizontally scrolling container.

    Parameters
    ----------
    header_rows : sequence of sequences of (html, colspan)
        Header rows; the last one names the columns (clickable when ``sortable``).
    rows : iterable of sequences of Cell
    css : str
        Extra classes of the ``<table>``.
    sortable : bool
        Whether clicking a column name sorts the rows (the page's small inline script).
    table_id : str, optional

    Returns
    -------
    str
    """
    classes = " ".join(filter(None, ["data", css, "sortable" if sortable else ""]))
    identifier = f' id="{table_id}"' if table_id else ""
    head = []
    for index, header in enumerate(header_rows):
        last = index == len(header_rows) - 1
        cells = []
        for content, span in header:
            attributes = f' colspan="{span}"' if span > 1 else ""
            if last and sortable:
                attributes += ' tabindex="0" aria-sort="none"'
            cells.append(f"<th{attributes}>{content}</th>")
        head.append("<tr>" + "".join(cells) + "</tr>")
    body = ["<tr>" + "".join(cell.render() for cell in row) + "</tr>" for row in rows]
    return (
        f'<div class="scroll"><table class="{classes}"{identifier}>'
        f"<thead>{''.join(head)}</thead><tbody>\n{chr(10).join(body)}\n</tbody></table></div>"
    )
