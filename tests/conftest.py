"""Shared fixtures: the synthetic sample set (generated once per session) and the external real set."""

from __future__ import annotations

import json
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
