"""The graphs a config names: imported once at start, bound to storage for each run.

A `langgraph.json` entry may point at a compiled graph, an uncompiled builder, or a factory
(plain, async, or a context manager) that takes the run's `config`, a `ServerRuntime`, both,
or nothing, told apart as the official server tells them: by annotation, else by the name
`runtime`. The registry hides those differences behind `GraphEntry.open`, so the executor
and the API always get a compiled graph, and a factory always learns why it is called
(`GraphAccess`: to execute a run, update or read a thread's state, or describe the graph).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import typing
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from graphdock.server import loader
from graphdock.server.config import Config, GraphSpec
from graphdock.server.services.context import AuthUser

# The namespace the reference server derives system assistant ids from, so the ids match.
SYSTEM_ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")

# A served graph: its state, context, input and output schemas are the user's, unknown here.
ServedGraph = Pregel[Any, Any, Any, Any]

AccessContext = Literal["threads.create_run", "threads.update", "threads.read", "assistants.read"]


@functools.lru_cache(maxsize=1024)
def system_assistant_id(graph_id: str) -> str:
    return str(uuid.uuid5(SYSTEM_ASSISTANT_NAMESPACE, graph_id))


class GraphLoadError(Exception):
    def __init__(self, graph_id: str, path: str, error: BaseException):
        self.graph_id = graph_id
        super().__init__(
            f"graph {graph_id!r} ({path}) failed to load: {type(error).__name__}: {error}"
        )


@dataclass(frozen=True)
class GraphAccess:
    """Why a graph is built and for whom: what a factory's `ServerRuntime` carries."""

    access_context: AccessContext
    user: AuthUser | None = None
    context: Any = None
    """The run's context (only when executing)."""

    @classmethod
    def of(
        cls, access_context: AccessContext, user: dict | None, context: Any = None
    ) -> GraphAccess:
        return cls(access_context, AuthUser(user) if user else None, context)


DESCRIBE = GraphAccess("assistants.read")


def server_runtime(access: GraphAccess, store: Any) -> Any:
    """The `langgraph_sdk.runtime.ServerRuntime` for a factory: the execution variant (with
    the run's context) for a run, the read variant otherwise."""
    from langgraph_sdk.runtime import _ExecutionRuntime, _ReadRuntime

    if access.access_context == "threads.create_run":
        context = copy.copy(access.context) if access.context is not None else None
        return _ExecutionRuntime(
            access_context=access.access_context, user=access.user, store=store, context=context
        )
    return _ReadRuntime(access_context=access.access_context, user=access.user, store=store)


# How a factory is called: its arguments from (config, runtime).
FactoryCall = Callable[[Mapping[str, Any], Any], list[Any]]


def _is_runtime_annotation(annotation: Any) -> bool:
    from langgraph_sdk.runtime import ServerRuntime, _ExecutionRuntime, _ReadRuntime

    if annotation is ServerRuntime:
        return True
    if isinstance(annotation, type):
        return issubclass(annotation, (_ExecutionRuntime, _ReadRuntime))
    if isinstance(annotation, str):  # an annotation its module could not resolve
        return annotation.split("[", 1)[0].strip().endswith("ServerRuntime")
    origin = typing.get_origin(annotation)
    if origin is ServerRuntime:
        return True
    args = typing.get_args(annotation)
    return bool(origin is not None and args and _is_runtime_annotation(args[0]))


def _annotations(fn: Any) -> dict[str, Any]:
    """Resolved annotations; `ServerRuntime` and `RunnableConfig` resolve even when the
    module imports them only under TYPE_CHECKING, as the SDK's examples do."""
    from langchain_core.runnables import RunnableConfig
    from langgraph_sdk.runtime import ServerRuntime

    try:
        return typing.get_type_hints(
            fn, localns={"ServerRuntime": ServerRuntime, "RunnableConfig": RunnableConfig}
        )
    except Exception:
        return {}


def classify_factory(fn: Any) -> FactoryCall:
    """How to call a factory: none, `config`, `runtime`, or both (in either order), by
    annotation first and the parameter name `runtime` second. Anything else is refused at
    start, naming the parameters."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return lambda config, runtime: [config]
    hints = _annotations(fn)

    def is_runtime(p: inspect.Parameter) -> bool:
        return _is_runtime_annotation(hints.get(p.name, p.annotation))

    params = [
        p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and (
            p.default is p.empty or p.name in ("config", "runtime") or is_runtime(p)
        )
    ]  # fmt: skip
    if len(params) > 2:
        raise TypeError(
            f"a graph factory takes `config`, a `ServerRuntime`, both or nothing; "
            f"this one takes {[p.name for p in params]}"
        )

    def by_name(p: inspect.Parameter) -> bool:
        return p.name == "runtime" and p.annotation is p.empty

    runtime_at = [i for i, p in enumerate(params) if is_runtime(p)]
    if len(runtime_at) != 1:
        runtime_at = [i for i, p in enumerate(params) if by_name(p)]
    if len(params) == 2 and len(runtime_at) != 1:
        raise TypeError(
            "a graph factory with two parameters takes `config` and a `ServerRuntime`: "
            "annotate one `runtime: ServerRuntime` (or name it `runtime`)"
        )
    roles = ["runtime" if i in runtime_at else "config" for i in range(len(params))]

    def call(config: Mapping[str, Any], runtime: Any) -> list[Any]:
        return [runtime if role == "runtime" else config for role in roles]

    return call


@dataclass
class GraphEntry:
    spec: GraphSpec
    target: Any  # a compiled graph, or a factory called with the run's config and/or runtime
    call: FactoryCall | None = None
    _bound: dict = field(default_factory=dict, repr=False)  # (checkpointer, store) -> bound copy

    @property
    def graph_id(self) -> str:
        return self.spec.graph_id

    @property
    def is_factory(self) -> bool:
        return self.call is not None

    @contextlib.asynccontextmanager
    async def open(
        self, config: Mapping[str, Any], *, checkpointer: Any, store: Any, access: GraphAccess
    ) -> AsyncIterator[ServedGraph]:
        """The graph to use for `config`, bound to the server's checkpointer and store; a
        factory is told why (`access`) through its runtime."""
        async with self._build(config, store, access) as graph:
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
    async def _build(
        self, config: Mapping[str, Any], store: Any, access: GraphAccess
    ) -> AsyncIterator[Any]:
        if self.call is None:
            yield self.target
            return
        result = self.target(*self.call(config, server_runtime(access, store)))
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


class GraphRegistry:
    def __init__(self, entries: dict[str, GraphEntry]):
        self._entries = entries

    @classmethod
    def load(cls, config: Config) -> GraphRegistry:
        loader.add_import_paths(config.dependencies, config.base_dir)
        entries = {}
        for spec in config.graphs:
            try:
                target = loader.load(spec.path, config.base_dir)
                if isinstance(target, StateGraph):
                    target = target.compile()
                call = None
                if not isinstance(target, Pregel):
                    if not callable(target):
                        raise TypeError(f"{type(target).__name__} is neither a graph nor a factory")
                    call = classify_factory(target)
            except loader.LoadError as exc:
                raise GraphLoadError(spec.graph_id, spec.path, exc.error) from exc
            except Exception as exc:
                raise GraphLoadError(spec.graph_id, spec.path, exc) from exc
            entries[spec.graph_id] = GraphEntry(spec, target, call)
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
