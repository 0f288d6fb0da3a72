"""Finding, fetching and fingerprinting model checkpoint files.

Resolution order for a model argument:

1. an explicit path to a file;
2. ``$LATTICEBENCH_MODEL_DIR`` (settings ``model_dir``): the published file name or
   ``<name>.model``;
3. the standard MACE cache (``$XDG_CACHE_HOME/mace`` or ``~/.cache/mace``), where
   ``mace_mp(model=...)`` keeps its downloads;
4. a download, only when allowed (``LATTICEBENCH_ALLOW_DOWNLOAD=1`` or ``latticebench models
   fetch``) and the host is online.

Otherwise :class:`ModelNotFoundError` says which files were looked for where, and how to fetch
the checkpoint on a machine with internet (HPC compute nodes are often offline).
"""

from __future__ import annotations

import hashlib
import os
import socket
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from latticebench.models.catalog import ModelSpec, UnknownModelError, get_spec
from latticebench.settings import get_settings

__all__ = [
    "ModelNotFoundError",
    "ResolvedCheckpoint",
    "fetch_checkpoint",
    "mace_cache_dir",
    "resolve_checkpoint",
    "sha256_file",
]

_DOWNLOAD_TIMEOUT_S = 120.0
_ONLINE_PROBE_TIMEOUT_S = 3.0


class ModelNotFoundError(FileNotFoundError):
    """A model's checkpoint is on none of the searched paths and may not be downloaded."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "model checkpoint not found"


@dataclass(frozen=True)
class ResolvedCheckpoint:
    """A model argument resolved to something loadable.

    Attributes
    ----------
    name : str
        Canonical model name, or the file name for a local checkpoint given by path.
    family : {"mace", "chgnet"}
    path : Path
        The checkpoint file.
    spec : ModelSpec or None
        Catalog entry; None for a local file given by path.
    source : str
        Where it was found: ``"path"``, ``"model_dir"``, ``"mace_cache"``, ``"package"``,
        ``"download"``.
    """

    name: str
    family: str
    path: Path
    spec: ModelSpec | None
    source: str


def mace_cache_dir() -> Path:
    """The directory where MACE keeps downloaded foundation models.

    Returns
    -------
    Path
        ``$XDG_CACHE_HOME/mace`` if ``XDG_CACHE_HOME`` is set, else ``~/.cache/mace``
        (the rule of ``mace.tools.utils.get_cache_dir``).
    """
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mace"


def _mace_cache_name(url: str) -> str:
    """File name ``mace_mp`` gives a download: the URL's basename with only [A-Za-z0-9_] kept."""
    return "".join(c for c in Path(url).name if c.isalnum() or c == "_")


def _candidates(spec: ModelSpec) -> list[tuple[str, Path]]:
    """(source, path) pairs searched for a named MACE model, in order."""
    found: list[tuple[str, Path]] = []
    model_dir = get_settings().model_dir
    assert spec.url is not None and spec.filename is not None
    if model_dir is not None:
        for filename in dict.fromkeys((spec.filename, f"{spec.name}.model")):
            found.append(("model_dir", model_dir / filename))
    cache = mace_cache_dir()
    for filename in dict.fromkeys((spec.filename, _mace_cache_name(spec.url))):
        found.append(("mace_cache", cache / filename))
    return found


def _chgnet_checkpoint(spec: ModelSpec) -> Path:
    """The weight file shipped inside the chgnet package for a CHGNet version."""
    try:
        import chgnet
    except ImportError as exc:  # pragma: no cover - chgnet is a core dependency
        raise ModelNotFoundError(
            f"model {spec.name!r} needs the chgnet package: pip install chgnet"
        ) from exc
    folder = Path(chgnet.__file__).parent / "pretrained" / spec.chgnet_version
    files = sorted(folder.glob("*.pth.tar"))
    if not files:
        raise ModelNotFoundError(
            f"chgnet {chgnet.__version__} ships no weights for {spec.name!r} (looked in {folder})"
        )
    return files[0]


def is_online(host: str = "github.com", port: int = 443) -> bool:
    """Whether a TCP connection to ``host:port`` opens within a few seconds."""
    try:
        with socket.create_connection((host, port), timeout=_ONLINE_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def resolve_checkpoint(model: str | os.PathLike[str], *, allow_download: bool | None = None):
    """Find the checkpoint file of a model name or path.

    Parameters
    ----------
    model : str or PathLike
        A catalog name (``"mace-mpa-0-medium"``, ``"chgnet-0.3.0"``) or a path to a MACE
        ``.model`` file.
    allow_download : bool, optional
        Override the ``allow_download`` setting.

    Returns
    -------
    ResolvedCheckpoint

    Raises
    ------
    ModelNotFoundError
        When the file is nowhere on disk and may not (or cannot) be downloaded; the message
        lists every path searched and how to fetch the file elsewhere.
    UnknownModelError
        When ``model`` is neither an existing path nor a catalog name.
    """
    text = os.fspath(model)
    path = Path(text).expanduser()
    if path.is_file():
        return ResolvedCheckpoint(path.name, "mace", path.resolve(), None, "path")
    try:
        spec = get_spec(text)
    except UnknownModelError:
        if os.sep in text or text.endswith((".model", ".pt", ".pth")):
            raise ModelNotFoundError(f"model checkpoint file {path} does not exist") from None
        raise
    if spec.family == "chgnet":
        return ResolvedCheckpoint(spec.name, "chgnet", _chgnet_checkpoint(spec), spec, "package")

    searched = _candidates(spec)
    for source, candidate in searched:
        if candidate.is_file():
            return ResolvedCheckpoint(spec.name, spec.family, candidate, spec, source)

    settings = get_settings()
    download = settings.allow_download if allow_download is None else allow_download
    if download and is_online():
        return fetch_checkpoint(spec.name)
    reason = (
        "downloads are off (set LATTICEBENCH_ALLOW_DOWNLOAD=1 to allow them)"
        if not download
        else "this machine cannot reach github.com (offline)"
    )
    target = settings.model_dir or mace_cache_dir()
    looked = "\n".join(f"  - {p}  [{source}]" for source, p in searched)
    raise ModelNotFoundError(
        f"checkpoint of model {spec.name!r} not found, and {reason}.\n"
        f"Looked for:\n{looked}\n"
        f"To get it, on a machine with internet run\n"
        f"  latticebench models fetch {spec.name}\n"
        f"or download {spec.url}\n"
        f"and copy the file to {target / (spec.filename or spec.name)}"
        + (
            ""
            if settings.model_dir
            else "\n(or put it in a shared folder and set LATTICEBENCH_MODEL_DIR to that folder)"
        )
    )


def fetch_checkpoint(name: str, *, destination: Path | None = None) -> ResolvedCheckpoint:
    """Download a named model's checkpoint (no-op when it is already on disk).

    Parameters
    ----------
    name : str
        Catalog name of a MACE model.
    destination : Path, optional
        Folder to download into; default ``model_dir`` when set, else the MACE cache.

    Returns
    -------
    ResolvedCheckpoint
        The checkpoint; a ``<file>.sha256`` sidecar records its hash for ``models verify``.

    Raises
    ------
    ModelNotFoundError
        When offline or the download fails; nothing half-written is left behind.
    """
    spec = get_spec(name)
    if spec.family == "chgnet":
        return ResolvedCheckpoint(spec.name, "chgnet", _chgnet_checkpoint(spec), spec, "package")
    for source, candidate in _candidates(spec):
        if candidate.is_file() and destination is None:
            return ResolvedCheckpoint(spec.name, spec.family, candidate, spec, source)
    assert spec.url is not None and spec.filename is not None
    folder = destination or get_settings().model_dir or mace_cache_dir()
    target = folder / spec.filename
    if target.is_file():
        return ResolvedCheckpoint(spec.name, spec.family, target, spec, "model_dir")
    host = urlsplit(spec.url).hostname or "github.com"
    if not is_online(host):
        raise ModelNotFoundError(
            f"cannot download {spec.name!r}: {host} is unreachable from this machine. "
            f"Download {spec.url} on a machine with internet and copy it to {target}."
        )
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with (
            urllib.request.urlopen(spec.url, timeout=_DOWNLOAD_TIMEOUT_S) as response,
            partial.open("wb") as out,
        ):
            while block := response.read(1 << 20):
                out.write(block)
        digest = sha256_file(partial)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ModelNotFoundError(f"download of {spec.url} failed: {exc}") from exc
    target.with_name(target.name + ".sha256").write_text(f"{digest}  {target.name}\n")
    return ResolvedCheckpoint(spec.name, spec.family, target, spec, "download")


_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def sha256_file(path: Path) -> str:
    """SHA-256 of a file (hex), cached per (path, size, mtime) within the process.

    Parameters
    ----------
    path : Path

    Returns
    -------
    str
        64 hexadecimal characters, as ``sha256sum`` prints them.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASH_CACHE:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        _HASH_CACHE[key] = digest.hexdigest()
    return _HASH_CACHE[key]
