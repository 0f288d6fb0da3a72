"""The same import run twice at the same time, in two processes: one document per key."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from latticebench.stores import connect_store, get_store
from tests.conftest import subprocess_env

CHILD = """
import json, pathlib, sys, time
import latticebench.stores.upsert as upsert
from latticebench.references import import_bundled

# widen the window between reading the stored keys and writing, so that without the write lock
# both processes would certainly read before either writes
read_keys = upsert._find_by_key
def slow_read(collection, key, keys, projection=None):
    found = read_keys(collection, key, keys, projection)
    if projection is None:  # the check before writing (not the count after it)
        time.sleep(0.25)
    return found
upsert._find_by_key = slow_read

ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
ready.touch()
deadline = time.monotonic() + 120
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("never told to go")
    time.sleep(0.002)
print(json.dumps(import_bundled().counts))
"""


@pytest.mark.slow  # ~5 s: two interpreters, and the write lock serialises the imports
def test_two_concurrent_bundled_imports_store_each_compound_once(tmp_path):
    """Without the file lock both processes read "no such key" and both insert (fails 5/5)."""
    children = []
    go = tmp_path / "go"
    for i in range(2):
        ready = tmp_path / f"ready-{i}"
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(ready), str(go)],
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append((ready, process))
    deadline = time.monotonic() + 120
    while not all(ready.exists() for ready, _ in children):
        assert time.monotonic() < deadline, "children did not start"
        assert all(p.poll() is None for _, p in children), [p.stderr.read() for _, p in children]
        time.sleep(0.01)
    go.touch()  # both are imported and waiting: release them together
    counts = []
    for _, process in children:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
        counts.append(json.loads(out.strip().splitlines()[-1]))

    assert sorted(c["inserted"] for c in counts) == [0, 1813]
    assert sorted(c["unchanged"] for c in counts) == [0, 1813]
    store = connect_store(get_store("references"))
    compounds = [d["compound"] for d in store.query({}, properties=["compound"])]
    assert len(compounds) == 1813 == len(set(compounds))
