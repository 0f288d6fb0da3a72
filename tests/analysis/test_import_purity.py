"""``latticebench.analysis`` stays a pure numpy/scipy kernel."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import subprocess_env

FORBIDDEN = ("jobflow", "maggma", "pymongo", "phonopy", "ase", "pymatgen", "torch", "mace")


def test_importing_analysis_loads_no_workflow_store_or_structure_package():
    code = (
        "import json, sys\n"
        "import latticebench.analysis\n"
        "loaded = sorted({name.split('.')[0] for name in sys.modules})\n"
        "print(json.dumps(loaded))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = set(json.loads(completed.stdout))
    assert "numpy" in loaded  # the probe works
    assert loaded.isdisjoint(FORBIDDEN), sorted(loaded & set(FORBIDDEN))
