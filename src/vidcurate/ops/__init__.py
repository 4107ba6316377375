"""Ops: one module per op, each registering itself; `load_all()` imports them all (lazily, on first build).

Ops outside the package (a user's own, or a test's) are found through the environment variable
`VIDCURATE_OPS`: a comma-separated list of module names or `.py` file paths, imported by every process of a
run (worker processes inherit the environment), so a custom op works with every executor.
"""

import importlib
import importlib.util
import os
import pkgutil
import sys
from pathlib import Path

PLUGINS_ENV = "VIDCURATE_OPS"


def load_all() -> None:
    """Import every op module, and the modules named in $VIDCURATE_OPS, so that the registry is complete."""
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")
    for entry in filter(None, (e.strip() for e in os.environ.get(PLUGINS_ENV, "").split(","))):
        _load_plugin(entry)


def load_one(name: str) -> bool:
    """Import the package module named after an op (one op per module); whether there is one."""
    if name == "base" or not name.isidentifier():
        return False
    if importlib.util.find_spec(f"{__name__}.{name}") is None:
        return False
    importlib.import_module(f"{__name__}.{name}")
    return True


def _load_plugin(entry: str) -> None:
    if not entry.endswith(".py"):
        importlib.import_module(entry)
        return
    path = Path(entry).resolve()
    name = f"vidcurate_plugin_{path.stem}"
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"${PLUGINS_ENV}: cannot import {entry}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
