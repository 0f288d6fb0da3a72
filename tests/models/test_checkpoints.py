"""Finding checkpoint files: path, model dir, MACE cache, download policy."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time

import pytest

from latticebench.models import (
    ModelNotFoundError,
    UnknownModelError,
    mace_cache_dir,
    resolve_checkpoint,
    sha256_file,
)
from latticebench.settings import override_settings
from tests.conftest import subprocess_env


def test_mace_cache_dir_is_the_one_mace_uses():
    from mace.tools.utils import get_cache_dir

    assert mace_cache_dir() == get_cache_dir()


def test_explicit_path_wins(tmp_path):
    path = tmp_path / "my.model"
    path.write_bytes(b"weights")
    found = resolve_checkpoint(str(path))
    assert (found.path, found.source, found.family) == (path.resolve(), "path", "mace")


def test_missing_path_is_reported(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        resolve_checkpoint(str(tmp_path / "nope.model"))
    with pytest.raises(UnknownModelError):
        resolve_checkpoint("not-a-model")


def test_model_dir_then_mace_cache(tmp_path):
    cache_file = mace_cache_dir() / "macempa0mediummodel"  # how mace_mp names its downloads
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(b"cache copy")
    assert resolve_checkpoint("mace-mpa-0-medium").source == "mace_cache"
    model_dir = tmp_path / "shared-models"
    model_dir.mkdir()
    (model_dir / "mace-mpa-0-medium.model").write_bytes(b"shared copy")
    with override_settings(model_dir=model_dir):
        found = resolve_checkpoint("mace-mpa-0-medium")
    assert found.source == "model_dir"
    assert found.path == model_dir / "mace-mpa-0-medium.model"


def test_missing_foundation_model_fails_fast_with_instructions(tmp_path):
    with override_settings(model_dir=tmp_path):
        start = time.perf_counter()
        with pytest.raises(ModelNotFoundError) as info:
            resolve_checkpoint("mace-omat-0-medium")
        assert time.perf_counter() - start < 5.0  # no network wait when downloads are off
    message = str(info.value)
    assert "downloads are off" in message
    assert str(tmp_path / "mace-omat-0-medium.model") in message
    assert str(mace_cache_dir()) in message
    assert "latticebench models fetch mace-omat-0-medium" in message
    assert "https://github.com/ACEsuit/mace-mp/releases/download/mace_omat_0/" in message


def test_missing_model_from_the_command_line_has_no_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "latticebench.cli", "models", "verify", "mace-mp-0b3-medium"],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "latticebench models fetch mace-mp-0b3-medium" in result.stderr


def test_chgnet_weights_come_from_the_package():
    found = resolve_checkpoint("chgnet-0.3.0")
    assert found.source == "package"
    assert found.path.name.endswith(".pth.tar") and "0.3.0" in str(found.path)


def test_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "blob"
    data = bytes(range(256)) * 5000
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
