"""Fixtures for the importer tests: a VASP AIMD folder in the real file formats."""

from __future__ import annotations

import pytest

from tests.references.helpers import write_aimd_folder


@pytest.fixture
def aimd_folder(tmp_path):
    """``<tmp>/Cs2AgBiBr6`` with vasprun.xml (6 frames), SPOSCAR, force_constants.hdf5, CONTCAR."""
    folder = tmp_path / "Cs2AgBiBr6"
    data = write_aimd_folder(folder)
    return folder, data
