"""Graphs that misbehave, for the hardening tests: one returns what JSON cannot encode,
one hangs past its timeout, one raises."""

import asyncio
from typing import Any

from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    value: Any
    sleep: float


class Opaque:
    """No JSON form at all: no dict(), no model_dump(), not a dataclass."""

    __slots__ = ()


def unencodable_node(state: State):
    return {"value": {"set": {1, 2}, "opaque": Opaque(), "bytes": b"\xff\x00", "nan": float("nan")}}


async def hang_node(state: State):
    await asyncio.sleep(state.get("sleep", 3600))
    return {"value": "woke"}


def raise_node(state: State):
    raise ValueError("graph failed on purpose")


def _single(node) -> Any:
    builder = StateGraph(State)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    return builder.compile()


unencodable = _single(unencodable_node)
hang = _single(hang_node)
boom = _single(raise_node)


class _Undrawable(CompiledStateGraph):
    """Drawing it fails the way a bug in the server would: with an error no handler
    expects, whose message holds what must never reach a client."""

    def get_graph(self, *args, **kwargs):
        raise RuntimeError("SELECT secret FROM vault WHERE owner = 'alice' [parameters: x]")


undrawable = _single(lambda state: {"value": 1})
undrawable.__class__ = _Undrawable


# Ends with a NUL character in its state: SQLite stores it, PostgreSQL JSON cannot.
nul = _single(lambda state: {"value": "before\x00after"})
