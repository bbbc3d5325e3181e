"""A planner that hands each step to a worker subgraph, which reports progress as custom
stream events. Stream it with `stream_mode=["updates", "custom"]` and `stream_subgraphs=True`
to watch the subgraph work."""

import operator
from typing import Annotated

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    topic: str
    steps: list[str]
    notes: Annotated[list[str], operator.add]
    progress_events: int


def work(state: State):
    write = get_stream_writer()
    steps = state.get("steps") or []
    for i, step in enumerate(steps):
        write({"step": step, "done": i + 1, "of": len(steps)})
    for i in range(state.get("progress_events") or 0):
        write({"tick": i})
    return {"notes": [f"looked into {s}" for s in steps]}


worker_builder = StateGraph(State)
worker_builder.add_node("work", work)
worker_builder.add_edge(START, "work")
worker_builder.add_edge("work", END)
worker = worker_builder.compile()


def plan(state: State):
    topic = state.get("topic", "graphs")
    return {"steps": [f"{topic}: background", f"{topic}: examples", f"{topic}: summary"]}


def summarize(state: State):
    return {"notes": [f"summary of {len(state.get('notes', []))} notes"]}


builder = StateGraph(State)
builder.add_node("plan", plan)
builder.add_node("worker", worker)
builder.add_node("summarize", summarize)
builder.add_edge(START, "plan")
builder.add_edge("plan", "worker")
builder.add_edge("worker", "summarize")
builder.add_edge("summarize", END)
graph = builder.compile()
