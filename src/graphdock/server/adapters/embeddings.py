"""The embeddings behind semantic store search, from `store.index.embed` in langgraph.json.

Two forms, as the reference server reads them:
* `"./embed.py:embed"` (or `"my_pkg.module:embed"`): a function `list[str] -> list[list[float]]`,
  plain or async, imported from the app (paths are relative to langgraph.json);
* `"openai:text-embedding-3-small"`: a `provider:model` that LangChain's `init_embeddings`
  builds (needs the `langchain` package and the provider's integration).

Both become a LangChain `Embeddings`, which is what langgraph's stores take. Failures are
ConfigErrors naming `store.index.embed`, raised at start-up rather than on the first put.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.store.base.embed import ensure_embeddings

from graphdock.server import loader
from graphdock.server.config import ConfigError, IndexConfig

KEY = "store.index.embed"


def _is_import_path(spec: str) -> bool:
    """`file.py:fn`, `./dir/file:fn` or `pkg.module:fn`, as opposed to `provider:model`."""
    module_ref = spec.rpartition(":")[0]
    return (
        module_ref.endswith(".py")
        or module_ref.startswith((".", "/"))
        or "/" in module_ref
        or "." in module_ref
    )


def _import_function(spec: str, base_dir: Path) -> Any:
    target = loader.load(spec, base_dir)
    if not callable(target):
        raise TypeError(f"{spec} is a {type(target).__name__}, not a function")
    return target


def load_embeddings(index: IndexConfig, config_path: Path) -> Any:
    """A LangChain Embeddings for the configured index, or a ConfigError saying why not."""
    spec = index.embed
    if ":" not in spec:
        raise ConfigError(
            config_path, KEY, f"{spec!r} is neither 'provider:model' nor './file.py:function'"
        )
    if _is_import_path(spec):
        try:
            return ensure_embeddings(_import_function(spec, config_path.parent))
        except loader.LoadError as exc:
            raise ConfigError(config_path, KEY, str(exc)) from exc
        except Exception as exc:
            raise ConfigError(
                config_path, KEY, f"cannot load {spec!r}: {type(exc).__name__}: {exc}"
            ) from exc
    try:
        from langchain.embeddings import init_embeddings
    except ImportError:
        raise ConfigError(
            config_path,
            KEY,
            f"{spec!r} needs LangChain's init_embeddings: pip install langchain and the "
            "provider's package (e.g. langchain-openai), or point it at './file.py:function'",
        ) from None
    try:
        return init_embeddings(spec)
    except Exception as exc:
        raise ConfigError(
            config_path, KEY, f"cannot initialise {spec!r}: {type(exc).__name__}: {exc}"
        ) from exc
