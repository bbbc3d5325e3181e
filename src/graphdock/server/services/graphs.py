"""The graphs a config names: imported once at start, bound to storage for each run.

A `langgraph.json` entry may point at a compiled graph, an uncompiled builder, or a factory
that takes the run's config (plain, async, or a context manager). The registry hides those
differences behind `GraphEntry.open(config)`, so the executor always gets a compiled graph.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import inspect
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from graphdock.server.config import Config, GraphSpec

# The namespace the reference server derives system assistant ids from, so the ids match.
SYSTEM_ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


@functools.lru_cache(maxsize=1024)
def system_assistant_id(graph_id: str) -> str:
    return str(uuid.uuid5(SYSTEM_ASSISTANT_NAMESPACE, graph_id))


class GraphLoadError(Exception):
    def __init__(self, graph_id: str, path: str, error: BaseException):
        self.graph_id = graph_id
        super().__init__(
            f"graph {graph_id!r} ({path}) failed to load: {type(error).__name__}: {error}"
        )


@dataclass
class GraphEntry:
    spec: GraphSpec
    target: Any  # a compiled graph, or a factory called with the run's config
    _bound: dict = field(default_factory=dict, repr=False)  # (checkpointer, store) -> bound copy

    @property
    def graph_id(self) -> str:
        return self.spec.graph_id

    @property
    def is_factory(self) -> bool:
        return not isinstance(self.target, Pregel)

    def base(self) -> Pregel:
        """A compiled graph for schemas and drawings (factories get an empty config)."""
        if not self.is_factory:
            return self.target
        result = self.target({"configurable": {}}) if _takes_config(self.target) else self.target()
        if isinstance(result, Pregel):
            return result
        raise TypeError(
            f"graph {self.graph_id!r}: its factory must return a compiled graph to be described"
        )

    @contextlib.asynccontextmanager
    async def open(self, config: dict, *, checkpointer: Any, store: Any) -> AsyncIterator[Pregel]:
        """The graph to run for `config`, bound to the server's checkpointer and store."""
        async with self._build(config) as graph:
            if isinstance(graph, StateGraph):
                graph = graph.compile()
            if not isinstance(graph, Pregel):
                raise TypeError(
                    f"graph {self.graph_id!r} is a {type(graph).__name__}, not a LangGraph graph"
                )
            if graph is self.target:  # a compiled graph: bind it once, not on every run
                key = (id(checkpointer), id(store))
                bound = self._bound.get(key)
                if bound is None:
                    bound = self._bound[key] = graph.copy(
                        update={"checkpointer": checkpointer, "store": store}
                    )
                yield bound
            else:
                yield graph.copy(update={"checkpointer": checkpointer, "store": store})

    @contextlib.asynccontextmanager
    async def _build(self, config: dict) -> AsyncIterator[Any]:
        if not self.is_factory:
            yield self.target
            return
        result = self.target(config) if _takes_config(self.target) else self.target()
        if inspect.isawaitable(result):
            result = await result
        if hasattr(result, "__aenter__"):
            async with result as graph:
                yield graph
        elif hasattr(result, "__enter__"):
            with result as graph:
                yield graph
        else:
            yield result


def _takes_config(fn: Any) -> bool:
    try:
        return len(inspect.signature(fn).parameters) > 0
    except (TypeError, ValueError):
        return True


class GraphRegistry:
    def __init__(self, entries: dict[str, GraphEntry]):
        self._entries = entries

    @classmethod
    def load(cls, config: Config) -> GraphRegistry:
        for dep in reversed(config.dependencies):
            if str(dep) not in sys.path:
                sys.path.insert(0, str(dep))
        if str(config.base_dir) not in sys.path:
            sys.path.append(str(config.base_dir))
        entries = {}
        for spec in config.graphs:
            try:
                target = _import_target(spec.path, config.base_dir)
                if isinstance(target, StateGraph):
                    target = target.compile()
                if not isinstance(target, Pregel) and not callable(target):
                    raise TypeError(f"{type(target).__name__} is neither a graph nor a factory")
            except Exception as exc:
                raise GraphLoadError(spec.graph_id, spec.path, exc) from exc
            entries[spec.graph_id] = GraphEntry(spec, target)
        return cls(entries)

    @property
    def ids(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, graph_id: object) -> bool:
        return graph_id in self._entries

    def get(self, graph_id: str) -> GraphEntry:
        return self._entries[graph_id]

    def system_assistant_ids(self) -> dict[str, str]:
        return {system_assistant_id(g): g for g in self._entries}


_module_cache: dict[Path, Any] = {}


def _import_target(path: str, base_dir: Path) -> Any:
    module_ref, _, attr = path.rpartition(":")
    if module_ref.endswith(".py") or "/" in module_ref:
        file = (base_dir / module_ref).resolve()
        if not file.exists():
            raise FileNotFoundError(f"no file {file}")
        module = _module_cache.get(file)
        if module is None:
            name = f"graphdock_user_{file.stem}_{abs(hash(str(file))) % 10**8}"
            spec = importlib.util.spec_from_file_location(name, file)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {file}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            _module_cache[file] = module
    else:
        module = importlib.import_module(module_ref)
    target = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise AttributeError(f"{module_ref} has no attribute {attr!r}")
        target = getattr(target, part)
    return target
