"""``latticebench.hpc`` exports its public names lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import latticebench.hpc as hpc
from tests.conftest import subprocess_env


@pytest.mark.parametrize("name", hpc.__all__)
def test_every_exported_name_resolves_to_its_module(name):
    value = getattr(hpc, name)
    module = importlib.import_module(f"latticebench.hpc.{hpc._EXPORTS[name]}")
    assert value is getattr(module, name)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hpc.nope  # noqa: B018


def test_importing_the_package_imports_neither_fireworks_nor_custodian():
    code = (
        "import sys, latticebench.hpc; "
        "print('fireworks' in sys.modules, 'custodian' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["False", "False"]
