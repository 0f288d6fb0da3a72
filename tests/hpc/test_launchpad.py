"""Finding, opening, initialising and closing the LaunchPad (FireWorks' mongomock file mode)."""

from __future__ import annotations

import json

import pytest
import yaml

from latticebench.hpc.launchpad import (
    LaunchPadError,
    close_launchpad,
    ensure_initialized,
    find_launchpad_file,
    load_launchpad,
    open_launchpad,
)


def test_explicit_file_then_current_directory_then_fireworks_config(tmp_path, monkeypatch):
    from fireworks import fw_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fw_config, "LAUNCHPAD_LOC", None)
    assert find_launchpad_file() is None
    configured = tmp_path / "elsewhere.yaml"
    configured.write_text("host: localhost\n")
    monkeypatch.setattr(fw_config, "LAUNCHPAD_LOC", str(configured))
    assert find_launchpad_file() == configured
    local = tmp_path / "my_launchpad.yaml"
    local.write_text("host: localhost\n")
    assert find_launchpad_file() == local
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text("host: localhost\n")
    assert find_launchpad_file(explicit) == explicit
    with pytest.raises(LaunchPadError, match=r"LaunchPad file .*missing.yaml does not exist"):
        find_launchpad_file(tmp_path / "missing.yaml")


def test_no_launchpad_configured_is_an_error_or_none(tmp_path, monkeypatch):
    from fireworks import fw_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fw_config, "LAUNCHPAD_LOC", None)
    monkeypatch.setattr(fw_config, "MONGOMOCK_SERVERSTORE_FILE", None)
    monkeypatch.delenv("MONGOMOCK_SERVERSTORE_FILE", raising=False)
    assert load_launchpad(required=False) is None
    with pytest.raises(LaunchPadError, match="no LaunchPad configured: pass --launchpad FILE"):
        load_launchpad()


def test_unreadable_launchpad_files_are_named(tmp_path):
    lacking = tmp_path / "lacking.yaml"
    lacking.write_text(yaml.safe_dump({"name": "fireworks"}))
    with pytest.raises(LaunchPadError, match=r"lacking.yaml lacks the field 'host'"):
        load_launchpad(lacking)


def test_initialise_only_an_unused_launchpad(embedded_backend):
    from fireworks import Firework, ScriptTask

    with open_launchpad(embedded_backend.launchpad_file) as pad:
        assert ensure_initialized(pad) is True
        pad.add_wf(Firework(ScriptTask.from_str("true"), spec={"_category": "cpu"}))
        assert ensure_initialized(pad) is False
        assert pad.fireworks.count_documents({}) == 1  # nothing was wiped


def test_close_writes_the_mongomock_file_and_the_next_client_reads_it(embedded_backend):
    from fireworks import Firework, ScriptTask

    if embedded_backend.store_file is None:
        pytest.skip("mongomock-persistence is not installed: no file mode")
    pad = load_launchpad(embedded_backend.launchpad_file)
    assert json.loads(embedded_backend.store_file.read_text()) == {}  # created empty
    ensure_initialized(pad)
    pad.add_wf(Firework(ScriptTask.from_str("true"), name="kept", spec={"_category": "cpu"}))
    close_launchpad(pad)
    stored = json.loads(embedded_backend.store_file.read_text())
    assert len(stored["latticebench_test"]["fireworks"]["documents"]) == 1
    with open_launchpad(embedded_backend.launchpad_file) as again:
        assert again.fireworks.find_one({})["name"] == "kept"
    close_launchpad(None)  # nothing to do
