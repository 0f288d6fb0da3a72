"""Colours, markers and sizes shared by the figures and the page.

Colours are the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies);
halides also differ by marker shape, so no information is carried by colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "DISPLAY_DPI",
    "HALIDE_STYLES",
    "SAVE_DPI",
    "UNKNOWN_HALIDE_STYLE",
    "halide_style",
    "model_colours",
]

SAVE_DPI = 150
"""Resolution of the PNG files (dots per inch)."""

DISPLAY_DPI = 100
"""Figures are shown at ``size_in_inches × DISPLAY_DPI`` CSS pixels (sharp on HiDPI screens)."""

_MODEL_PALETTE = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)

HALIDE_STYLES: dict[str, tuple[str, str]] = {
    "F": ("#009E73", "^"),
    "Cl": ("#56B4E9", "s"),
    "Br": ("#D55E00", "o"),
    "I": ("#CC79A7", "D"),
}
"""Halide -> (colour, matplotlib marker)."""

UNKNOWN_HALIDE_STYLE = ("#777777", "X")
"""Colour and marker of rows whose halide is unknown or not F/Cl/Br/I."""


def halide_style(halide: str | None) -> tuple[str, str]:
    """Colour and marker of a halide (grey cross when unknown)."""
    return HALIDE_STYLES.get(halide or "", UNKNOWN_HALIDE_STYLE)


def model_colours(models: Sequence[str]) -> dict[str, str]:
    """One palette colour per model, in the given order (the palette repeats after 7).

    Parameters
    ----------
    models : sequence of str
        Model names in display order.

    Returns
    -------
    dict of str to str
        Model name -> hex colour.
    """
    return {model: _MODEL_PALETTE[i % len(_MODEL_PALETTE)] for i, model in enumerate(models)}
