"""Ops: one module per op, each registering itself; `load_all()` imports them all (lazily, on first build)."""

import importlib
import pkgutil


def load_all() -> None:
    """Import every op module so that the registry is complete."""
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")
