"""Shared fixtures: the synthetic sample set (generated once per session) and the external real set."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "external"


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The synthetic sample set and its ground truth."""
    from vidcurate.media.synth import generate

    root = tmp_path_factory.mktemp("samples")
    generate(root)
    return root, json.loads((root / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def external() -> Path:
    """The real-footage folder beside the checkout; tests using it skip when it is absent."""
    if not EXTERNAL.is_dir():
        pytest.skip("../shared/testdata/external is not present")
    return EXTERNAL


@pytest.fixture
def count_calls(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], list]:
    """`calls = count_calls(obj, "method")`: wraps obj.method so that every call appends to `calls`."""

    def wrap(obj: object, name: str) -> list:
        calls: list = []
        inner = getattr(obj, name)
        monkeypatch.setattr(obj, name, lambda *args, **kwargs: calls.append(1) or inner(*args, **kwargs))
        return calls

    return wrap
