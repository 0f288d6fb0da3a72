"""Settings: defaults, environment, YAML file, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from latticebench.settings import get_settings, override_settings, reload_settings


def test_defaults_need_no_configuration(monkeypatch):
    monkeypatch.delenv("LATTICEBENCH_DATA_DIR")
    settings = reload_settings()
    assert settings.store == "embedded"
    assert settings.allow_download is False
    assert settings.device == "auto"
    assert "latticebench" in str(settings.data_dir)


def test_environment_and_yaml(tmp_path, monkeypatch):
    config = tmp_path / "lb.yaml"
    config.write_text("model_dir: ~/models\ndevice: cpu\nmongodb_timeout_ms: 1234\n")
    monkeypatch.setenv("LATTICEBENCH_CONFIG_FILE", str(config))
    monkeypatch.setenv("LATTICEBENCH_DEVICE", "cuda:1")  # environment beats the file
    settings = reload_settings()
    assert settings.model_dir == Path("~/models").expanduser()
    assert settings.device == "cuda:1"
    assert settings.mongodb_timeout_ms == 1234


def test_missing_explicit_config_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LATTICEBENCH_CONFIG_FILE", str(tmp_path / "absent.yaml"))
    with pytest.raises(FileNotFoundError, match=r"absent\.yaml"):
        reload_settings()


def test_unknown_yaml_key_is_rejected(tmp_path, monkeypatch):
    config = tmp_path / "lb.yaml"
    config.write_text("modeldir: /tmp\n")
    monkeypatch.setenv("LATTICEBENCH_CONFIG_FILE", str(config))
    with pytest.raises(ValidationError, match="modeldir"):
        reload_settings()


def test_override_is_scoped(tmp_path):
    before = get_settings().data_dir
    with override_settings(data_dir=tmp_path) as settings:
        assert get_settings() is settings
        assert get_settings().embedded_store_dir == tmp_path / "store"
    assert get_settings().data_dir == before
