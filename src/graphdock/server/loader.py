"""The one loader for user code that `langgraph.json` names: graphs, the custom auth, the
embeddings function, the custom HTTP app and the encryption object.

A reference is `./file.py:variable` (a file relative to langgraph.json) or
`package.module:variable` (an importable module, after the config's `dependencies` are on
the import path). Module references go through `pkgutil.resolve_name`, the standard
library's reading of that syntax; a file is imported once under a name of its own, so the
graph module and the auth module that both import `./common.py` see the same objects.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pkgutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

_files: dict[Path, ModuleType] = {}


class LoadError(Exception):
    """A reference that cannot be loaded, told in one line: what, and why."""

    def __init__(self, ref: str, error: BaseException):
        self.ref, self.error = ref, error
        super().__init__(f"{ref} failed to load: {type(error).__name__}: {error}")


def add_import_paths(dependencies: list[Path], base_dir: Path) -> None:
    """The config's local `dependencies` first on the import path, its own folder last."""
    for dep in reversed(dependencies):
        if str(dep) not in sys.path:
            sys.path.insert(0, str(dep))
    if str(base_dir) not in sys.path:
        sys.path.append(str(base_dir))


def is_file_reference(module_ref: str) -> bool:
    return module_ref.endswith(".py") or "/" in module_ref or module_ref.startswith(".")


def load(ref: str, base_dir: Path) -> Any:
    """The object `ref` names; a LoadError (with the cause chained) if it cannot be had."""
    module_ref, sep, attr = ref.rpartition(":")
    try:
        if not sep or not module_ref or not attr:
            raise ValueError("expected './file.py:variable' or 'package.module:variable'")
        if not is_file_reference(module_ref):
            return pkgutil.resolve_name(ref)
        target: Any = _import_file((base_dir / module_ref).resolve())
        for part in attr.split("."):
            if not hasattr(target, part):
                raise AttributeError(f"{module_ref} has no attribute {attr!r}")
            target = getattr(target, part)
        return target
    except Exception as exc:
        raise LoadError(ref, exc) from exc


def _import_file(file: Path) -> ModuleType:
    module = _files.get(file)
    if module is not None:
        return module
    if not file.exists():
        raise FileNotFoundError(f"no file {file}")
    digest = hashlib.sha1(str(file).encode()).hexdigest()[:10]
    name = f"graphdock_user_{file.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    _files[file] = module
    return module
