"""Formatting and escaping helpers of the page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latticebench.report.markup import MISSING, Cell, escape, estimate_cell, format_number


@pytest.mark.parametrize("value", [None, float("nan"), np.float32("nan"), pd.NA, pd.NaT])
def test_missing_values_render_as_a_dash(value):
    assert escape(value) == MISSING
    assert format_number(value) == MISSING
    assert Cell.number(value).html == MISSING and Cell.number(value).sort is None


@pytest.mark.parametrize("value", [float("inf"), -np.inf, True])
def test_non_numbers_and_infinities_are_not_formatted(value):
    assert format_number(value) == MISSING


def test_numbers_are_rounded_without_negative_zero():
    assert format_number(0.12345) == "0.123"
    assert format_number(-0.0004) == "0.000"
    assert format_number(-0.0006) == "-0.001"
    assert format_number(np.int64(3), 1) == "3.0"


def test_escape_quotes_and_markup():
    assert escape('<a href="x">&\'</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;&lt;/a&gt;"
    cell = Cell.text("a<b", title='say "hi"')
    assert cell.render() == '<td title="say &quot;hi&quot;">a&lt;b</td>'


def test_estimate_cell_shows_the_interval_and_sorts_by_value():
    cell = estimate_cell(0.5, 0.25, 0.75, best=True)
    assert cell.html == '0.500 <span class="ci">[0.250, 0.750]</span>'
    assert float(cell.sort) == 0.5 and "best" in cell.css
    assert estimate_cell(None, 0.1, 0.2).html == MISSING
    assert estimate_cell(0.5, float("nan"), 0.7).html.endswith(f"[{MISSING}, 0.700]</span>")
