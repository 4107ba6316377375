"""vidcurate: turn raw videos into a training-ready video-text dataset."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def run(*args: Any, **kwargs: Any) -> Any:
    """Run a recipe end to end; see `vidcurate.api.run` (imported lazily: the package import stays light)."""
    from vidcurate.api import run as _run

    return _run(*args, **kwargs)
