"""One settings object for the whole package, read lazily.

Values come, highest priority first, from keyword arguments, environment variables with the
prefix ``LATTICEBENCH_`` (e.g. ``LATTICEBENCH_DATA_DIR``), a YAML file, and the defaults below.
The YAML file is ``$LATTICEBENCH_CONFIG_FILE`` when set, else ``latticebench.yaml`` in the
user's configuration directory (``~/.config/latticebench/`` on Linux) when it exists.

Examples
--------
>>> from latticebench.settings import get_settings
>>> get_settings().data_dir  # doctest: +SKIP
PosixPath('/home/me/.local/share/latticebench')
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

__all__ = [
    "LatticebenchSettings",
    "clear_settings_cache",
    "config_file_path",
    "get_settings",
    "override_settings",
    "reload_settings",
]

APP_NAME = "latticebench"


def config_file_path() -> Path:
    """Return the YAML settings file that is (or would be) read.

    Returns
    -------
    Path
        ``$LATTICEBENCH_CONFIG_FILE`` if set, else ``<user config dir>/latticebench.yaml``.
    """
    explicit = os.environ.get("LATTICEBENCH_CONFIG_FILE")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "latticebench.yaml"


class LatticebenchSettings(BaseSettings):
    """Settings of latticebench (environment prefix ``LATTICEBENCH_``)."""

    model_config = SettingsConfigDict(
        env_prefix="LATTICEBENCH_",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)),
        description="Directory for the embedded (file-backed) stores and run directories.",
    )
    model_dir: Path | None = Field(
        default=None,
        description=(
            "Directory searched for model checkpoints before the MACE cache "
            "(e.g. a shared folder on an offline HPC cluster)."
        ),
    )
    allow_download: bool = Field(
        default=False,
        description=(
            "Whether loading a named model may download its checkpoint when it is not on disk. "
            "`latticebench models fetch` always may."
        ),
    )
    device: str = Field(
        default="auto",
        description=(
            "Torch device for models: 'auto' (cuda if available, else cpu), 'cpu', 'cuda', ..."
        ),
    )
    batch_memory_gb: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Memory (GB, 10^9 bytes) one batched forward pass of a model may use; it sets how "
            "many structures are evaluated together when no batch size is given. Default: half "
            "of the free memory of the device (free GPU memory on CUDA; MemAvailable on CPU, "
            "at most 0.5 GB there, where batching large cells buys no speed)."
        ),
    )
    store: Literal["embedded", "mongodb"] = Field(
        default="embedded",
        description=(
            "'embedded': file-backed MontyStore under data_dir; 'mongodb': a MongoDB server."
        ),
    )
    mongodb_uri: str | None = Field(
        default=None,
        description=(
            "MongoDB connection URI (mongodb:// or mongodb+srv://); used when store='mongodb'."
        ),
    )
    database: str = Field(default="latticebench", description="MongoDB database name.")
    mongodb_timeout_ms: int = Field(
        default=5000,
        gt=0,
        description="Server selection / connection timeout for MongoDB in milliseconds.",
    )

    @field_validator("data_dir", "model_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read keyword arguments, then the environment, then the YAML file."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file_path()
        if path.is_file():
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        elif os.environ.get("LATTICEBENCH_CONFIG_FILE"):
            raise FileNotFoundError(
                f"LATTICEBENCH_CONFIG_FILE points to {path}, which does not exist."
            )
        return tuple(sources)

    @property
    def embedded_store_dir(self) -> Path:
        """Directory of the embedded (MontyDB/SQLite) stores."""
        return self.data_dir / "store"

    @property
    def runs_dir(self) -> Path:
        """Directory under which jobs that run locally write their files."""
        return self.data_dir / "runs"


_OVERRIDES: list[LatticebenchSettings] = []


@lru_cache(maxsize=1)
def _settings_from_environment() -> LatticebenchSettings:
    return LatticebenchSettings()


def get_settings() -> LatticebenchSettings:
    """Return the process-wide settings, reading environment and YAML on first use.

    Returns
    -------
    LatticebenchSettings
        The innermost :func:`override_settings` value if one is active, else the cached
        settings read from the environment (call :func:`reload_settings` to re-read).
    """
    if _OVERRIDES:
        return _OVERRIDES[-1]
    return _settings_from_environment()


def clear_settings_cache() -> None:
    """Forget the cached settings; the next :func:`get_settings` reads them again."""
    _settings_from_environment.cache_clear()


def reload_settings() -> LatticebenchSettings:
    """Forget the cached settings and read environment and YAML again.

    Returns
    -------
    LatticebenchSettings
        The freshly read settings.
    """
    _settings_from_environment.cache_clear()
    return get_settings()


@contextmanager
def override_settings(**values: Any) -> Iterator[LatticebenchSettings]:
    """Temporarily replace the process-wide settings (for tests and notebooks).

    Parameters
    ----------
    **values
        Field values that take priority over environment and file.

    Yields
    ------
    LatticebenchSettings
        The settings in force inside the ``with`` block.
    """
    _OVERRIDES.append(LatticebenchSettings(**values))
    try:
        yield _OVERRIDES[-1]
    finally:
        _OVERRIDES.pop()
