"""Find model weights on local disk only: a path, a name under $VIDCURATE_MODELS, or an HF id in the HF cache.

No network is ever used: HF hub ids are looked up with `local_files_only=True`, the same as running with
HF_HUB_OFFLINE=1. When the weights are absent the error says which weights and how to provide them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from vidcurate.errors import ConfigError

#: weight files that make a transformers model directory complete enough to load
WEIGHT_FILES = (
    "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json",
)
HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class WeightsMissing(ConfigError):
    """Model weights are not on this machine (and will not be downloaded)."""


def models_home() -> Path | None:
    """The optional folder named by $VIDCURATE_MODELS where bare names are looked up."""
    home = os.environ.get("VIDCURATE_MODELS")
    return Path(home).expanduser() if home else None


def hf_cache() -> Path:
    """The HF hub cache folder, read from the environment at call time (HF_HUB_CACHE, HF_HOME)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def how_to_provide(name: str, *, file: str | None = None) -> str:
    """The sentence that tells a user how to put weights on a machine without network."""
    local = "a local file" if file else "a local directory (saved with save_pretrained)"
    if HF_ID.match(name):
        target = f"{name} {file}" if file else name
        return (f"on a machine with network run `hf download {target}` (or `huggingface-cli download {target}`) "
                f"and copy the HF cache folder here (looked in {hf_cache()}; set HF_HUB_CACHE or HF_HOME), "
                f"or pass {local}, or put it under $VIDCURATE_MODELS")
    return f"pass {local} or an HF hub id already in the local HF cache, or put it under $VIDCURATE_MODELS"


def _local(name: str) -> Path | None:
    candidates = [Path(name).expanduser()]
    home = models_home()
    if home is not None:
        candidates.append(home / name)
    return next((c for c in candidates if c.exists()), None)


def model_dir(name: str, *, what: str, revision: str | None = None) -> Path:
    """A complete transformers model directory for `name` (local dir, $VIDCURATE_MODELS/name or HF cache)."""
    path = _local(name)
    if path is None and HF_ID.match(name):
        path = _hf_snapshot(name, revision)
    if path is None:
        raise WeightsMissing(f"{what} weights '{name}' are not on this machine (no download at run time): "
                             f"{how_to_provide(name)}")
    if not path.is_dir() or not (path / "config.json").is_file():
        raise WeightsMissing(f"{what} weights '{name}' at {path} are not a model directory with config.json: "
                             f"{how_to_provide(name)}")
    if not any((path / f).is_file() for f in WEIGHT_FILES):
        raise WeightsMissing(f"{what} weights '{name}' at {path} lack a weight file ({', '.join(WEIGHT_FILES)}); "
                             f"the download is incomplete: {how_to_provide(name)}")
    return path


def weight_file(name: str, *, what: str, hint: str = "") -> Path:
    """A single weight file: a path, $VIDCURATE_MODELS/name, or 'org/repo/file.pth' from the HF cache."""
    path = _local(name)
    if path is None:
        repo, _, filename = name.rpartition("/")
        if HF_ID.match(repo) and filename:
            path = _hf_file(repo, filename)
    if path is None or not path.is_file():
        repo, _, filename = name.rpartition("/")
        how = how_to_provide(repo, file=filename) if HF_ID.match(repo) else how_to_provide(name, file=name)
        raise WeightsMissing(f"{what} weights '{name}' are not on this machine (no download at run time): "
                             f"{hint}{how}")
    return path


def _hf_snapshot(repo_id: str, revision: str | None) -> Path | None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, revision=revision, cache_dir=hf_cache(), local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        return None


def _hf_file(repo_id: str, filename: str) -> Path | None:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(repo_id, filename, cache_dir=hf_cache(), local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        return None
